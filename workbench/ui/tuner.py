"""De-identification tuner: hierarchies, levels and targets, with risk and utility live.

The data are encoded once into a :class:`~workbench.deid.SearchContext` (the class table of
the QIs' leaf codes). Moving a level slider or a target (k, suppression limit, l) evaluates one
lattice node on that table -- a roll-up, no re-scan -- so the risk of the released records, the
class-size histogram and the QI distributions follow the sliders at once; "Find optimal levels"
runs the search for the least information loss under the targets. The full utility comparison
(:func:`workbench.deid.compare`) needs the transformed table, so it runs live only up to
``live_utility_limit`` records, and behind a button above.

Outputs (configuration JSON, transformed data) are written atomically into the output folder
the notebook names, under names derived from the dataset name (sanitised), never over the input.
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import charts
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
from ..deid.hierarchy import detect_date_format, looks_like_code, value_strings
from ..deid.lattice import METRICS, NodeEvaluation
from ..errors import HierarchyError, ParameterError
from ..risk import class_size_summary, prosecutor_risk
from ._charts_extra import FigureSlot, distribution_side_by_side, shares_from_counts
from ._common import ErrorBox, ProgressBar, at_risk_meaning, guarded, k_meaning
from .risk import current_risk, risk_is_current
from .state import AppState, Store, reacting, safe_name

__all__ = [
    "TunerPanel",
    "HIERARCHY_KINDS",
    "NodeView",
    "build_hierarchy",
    "default_hierarchy_kind",
    "detect_date_format",
    "evaluate_node",
    "released_shares",
    "original_shares",
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
#: Records up to which the full utility comparison runs on every change.
LIVE_UTILITY_LIMIT = 200_000
CONFIG_FORMAT = "workbench-deid-config"
_DIST_TOP = 40  # categories drawn per side (rarer ones, and any below 5 records, pooled)


def _wrap() -> widgets.Layout:
    """A row that wraps: at 1280 px a second panel goes below instead of off-screen."""
    return widgets.Layout(flex_flow="row wrap", align_items="flex-start", max_width="100%")


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


def _level_names(kind: str, h: Hierarchy) -> list[str]:
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


_BASIS_WORDS = {
    "generalized level": "original mapped to the released level",
    "interval midpoints": "released intervals at their midpoints",
}


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
    return shares_from_counts(labels, per, top=_DIST_TOP)


def utility_html(report: Any, view: NodeView | None = None) -> str:
    """Utility in plain words: each figure as a percentage with what it means."""
    rows = []
    if view is not None:
        ev = view.evaluation
        loss = (
            "n/a (the targets are not met)"
            if ev.score is None
            else f"{ev.score:.1%} of the detail removed"
        )
        rows.append((f"information loss ({view.metric}; 0 % = none, 100 % = everything)", loss))
    if report is not None:
        d = report.to_dict()
        n, sup = d["records_original"], d["records_suppressed"]
        rows.append(
            ("records suppressed", f"{sup:,} of {n:,} people ({_pct(sup / n if n else 0)})")
        )
        if d.get("mean_crosstab_difference") is not None:
            rows.append(
                (
                    "pairs of attributes (two-way tables)",
                    f"cell shares move by {d['mean_crosstab_difference']:.2%} points on average",
                )
            )
        for a in d.get("attributes") or []:
            basis = _BASIS_WORDS.get(a.get("basis") or "", "")
            if a.get("wasserstein_normalized") is not None:
                val = f"values moved by {a['wasserstein_normalized']:.1%} of their range"
                how = "Wasserstein distance / range"
            elif a.get("total_variation") is not None:
                val = f"{a['total_variation']:.1%} of people in a different category"
                how = "total variation distance"
            else:
                continue
            label = f"{a['column']} ({how}{'; ' + basis if basis else ''})"
            rows.append((label, val))
    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return (
        "<div class='wb-utility'><table class='wb-table'><thead><tr><th>utility</th><th>value"
        f"</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def tuner_summary_html(view: NodeView) -> str:
    """Headline of the chosen node (class ``wb-tuner-summary``)."""
    r, ev, crit = view.risk, view.evaluation, view.criteria
    limit = crit.suppression_limit(r["records_total"])
    ok = (
        "<span class='wb-ok' style='color:#2a7'>meets the targets</span>"
        if ev.acceptable
        else f"<span class='wb-fail' style='color:#c00'>does not meet the targets "
        f"({ev.suppressed:,} records would need suppression; limit {limit:,})</span>"
    )
    pros = r["prosecutor"]
    at_risk = int(round(pros["records_at_risk"] * r["records"]))
    meaning = k_meaning(r["min_class_size"] if r["records"] else None, r["qis"])
    if r["suppressed"]:
        meaning += f" {r['suppressed']:,} records are suppressed (not released)."
    risk_words = at_risk_meaning(at_risk, r["records"], pros["threshold"])
    return (
        "<div class='wb-tuner-numbers'>"
        f"<div style='font-size:1.15em'><span class='wb-k'>k = {r['min_class_size']}</span> "
        f"&middot; {r['classes']:,} classes &middot; {r['suppressed']:,} records suppressed "
        f"&middot; {ok}</div>"
        f"<div>released records: {r['records']:,}; highest risk {_pct(pros['highest'])}; "
        f"average risk {_pct(pros['average'])}; records at risk: {at_risk:,} "
        f"({_pct(pros['records_at_risk'])}) above {pros['threshold']:g}</div>"
        "<div class='wb-tuner-targets'>targets: "
        + "; ".join(html.escape(t) for t in r.get("targets", []))
        + "</div>"
        f"<div class='wb-meaning' style='color:#444'>{html.escape(meaning)}</div>"
        f"<div class='wb-meaning' style='color:#444'>{html.escape(risk_words)}</div></div>"
    )


# ------------------------------------------------------------------------------------------------
# The panel
# ------------------------------------------------------------------------------------------------


class TunerPanel:
    """Per-QI hierarchy and level, targets, live risk and utility, search, save.

    Parameters
    ----------
    store : Store
    output_dir : path, optional
        Where "Save" writes (from the notebook's parameters; never from a widget).
    hierarchy_files : mapping column -> ARX CSV path, optional
        Hierarchies the notebook supplies; the Adult sample's are found automatically.
    k, suppression : initial targets.
    auto_search : bool
        Search the optimal levels when the panel opens and whenever a target changes (the
        level sliders stay free to move by hand).
    live_utility_limit : int
        Largest table for which the utility comparison runs on every change.
    """

    def __init__(
        self,
        store: Store,
        output_dir: str | Path | None = None,
        hierarchy_files: Mapping[str, str | Path] | None = None,
        *,
        k: int = 5,
        suppression: float = 0.05,
        metric: str = "loss",
        live_utility_limit: int = LIVE_UTILITY_LIMIT,
        auto_search: bool = True,
    ) -> None:
        self.store = store
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.hierarchy_files = {str(k_): Path(v) for k_, v in (hierarchy_files or {}).items()}
        self.live_utility_limit = live_utility_limit
        self.errors = ErrorBox()
        self.ctx: SearchContext | None = None
        self.view: NodeView | None = None
        self.kinds: dict[str, widgets.Dropdown] = {}
        self.levels: dict[str, widgets.IntSlider] = {}
        self.level_labels: dict[str, widgets.Label] = {}
        self._kind_of: dict[str, str] = {}
        self._hierarchies: dict[str, Hierarchy] = {}
        self._notes: dict[str, str] = {}
        self._before_cache: dict[tuple[str, int], dict[str, float]] = {}
        self._syncing = False
        self._ctx_key: Any = None
        g = guarded(self.errors)
        self.k = widgets.IntSlider(value=k, min=1, max=50, description="k", continuous_update=False)
        self.k.add_class("wb-k-slider")
        self.suppression = widgets.FloatSlider(
            value=suppression,
            min=0.0,
            max=0.2,
            step=0.01,
            description="suppression limit",
            readout_format=".0%",
            continuous_update=False,
            style={"description_width": "120px"},
        )
        self.l_div = widgets.IntSlider(
            value=0, min=0, max=10, description="l (0 = off)", continuous_update=False
        )
        self.metric = widgets.Dropdown(
            options=list(METRICS), value=metric, description="loss metric"
        )
        self.search_button = widgets.Button(
            description="Find optimal levels",
            icon="search",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        self.search_button.add_class("wb-search-button")
        self.auto = widgets.Checkbox(
            value=auto_search, description="re-optimise levels when targets change", indent=False
        )
        self.auto.add_class("wb-auto-search")
        self.progress = ProgressBar("search")
        self.progress.bar.layout.width = "260px"  # the label stays readable in a wrapping row
        self.busy = widgets.HTML("")
        self.busy.add_class("wb-tuner-busy")
        self.summary = widgets.HTML("")
        self.summary.add_class("wb-tuner-summary")
        self.utility = widgets.HTML("")
        self.utility_button = widgets.Button(
            description="Compare utility", icon="balance-scale", layout=widgets.Layout(width="auto")
        )
        self.dist_column = widgets.Dropdown(
            options=[], description="distribution of", style={"description_width": "initial"}
        )
        self.save_config = widgets.Button(
            description="Save configuration (JSON)",
            icon="save",
            layout=widgets.Layout(width="auto"),
        )
        self.save_data = widgets.Button(
            description="Save transformed data", icon="save", layout=widgets.Layout(width="auto")
        )
        self.saved = widgets.HTML("")
        self.qi_rows = widgets.VBox([])
        self.figures: dict[str, go.Figure] = {}

        for w in (self.k, self.suppression, self.l_div, self.metric):
            w.observe(g(self._on_target), names="value")
        self.dist_column.observe(g(self._on_dist_column), names="value")
        self.search_button.on_click(g(self._on_search))
        self.utility_button.on_click(g(self._on_utility_button))
        self.save_config.on_click(g(self._on_save_config))
        self.save_data.on_click(g(self._on_save_data))
        for b in (self.save_config, self.save_data):
            b.layout.display = "" if self.output_dir is not None else "none"
        store.subscribe(reacting(self.errors)(self._on_state))

        g(self._rebuild)(store.state)
        before, after = self._risk_dicts()
        self.compare_fig = FigureSlot(
            self._fig("compare", before, after), css_class="wb-before-after"
        )
        self.hist_fig = FigureSlot(self._fig("hist", before, after), css_class="wb-after-histogram")
        self.dist_out = FigureSlot(self._dist_figure(), css_class="wb-distribution")
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>4. De-identification</h3><p>Choose a generalization hierarchy and "
                    "level for each quasi-identifier and the targets; risk and utility follow. "
                    "<i>Find optimal levels</i> picks the levels with the least information loss "
                    "that meet the targets.</p>"
                ),
                self.qi_rows,
                widgets.HBox([self.k, self.suppression, self.l_div, self.metric]),
                widgets.Box(
                    [self.search_button, self.auto, self.busy, self.progress.widget],
                    layout=_wrap(),
                ),
                self.summary,
                self.errors.widget,
                widgets.Box([self.compare_fig.widget, self.hist_fig.widget], layout=_wrap()),
                widgets.Box(
                    [
                        widgets.VBox([self.dist_column, self.dist_out.widget]),
                        widgets.VBox([self.utility, self.utility_button]),
                    ],
                    layout=_wrap(),
                ),
                widgets.HBox([self.save_config, self.save_data]),
                self.saved,
            ]
        )
        self.ui.add_class("wb-tuner")

    @contextlib.contextmanager
    def working(self, what: str) -> Iterator[None]:
        """Show what runs while it runs (the kernel sends the message before the work)."""
        self.busy.value = (
            f"<span class='wb-busy' style='color:#a60'>&#8987; {html.escape(what)}…</span>"
        )
        try:
            yield
        finally:
            self.busy.value = ""

    # ------------------------------------------------------------------ building
    def _arx_file(self, column: str) -> Path | None:
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

    def _frame(self) -> pd.DataFrame:
        return as_pandas(self.store.state.dataset)

    def _rebuild(self, state: AppState) -> None:
        """New QI rows and search context for the current dataset and roles."""
        key = (id(state.dataset), state.qis, state.sensitive)
        if key == self._ctx_key:
            return
        self._ctx_key = key
        self.errors.clear()
        self.ctx, self.view = None, None
        self._hierarchies, self._notes, self._kind_of = {}, {}, {}
        self._before_cache = {}
        self.kinds, self.levels, self.level_labels = {}, {}, {}
        if state.dataset is None or not state.qis:
            self.qi_rows.children = (widgets.HTML("<p>Choose quasi-identifiers first.</p>"),)
            self._syncing = True
            try:
                self.dist_column.options = []
            finally:
                self._syncing = False
            self._evaluate()
            return
        frame = self._frame()
        rows = []
        g = guarded(self.errors)
        for q in state.qis:
            arx = self._arx_file(q)
            kind = default_hierarchy_kind(frame[q], has_file=arx is not None)
            options = [(lbl, v) for lbl, v in HIERARCHY_KINDS if v != "arx" or arx is not None]
            dd = widgets.Dropdown(
                options=options,
                value=kind,
                description=q,
                style={"description_width": "140px"},
                layout=widgets.Layout(width="420px"),
            )
            dd.add_class("wb-hierarchy")
            sl = widgets.IntSlider(
                value=0, min=0, max=1, description="level", continuous_update=False
            )
            sl.add_class("wb-level")
            lbl = widgets.Label("")
            self.kinds[q], self.levels[q], self.level_labels[q] = dd, sl, lbl
            self._set_hierarchy(q, kind)
            dd.observe(g(self._on_kind), names="value")
            sl.observe(g(self._on_level), names="value")
            rows.append(widgets.HBox([dd, sl, lbl]))
        self.qi_rows.children = tuple(rows)
        self.l_div.disabled = not state.sensitive
        self._syncing = True
        try:
            self.dist_column.options = list(state.qis)
            self.dist_column.value = state.qis[0]
        finally:
            self._syncing = False
        self._prepare()
        if not risk_is_current(self.store.state):  # "before", for the comparison chart
            self.store.set(risk=current_risk(self.store.state))

    def _set_hierarchy(self, q: str, kind: str) -> None:
        h, what = build_hierarchy(kind, self._frame()[q], q, self._arx_file(q))
        self._hierarchies[q], self._notes[q], self._kind_of[q] = h, what, kind
        sl = self.levels[q]
        self._syncing = True
        try:
            sl.value = min(sl.value, h.max_level)
            sl.max = max(h.max_level, 1)
            sl.disabled = h.max_level == 0
        finally:
            self._syncing = False
        self._label(q)

    def _label(self, q: str) -> None:
        names = _level_names(self._kind_of[q], self._hierarchies[q])
        self.level_labels[q].value = names[min(self.levels[q].value, len(names) - 1)]

    def _prepare(self) -> None:
        st = self.store.state
        with self.working(f"encoding {st.dataset.n_rows:,} records"):
            self.ctx = SearchContext(st.dataset, st.qis, dict(self._hierarchies), st.sensitive)
        self._before_cache = {}
        if self.auto.value:
            self.run_search()
        else:
            self._evaluate()

    # ------------------------------------------------------------------ evaluating
    def criteria(self) -> Criteria:
        l_val = int(self.l_div.value) or None
        if l_val is not None and not self.store.state.sensitive:
            l_val = None
        return Criteria(k=int(self.k.value), l=l_val, suppression=float(self.suppression.value))

    def current_levels(self) -> dict[str, int]:
        return {q: int(sl.value) for q, sl in self.levels.items()}

    def _evaluate(self) -> None:
        with self.working("updating risk and utility"):
            self._evaluate_now()

    def _evaluate_now(self) -> None:
        st = self.store.state
        if self.ctx is None:
            self.view = None
            self.summary.value = "<div class='wb-tuner-numbers'>No quasi-identifiers.</div>"
            self._redraw()
            return
        view = evaluate_node(
            self.ctx, self.current_levels(), self.criteria(), st.threshold, self.metric.value
        )
        self.view = view
        report = None
        if self.ctx.n_records <= self.live_utility_limit:
            report = self._compare(view)
        self.summary.value = tuner_summary_html(view)
        self.utility.value = utility_html(report, view)
        # the original granularity next to the released one (not both at the released level)
        dists = {
            q: {
                "before": self._before(q, 0),
                "after": released_shares(self.ctx, view, q, top=_DIST_TOP),
            }
            for q in self.ctx.qis
        }
        self.store.set(
            transform_config=self.config(),
            risk_after=dict(view.risk),
            utility=report,
            distributions=dists,
        )
        self._redraw()

    def _before(self, q: str, level: int = 0) -> dict[str, float]:
        if (q, level) not in self._before_cache:
            shares = original_shares(self.ctx, q, top=_DIST_TOP, level=level)
            if level == 0 and shares.get("other", 0.0) > 0.2:
                shares = binned_original_shares(self.ctx, q) or shares
            self._before_cache[q, level] = shares
        return self._before_cache[q, level]

    def transformed(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The generalized table at the current levels (direct identifiers dropped)."""
        if self.ctx is None:
            raise ParameterError("quasi-identifiers", [], "at least one quasi-identifier")
        out, sup = self.ctx.transform(self.current_levels(), self.criteria())
        drop = [c for c in self.store.state.direct_identifiers if c in out.columns]
        return out.drop(columns=drop), sup

    def _compare(self, view: NodeView) -> Any:
        st = self.store.state
        out, sup = self.transformed()
        original = self._frame()[list(out.columns)]
        return (
            compare(
                original,
                out,
                suppressed=sup,
                qis=list(self.ctx.qis),
                hierarchies=dict(self._hierarchies),
                levels=dict(view.levels),
                information_loss=False,
            )
            if st.dataset is not None
            else None
        )

    def _risk_dicts(self) -> tuple[dict, dict]:
        st = self.store.state
        before = {}
        if st.risk is not None and tuple(st.risk.qis) == st.qis:
            before = st.risk.to_dict()
        after = dict(self.view.risk) if self.view is not None else {}
        return before, after

    def _fig(self, name: str, before: dict, after: dict) -> go.Figure:
        if name == "compare":
            fig = (
                charts.before_after(before, after)
                if before or after
                else charts.empty_figure("nothing to compare", "")
            )
        else:
            fig = (
                charts.class_size_histogram(after).update_layout(
                    title=f"After: records by class size (k = {after.get('min_class_size')})"
                )
                if after
                else charts.empty_figure("no transformation", "")
            )
        self.figures[name] = fig
        return fig

    def _dist_figure(self) -> go.Figure:
        col = self.dist_column.value
        dists = self.store.state.distributions or {}
        if col is None or col not in dists:
            fig = charts.empty_figure("no distribution", "")
        else:
            level = self.levels[col].value if col in self.levels else 0
            label = "released" if level == 0 else f"released (level {level})"
            fig = distribution_side_by_side(dists[col]["before"], dists[col]["after"], col, label)
        self.figures["dist"] = fig
        return fig

    def _redraw(self) -> None:
        if not hasattr(self, "hist_fig"):  # constructing: figures are built with their data
            return
        before, after = self._risk_dicts()
        self.compare_fig.show(self._fig("compare", before, after))
        self.hist_fig.show(self._fig("hist", before, after))
        self.dist_out.show(self._dist_figure())

    # ------------------------------------------------------------------ configuration
    def config(self) -> dict[str, Any]:
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
                    "kind": self._kind_of[q],
                    "levels": self._hierarchies[q].levels,
                    "description": self._notes.get(q, ""),
                }
                for q in self._kind_of
            },
            "levels": self.current_levels(),
            "criteria": self.criteria().to_dict(),
            "metric": self.metric.value,
            "score": None if ev is None else ev.score,
            "acceptable": None if ev is None else bool(ev.acceptable),
            "suppressed": None if ev is None else int(ev.suppressed),
            "risk_threshold": st.threshold,
        }

    # ------------------------------------------------------------------ events
    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if changed & {"dataset", "roles"}:
            self._rebuild(state)
        if "risk" in changed and not (changed & {"dataset", "roles"}):
            self._redraw()
        elif "threshold" in changed and self.ctx is not None:
            self._evaluate()

    def _on_kind(self, change: dict[str, Any]) -> None:
        q = change["owner"].description
        self._set_hierarchy(q, change["new"])
        self._prepare()

    def _on_level(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        for q, sl in self.levels.items():
            if sl is change["owner"]:
                self._label(q)
        self._evaluate()

    def _on_target(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if self.auto.value and self.ctx is not None:
            self.run_search()
        else:
            self._evaluate()

    def _on_dist_column(self, change: dict[str, Any]) -> None:
        if not self._syncing and hasattr(self, "dist_out"):
            self.dist_out.show(self._dist_figure())

    def _on_utility_button(self, _: Any = None) -> None:
        if self.view is None:
            return
        report = self._compare(self.view)
        self.utility.value = utility_html(report, self.view)
        self.store.set(utility=report)

    def _on_search(self, _: Any = None) -> None:
        self.run_search()

    def run_search(self) -> None:
        """Search the optimal levels for the targets and show them (progress in the panel)."""
        if self.ctx is None:
            return
        self.search_button.disabled = True
        self.busy.value = (
            "<span class='wb-busy' style='color:#a60'>&#8987; searching the optimal levels…</span>"
        )
        try:
            result = self.ctx.search(self.criteria(), self.metric.value, progress=self.progress)
            if not result.found:
                self.progress.finish("no transformation meets the targets")
                self.errors.info(
                    "No combination of levels meets these targets within the suppression "
                    "limit; lower k or l, or allow more suppression."
                )
                self._evaluate()
                return
            self.progress.finish(
                f"done: {result.transformations_checked:,} of {result.lattice_size:,} "
                "transformations checked"
            )
            self.set_levels(result.levels)
            self.store.set(transform=result)
        finally:
            self.search_button.disabled = False
            self.busy.value = ""

    def set_levels(self, levels: Mapping[str, int], **targets: Any) -> None:
        """Set levels (and optionally ``k``, ``suppression``, ``l``) and evaluate once."""
        self._syncing = True
        try:
            for q, v in levels.items():
                if q in self.levels:
                    self.levels[q].value = int(v)
                    self._label(q)
            if "k" in targets:
                self.k.value = int(targets["k"])
            if "suppression" in targets:
                self.suppression.value = float(targets["suppression"])
            if "l" in targets:
                self.l_div.value = int(targets["l"] or 0)
        finally:
            self._syncing = False
        self._evaluate()

    def _outputs(self, suffix: str) -> Path:
        if self.output_dir is None:
            raise ParameterError("output_dir", None, "an output folder given by the notebook")
        name = safe_name(self.store.state.dataset.name if self.store.state.dataset else None)
        return self.output_dir / f"{name}{suffix}"

    def _sources(self) -> list[str]:
        ds = self.store.state.dataset
        return (
            [ds.source]
            if ds is not None and ds.source and not ds.source.startswith("upload:")
            else []
        )

    def _record(self, operation: str, path: Path, parameters: Mapping[str, Any]) -> None:
        from ..governance import record_operation

        st = self.store.state
        rec = record_operation(
            operation, inputs=[st.dataset], outputs=[path], parameters=dict(parameters)
        )
        if rec is not None:
            self.store.set(provenance=(*st.provenance, rec))

    def _on_save_config(self, _: Any = None) -> None:
        path = self._outputs(".deid-config.json")
        cfg = self.config()
        atomic_write_text(path, json.dumps(cfg, indent=2) + "\n", sources=self._sources())
        self._record("deid-config", path, cfg)
        self.saved.value = (
            f"<span class='wb-saved'>Saved configuration to {html.escape(path.name)}</span>"
        )

    def _on_save_data(self, _: Any = None) -> None:
        from ..deid.release import write_release

        if self.ctx is None:
            raise ParameterError("quasi-identifiers", [], "at least one quasi-identifier")
        st = self.store.state
        path = self._outputs(".deidentified.csv")
        out, _sup = self.ctx.transform(self.current_levels(), self.criteria())
        # the one release path: the confirmed direct identifiers, plus any the release rule
        # finds (suggested roles of unlisted columns, identifier-like values), are dropped
        report = write_release(
            out,
            path,
            "drop",
            roles=st.roles,
            direct_identifiers=st.direct_identifiers,
            sources=self._sources(),
        )
        self._record("anonymize", path, {**self.config(), "release": report.to_dict()})
        dropped = ", ".join(report.dropped) or "none found"
        self.saved.value = (
            f"<span class='wb-saved'>Saved {len(out):,} records to {html.escape(path.name)} "
            f"(direct identifiers dropped: {html.escape(dropped)}; suppressed values written "
            "as *)</span>"
        )
