"""Mondrian multidimensional local recoding (LeFevre, DeWitt & Ramakrishnan 2006).

Strict multidimensional partitioning: starting from the whole table, repeatedly cut a partition
at the median of the QI with the widest normalised range, as long as both halves still satisfy
k-anonymity (and l-diversity, when asked). Each final partition is released with its QI ranges:
numeric QIs as ``[lo-hi]``, categorical QIs as the set of values present, ``{a,b}``. Because
every partition gets its own ranges it usually keeps more detail than full-domain
generalization, at the price of overlapping-free but non-hierarchical output values.

Categories are ordered by their hierarchy's leaf order (ARX files list related values
together), numbers numerically. The algorithm runs on the class table (distinct QI combinations
with counts): identical records always share a partition in strict Mondrian, so this is exact.

Metrics use the same definitions as the lattice search, with the covered leaves of a released
value being the hierarchy leaves inside the numeric range or the categories in the set; for
*precision* a level is not defined under local recoding, so ``(covered - 1) / (leaves - 1)``
stands in for ``level / height``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ...models import Classes, SensitivePairs
from ..hierarchy import Hierarchy
from ..metrics import (
    METRICS,
    average_class_size,
    discernibility,
    loss_metric,
    nonuniform_entropy,
    precision_metric,
)
from ..transforms.base import Transform, _as_columns, _check_k
from .lattice import SUPPRESSED, AnonymizationResult, Criteria, Progress, SearchContext

__all__ = ["mondrian", "MondrianRecoding"]


def _leaf_order(h: Hierarchy) -> tuple[np.ndarray, bool]:
    """Position of each leaf in Mondrian's order, and whether the QI is numeric."""
    nums = pd.to_numeric(pd.Series(h.leaves), errors="coerce")
    if nums.notna().all():
        return np.argsort(np.argsort(nums.to_numpy(), kind="stable"), kind="stable"), True
    return np.arange(h.n_leaves), False


