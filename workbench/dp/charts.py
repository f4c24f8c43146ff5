"""Plotly charts for DP releases: error against epsilon, released values with error bars, ledger.

Pure functions of the result dictionaries (``to_dict()`` or the dict itself), so the notebook
panel, a saved release bundle and the dashboard draw the same charts. They reuse the shared
layout helpers of :mod:`workbench.review.charts` and see only noisy values and public parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from ..review.charts import _layout, as_dict, empty_figure

__all__ = ["error_vs_epsilon", "release_error_bars", "ledger_spending"]


def error_vs_epsilon(curve: Sequence[Mapping[str, Any]], chosen: float | None = None) -> go.Figure:
    """95 % error of each statistic against epsilon (log-log), the chosen epsilon marked.

    ``curve`` is :func:`workbench.dp.error_curve`'s rows. Each statistic gets its own line; its
    unit (count, sum, mean error for 1,000 people, records for quantiles) is in the legend.
    """
    rows = [dict(r) for r in curve if r.get("error95") is not None]
    if not rows:
        return empty_figure("no statistic has a data-independent error", "Error against epsilon")
    fig = go.Figure()
    for label in dict.fromkeys(r["statistic"] for r in rows):
        pts = sorted((r for r in rows if r["statistic"] == label), key=lambda r: r["epsilon"])
        fig.add_trace(
            go.Scatter(
                x=[p["epsilon"] for p in pts],
                y=[p["error95"] for p in pts],
                mode="lines+markers",
                name=f"{label} ({pts[0]['unit']})",
                hovertemplate="epsilon %{x}<br>±%{y:.3g} (95 %)<extra>" + label + "</extra>",
            )
        )
    if chosen is not None:
        fig.add_vline(x=chosen, line_dash="dot", annotation_text=f"epsilon = {chosen:g}")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return _layout(
        fig,
        "How wrong will the statistics be? (95 % of the time within ±y)",
        "epsilon (privacy loss; smaller = more private)",
        "error, 95 %",
        legend=dict(orientation="h", y=-0.3),
        height=380,
    )


def release_error_bars(release: Any, statistic: str | None = None) -> go.Figure:
    """Released values of one statistic (default: the first) with their 95 % intervals."""
    doc = as_dict(release)
    stats = [s for s in doc.get("statistics", []) if s.get("value") is not None]
    if statistic is not None:
        stats = [s for s in stats if s["statistic"] == statistic]
    elif stats:
        first = (stats[0]["statistic"], stats[0].get("column"))
        stats = [s for s in stats if (s["statistic"], s.get("column")) == first]
    if not stats:
        return empty_figure("nothing released", "DP release")
    labels = [", ".join(str(v) for v in s["group"].values()) or "all" for s in stats]
    values = [s["value"] for s in stats]
    lo = [s["value"] - s["ci95"][0] if s.get("ci95") else 0 for s in stats]
    hi = [s["ci95"][1] - s["value"] if s.get("ci95") else 0 for s in stats]
    name = stats[0]["statistic"] + (f" of {stats[0]['column']}" if stats[0].get("column") else "")
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo),
            name=name,
            marker_color="#1f77b4",
        )
    )
    eps = doc.get("epsilon_spent")
    title = f"DP {name} (epsilon {eps:.3g}) with 95 % intervals" if eps else f"DP {name}"
    return _layout(fig, title, "group", name)


def ledger_spending(ledger: Any) -> go.Figure:
    """Cumulative epsilon charged per release against the budget, coloured by department."""
    doc = as_dict(ledger)
    releases = doc.get("releases", [])
    budget = (doc.get("budget") or {}).get("epsilon")
    if not releases:
        return empty_figure("no DP release charged yet", "Privacy-loss ledger")
    fig = go.Figure()
    running = 0.0
    for i, r in enumerate(releases):
        eps = float(r["charge"]["epsilon"])
        dept = ", ".join(r.get("departments") or []) or "-"
        fig.add_trace(
            go.Bar(
                x=[eps],
                y=["spent"],
                base=[running],
                orientation="h",
                name=f"#{r['seq']} {dept}",
                hovertemplate=f"{r.get('description', '')}<br>epsilon {eps:.3g}<extra></extra>",
                showlegend=i < 12,
            )
        )
        running += eps
    if budget is not None:
        fig.add_vline(x=budget, line_color="#d62728", annotation_text=f"budget {budget:g}")
    spent = doc.get("epsilon_spent")
    title = "Privacy-loss ledger"
    if spent is not None:
        title += f": spent {spent:.3g} ({(doc.get('spent') or {}).get('bound', '')})"
    return _layout(
        fig, title, "epsilon (sum of releases' own epsilons)", "", barmode="stack", height=260
    )
