"""Record suppression: the quasi-identifiers of whole records set to ``"*"``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from .base import Transform, _as_columns, _check_k, _row_keys, _set_star

__all__ = ["RecordSuppression"]


@dataclass(frozen=True)
class RecordSuppression(Transform):
    """Suppress whole records whose equivalence class on ``qis`` is smaller than ``k``.

    Suppressed records keep their row, with every quasi-identifier set to ``"*"`` (ARX's
    convention, Prasser et al. 2014), and are flagged in :attr:`TransformResult.suppressed`
    so class statistics and utility exclude them. Classes are exact matches; a missing value is
    a category of its own; records already suppressed by an earlier step are not counted.
    """

    qis: tuple[str, ...]
    k: int = 2
    kind: ClassVar[str] = "record_suppression"

    def __post_init__(self) -> None:
        object.__setattr__(self, "qis", _as_columns(self.qis, "qis"))
        _check_k(self.k)

    def columns_used(self) -> tuple[str, ...]:
        return self.qis

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        sub = df.iloc[active]
        codes = (
            np.column_stack(
                [pd.factorize(sub[c].astype(object), use_na_sentinel=False)[0] for c in self.qis]
            )
            if len(sub)
            else np.zeros((0, len(self.qis)), int)
        )
        _, inv, counts = np.unique(_row_keys(codes), return_inverse=True, return_counts=True)
        small = np.zeros(len(df), dtype=bool)
        small[active] = counts[inv] < self.k
        _set_star(df, small, self.qis)
        return (
            {
                "classes": int(len(counts)),
                "classes_suppressed": int((counts < self.k).sum()),
                "records_suppressed": int(small.sum()),
            },
            small,
        )