def mondrian(
    data: Any,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
    *,
    criteria: Criteria | None = None,
    k: int = 2,
    sensitive: Sequence[str] = (),
    metric: str = "loss",
    return_data: bool = False,
    progress: Progress | None = None,
    population: Any = None,
    population_size: float | None = None,
) -> AnonymizationResult:
    """Anonymize with strict Mondrian partitioning; report the same statistics as the search.

    Parameters
    ----------
    criteria : Criteria, optional
        Every registered per-class model that is monotone without suppression (k-anonymity,
        l-diversity, t-closeness, beta-likeness, highest risk, k-map) is enforced per
        partition; dataset-level and non-monotone models need the lattice strategy.
        Suppression is only used when the whole table fails (everything is suppressed).
    population, population_size :
        For k-map (a population table, or the population size for the estimators).
    """
    t0 = time.perf_counter()
    crit = criteria or Criteria(k=k)
    # A split is kept only when both halves pass, so only per-class models that stay satisfied
    # when a partition's parts are merged back (monotone without suppression) are sound here.
    unsupported = [m.key for m in crit.privacy_models() if m.dataset_level or not m.monotone(0)]
    if unsupported:
        raise ParameterError(
            "strategy",
            "mondrian",
            f"the lattice strategy for {', '.join(unsupported)} (Mondrian checks per-class "
            "models that are monotone without suppression)",
        )
    if metric not in METRICS:
        raise ParameterError("metric", metric, f"one of {', '.join(METRICS)}")
    ctx = SearchContext(
        data, qis, hierarchies, sensitive, population=population, population_size=population_size
    )
    hs = ctx.hierarchies_list
    d = len(hs)
    orders = [_leaf_order(h) for h in hs]
    pos = np.column_stack([orders[i][0][ctx.base_codes[:, i]] for i in range(d)])
    w = ctx.base_counts
    models = crit.privacy_models()
    # sensitive histograms per class-table row (for the sensitive models inside partitions)
    hist = []
    if crit.needs_sensitive:
        if not ctx._sens:
            raise ParameterError("sensitive", [], "a sensitive column for l-diversity")
        for s in ctx._sens:
            mat = np.zeros((ctx.n_base, s.m))
            np.add.at(mat, (s.brow, s.val), s.cnt)
            hist.append(mat)

    def allowed(rows: np.ndarray) -> bool:
        size = w[rows].sum()
        if size == 0:
            return False
        pairs = {}
        for s, mat in zip(ctx._sens, hist, strict=False):
            counts = mat[rows].sum(axis=0)
            pv = np.flatnonzero(counts)
            pairs[s.name] = SensitivePairs(
                np.zeros(len(pv), dtype=np.int64), pv, counts[pv], s.p, s.m, s.parents, s.name
            )
        one = Classes(
            np.asarray([size], dtype=np.int64),
            ctx.n_records,
            pairs,
            population=None
            if ctx.base_population is None
            else np.asarray([ctx.base_population[rows].sum()]),
            population_size=ctx.population_size,
        )
        return all(bool(m.class_pass(one)[0]) for m in models)

    spans = np.asarray([max(h.n_leaves - 1, 1) for h in hs], dtype=float)
    final: list[np.ndarray] = []
    examined = 0
    all_rows = np.arange(ctx.n_base)
    stack = [all_rows] if allowed(all_rows) else []
    suppress_all = not stack
    while stack:
        rows = stack.pop()
        examined += 1
        if progress is not None and examined % 500 == 0:
            progress(examined, examined + len(stack), f"{len(final)} partitions")
        p = pos[rows]
        width = (p.max(axis=0) - p.min(axis=0)) / spans
        done = False
        for dim in np.argsort(-width, kind="stable"):
            if width[dim] <= 0:
                break
            col = p[:, dim]
            order = np.argsort(col, kind="stable")
            cum = np.cumsum(w[rows][order])
            median = col[order][np.searchsorted(cum, cum[-1] / 2.0)]
            left = col <= median
            if left.all():
                left = col < median
            if not left.any() or left.all():
                continue
            lrows, rrows = rows[left], rows[~left]
            if allowed(lrows) and allowed(rrows):
                stack.append(rrows)
                stack.append(lrows)
                done = True
                break
        if not done:
            final.append(rows)
    if progress is not None:
        progress(examined, examined, f"done: {len(final)} partitions")

    # per class-table row: partition id, covered leaves and covered records per QI
    part = np.full(ctx.n_base, -1, dtype=np.int64)
    covered = np.ones((ctx.n_base, d))
    cover_freq = np.zeros((ctx.n_base, d))
    leaf_freq = np.zeros((ctx.n_base, d))
    labels: list[list[str]] = [[] for _ in range(d)]
    freqs, cums, invs = [], [], []
    for i, h in enumerate(hs):
        freq = np.bincount(ctx.base_codes[:, i], weights=w, minlength=h.n_leaves)
        by_pos = np.zeros(h.n_leaves)
        by_pos[orders[i][0]] = freq
        freqs.append(freq)
        cums.append(np.concatenate([[0.0], np.cumsum(by_pos)]))
        invs.append(np.argsort(orders[i][0]))
        leaf_freq[:, i] = freq[ctx.base_codes[:, i]]
    for pid, rows in enumerate(final):
        part[rows] = pid
        for i, h in enumerate(hs):
            if orders[i][1]:
                lo, hi = int(pos[rows, i].min()), int(pos[rows, i].max())
                cov = hi - lo + 1
                a, b = h.leaves[invs[i][lo]], h.leaves[invs[i][hi]]
                labels[i].append(a if lo == hi else f"[{a}-{b}]")
                cf = cums[i][hi + 1] - cums[i][lo]
            else:
                here = np.unique(ctx.base_codes[rows, i])
                cov = len(here)
                names = [h.leaves[c] for c in sorted(here, key=lambda c: orders[i][0][c])]
                labels[i].append(names[0] if cov == 1 else "{" + ",".join(names) + "}")
                cf = freqs[i][here].sum()
            covered[rows, i] = cov
            cover_freq[rows, i] = cf

    n = ctx.n_records
    sup_rows = np.full(ctx.n_base, suppress_all)
    sizes = np.asarray([int(w[r].sum()) for r in final], dtype=np.int64)
    n_sup = n if suppress_all else 0
    score = _score(metric, ctx, covered, leaf_freq, cover_freq, sup_rows, sizes, n_sup, crit.k)
    data_out = None
    if return_data:
        out = ctx.frame.copy()
        rp = part[ctx.row_base]
        for i, q in enumerate(ctx.qis):
            lab = np.asarray(labels[i] + [SUPPRESSED], dtype=object)
            out[q] = pd.Series(
                lab[np.where(rp >= 0, rp, len(labels[i]))], index=out.index, dtype=object
            )
        data_out = out
    return AnonymizationResult(
        found=True,
        strategy="mondrian",
        qis=ctx.qis,
        levels=None,
        metric=metric,
        score=score,
        suppressed=n_sup,
        classes=len(final),
        min_class_size=int(sizes.min()) if len(sizes) else 0,
        transformations_checked=examined,
        lattice_size=ctx.lattice_size,
        records=n,
        average_risk=len(final) / n if len(final) else 0.0,
        highest_risk=1.0 / int(sizes.min()) if len(sizes) else 0.0,
        criteria=crit,
        elapsed_seconds=time.perf_counter() - t0,
        hierarchy_notes=ctx.hierarchy_notes,
        sensitive=ctx.sensitive,
        hierarchies=MappingProxyType(dict(ctx.hierarchies)),
        data=data_out,
    )


