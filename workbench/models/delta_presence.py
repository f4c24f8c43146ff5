"""delta-presence (Nergiz, Atzori & Clifton 2007, "Hiding the presence of individuals from shared
databases", SIGMOD 2007).

The data is a public population table; the release is a research subset of it. An attacker who
knows someone is in the population must not learn with much confidence whether they are in the
subset: in every class, the share of population records that belong to the research subset,
``delta_k = research_k / f_k``, lies in ``[dmin, dmax]``. This is ARX's ``DPresence`` (parameters
``dMin``, ``dMax`` and a research subset of the rows; it counts the subset and the whole table
per class with two counters).

Monotone without suppression, although ARX does not prune with it: a merged class's
``delta`` is the record-weighted mean of its parts', so if every part lies in
``[dmin, dmax]`` so does the merge, and a failing class has a failing part. With suppression a
merge of a kept and a suppressed class can fail, so the search does not prune then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import TOL, Classes, PrivacyModel

__all__ = ["DeltaPresence", "class_presence"]


def class_presence(classes: Classes) -> np.ndarray:
    """``research_k / f_k`` per class (``nan`` for empty classes)."""
    if classes.research is None:
        raise ParameterError("research_subset", None, "a research subset for delta-presence")
    sizes = classes.sizes.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sizes > 0, classes.research / np.where(sizes > 0, sizes, 1), np.nan)


@dataclass(frozen=True)
class DeltaPresence(PrivacyModel):
    """``dmin <= research_k / f_k <= dmax`` in every class."""

    dmin: float
    dmax: float

    key: ClassVar[str] = "delta_presence"
    policy_key: ClassVar[str | None] = "delta_presence"
    direction: ClassVar[str] = "max"  # the measured value is the largest delta_k
    needs: ClassVar[frozenset[str]] = frozenset({"research"})
    reference: ClassVar[str] = "Nergiz, Atzori & Clifton 2007; ARX DPresence"
    title: ClassVar[str] = "delta-presence range"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["min", "max"],
        "properties": {
            "min": {"type": "number", "minimum": 0, "maximum": 1},
            "max": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }

    def __post_init__(self) -> None:
        for name, v in (("dmin", self.dmin), ("dmax", self.dmax)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise ParameterError(name, v, "a number in [0, 1]")
        if self.dmin > self.dmax:
            raise ParameterError("delta_presence", (self.dmin, self.dmax), "dmin <= dmax")

    @property
    def limit(self) -> dict[str, float]:
        return {"min": float(self.dmin), "max": float(self.dmax)}

    def satisfied_by(self, value: Any) -> bool:
        if value is None:
            return False
        lo, hi = value
        return lo >= self.dmin - TOL and hi <= self.dmax + TOL

    def class_pass(self, classes: Classes) -> np.ndarray:
        d = class_presence(classes)
        ok = (d >= self.dmin - TOL) & (d <= self.dmax + TOL)
        return ok | classes.empty

    def measure(self, classes: Classes, released: np.ndarray) -> Any:
        """(smallest, largest) ``delta_k`` over released classes."""
        keep = released & ~classes.empty
        if not keep.any():
            return None
        d = class_presence(classes)[keep]
        return (float(d.min()), float(d.max()))

    def describe(self) -> str:
        return (
            f"for anyone in the population table, the chance of being in the research subset is "
            f"between {self.dmin:g} and {self.dmax:g} given the released quasi-identifiers"
        )

    @classmethod
    def combine_policy(cls, values: list[Any]) -> Any:
        """The narrowest range (may be empty: then no release can satisfy every policy)."""
        return {"min": max(v["min"] for v in values), "max": min(v["max"] for v in values)}

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(value["min"]), float(value["max"]))]
