"""Globally optimal full-domain generalization with record suppression (lattice search).

The search space is the generalization lattice: one node per combination of hierarchy levels
(Samarati 2001; LeFevre, DeWitt & Ramakrishnan 2005 "Incognito"). A node is *acceptable* when
the records in equivalence classes that violate the privacy models number at most
``floor(suppression * N)``; those records are suppressed (ARX's model, Prasser et al. 2014).
The result is the acceptable node with the lowest information loss (ties: fewer total levels,
then lexicographic levels), exactly as exhaustive search would return it.

Speed comes from never re-scanning the data:

* the data is encoded once into a *class table*: the distinct combinations of QI leaf codes with
  their record counts (and, per sensitive attribute, the (class-table row, value, count) pairs);
* a node is evaluated by mapping each column's leaf codes to the node's level with a small
  code->code array, packing the codes into one int64 key and grouping with ``bincount`` (dense
  keys) or a hash factorisation -- QIs are bundled into groups whose per-level-combination codes
  are cached, so a node costs two or three array operations over the class table;
* pruning (Flash / ARX, Kohlmayer et al. 2012): nodes are visited top-down; a node that fails a
  *monotone* part of the models marks all its specializations as failing, and a node whose
  metric lower bound (the metric without suppression, monotone in generalization) exceeds the
  best score found is skipped.

Which parts are monotone (so that failing prunes specializations)?

* k-anonymity, distinct l-diversity and a highest-risk limit are monotone *with* a suppression
  limit: when classes merge, records in a class of size >= k (or with >= l distinct values) stay
  in such a class, so the set of records to suppress only shrinks under generalization.
* entropy and recursive (c,l)-diversity (Machanavajjhala et al. 2007), t-closeness with
  equal / ordered distance (Li, Li & Venkatasubramanian 2007) and the average-risk limit are
  monotone only *without* suppression: a satisfying class merged with a violating one can
  violate. With a suppression limit > 0 they are checked but never used to prune.

The models themselves live in :mod:`workbench.models` (one module each, registered by
subclassing :class:`~workbench.models.PrivacyModel`); each declares its monotonicity and the
search loops over :meth:`Criteria.privacy_models` without naming any of them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..._cache import cached
from ...dataset import as_pandas, check_columns
from ...errors import HierarchyError, ParameterError
from ...models import (
    PrivacyModel,
)
from ...models.l_diversity import L_KINDS
from ...models.t_closeness import (  # noqa: F401 - hierarchical_emd re-exported
    T_KINDS,
    hierarchical_emd,
    hierarchy_parent_maps,
)
from ..hierarchy import Hierarchy, auto_hierarchy, value_strings
from ..metrics import METRICS, _model, citation
from .evaluation import Criteria, NodeEvaluation, NodeEvaluator

__all__ = [
    "Criteria",
    "SearchContext",
    "NodeEvaluation",
    "AnonymizationResult",
    "prepare",
    "anonymize",
    "exhaustive_search",
    "L_KINDS",
    "T_KINDS",
]

SUPPRESSED = "*"
MAX_LATTICE = 5_000_000
_GROUP_COMBOS = 128  # level combinations cached per QI group

Progress = Callable[[int, int, str], None]


# ------------------------------------------------------------------------------------------------
# Privacy models
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AnonymizationResult:
    """The chosen transformation and what it does to the data.

    Attributes
    ----------
    found : bool
        False when no transformation satisfies the models within the suppression limit.
    strategy : str
        ``lattice`` (optimal full-domain), ``exhaustive`` (baseline) or ``mondrian`` (local).
    levels : Mapping[str, int] or None
        Hierarchy level per QI (None for Mondrian, which recodes locally).
    score : float or None
        Information loss under ``metric`` (lower is better).
    suppressed : int
        Records suppressed (their QIs shown as ``*``; excluded from class statistics).
    classes, min_class_size : int
        Released equivalence classes and the smallest one.
    transformations_checked : int
        Lattice nodes evaluated (Mondrian: partitions examined).
    average_risk, highest_risk : float
        Prosecutor risks of the released records (classes / records, 1 / smallest class).
    data : pandas.DataFrame or None
        The transformed table, when requested.
    """

    found: bool
    strategy: str
    qis: tuple[str, ...]
    levels: Mapping[str, int] | None
    metric: str
    score: float | None
    suppressed: int
    classes: int
    min_class_size: int
    transformations_checked: int
    lattice_size: int
    records: int
    average_risk: float
    highest_risk: float
    criteria: Criteria
    elapsed_seconds: float = 0.0
    hierarchy_notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sensitive: tuple[str, ...] = ()
    hierarchies: Mapping[str, Hierarchy] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    data: pd.DataFrame | None = field(default=None, repr=False)

    def apply(self, data: Any, **tables: Any) -> pd.DataFrame:
        """Apply the same transformation to ``data`` (same levels, same suppression rule).

        Records in classes that violate the models are suppressed (QIs set to ``*``). For
        Mondrian results the partitioning is recomputed on ``data`` with the same parameters.
        Models that need more than the data take the same tables as :class:`SearchContext`
        (``population``, ``research_subset``, ``population_size``).
        """
        if not self.found:
            raise ParameterError("result", "not found", "a result that found a transformation")
        if self.strategy == "mondrian":
            from .mondrian import mondrian

            return mondrian(
                data,
                self.qis,
                dict(self.hierarchies),
                criteria=self.criteria,
                sensitive=self.sensitive,
                metric=self.metric,
                return_data=True,
            ).data
        ctx = SearchContext(data, self.qis, dict(self.hierarchies), self.sensitive, **tables)
        out, _ = ctx.transform(self.levels, self.criteria)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON document of ``workbench anonymize --json``."""
        return {
            "found": self.found,
            "strategy": self.strategy,
            "qis": list(self.qis),
            "levels": None if self.levels is None else dict(self.levels),
            "metric": self.metric,
            "metric_reference": citation(self.metric),
            "score": self.score,
            "suppressed": self.suppressed,
            "classes": self.classes,
            "min_class_size": self.min_class_size,
            "transformations_checked": self.transformations_checked,
            "lattice_size": self.lattice_size,
            "records": self.records,
            "average_risk": self.average_risk,
            "highest_risk": self.highest_risk,
            "criteria": self.criteria.to_dict(),
            "sensitive": list(self.sensitive),
            "hierarchy_notes": dict(self.hierarchy_notes),
            "elapsed_seconds": self.elapsed_seconds,
        }


