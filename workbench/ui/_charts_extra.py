"""Chart helpers the panels need beyond :mod:`workbench.charts`: adapters and widget syncing.

* :func:`update_figure` copies a freshly built ``go.Figure`` into a displayed ``FigureWidget``
  inside one ``batch_update`` (the guide's rule: build FigureWidgets with their data, mutate them
  only in callbacks);
* :func:`frontier_chart_dict` and :func:`matrix_chart_dict` turn core results into the shapes
  :func:`workbench.charts.frontier_chart` and :func:`workbench.charts.join_risk_heatmap` draw
  (and that a bundle stores, so the report draws the same chart);
* :func:`linkage_scenarios` draws the training walk-through's before/after comparison.

Everything here sees aggregates only (shares, counts, scores), never record values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from ..charts import as_dict, empty_figure

__all__ = [
    "FigureSlot",
    "update_figure",
    "frontier_chart_dict",
    "matrix_chart_dict",
    "linkage_scenarios",
    "shares_from_counts",
]

_RED = "#d62728"
_GREEN = "#2ca02c"
_ORANGE = "#ff7f0e"
_GREY = "#7f7f7f"


def update_figure(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Make ``widget`` show ``fig``: traces and layout replaced in one batched message.

    Traces of the same type are updated in place (``overwrite=True`` so properties the new
    figure does not set are cleared); surplus traces are deleted and missing ones added outside
    the batch, as plotly requires.
    """
    new = list(fig.data)
    keep = 0
    for old_t, new_t in zip(widget.data, new, strict=False):
        if old_t.type != new_t.type:
            break
        keep += 1
    if keep < len(widget.data):
        widget.data = widget.data[:keep]
    with widget.batch_update():
        for i in range(keep):
            props = new[i].to_plotly_json()
            props.pop("type", None)
            widget.data[i].update(props, overwrite=True)
        layout = fig.layout.to_plotly_json()
        layout.pop("template", None)  # unchanged between our builders; avoid resending it
        for key in ("annotations", "shapes"):
            layout.setdefault(key, [])
        widget.layout.update(layout, overwrite=True)
    if keep < len(new):
        widget.add_traces(new[keep:])


class FigureSlot:
    """A place for a chart: a note until there is a figure, then a ``FigureWidget`` built with it.

    Each FigureWidget carries plotly's whole front-end bundle (~5 MB) to the browser, so charts
    that need a button press (SUDA, frontier, matrix) only become widgets once they have data;
    the widget is then constructed *with* that data and later updated in place.
    """

    def __init__(
        self, fig: go.Figure | None = None, placeholder: str = "", css_class: str | None = None
    ) -> None:
        self.css_class = css_class
        self.figure: go.Figure | None = None
        self.fw: go.FigureWidget | None = None
        self.note = widgets.HTML(f"<p style='color:#666'>{placeholder}</p>" if placeholder else "")
        self.widget = widgets.VBox([self.note])
        if fig is not None:
            self.show(fig)

    def show(self, fig: go.Figure) -> None:
        """Draw ``fig`` (creating the FigureWidget on first use)."""
        self.figure = fig
        if self.fw is None:
            self.fw = go.FigureWidget(fig)
            if self.css_class:
                self.fw.add_class(self.css_class)
            self.widget.children = (self.fw,)
        else:
            update_figure(self.fw, fig)


def frontier_chart_dict(frontier: Any) -> dict[str, Any]:
    """A :class:`~workbench.deid.frontier.FrontierResult` in the shape ``frontier_chart`` draws.

    Each point gets ``risk`` (the result's risk measure), ``loss`` (the metric score) and a
    ``label``; the original fields are kept so a bundle holds the whole result.
    """
    d = as_dict(frontier)
    measure = d.get("risk_measure", "average_risk")
    points = []
    for p in d.get("points") or []:
        if not p.get("found", True):
            continue
        label = f"k={p.get('k')}, suppression {float(p.get('suppression') or 0):.0%}"
        if p.get("l"):
            label += f", l={p['l']}"
        points.append({**p, "risk": p.get(measure), "loss": p.get("score"), "label": label})
    return {
        **{k: v for k, v in d.items() if k not in ("points", "frontier")},
        "risk_measure": measure.replace("_", " "),
        "loss_measure": f"information loss ({d.get('metric', 'loss')})",
        "points": points,
    }


def matrix_chart_dict(matrix: Any) -> dict[str, Any]:
    """A join-risk matrix with each pair's ``advice`` as its plain decision word.

    :func:`workbench.charts.join_risk_heatmap` prints ``advice`` in each cell; the matrix's own
    ``advice`` is a structure (decision, reasons, coarsening), so the decision is lifted out and
    the full advice kept under ``advice_detail``.
    """
    d = as_dict(matrix)
    pairs = []
    for p in d.get("pairs") or []:
        adv = p.get("advice")
        decision = adv.get("decision") if isinstance(adv, Mapping) else adv
        reasons = list(adv.get("reasons") or []) if isinstance(adv, Mapping) else []
        pairs.append(
            {
                **p,
                "advice": str(decision or "").replace("_", " "),
                "advice_detail": adv,
                "reasons": reasons,
            }
        )
    return {**d, "pairs": pairs}


def linkage_scenarios(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Unique matches and correct re-identifications per release scenario (training charts).

    ``rows``: ``{"scenario", "one_match", "correct_unique_matches", "released_records"}``.
    """
    if not rows:
        return empty_figure("no scenario run yet", "Re-identifications by scenario")
    names = [str(r["scenario"]) for r in rows]
    unique = [int(round(r["one_match"] * r["released_records"])) for r in rows]
    correct = [int(r.get("correct_unique_matches") or 0) for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name="matched exactly one voter",
            x=names,
            y=unique,
            marker_color=_ORANGE,
            text=[f"{v:,}" for v in unique],
            textposition="outside",
        )
    )
    fig.add_trace(
        go.Bar(
            name="...and it was the right person",
            x=names,
            y=correct,
            marker_color=_RED,
            text=[f"{v:,}" for v in correct],
            textposition="outside",
        )
    )
    fig.update_layout(
        title="Clinic records re-identified with the voter roll",
        barmode="group",
        yaxis_title="clinic records",
        height=360,
        margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white",
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def shares_from_counts(
    labels: Sequence[str], counts: Sequence[float] | np.ndarray, top: int = 15, min_count: int = 5
) -> dict[str, float]:
    """Share per label, the ``top`` largest with at least ``min_count`` records, rest "other".

    Same pooling rule as :func:`workbench.bundle.category_shares` (rare values can single
    people out, so they never reach a chart), but from pre-aggregated counts.
    """
    c = np.asarray(counts, dtype=np.float64)
    n = float(c.sum())
    if n <= 0:
        return {}
    order = np.argsort(-c, kind="stable")
    out: dict[str, float] = {}
    kept = 0.0
    for i in order:
        if len(out) >= top or c[i] < min_count:
            break
        out[str(labels[i])] = float(c[i]) / n
        kept += float(c[i])
    if n - kept > 0:
        out["other"] = out.get("other", 0.0) + (n - kept) / n
    return out
