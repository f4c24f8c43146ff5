"""The tuner without widgets: hierarchies, the class table, one node's risk and utility, saving.

:class:`TunerController` holds everything the de-identification tuner computes and decides;
:class:`~workbench.ui.tuner.TunerPanel` only draws it and turns widget events into calls. Tests
drive the controller directly (no ipywidgets here), so the panel's rules are checked without a
browser or a widget.

Latency, by design: the data are encoded once per dataset and quasi-identifier set (the
:class:`~workbench.deid.SearchContext` class table and the
:class:`~workbench.deid.live_utility.LiveUtility` pair counts); a slider change then evaluates
one lattice node on the class table and the utility report from its row counts, with no pass
over the records (milliseconds on a million rows). Searches (optimal levels, the frontier) run
with progress.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write_text
from ..dataset import as_pandas
from ..deid import (
    Criteria,
    Hierarchy,
    SearchContext,
    auto_hierarchy,
    compare,
    date_hierarchy,
    identity_hierarchy,
    masking_hierarchy,
)
from ..deid.comparison import UtilityReport
from ..deid.hierarchy import detect_date_format, looks_like_code, value_strings
from ..deid.live_utility import LiveUtility
from ..deid.search.lattice import NodeEvaluation
from ..errors import HierarchyError, ParameterError
from ..risk import class_size_summary, prosecutor_risk
from ._outputs import dataset_sources, output_path, record_output
from ._shares import shares_from_counts
from .state import AppState, Store

__all__ = [
    "TunerController",
    "Evaluation",
    "HIERARCHY_KINDS",
    "NodeView",
    "build_hierarchy",
    "default_hierarchy_kind",
    "detect_date_format",
    "evaluate_node",
    "released_shares",
    "original_shares",
    "binned_original_shares",
    "level_names",
    "LIVE_UTILITY_LIMIT",
    "CONFIG_FORMAT",
]

#: Hierarchy builders offered per QI.
HIERARCHY_KINDS: tuple[tuple[str, str], ...] = (
    ("automatic", "auto"),
    ("ARX hierarchy file", "arx"),
    ("date: day > month > year > decade", "date"),
    ("code: mask digits from the right", "mask"),
    ("category: value or *", "identity"),
)
#: Records up to which the utility comparison follows every change (the class-table
#: comparison costs milliseconds; above this the encoding itself is the cost, so a button).
LIVE_UTILITY_LIMIT = 5_000_000
CONFIG_FORMAT = "workbench-deid-config"
DIST_TOP = 40  # categories drawn per side (rarer ones, and any below 5 records, pooled)


# ------------------------------------------------------------------------------------------------
# Hierarchies
# ------------------------------------------------------------------------------------------------


def default_hierarchy_kind(values: pd.Series, has_file: bool = False) -> str:
    """ARX file when given; dates by day/month/year; digit codes by masking; else automatic."""
    if has_file:
        return "arx"
    if detect_date_format(values) is not None:
        return "date"
    if looks_like_code(values):
        return "mask"
    return "auto"


def _with_missing_leaf(h: Hierarchy, values: pd.Series, name: str) -> Hierarchy:
    if not values.isna().any() or h.missing_leaf() is not None:
        return h
    top = ["NA"] * (h.levels - 1) + ["*"] if h.levels > 1 else ["NA"]
    return Hierarchy.from_rows([*h.rows, tuple(top)], name=name)


def build_hierarchy(
    kind: str, values: pd.Series, column: str, arx_file: str | Path | None = None
) -> tuple[Hierarchy, str]:
    """Build the hierarchy of ``kind`` for a column; returns it and a sentence describing it."""
    if kind == "arx":
        if arx_file is None:
            raise HierarchyError(f"no ARX hierarchy file is known for column {column!r}")
        return Hierarchy.from_csv(arx_file, name=column), f"ARX hierarchy {Path(arx_file).name}"
    if kind == "auto":
        return auto_hierarchy(values, name=column)
    present = values.dropna()
    if kind == "date":
        fmt = detect_date_format(values)
        if fmt is None:
            raise HierarchyError(f"column {column!r} does not hold dates in a known format")
        h = date_hierarchy(value_strings(present), date_format=fmt, name=column)
        what = f"dates ({fmt}) generalized to month, year, decade"
    elif kind == "mask":
        h = masking_hierarchy(value_strings(present), name=column)
        what = "characters masked from the right, one per level"
    elif kind == "identity":
        h = identity_hierarchy(value_strings(present), name=column)
        what = "each value, or suppressed (*)"
    else:
        raise ParameterError("kind", kind, f"one of {', '.join(k for _, k in HIERARCHY_KINDS)}")
    return _with_missing_leaf(h, values, column), what


def level_names(kind: str, h: Hierarchy) -> list[str]:
    """Plain names of a hierarchy's levels for the level slider's label."""
    if kind == "date" and h.levels == 5:
        return ["day", "month", "year", "decade", "suppressed (*)"]
    names = []
    for j in range(h.levels):
        n = len(h.values(j))
        if j == 0:
            names.append(f"original ({n:,} values)")
        elif j == h.max_level and n == 1:
            names.append("suppressed (*)")
        elif kind == "mask":
            names.append(f"{j} character{'s' if j > 1 else ''} masked ({n:,} groups)")
        else:
            names.append(f"level {j} ({n:,} groups)")
    return names


# ------------------------------------------------------------------------------------------------
# One lattice node, from the class table only
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NodeView:
    """What generalizing to ``levels`` under ``criteria`` does to the data (aggregates only).

    Attributes
    ----------
    evaluation : NodeEvaluation
        Acceptability within the suppression limit, information loss, suppressed records.
    released_sizes : numpy.ndarray
        Sizes of the released (not suppressed) equivalence classes.
    suppressed_rows : numpy.ndarray
        Per class-table row of the context: suppressed or not.
    class_ids : numpy.ndarray
        Per class-table row: its equivalence class at ``levels``.
    risk : dict
        Risk of the released records in the ``RiskProfile.to_dict()`` shape (records, classes,
        k, uniques, class-size histogram, prosecutor risk), plus ``records_total`` and
        ``suppressed``.
    """

    levels: Mapping[str, int]
    criteria: Criteria
    metric: str
    evaluation: NodeEvaluation
    released_sizes: np.ndarray
    suppressed_rows: np.ndarray
    class_ids: np.ndarray
    risk: Mapping[str, Any]


def evaluate_node(
    ctx: SearchContext,
    levels: Mapping[str, int],
    criteria: Criteria,
    threshold: float = 0.2,
    metric: str = "loss",
) -> NodeView:
    """Evaluate one generalization on the context's class table (no pass over the records).

    The risk block uses the published measures of :mod:`workbench.risk` (class-size summary,
    prosecutor risk; El Emam 2013) on the released classes: suppressed records are not
    released, so they are not at risk (ARX's convention).
    """
    node = tuple(int(levels[q]) for q in ctx.qis)
    ev = ctx.evaluate(node, criteria, metric)
    cid, sizes = ctx.classes(node)
    # the search's own suppression rule (k, l-diversity, t-closeness per class); limit = all
    viol, _, _ = ctx._violations(cid, sizes, criteria, ctx.n_records)
    released = sizes[~viol]
    summary = class_size_summary(released)
    pros = prosecutor_risk(released, threshold=threshold)
    risk = {
        "qis": list(ctx.qis),
        "levels": {q: int(v) for q, v in zip(ctx.qis, node, strict=True)},
        "records": summary.records,
        "records_total": ctx.n_records,
        "suppressed": ctx.n_records - summary.records,
        "classes": summary.classes,
        "min_class_size": summary.min_class_size,
        "max_class_size": summary.max_class_size,
        "mean_class_size": summary.mean_class_size,
        "sample_uniques": summary.sample_uniques,
        "sample_uniqueness": summary.sample_uniqueness,
        "class_size_histogram": {str(k): v for k, v in summary.histogram.items()},
        "prosecutor": pros.to_dict(),
        # every privacy model in force, in plain words (the registered models, none named here)
        "targets": [m.describe() for m in criteria.privacy_models()],
    }
    return NodeView(
        levels={q: int(v) for q, v in zip(ctx.qis, node, strict=True)},
        criteria=criteria,
        metric=metric,
        evaluation=ev,
        released_sizes=released,
        suppressed_rows=viol[cid],
        class_ids=cid,
        risk=risk,
    )


def released_shares(
    ctx: SearchContext, view: NodeView, column: str, top: int = 15, min_count: int = 5
) -> dict[str, float]:
    """Category shares of a QI in the released table (suppressed records shown as ``*``)."""
    i = ctx.qis.index(column)
    h = ctx.hierarchies_list[i]
    level = view.levels[column]
    codes = ctx.level_codes(i, level)
    counts = ctx.base_counts.astype(np.float64)
    keep = ~view.suppressed_rows
    labels = list(h.values(level))
    per = np.bincount(codes[keep], weights=counts[keep], minlength=len(labels))
    n_sup = float(counts[view.suppressed_rows].sum())
    if n_sup:
        if "*" in labels:
            per[labels.index("*")] += n_sup
        else:
            labels.append("*")
            per = np.append(per, n_sup)
    return shares_from_counts(labels, per, top=top, min_count=min_count)


def original_shares(
    ctx: SearchContext, column: str, top: int = 15, min_count: int = 5, level: int = 0
) -> dict[str, float]:
    """Category shares of a QI in the original records, generalized to ``level``.

    Comparing before and after at the same level shows what generalization and suppression
    change; raw values next to their generalized form (dates vs decades) compare nothing.
    """
    i = ctx.qis.index(column)
    h = ctx.hierarchies_list[i]
    labels = list(h.values(level))
    codes = ctx.base_codes[:, i] if level == 0 else ctx.level_codes(i, level)
    per = np.bincount(codes, weights=ctx.base_counts.astype(np.float64), minlength=len(labels))
    return shares_from_counts(labels, per, top=top, min_count=min_count)


def binned_original_shares(ctx: SearchContext, column: str, bins: int = 15) -> dict[str, float]:
    """Original numeric values in equal-width bins (``{}`` when the leaves are not numbers).

    When most single values are too rare to be drawn (fewer than 5 records each), they would
    all be pooled into "other"; bins keep the shape of the original distribution visible while
    still never drawing a value held by fewer than 5 records.
    """
    i = ctx.qis.index(column)
    h = ctx.hierarchies_list[i]
    values = pd.to_numeric(pd.Series(h.leaves), errors="coerce").to_numpy(dtype=float)
    counts = np.bincount(
        ctx.base_codes[:, i], weights=ctx.base_counts.astype(np.float64), minlength=len(values)
    )
    ok = ~np.isnan(values) & (counts > 0)
    if ok.sum() < 2:
        return {}
    lo, hi = float(values[ok].min()), float(values[ok].max())
    width = max((hi - lo) / bins, 1e-12)
    if float(lo).is_integer() and float(hi).is_integer():
        width = max(1.0, float(np.ceil(width)))
    idx = np.minimum(((values[ok] - lo) // width).astype(int), bins - 1)
    per = np.bincount(idx, weights=counts[ok], minlength=bins)
    labels = [f"{lo + j * width:g}-{lo + (j + 1) * width:g}" for j in range(bins)]
    rest = float(counts[~ok].sum())
    if rest:
        labels.append("other")
        per = np.append(per, rest)
    return shares_from_counts(labels, per, top=DIST_TOP)


# ------------------------------------------------------------------------------------------------
# The controller
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One refresh of the tuner: the node's risk, its utility and the QI distributions.

    ``utility`` is ``None`` above the live limit (the panel offers a button); ``elapsed``
    holds seconds per part (``node``, ``utility``, ``distributions``) for the latency bench.
    """

    view: NodeView
    utility: UtilityReport | None
    distributions: Mapping[str, Mapping[str, Mapping[str, float]]]
    elapsed: Mapping[str, float]


class TunerController:
    """The tuner's state and computations, without widgets.

    Parameters
    ----------
    store : Store
        The app state; :meth:`evaluate` publishes ``risk_after``, ``utility``,
        ``distributions`` and ``transform_config`` to it.
    output_dir : path, optional
        Where :meth:`save_config` and :meth:`save_data` write (never over the input).
    hierarchy_files : mapping column -> ARX CSV path, optional
    live_utility_limit : int
        Largest table whose utility is compared on every change.
    """

    def __init__(
        self,
        store: Store,
        output_dir: str | Path | None = None,
        hierarchy_files: Mapping[str, str | Path] | None = None,
        live_utility_limit: int = LIVE_UTILITY_LIMIT,
    ) -> None:
        self.store = store
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.hierarchy_files = {str(k): Path(v) for k, v in (hierarchy_files or {}).items()}
        self.live_utility_limit = live_utility_limit
        self.ctx: SearchContext | None = None
        self.live: LiveUtility | None = None
        self.view: NodeView | None = None
        self.hierarchies: dict[str, Hierarchy] = {}
        self.kinds: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self._before: dict[str, dict[str, float]] = {}
        self._key: Any = None

    # ------------------------------------------------------------------ dataset and roles
    @property
    def utility_is_live(self) -> bool:
        return self.ctx is not None and self.ctx.n_records <= self.live_utility_limit

    def frame(self) -> pd.DataFrame:
        return as_pandas(self.store.state.dataset)

    def arx_file(self, column: str) -> Path | None:
        """The ARX hierarchy file for ``column``: given by the notebook, or the Adult sample's."""
        if column in self.hierarchy_files:
            return self.hierarchy_files[column]
        ds = self.store.state.dataset
        if ds is None or not ds.source:
            return None
        try:
            from ..samples import adult_hierarchy_paths, sample_path

            if Path(ds.source).resolve() == sample_path("adult").resolve():
                return adult_hierarchy_paths().get(column)
        except Exception:  # samples missing: no files to offer
            return None
        return None

    def kind_options(self, column: str) -> list[tuple[str, str]]:
        """Hierarchy kinds offered for ``column`` (the ARX file only when one exists)."""
        has = self.arx_file(column) is not None
        return [(lbl, v) for lbl, v in HIERARCHY_KINDS if v != "arx" or has]

    def reset(self, state: AppState) -> bool:
        """Forget everything of the previous dataset or QIs; ``False`` when nothing changed.

        Each QI gets its default hierarchy; call :meth:`encode` afterwards.
        """
        key = (id(state.dataset), state.qis, state.sensitive)
        if key == self._key:
            return False
        self._key = key
        self.ctx = self.live = self.view = None
        self.hierarchies, self.notes, self.kinds, self._before = {}, {}, {}, {}
        if state.dataset is None or not state.qis:
            return True
        frame = self.frame()
        for q in state.qis:
            arx = self.arx_file(q)
            self.set_hierarchy(q, default_hierarchy_kind(frame[q], has_file=arx is not None))
        return True

    def set_hierarchy(self, column: str, kind: str) -> Hierarchy:
        """Build and keep the hierarchy of ``kind`` for ``column`` (re-encode afterwards)."""
        h, what = build_hierarchy(kind, self.frame()[column], column, self.arx_file(column))
        self.hierarchies[column], self.notes[column], self.kinds[column] = h, what, kind
        return h

    def level_names(self, column: str) -> list[str]:
        return level_names(self.kinds[column], self.hierarchies[column])

    def encode(self) -> None:
        """Encode the class table (and the utility pair counts) once for these hierarchies."""
        st = self.store.state
        self.view, self._before = None, {}
        if st.dataset is None or not st.qis:
            self.ctx = self.live = None
            return
        self.ctx = SearchContext(st.dataset, st.qis, dict(self.hierarchies), st.sensitive)
        self.live = None
        if self.utility_is_live:
            cols = [c for c in self.ctx.frame.columns if c not in st.direct_identifiers]
            self.live = LiveUtility(self.ctx, cols)

    # ------------------------------------------------------------------ evaluating
    def criteria(self, k: int, suppression: float, l: int | None = None) -> Criteria:  # noqa: E741
        """The targets; ``l`` applies only when sensitive attributes are chosen (0 = off)."""
        l_val = int(l) if l else None
        if l_val is not None and not self.store.state.sensitive:
            l_val = None
        return Criteria(k=int(k), l=l_val, suppression=float(suppression))

    def evaluate(
        self,
        levels: Mapping[str, int],
        criteria: Criteria,
        metric: str = "loss",
        utility: bool | None = None,
    ) -> Evaluation | None:
        """Risk, utility and distributions of ``levels`` under ``criteria``, published to the
        store (``None`` without quasi-identifiers). ``utility`` defaults to the live rule."""
        st = self.store.state
        if self.ctx is None:
            self.view = None
            return None
        t0 = time.perf_counter()
        view = evaluate_node(self.ctx, levels, criteria, st.threshold, metric)
        self.view = view
        t1 = time.perf_counter()
        report = None
        if self.utility_is_live if utility is None else utility:
            report = self.utility(view)
        t2 = time.perf_counter()
        dists = {
            q: {
                "before": self.before(q),
                "after": released_shares(self.ctx, view, q, top=DIST_TOP),
            }
            for q in self.ctx.qis
        }
        t3 = time.perf_counter()
        self.store.set(
            transform_config=self.config(levels, criteria, metric),
            risk_after=dict(view.risk),
            utility=report,
            distributions=dists,
        )
        return Evaluation(
            view,
            report,
            dists,
            {"node": t1 - t0, "utility": t2 - t1, "distributions": t3 - t2},
        )

    def utility(self, view: NodeView) -> UtilityReport:
        """Utility of ``view``: from the class table when encoded, else :func:`compare`."""
        if self.live is None:
            self.live = LiveUtility(
                self.ctx,
                [c for c in self.ctx.frame.columns if c not in self.store.state.direct_identifiers],
            )
        return self.live.compare(view.levels, view.suppressed_rows)

    def reference_utility(self, view: NodeView) -> UtilityReport:
        """The same report from the transformed records (the slow reference)."""
        out, sup = self.transformed(view.levels, view.criteria)
        return compare(
            self.frame()[list(out.columns)],
            out,
            suppressed=sup,
            qis=list(self.ctx.qis),
            hierarchies=dict(self.hierarchies),
            levels=dict(view.levels),
            information_loss=False,
        )

    def before(self, column: str) -> dict[str, float]:
        """The original distribution of a QI at full granularity (binned when too fine)."""
        if column not in self._before:
            shares = original_shares(self.ctx, column, top=DIST_TOP)
            if shares.get("other", 0.0) > 0.2:
                shares = binned_original_shares(self.ctx, column) or shares
            self._before[column] = shares
        return self._before[column]

    def search(
        self, criteria: Criteria, metric: str = "loss", progress: Callable | None = None
    ) -> Any:
        """The optimal levels for ``criteria`` (published as ``transform`` when found)."""
        if self.ctx is None:
            raise ParameterError("quasi-identifiers", [], "at least one quasi-identifier")
        result = self.ctx.search(criteria, metric, progress=progress)
        if result.found:
            self.store.set(transform=result)
        return result

    def transformed(
        self, levels: Mapping[str, int], criteria: Criteria
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The generalized table (direct identifiers dropped) and the suppression mask."""
        if self.ctx is None:
            raise ParameterError("quasi-identifiers", [], "at least one quasi-identifier")
        out, sup = self.ctx.transform(levels, criteria)
        drop = [c for c in self.store.state.direct_identifiers if c in out.columns]
        return out.drop(columns=drop), sup

    # ------------------------------------------------------------------ configuration
    def config(
        self, levels: Mapping[str, int], criteria: Criteria, metric: str = "loss"
    ) -> dict[str, Any]:
        """The settings as saved to JSON: enough to redo the transformation on the same file."""
        st = self.store.state
        ds = st.dataset
        ev = self.view.evaluation if self.view is not None else None
        return {
            "format": CONFIG_FORMAT,
            "version": 1,
            "dataset": {
                "name": ds.name if ds is not None else None,
                "file": Path(ds.source).name if ds is not None and ds.source else None,
                "sha256": ds.sha256 if ds is not None else None,
            },
            "strategy": "full-domain generalization with record suppression",
            "qis": list(st.qis),
            "sensitive": list(st.sensitive),
            "direct_identifiers_dropped": list(st.direct_identifiers),
            "hierarchies": {
                q: {
                    "kind": self.kinds[q],
                    "levels": self.hierarchies[q].levels,
                    "description": self.notes.get(q, ""),
                }
                for q in self.kinds
            },
            "levels": {q: int(v) for q, v in levels.items()},
            "criteria": criteria.to_dict(),
            "metric": metric,
            "score": None if ev is None else ev.score,
            "acceptable": None if ev is None else bool(ev.acceptable),
            "suppressed": None if ev is None else int(ev.suppressed),
            "risk_threshold": st.threshold,
        }

    def output_path(self, suffix: str) -> Path:
        return output_path(self.store, self.output_dir, suffix)

    def _sources(self) -> list[str]:
        return dataset_sources(self.store)

    def _record(self, operation: str, path: Path, parameters: Mapping[str, Any]) -> None:
        record_output(self.store, operation, path, parameters)

    def save_config(
        self, levels: Mapping[str, int], criteria: Criteria, metric: str = "loss"
    ) -> Path:
        """Write the configuration JSON (atomic, with its provenance record)."""
        path = self.output_path(".deid-config.json")
        cfg = self.config(levels, criteria, metric)
        atomic_write_text(path, json.dumps(cfg, indent=2) + "\n", sources=self._sources())
        self._record("deid-config", path, cfg)
        return path

    def save_data(
        self, levels: Mapping[str, int], criteria: Criteria, metric: str = "loss"
    ) -> tuple[Path, Any, int]:
        """Write the release through the one release path; (path, release report, records)."""
        from ..deid.release import write_release

        if self.ctx is None:
            raise ParameterError("quasi-identifiers", [], "at least one quasi-identifier")
        st = self.store.state
        path = self.output_path(".deidentified.csv")
        out, _sup = self.ctx.transform(levels, criteria)
        # the confirmed direct identifiers, plus any the release rule finds (suggested roles
        # of unlisted columns, identifier-like values), are dropped
        report = write_release(
            out,
            path,
            "drop",
            roles=st.roles,
            direct_identifiers=st.direct_identifiers,
            sources=self._sources(),
        )
        self._record(
            "anonymize",
            path,
            {**self.config(levels, criteria, metric), "release": report.to_dict()},
        )
        return path, report, len(out)
