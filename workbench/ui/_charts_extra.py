"""Chart helpers the panels need beyond :mod:`workbench.review.charts`: adapters and widget syncing.

* :class:`FigureSlot` shows a figure in an ``Output`` widget as plotly's MIME type and replaces
  it on every update (see its docstring for why not a ``FigureWidget``);
* :func:`frontier_chart_dict` and :func:`matrix_chart_dict` turn core results into the shapes
  :func:`workbench.review.charts.frontier_chart` and :func:`workbench.review.charts.join_risk_heatmap` draw
  (and that a bundle stores, so the report draws the same chart);
* :func:`linkage_scenarios` draws the training walk-through's before/after comparison.

Everything here sees aggregates only (shares, counts, scores), never record values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..review.charts import as_dict, empty_figure
from ._shares import shares_from_counts

__all__ = [
    "FigureSlot",
    "PLOTLY_MIME",
    "plotly_bundle",
    "frontier_chart_dict",
    "matrix_chart_dict",
    "linkage_scenarios",
    "shares_from_counts",
]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
_RED = "#d62728"
_GREEN = "#2ca02c"
_ORANGE = "#ff7f0e"
_GREY = "#7f7f7f"


def plotly_bundle(fig: go.Figure) -> dict[str, Any]:
    """A display-data output holding ``fig`` as plotly's own MIME type (and a text fallback)."""
    spec = json.loads(pio.to_json(fig, validate=False))
    spec["config"] = {"displaylogo": False, "responsive": True}
    title = fig.layout.title.text if fig.layout.title and fig.layout.title.text else "chart"
    return {
        "output_type": "display_data",
        "data": {PLOTLY_MIME: spec, "text/plain": f"<plotly figure: {title}>"},
        "metadata": {},
    }


class FigureSlot:
    """A chart in the page: an ``Output`` widget holding the figure as plotly's MIME type.

    Why not a ``FigureWidget``: each one ships plotly's whole front-end bundle (~5 MB) as an
    anywidget module that the browser parses per instance, and anywidget drops every later
    update of a model that took more than 2 s to initialise. With several charts on a page (or
    a busy machine) some charts silently stop updating in Voila. The MIME renderer of the
    ``jupyterlab-plotly`` extension is loaded once, and replacing an Output's content is a
    plain widget-state change, so every chart updates. The Output is filled by assigning
    ``outputs`` (never ``with out:``), which is safe during the notebook's own execution.

    ``figure`` keeps the last ``go.Figure`` shown (what tests assert on); until the first
    figure, a note says what to press.
    """

    def __init__(
        self, fig: go.Figure | None = None, placeholder: str = "", css_class: str | None = None
    ) -> None:
        self.figure: go.Figure | None = None
        self.output = widgets.Output()
        if css_class:
            self.output.add_class(css_class)
        self.note = widgets.HTML(f"<p style='color:#666'>{placeholder}</p>" if placeholder else "")
        self.widget = widgets.VBox([self.note, self.output])
        if fig is not None:
            self.show(fig)

    def show(self, fig: go.Figure) -> None:
        """Draw ``fig`` in place of the previous figure."""
        self.figure = fig
        self.note.value = ""
        self.output.outputs = (plotly_bundle(fig),)

    @property
    def shown(self) -> dict[str, Any] | None:
        """The plotly JSON currently in the output (what the browser draws)."""
        if not self.output.outputs:
            return None
        return self.output.outputs[0]["data"][PLOTLY_MIME]


def frontier_chart_dict(frontier: Any) -> dict[str, Any]:
    """A frontier in the shape ``frontier_chart`` draws (see :func:`workbench.review.charts.frontier_points`)."""
    from ..review.charts import frontier_points

    return frontier_points(frontier)


def matrix_chart_dict(matrix: Any) -> dict[str, Any]:
    """A join-risk matrix with each pair's ``advice`` as its plain decision word.

    :func:`workbench.review.charts.join_risk_heatmap` prints ``advice`` in each cell; the matrix's own
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


_SPECIAL_LAST = ("*", "other", "NA", "missing")
_LEADING_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DATE_LABEL_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m")


def natural_order(labels: Sequence[str]) -> list[str]:
    """Labels in the order a reader expects: time, then numbers, then text; ``*``/other last.

    Dates (any one format for every label) sort chronologically; labels that start with a
    number (``20-29``, ``[20, 30[``, ``1990s``, ``462**``) by that number; the rest
    alphabetically. Frequency order would hide the shape of an age or date distribution.
    """
    names = [str(x) for x in labels]
    special = [n for n in _SPECIAL_LAST if n in names]
    rest = [n for n in names if n not in _SPECIAL_LAST]
    for fmt in _DATE_LABEL_FORMATS:
        parsed = pd.to_datetime(pd.Series(rest, dtype=object), format=fmt, errors="coerce")
        if len(rest) and parsed.notna().all():
            order = np.argsort(parsed.to_numpy(), kind="stable")
            return [rest[i] for i in order] + special

    def key(n: str) -> tuple[int, float, str]:
        m = _LEADING_NUMBER.match(n.lstrip("[(<>≤≥ "))
        return (0, float(m.group()), n) if m else (1, 0.0, n)

    return sorted(rest, key=key) + special


def distribution_side_by_side(
    original: Mapping[str, float],
    released: Mapping[str, float],
    column: str,
    released_label: str = "released",
) -> go.Figure:
    """The original values next to the released ones, each in natural order (aggregates only).

    Two panels rather than grouped bars: after generalization the categories differ (ages vs
    age bands), so putting them on one axis would compare nothing.
    """
    # one figure built in one pass (two x axes side by side, the y axis shared): make_subplots
    # and per-trace updates validate the layout again and again (a third of a slider change)
    traces, layout = [], {}
    gap = 0.06
    domains = ([0.0, 0.5 - gap / 2], [0.5 + gap / 2, 1.0])
    titles = (f"original {column}", f"{released_label} {column}")
    for i, (name, shares, color) in enumerate(
        [("original", original, "#7f7f7f"), (released_label, released, "#1f77b4")]
    ):
        cats = natural_order(list(shares))
        axis = "" if i == 0 else "2"
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": cats,
                "y": [shares[c] for c in cats],
                "marker": {"color": color},
                "xaxis": f"x{axis}",
                "yaxis": "y",
                "hovertemplate": f"{name}: %{{x}}<br>%{{y:.1%}} of records<extra></extra>",
            }
        )
        layout[f"xaxis{axis}"] = {
            "domain": domains[i],
            "anchor": "y",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": cats,
        }
    layout["yaxis"] = {"tickformat": ".0%", "title": {"text": "share of records"}}
    layout["annotations"] = [
        {
            "text": t,
            "x": sum(d) / 2,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 16},
        }
        for t, d in zip(titles, domains, strict=True)
    ]
    return go.Figure(
        data=traces,
        layout={
            **layout,
            "title": {"text": f"Distribution of {column}: original and released"},
            "height": 360,
            "margin": {"l": 60, "r": 20, "t": 70, "b": 60},
            "showlegend": False,
            "template": "plotly_white",
        },
    )
