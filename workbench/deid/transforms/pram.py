"""PRAM: post-randomization of categorical values by a transition matrix (invariant PRAM
keeps the expected frequencies, as sdcMicro's ``pram``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np
import pandas as pd

from ...errors import ParameterError
from .base import Transform, _is_star, _rng, _tidy_dtype

__all__ = ["invariant_pram_matrix", "Pram"]


def invariant_pram_matrix(p: np.ndarray, freqs: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Invariant PRAM matrix ``alpha * P Q + (1 - alpha) * I`` for transition matrix ``P``.

    ``Q_kj = P_jk T_j / sum_l P_lk T_l`` (Kooiman, Willenborg & Gouweleeuw 1997; Gouweleeuw,
    Kooiman, Willenborg & de Wolf 1998, J. Off. Stat. 14(4)), so ``T (P Q) = T``: the expected
    frequencies after PRAM equal the observed ones. Mixing with the identity (sdcMicro's
    ``alpha``) keeps invariance and reduces perturbation. Categories with zero frequency keep a
    well-defined row (their ``Q`` column is never used when ``T_j = 0``).
    """
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(freqs, dtype=np.float64)
    tp = t @ p  # expected frequencies after P: sum_l T_l P_lk
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (p * t[:, None]).T / tp[:, None]  # q[k, j] = P_jk T_j / tp_k
    q = np.nan_to_num(q, nan=0.0)
    zero = tp == 0
    q[zero] = np.eye(len(t))[zero]
    r = p @ q
    rs = alpha * r + (1.0 - alpha) * np.eye(len(t))
    return rs / rs.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Pram(Transform):
    """Post-randomization of a categorical column with an invariant transition matrix.

    Implements sdcMicro's ``pram`` construction: diagonal entries drawn uniformly from
    ``[pd, 1]``, the rest of each row spread evenly, then made invariant with
    :func:`invariant_pram_matrix` and mixed with the identity by ``alpha``. A custom
    ``transition`` (row category -> column category -> probability, rows summing to 1) can be
    given; it is made invariant unless ``invariant=False``. Categories are the sorted observed
    values; missing and ``"*"`` stay unchanged. Seeded for reproducibility (see
    :class:`AdditiveNoise` about the seed). The matrix used is returned in ``details`` so
    analysts can correct estimates (Gouweleeuw et al. 1998).
    """

    column: str
    pd: float = 0.8
    alpha: float = 0.5
    seed: int | None = None
    transition: Mapping[str, Mapping[str, float]] | None = None
    invariant: bool = True
    kind: ClassVar[str] = "pram"

    def __post_init__(self) -> None:
        if not (isinstance(self.pd, (int, float)) and 0 <= self.pd <= 1):
            raise ParameterError("pd", self.pd, "a number in [0, 1]")
        if not (isinstance(self.alpha, (int, float)) and 0 <= self.alpha <= 1):
            raise ParameterError("alpha", self.alpha, "a number in [0, 1]")
        if self.transition is not None:
            tr = {
                str(a): {str(b): float(v) for b, v in row.items()}
                for a, row in self.transition.items()
            }
            for a, row in tr.items():
                if any(v < 0 for v in row.values()) or abs(sum(row.values()) - 1) > 1e-9:
                    raise ParameterError(
                        f"transition[{a!r}]", row, "probabilities >= 0 summing to 1"
                    )
            object.__setattr__(self, "transition", MappingProxyType(tr))

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def _transform(self, df, suppressed):
        s = df[self.column]
        skip = s.isna().to_numpy() | _is_star(s)
        active = ~skip & ~suppressed
        text = s.astype(object).where(~pd.Series(skip, index=s.index), None)
        levels = sorted({str(v) for v in text[active]})
        L = len(levels)
        rng = _rng(self.seed)
        if L == 0:
            return {"levels": [], "matrix": [], "changed": 0}, np.zeros(len(df), dtype=bool)
        pos = {v: i for i, v in enumerate(levels)}
        idx = np.array([pos[str(v)] if a else -1 for v, a in zip(text, active, strict=True)])
        freqs = np.bincount(idx[active], minlength=L).astype(np.float64)
        if self.transition is not None:
            p = np.zeros((L, L))
            for a, row in self.transition.items():
                for b, v in row.items():
                    if a in pos and b in pos:
                        p[pos[a], pos[b]] = v
            missing = [lv for lv in levels if lv not in self.transition]
            if missing or not np.allclose(p.sum(axis=1), 1.0):
                raise ParameterError(
                    "transition",
                    f"rows for {missing or levels}",
                    f"a row summing to 1 over the observed categories {levels}",
                )
        elif L == 1:
            p = np.ones((1, 1))
        else:
            d = rng.uniform(self.pd, 1.0, size=L)
            p = np.repeat(((1.0 - d) / (L - 1))[:, None], L, axis=1)
            np.fill_diagonal(p, d)
        if self.invariant:
            rs = invariant_pram_matrix(p, freqs, self.alpha)
        else:
            rs = p / p.sum(axis=1, keepdims=True)
        new_idx = idx.copy()
        for i in range(L):
            rows = np.flatnonzero(idx == i)
            if len(rows):
                new_idx[rows] = rng.choice(L, size=len(rows), p=rs[i])
        values = s.astype(object).copy()
        changed_rows = np.flatnonzero(active & (new_idx != idx))
        lv = np.array(levels, dtype=object)
        if len(changed_rows):
            originals = {str(v): v for v in s[active]}
            values.iloc[changed_rows] = [originals[x] for x in lv[new_idx[changed_rows]]]
        df[self.column] = _tidy_dtype(values, like=s)
        return (
            {
                "levels": levels,
                "matrix": rs.tolist(),
                "frequencies": freqs.tolist(),
                "changed": int(len(changed_rows)),
            },
            np.zeros(len(df), dtype=bool),
        )
