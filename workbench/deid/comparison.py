"""How much analytical value a de-identified table keeps, compared with the original.

:func:`compare` returns a frozen :class:`UtilityReport` with

* per-attribute distribution distances (total variation for categorical columns, Wasserstein-1
  and Kolmogorov-Smirnov for numeric ones),
* changes in two-way tables (mean absolute difference of cell shares) and in associations
  (Pearson correlation for numeric pairs, Cramér's V for categorical pairs),
* user-specified statistics (:class:`Statistic`, for example mean income by region) with the
  absolute and relative error per group,
* information loss for perturbed numeric variables (IL1s as in sdcMicro ``dUtility``, and the
  eigenvalue measure).

Choices, stated once
--------------------
* **Suppressed records** (flagged by a transform, or every quasi-identifier ``"*"``) are
  excluded from the transformed side and counted in ``records_suppressed``; the original side
  keeps every record, so suppression shows up as error.
* **Suppressed cells** (``"*"``) count as a category of their own in categorical distributions
  and two-way tables (so local suppression is visible as distance); in numeric comparisons they
  are left out and counted in ``suppressed_cells``.
* **Generalized categorical values** are compared at the generalized level: when a hierarchy and
  level are given for a column, the original values are generalized the same way first, so the
  distance measures what happened *beyond* generalization (the loss of generalization itself
  is measured by the anonymization metrics in :mod:`workbench.deid.metrics`). Without a
  hierarchy the labels are compared as they are.
* **Generalized numeric values** (interval labels such as ``"[20, 30["``, ``"20-29"``,
  ``"65+"``) are mapped to interval midpoints for numeric measures; open-ended intervals map to
  their finite bound.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from .transforms import SUPPRESSED, HierarchyLike

__all__ = [
    "Statistic",
    "GroupError",
    "StatisticComparison",
    "AttributeComparison",
    "CrosstabChange",
    "CorrelationChange",
    "InformationLoss",
    "UtilityReport",
    "compare",
    "total_variation",
    "wasserstein",
    "ks_statistic",
    "cramers_v",
    "il1s",
    "interval_midpoint",
]

_STAT_KINDS = ("count", "share", "mean", "sum", "median")


# --------------------------------------------------------------------------------------------
# Specifications and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistic:
    """A downstream statistic to preserve, e.g. ``Statistic("mean", column="income", by="region")``.

    ``kind`` is one of ``count`` (records per group), ``share`` (count / total), ``mean``,
    ``sum``, ``median``; ``column`` is required except for ``count``/``share``; ``by`` is zero
    or more grouping columns.
    """

    kind: str
    column: str | None = None
    by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _STAT_KINDS:
            raise ParameterError("kind", self.kind, f"one of {list(_STAT_KINDS)}")
        if self.kind not in ("count", "share") and not self.column:
            raise ParameterError("column", self.column, f"a numeric column for a {self.kind!r}")
        by = (self.by,) if isinstance(self.by, str) else tuple(self.by or ())
        object.__setattr__(self, "by", by)

    @property
    def label(self) -> str:
        """Readable name, e.g. ``mean(income) by region``."""
        what = f"{self.kind}({self.column})" if self.column else self.kind
        return what + (f" by {', '.join(self.by)}" if self.by else "")

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "column", "by"}``."""
        return {"kind": self.kind, "column": self.column, "by": list(self.by)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Statistic:
        """Inverse of :meth:`to_dict`."""
        return cls(d["kind"], d.get("column"), tuple(d.get("by") or ()))

    @classmethod
    def parse(cls, text: str) -> Statistic:
        """Read the words an officer writes: ``"mean income by region"``, ``"count by sex"``.

        Grammar: ``KIND [COLUMN] [by COL[, COL...]]``; column names may not contain spaces
        (quote nothing: the text is never evaluated).
        """
        if not isinstance(text, str) or len(text) > 500:
            raise ParameterError("statistic", "text", "at most 500 characters of text")
        tokens = text.split()
        cut = tokens.index("by") if "by" in tokens else len(tokens)
        words, sep = tokens[:cut], cut < len(tokens)
        tail = " ".join(tokens[cut + 1 :])
        by = tuple(c.strip() for c in tail.split(",") if c.strip())
        if not words or len(words) > 2 or (sep and not by):
            raise ParameterError(
                "statistic", text, "KIND [COLUMN] [by COL, ...], e.g. 'mean income by region'"
            )
        return cls(words[0].lower(), words[1] if len(words) == 2 else None, by)


@dataclass(frozen=True)
class GroupError:
    """One group's statistic before and after, with absolute and relative error."""

    group: tuple[str, ...]
    original: float | None
    transformed: float | None
    absolute_error: float | None
    relative_error: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "original": self.original,
            "transformed": self.transformed,
            "absolute_error": self.absolute_error,
            "relative_error": self.relative_error,
        }


