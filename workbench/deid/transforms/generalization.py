"""Full-domain generalization: every value of a column lifted to one hierarchy level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ...errors import HierarchyError, ParameterError
from ..hierarchy import Hierarchy
from .base import HierarchyLike, Transform, _is_star, _jsonable, _tidy_dtype

__all__ = ["FullDomainGeneralization"]


@dataclass(frozen=True)
class FullDomainGeneralization(Transform):
    """Replace every value of each column by its ancestor at one hierarchy level (full domain).

    Full-domain generalization (Samarati 2001; LeFevre, DeWitt & Ramakrishnan 2005 "Incognito"):
    the same level is used for every record. ``hierarchies`` maps a column to any object with
    ``generalize(values, level)`` (for example :class:`workbench.deid.hierarchy.Hierarchy`).
    Missing values and ``"*"`` are left as they are (not passed to the hierarchy).
    """

    levels: Mapping[str, int]
    hierarchies: Mapping[str, HierarchyLike]
    kind: ClassVar[str] = "generalize"

    def __post_init__(self) -> None:
        levels = dict(self.levels)
        for col, lev in levels.items():
            if not isinstance(lev, (int, np.integer)) or lev < 0:
                raise ParameterError(f"levels[{col!r}]", lev, "an integer >= 0")
        missing = [c for c in levels if c not in self.hierarchies]
        if missing:
            raise HierarchyError(
                f"no hierarchy given for column {missing[0]!r}; "
                f"hierarchies are given for {sorted(self.hierarchies)}"
            )
        for col, h in self.hierarchies.items():
            if not hasattr(h, "generalize"):
                raise HierarchyError(
                    f"hierarchy for column {col!r} has no generalize(values, level) method"
                )
        object.__setattr__(self, "levels", MappingProxyType({c: int(v) for c, v in levels.items()}))
        object.__setattr__(self, "hierarchies", MappingProxyType(dict(self.hierarchies)))

    def columns_used(self) -> tuple[str, ...]:
        return tuple(self.levels)

    def to_dict(self) -> dict[str, Any]:
        hier = {}
        for col in self.levels:
            h = self.hierarchies[col]
            hier[col] = (
                _jsonable(h.to_dict()) if hasattr(h, "to_dict") else {"class": type(h).__name__}
            )
        return {"type": self.kind, "levels": dict(self.levels), "hierarchies": hier}

    @classmethod
    def _from_params(
        cls, params, hierarchies: Mapping[str, HierarchyLike] | None = None, **context
    ):
        levels = params.get("levels") or {}
        if hierarchies is None:
            hierarchies = {}
            stored = params.get("hierarchies") or {}
            for col in levels:
                hierarchies[col] = _hierarchy_from_dict(col, stored.get(col))
        return cls(levels=levels, hierarchies=hierarchies)

    def _transform(self, df, suppressed):
        per_col = {}
        for col, level in self.levels.items():
            s = df[col]
            keep = s.isna() | _is_star(s)
            todo = s[~keep]
            new = self.hierarchies[col].generalize(todo, level)
            if len(new) != len(todo):
                raise HierarchyError(
                    f"hierarchy for column {col!r} returned {len(new)} values for "
                    f"{len(todo)} inputs at level {level}"
                )
            result = s.astype(object).copy()
            result.iloc[np.flatnonzero(~keep)] = np.asarray(new, dtype=object)
            df[col] = _tidy_dtype(result)
            per_col[col] = {
                "level": level,
                "distinct_before": int(s.nunique()),
                "distinct_after": int(df[col].nunique()),
            }
        return {"columns": per_col}, np.zeros(len(df), dtype=bool)


def _hierarchy_from_dict(col: str, stored: Any) -> HierarchyLike:
    if not isinstance(stored, Mapping):
        raise HierarchyError(
            f"no stored hierarchy for column {col!r}; pass hierarchies=... to from_dict"
        )
    return Hierarchy.from_dict(stored)