def _score(
    metric: str,
    ctx: SearchContext,
    covered: np.ndarray,
    leaf_freq: np.ndarray,
    cover_freq: np.ndarray,
    sup_rows: np.ndarray,
    sizes: np.ndarray,
    n_sup: int,
    k: int,
) -> float:
    hs = ctx.hierarchies_list
    w = ctx.base_weights
    n_leaves = [h.n_leaves for h in hs]
    if metric == "loss":
        return loss_metric(
            covered / np.asarray(n_leaves, dtype=float), sup_rows, n_leaves, weights=w
        )
    if metric == "precision":
        den = np.asarray([max(n - 1, 1) for n in n_leaves], dtype=float)
        return precision_metric((covered - 1) / den, sup_rows, weights=w)
    if metric == "entropy":
        return nonuniform_entropy(leaf_freq, cover_freq, float(ctx.n_records), sup_rows, weights=w)
    if metric == "discernibility":
        return discernibility(sizes, n_sup, ctx.n_records)
    return average_class_size(ctx.n_records, len(sizes), k, n_sup)


# ------------------------------------------------------------------------------------------------
# Mondrian as a pipeline step
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MondrianRecoding(Transform):
    """Mondrian local recoding as a step of a pipeline or recipe (``type: mondrian``).

    Runs :func:`mondrian` on the records not suppressed by earlier steps, with the automatic
    hierarchies (numbers as ranges, categories as sets); deterministic, so a recipe reproduces
    it. QIs become ``[lo-hi]`` or ``{a,b}``; when fewer than ``k`` records remain, all are
    suppressed.
    """

    qis: tuple[str, ...]
    k: int = 2
    kind: ClassVar[str] = "mondrian"

    def __post_init__(self) -> None:
        object.__setattr__(self, "qis", _as_columns(self.qis, "qis"))
        _check_k(self.k)

    def columns_used(self) -> tuple[str, ...]:
        return self.qis

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        newly = np.zeros(len(df), dtype=bool)
        if len(active) == 0:
            return {"partitions": 0}, newly
        sub = df.iloc[active][list(self.qis)].reset_index(drop=True)
        res = mondrian(sub, self.qis, k=self.k, return_data=True)
        for q in self.qis:
            col = df[q].astype(object).copy()
            col.iloc[active] = res.data[q].to_numpy(dtype=object)
            df[q] = col
        if res.suppressed:
            newly[active] = True
        return (
            {"partitions": int(res.classes), "min_partition_size": int(res.min_class_size)},
            newly,
        )
