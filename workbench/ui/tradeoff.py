"""Trade-off explorer: the risk-utility frontier over a grid of targets, and picking a point.

For every (k, suppression limit[, l]) in the grid the optimal generalization is searched on the
tuner's :class:`~workbench.deid.SearchContext` (data encoded once) with
:func:`workbench.deid.search.frontier`; the Pareto-optimal points are the choices worth discussing
(Duncan, Keller-McNulty & Stokes 2001, the R-U confidentiality map). "Use this point" hands the
point's targets and levels to the tuner.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from ..deid import frontier
from ..deid.search.frontier import RISK_MEASURES
from ..review import charts
from ._charts_extra import FigureSlot, frontier_chart_dict
from ._common import ErrorBox, ProgressBar, guarded
from .state import AppState, Store, reacting
from .tuner import TunerPanel

__all__ = ["TradeoffPanel", "TuneApp", "SUPPRESSION_CHOICES"]

SUPPRESSION_CHOICES: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1)
_RISK_LABELS = {
    "average_risk": "average risk (prosecutor)",
    "records_at_risk": "records at risk",
    "highest_risk": "highest risk (1 / k)",
}


class TradeoffPanel:
    """Grid controls, "Compute frontier" (progress), the frontier chart and point picker."""

    def __init__(self, store: Store, tuner: TunerPanel) -> None:
        self.store = store
        self.tuner = tuner
        self.errors = ErrorBox()
        self.result: Any = None
        g = guarded(self.errors)
        self.k_range = widgets.IntRangeSlider(
            value=(2, 15), min=1, max=50, description="k from/to", continuous_update=False
        )
        self.suppressions = widgets.SelectMultiple(
            options=[(f"{s:.0%}", s) for s in SUPPRESSION_CHOICES],
            value=(0.0, 0.02, 0.05),
            description="suppression",
            rows=len(SUPPRESSION_CHOICES),
        )
        self.with_l = widgets.Checkbox(value=False, description="also with l-diversity (l = 2)")
        self.risk_axis = widgets.Dropdown(
            options=[(v, k) for k, v in _RISK_LABELS.items() if k in RISK_MEASURES],
            value="average_risk",
            description="risk axis",
        )
        self.compute = widgets.Button(
            description="Compute frontier",
            icon="line-chart",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        self.compute.add_class("wb-frontier-button")
        self.progress = ProgressBar("frontier")
        self.slot = FigureSlot(
            None,
            "Press <i>Compute frontier</i> to search every target of the grid.",
            css_class="wb-frontier",
        )
        self.points = widgets.Dropdown(options=[], description="frontier point")
        self.use = widgets.Button(
            description="Use this point", icon="check", layout=widgets.Layout(width="auto")
        )
        self.use.add_class("wb-use-point")
        self.table = widgets.HTML("")
        self.compute.on_click(g(self._on_compute))
        self.use.on_click(g(self._on_use))
        self._key: Any = None
        store.subscribe(reacting(self.errors)(self._on_state))
        self._on_state(store.state, frozenset({"roles"}))
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>6. Risk-utility trade-off</h3><p>Each point is the best transformation "
                    "for one target; the red line joins the points no other point beats on both "
                    "risk and information loss.</p>"
                ),
                widgets.HBox([self.k_range, self.suppressions]),
                widgets.HBox([self.with_l, self.risk_axis]),
                widgets.HBox([self.compute, self.progress.widget]),
                self.errors.widget,
                self.slot.widget,
                self.table,
                widgets.HBox([self.points, self.use]),
            ]
        )

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if changed & {"dataset", "roles"}:
            self.with_l.disabled = not state.sensitive
            if not state.sensitive:
                self.with_l.value = False
            key = (id(state.dataset), state.qis, state.sensitive)
            if key != self._key:
                self._key = key
                self.clear()
                if state.frontier is not None:
                    self.store.set(frontier=None)

    def clear(self) -> None:
        """Forget the frontier: it belongs to the previous dataset or quasi-identifiers, and
        "Use this point" must never apply another dataset's targets."""
        self.result = None
        self.slot.figure = None
        self.slot.output.outputs = ()
        self.slot.note.value = (
            "<p style='color:#666'>Press <i>Compute frontier</i> to search every target of "
            "the grid.</p>"
        )
        self.table.value = ""
        self.points.options = []
        self.use.disabled = True

    def _on_compute(self, _: Any = None) -> None:
        ctx = self.tuner.ctx
        if ctx is None:
            self.errors.info("Choose quasi-identifiers first.")
            return
        sups = tuple(self.suppressions.value) or (0.0,)
        lo, hi = self.k_range.value
        self.compute.disabled = True
        self.compute.description = "Computing…"
        try:
            result = frontier(
                ctx,
                k_values=range(int(lo), int(hi) + 1),
                suppressions=sups,
                l=2 if self.with_l.value and ctx.sensitive else None,
                metric=self.tuner.metric.value,
                risk=self.risk_axis.value,
                threshold=self.store.state.threshold,
                progress=self.progress,
            )
            self.progress.finish(
                f"done: {len(result.points)} targets, "
                f"{result.transformations_checked:,} transformations checked"
            )
        finally:
            self.compute.disabled = False
            self.compute.description = "Compute frontier"
        self.result = result
        d = frontier_chart_dict(result)
        self.slot.show(charts.frontier_chart(d))
        best = [p for p in result.frontier]
        self.points.options = [
            (
                f"k={p.k}, suppression {p.suppression:.0%}"
                + (f", l={p.l}" if p.l else "")
                + f": risk {p.risk(result.risk_measure):.3f}, loss {p.score:.3f}",
                i,
            )
            for i, p in enumerate(best)
        ]
        if best:  # a list that starts on a point, so "Use this point" works at once
            self.points.value = 0
        self.use.disabled = not best
        self.table.value = _frontier_table(best, result.risk_measure)
        self.store.set(frontier=d)

    def _on_use(self, _: Any = None) -> None:
        if self.result is None or self.points.value is None:
            return
        p = self.result.frontier[int(self.points.value)]
        auto = self.tuner.auto.value
        self.tuner.auto.value = False  # keep the point's levels, do not re-search
        try:
            self.tuner.set_levels(p.levels, k=p.k, suppression=p.suppression, l=p.l or 0)
        finally:
            self.tuner.auto.value = auto


