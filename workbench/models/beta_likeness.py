"""beta-likeness (Cao & Karras 2012, "Publishing microdata with a robust privacy guarantee",
PVLDB 5(11)).

With table frequency ``p`` and class frequency ``q`` of a value, *basic* beta-likeness requires
``(q - p) / p <= beta`` for every ``q > p``; *enhanced* requires
``(q - p) / p <= min(beta, -ln p)``. ARX's ``BasicBLikeness`` / ``EnhancedBLikeness`` check
exactly these inequalities. The relative gain of a merged class is a weighted mean of its parts',
so the model is monotone without suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import TOL, Classes, PrivacyModel, SensitivePairs

__all__ = ["BetaLikeness", "class_betas"]


def class_betas(s: SensitivePairs, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class: basic beta (``nan`` if empty), enhanced beta (``inf`` when a gain exceeds its
    cap ``-ln p``), and the per-pair mask of gains above their cap."""
    n = len(sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = s.cnt / sizes[s.pc]
    p = s.p[s.pv]
    gain = q > p
    rel = np.where(gain, (q - p) / p, 0.0)
    basic = np.where(sizes > 0, 0.0, np.nan)
    np.maximum.at(basic, s.pc, rel)
    over_cap = gain & (rel > -np.log(p) + TOL)
    capped = np.bincount(s.pc[over_cap], minlength=n) > 0
    return basic, np.where(capped, np.inf, basic), over_cap


@dataclass(frozen=True)
class BetaLikeness(PrivacyModel):
    """Basic (or ``enhanced``) beta-likeness of every class."""

    beta: float
    enhanced: bool = False
    attribute: str | None = None

    key: ClassVar[str] = "beta_likeness"
    policy_key: ClassVar[str | None] = "max_beta_likeness"
    direction: ClassVar[str] = "max"
    needs: ClassVar[frozenset[str]] = frozenset({"sensitive"})
    reference: ClassVar[str] = "Cao & Karras 2012"
    title: ClassVar[str] = "maximum beta (beta-likeness)"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
    }

    def __post_init__(self) -> None:
        if not isinstance(self.beta, int | float) or self.beta <= 0:
            raise ParameterError("beta", self.beta, "a positive number")

    @property
    def limit(self) -> float:
        return float(self.beta)

    def _values(self, s: SensitivePairs, sizes: np.ndarray) -> np.ndarray:
        basic, enhanced, _ = class_betas(s, sizes)
        return enhanced if self.enhanced else basic

    def class_pass(self, classes: Classes) -> np.ndarray:
        ok = np.ones(classes.n_classes, dtype=bool)
        for s in classes.attributes(self.attribute):
            ok &= self._values(s, classes.sizes) <= self.beta + TOL
        return ok | classes.empty

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        keep = released & ~classes.empty
        if not keep.any():
            return None
        return float(
            max(
                self._values(s, classes.sizes)[keep].max()
                for s in classes.attributes(self.attribute)
            )
        )

    def describe(self) -> str:
        kind = "enhanced " if self.enhanced else ""
        return (
            f"seeing a group raises the confidence in any sensitive value by at most "
            f"{self.beta:g} times its overall frequency ({kind}beta-likeness)"
        )

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(v), attribute=str(a)) for a, v in dict(value).items()]
