"""l-diversity (Machanavajjhala, Kifer, Gehrke & Venkitasubramaniam 2007, ACM TKDD 1(1)).

The one definition of the per-class quantities, used by the risk engine
(:func:`workbench.risk.sensitive.l_diversity`) and the anonymization search:

* *distinct*: at least ``l`` distinct sensitive values in the class;
* *entropy*: ``-sum q log q >= log l`` (``q`` the value frequencies inside the class);
* *recursive (c,l)*: with counts sorted descending ``r1 >= r2 >= ... >= rm``,
  ``r1 < c (r_l + ... + r_m)``.

These are ARX's ``DistinctLDiversity``, ``EntropyLDiversity`` and ``RecursiveCLDiversity``.
Distinct l-diversity is monotone with suppression (a class with >= l values keeps them when
merged); entropy and recursive only without suppression (a satisfying class merged with a
violating one can violate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import TOL, Classes, PrivacyModel, SensitivePairs

__all__ = [
    "LDiversity",
    "L_KINDS",
    "distinct_values",
    "class_entropy",
    "sorted_counts",
    "first_counts",
    "tail_sums",
    "class_pass",
]

L_KINDS = ("distinct", "entropy", "recursive")


def distinct_values(s: SensitivePairs, n_classes: int) -> np.ndarray:
    """Distinct sensitive values per class."""
    return np.bincount(s.pc, minlength=n_classes)


def class_entropy(s: SensitivePairs, sizes: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of the sensitive values inside each class (0 for empty ones)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = s.cnt / sizes[s.pc]
        return -np.bincount(s.pc, weights=q * np.log(q), minlength=len(sizes))


def sorted_counts(s: SensitivePairs, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs sorted by class, then count descending; ``rank`` is the position in the class."""
    order = np.lexsort((-s.cnt, s.pc))
    spc, scnt = s.pc[order], s.cnt[order]
    starts = np.zeros(n_classes + 1, dtype=np.int64)
    np.cumsum(np.bincount(spc, minlength=n_classes), out=starts[1:])
    rank = np.arange(spc.size, dtype=np.int64) - starts[spc]
    return spc, scnt, rank


def first_counts(spc: np.ndarray, scnt: np.ndarray, rank: np.ndarray, n_classes: int) -> np.ndarray:
    """``r1``: the count of the most frequent value of each class."""
    r1 = np.zeros(n_classes)
    sel = rank == 0
    r1[spc[sel]] = scnt[sel]
    return r1


def tail_sums(
    spc: np.ndarray,
    scnt: np.ndarray,
    rank: np.ndarray,
    n_classes: int,
    l: int,  # noqa: E741
) -> np.ndarray:
    """``r_l + ... + r_m`` per class (0 when the class has fewer than ``l`` values)."""
    sel = rank >= l - 1
    return np.bincount(spc[sel], weights=scnt[sel], minlength=n_classes)


def class_pass(
    s: SensitivePairs,
    sizes: np.ndarray,
    kind: str,
    l: int,  # noqa: E741
    c: float | None = None,
) -> np.ndarray:
    """Per-class booleans of ``kind`` l-diversity for one attribute; empty classes pass."""
    n = len(sizes)
    if kind == "distinct":
        ok = distinct_values(s, n) >= l
    elif kind == "entropy":
        ok = class_entropy(s, sizes) >= math.log(l) - TOL
    elif kind == "recursive":
        if c is None or not (isinstance(c, int | float) and c > 0):
            raise ParameterError("c", c, "a positive number for recursive (c,l)-diversity")
        spc, scnt, rank = sorted_counts(s, n)
        ok = first_counts(spc, scnt, rank, n) < c * tail_sums(spc, scnt, rank, n, l)
    else:
        raise ParameterError("kind", kind, f"one of {', '.join(L_KINDS)}")
    return ok | (sizes == 0)


@dataclass(frozen=True)
class LDiversity(PrivacyModel):
    """l-diversity of one sensitive attribute (``attribute``) or of every one (``None``)."""

    l: int  # noqa: E741 -- the published name
    kind: str = "distinct"
    c: float | None = None
    attribute: str | None = None

    key: ClassVar[str] = "l_diversity"
    policy_key: ClassVar[str | None] = "min_l"
    direction: ClassVar[str] = "min"
    needs: ClassVar[frozenset[str]] = frozenset({"sensitive"})
    reference: ClassVar[str] = "Machanavajjhala et al. 2007"
    title: ClassVar[str] = "minimum l (distinct l-diversity)"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1},
    }

    def __post_init__(self) -> None:
        if isinstance(self.l, bool) or not isinstance(self.l, int | np.integer) or self.l < 1:
            raise ParameterError("l", self.l, "an integer >= 1")
        if self.kind not in L_KINDS:
            raise ParameterError("l_kind", self.kind, f"one of {', '.join(L_KINDS)}")
        if self.kind == "recursive" and self.c is None:
            object.__setattr__(self, "c", 3.0)
        if self.c is not None and not (isinstance(self.c, int | float) and self.c > 0):
            raise ParameterError("c", self.c, "a positive number")

    @property
    def monotone_with_suppression(self) -> bool:  # type: ignore[override]
        return self.kind == "distinct"

    @property
    def limit(self) -> int:
        return int(self.l)

    def class_pass(self, classes: Classes) -> np.ndarray:
        ok = np.ones(classes.n_classes, dtype=bool)
        for s in classes.attributes(self.attribute):
            ok &= class_pass(s, classes.sizes, self.kind, int(self.l), self.c)
        return ok

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        if self.kind != "distinct":
            return None
        keep = released & ~classes.empty
        vals = [
            distinct_values(s, classes.n_classes)[keep] for s in classes.attributes(self.attribute)
        ]
        vals = [v for v in vals if len(v)]
        return int(min(v.min() for v in vals)) if vals else None

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        col = self.attribute or "the sensitive attribute"
        if ok:
            return (
                f"Every group of identical {context} holds at least {measured} distinct values "
                f"of {col}."
            )
        return (
            f"Some group of records with identical {context} holds only {measured} distinct "
            f"value(s) of {col}; the policy requires {self.l}. Anyone who knows a person is in "
            f"that group learns their {col}. Generalize the quasi-identifiers (larger groups) "
            "or suppress those groups."
        )

    def describe(self) -> str:
        what = f"{self.attribute!r}" if self.attribute else "each sensitive attribute"
        if self.kind == "distinct":
            return f"every group holds at least {self.l} distinct values of {what}"
        if self.kind == "entropy":
            return f"the values of {what} in every group are as spread as {self.l} equal ones"
        return (
            f"in every group the most frequent value of {what} is less than {self.c:g} times "
            f"the values from the {self.l}-th most frequent on"
        )

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(int(v), attribute=str(a)) for a, v in dict(value).items()]