def _frontier_table(points: Any, measure: str) -> str:
    rows = "".join(
        f"<tr><td>{p.k}</td><td>{p.suppression:.0%}</td><td>{p.l or ''}</td>"
        f"<td>{p.risk(measure):.4f}</td><td>{p.score:.4f}</td><td>{p.suppressed:,}</td>"
        f"<td>{html.escape(', '.join(f'{q}={v}' for q, v in (p.levels or {}).items()))}</td></tr>"
        for p in points
    )
    return (
        "<table class='wb-table wb-frontier-table'><thead><tr><th>k</th><th>suppression</th>"
        f"<th>l</th><th>{html.escape(measure.replace('_', ' '))}</th><th>loss</th>"
        "<th>suppressed</th><th>levels</th></tr></thead><tbody>"
        f"{rows}</tbody></table>"
    )


class TuneApp:
    """Notebook 03: dataset -> roles -> tuner (live risk and utility) -> frontier -> save.

    ``hierarchies`` maps columns to ARX hierarchy CSV files (from the parameters cell);
    ``output_dir`` receives the configuration JSON, the transformed data and the bundle.
    """

    def __init__(
        self,
        data_path: str | os.PathLike | None = None,
        sample: str = "city.clinic",
        qis: Sequence[str] | None = None,
        hierarchies: Mapping[str, str | os.PathLike] | None = None,
        k: int = 5,
        suppression: float = 0.05,
        threshold: float = 0.2,
        output_dir: str | os.PathLike | None = ".workbench/output",
        title: str | None = None,
    ) -> None:
        from .candidates import CandidatePanel
        from .loader import LoaderPanel
        from .pipeline import PipelinePanel
        from .roles import RolesPanel, with_quasi_identifiers
        from .summary import SummaryPanel

        self.store = Store()
        self.loader = LoaderPanel(self.store, sample=sample, data_path=data_path)
        self.loader.load_initial()
        st = self.store.state
        changes: dict[str, Any] = {"threshold": float(threshold)}
        if qis is not None and st.roles is not None:
            changes["roles"] = with_quasi_identifiers(st.roles, list(qis))
        self.store.set(**changes)
        self.roles = RolesPanel(self.store, output_dir)
        self.tuner = TunerPanel(self.store, output_dir, hierarchies, k=k, suppression=suppression)
        self.tradeoff = TradeoffPanel(self.store, self.tuner)
        self.pipeline = PipelinePanel(self.store, self.tuner, output_dir)
        self.candidates = CandidatePanel(self.store, self.tuner)
        self.summary = SummaryPanel(
            self.store,
            output_dir,
            title,
            kind="De-identification",
            released=lambda: self.tuner.transformed()[0],
        )
        self.ui = widgets.VBox(
            [
                self.loader.ui,
                self.roles.ui,
                self.tuner.ui,
                self.pipeline.ui,
                self.candidates.ui,
                self.tradeoff.ui,
                self.summary.ui,
            ]
        )
