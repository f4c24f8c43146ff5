"""Additive and multiplicative noise on numeric columns (seeded, reproducible)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...errors import ParameterError
from .base import Transform, _as_columns, _numeric, _rng, _write_numeric

__all__ = ["AdditiveNoise", "MultiplicativeNoise"]


@dataclass(frozen=True)
class _Noise(Transform):
    """Shared parameters and checks of the seeded noise transforms."""

    columns: tuple[str, ...]
    noise: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        if not (isinstance(self.noise, (int, float)) and self.noise >= 0):
            raise ParameterError("noise", self.noise, "a percentage >= 0")

    def columns_used(self) -> tuple[str, ...]:
        return self.columns


@dataclass(frozen=True)
class AdditiveNoise(_Noise):
    """Add Gaussian noise with standard deviation ``noise`` % of each column's std.

    As sdcMicro ``addNoise(method="additive")``: ``x + N(0, (noise/100 * sd(x))^2)`` with the
    sample standard deviation (n - 1); default ``noise=150`` as sdcMicro. Reference: Brand
    (2002), "Microdata protection through noise addition", LNCS 2316; Domingo-Ferrer, Sebé &
    Castellà (2004), LNCS 3050. The seed makes the result reproducible; whoever holds the seed
    and the release can remove the noise, so keep provenance records as protected as the
    original data.
    """

    columns: tuple[str, ...]
    noise: float = 150.0
    seed: int | None = None
    kind: ClassVar[str] = "additive_noise"

    def _transform(self, df, suppressed):
        rng = _rng(self.seed)
        sds = {}
        for col in self.columns:
            x, skip = _numeric(df, col)
            valid = x[~skip]
            sd = float(np.std(valid, ddof=1)) if len(valid) > 1 else 0.0
            sds[col] = sd
            new = x + rng.standard_normal(len(x)) * (self.noise / 100.0 * sd)
            _write_numeric(df, col, new, skip)
        return {"noise_sd": sds}, np.zeros(len(df), dtype=bool)


@dataclass(frozen=True)
class MultiplicativeNoise(_Noise):
    """Multiply values by ``1 + e`` with ``e ~ N(0, (noise/100)^2)``.

    Multiplicative noise keeps the relative error constant, which suits skewed variables such
    as income (Kim & Winkler 2003, "Multiplicative noise for masking continuous data", US
    Census Bureau RR 2003-01; Hundepool et al. 2012, sec. 3.3). Seeded; see
    :class:`AdditiveNoise` about keeping the seed protected.
    """

    columns: tuple[str, ...]
    noise: float = 10.0
    seed: int | None = None
    kind: ClassVar[str] = "multiplicative_noise"

    def _transform(self, df, suppressed):
        rng = _rng(self.seed)
        for col in self.columns:
            x, skip = _numeric(df, col)
            new = x * (1.0 + rng.standard_normal(len(x)) * self.noise / 100.0)
            _write_numeric(df, col, new, skip)
        return {}, np.zeros(len(df), dtype=bool)
