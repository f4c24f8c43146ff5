"""SUDA: special uniques, found through their minimal sample uniques (MSUs).

A record is a *sample unique* on an attribute subset when no other record shares its values on
that subset. A *minimal* sample unique (MSU) is such a subset none of whose proper subsets is
already unique for the record. Few, small MSUs mean that an attacker needs to know little about
the person: the record is a "special unique" (Elliot et al. 2002/2005).

Scores follow sdcMicro's ``suda2()`` (C++ ``src/Suda2.h``, default ``original_scores=TRUE``):

* an MSU of size ``k`` among ``M`` key variables scores ``(M - k)!`` and a record's SUDA score is
  the sum over its MSUs (sdcMicro's ``g_ab[k-1] = prod_{j=k}^{M-1} (M - j)``). With
  ``score_weights="ihsn"`` the weights of the original IHSN implementation
  (``original_scores=FALSE``) are used: ``(2^(M-k) - 1) * k! * (M-k)! / M!``.
* DIS-SUDA (sdcMicro's formula): with ``U`` records unique on all keys, ``P`` records in
  key combinations shared by exactly two records and sampling fraction ``f``::

      Dis = U f / (U f + P (1 - f))
      Q   = 1 + (8 - M) / 20
      A   = sum over records with score > 0 of score^(-Q)
      dis_i = 1 / (1 + (U / Dis - U) / (score_i^Q * A))      (0 when score_i = 0)

  ``U / Dis - U = P (1 - f) / f``, so ``U`` cancels. (sdcMicro counts ``U`` only for records
  alone in their 16-bit hash bucket; because ``U`` cancels this artefact changes nothing unless
  that count is 0, where sdcMicro divides 0 by 0. It also computes ``Q`` and ``Dis`` in single
  precision, so its DIS scores differ from ours in the 7th significant digit.)
* The contribution of a variable is the share (in %) of the total SUDA score that comes from
  MSUs containing it (sdcMicro's ``attribute_contributions``); shares add up to more than 100
  because an MSU of size ``k`` counts for each of its ``k`` variables.

sdcMicro pads data with fewer than 3 keys with constant dummy columns, which changes ``M`` in
the weights; here ``M`` is always the number of keys given.

Algorithm. SUDA2 (Manning, Haglin & Keane 2008) searches item sets depth-first in C++. In numpy
a level-wise (Apriori-style) search over *column* subsets vectorises well and gives the same MSUs:
records are first collapsed to distinct rows with multiplicities; for a subset ``S`` of size
``k`` only rows that are non-unique on every ``(k-1)``-subset can hold an MSU on ``S`` and only
those rows can share their values on ``S`` with such a row, so ``S`` is grouped over that
intersection only (bincount on packed codes), and ``S`` is never visited when one of its
``(k-1)``-subsets has no candidate holder left. ``suda2_reference`` is the obvious
enumeration used to check it. The work still grows with the number of column subsets: Adult's
8 keys take about 0.1 s, sdcMicro's ``free1`` (4,000 records) with 14 keys a few seconds; use
``max_size`` for many keys (see ``bench/suda.py``).

References
----------
Elliot, Manning, Mayes, Gurd, Bane (2005). SUDA: a program for detecting special uniques.
Joint UNECE/Eurostat work session on statistical data confidentiality.

Manning, Haglin, Keane (2008). A recursive search algorithm for statistical disclosure
assessment. Data Mining and Knowledge Discovery 16:165-196.

Templ, Kowarik, Meindl. sdcMicro (R package), ``suda2()`` and ``src/Suda2.h``.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np

from ..errors import ParameterError
from .subsets import _dense_codes, _group_all, _regroup

__all__ = ["SudaResult", "suda2", "suda2_reference"]

ScoreWeights = Literal["elliot", "ihsn"]
# Largest memory the level-wise search may hold for one level's live column subsets.
_MEMORY_BUDGET = 2 * 2**30
# sdcMicro's print.suda2 table of DIS-SUDA scores
_DIS_BINS = (
    "== 0",
    "(0.0, 0.1]",
    "(0.1, 0.2]",
    "(0.2, 0.3]",
    "(0.3, 0.4]",
    "(0.4, 0.5]",
    "(0.5, 0.6]",
    "(0.6, 0.7]",
    "> 0.7",
)


@dataclass(frozen=True, eq=False)
class SudaResult:
    """MSUs, SUDA and DIS-SUDA scores per record, and each variable's contribution.

    Attributes
    ----------
    columns : tuple of str
        Key variables, in the order of the columns of ``codes``.
    max_size : int
        Largest MSU size searched.
    scores : numpy.ndarray
        SUDA score per record (0 for records without MSU).
    dis_scores : numpy.ndarray
        DIS-SUDA score per record (an estimate of the probability that a match is correct).
    msu_counts : numpy.ndarray
        ``(n_records, max_size)``: number of MSUs of each size per record.
    record_contributions : numpy.ndarray
        ``(n_records, n_columns)``: share of the record's score from MSUs containing each
        variable (sdcMicro's ``contributionPercent``, as a fraction).
    attribute_contributions : dict of str to float
        Share (%) of the total score from MSUs containing each variable.
    msu_by_subset : dict of tuple to int
        Number of records having each column subset as an MSU.
    sample_uniques : int
        Records unique on all key variables (``U`` above).
    records_in_pairs : int
        Records whose full key is shared by exactly one other record (``P`` above).
    """

    columns: tuple[str, ...]
    max_size: int
    dis_fraction: float
    score_weights: str
    scores: np.ndarray
    dis_scores: np.ndarray
    msu_counts: np.ndarray
    record_contributions: np.ndarray = field(repr=False)
    attribute_contributions: dict[str, float] = field(default_factory=dict)
    msu_by_subset: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)
    sample_uniques: int = 0
    records_in_pairs: int = 0

    @property
    def n_records(self) -> int:
        return int(self.scores.size)

    @property
    def n_msus(self) -> int:
        return int(self.msu_counts.sum())

    def dis_table(self) -> dict[str, int]:
        """Records per DIS-SUDA interval, as sdcMicro's ``print.suda2``."""
        d = self.dis_scores
        eps = np.finfo(float).eps
        edges = np.arange(0.0, 0.71, 0.1) + eps
        counts = np.histogram(d, bins=np.concatenate([[-1.0], edges, [np.inf]]))[0]
        return dict(zip(_DIS_BINS, (int(c) for c in counts), strict=True))

    def to_dict(self, per_record: bool = False, top_subsets: int = 20) -> dict[str, Any]:
        """JSON-ready summary; ``per_record`` adds the per-record score arrays."""
        with_msu = self.msu_counts.sum(axis=1) > 0 if self.n_records else np.zeros(0, bool)
        top = sorted(self.msu_by_subset.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
        out: dict[str, Any] = {
            "measure": "SUDA2",
            "reference": "Elliot et al. 2005; Manning, Haglin & Keane 2008; sdcMicro suda2()",
            "columns": list(self.columns),
            "records": self.n_records,
            "max_size": self.max_size,
            "dis_fraction": self.dis_fraction,
            "score_weights": self.score_weights,
            "msus": self.n_msus,
            "msus_by_size": [int(x) for x in self.msu_counts.sum(axis=0)],
            "records_with_msu": int(with_msu.sum()),
            "sample_uniques": self.sample_uniques,
            "records_in_pairs": self.records_in_pairs,
            "score_max": float(self.scores.max()) if self.n_records else 0.0,
            "score_mean": float(self.scores.mean()) if self.n_records else 0.0,
            "dis_score_max": float(self.dis_scores.max()) if self.n_records else 0.0,
            "dis_score_mean": float(self.dis_scores.mean()) if self.n_records else 0.0,
            "dis_table": self.dis_table(),
            "attribute_contributions": dict(self.attribute_contributions),
            "top_msu_subsets": [{"columns": list(k), "records": v} for k, v in top[:top_subsets]],
        }
        if per_record:
            out["scores"] = self.scores.tolist()
            out["dis_scores"] = self.dis_scores.tolist()
            out["msu_counts"] = self.msu_counts.tolist()
        return out


# --------------------------------------------------------------------------------------------
# parameters and scoring shared by the fast search and the reference
# --------------------------------------------------------------------------------------------


def suda2_memory(n_records: int, n_columns: int, max_size: int | None = None) -> int:
    """Estimated peak bytes of :func:`suda2` through a risk profile, before running it.

    Worst case (every record distinct): per record the profile's codes and class ids, the dense
    codes, distinct rows, MSU counts and contributions (per distinct row and per record), the
    scores, and the masks and group ids (5 bytes) of the two widest lattice levels alive at
    once. Conservative: 607 bytes per record for 6 QIs against 478 measured (peak increase of
    ``workbench assess --suda`` at 1M near-unique records); 50M records need about 30 GB.
    """
    m = int(n_columns)
    k = m if max_size is None else max(1, min(int(max_size), m))
    arrays = 8 * (6 * m + 2 * k + 6)
    levels = max(
        (math.comb(m, j) + (math.comb(m, j + 1) if j < k else 0) for j in range(1, k + 1)),
        default=0,
    )
    return int(n_records) * (arrays + 5 * levels)


def _check_params(
    columns: Sequence[str], max_size: Any, dis_fraction: Any, score_weights: Any
) -> tuple[tuple[str, ...], int]:
    cols = tuple(str(c) for c in columns)
    m = len(cols)
    if max_size is None:
        k = m
    elif isinstance(max_size, bool) or not isinstance(max_size, numbers.Integral) or max_size < 1:
        raise ParameterError("max_size", max_size, "None (all sizes) or an integer >= 1")
    else:
        k = min(int(max_size), m)
    if not isinstance(dis_fraction, numbers.Real) or not 0 < dis_fraction < 1:
        raise ParameterError("dis_fraction", dis_fraction, "a sampling fraction in (0, 1)")
    if score_weights not in ("elliot", "ihsn"):
        raise ParameterError("score_weights", score_weights, "'elliot' or 'ihsn'")
    return cols, k


def _weights(m: int, k_max: int, kind: str) -> np.ndarray:
    """Score of one MSU of each size 1..k_max (sdcMicro's ``g_ab``)."""
    out = np.zeros(k_max)
    for k in range(1, k_max + 1):
        if kind == "elliot":
            out[k - 1] = float(math.factorial(m - k))
        else:
            out[k - 1] = (
                (2.0 ** (m - k) - 1) * math.factorial(k) * math.factorial(m - k) / math.factorial(m)
            )
    return out


def _dis_scores(scores: np.ndarray, m: int, uniques: int, pairs: int, f: float) -> np.ndarray:
    out = np.zeros_like(scores, dtype=float)
    pos = scores > 0
    if not pos.any() or uniques == 0:
        return out
    q = 1.0 + (8.0 - m) / 20.0
    powered = scores[pos] ** q
    adj = float((1.0 / powered).sum())
    excess = pairs * (1.0 - f) / f  # = U / Dis - U with Dis = U f / (U f + P (1 - f))
    out[pos] = 1.0 / (1.0 + excess / (powered * adj))
    return out


def _assemble(
    cols: tuple[str, ...],
    k_max: int,
    f: float,
    kind: str,
    msu: np.ndarray,
    contrib_raw: np.ndarray,
    by_subset: dict[tuple[int, ...], int],
    uniques: int,
    pairs: int,
) -> SudaResult:
    m = len(cols)
    w = _weights(m, k_max, kind)
    scores = msu @ w if msu.size else np.zeros(msu.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        rec_contrib = np.where(scores[:, None] > 0, contrib_raw / scores[:, None], 0.0)
    total = float(scores.sum())
    col_totals = contrib_raw.sum(axis=0) if contrib_raw.size else np.zeros(m)
    attr = {
        c: (100.0 * float(col_totals[j]) / total if total > 0 else 0.0) for j, c in enumerate(cols)
    }
    named = {tuple(cols[i] for i in s): int(v) for s, v in by_subset.items() if v}
    return SudaResult(
        columns=cols,
        max_size=k_max,
        dis_fraction=float(f),
        score_weights=kind,
        scores=scores,
        dis_scores=_dis_scores(scores, m, uniques, pairs, f),
        msu_counts=msu,
        record_contributions=rec_contrib,
        attribute_contributions=attr,
        msu_by_subset=named,
        sample_uniques=int(uniques),
        records_in_pairs=int(pairs),
    )


def _missing_mask(codes: Any, missing_code: Any) -> np.ndarray | None:
    if missing_code is None:
        return None
    return np.asarray(codes) == missing_code


# --------------------------------------------------------------------------------------------
# fast level-wise search
# --------------------------------------------------------------------------------------------


def suda2(
    codes: Any,
    columns: Sequence[str],
    max_size: int | None = None,
    dis_fraction: float = 0.01,
    *,
    missing_code: Any = None,
    score_weights: ScoreWeights = "elliot",
) -> SudaResult:
    """All minimal sample uniques per record, SUDA and DIS-SUDA scores.

    Parameters
    ----------
    codes : array of shape (n_records, n_columns)
        Key variable values (integer codes; missing already coded as its own value).
    columns : sequence of str
        Names of the key variables.
    max_size : int, optional
        Largest MSU size searched (default: all). Scores then sum only the MSUs found; the
        original SUDA divides every weight by ``(M - max_size)!``, a constant factor that leaves
        DIS-SUDA unchanged.
    dis_fraction : float
        Sampling fraction for DIS-SUDA (sdcMicro's ``DisFraction``, default 0.01).
    missing_code : optional
        A code that never forms part of an MSU (sdcMicro's ``missing`` argument). By default
        missing values are an ordinary category.
    score_weights : {"elliot", "ihsn"}
        ``(M - k)!`` (sdcMicro default) or the IHSN weights.

    Examples
    --------
    >>> r = suda2([[2, 0, 0], [1, 3, 6], [1, 0, 0]], ["a", "b", "c"])
    >>> r.scores.tolist()   # MSUs: {a}; {b}, {c}; {a,b}, {a,c} with weights 2! and 1!
    [2.0, 4.0, 2.0]
    >>> r.attribute_contributions
    {'a': 50.0, 'b': 37.5, 'c': 37.5}
    """
    cols, k_max = _check_params(columns, max_size, dis_fraction, score_weights)
    missing = _missing_mask(codes, missing_code)
    dense, cards = _dense_codes(codes, cols)
    n, m = dense.shape

    row_gid, n_d, mult = _group_all(dense, cards)
    rep = np.zeros(n_d, dtype=np.int64)
    rep[row_gid] = np.arange(n)
    data = dense[rep]
    miss = missing[rep] if missing is not None else None
    holder = mult == 1
    holder_f = holder.astype(float)
    weights_f = mult.astype(float)
    uniques = int(holder.sum())
    pairs = 2 * int((mult == 2).sum())

    msu = np.zeros((n_d, k_max), dtype=np.int64)
    contrib = np.zeros((n_d, m))
    w = _weights(m, k_max, score_weights)
    by_subset: dict[tuple[int, ...], int] = {}

    def record(subset: tuple[int, ...], rows: np.ndarray) -> None:
        if miss is not None and rows.size:
            rows = rows[~miss[np.ix_(rows, subset)].any(axis=1)]
        if rows.size:
            msu[rows, len(subset) - 1] += 1
            for c in subset:
                contrib[rows, c] += w[len(subset) - 1]
            by_subset[subset] = int(rows.size)

    # level 1: every distinct row is a candidate
    live: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, int]] = {}
    for c in range(m if k_max >= 1 else 0):
        col, card = data[:, c], int(cards[c])
        sizes = np.bincount(col, weights=weights_f, minlength=card)
        f = sizes[col]
        record((c,), np.flatnonzero(f == 1))
        with_holder = np.bincount(col, weights=holder_f, minlength=card) > 0
        keep = (f >= 2) & with_holder[col]
        if k_max > 1 and (keep & holder).any():
            live[(c,)] = (keep, col, card)

    for k in range(2, k_max + 1):
        nxt: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, int]] = {}
        held = 0  # bytes kept for the next level: a mask (1 B) and a group id (4 B) per row
        for parent in sorted(live):
            keep_p, gid_p, ng_p = live[parent]
            for c in range(parent[-1] + 1, m):
                subset = (*parent, c)
                cand = keep_p
                ok = True
                for drop in range(k - 1):  # the other (k-1)-subsets must be live too
                    other = subset[:drop] + subset[drop + 1 :]
                    entry = live.get(other)
                    if entry is None:
                        ok = False
                        break
                    cand = cand & entry[0]
                if not ok or not (cand & holder).any():
                    continue
                rows = np.flatnonzero(cand)
                gid, ng, sizes = _regroup(
                    gid_p[rows], ng_p, data[rows, c], int(cards[c]), weights=weights_f[rows]
                )
                f = sizes[gid]
                record(subset, rows[f == 1])
                if k == k_max:
                    continue
                with_holder = np.bincount(gid, weights=holder_f[rows], minlength=ng) > 0
                stay = (f >= 2) & with_holder[gid]
                if not stay.any():
                    continue
                keep = np.zeros(n_d, dtype=bool)
                keep[rows[stay]] = True
                held += n_d * 5
                if held > _MEMORY_BUDGET:
                    raise ParameterError(
                        "max_size",
                        max_size,
                        f"a smaller maximum MSU size: the search for MSUs of size {k + 1} would "
                        f"hold over {_MEMORY_BUDGET // 2**30} GiB of group ids "
                        f"({len(nxt) + 1}+ column subsets x {n_d} distinct rows)",
                    )
                gid_full = np.zeros(n_d, dtype=np.int32)
                gid_full[rows] = gid
                nxt[subset] = (keep, gid_full, ng)
        live = nxt
        if not live:
            break

    return _assemble(
        cols,
        k_max,
        float(dis_fraction),
        score_weights,
        msu[row_gid],
        contrib[row_gid],
        by_subset,
        uniques,
        pairs,
    )


