"""Microaggregation: numeric values replaced by the mean of groups of at least k records
(MDAV, Domingo-Ferrer and Mateo-Sanz 2002).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...errors import ParameterError
from .base import Transform, _as_columns, _check_k, _numeric, _write_numeric

__all__ = ["mdav_groups", "Microaggregation"]


def mdav_groups(x: np.ndarray, k: int) -> np.ndarray:
    """Group labels from MDAV on the rows of ``x`` (already standardized).

    Maximum Distance to Average Vector (Domingo-Ferrer & Mateo-Sanz 2002, IEEE TKDE 14(1);
    Domingo-Ferrer & Torra 2005, DMKD 11(2)): while at least 3k records remain, take the record
    ``r`` farthest from the centroid and the record ``s`` farthest from ``r``, and form a group
    of each with its k-1 nearest records; with 2k..3k-1 left, form one group around the
    farthest record and put the rest in a last group; with fewer than 2k left they form one
    group. Every group has at least k records and fewer than 2k.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    _check_k(k)
    if n < k:
        raise ParameterError("k", k, f"at most the number of records ({n})")
    labels = np.full(n, -1, dtype=np.int64)
    idx = np.arange(n)
    g = 0

    def take_group(center_pos: int, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = ((x[pool] - x[pool[center_pos]]) ** 2).sum(axis=1)
        d[center_pos] = -1.0  # the centre itself always belongs to its group
        near = np.argpartition(d, k - 1)[:k]
        rest = np.ones(len(pool), dtype=bool)
        rest[near] = False
        return pool[near], pool[rest]

    while len(idx) >= 3 * k:
        xr = x[idx]
        centroid = xr.mean(axis=0)
        r = int(np.argmax(((xr - centroid) ** 2).sum(axis=1)))
        s_rec = idx[int(np.argmax(((xr - xr[r]) ** 2).sum(axis=1)))]
        grp, idx = take_group(r, idx)
        labels[grp] = g
        g += 1
        pos = np.flatnonzero(idx == s_rec)
        if len(pos) == 0:  # ties put s in r's group: use the farthest remaining record
            xr = x[idx]
            pos = [int(np.argmax(((xr - x[s_rec]) ** 2).sum(axis=1)))]
        grp, idx = take_group(int(pos[0]), idx)
        labels[grp] = g
        g += 1
    if len(idx) >= 2 * k:
        xr = x[idx]
        r = int(np.argmax(((xr - xr.mean(axis=0)) ** 2).sum(axis=1)))
        grp, idx = take_group(r, idx)
        labels[grp] = g
        g += 1
    if len(idx):
        labels[idx] = g
    return labels


@dataclass(frozen=True)
class Microaggregation(Transform):
    """Multivariate microaggregation with MDAV, replacing values by their group means.

    Variables are standardized (z-scores; constant columns are left unscaled) before distances
    are computed, as in Domingo-Ferrer & Torra (2005) and sdcMicro's ``mdav``; each group has at
    least ``k`` and fewer than ``2k`` records. The result's details give the group sizes and the
    information loss SSE/SST on the standardized values (Domingo-Ferrer & Mateo-Sanz 2002).
    Missing or ``"*"`` values are refused: impute or suppress after microaggregating.
    """

    columns: tuple[str, ...]
    k: int = 3
    kind: ClassVar[str] = "microaggregation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        _check_k(self.k)

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        cols = []
        for col in self.columns:
            x, skip = _numeric(df, col)
            if skip[active].any():
                raise ParameterError(
                    col, "missing or '*' values", "complete numeric values for microaggregation"
                )
            cols.append(x[active])
        x = np.column_stack(cols) if cols else np.zeros((len(active), 0))
        if len(active) == 0:
            return {"groups": 0}, np.zeros(len(df), dtype=bool)
        sd = x.std(axis=0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
        sd = np.where(sd > 0, sd, 1.0)
        z = (x - x.mean(axis=0)) / sd
        labels = mdav_groups(z, self.k)
        n_groups = int(labels.max()) + 1
        sizes = np.bincount(labels, minlength=n_groups)
        means = np.vstack(
            [
                np.bincount(labels, weights=x[:, j], minlength=n_groups) / sizes
                for j in range(x.shape[1])
            ]
        ).T
        agg = means[labels]
        zm = (agg - x.mean(axis=0)) / sd
        sse = float(((z - zm) ** 2).sum())
        sst = float((z**2).sum())
        for j, col in enumerate(self.columns):
            full, skip = _numeric(df, col)
            full[active] = agg[:, j]
            _write_numeric(df, col, full, skip)
        return (
            {
                "groups": n_groups,
                "min_group_size": int(sizes.min()),
                "max_group_size": int(sizes.max()),
                "sse_sst": sse / sst if sst > 0 else 0.0,
            },
            np.zeros(len(df), dtype=bool),
        )