# ------------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------------


def _factorize_rows(codes: np.ndarray, radices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows of small non-negative int codes: (row -> group id, first row of each group)."""
    n = codes.shape[0]
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for j in range(codes.shape[1]):
        r = max(int(radices[j]), 1)
        if span * r >= 2**62:
            key, uniq = pd.factorize(key)
            key = key.astype(np.int64)
            span = max(len(uniq), 1)
        key = key * r + codes[:, j]
        span *= r
    # sort=True gives a deterministic class table order independent of row order
    ids, uniq = pd.factorize(key, sort=True)
    _, first = np.unique(ids, return_index=True)
    return ids.astype(np.int64), first.astype(np.int64)


def _sensitive_codes(values: pd.Series, kind: str) -> tuple[np.ndarray, list[str]]:
    """Dense codes of a sensitive column (missing is its own value) in its natural order."""
    s = value_strings(values).fillna("NA")
    uniq = pd.unique(s)
    nums = pd.to_numeric(pd.Series(uniq), errors="coerce")
    if nums.notna().all():
        order = np.argsort(nums.to_numpy(), kind="stable")
    else:
        order = np.argsort(np.asarray(uniq, dtype=str), kind="stable")
    ordered = [str(uniq[i]) for i in order]
    lookup = {v: i for i, v in enumerate(ordered)}
    return s.map(lookup).to_numpy(dtype=np.int64), ordered


@dataclass
class _Sens:
    name: str
    values: list[str]
    m: int
    brow: np.ndarray  # class-table row of each (row, value) pair
    val: np.ndarray
    cnt: np.ndarray
    p: np.ndarray  # distribution over the whole input
    # hierarchical distance: per level above the leaves, the node of each node one level below
    parents: tuple[np.ndarray, ...] = ()


class SearchContext(NodeEvaluator):
    """Encoded class table + caches, reusable across many searches (frontier, notebooks).

    Parameters
    ----------
    data : Dataset, pandas/polars frame or DuckDB relation
    qis : sequence of str
        Quasi-identifiers, in lattice order.
    hierarchies : mapping of QI -> Hierarchy or path to an ARX CSV, optional
        QIs without one get :func:`~workbench.deid.hierarchy.auto_hierarchy` (noted in
        ``hierarchy_notes``).
    sensitive : sequence of str
        Sensitive attributes for l-diversity / t-closeness.
    sensitive_hierarchies : mapping of sensitive attribute -> Hierarchy or path, optional
        For t-closeness with the hierarchical distance.
    population : frame, optional
        A population table with the QI columns (k-map counts its records per class).
    research_subset : frame, optional
        The records of ``data`` that form the research subset (delta-presence), matched on the
        QI columns.
    population_size : float, optional
        Size of the population (estimated k-map, population uniqueness).
    """

    def __init__(
        self,
        data: Any,
        qis: Sequence[str],
        hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
        sensitive: Sequence[str] = (),
        source: str | None = None,
        sensitive_hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
        *,
        population: Any = None,
        research_subset: Any = None,
        population_size: float | None = None,
    ) -> None:
        qis = tuple(qis)
        sensitive = tuple(sensitive)
        if not qis:
            raise ParameterError("qis", [], "at least one quasi-identifier")
        if len(set(qis)) != len(qis):
            raise ParameterError("qis", list(qis), "distinct column names")
        both = set(qis) & set(sensitive)
        if both:
            raise ParameterError("sensitive", sorted(both), "columns that are not also QIs")
        source = source or getattr(data, "source", None) or getattr(data, "name", None)
        frame = as_pandas(data)
        check_columns(frame, [*qis, *sensitive], source)
        hierarchies = dict(hierarchies or {})
        # hierarchies for columns that are not QIs here are simply not used
        self.frame = frame
        self.qis = qis
        self.sensitive = sensitive
        self.n_records = len(frame)
        if self.n_records == 0:
            raise ParameterError("data", "0 records", "a table with at least one record")
        extra = {}  # further tables encoded on the same class table
        for name, table in (("population_table", population), ("research_subset", research_subset)):
            if table is not None:
                extra[name] = as_pandas(table)
                check_columns(extra[name], list(qis), name)
        if population_size is not None and not (
            isinstance(population_size, int | float) and population_size >= self.n_records
        ):
            raise ParameterError(
                "population_size", population_size, f"at least the {self.n_records} records"
            )
        self.population_size = None if population_size is None else float(population_size)
        notes: dict[str, str] = {}
        hs: list[Hierarchy] = []
        for q in qis:
            h = hierarchies.get(q)
            if h is None:
                values = frame[q]
                if "population_table" in extra:  # the hierarchy must cover the population too
                    values = pd.concat([values, extra["population_table"][q]], ignore_index=True)
                h, what = auto_hierarchy(values, name=q)
                notes[q] = what
            elif isinstance(h, (str, Path)):
                h = Hierarchy.from_csv(h)
            elif not isinstance(h, Hierarchy):
                raise HierarchyError(
                    f"hierarchy for column {q!r} is a {type(h).__name__}; "
                    f"expected a Hierarchy or a path to an ARX CSV file"
                )
            hs.append(h)
        self.hierarchies_list = hs
        self.hierarchies = MappingProxyType(dict(zip(qis, hs, strict=True)))
        self.hierarchy_notes = MappingProxyType(notes)
        leaf = np.column_stack([h.leaf_codes(frame[q], q) for q, h in zip(qis, hs, strict=True)])
        self.record_leaf = leaf
        parts = [leaf] + [
            np.column_stack([h.leaf_codes(t[q], q) for q, h in zip(qis, hs, strict=True)])
            for t in extra.values()
        ]
        ids, first = _factorize_rows(np.vstack(parts), [h.n_leaves for h in hs])
        self.row_base = ids[: self.n_records]
        self.base_codes = np.ascontiguousarray(np.vstack(parts)[first])
        self.base_counts = np.bincount(self.row_base, minlength=len(first)).astype(np.int64)
        self.base_weights = self.base_counts.astype(np.float64)
        self.n_base = len(first)
        self.base_population: np.ndarray | None = None
        self.base_research: np.ndarray | None = None
        start = self.n_records
        for name, t in extra.items():
            counts = np.bincount(ids[start : start + len(t)], minlength=self.n_base)
            start += len(t)
            if name == "population_table":
                self.base_population = counts.astype(np.float64)
            else:
                extra_rows = int(np.clip(counts - self.base_counts, 0, None).sum())
                if extra_rows:
                    raise ParameterError(
                        "research_subset",
                        f"{extra_rows} record(s) without a matching data record",
                        "a subset of the data's records (matched on the quasi-identifiers)",
                    )
                self.base_research = counts.astype(np.float64)
        # classes that hold population records but no data record still exist (size 0)
        self._any_weight = self.base_weights + (
            0.0 if self.base_population is None else self.base_population
        )
        self.heights = np.asarray([h.levels for h in hs], dtype=np.int64)
        size = int(np.prod(self.heights, dtype=np.float64))
        if size > MAX_LATTICE:
            raise ParameterError(
                "qis",
                list(qis),
                f"a lattice of at most {MAX_LATTICE:,} nodes "
                f"(these hierarchies give {size:,}); use fewer QIs or levels",
            )
        self.lattice_size = size
        self._nodes: np.ndarray | None = None
        self._below: list[np.ndarray] | None = None
        self._lc: dict[tuple[int, int], np.ndarray] = {}
        self._groups = self._make_groups()
        self._gcache: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, int]] = {}
        self._models: dict[str, Any] = {}
        self._orders: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.sensitive_hierarchies: dict[str, Hierarchy] = {}
        for col, h in (sensitive_hierarchies or {}).items():
            if col not in sensitive:
                raise ParameterError(
                    "sensitive_hierarchies",
                    col,
                    f"a hierarchy for one of the sensitive columns {list(sensitive)}",
                )
            self.sensitive_hierarchies[col] = (
                h if isinstance(h, Hierarchy) else Hierarchy.from_csv(h)
            )
        self._sens = [self._encode_sensitive(s) for s in sensitive]

    # -- encoding helpers ---------------------------------------------------------------------
    def _encode_sensitive(self, col: str) -> _Sens:
        codes, values = _sensitive_codes(self.frame[col], "equal")
        m = len(values)
        key = self.row_base * m + codes
        uniq, cnt = np.unique(key, return_counts=True)
        p = np.bincount(codes, minlength=m) / self.n_records
        h = self.sensitive_hierarchies.get(col)
        parents = (
            hierarchy_parent_maps(h.rows, np.asarray(values, dtype=object)) if h is not None else ()
        )
        return _Sens(
            col,
            values,
            m,
            (uniq // m).astype(np.int64),
            (uniq % m).astype(np.int64),
            cnt.astype(np.int64),
            p,
            parents,
        )

    def level_codes(self, i: int, level: int) -> np.ndarray:
        """Codes of QI ``i`` at ``level`` for every class-table row (cached)."""
        key = (i, int(level))
        arr = self._lc.get(key)
        if arr is None:
            arr = self.hierarchies_list[i].codes(level)[self.base_codes[:, i]]
            self._lc[key] = arr
        return arr

    def _make_groups(self) -> list[tuple[int, ...]]:
        groups, cur, combos = [], [], 1
        for i, h in enumerate(self.hierarchies_list):
            if cur and combos * h.levels > _GROUP_COMBOS:
                groups.append(tuple(cur))
                cur, combos = [], 1
            cur.append(i)
            combos *= h.levels
        groups.append(tuple(cur))
        return groups

    def _group_code(self, g: int, levels: tuple[int, ...]) -> tuple[np.ndarray, int]:
        key = (g, levels)
        hit = self._gcache.get(key)
        if hit is None:
            members = self._groups[g]
            if len(members) == 1:
                i = members[0]
                code = self.level_codes(i, levels[0])
                card = len(self.hierarchies_list[i].values(levels[0]))
                hit = (code, card)
            else:
                k = np.zeros(self.n_base, dtype=np.int64)
                span = 1
                for i, lev in zip(members, levels, strict=True):
                    r = len(self.hierarchies_list[i].values(lev))
                    if span * r >= 2**62:  # pragma: no cover - needs enormous hierarchies
                        k, u = pd.factorize(k)
                        k = k.astype(np.int64)
                        span = len(u)
                    k = k * r + self.level_codes(i, lev)
                    span *= r
                f, u = pd.factorize(k)
                hit = (f.astype(np.int64), len(u))
            self._gcache[key] = hit
        return hit

    @property
    def nodes(self) -> np.ndarray:
        """Every lattice node as a row of levels (C order: last QI varies fastest)."""
        if self._nodes is None:
            grids = np.indices(tuple(int(h) for h in self.heights), dtype=np.int16)
            self._nodes = grids.reshape(len(self.heights), -1).T.copy()
        return self._nodes

    # -- roll-up ------------------------------------------------------------------------------
    def classes(self, levels: Sequence[int], compact: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Roll the class table up to ``levels``: (class id per class-table row, class sizes).

        With ``compact=False`` the ids may leave gaps (classes of size 0), which saves a pass
        when only class sizes matter.
        """
        node = tuple(int(v) for v in levels)
        key = None
        span = 1
        for g, members in enumerate(self._groups):
            code, card = self._group_code(g, tuple(node[i] for i in members))
            if key is None:
                key, span = code, card
                continue
            if span * card >= 2**62:  # pragma: no cover - astronomically many classes
                key, u = pd.factorize(key)
                key = key.astype(np.int64)
                span = len(u)
            key = key * card + code
            span *= card
        assert key is not None
        w = self.base_weights
        if span <= max(4 * self.n_base, 1 << 16):
            dense = np.bincount(key, weights=w, minlength=span)
            if not compact:
                return key, np.rint(dense).astype(np.int64)
            nz = dense > 0
            if self.base_population is not None:
                nz |= np.bincount(key, weights=self._any_weight, minlength=span) > 0
            comp = np.cumsum(nz) - 1
            cid = comp[key]
            sizes = dense[nz]
        else:
            cid, u = pd.factorize(key)
            cid = cid.astype(np.int64)
            sizes = np.bincount(cid, weights=w, minlength=len(u))
        return cid, np.rint(sizes).astype(np.int64)

    def _model(self, metric: str) -> Any:
        m = self._models.get(metric)
        if m is None:
            if metric not in METRICS:
                raise ParameterError("metric", metric, f"one of {', '.join(METRICS)}")
            m = self._models[metric] = _model(metric, self)
        return m

    def _below_masks(self) -> list[np.ndarray]:
        """``masks[i][v]``: nodes whose level of QI ``i`` is <= v (ANDed = a node's down-set)."""
        if self._below is None:
            nodes = self.nodes
            self._below = [
                np.stack([nodes[:, i] <= v for v in range(int(h))])
                for i, h in enumerate(self.heights)
            ]
        return self._below

    def _order(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        hit = self._orders.get(metric)
        if hit is None:
            nodes = self.nodes
            lb = np.asarray(self._model(metric).lower_bound(nodes.astype(np.int64)), dtype=float)
            order = np.lexsort((lb, -nodes.sum(axis=1, dtype=np.int64)))
            hit = self._orders[metric] = (order, lb)
        return hit

    # -- search -------------------------------------------------------------------------------
    def search(
        self,
        criteria: Criteria,
        metric: str = "loss",
        progress: Progress | None = None,
        return_data: bool = False,
        exhaustive: bool = False,
    ) -> AnonymizationResult:
        """Globally optimal node under ``criteria`` and ``metric`` (see module docstring)."""
        t0 = time.perf_counter()
        self.check_inputs(criteria)
        model = self._model(metric)
        order, lb = self._order(metric)
        nodes = self.nodes
        limit = criteria.suppression_limit(self.n_records)
        failed = np.zeros(len(nodes), dtype=bool)
        below = self._below_masks()
        best: NodeEvaluation | None = None
        best_key: tuple | None = None
        checked = 0
        total = len(order)
        for done, idx in enumerate(order):
            if progress is not None and done % 256 == 0:
                progress(done, total, f"{checked} transformations checked")
            if not exhaustive:
                if failed[idx]:
                    continue
                if best_key is not None and lb[idx] > best_key[0]:
                    continue
            node = tuple(int(v) for v in nodes[idx])
            ev = self._evaluate(node, criteria, model, limit)
            checked += 1
            if ev.monotone_failure and not exhaustive:
                down = below[0][node[0]].copy()
                for i in range(1, len(node)):
                    down &= below[i][node[i]]
                failed |= down
            if ev.acceptable:
                key = (ev.score, sum(node), node)
                if best_key is None or key < best_key:
                    best, best_key = ev, key
        if progress is not None:
            progress(total, total, f"done: {checked} transformations checked")
        return self._result(
            best,
            criteria,
            metric,
            checked,
            "exhaustive" if exhaustive else "lattice",
            return_data,
            time.perf_counter() - t0,
        )

    def _result(
        self,
        best: NodeEvaluation | None,
        criteria: Criteria,
        metric: str,
        checked: int,
        strategy: str,
        return_data: bool,
        elapsed: float,
    ) -> AnonymizationResult:
        common = dict(
            strategy=strategy,
            qis=self.qis,
            metric=metric,
            transformations_checked=checked,
            lattice_size=self.lattice_size,
            records=self.n_records,
            criteria=criteria,
            elapsed_seconds=elapsed,
            hierarchy_notes=self.hierarchy_notes,
            sensitive=self.sensitive,
            hierarchies=self.hierarchies,
        )
        if best is None:
            return AnonymizationResult(
                found=False,
                levels=None,
                score=None,
                suppressed=0,
                classes=0,
                min_class_size=0,
                average_risk=0.0,
                highest_risk=0.0,
                **common,
            )
        levels = MappingProxyType(dict(zip(self.qis, best.levels, strict=True)))
        data = self.transform(levels, criteria)[0] if return_data else None
        return AnonymizationResult(
            found=True,
            levels=levels,
            score=best.score,
            suppressed=best.suppressed,
            classes=best.classes,
            min_class_size=best.min_class_size,
            average_risk=best.average_risk,
            highest_risk=best.highest_risk,
            data=data,
            **common,
        )

    def released_sizes(
        self, levels: Mapping[str, int] | Sequence[int], criteria: Criteria
    ) -> np.ndarray:
        """Sizes of the released (not suppressed) classes at ``levels``."""
        node = self._node(levels)
        cid, sizes = self.classes(node)
        viol, _, _ = self._violations(cid, sizes, criteria, self.n_records)
        return sizes[~viol & (sizes > 0)]

    def _node(self, levels: Mapping[str, int] | Sequence[int]) -> tuple[int, ...]:
        if isinstance(levels, Mapping):
            missing = [q for q in self.qis if q not in levels]
            if missing:
                raise ParameterError("levels", dict(levels), f"a level for QI {missing[0]!r}")
            return tuple(int(levels[q]) for q in self.qis)
        return tuple(int(v) for v in levels)

    def transform(
        self, levels: Mapping[str, int] | Sequence[int], criteria: Criteria
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The generalized table at ``levels`` with violating classes suppressed.

        Returns the new DataFrame (QIs as strings, suppressed records' QIs ``*``) and the
        per-record suppression mask. Suppression here does not check the limit: it applies the
        model's rule to whatever the data is (that is what :meth:`AnonymizationResult.apply`
        needs for new data).
        """
        node = self._node(levels)
        cid, sizes = self.classes(node)
        viol, _, _ = self._violations(cid, sizes, criteria, self.n_records)
        sup = viol[cid][self.row_base]
        out = self.frame.copy()
        for i, (q, h) in enumerate(zip(self.qis, self.hierarchies_list, strict=True)):
            table = np.asarray(h.values(node[i]), dtype=object)
            col = table[h.codes(node[i])[self.record_leaf[:, i]]]
            col[sup] = SUPPRESSED
            out[q] = pd.Series(col, index=out.index, dtype=object)
        return out, sup


def prepare(
    data: Any,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
    sensitive: Sequence[str] = (),
    sensitive_hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
) -> SearchContext:
    """Encode ``data`` once for many searches (see :class:`SearchContext`)."""
    return SearchContext(
        data, qis, hierarchies, sensitive, sensitive_hierarchies=sensitive_hierarchies
    )


def anonymize(
    data: Any,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
    *,
    k: int = 2,
    l: int | None = None,  # noqa: E741
    l_kind: str = "distinct",
    c: float = 3.0,
    t: float | None = None,
    t_kind: str = "equal",
    sensitive: Sequence[str] = (),
    suppression: float = 0.0,
    max_average_risk: float | None = None,
    max_highest_risk: float | None = None,
    metric: str = "loss",
    strategy: str = "lattice",
    progress: Progress | None = None,
    return_data: bool = False,
    sensitive_hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
    k_map: int | None = None,
    k_map_estimator: str | None = None,
    significance: float = 0.05,
    population_table: Any = None,
    population_size: float | None = None,
    delta_presence: tuple[float, float] | None = None,
    research_subset: Any = None,
    max_population_uniqueness: float | None = None,
    models: Sequence[PrivacyModel] = (),
) -> AnonymizationResult:
    """Find the transformation with least information loss that satisfies the privacy models.

    ``strategy="lattice"`` returns the optimal full-domain generalization with record
    suppression; ``"mondrian"`` runs Mondrian local recoding (LeFevre et al. 2006) instead.

    Besides the named models, ``k_map`` (with a ``population_table``, or a ``k_map_estimator``
    and ``population_size``), ``delta_presence=(dmin, dmax)`` (``data`` is the population and
    ``research_subset`` its released part), ``max_population_uniqueness`` (with
    ``population_size``) and any registered ``models`` may be required; see
    :mod:`workbench.models`.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.deid import Hierarchy, anonymize
    >>> df = pd.DataFrame({"zip": ["02138", "02139", "02141", "02142"], "d": list("abab")})
    >>> h = Hierarchy.from_rows([("02138", "0213*", "*"), ("02139", "0213*", "*"),
    ...                          ("02141", "0214*", "*"), ("02142", "0214*", "*")])
    >>> r = anonymize(df, ["zip"], {"zip": h}, k=2)
    >>> dict(r.levels), r.classes
    ({'zip': 1}, 2)
    """
    if (l is not None or t is not None) and not sensitive:
        raise ParameterError(
            "sensitive", [], "at least one sensitive column for l-diversity or t-closeness"
        )
    from ...engines import engine_of, records_for_search, require_engine

    engine = engine_of(data)
    if engine in ("spark", "polars"):
        if return_data or strategy == "mondrian":
            require_engine("anonymize with record-level output or Mondrian", engine)
        # the class table from one GROUP BY in the engine, not the records
        data = records_for_search(data, list(dict.fromkeys([*qis, *sensitive])))
    from ...models import DeltaPresence, KMap, PopulationUniqueness

    extra: list[PrivacyModel] = list(models)
    if k_map is not None:
        if population_table is None and k_map_estimator is None:
            raise ParameterError(
                "population_table", None, "a population table or an estimator for k-map"
            )
        extra.append(KMap(int(k_map), k_map_estimator, significance))
    if delta_presence is not None:
        if research_subset is None:
            raise ParameterError("research_subset", None, "a research subset for delta-presence")
        extra.append(DeltaPresence(float(delta_presence[0]), float(delta_presence[1])))
    if max_population_uniqueness is not None:
        extra.append(PopulationUniqueness(float(max_population_uniqueness)))
    crit = Criteria(
        k=k,
        l=l,
        l_kind=l_kind,
        c=c,
        t=t,
        t_kind=t_kind,
        max_average_risk=max_average_risk,
        max_highest_risk=max_highest_risk,
        suppression=suppression,
        models=tuple(extra),
    )
    tables = dict(
        population=population_table,
        research_subset=research_subset,
        population_size=population_size,
    )
    if t_kind == "hierarchical" and strategy == "mondrian":
        raise ParameterError("t_kind", t_kind, "'equal' or 'ordered' with Mondrian")
    if strategy == "mondrian":
        from .mondrian import mondrian

        if research_subset is not None:
            raise ParameterError("strategy", strategy, "'lattice' for delta-presence")
        return mondrian(
            data,
            qis,
            hierarchies,
            criteria=crit,
            sensitive=sensitive,
            metric=metric,
            return_data=return_data,
            progress=progress,
            population=population_table,
            population_size=population_size,
        )
    if strategy not in ("lattice", "exhaustive"):
        raise ParameterError("strategy", strategy, "'lattice' or 'mondrian'")
    ctx = _search_context(data, qis, hierarchies, sensitive, sensitive_hierarchies, tables)
    return ctx.search(
        crit,
        metric,
        progress=progress,
        return_data=return_data,
        exhaustive=strategy == "exhaustive",
    )


def _hierarchy_key(h: Any) -> Any:
    """A hierarchy as a cache key: the object itself (frozen; by identity), or a file by path,
    size and modification time; ``None`` when it cannot be keyed."""
    if isinstance(h, Hierarchy):
        return h
    if isinstance(h, (str, Path)):
        try:
            st = os.stat(h)
        except OSError:
            return None
        return ("file", os.path.abspath(h), st.st_size, st.st_mtime_ns, st.st_ino)
    return None


def _search_context(
    data: Any,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy | str | Path] | None,
    sensitive: Sequence[str],
    sensitive_hierarchies: Mapping[str, Hierarchy | str | Path] | None,
    tables: Mapping[str, Any],
) -> SearchContext:
    """The :class:`SearchContext` of ``data``: built once per dataset, hierarchies and columns,
    then reused by warm calls (its encodings, hierarchies and roll-up caches; see
    :mod:`workbench._cache`). Population tables and research subsets are not cached."""

    def build() -> SearchContext:
        return SearchContext(
            data, qis, hierarchies, sensitive, sensitive_hierarchies=sensitive_hierarchies, **tables
        )

    if tables.get("population") is not None or tables.get("research_subset") is not None:
        return build()
    hkeys = []
    for mapping in (hierarchies or {}, sensitive_hierarchies or {}):
        items = []
        for col, h in mapping.items():
            hk = _hierarchy_key(h)
            if hk is None:
                return build()
            items.append((str(col), hk))
        hkeys.append(tuple(sorted(items, key=lambda kv: kv[0])))
    key = (tuple(qis), tuple(sensitive), *hkeys, tables.get("population_size"))
    return cached(data, "search_context", key, build, _context_nbytes)


def _context_nbytes(ctx: SearchContext) -> int:
    """Bytes a search context holds and may grow to: its arrays, plus the roll-up caches it
    fills as searches run (one array per QI level and per level combination of a group)."""
    from ..._cache import estimate_nbytes

    own = estimate_nbytes({k: v for k, v in vars(ctx).items() if k != "frame"})
    combos = sum(int(np.prod([ctx.heights[i] for i in g])) for g in ctx._groups)
    return own + 8 * ctx.n_base * (combos + int(ctx.heights.sum()))


def exhaustive_search(
    ctx: SearchContext, criteria: Criteria, metric: str = "loss", progress: Progress | None = None
) -> AnonymizationResult:
    """Evaluate every lattice node (the obvious reference / baseline for the fast search)."""
    return ctx.search(criteria, metric, progress=progress, exhaustive=True)
