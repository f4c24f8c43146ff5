"""Which attributes make people unique: uniqueness of every subset of the quasi-identifiers.

An attacker rarely knows every quasi-identifier. Each subset of the QIs is one "the attacker
knows only these attributes" scenario; this module measures, for each, how many records it
singles out, and finds the smallest subsets that already single out a target share.

Measures per subset ``S`` with class sizes ``f`` (records sharing the same values on ``S``) over
``n`` records:

* **uniqueness**: share of records alone in their class (``f = 1``), i.e. sample uniques.
* **distinction** (Motwani & Xu 2007, "distinct ratio"): distinct combinations / records.
* **separation** (Motwani & Xu 2007, "separation ratio"): share of record pairs that differ on
  ``S``: ``1 - sum f (f - 1) / (n (n - 1))`` (1.0 when there are fewer than two records).

Uniqueness, distinction and separation can only grow when attributes are added, which is what
makes "minimal subsets reaching the target" well defined.

References
----------
Motwani, Xu (2007). Efficient algorithms for masking and finding quasi-identifiers. SDM 2007 /
VLDB workshop on privacy (PDM).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from .._lazy import lazy_module
from ..errors import ParameterError

pd = lazy_module("pandas")

__all__ = ["SubsetStat", "SubsetResult", "qi_subsets"]


# --------------------------------------------------------------------------------------------
# group-by helpers (shared with workbench.risk.suda)
# --------------------------------------------------------------------------------------------


def _dense_column(col: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes ``0..card-1`` for one column (order-preserving), and ``card``."""
    if col.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    if col.dtype.kind in "iub":
        lo, hi = int(col.min()), int(col.max())
        if lo >= 0 and hi < 8 * col.size + 4096:
            present = np.bincount(col.astype(np.int64), minlength=hi + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[col].astype(np.int64), int(remap[-1] + 1)
    if col.dtype.kind == "O":  # strings with None / NaN: order is irrelevant here
        codes, uniq = pd.factorize(col, use_na_sentinel=False)
        return codes.astype(np.int64), int(len(uniq))
    uniq, inv = np.unique(col, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), int(uniq.size)


def _dense_codes(codes: Any, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Validate an ``(n, m)`` table and return dense int64 codes and column cardinalities."""
    arr = np.asarray(codes)
    if arr.ndim == 1 and len(columns) == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ParameterError(
            "codes", f"array of shape {arr.shape}", "a two-dimensional (records x columns) array"
        )
    if arr.shape[1] != len(columns):
        raise ParameterError(
            "columns", list(columns), f"{arr.shape[1]} names, one per column of codes"
        )
    if len(set(columns)) != len(columns):
        raise ParameterError("columns", list(columns), "distinct column names")
    out = np.zeros(arr.shape, dtype=np.int64)
    cards = np.zeros(arr.shape[1], dtype=np.int64)
    for j in range(arr.shape[1]):
        out[:, j], cards[j] = _dense_column(arr[:, j])
    return out, cards


def _regroup(
    gid: np.ndarray, n_groups: int, col: np.ndarray, card: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, int, np.ndarray]:
    """Refine a grouping by one more column.

    Returns new dense group ids, their number and each group's size (sum of ``weights`` if
    given). A bincount over ``gid * card + col`` when that range is small, a sort otherwise.
    """
    key = gid.astype(np.int64, copy=False) * card + col
    span = n_groups * card
    if span <= 8 * key.size + 4096:
        if weights is None:
            cnt = np.bincount(key, minlength=span)
        else:
            cnt = np.bincount(key, weights=weights, minlength=span)
        present = cnt > 0
        remap = np.cumsum(present) - 1
        sizes = cnt[present]
        return remap[key], int(sizes.size), sizes.astype(np.int64)
    uniq, inv, sizes = np.unique(key, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    if weights is not None:
        sizes = np.bincount(inv, weights=weights, minlength=uniq.size)
    return inv.astype(np.int64), int(uniq.size), sizes.astype(np.int64)


def _group_all(dense: np.ndarray, cards: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Group records on all columns: (group id per record, number of groups, sizes)."""
    n = dense.shape[0]
    gid = np.zeros(n, dtype=np.int64)
    n_groups, sizes = (1 if n else 0), np.array([n] if n else [], dtype=np.int64)
    for j in range(dense.shape[1]):
        gid, n_groups, sizes = _regroup(gid, n_groups, dense[:, j], int(cards[j]))
    return gid, n_groups, sizes


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetStat:
    """Re-identification power of one attribute subset."""

    columns: tuple[str, ...]
    n_unique: int
    uniqueness: float
    n_classes: int
    distinction: float
    separation: float

    @property
    def size(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "size": self.size,
            "n_unique": self.n_unique,
            "uniqueness": self.uniqueness,
            "n_classes": self.n_classes,
            "distinction": self.distinction,
            "separation": self.separation,
        }


@dataclass(frozen=True)
class SubsetResult:
    """Uniqueness of QI subsets, ranked, with the smallest subsets reaching ``target``.

    Attributes
    ----------
    subsets : tuple of SubsetStat
        Every evaluated subset, ranked by uniqueness (desc), then size (asc), then separation.
    capped : bool
        True when not every subset was evaluated (see ``reason``).
    max_size_evaluated : int
        All subsets up to this size were evaluated (the full QI set is always added).
    best_by_size : tuple of SubsetStat
        The most identifying subset of each evaluated size.
    smallest_size_reaching_target : int or None
        Smallest size whose best subset makes at least ``target`` of the records unique.
    minimal_subsets : tuple of SubsetStat
        Subsets reaching ``target`` none of whose evaluated proper subsets reaches it.
    """

    columns: tuple[str, ...]
    n_records: int
    target: float
    subsets: tuple[SubsetStat, ...]
    capped: bool
    reason: str | None
    max_size_evaluated: int
    best_by_size: tuple[SubsetStat, ...]
    smallest_size_reaching_target: int | None
    minimal_subsets: tuple[SubsetStat, ...]

    def get(self, columns: Sequence[str]) -> SubsetStat | None:
        """The statistics of one subset (any column order), or None if not evaluated."""
        want = frozenset(columns)
        for s in self.subsets:
            if frozenset(s.columns) == want:
                return s
        return None

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready summary; ``top`` limits the ranked list (None = all evaluated)."""
        ranked = self.subsets if top is None else self.subsets[:top]
        return {
            "measure": "qi-subset uniqueness",
            "reference": "Motwani & Xu 2007 (distinction, separation)",
            "columns": list(self.columns),
            "records": self.n_records,
            "target": self.target,
            "evaluated": len(self.subsets),
            "capped": self.capped,
            "reason": self.reason,
            "max_size_evaluated": self.max_size_evaluated,
            "smallest_size_reaching_target": self.smallest_size_reaching_target,
            "minimal_subsets": [s.to_dict() for s in self.minimal_subsets],
            "best_by_size": [s.to_dict() for s in self.best_by_size],
            "subsets": [s.to_dict() for s in ranked],
        }


# --------------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------------


def _plan(m: int, max_subsets: int) -> tuple[int, bool, str | None]:
    """Largest size s such that all subsets of size <= s (plus the full set) fit the cap."""
    total = 2**m - 1
    if total <= max_subsets:
        return m, False, None
    s, count = 0, 0
    while s < m and count + math.comb(m, s + 1) + 1 <= max_subsets:
        s += 1
        count += math.comb(m, s)
    if s == 0:
        s, count = 1, m
        return (
            s,
            True,
            (
                f"{m} quasi-identifiers give {total} subsets; even the {m} single attributes plus "
                f"the full set exceed max_subsets={max_subsets}, so only those {m + 1} were "
                "evaluated"
            ),
        )
    return (
        s,
        True,
        (
            f"{m} quasi-identifiers give {total} subsets, more than max_subsets={max_subsets}; "
            f"evaluated all {count} subsets of size <= {s} plus the full set"
        ),
    )


def _stat(names: tuple[str, ...], sizes: np.ndarray, n: int) -> SubsetStat:
    n_unique = int((sizes == 1).sum())
    pairs = float((sizes * (sizes - 1)).sum())
    separation = 1.0 - pairs / (n * (n - 1)) if n >= 2 else 1.0
    return SubsetStat(
        columns=names,
        n_unique=n_unique,
        uniqueness=n_unique / n if n else 0.0,
        n_classes=int(sizes.size),
        distinction=sizes.size / n if n else 0.0,
        separation=separation,
    )


def qi_subsets(
    codes: Any,
    columns: Sequence[str],
    max_subsets: int = 1024,
    target: float = 0.5,
    counts: Any = None,
) -> SubsetResult:
    """Uniqueness, distinction and separation for every subset of the quasi-identifiers.

    Parameters
    ----------
    codes : array of shape (n_records, n_columns)
        Quasi-identifier values (integer codes; missing already coded as its own value).
    columns : sequence of str
        Names of the columns of ``codes``.
    max_subsets : int
        Cap on evaluated subsets. With more than ``max_subsets`` subsets, all subsets up to the
        largest size that fits are evaluated, plus the full set; ``capped`` and ``reason`` say
        so.
    target : float
        Share of records that counts as "most records singled out" (0 < target <= 1).
    counts : array of int, optional
        Multiplicity of each row of ``codes`` (e.g. an equivalence-class table); default 1.

    Examples
    --------
    >>> r = qi_subsets([[0, 0], [0, 1], [1, 1]], ["sex", "zip"])
    >>> [(s.columns, s.n_unique) for s in r.subsets]
    [(('sex', 'zip'), 3), (('sex',), 1), (('zip',), 1)]
    >>> r.minimal_subsets[0].columns
    ('sex', 'zip')
    """
    if (
        isinstance(max_subsets, bool)
        or not isinstance(max_subsets, numbers.Integral)
        or max_subsets < 1
    ):
        raise ParameterError("max_subsets", max_subsets, "an integer >= 1")
    if not isinstance(target, numbers.Real) or not 0 < target <= 1:
        raise ParameterError("target", target, "a share in (0, 1]")
    columns = tuple(str(c) for c in columns)
    dense, cards = _dense_codes(codes, columns)
    rows, m = dense.shape
    weights = None
    n = rows
    if counts is not None:
        mult = np.asarray(counts)
        if mult.shape != (rows,) or (mult.size and (mult.dtype.kind not in "iu" or mult.min() < 1)):
            raise ParameterError(
                "counts",
                f"array of shape {mult.shape}",
                f"{rows} positive integer multiplicities, one per row of codes",
            )
        weights = mult.astype(float)
        n = int(mult.sum())
    s_max, capped, reason = _plan(m, int(max_subsets))

    stats: dict[tuple[int, ...], SubsetStat] = {}
    # depth-first over subsets in lexicographic order; each child refines its parent's groups,
    # so memory stays O(depth * n)
    stack: list[tuple[tuple[int, ...], np.ndarray, int]] = [((), np.zeros(rows, np.int64), 1)]
    while stack:
        idx, gid, n_groups = stack.pop()
        start = idx[-1] + 1 if idx else 0
        for j in range(m - 1, start - 1, -1):  # reversed so pops come out in order
            child = (*idx, j)
            new_gid, new_n, sizes = _regroup(gid, n_groups, dense[:, j], int(cards[j]), weights)
            stats[child] = _stat(tuple(columns[i] for i in child), sizes, n)
            if len(child) < s_max:
                stack.append((child, new_gid, new_n))
    if m and s_max < m:
        gid, n_groups = np.zeros(rows, np.int64), 1
        for j in range(m):
            gid, n_groups, sizes = _regroup(gid, n_groups, dense[:, j], int(cards[j]), weights)
        stats[tuple(range(m))] = _stat(columns, sizes, n)

    def rank_key(item: tuple[tuple[int, ...], SubsetStat]):
        idx, st = item
        return (-st.uniqueness, len(idx), -st.separation, idx)

    ranked = sorted(stats.items(), key=rank_key)
    best: dict[int, SubsetStat] = {}
    for idx, st in ranked:
        best.setdefault(len(idx), st)
    best_by_size = tuple(best[k] for k in sorted(best))
    reaching = [k for k in sorted(best) if best[k].uniqueness >= target]
    smallest = reaching[0] if reaching else None

    hits = {idx for idx, st in stats.items() if st.uniqueness >= target}
    minimal = []
    for idx, st in ranked:
        if idx not in hits:
            continue
        lower = [sub for sub in combinations(idx, len(idx) - 1) if sub]
        if all(sub in stats for sub in lower):
            is_min = not any(sub in hits for sub in lower)
        else:  # full set beyond the cap: compare with every evaluated proper subset
            mine = set(idx)
            is_min = not any(set(h) < mine for h in hits)
        if is_min:
            minimal.append(st)
    return SubsetResult(
        columns=columns,
        n_records=n,
        target=float(target),
        subsets=tuple(st for _, st in ranked),
        capped=capped,
        reason=reason,
        max_size_evaluated=s_max if m else 0,
        best_by_size=best_by_size,
        smallest_size_reaching_target=smallest,
        minimal_subsets=tuple(minimal),
    )
