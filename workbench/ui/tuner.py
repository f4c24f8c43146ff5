"""De-identification tuner panel: hierarchies, levels and targets, with risk and utility live.

The panel draws and wires; :class:`~workbench.ui.tuner_controller.TunerController` computes
(no widgets there). The data are encoded once per dataset and QI set; moving a level slider or
a target (k, suppression limit, l) evaluates one lattice node on the class table and the
utility report from its row counts -- no pass over the records -- so risk, utility, the
class-size histogram and the QI distributions follow the sliders at once. "Find optimal levels"
runs the search (with progress and a busy state).

Outputs (configuration JSON, transformed data) are written atomically into the output folder
the notebook names, under names derived from the dataset name (sanitised), never over the input.
"""

from __future__ import annotations

import contextlib
import html
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..deid import Criteria, Hierarchy, SearchContext
from ..deid.search.lattice import METRICS
from ..review import charts
from ._charts_extra import FigureSlot, distribution_side_by_side
from ._common import ErrorBox, ProgressBar, at_risk_meaning, guarded, k_meaning
from .risk import current_risk, risk_is_current
from .state import AppState, Store, reacting
from .tuner_controller import (
    CONFIG_FORMAT,
    HIERARCHY_KINDS,
    LIVE_UTILITY_LIMIT,
    NodeView,
    TunerController,
    binned_original_shares,
    build_hierarchy,
    default_hierarchy_kind,
    detect_date_format,
    evaluate_node,
    original_shares,
    released_shares,
)

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
    "binned_original_shares",
    "utility_html",
    "tuner_summary_html",
    "LIVE_UTILITY_LIMIT",
    "CONFIG_FORMAT",
]


def _wrap() -> widgets.Layout:
    """A row that wraps: at 1280 px a second panel goes below instead of off-screen."""
    return widgets.Layout(flex_flow="row wrap", align_items="flex-start", max_width="100%")


