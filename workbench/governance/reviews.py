"""Reviews of combinations: an officer's approval, or the oversight board's ethics review.

A combination of datasets that nobody has looked at is flagged for review by the gate rather than
failed: a machine cannot judge whether the purpose justifies the join. Approvals are kept in a
YAML file next to the catalog (``reviews.yaml``) and are tied to the hash of the harmonized policy,
so a change in any source policy asks for a new review.

Ethics reviews (:class:`EthicsReviews`) give the decision to the oversight body instead: a review
is filed (combination, harmonized policy hash, purpose, applicant, filing officer) in a
hash-chained, optionally signed log (``governance/ethics.jsonl``); each member signs their own
``approve`` or ``reject`` with their own Ed25519 key; ``quorum`` concurring votes of distinct,
unconflicted members decide. The eligibility, conflict, key and quorum rules are the ones
disclosure referrals use (:mod:`workbench.governance.oversight`, one definition): the applicant
and the filing officer may not vote, and a refused vote is logged with its reason. When the log
is read, every vote's signature and eligibility are checked again, so a vote edited into the log
is not counted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

import yaml

from .._io import atomic_write_text
from ..errors import ConfigError, ParameterError
from .oversight import (
    OversightBody,
    Vote,
    key_mismatch,
    quorum_decision,
    record_vote,
    replay_decision_log,
    vote_payload,
    why_not_eligible,
)
from .provenance import ProvenanceLog, _iso, current_user, parse_time, utc_now
from .signing import SigningKey

__all__ = [
    "Review",
    "ReviewRegistry",
    "default_reviews_path",
    "EthicsReview",
    "EthicsVoteResult",
    "EthicsReviews",
    "ETHICS_DECISIONS",
]


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


# ------------------------------------------------------------------------------ ethics reviews
ETHICS_DECISIONS = ("approve", "reject")
APPROVED, REJECTED, OPEN = "approved", "rejected", "open"
_OUTCOMES = {"approve": APPROVED, "reject": REJECTED}
OP_FILE, OP_VOTE, OP_VOTE_REFUSED, OP_OUTCOME = (
    "ethics-review",
    "ethics-vote",
    "ethics-vote-refused",
    "ethics-outcome",
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_TEXT = 300


def _text(value: Any, what: str, required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT or (required and not value.strip()):
        raise ParameterError(what, "<text>", f"a text of 1 to {_MAX_TEXT} characters")
    return value.strip()


@dataclass(frozen=True)
class EthicsReview:
    """One ethics review and the board's signed votes, rebuilt from the log."""

    id: str
    combination: tuple[str, ...]
    policy_sha256: str
    purpose: str
    applicant: str
    officer: str
    filed: str
    review_hash: str
    votes: tuple[Vote, ...] = ()
    refused_votes: tuple[dict[str, str], ...] = ()
    outcome: str = OPEN
    decided_at: str | None = None

    @property
    def open(self) -> bool:
        return self.decided_at is None

    @property
    def hours_to_decision(self) -> float | None:
        if self.decided_at is None:
            return None
        return (parse_time(self.decided_at) - parse_time(self.filed)).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        return {
            "review_id": self.id,
            "combination": list(self.combination),
            "policy_sha256": self.policy_sha256,
            "purpose": self.purpose,
            "applicant": self.applicant,
            "officer": self.officer,
            "filed": self.filed,
            "outcome": self.outcome,
            "decided_at": self.decided_at,
            "hours_to_decision": self.hours_to_decision,
            "votes": [vars(v) for v in self.votes],
            "refused_votes": list(self.refused_votes),
        }


@dataclass(frozen=True)
class EthicsVoteResult:
    """Whether a vote was counted (else why it was refused) and the review afterwards."""

    accepted: bool
    reason: str
    review: EthicsReview