# --------------------------------------------------------------------------------------------
# slow obvious reference
# --------------------------------------------------------------------------------------------


def suda2_reference(
    codes: Any,
    columns: Sequence[str],
    max_size: int | None = None,
    dis_fraction: float = 0.01,
    *,
    missing_code: Any = None,
    score_weights: ScoreWeights = "elliot",
) -> SudaResult:
    """Enumerate every subset for every record; check uniqueness and minimality directly.

    Exponential and quadratic: for tests and benchmarks on small tables only.
    """
    cols, k_max = _check_params(columns, max_size, dis_fraction, score_weights)
    arr = np.asarray(codes)
    if arr.ndim != 2 or arr.shape[1] != len(cols):
        raise ParameterError(
            "codes", f"array of shape {arr.shape}", f"(records, {len(cols)}) values"
        )
    rows = [tuple(r) for r in arr.tolist()]
    n, m = arr.shape

    all_subsets = [s for k in range(1, m + 1) for s in combinations(range(m), k)]
    # unique[s][i]: is record i alone with its values on subset s?
    unique: dict[tuple[int, ...], list[bool]] = {}
    for s in all_subsets:
        counts = Counter(tuple(r[c] for c in s) for r in rows)
        unique[s] = [counts[tuple(r[c] for c in s)] == 1 for r in rows]

    msu = np.zeros((n, k_max), dtype=np.int64)
    contrib = np.zeros((n, m))
    w = _weights(m, k_max, score_weights)
    by_subset: Counter[tuple[int, ...]] = Counter()
    for i in range(n):
        for s in all_subsets:
            if len(s) > k_max or not unique[s][i]:
                continue
            if missing_code is not None and any(rows[i][c] == missing_code for c in s):
                continue
            proper = [t for t in all_subsets if len(t) < len(s) and set(t) <= set(s)]
            if any(unique[t][i] for t in proper):
                continue
            msu[i, len(s) - 1] += 1
            for c in s:
                contrib[i, c] += w[len(s) - 1]
            by_subset[s] += 1
    full = Counter(rows)
    uniques = sum(1 for r in rows if full[r] == 1)
    pairs = sum(1 for r in rows if full[r] == 2)
    return _assemble(
        cols,
        k_max,
        float(dis_fraction),
        score_weights,
        msu,
        contrib,
        dict(by_subset),
        uniques,
        pairs,
    )