_BASIS_WORDS = {
    "generalized level": "original mapped to the released level",
    "interval midpoints": "released intervals at their midpoints",
}


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
        Largest table whose utility is compared on every change (a button above).
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
        self.model = TunerController(store, output_dir, hierarchy_files, live_utility_limit)
        self.output_dir = self.model.output_dir
        self.errors = ErrorBox()
        self.kinds: dict[str, widgets.Dropdown] = {}
        self.levels: dict[str, widgets.IntSlider] = {}
        self.level_labels: dict[str, widgets.Label] = {}
        self.last: Any = None  # the last Evaluation shown
        self.last_timing: dict[str, float] = {}  # seconds until the numbers, then the charts
        self._drawn: dict[str, Any] = {}  # what each chart shows now (skip unchanged redraws)
        self._syncing = False
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
        self.suppression.add_class("wb-suppression-slider")
        self.l_div = widgets.IntSlider(
            value=0, min=0, max=10, description="l (0 = off)", continuous_update=False
        )
        self.l_div.add_class("wb-l-slider")
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
        self.utility.add_class("wb-tuner-utility")
        self.timing = widgets.HTML("")
        self.timing.add_class("wb-tuner-timing")
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
                widgets.Box([self.k, self.suppression, self.l_div, self.metric], layout=_wrap()),
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
                        widgets.VBox([self.utility, self.utility_button, self.timing]),
                    ],
                    layout=_wrap(),
                ),
                widgets.HBox([self.save_config, self.save_data]),
                self.saved,
            ]
        )
        self.ui.add_class("wb-tuner")

    # ------------------------------------------------------------------ the controller's state
    @property
    def ctx(self) -> SearchContext | None:
        return self.model.ctx

    @property
    def view(self) -> NodeView | None:
        return self.model.view

    @property
    def _hierarchies(self) -> dict[str, Hierarchy]:
        return self.model.hierarchies

    @property
    def live_utility_limit(self) -> int:
        return self.model.live_utility_limit

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
    def _rebuild(self, state: AppState) -> None:
        """New QI rows and search context for the current dataset and roles."""
        if not self.model.reset(state):
            return
        self.errors.clear()
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
        rows = []
        g = guarded(self.errors)
        for q in state.qis:
            dd = widgets.Dropdown(
                options=self.model.kind_options(q),
                value=self.model.kinds[q],
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
            self._sync_slider(q)
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

    def _sync_slider(self, q: str) -> None:
        h = self.model.hierarchies[q]
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
        names = self.model.level_names(q)
        self.level_labels[q].value = names[min(self.levels[q].value, len(names) - 1)]

    def _prepare(self) -> None:
        st = self.store.state
        with self.working(f"encoding {st.dataset.n_rows:,} records"):
            self.model.encode()
        if self.auto.value:
            self.run_search()
        else:
            self._evaluate()

    # ------------------------------------------------------------------ evaluating
    def criteria(self) -> Criteria:
        return self.model.criteria(self.k.value, self.suppression.value, self.l_div.value)

    def current_levels(self) -> dict[str, int]:
        return {q: int(sl.value) for q, sl in self.levels.items()}

    def _evaluate(self) -> None:
        with self.working("updating risk and utility"):
            self._evaluate_now()

    def _evaluate_now(self) -> None:
        if self.ctx is None:
            self.model.view = None
            self.last = None
            self.summary.value = "<div class='wb-tuner-numbers'>No quasi-identifiers.</div>"
            self._redraw()
            return
        t0 = time.perf_counter()
        ev = self.model.evaluate(self.current_levels(), self.criteria(), self.metric.value)
        self.last = ev
        self.summary.value = tuner_summary_html(ev.view)
        self.utility.value = utility_html(ev.utility, ev.view)
        numbers = time.perf_counter() - t0  # the browser shows the numbers from here on
        self.timing.value = (
            f"<span style='color:#888;font-size:0.85em'>risk and utility computed in "
            f"{numbers * 1000:,.0f} ms</span>"
        )
        self._redraw()
        self.last_timing = {"numbers": numbers, "charts": time.perf_counter() - t0 - numbers}

    def transformed(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The generalized table at the current levels (direct identifiers dropped)."""
        return self.model.transformed(self.current_levels(), self.criteria())

    def config(self) -> dict[str, Any]:
        """The settings as saved to JSON: enough to redo the transformation on the same file."""
        return self.model.config(self.current_levels(), self.criteria(), self.metric.value)

    # ------------------------------------------------------------------ drawing
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
        """Redraw the charts whose data changed (a chart costs more than its numbers)."""
        if not hasattr(self, "hist_fig"):  # constructing: figures are built with their data
            return
        before, after = self._risk_dicts()
        col = self.dist_column.value
        dist = (self.store.state.distributions or {}).get(col)
        level = self.levels[col].value if col in self.levels else 0
        for name, key, draw in (
            (
                "compare",
                (before, after),
                lambda: self.compare_fig.show(self._fig("compare", before, after)),
            ),
            ("hist", after, lambda: self.hist_fig.show(self._fig("hist", before, after))),
            ("dist", (col, level, dist), lambda: self.dist_out.show(self._dist_figure())),
        ):
            if name in self._drawn and self._drawn[name] == key:
                continue
            draw()
            self._drawn[name] = key

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
        self.model.set_hierarchy(q, change["new"])
        self._sync_slider(q)
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
            self._redraw()

    def _on_utility_button(self, _: Any = None) -> None:
        if self.view is None:
            return
        with self.working("comparing utility"):
            report = self.model.utility(self.view)
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
            result = self.model.search(self.criteria(), self.metric.value, progress=self.progress)
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
        return self.model.output_path(suffix)

    def _on_save_config(self, _: Any = None) -> None:
        path = self.model.save_config(self.current_levels(), self.criteria(), self.metric.value)
        self.saved.value = (
            f"<span class='wb-saved'>Saved configuration to {html.escape(path.name)}</span>"
        )

    def _on_save_data(self, _: Any = None) -> None:
        with self.working("writing the transformed data"):
            path, report, n = self.model.save_data(
                self.current_levels(), self.criteria(), self.metric.value
            )
        dropped = ", ".join(report.dropped) or "none found"
        self.saved.value = (
            f"<span class='wb-saved'>Saved {n:,} records to {html.escape(path.name)} "
            f"(direct identifiers dropped: {html.escape(dropped)}; suppressed values written "
            "as *)</span>"
        )
