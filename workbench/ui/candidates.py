"""Candidate explorer: every transformation of a small lattice, sortable, filterable, comparable.

ARX shows the generalization lattice and lets the officer put transformations on a "clipboard"
to compare them. Here every node of the tuner's lattice is evaluated on the search context's
class table (:meth:`~workbench.deid.SearchContext.evaluate`, the search's own rule: no pass over
the records), listed with its levels, whether it meets the targets within the suppression limit,
the records it suppresses, its risk and its information loss; two picked candidates are shown side
by side, and lattices of up to :data:`DRAW_LIMIT` nodes are drawn level by level.

Only lattices of up to :data:`LIST_LIMIT` nodes are listed (each node costs a few array
operations; a larger lattice is what the optimal search is for).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from ._charts_extra import FigureSlot
from ._common import ErrorBox, ProgressBar, guarded
from .state import AppState, Store, reacting

__all__ = ["CandidatePanel", "candidate_rows", "lattice_figure", "LIST_LIMIT", "DRAW_LIMIT"]

LIST_LIMIT = 5000
DRAW_LIMIT = 300
_SHOWN = 50  # rows in the table; sorting and the filter bring the others up
_SORTS = (
    ("information loss (least first)", "loss"),
    ("records suppressed (fewest first)", "suppressed"),
    ("highest risk (lowest first)", "highest_risk"),
    ("smallest group k (largest first)", "k"),
    ("generalization (least first)", "height"),
)


def candidate_rows(ctx: Any, criteria: Any, metric: str = "loss", progress=None) -> list[dict]:
    """Every lattice node evaluated under ``criteria`` (aggregates only)."""
    nodes = ctx.nodes
    if len(nodes) > LIST_LIMIT:
        from ..errors import ParameterError

        raise ParameterError(
            "lattice", f"{len(nodes):,} transformations", f"at most {LIST_LIMIT:,} to list"
        )
    rows = []
    for i, node in enumerate(nodes):
        ev = ctx.evaluate(tuple(int(v) for v in node), criteria, metric)
        rows.append(
            {
                "id": i,
                "levels": {q: int(v) for q, v in zip(ctx.qis, node, strict=True)},
                "height": int(sum(int(v) for v in node)),
                "acceptable": bool(ev.acceptable),
                "suppressed": int(ev.suppressed),
                "k": int(ev.min_class_size),
                "classes": int(ev.classes),
                "highest_risk": float(ev.highest_risk),
                "average_risk": float(ev.average_risk),
                "loss": None if ev.score is None else float(ev.score),
            }
        )
        if progress is not None and (i % 50 == 0 or i == len(nodes) - 1):
            progress(i + 1, len(nodes), f"{i + 1:,} of {len(nodes):,} transformations")
    return rows


def _sort(rows: Sequence[dict], key: str) -> list[dict]:
    big = float("inf")
    if key == "k":
        return sorted(rows, key=lambda r: (-r["k"], r["id"]))
    return sorted(rows, key=lambda r: (big if r[key] is None else r[key], r["id"]))


def _loss(r: dict) -> str:
    return "n/a (targets not met)" if r["loss"] is None else f"{r['loss']:.1%}"


def lattice_figure(rows: Sequence[dict], qis: Sequence[str]) -> go.Figure:
    """Nodes by total generalization (x) with meeting/failing the targets as colour."""
    by_height: dict[int, list[dict]] = {}
    for r in rows:
        by_height.setdefault(r["height"], []).append(r)
    fig = go.Figure()
    for ok, name, color in ((True, "meets the targets", "#2a7"), (False, "fails", "#c33")):
        xs, ys, text = [], [], []
        for h, group in by_height.items():
            for j, r in enumerate(group):
                if r["acceptable"] is ok:
                    xs.append(h)
                    ys.append(j - (len(group) - 1) / 2)
                    text.append(
                        ", ".join(f"{q}={r['levels'][q]}" for q in qis)
                        + f"<br>suppressed {r['suppressed']:,}; k = {r['k']:,}"
                    )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=name,
                marker={"color": color, "size": 9},
                text=text,
                hovertemplate="%{text}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Lattice: every transformation, least generalized on the left",
        xaxis_title="total generalization (sum of levels)",
        yaxis={"visible": False},
        height=360,
        template="plotly_white",
    )
    return fig


class CandidatePanel:
    """List, sort, filter and compare the tuner's lattice nodes; draw small lattices."""

    def __init__(self, store: Store, tuner: Any) -> None:
        self.store = store
        self.tuner = tuner
        self.errors = ErrorBox()
        self.rows: list[dict] = []
        g = guarded(self.errors)
        self.list_button = widgets.Button(
            description="List every transformation",
            icon="list",
            layout=widgets.Layout(width="auto"),
        )
        self.list_button.add_class("wb-list-candidates")
        self.progress = ProgressBar("candidates")
        self.progress.bar.layout.width = "260px"  # leave room for the label in a wrapping row
        self.sort = widgets.Dropdown(
            options=list(_SORTS),
            value="loss",
            description="sort by",
            layout=widgets.Layout(width="340px"),
        )
        self.only_ok = widgets.Checkbox(
            value=True, description="only those meeting the targets", indent=False
        )
        self.pick_a = widgets.Dropdown(
            options=[], description="compare", layout=widgets.Layout(width="340px")
        )
        self.pick_b = widgets.Dropdown(
            options=[], description="with", layout=widgets.Layout(width="340px")
        )
        self.table = widgets.HTML("")
        self.table.add_class("wb-candidates")
        self.side = widgets.HTML("")
        self.side.add_class("wb-candidate-compare")
        self.lattice = FigureSlot(None, "", css_class="wb-lattice")
        self.list_button.on_click(g(self._on_list))
        for w in (self.sort, self.only_ok):
            w.observe(g(lambda _c: self._render()), names="value")
        for w in (self.pick_a, self.pick_b):
            w.observe(g(lambda _c: self._render_compare()), names="value")
        store.subscribe(reacting(self.errors)(self._on_state))
        wrap = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>Candidates</h3><p>Every combination of levels for the current targets: "
                    "what it suppresses, its risk and its information loss (ARX's lattice "
                    "view). Pick two to compare them side by side.</p>"
                ),
                widgets.Box([self.list_button, self.progress.widget], layout=wrap),
                widgets.Box([self.sort, self.only_ok], layout=wrap),
                self.errors.widget,
                self.table,
                widgets.Box([self.pick_a, self.pick_b], layout=wrap),
                self.side,
                self.lattice.widget,
            ]
        )
        self.ui.add_class("wb-candidates-panel")

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if changed & {"dataset", "roles"}:
            self.clear()

    def clear(self) -> None:
        """Candidates belong to one dataset, QI set and targets: forget them."""
        self.rows = []
        self.table.value = self.side.value = ""
        self.pick_a.options = self.pick_b.options = []
        self.lattice.figure = None
        self.lattice.output.outputs = ()

    def _on_list(self, _: Any = None) -> None:
        self.list_candidates()

    def list_candidates(self) -> None:
        ctx = self.tuner.ctx
        if ctx is None:
            self.errors.info("Choose quasi-identifiers first.")
            return
        self.list_button.disabled = True
        try:
            self.rows = candidate_rows(
                ctx, self.tuner.criteria(), self.tuner.metric.value, progress=self.progress
            )
        finally:
            self.list_button.disabled = False
        self.progress.finish(f"{len(self.rows):,} transformations evaluated")
        labels = [(self._label(r), r["id"]) for r in self.rows]
        self.pick_a.options, self.pick_b.options = labels, labels
        ranked = _sort(self.rows, "loss")
        if ranked:
            self.pick_a.value = ranked[0]["id"]
            self.pick_b.value = ranked[min(1, len(ranked) - 1)]["id"]
        if len(self.rows) <= DRAW_LIMIT:
            self.lattice.show(lattice_figure(self.rows, ctx.qis))
        else:
            self.lattice.note.value = (
                f"<p style='color:#666'>{len(self.rows):,} transformations: too many to draw "
                f"(up to {DRAW_LIMIT}).</p>"
            )
        self._render()

    def _label(self, r: dict) -> str:
        return ", ".join(f"{q}={v}" for q, v in r["levels"].items())

    def visible(self) -> list[dict]:
        rows = [r for r in self.rows if r["acceptable"] or not self.only_ok.value]
        return _sort(rows, self.sort.value)

    def _render(self) -> None:
        rows = self.visible()
        shown = rows[:_SHOWN]
        n = self.tuner.ctx.n_records if self.tuner.ctx is not None else 0
        body = "".join(
            f"<tr><td>{html.escape(self._label(r))}</td>"
            f"<td>{'yes' if r['acceptable'] else 'no'}</td>"
            f"<td>{r['suppressed']:,} ({(r['suppressed'] / n if n else 0):.1%})</td>"
            f"<td>{r['k']:,}</td><td>{r['highest_risk']:.1%}</td>"
            f"<td>{_loss(r)}</td></tr>"
            for r in shown
        )
        more = (
            f"<p>{len(rows) - len(shown):,} more not shown; sort or filter to see them.</p>"
            if len(rows) > len(shown)
            else ""
        )
        self.table.value = (
            "<table class='wb-table'><thead><tr><th>levels</th><th>meets the targets</th>"
            "<th>records suppressed</th><th>k (smallest group)</th><th>highest risk</th>"
            f"<th>information loss</th></tr></thead><tbody>{body}</tbody></table>{more}"
        )
        self._render_compare()

    def _render_compare(self) -> None:
        by_id = {r["id"]: r for r in self.rows}
        a, b = by_id.get(self.pick_a.value), by_id.get(self.pick_b.value)
        if a is None or b is None:
            self.side.value = ""
            return
        fields = [
            ("meets the targets", lambda r: "yes" if r["acceptable"] else "no"),
            ("records suppressed", lambda r: f"{r['suppressed']:,}"),
            ("k (smallest group)", lambda r: f"{r['k']:,}"),
            ("groups", lambda r: f"{r['classes']:,}"),
            ("highest risk", lambda r: f"{r['highest_risk']:.1%}"),
            ("average risk", lambda r: f"{r['average_risk']:.1%}"),
            ("information loss", _loss),
        ]
        qrows = "".join(
            f"<tr><td>level of {html.escape(q)}</td><td>{a['levels'][q]}</td>"
            f"<td>{b['levels'][q]}</td></tr>"
            for q in a["levels"]
        )
        frows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{f(a)}</td><td>{f(b)}</td></tr>" for n, f in fields
        )
        self.side.value = (
            "<table class='wb-table'><thead><tr><th></th><th>first</th><th>second</th></tr>"
            f"</thead><tbody>{qrows}{frows}</tbody></table>"
        )
