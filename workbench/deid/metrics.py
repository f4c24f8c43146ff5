"""Information-loss metrics for generalization + record suppression.

Each metric has a plain reference function on per-record arrays (used by tests, Mondrian and the
reports) and a fast *model* used by the lattice search. A model precomputes per-QI, per-level
arrays on the class table so that

* ``lower_bound(nodes)`` is the metric of each lattice node **without suppression** — for the
  separable metrics (Loss, precision, non-uniform entropy) one vectorised expression over the
  whole lattice. It never decreases under generalization and never exceeds the score with
  suppression, which is what makes pruning by "lower bound >= best score" exact (ARX/Flash,
  Kohlmayer et al. 2012);
* ``score(node, suppressed_rows, ...)`` adds the extra loss of the suppressed records.

Suppressed records count as fully generalized (ARX's convention). All metrics are "lower is
better".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from .hierarchy import Hierarchy

__all__ = [
    "METRICS",
    "loss_metric",
    "precision_metric",
    "nonuniform_entropy",
    "discernibility",
    "average_class_size",
    "table_metrics",
]

#: Metric names accepted by the search and the CLI.
METRICS = ("loss", "entropy", "discernibility", "aecs", "precision")

_CITATIONS = {
    "loss": "Iyengar 2002 (Loss Metric); normalisation and geometric-mean aggregation as in ARX "
    "(Prasser et al. 2016)",
    "entropy": "Gionis & Tassa 2009 (non-uniform entropy); ARX's MetricMDNUEntropy",
    "discernibility": "Bayardo & Agrawal 2005",
    "aecs": "LeFevre, DeWitt & Ramakrishnan 2006 (C_AVG)",
    "precision": "Sweeney 2002 (Prec)",
}


def citation(metric: str) -> str:
    """Published definition of a metric, for reports."""
    return _CITATIONS[_check_metric(metric)]


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ParameterError("metric", metric, f"one of {', '.join(METRICS)}")
    return metric


def _w(weights: Any, n: int) -> np.ndarray:
    return np.ones(n) if weights is None else np.asarray(weights, dtype=float)


# ------------------------------------------------------------------------------------------------
# Reference definitions (per record)
# ------------------------------------------------------------------------------------------------


def loss_metric(
    shares: np.ndarray, suppressed: np.ndarray, n_leaves: Sequence[int], weights: Any = None
) -> float:
    """Loss metric (Iyengar 2002) as ARX normalises and aggregates it.

    Per QI ``i``: ``L_i`` = sum over records of the share of the hierarchy's leaves covered by
    the record's generalized value (a suppressed record counts 1), normalised as
    ``(L_i - N/|D_i|) / (N - N/|D_i|)`` with ``|D_i|`` the number of leaves (rows of the
    hierarchy file); aggregated as ``prod_i (L_i + 1)^(1/d) - 1`` (geometric mean).
    0 = original data, 1 = everything suppressed.

    Parameters
    ----------
    shares : array (n, d)
        Covered leaves / all leaves, per record and QI.
    suppressed : bool array (n,)
    n_leaves : sequence of int (d,)
    weights : array (n,), optional
        Record multiplicities (a class table's counts).
    """
    shares = np.asarray(shares, dtype=float)
    n, d = shares.shape
    w = _w(weights, n)
    sup = np.asarray(suppressed, dtype=bool)
    total = w.sum()
    eff = np.where(sup[:, None], 1.0, shares)
    norm = []
    for i in range(d):
        li = float(w @ eff[:, i])
        base = total / n_leaves[i]
        norm.append(0.0 if total - base <= 0 else (li - base) / (total - base))
    return float(np.prod(np.asarray(norm) + 1.0) ** (1.0 / d) - 1.0) if d else 0.0


def precision_metric(
    level_fractions: np.ndarray, suppressed: np.ndarray, weights: Any = None
) -> float:
    """Precision loss (Sweeney 2002): mean over QIs and records of ``level / height``.

    ``height`` is the highest level of the QI's hierarchy; suppressed records count 1. 0 =
    original data (Sweeney's *Prec* is ``1 -`` this value).
    """
    frac = np.asarray(level_fractions, dtype=float)
    n, d = frac.shape
    if n == 0 or d == 0:
        return 0.0
    w = _w(weights, n)
    eff = np.where(np.asarray(suppressed, dtype=bool)[:, None], 1.0, frac)
    return float((w @ eff).sum() / (w.sum() * d))


def nonuniform_entropy(
    leaf_freq: np.ndarray,
    generalized_freq: np.ndarray,
    n_total: float,
    suppressed: np.ndarray,
    weights: Any = None,
) -> float:
    """Non-uniform entropy (Gionis & Tassa 2009), in bits, summed over records and QIs.

    A record whose value ``x`` was generalized to ``g`` loses ``-log2(P(x | g))`` with
    ``P(x | g) = #(x) / #(records whose value generalizes to g)``, frequencies taken in the input
    (as ARX). A suppressed record is generalized to ``*``: ``-log2(#(x) / N)``.
    """
    lf = np.asarray(leaf_freq, dtype=float)
    gf = np.asarray(generalized_freq, dtype=float)
    n = lf.shape[0]
    w = _w(weights, n)
    sup = np.asarray(suppressed, dtype=bool)[:, None]
    denom = np.where(sup, float(n_total), gf)
    return float(w @ (-np.log2(lf / denom)).sum(axis=1)) if n else 0.0


def discernibility(class_sizes: Sequence[int], suppressed_records: int, n_records: int) -> float:
    """Discernibility metric (Bayardo & Agrawal 2005).

    Sum of squared sizes of the released equivalence classes plus ``N`` for each suppressed
    record (a suppressed record is indistinguishable from the whole table).
    """
    sizes = np.asarray(class_sizes, dtype=float)
    return float((sizes * sizes).sum() + float(suppressed_records) * float(n_records))


def average_class_size(
    n_records: int, n_classes: int, k: int = 1, suppressed_records: int = 0
) -> float:
    """Normalised average equivalence class size C_AVG (LeFevre, DeWitt & Ramakrishnan 2006).

    ``(N / classes) / k``; suppressed records form one extra class (ARX's convention), so
    suppression cannot make the score look better than generalization.
    """
    classes = n_classes + (1 if suppressed_records > 0 else 0)
    if classes == 0:
        return 0.0
    return float(n_records) / classes / max(int(k), 1)


def table_metrics(
    original: pd.DataFrame,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    levels: Mapping[str, int],
    suppressed: Any,
    k: int = 1,
) -> dict[str, float]:
    """All five metrics of a full-domain generalization, computed plainly with pandas.

    The obvious reference the lattice search is tested against: generalize with the
    hierarchies, group the released records, and apply the definitions above.
    """
    sup = np.asarray(suppressed, dtype=bool)
    n = len(original)
    shares, fracs, lfreq, gfreq, gen_cols = [], [], [], [], []
    for q in qis:
        h = hierarchies[q]
        lev = int(levels[q])
        leaf = pd.Series(h.leaf_codes(original[q], q))
        gen = pd.Series(h.codes(lev)[leaf.to_numpy()])
        counts_leaf = leaf.map(leaf.value_counts())
        counts_gen = gen.map(gen.value_counts())
        lc = h.leaf_counts(lev)
        shares.append(lc[gen.to_numpy()] / h.n_leaves)
        fracs.append(np.full(n, lev / h.max_level if h.max_level else 0.0))
        lfreq.append(counts_leaf.to_numpy(float))
        gfreq.append(counts_gen.to_numpy(float))
        gen_cols.append(gen.to_numpy())
    kept = ~sup
    if len(qis) and kept.any():
        frame = pd.DataFrame({f"q{i}": c[kept] for i, c in enumerate(gen_cols)})
        sizes = frame.groupby(list(frame.columns), sort=False).size().to_numpy()
    else:
        sizes = np.asarray([kept.sum()]) if kept.any() else np.asarray([], dtype=int)
    n_sup = int(sup.sum())
    return {
        "loss": loss_metric(np.column_stack(shares), sup, [hierarchies[q].n_leaves for q in qis]),
        "entropy": nonuniform_entropy(np.column_stack(lfreq), np.column_stack(gfreq), n, sup),
        "discernibility": discernibility(sizes, n_sup, n),
        "aecs": average_class_size(n, len(sizes), k, n_sup),
        "precision": precision_metric(np.column_stack(fracs), sup),
    }


# ------------------------------------------------------------------------------------------------
# Fast models for the lattice search
# ------------------------------------------------------------------------------------------------


class _MetricModel:
    """Per-context precomputation; see the module docstring for the contract."""

    name = ""
    separable = True  # lower_bound needs no roll-up

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.n = float(ctx.n_records)

    def lower_bound(self, nodes: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def score(
        self,
        node: np.ndarray,
        sup_rows: np.ndarray | None,
        n_sup: int,
        kept_sizes: np.ndarray,
        k: int,
    ) -> float:  # pragma: no cover - interface
        raise NotImplementedError


class _LossModel(_MetricModel):
    name = "loss"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        w = ctx.base_weights
        self.share_rows, self.base_loss, self.n_leaves = [], [], []
        for i, h in enumerate(ctx.hierarchies_list):
            rows, sums = [], []
            for j in range(h.levels):
                share = h.leaf_counts(j) / h.n_leaves
                r = share[ctx.level_codes(i, j)]
                rows.append(r)
                sums.append(float((w * r).sum()))
            self.share_rows.append(rows)
            self.base_loss.append(np.asarray(sums))
            self.n_leaves.append(h.n_leaves)

    def _aggregate(self, per_qi: list[np.ndarray]) -> np.ndarray:
        acc = None
        d = len(per_qi)
        for i, li in enumerate(per_qi):
            base = self.n / self.n_leaves[i]
            den = self.n - base
            norm = (li - base) / den if den > 0 else li * 0.0
            acc = norm + 1.0 if acc is None else acc * (norm + 1.0)
        return acc ** (1.0 / d) - 1.0

    def lower_bound(self, nodes: np.ndarray) -> np.ndarray:
        return self._aggregate([self.base_loss[i][nodes[:, i]] for i in range(nodes.shape[1])])

    def score(self, node, sup_rows, n_sup, kept_sizes, k):
        per = []
        # (w * x).sum() rather than np.dot: a threaded BLAS call is 30x slower on busy machines
        idx = np.flatnonzero(sup_rows) if sup_rows is not None and n_sup else None
        w = self.ctx.base_weights[idx] if idx is not None else None
        for i, j in enumerate(node):
            li = self.base_loss[i][j]
            if w is not None:
                covered = float((w * self.share_rows[i][j][idx]).sum())
                li = li + max(float(n_sup) - covered, 0.0)
            per.append(np.asarray([li]))
        return float(self._aggregate(per)[0])


class _PrecisionModel(_MetricModel):
    name = "precision"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.frac = [
            np.asarray([j / h.max_level if h.max_level else 0.0 for j in range(h.levels)])
            for h in ctx.hierarchies_list
        ]

    def lower_bound(self, nodes):
        d = nodes.shape[1]
        return sum(self.frac[i][nodes[:, i]] for i in range(d)) / d

    def score(self, node, sup_rows, n_sup, kept_sizes, k):
        d = len(node)
        lb = float(sum(self.frac[i][j] for i, j in enumerate(node)) / d)
        if not n_sup:
            return lb
        extra = sum(1.0 - self.frac[i][j] for i, j in enumerate(node)) / d
        return lb + n_sup * extra / self.n


class _EntropyModel(_MetricModel):
    name = "entropy"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        w = ctx.base_weights
        self.rows, self.sums, self.top = [], [], []
        for i, h in enumerate(ctx.hierarchies_list):
            leaf = ctx.level_codes(i, 0)
            leaf_freq = np.bincount(leaf, weights=w, minlength=h.n_leaves)
            lf_rows = leaf_freq[leaf]
            rows, sums = [], []
            for j in range(h.levels):
                code = ctx.level_codes(i, j)
                gfreq = np.bincount(code, weights=w, minlength=len(h.values(j)))
                r = -np.log2(lf_rows / gfreq[code])
                rows.append(r)
                sums.append(float((w * r).sum()))
            self.rows.append(rows)
            self.sums.append(np.asarray(sums))
            self.top.append(-np.log2(lf_rows / self.n))

    def lower_bound(self, nodes):
        return sum(self.sums[i][nodes[:, i]] for i in range(nodes.shape[1]))

    def score(self, node, sup_rows, n_sup, kept_sizes, k):
        lb = float(sum(self.sums[i][j] for i, j in enumerate(node)))
        if not n_sup:
            return lb
        idx = np.flatnonzero(sup_rows)
        w = self.ctx.base_weights[idx]
        extra = sum(
            float((w * (self.top[i][idx] - self.rows[i][j][idx])).sum()) for i, j in enumerate(node)
        )
        return lb + max(extra, 0.0)


class _DiscernibilityModel(_MetricModel):
    name = "discernibility"
    separable = False

    def lower_bound(self, nodes):
        # Without a roll-up the only safe bound is "every record alone".
        return np.full(len(nodes), self.n)

    def score(self, node, sup_rows, n_sup, kept_sizes, k):
        return discernibility(kept_sizes, n_sup, int(self.n))


class _AecsModel(_MetricModel):
    name = "aecs"
    separable = False

    def lower_bound(self, nodes):
        return np.zeros(len(nodes))

    def score(self, node, sup_rows, n_sup, kept_sizes, k):
        return average_class_size(int(self.n), len(kept_sizes), k, n_sup)


_MODELS = {
    "loss": _LossModel,
    "precision": _PrecisionModel,
    "entropy": _EntropyModel,
    "discernibility": _DiscernibilityModel,
    "aecs": _AecsModel,
}


def _model(metric: str, ctx: Any) -> _MetricModel:
    return _MODELS[_check_metric(metric)](ctx)