@dataclass(frozen=True)
class StatisticComparison:
    """A :class:`Statistic` evaluated on both tables, group by group."""

    statistic: Statistic
    groups: tuple[GroupError, ...]

    @property
    def mean_absolute_error(self) -> float | None:
        errs = [g.absolute_error for g in self.groups if g.absolute_error is not None]
        return float(np.mean(errs)) if errs else None

    @property
    def max_relative_error(self) -> float | None:
        errs = [g.relative_error for g in self.groups if g.relative_error is not None]
        return float(max(errs)) if errs else None

    @property
    def groups_lost(self) -> int:
        """Groups present in the original but without a value after transformation."""
        return sum(1 for g in self.groups if g.original is not None and g.transformed is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic.to_dict(),
            "label": self.statistic.label,
            "mean_absolute_error": self.mean_absolute_error,
            "max_relative_error": self.max_relative_error,
            "groups_lost": self.groups_lost,
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(frozen=True)
class AttributeComparison:
    """Distribution distance of one column.

    ``kind`` is ``"categorical"`` or ``"numeric"``; ``basis`` says what was compared:
    ``"values"``, ``"generalized level"`` (original mapped through the hierarchy) or
    ``"interval midpoints"``. Measures that do not apply are ``None``.
    """

    column: str
    kind: str
    basis: str
    total_variation: float | None = None
    wasserstein: float | None = None
    wasserstein_normalized: float | None = None
    ks: float | None = None
    mean_original: float | None = None
    mean_transformed: float | None = None
    suppressed_cells: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CrosstabChange:
    """Change of a two-way table of shares: mean |difference| over cells and total variation."""

    columns: tuple[str, str]
    mean_absolute_difference: float
    total_variation: float
    cells: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "mean_absolute_difference": self.mean_absolute_difference,
            "total_variation": self.total_variation,
            "cells": self.cells,
        }


@dataclass(frozen=True)
class CorrelationChange:
    """Association of a pair before and after (``pearson`` or ``cramers_v``)."""

    columns: tuple[str, str]
    measure: str
    original: float | None
    transformed: float | None

    @property
    def difference(self) -> float | None:
        """``transformed - original``."""
        if self.original is None or self.transformed is None:
            return None
        return self.transformed - self.original

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "measure": self.measure,
            "original": self.original,
            "transformed": self.transformed,
            "difference": self.difference,
        }


@dataclass(frozen=True)
class InformationLoss:
    """IL1s and eigenvalue loss for perturbed numeric columns (see :func:`il1s`).

    ``il1s`` is the published mean (Yancey et al. 2002); ``il1s_sdcmicro`` is what sdcMicro's
    ``dUtility(method="IL1s")`` returns, the sum, ``records * len(columns)`` times ``il1s``;
    ``eigen`` is sdcMicro's ``dUtility(method="eigen")``.
    """

    columns: tuple[str, ...]
    il1s: float
    il1s_sdcmicro: float
    per_column: Mapping[str, float]
    eigen: float | None
    records: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "il1s": self.il1s,
            "il1s_sdcmicro": self.il1s_sdcmicro,
            "per_column": dict(self.per_column),
            "eigen": self.eigen,
            "records": self.records,
        }


