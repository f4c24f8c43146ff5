"""delta-disclosure privacy (Brickell & Shmatikov 2008, "The cost of privacy", KDD 2008).

A class is delta-disclosure private when ``|ln(q(v) / p(v))| < delta`` for every sensitive value
``v`` (``q`` inside the class, ``p`` in the table). Like ARX's ``DDisclosurePrivacy`` only values
present in the class are checked; ARX measures in bits (``log2``), so ARX's ``d`` equals
``delta / ln 2``. Not monotone: merging classes can move ``q`` away from ``p`` for a value one of
them lacked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import Classes, PrivacyModel, SensitivePairs

__all__ = ["DeltaDisclosure", "class_deltas"]


def class_deltas(s: SensitivePairs, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class ``max |ln(q/p)|`` over present values (``nan`` if empty), and whether the
    class holds every value of the table."""
    n = len(sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = s.cnt / sizes[s.pc]
        ratio = np.abs(np.log(q / s.p[s.pv]))
    deltas = np.full(n, np.nan)
    deltas[sizes > 0] = 0.0
    np.maximum.at(deltas, s.pc, ratio)
    complete = np.bincount(s.pc, minlength=n) == s.m
    return deltas, complete


@dataclass(frozen=True)
class DeltaDisclosure(PrivacyModel):
    """``max |ln(q/p)| < delta`` in every class."""

    delta: float
    attribute: str | None = None

    key: ClassVar[str] = "delta_disclosure"
    policy_key: ClassVar[str | None] = "max_delta_disclosure"
    direction: ClassVar[str] = "max"
    monotone_without_suppression: ClassVar[bool] = False
    needs: ClassVar[frozenset[str]] = frozenset({"sensitive"})
    reference: ClassVar[str] = "Brickell & Shmatikov 2008"
    title: ClassVar[str] = "maximum delta (delta-disclosure)"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
    }

    def __post_init__(self) -> None:
        if not isinstance(self.delta, int | float) or self.delta <= 0:
            raise ParameterError("delta", self.delta, "a positive number")

    @property
    def limit(self) -> float:
        return float(self.delta)

    def satisfied_by(self, value: float | None) -> bool:
        return value is not None and value < self.delta  # the definition is strict

    def class_pass(self, classes: Classes) -> np.ndarray:
        ok = np.ones(classes.n_classes, dtype=bool)
        for s in classes.attributes(self.attribute):
            d, _ = class_deltas(s, classes.sizes)
            ok &= d < self.delta
        return ok | classes.empty

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        keep = released & ~classes.empty
        if not keep.any():
            return None
        return float(
            max(
                class_deltas(s, classes.sizes)[0][keep].max()
                for s in classes.attributes(self.attribute)
            )
        )

    def describe(self) -> str:
        return (
            f"seeing a group changes the odds of any sensitive value by less than a factor "
            f"e^{self.delta:g}"
        )

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(v), attribute=str(a)) for a, v in dict(value).items()]
