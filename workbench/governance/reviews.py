"""Registry of combinations a person has reviewed and approved.

A combination of datasets that nobody has looked at is flagged for review by the gate rather than
failed: a machine cannot judge whether the purpose justifies the join. Approvals are kept in a
YAML file next to the catalog (``reviews.yaml``) and are tied to the hash of the harmonized policy,
so a change in any source policy asks for a new review.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from .._io import atomic_write_text
from ..errors import ConfigError
from .provenance import _iso, current_user, utc_now

__all__ = ["Review", "ReviewRegistry", "default_reviews_path"]


def default_reviews_path(catalog_path: str | os.PathLike | None = None) -> Path:
    """``reviews.yaml`` next to the catalog, else ``WORKBENCH_REVIEWS`` or
    ``.workbench/reviews.yaml``."""
    env = os.environ.get("WORKBENCH_REVIEWS")
    if env:
        return Path(env)
    if catalog_path is not None:
        return Path(catalog_path).parent / "reviews.yaml"
    return Path.cwd() / ".workbench" / "reviews.yaml"


@dataclass(frozen=True)
class Review:
    """One approval of a combination under a given harmonized policy."""

    combination: tuple[str, ...]
    policy_sha256: str
    reviewer: str
    date: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "combination": list(self.combination),
            "policy_sha256": self.policy_sha256,
            "reviewer": self.reviewer,
            "date": self.date,
            "note": self.note,
        }


class ReviewRegistry:
    """Reviewed combinations stored as ``reviews: [...]`` in a YAML file."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_reviews_path()

    def __repr__(self) -> str:
        return f"ReviewRegistry({str(self.path)!r})"

    def reviews(self) -> tuple[Review, ...]:
        if not self.path.exists():
            return ()
        try:
            doc = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.path}: not valid YAML ({exc})") from None
        items = doc.get("reviews") if isinstance(doc, dict) else None
        if items is None:
            return ()
        if not isinstance(items, list):
            raise ConfigError(f"{self.path}: 'reviews' must be a list")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(
                    Review(
                        combination=tuple(sorted(item["combination"])),
                        policy_sha256=str(item["policy_sha256"]),
                        reviewer=str(item["reviewer"]),
                        date=str(item["date"]),
                        note=str(item.get("note") or ""),
                    )
                )
            except (KeyError, TypeError):
                raise ConfigError(
                    f"{self.path}: reviews[{i}] needs combination, policy_sha256, reviewer, date"
                ) from None
        return tuple(out)

    def find(self, names: Iterable[str], policy_sha256: str | None = None) -> Review | None:
        """The latest review of this combination (under this policy hash, if given)."""
        key = tuple(sorted(names))
        hits = [
            r
            for r in self.reviews()
            if r.combination == key and (policy_sha256 is None or r.policy_sha256 == policy_sha256)
        ]
        return hits[-1] if hits else None

    def approve(
        self,
        names: Iterable[str],
        policy_sha256: str,
        reviewer: str | None = None,
        note: str = "",
        now: datetime | None = None,
    ) -> Review:
        """Record that ``reviewer`` approved the combination under this policy."""
        review = Review(
            combination=tuple(sorted(names)),
            policy_sha256=policy_sha256,
            reviewer=current_user(reviewer),
            date=_iso(now or utc_now()),
            note=note,
        )
        existing = [r.to_dict() for r in self.reviews()]
        doc = {"reviews": [*existing, review.to_dict()]}
        atomic_write_text(self.path, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        return review