@dataclass(frozen=True)
class UtilityReport:
    """Everything :func:`compare` measured; render it anywhere via :meth:`to_dict`."""

    records_original: int
    records_transformed: int
    records_suppressed: int
    attributes: tuple[AttributeComparison, ...] = ()
    crosstabs: tuple[CrosstabChange, ...] = ()
    correlations: tuple[CorrelationChange, ...] = ()
    statistics: tuple[StatisticComparison, ...] = ()
    information_loss: InformationLoss | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def records_compared(self) -> int:
        """Transformed records that were not suppressed."""
        return self.records_transformed - self.records_suppressed

    def attribute(self, column: str) -> AttributeComparison:
        """The comparison of one column."""
        for a in self.attributes:
            if a.column == column:
                return a
        raise ParameterError("column", column, f"one of {[a.column for a in self.attributes]}")

    @property
    def mean_crosstab_difference(self) -> float | None:
        """Mean over pairs of the mean absolute difference of cell shares."""
        vals = [c.mean_absolute_difference for c in self.crosstabs]
        return float(np.mean(vals)) if vals else None

    @property
    def mean_correlation_difference(self) -> float | None:
        """Mean |difference| of pairwise associations."""
        vals = [abs(c.difference) for c in self.correlations if c.difference is not None]
        return float(np.mean(vals)) if vals else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready document (no record-level values)."""
        return {
            "records_original": self.records_original,
            "records_transformed": self.records_transformed,
            "records_suppressed": self.records_suppressed,
            "records_compared": self.records_compared,
            "attributes": [a.to_dict() for a in self.attributes],
            "crosstabs": [c.to_dict() for c in self.crosstabs],
            "mean_crosstab_difference": self.mean_crosstab_difference,
            "correlations": [c.to_dict() for c in self.correlations],
            "mean_correlation_difference": self.mean_correlation_difference,
            "statistics": [s.to_dict() for s in self.statistics],
            "information_loss": None
            if self.information_loss is None
            else self.information_loss.to_dict(),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------
# Measures (pure functions)
# --------------------------------------------------------------------------------------------


def total_variation(p: Mapping[Any, float], q: Mapping[Any, float]) -> float:
    """Total variation distance ``1/2 sum |p_x - q_x|`` between two distributions (shares).

    Reference: Levin, Peres & Wilmer (2009), *Markov Chains and Mixing Times*, sec. 4.1.
    """
    keys = list(set(p) | set(q))
    return _tv_aligned(
        np.array([p.get(x, 0.0) for x in keys], float),
        np.array([q.get(x, 0.0) for x in keys], float),
    )


def _tv_aligned(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation of two share vectors over the same categories (the one definition)."""
    return 0.5 * float(np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


def wasserstein(
    a: np.ndarray,
    b: np.ndarray,
    a_weights: np.ndarray | None = None,
    b_weights: np.ndarray | None = None,
) -> float:
    """Wasserstein-1 (earth mover's) distance between two samples (Vaserstein 1969).

    Equals the area between the two empirical CDFs; computed by ``scipy.stats``. Weights are
    record counts, so distinct values with their counts give the distance of the records.
    """
    from scipy.stats import wasserstein_distance

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(wasserstein_distance(a, b, a_weights, b_weights))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``sup |F_a - F_b|`` (Smirnov 1948)."""
    va, wa = np.unique(np.asarray(a, float), return_counts=True)
    vb, wb = np.unique(np.asarray(b, float), return_counts=True)
    return _ks_weighted(va, wa, vb, wb)


def _ks_weighted(va: np.ndarray, wa: np.ndarray, vb: np.ndarray, wb: np.ndarray) -> float:
    """KS statistic of two samples given as sorted distinct values and their counts."""
    ta, tb = float(np.sum(wa)), float(np.sum(wb))
    if ta == 0 or tb == 0:
        return float("nan")
    grid = np.concatenate([va, vb])
    ca, cb = (
        np.concatenate([[0.0], np.cumsum(wa, dtype=float)]),
        np.concatenate([[0.0], np.cumsum(wb, dtype=float)]),
    )
    fa = ca[np.searchsorted(va, grid, side="right")] / ta
    fb = cb[np.searchsorted(vb, grid, side="right")] / tb
    return float(np.max(np.abs(fa - fb)))


def _mean_sd(values: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of values repeated ``counts`` times."""
    n = float(np.sum(counts))
    mean = float(np.sum(values * counts) / n)
    sd = math.sqrt(float(np.sum(counts * (values - mean) ** 2)) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def cramers_v(x: Sequence[Any], y: Sequence[Any]) -> float | None:
    """Cramér's V = sqrt(chi2 / (n (min(r, c) - 1))) of a two-way table (Cramér 1946).

    The uncorrected statistic; ``None`` when either variable has a single category. Missing
    values are a category of their own.
    """
    cx, ux = pd.factorize(np.asarray(x, dtype=object), use_na_sentinel=False)
    cy, uy = pd.factorize(np.asarray(y, dtype=object), use_na_sentinel=False)
    r, c = len(ux), len(uy)
    if min(r, c) < 2 or len(cx) == 0:
        return None
    return _cramers_v_table(np.bincount(cx * c + cy, minlength=r * c).reshape(r, c))


def _cramers_v_table(obs: np.ndarray) -> float | None:
    """Cramér's V of a table of counts (empty rows and columns are not categories)."""
    obs = np.asarray(obs, float)
    rows, cols = np.nonzero(obs)
    return _cramers_v_cells(rows, cols, obs[rows, cols])


def _cramers_v_cells(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray) -> float | None:
    """Cramér's V from the cells of a table: (row code, column code, count), codes >= 0.

    ``chi2 = sum (O - E)^2 / E = n (sum O^2 / (R C) - 1)`` over the non-empty cells, since the
    expected counts sum to ``n``: a table of 30,000 dates by 300 postal codes costs its
    non-empty cells, not its 9 million cells.
    """
    counts = np.asarray(counts, float)
    keep = counts > 0
    rows, cols, counts = rows[keep], cols[keep], counts[keep]
    n = float(counts.sum())
    if n == 0:
        return None
    # codes are small non-negative integers (label codes): sums by bincount, no sort
    row_sum = np.bincount(rows, weights=counts)
    col_sum = np.bincount(cols, weights=counts)
    r, c = int(np.count_nonzero(row_sum)), int(np.count_nonzero(col_sum))
    if min(r, c) < 2:
        return None
    chi2 = n * (float(np.sum(counts**2 / (row_sum[rows] * col_sum[cols]))) - 1.0)
    return math.sqrt(max(chi2, 0.0) / (n * (min(r, c) - 1)))


def il1s(
    original: np.ndarray, perturbed: np.ndarray, scale: Sequence[float] | None = None
) -> tuple[float, np.ndarray]:
    """IL1s information loss: ``1/(p n) sum_j sum_i |x_ij - x'_ij| / (sqrt(2) S_j)``.

    Mean absolute deviation scaled by each original variable's standard deviation ``S_j``
    (Mateo-Sanz, Sebé & Domingo-Ferrer 2004, "Outlier protection in continuous microdata
    masking", LNCS 3050; Yancey, Winkler & Creecy 2002). Pairs with a missing value are left
    out of the sum but ``n`` counts every row, as sdcMicro does. sdcMicro's
    ``dUtility(method="IL1s")`` (since 5.2.0) returns the sum without the ``1/(p n)``;
    :class:`InformationLoss` reports both. ``scale`` overrides ``S_j`` (e.g. the standard
    deviation over all original records when suppressed ones are left out). Returns
    ``(il1s, per-column means)``.
    """
    x = np.asarray(original, float)
    xm = np.asarray(perturbed, float)
    if x.ndim == 1:
        x, xm = x[:, None], xm[:, None]
    n, p = x.shape
    if n == 0 or p == 0:
        return 0.0, np.zeros(p)
    if scale is None:
        scale = [
            np.nanstd(x[:, j], ddof=1) if np.sum(~np.isnan(x[:, j])) > 1 else np.nan
            for j in range(p)
        ]
    sd = np.asarray(scale, dtype=float)
    sd = np.where((sd > 0) & np.isfinite(sd), sd, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.abs(x - xm) / (math.sqrt(2) * sd)
    dev = np.where(np.isnan(sd)[None, :] & (x == xm), 0.0, dev)
    per_col = np.nansum(dev, axis=0) / n
    return float(per_col.sum() / p), per_col


def _scaled_pairwise_cov(x: np.ndarray) -> np.ndarray | None:
    """R's ``var(scale(x), use = "pairwise.complete.obs")``, or ``None`` where R gives ``NA``.

    ``scale`` centres each column and divides it by the standard deviation of its non-missing
    values; the pairwise covariance of two columns uses the rows where both are present, with
    their own means, divided by (pairs - 1) (R ``cov.c``). Off the diagonal this is not a
    correlation and can exceed 1.
    """
    ok = ~np.isnan(x)
    if np.any(ok.sum(axis=0) < 2):
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0, ddof=1)
    p = x.shape[1]
    cov = np.empty((p, p))
    for i in range(p):
        for j in range(i + 1):
            both = ok[:, i] & ok[:, j]
            if both.sum() < 2:
                return None
            zi, zj = z[both, i], z[both, j]
            cov[i, j] = cov[j, i] = ((zi - zi.mean()) * (zj - zj.mean())).sum() / (both.sum() - 1)
    return cov if np.all(np.isfinite(cov)) else None


def _eigen_loss(x: np.ndarray, xm: np.ndarray) -> float | None:
    """sdcMicro ``dUtility(method="eigen")``: ``sum |e - e'| / e`` over decreasing eigenvalues.

    As in sdcMicro (``eigen(var(scale(x), na.rm = TRUE, use = "pairwise.complete.obs"))``),
    each table is standardized and its covariance taken over pairwise-complete observations on
    its own, so a missing value in one table does not remove the row from the other.
    ``None`` where sdcMicro returns ``NA`` (a constant column, a pair with under two common
    values).
    """
    if x.shape[1] < 2:
        return None
    c1, c2 = _scaled_pairwise_cov(x), _scaled_pairwise_cov(xm)
    if c1 is None or c2 is None:
        return None
    e1 = np.sort(np.linalg.eigvalsh(c1))[::-1]
    e2 = np.sort(np.linalg.eigvalsh(c2))[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.abs(e1 - e2) / e1
    return float(np.sum(terms[np.isfinite(terms)]))


_NUM = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_INTERVAL = re.compile(rf"^\s*[\[(]\s*({_NUM})\s*[,;]\s*({_NUM})\s*[\])\[]\s*$")
_RANGE = re.compile(rf"^\s*({_NUM})\s*(?:-|–|to|\.\.)\s*({_NUM})\s*$")
_OPEN_UP = re.compile(rf"^\s*(?:>=?|≥)\s*({_NUM})\s*$|^\s*({_NUM})\s*\+\s*$")
_OPEN_DOWN = re.compile(rf"^\s*(?:<=?|≤)\s*({_NUM})\s*$")
_PLAIN = re.compile(rf"^\s*({_NUM})\s*$")


def interval_midpoint(label: Any) -> float | None:
    """Midpoint of an interval label (``"[20, 30["`` -> 25, ``"20-29"`` -> 24.5, ``"65+"`` -> 65).

    Open-ended labels (``">=80"``, ``"<18"``, ``"65+"``) map to their finite bound; a plain
    number maps to itself; anything else (including ``"*"``) gives ``None``.
    """
    if label is None:
        return None
    if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, bool):
        return None if pd.isna(label) else float(label)
    text = str(label)
    for rx in (_INTERVAL, _RANGE):
        m = rx.match(text)
        if m:
            return (float(m.group(1)) + float(m.group(2))) / 2.0
    for rx in (_OPEN_UP, _OPEN_DOWN, _PLAIN):
        m = rx.match(text)
        if m:
            return float(next(g for g in m.groups() if g is not None))
    return None


# --------------------------------------------------------------------------------------------
# compare()
# --------------------------------------------------------------------------------------------


@dataclass
class _Column:
    name: str
    numeric: bool
    basis: str
    cat_o: pd.Series | None  # categorical representation (object) or None
    cat_t: pd.Series | None
    num_o: np.ndarray | None  # float (NaN = missing) or None
    num_t: np.ndarray | None
    stars: int


def _is_star(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return np.zeros(len(s), dtype=bool)
    return (s.astype(object) == SUPPRESSED).to_numpy(dtype=bool)


def _to_numeric(s: pd.Series) -> tuple[np.ndarray, bool]:
    """Floats of ``s`` (``"*"``/missing -> NaN) and whether interval midpoints were needed."""
    obj = s.astype(object)
    direct = pd.to_numeric(obj.where(~pd.Series(_is_star(s), index=s.index), None), errors="coerce")
    unparsed = direct.isna() & obj.notna() & ~_is_star(s)
    if not unparsed.any():
        return direct.to_numpy(dtype=float), False
    mids = np.array([np.nan if (m := interval_midpoint(v)) is None else m for v in obj], float)
    star = _is_star(s)
    bad = np.isnan(mids) & obj.notna().to_numpy() & ~star
    if bad.any():
        raise ValueError("not numeric")
    return mids, True


def _label(s: pd.Series) -> pd.Series:
    """Object labels with missing as None (so value_counts keeps them as one category)."""
    obj = s.astype(object)
    return obj.where(obj.notna(), "<missing>").map(str)


def _prepare(
    name: str, so: pd.Series, st: pd.Series, hierarchy: HierarchyLike | None, level: int | None
) -> _Column:
    stars = int(_is_star(st).sum())
    numeric = pd.api.types.is_numeric_dtype(so.dtype) and not pd.api.types.is_bool_dtype(so.dtype)
    if hierarchy is not None and level is not None:
        keep = so.isna()
        mapped = so.astype(object).copy()
        todo = so[~keep]
        mapped.iloc[np.flatnonzero(~keep.to_numpy())] = np.asarray(
            hierarchy.generalize(todo, level), dtype=object
        )
        cat_o, cat_t = _label(mapped), _label(st)
        num_o = num_t = None
        if numeric:
            try:
                num_o_mid, _ = _to_numeric(mapped)
                num_t, _ = _to_numeric(st)
                num_o = num_o_mid
            except ValueError:
                num_o = num_t = None
        return _Column(name, numeric, "generalized level", cat_o, cat_t, num_o, num_t, stars)
    if numeric:
        xo = pd.to_numeric(so, errors="coerce").to_numpy(dtype=float)
        try:
            xt, mid = _to_numeric(st)
        except ValueError:
            return _Column(name, False, "labels", _label(so), _label(st), None, None, stars)
        if mid:
            return _Column(name, True, "interval midpoints", None, None, xo, xt, stars)
        return _Column(name, True, "values", None, None, xo, xt, stars)
    return _Column(name, False, "values", _label(so), _label(st), None, None, stars)


def _shares(s: pd.Series) -> dict[Any, float]:
    if len(s) == 0:
        return {}
    return {k: float(v) for k, v in s.value_counts(normalize=True, sort=False).items()}


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    # a constant side has no correlation (min == max is exact; a float std may not be 0)
    if len(a) < 2 or a.min() == a.max() or b.min() == b.max():
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _rel(o: float | None, t: float | None) -> tuple[float | None, float | None]:
    if o is None or t is None:
        return None, None
    err = abs(t - o)
    return float(err), (float(err / abs(o)) if o != 0 else (0.0 if err == 0 else None))


def _stat_values(
    kind: str, groups: pd.DataFrame, values: np.ndarray | None, by: tuple[str, ...], total: int
) -> dict[tuple[str, ...], float | None]:
    """Statistic per group; ``groups`` holds the grouping columns as labels."""
    frame = groups.copy()
    frame["__v"] = values if values is not None else 1.0
    if by:
        parts = {
            key if isinstance(key, tuple) else (key,): g["__v"]
            for key, g in frame.groupby(list(by), sort=True)
        }
    else:
        parts = {(): frame["__v"]}
    out: dict[tuple[str, ...], float | None] = {}
    for key, v in parts.items():
        key = tuple(str(x) for x in key)
        if kind == "count":
            out[key] = float(len(v))
        elif kind == "share":
            out[key] = float(len(v)) / total if total else None
        else:
            v = v.dropna()
            out[key] = float(getattr(v, kind)()) if len(v) else None
    return out


def _numeric_distances(
    va: np.ndarray, wa: np.ndarray, vb: np.ndarray, wb: np.ndarray
) -> tuple[float, float | None, float, float, float]:
    """Wasserstein, Wasserstein / original sd, KS and both means, from distinct values and counts.

    The one place these are computed: :func:`compare` passes each side's distinct values with
    their record counts, and so does the class-table comparison of the tuner.
    """
    w = wasserstein(va, vb, wa, wb)
    mo, sd = _mean_sd(va, wa)
    mt, _ = _mean_sd(vb, wb)
    wn = w / sd if sd > 0 else (0.0 if w == 0 else None)
    return w, wn, _ks_weighted(va, wa, vb, wb), mo, mt


def compare(
    original: Any,
    transformed: Any,
    columns: Sequence[str] | None = None,
    *,
    suppressed: np.ndarray | None = None,
    qis: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    statistics: Sequence[Statistic] = (),
    hierarchies: Mapping[str, HierarchyLike] | None = None,
    levels: Mapping[str, int] | None = None,
    information_loss: bool = True,
    perturbed: Sequence[str] | None = None,
) -> UtilityReport:
    """Compare a de-identified table with its original.

    Parameters
    ----------
    original, transformed
        Tables (Dataset, pandas, polars, DuckDB). ``transformed`` may also be a
        ``TransformResult`` or ``PipelineResult``, whose suppression mask is then used.
    columns
        Columns to compare (default: every column present in both).
    suppressed
        Boolean per transformed row: record suppressed (excluded, counted). By default the
        result's mask, or rows whose every ``qis`` value is ``"*"``.
    qis
        Quasi-identifiers; their pairs are the default two-way tables.
    pairs
        Column pairs for two-way tables and associations (default: pairs of ``qis``, else of
        the compared categorical columns, plus all numeric pairs for Pearson).
    statistics
        :class:`Statistic` specs evaluated on both tables.
    hierarchies, levels
        Generalization used for some columns: originals are generalized the same way before
        comparing (see the module notes).
    information_loss
        Compute IL1s / eigen for numeric columns compared on raw values (needs equal row counts).
    perturbed
        Numeric columns IL1s is averaged over, as sdcMicro averages over its numeric variables.
        Default: the numeric columns whose values changed (all numeric columns if none did), so
        untouched columns do not dilute the loss.
    """
    mask_from_result = getattr(transformed, "suppressed", None)
    if hasattr(transformed, "data") and hasattr(transformed, "suppressed"):
        transformed = transformed.data
    o = as_pandas(original)
    t = as_pandas(transformed)
    notes: list[str] = []
    if columns is None:
        columns = [c for c in o.columns if c in t.columns]
    columns = list(columns)
    check_columns(o, columns, "original")
    check_columns(t, columns, "transformed")
    for st in statistics:
        needed = [c for c in ((st.column,) if st.column else ()) + tuple(st.by)]
        check_columns(o, needed, "original")
        check_columns(t, needed, "transformed")
    hierarchies = dict(hierarchies or {})
    levels = dict(levels or {})

    if suppressed is None and mask_from_result is not None and len(mask_from_result) == len(t):
        suppressed = np.asarray(mask_from_result, bool)
    if suppressed is None and qis:
        check_columns(t, list(qis), "transformed")
        suppressed = np.logical_and.reduce([_is_star(t[q]) for q in qis])
    if suppressed is None:
        suppressed = np.zeros(len(t), dtype=bool)
    suppressed = np.asarray(suppressed, dtype=bool)
    if suppressed.shape != (len(t),):
        raise ParameterError("suppressed", f"shape {suppressed.shape}", f"shape ({len(t)},)")
    kept = t.loc[~suppressed] if suppressed.any() else t
    aligned = len(o) == len(t)

    stat_cols = {c for st in statistics for c in ((st.column,) if st.column else ()) + st.by}
    prepared: dict[str, _Column] = {}
    for col in dict.fromkeys(columns + sorted(stat_cols - set(columns))):
        prepared[col] = _prepare(col, o[col], kept[col], hierarchies.get(col), levels.get(col))

    # per attribute
    attrs = []
    for col in columns:
        pc = prepared[col]
        tv = total_variation(_shares(pc.cat_o), _shares(pc.cat_t)) if pc.cat_o is not None else None
        w = wn = ks = mo = mt = None
        if pc.num_o is not None and pc.num_t is not None:
            a, b = pc.num_o[~np.isnan(pc.num_o)], pc.num_t[~np.isnan(pc.num_t)]
            if len(a) and len(b):
                w, wn, ks, mo, mt = _numeric_distances(
                    *np.unique(a, return_counts=True), *np.unique(b, return_counts=True)
                )
        kind = "numeric" if pc.num_o is not None else "categorical"
        attrs.append(AttributeComparison(col, kind, pc.basis, tv, w, wn, ks, mo, mt, pc.stars))

    # pairs: two-way tables and associations
    cat_cols = [c for c in columns if prepared[c].cat_o is not None]
    num_cols = [c for c in columns if prepared[c].num_o is not None and prepared[c].cat_o is None]
    if pairs is None:
        base = [q for q in (qis or []) if q in prepared and prepared[q].cat_o is not None]
        cat_pairs = list(itertools.combinations(base if base else cat_cols, 2))
        num_pairs = list(itertools.combinations(num_cols, 2))
    else:
        cat_pairs, num_pairs = [], []
        for a, b in pairs:
            for c in (a, b):
                if c not in prepared:
                    check_columns(o, [c], "original")
                    prepared[c] = _prepare(c, o[c], kept[c], hierarchies.get(c), levels.get(c))
            if prepared[a].cat_o is not None and prepared[b].cat_o is not None:
                cat_pairs.append((a, b))
            elif prepared[a].num_o is not None and prepared[b].num_o is not None:
                num_pairs.append((a, b))
            else:
                notes.append(f"pair ({a}, {b}) mixes a categorical and a numeric column; skipped")
    crosstabs, correlations = [], []
    for a, b in cat_pairs:
        pa, pb = prepared[a], prepared[b]
        jo = _shares(pa.cat_o + "\x1f" + pb.cat_o)
        jt = _shares(pa.cat_t + "\x1f" + pb.cat_t)
        cells = set(jo) | set(jt)
        diffs = [abs(jo.get(x, 0.0) - jt.get(x, 0.0)) for x in cells]
        crosstabs.append(
            CrosstabChange(
                (a, b), float(np.mean(diffs)) if diffs else 0.0, 0.5 * float(sum(diffs)), len(cells)
            )
        )
        correlations.append(
            CorrelationChange(
                (a, b), "cramers_v", cramers_v(pa.cat_o, pb.cat_o), cramers_v(pa.cat_t, pb.cat_t)
            )
        )
    for a, b in num_pairs:
        pa, pb = prepared[a], prepared[b]
        correlations.append(
            CorrelationChange(
                (a, b), "pearson", _pearson(pa.num_o, pb.num_o), _pearson(pa.num_t, pb.num_t)
            )
        )

    # downstream statistics
    stats = []
    for st in statistics:
        rep = {}
        for side in ("o", "t"):
            frame = pd.DataFrame(
                {
                    b: getattr(prepared[b], f"cat_{side}")
                    if prepared[b].cat_o is not None
                    else _label(o[b] if side == "o" else kept[b])
                    for b in st.by
                },
                index=(o.index if side == "o" else kept.index),
            )
            vals = None
            if st.column:
                pc = prepared[st.column]
                vals = pc.num_o if side == "o" else pc.num_t
                if vals is None:
                    raise ParameterError("column", st.column, f"a numeric column for {st.label}")
            total = len(o) if side == "o" else len(kept)
            rep[side] = _stat_values(st.kind, frame, vals, st.by, total)
        keys = sorted(set(rep["o"]) | set(rep["t"]))
        groups = []
        for key in keys:
            ov = rep["o"].get(key, 0.0 if st.kind in ("count", "share") else None)
            tv_ = rep["t"].get(key, 0.0 if st.kind in ("count", "share") else None)
            ae, re_ = _rel(ov, tv_)
            groups.append(GroupError(key, ov, tv_, ae, re_))
        stats.append(StatisticComparison(st, tuple(groups)))

    # information loss for numeric columns compared on raw values
    il = None
    raw = [c for c in columns if prepared[c].basis == "values" and prepared[c].num_o is not None]
    if information_loss and raw:
        if not aligned:
            notes.append("IL1s not computed: original and transformed have different row counts")
        else:
            keep_rows = ~suppressed
            xm_full = {
                c: pd.to_numeric(
                    t[c].astype(object).where(~pd.Series(_is_star(t[c]), index=t.index), None),
                    errors="coerce",
                ).to_numpy(dtype=float)
                for c in raw
            }
            if perturbed is not None:
                check_columns(o, list(perturbed), "original")
                bad = [c for c in perturbed if c not in raw]
                if bad:
                    raise ParameterError("perturbed", bad[0], f"a numeric column among {raw}")
                raw = list(perturbed)
            else:
                changed = [
                    c
                    for c in raw
                    if not np.array_equal(
                        prepared[c].num_o[keep_rows], xm_full[c][keep_rows], equal_nan=True
                    )
                ]
                raw = changed or raw
            x = np.column_stack([prepared[c].num_o[keep_rows] for c in raw])
            xm = np.column_stack([xm_full[c][keep_rows] for c in raw])
            scale = [
                float(np.nanstd(prepared[c].num_o, ddof=1))
                if np.sum(~np.isnan(prepared[c].num_o)) > 1
                else np.nan
                for c in raw
            ]
            value, per = il1s(x, xm, scale)
            il = InformationLoss(
                tuple(raw),
                value,
                float(per.sum()) * len(x),  # sdcMicro's sum: n p times IL1s
                MappingProxyType({c: float(v) for c, v in zip(raw, per, strict=True)}),
                _eigen_loss(x, xm),
                int(keep_rows.sum()),
            )
    return UtilityReport(
        records_original=len(o),
        records_transformed=len(t),
        records_suppressed=int(suppressed.sum()),
        attributes=tuple(attrs),
        crosstabs=tuple(crosstabs),
        correlations=tuple(correlations),
        statistics=tuple(stats),
        information_loss=il,
        notes=tuple(notes),
    )