@dataclass
class _Open:
    review: EthicsReview
    votes: list[Vote] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    outcome: str = OPEN
    decided_at: str | None = None

    def freeze(self) -> EthicsReview:
        r = self.review
        return EthicsReview(
            r.id, r.combination, r.policy_sha256, r.purpose, r.applicant, r.officer, r.filed,
            r.review_hash, tuple(self.votes), tuple(self.refused), self.outcome, self.decided_at,
        )  # fmt: skip

    def parties(self) -> dict[str, str]:
        return {"the applicant": self.review.applicant, "the filing officer": self.review.officer}


class EthicsReviews:
    """The ethics-review log: reviews filed, members' signed votes, the board's outcomes.

    Parameters
    ----------
    path : path-like
        The log (JSON Lines with its ``.head`` anchor; ``governance/ethics.jsonl`` by custom).
    oversight : OversightBody
        The board whose members' signed votes decide.
    signing_key : SigningKey, optional
        Key that signs the log records (default ``WORKBENCH_PROVENANCE_KEY``, if set).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        oversight: OversightBody,
        *,
        signing_key: SigningKey | None = None,
    ) -> None:
        self.path = Path(path)
        self.oversight = oversight
        self.log = ProvenanceLog(self.path, signing_key=signing_key)

    def __repr__(self) -> str:
        return f"EthicsReviews({str(self.path)!r})"

    # ------------------------------------------------------------------------ reading
    def reviews(self) -> tuple[EthicsReview, ...]:
        """Every review, rebuilt from a log that verifies (a tampered log raises)."""
        building = replay_decision_log(
            self.log, self.path, "the ethics reviews", "ethics-review step", self._replay
        )
        return tuple(b.freeze() for b in building.values())

    def _replay(self, building: dict[str, _Open], rec: dict[str, Any]) -> None:
        op, p = rec.get("operation"), rec.get("parameters") or {}
        if op == OP_FILE:
            if p["review_id"] in building:
                raise ParameterError("review id", p["review_id"], "an id used once in the log")
            building[p["review_id"]] = _Open(
                EthicsReview(
                    p["review_id"],
                    tuple(sorted(p["combination"])),
                    str(p["policy_sha256"]),
                    str(p["purpose"]),
                    str(p["applicant"]),
                    str(rec["user"]),
                    str(rec["timestamp"]),
                    str(rec["hash"]),
                )
            )
        elif op == OP_VOTE and p.get("review_id") in building:
            b = building[p["review_id"]]
            why = self._why_not(b, p.get("member", ""))
            payload = self._payload(b.review, p["member"], p["decision"], p["signed_at"])
            member = self.oversight.member(p["member"])
            if why is None and (member is None or not member.verifies(payload, p["signature"])):
                why = "the signature is not the member's"
            if why is None and p["decision"] in ETHICS_DECISIONS:
                b.votes.append(Vote(p["member"], p["decision"], p["signed_at"], p["reason"]))
                decision = quorum_decision(self.oversight, b.votes, ETHICS_DECISIONS)
                if decision is not None:
                    b.outcome, b.decided_at = _OUTCOMES[decision], rec["timestamp"]
            else:
                b.refused.append({"member": p.get("member", ""), "reason": why or "invalid"})
        elif op == OP_VOTE_REFUSED and p.get("review_id") in building:
            building[p["review_id"]].refused.append(
                {"member": p.get("member", ""), "reason": p.get("reason", "")}
            )

    def _why_not(self, b: _Open, member_id: str) -> str | None:
        if not (b.outcome == OPEN and b.decided_at is None):
            return f"the review is already {b.outcome}; it is not open for votes"
        return why_not_eligible(self.oversight, member_id, b.parties(), b.votes)

    @staticmethod
    def _payload(review: EthicsReview, member: str, decision: str, at: str) -> bytes:
        subject = {"review_id": review.id, "review_hash": review.review_hash}
        return vote_payload(OP_VOTE, subject, member, decision, at)

    def review(self, review_id: str) -> EthicsReview:
        for r in self.reviews():
            if r.id == review_id:
                return r
        raise ConfigError(f"{self.path}: no ethics review {review_id!r}")

    def approved(self, names: Iterable[str], policy_sha256: str) -> EthicsReview | None:
        """The latest review approving this combination under this policy hash, if any."""
        key = tuple(sorted(names))
        hits = [
            r
            for r in self.reviews()
            if r.combination == key and r.policy_sha256 == policy_sha256 and r.outcome == APPROVED
        ]
        return hits[-1] if hits else None

    def statistics(self) -> dict[str, Any]:
        """Reviews by outcome and the median hours from filing to the board's decision."""
        reviews = self.reviews()
        by = {APPROVED: 0, REJECTED: 0, OPEN: 0}
        for r in reviews:
            by[r.outcome] += 1
        hours = [r.hours_to_decision for r in reviews if r.hours_to_decision is not None]
        return {
            "reviews": len(reviews),
            "by_outcome": by,
            "median_hours_to_decision": None if not hours else round(median(hours), 2),
        }

    # ------------------------------------------------------------------------ writing
    def file(
        self,
        review_id: str,
        combination: Sequence[str],
        policy_sha256: str,
        *,
        purpose: str,
        applicant: str,
        officer: str,
        now: datetime | None = None,
    ) -> EthicsReview:
        """File a review for the board (one log record); the filing officer is ``user``."""
        if not isinstance(review_id, str) or not _ID_RE.match(review_id):
            raise ParameterError("review id", "<id>", "letters, digits, '.', '_' or '-' (<= 64)")
        names = tuple(sorted(_text(n, "dataset") for n in combination))
        if not names:
            raise ParameterError("combination", "()", "one or more catalog datasets")
        if not re.fullmatch(r"[0-9a-f]{64}", str(policy_sha256)):
            raise ParameterError("policy_sha256", "<hash>", "the harmonized policy's SHA-256")
        with self.log._locked():
            if any(r.id == review_id for r in self.reviews()):
                raise ParameterError("review id", review_id, "an id not yet in the ethics log")
            self.log.append(
                OP_FILE,
                parameters={
                    "review_id": review_id,
                    "combination": list(names),
                    "policy_sha256": policy_sha256,
                    "purpose": _text(purpose, "purpose"),
                    "applicant": _text(applicant, "applicant"),
                },
                user=_text(officer, "officer"),
                now=now,
            )
            return self.review(review_id)

    def vote(
        self,
        review_id: str,
        member_id: str,
        decision: str,
        member_signing: SigningKey,
        *,
        reason: str = "",
        now: datetime | None = None,
    ) -> EthicsVoteResult:
        """Record ``member_id``'s decision signed with their own key, or log why it is refused.

        Refused: a non-member, the applicant or the filing officer (conflict of interest), a
        second vote, a key that is not the member's, a vote after the decision.
        """
        if decision not in ETHICS_DECISIONS:
            raise ParameterError("decision", decision, " or ".join(ETHICS_DECISIONS))
        reason = _text(reason, "reason", required=False)
        when = _iso(now or utc_now())
        with self.log._locked():
            current = self.review(review_id)
            b = _Open(
                current,
                list(current.votes),
                list(current.refused_votes),
                current.outcome,
                current.decided_at,
            )
            why = self._why_not(b, member_id)
            if why is None:
                why = key_mismatch(self.oversight, member_id, member_signing.public_text)
            payload = self._payload(current, member_id, decision, when)
            counted, why, after = record_vote(
                self.log,
                (OP_VOTE, OP_VOTE_REFUSED, OP_OUTCOME),
                "review_id",
                review_id,
                member_id,
                why,
                (decision, reason, when, member_signing, payload),
                lambda: self.review(review_id),
                self.oversight.quorum,
                now,
            )
            return EthicsVoteResult(counted, why, after)
