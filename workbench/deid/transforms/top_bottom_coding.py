"""Top and bottom coding: extreme numeric values replaced by a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...errors import ParameterError
from .base import Transform, _numeric, _write_numeric

__all__ = ["TopBottomCoding"]


@dataclass(frozen=True)
class TopBottomCoding(Transform):
    """Replace values above ``top`` (below ``bottom``) by a replacement (sdcMicro ``topBotCoding``).

    As in sdcMicro, values strictly greater than ``top`` become ``top_replacement`` (default
    ``top``) and values strictly below ``bottom`` become ``bottom_replacement`` (default
    ``bottom``). Reference: Hundepool et al. (2012), *Statistical Disclosure Control*, sec. 3.4.
    """

    column: str
    top: float | None = None
    bottom: float | None = None
    top_replacement: float | None = None
    bottom_replacement: float | None = None
    kind: ClassVar[str] = "top_bottom_coding"

    def __post_init__(self) -> None:
        if self.top is None and self.bottom is None:
            raise ParameterError("top/bottom", None, "at least one of top or bottom")
        if self.top is not None and self.bottom is not None and self.bottom > self.top:
            raise ParameterError("bottom", self.bottom, f"at most top={self.top}")

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def _transform(self, df, suppressed):
        x, skip = _numeric(df, self.column)
        new = x.copy()
        n_top = n_bottom = 0
        if self.top is not None:
            hit = ~skip & (x > self.top)
            new[hit] = self.top if self.top_replacement is None else self.top_replacement
            n_top = int(hit.sum())
        if self.bottom is not None:
            hit = ~skip & (x < self.bottom)
            new[hit] = self.bottom if self.bottom_replacement is None else self.bottom_replacement
            n_bottom = int(hit.sum())
        integral = all(
            v is None or float(v).is_integer()
            for v in (self.top, self.bottom, self.top_replacement, self.bottom_replacement)
        )
        _write_numeric(df, self.column, new, skip, keep_int=integral)
        return {"top_coded": n_top, "bottom_coded": n_bottom}, np.zeros(len(df), dtype=bool)
