"""Local suppression: the fewest quasi-identifier cells set to ``"*"`` for k-anonymity,
with ``"*"`` matching anything (sdcMicro's ``localSuppression`` semantics).

A greedy algorithm for large tables and an exact one (minimum cells) for small ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...dataset import as_pandas, check_columns
from ...errors import ParameterError
from .base import Transform, _as_columns, _check_k, _is_star, _row_keys, _set_star

__all__ = ["wildcard_frequencies", "is_k_anonymous_wildcard", "LocalSuppression"]


def _encode_wildcard(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Integer codes per column; missing and ``"*"`` become -1 (wildcard)."""
    codes = np.empty((len(df), len(columns)), dtype=np.int64)
    for j, col in enumerate(columns):
        s = df[col]
        star = _is_star(s)
        c, _ = pd.factorize(s.astype(object).where(~star, None), use_na_sentinel=True)
        codes[:, j] = c
    return codes


def wildcard_frequencies(codes: np.ndarray) -> np.ndarray:
    """Sample frequency ``fk`` of each record with missing/suppressed values as wildcards.

    ``fk_i`` counts the records ``j`` (itself included) that agree with ``i`` on every key
    variable where both are known: a suppressed cell matches anything, as sdcMicro's
    ``freqCalc`` does with ``alpha = 1`` (Templ, Kowarik & Meindl 2015, J. Stat. Softw. 67(4)).
    ``codes`` is ``(n, m)`` int with negative values for wildcards. Work is done per pair of
    missingness patterns, so cost grows with the number of patterns, not with ``n**2``.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n, m = codes.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    wild = codes < 0
    pattern = (
        (wild.astype(np.int64) << np.arange(m, dtype=np.int64)).sum(axis=1)
        if m
        else np.zeros(n, np.int64)
    )
    patterns = np.unique(pattern)
    members = {int(p): np.flatnonzero(pattern == p) for p in patterns}
    fk = np.zeros(n, dtype=np.int64)
    for a in patterns:
        ia = members[int(a)]
        for b in patterns:
            jb = members[int(b)]
            known = [c for c in range(m) if not ((int(a) | int(b)) >> c) & 1]
            if not known:
                fk[ia] += len(jb)
                continue
            keys = _row_keys(np.concatenate([codes[ia][:, known], codes[jb][:, known]]))
            uniq, inv = np.unique(keys, return_inverse=True)
            counts = np.bincount(inv[len(ia) :], minlength=len(uniq))
            fk[ia] += counts[inv[: len(ia)]]
    return fk


def is_k_anonymous_wildcard(data: Any, qis: Sequence[str], k: int) -> bool:
    """True when every record has wildcard ``fk >= k`` on ``qis`` (see :func:`wildcard_frequencies`)."""
    df = as_pandas(data)
    check_columns(df, list(qis))
    if len(df) == 0:
        return True
    return bool(wildcard_frequencies(_encode_wildcard(df, qis)).min() >= k)


@dataclass(frozen=True)
class LocalSuppression(Transform):
    """Suppress single cells of quasi-identifiers until every record has wildcard ``fk >= k``.

    Semantics follow sdcMicro's ``localSuppression`` (Templ 2017, *Statistical Disclosure
    Control for Microdata*, Springer, sec. 3.5; Templ, Kowarik & Meindl 2015): a suppressed cell
    becomes ``"*"`` and matches any value when frequencies are counted (missing values already
    in the data are wildcards too), and among records violating k the values of the *least
    important* quasi-identifier are suppressed first.

    ``importance`` lists the quasi-identifiers from most to least important (least likely to be
    suppressed first). By default, as in sdcMicro, variables with more categories are less
    important.

    ``method="greedy"`` is a heuristic, not guaranteed minimal: records violating k are taken
    in increasing order of ``fk``; for each, the least important column whose suppression
    alone reaches k is suppressed, otherwise the least important column in which it differs
    from its nearest records (sdcMicro's rule); finally every suppression that is not needed
    is undone, most important columns first. The result is verified to be k-anonymous.
    ``method="exact"`` finds a minimum number of suppressed cells (ties broken by importance:
    fewest cells in the most important column first) by exhaustive search; it is exponential and
    refused above ``max_exact_cells`` candidate cells. Both methods, like sdcMicro, suppress only
    cells of records that violate k at the start (suppressing a safe record so that it "covers"
    a risky one would leave the risky record's values published in full).
    """

    qis: tuple[str, ...]
    k: int = 2
    importance: tuple[str, ...] | None = None
    method: str = "greedy"
    max_exact_cells: int = 20
    kind: ClassVar[str] = "local_suppression"

    def __post_init__(self) -> None:
        object.__setattr__(self, "qis", _as_columns(self.qis, "qis"))
        _check_k(self.k)
        if self.importance is not None:
            imp = _as_columns(self.importance, "importance")
            if sorted(imp) != sorted(self.qis):
                raise ParameterError(
                    "importance",
                    list(imp),
                    f"the quasi-identifiers {list(self.qis)} in order of importance",
                )
            object.__setattr__(self, "importance", imp)
        if self.method not in ("greedy", "exact"):
            raise ParameterError("method", self.method, "'greedy' or 'exact'")

    def columns_used(self) -> tuple[str, ...]:
        return self.qis

    def resolved_importance(self, df: pd.DataFrame) -> tuple[str, ...]:
        """Importance order used: the given one, or fewer categories = more important."""
        if self.importance is not None:
            return self.importance
        n_cat = {c: int(df[c].nunique(dropna=True)) for c in self.qis}
        return tuple(sorted(self.qis, key=lambda c: n_cat[c]))

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        if 0 < len(active) < self.k:
            raise ParameterError("k", self.k, f"at most the number of records ({len(active)})")
        importance = self.resolved_importance(df)
        rank = np.array([importance.index(c) for c in self.qis])  # 0 = most important
        codes = _encode_wildcard(df.iloc[active], self.qis)
        before = codes < 0
        if self.method == "exact":
            new_codes = _exact_local_suppression(codes, self.k, rank, self.max_exact_cells)
        else:
            new_codes = _greedy_local_suppression(codes, self.k, rank)
        fk = wildcard_frequencies(new_codes)
        if len(fk) and fk.min() < self.k:  # pragma: no cover - guarded by construction
            raise AssertionError("local suppression did not reach k")
        newly = (new_codes < 0) & ~before
        full = np.zeros((len(df), len(self.qis)), dtype=bool)
        full[active] = newly
        for j, col in enumerate(self.qis):
            _set_star(df, full[:, j], [col])
        per_col = {c: int(full[:, j].sum()) for j, c in enumerate(self.qis)}
        return (
            {
                "importance": list(importance),
                "method": self.method,
                "suppressed_per_column": per_col,
                "cells_suppressed": int(full.sum()),
                "records_with_suppression": int(full.any(axis=1).sum()),
                "min_fk": int(fk.min()) if len(fk) else None,
            },
            np.zeros(len(df), dtype=bool),
        )


class _PatternTable:
    """Distinct key patterns with multiplicities and their wildcard frequencies, kept current.

    Patterns are stored column-major (``cols[c, :size]``) so that the compatibility of one row
    with every pattern is a few vector operations per known column.
    """

    def __init__(self, codes: np.ndarray) -> None:
        uniq, first, inv, counts = np.unique(
            codes, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        self.m = codes.shape[1]
        self.size = len(uniq)
        cap = max(16, 2 * self.size)
        self.cols = np.full((self.m, cap), -1, dtype=np.int64)
        self.cols[:, : self.size] = uniq.T
        self.counts = np.zeros(cap, dtype=np.int64)
        self.counts[: self.size] = counts
        self.record = inv.reshape(-1).astype(np.int64)
        self.index = {tuple(r): i for i, r in enumerate(uniq.tolist())}
        self.fk = np.zeros(cap, dtype=np.int64)
        self.fk[: self.size] = wildcard_frequencies(codes)[first]

    def row(self, i: int) -> np.ndarray:
        return self.cols[:, i].copy()

    def compat(self, i: int, row: np.ndarray | None = None) -> np.ndarray:
        """Boolean per pattern (first ``size``): compatible with pattern ``i`` or ``row``."""
        v = self.cols[:, i] if row is None else row
        ok = np.ones(self.size, dtype=bool)
        for c in range(self.m):
            if v[c] >= 0:
                col = self.cols[c, : self.size]
                ok &= (col == v[c]) | (col < 0)
        return ok

    def mismatches(self, v: np.ndarray) -> np.ndarray:
        """``(size, m)`` bool: pattern and ``v`` both known and different in that column."""
        mis = np.zeros((self.size, self.m), dtype=bool)
        for c in range(self.m):
            if v[c] >= 0:
                col = self.cols[c, : self.size]
                mis[:, c] = (col != v[c]) & (col >= 0)
        return mis

    def _pattern(self, row: np.ndarray) -> int:
        t = tuple(int(x) for x in row)
        i = self.index.get(t)
        if i is None:
            if self.size == self.cols.shape[1]:
                grow = self.cols.shape[1]
                self.cols = np.concatenate([self.cols, np.full((self.m, grow), -1, np.int64)], 1)
                self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
                self.fk = np.concatenate([self.fk, np.zeros(grow, np.int64)])
            i = self.size
            self.cols[:, i] = row
            self.size += 1
            self.index[t] = i
            self.fk[i] = int(self.compat(i) @ self.counts[: self.size])
        return i

    def move(self, src: int, dst_row: np.ndarray, records: np.ndarray) -> int:
        """Move ``records`` (all currently in pattern ``src``) to the pattern ``dst_row``."""
        dst = self._pattern(dst_row)
        x = len(records)
        c_src, c_dst = self.compat(src), self.compat(dst)
        self.fk[: self.size] += x * (c_dst.astype(np.int64) - c_src.astype(np.int64))
        self.counts[src] -= x
        self.counts[dst] += x
        self.record[records] = dst
        return dst

    def codes(self) -> np.ndarray:
        return self.cols[:, self.record].T.copy()


def _greedy_local_suppression(codes: np.ndarray, k: int, rank: np.ndarray) -> np.ndarray:
    n, m = codes.shape
    if n == 0 or m == 0:
        return codes.copy()
    t = _PatternTable(codes)
    least_first = np.argsort(-rank, kind="stable")  # least important column first
    order = np.argsort(t.fk[: t.size], kind="stable")
    for p in order:
        p = int(p)
        while t.counts[p] > 0 and t.fk[p] < k:
            v = t.row(p)
            known = v >= 0
            mis = t.mismatches(v)
            nmis = mis.sum(axis=1)
            counts = t.counts[: t.size]
            live = counts > 0
            base = int(counts[live & (nmis == 0)].sum())
            one = live & (nmis == 1)
            col = None
            for c in least_first:
                if known[c] and base + int(counts[one & mis[:, c]].sum()) >= k:
                    col = int(c)
                    break
            if col is None:
                far = live & (nmis > 0)
                if far.any():
                    near = far & (nmis == nmis[far].min())
                    cand = mis[near].any(axis=0)
                    col = next(int(c) for c in least_first if cand[c])
                else:  # pragma: no cover - only when k > n, refused earlier
                    col = next(int(c) for c in least_first if known[c])
            v[col] = -1
            p = t.move(p, v, np.flatnonzero(t.record == p))
    _prune(t, codes, k, rank)
    return t.codes()


def _prune(t: _PatternTable, original: np.ndarray, k: int, rank: np.ndarray) -> None:
    """Undo suppressions that k-anonymity does not need, most important columns first.

    Restoring cell ``(i, c)`` makes record ``i`` more specific: records that matched it only
    through the wildcard lose one from their ``fk``, and ``i``'s own ``fk`` becomes the number
    of records matching the restored row. The cell is restored when both stay ``>= k``.
    """
    suppressed = np.argwhere((t.codes() < 0) & (original >= 0))
    if len(suppressed) == 0:
        return
    order = np.lexsort((suppressed[:, 0], rank[suppressed[:, 1]]))
    for i, c in suppressed[order]:
        src = int(t.record[i])
        row = t.row(src)
        row[c] = original[i, c]
        live = t.counts[: t.size] > 0
        c_new = t.compat(src, row)
        lose = t.compat(src) & ~c_new & live
        if np.any(t.fk[: t.size][lose] - 1 < k):
            continue
        if int(t.counts[: t.size][c_new & live].sum()) < k:  # i itself is counted through src
            continue
        t.move(src, row, np.array([i]))


def _exact_local_suppression(
    codes: np.ndarray, k: int, rank: np.ndarray, max_cells: int
) -> np.ndarray:
    n, m = codes.shape
    risky = wildcard_frequencies(codes) < k if n else np.zeros(0, dtype=bool)
    cells = [(i, c) for i in range(n) for c in range(m) if risky[i] and codes[i, c] >= 0]
    if len(cells) > max_cells:
        raise ParameterError(
            "method",
            "exact",
            f"at most max_exact_cells={max_cells} known cells (got {len(cells)}); "
            "use method='greedy'",
        )
    if not risky.any():
        return codes.copy()
    m_rank = int(rank.max()) + 1 if m else 0
    for size in range(1, len(cells) + 1):
        best = None
        best_key = None
        for combo in itertools.combinations(cells, size):
            trial = codes.copy()
            for i, c in combo:
                trial[i, c] = -1
            if wildcard_frequencies(trial).min() >= k:
                per_rank = [0] * m_rank
                for _, c in combo:
                    per_rank[int(rank[c])] += 1
                key = (tuple(per_rank), combo)  # fewest cells in the most important columns
                if best_key is None or key < best_key:
                    best, best_key = trial, key
        if best is not None:
            return best
    return np.full_like(codes, -1)  # pragma: no cover - all cells suppressed always works
