"""Drop direct identifiers: the only transform that removes columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import Transform, _as_columns

__all__ = ["DropColumns"]


@dataclass(frozen=True)
class DropColumns(Transform):
    """Remove columns (direct identifiers that are not needed for any join)."""

    columns: tuple[str, ...]
    kind: ClassVar[str] = "drop_columns"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def _transform(self, df, suppressed):
        df.drop(columns=list(self.columns), inplace=True)
        return {"dropped": list(self.columns)}, np.zeros(len(df), dtype=bool)
