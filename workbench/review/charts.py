"""Plotly chart builders: pure functions from core results to figures.

Every builder accepts either a result object (anything with ``to_dict()``) or the dictionary itself,
so the notebooks (live objects), the Voila dashboard and the HTML report (a saved bundle's JSON)
draw exactly the same charts. Builders only ever see aggregates: class sizes, shares, scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .._results import as_dict
from ..risk.measures import records_at_risk

__all__ = [
    "as_dict",
    "records_at_risk_by_threshold",
    "class_size_histogram",
    "records_at_risk_curve",
    "risk_distribution",
    "population_estimates",
    "suda_contributions",
    "subset_uniqueness",
    "before_after",
    "linkage_outcome",
    "join_risk_heatmap",
    "frontier_chart",
    "frontier_points",
    "distribution_before_after",
    "empty_figure",
    "advice_label",
]

_BLUE = "#1f77b4"
_RED = "#d62728"
_ORANGE = "#ff7f0e"
_GREEN = "#2ca02c"
_GREY = "#7f7f7f"
_HEIGHT = 340


def _layout(fig: go.Figure, title: str, x: str, y: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        height=kw.pop("height", _HEIGHT),
        margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white",
        **kw,
    )
    return fig


def empty_figure(message: str, title: str = "") -> go.Figure:
    """A figure that says why there is nothing to draw (never an empty, silent plot)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font=dict(size=14, color=_GREY),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, "", "")


def _histogram(risk: Mapping) -> list[tuple[int, int]]:
    hist = risk.get("class_size_histogram") or {}
    return sorted((int(k), int(v)) for k, v in hist.items())


def records_at_risk_by_threshold(risk: Any, thresholds: Sequence[float]) -> list[float]:
    """Share of records whose prosecutor risk 1/size is strictly above each threshold.

    Computed from the class-size histogram alone (El Emam 2013 "records at risk").
    """
    hist = _histogram(as_dict(risk))
    sizes = np.asarray([size for size, _ in hist], dtype=np.float64)
    records = np.asarray([size * count for size, count in hist], dtype=np.float64)
    if not len(sizes):
        return [0.0 for _ in thresholds]
    return [records_at_risk(1.0 / sizes, records, t) for t in thresholds]


_SIZE_BANDS = [
    (1, 1, "1"),
    (2, 2, "2"),
    (3, 3, "3"),
    (4, 4, "4"),
    (5, 9, "5-9"),
    (10, 19, "10-19"),
    (20, 49, "20-49"),
    (50, None, "50+"),
]


def class_size_histogram(risk: Any) -> go.Figure:
    """Records per equivalence-class size band (sizes 1-4 are the risky ones, in red/orange)."""
    d = as_dict(risk)
    hist = _histogram(d)
    if not hist:
        return empty_figure("no classes", "Class sizes")
    labels, values, classes = [], [], []
    for lo, hi, label in _SIZE_BANDS:
        inband = [(s, c) for s, c in hist if s >= lo and (hi is None or s <= hi)]
        labels.append(label)
        values.append(sum(s * c for s, c in inband))
        classes.append(sum(c for _, c in inband))
    colors = [
        _RED if lbl == "1" else (_ORANGE if lbl in {"2", "3", "4"} else _BLUE) for lbl in labels
    ]
    fig = go.Figure(
        go.Bar(
            name="records",
            x=labels,
            y=values,
            marker_color=colors,
            customdata=classes,
            text=[f"{v:,}" for v in values],
            textposition="outside",
            hovertemplate="class size %{x}: %{y} records in %{customdata} classes",
        )
    )
    fig.update_xaxes(type="category")
    k = d.get("min_class_size")
    return _layout(fig, f"Records by equivalence-class size (k = {k})", "class size", "records")


def records_at_risk_curve(risk: Any, threshold: float | None = None) -> go.Figure:
    """Share of records at risk as the acceptable-risk threshold varies (marker at ``threshold``)."""
    d = as_dict(risk)
    if not _histogram(d):
        return empty_figure("no classes", "Records at risk")
    grid = [round(0.01 * i, 2) for i in range(1, 100)]
    shares = records_at_risk_by_threshold(d, grid)
    fig = go.Figure(
        go.Scatter(
            x=grid,
            y=shares,
            mode="lines",
            line=dict(color=_BLUE),
            name="records at risk",
            hovertemplate="threshold %{x}: %{y:.1%}",
        )
    )
    if threshold is None:
        threshold = (d.get("prosecutor") or {}).get("threshold")
    if threshold is not None:
        (share,) = records_at_risk_by_threshold(d, [threshold])
        fig.add_trace(
            go.Scatter(
                x=[threshold],
                y=[share],
                mode="markers+text",
                marker=dict(size=12, color=_RED),
                text=[f"{share:.1%}"],
                textposition="top right",
                name=f"threshold {threshold:g}",
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return _layout(
        fig,
        "Records at risk by threshold (prosecutor model)",
        "threshold on re-identification probability",
        "share of records",
        showlegend=False,
    )


def risk_distribution(risk: Any) -> go.Figure:
    """Records by re-identification probability band (1/class size)."""
    d = as_dict(risk)
    hist = _histogram(d)
    if not hist:
        return empty_figure("no classes", "Risk distribution")
    bands = [
        (0.5, 1.0, "(50%, 100%]"),
        (0.2, 0.5, "(20%, 50%]"),
        (0.1, 0.2, "(10%, 20%]"),
        (0.05, 0.1, "(5%, 10%]"),
        (0.01, 0.05, "(1%, 5%]"),
        (0.0, 0.01, "[0%, 1%]"),
    ]
    n = sum(s * c for s, c in hist)
    labels, values, colors = [], [], []
    for lo, hi, label in bands:
        recs = sum(s * c for s, c in hist if (lo < 1.0 / s <= hi) or (lo == 0.0 and 1.0 / s <= hi))
        labels.append(label)
        values.append(recs / n if n else 0.0)
        colors.append(_RED if lo >= 0.2 else (_ORANGE if lo >= 0.05 else _GREEN))
    fig = go.Figure(
        go.Bar(
            name="share of records",
            x=labels,
            y=values,
            marker_color=colors,
            hovertemplate="%{x}: %{y:.1%} of records",
        )
    )
    fig.update_yaxes(tickformat=".0%")
    return _layout(
        fig, "Records by re-identification probability", "probability band", "share of records"
    )


def population_estimates(risk: Any) -> go.Figure:
    """Sample uniques next to the population-uniqueness estimates (null ones are labelled)."""
    d = as_dict(risk)
    pop = d.get("population") or {}
    if not pop.get("size"):
        return empty_figure("no population size given", "Population uniques")
    names = ["sample uniques", "Pitman", "Zayatz", "SNB", "Dankar"]
    dankar = pop.get("dankar") or {}
    vals = [
        d.get("sample_uniques"),
        pop.get("pitman"),
        pop.get("zayatz"),
        pop.get("snb"),
        dankar.get("uniques"),
    ]
    text = ["unavailable" if v is None else f"{v:,.0f}" for v in vals]
    fig = go.Figure(
        go.Bar(
            name="estimated population uniques",
            x=names,
            y=[0 if v is None else v for v in vals],
            text=text,
            textposition="outside",
            marker_color=[_GREY, _BLUE, _BLUE, _BLUE, _RED],
        )
    )
    model = dankar.get("model") or "n/a"
    return _layout(
        fig,
        f"Estimated population uniques (N = {pop['size']:,.0f}; Dankar picks {model})",
        "",
        "records",
    )


#: Why SUDA contributions add up to more than 100 % (shown with the chart and the table).
SUDA_NOT_100 = (
    "The contributions do not add up to 100 %: a minimal sample unique usually combines several "
    "attributes, and each attribute is credited with the score of every minimal sample unique "
    "it is part of (Elliot et al. 2002, as sdcMicro computes them)."
)


def suda_contributions(suda: Any) -> go.Figure:
    """Each attribute's share of the total SUDA score (what makes records special); the shares
    overlap (:data:`SUDA_NOT_100`)."""
    d = as_dict(suda)
    contrib = d.get("attribute_contributions") or {}
    if not contrib:
        return empty_figure("SUDA not computed", "SUDA attribute contributions")
    items = sorted(contrib.items(), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            name="share of the SUDA score",
            x=[v for _, v in items],
            y=[k for k, _ in items],
            orientation="h",
            marker_color=_BLUE,
            hovertemplate="%{y}: %{x:.1f}%",
        )
    )
    return _layout(
        fig,
        "SUDA: contribution of each attribute (overlapping shares, not summing to 100 %)",
        "% of total SUDA score (an attribute is credited for every MSU it is part of)",
        "",
        height=max(_HEIGHT, 40 + 28 * len(items)),
    )


def subset_uniqueness(subsets: Any, top: int = 15) -> go.Figure:
    """Uniqueness of the most identifying QI subsets (attacker-knowledge scenarios)."""
    d = as_dict(subsets)
    rows = d.get("subsets") or d.get("ranked") or []
    if not rows:
        return empty_figure("QI subsets not computed", "Uniqueness by QI subset")
    rows = rows[:top][::-1]
    labels = [" + ".join(r.get("columns") or r.get("qis") or []) for r in rows]
    values = [r.get("uniqueness", 0.0) for r in rows]
    fig = go.Figure(
        go.Bar(
            name="uniqueness",
            x=values,
            y=labels,
            orientation="h",
            marker_color=_RED,
            hovertemplate="%{y}: %{x:.1%} unique",
        )
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    return _layout(
        fig,
        "Share of records unique when the attacker knows only these attributes",
        "sample uniqueness",
        "",
        height=max(_HEIGHT, 40 + 26 * len(rows)),
    )


_COMPARE = [
    ("sample uniqueness", lambda d: d.get("sample_uniqueness")),
    ("records at risk", lambda d: (d.get("prosecutor") or {}).get("records_at_risk")),
    ("average risk", lambda d: (d.get("prosecutor") or {}).get("average")),
    ("highest risk", lambda d: (d.get("prosecutor") or {}).get("highest")),
]


def before_after(
    before: Any, after: Any, labels: tuple[str, str] = ("before", "after")
) -> go.Figure:
    """Headline prosecutor-risk measures before and after de-identification."""
    b, a = as_dict(before), as_dict(after)
    names = [n for n, _ in _COMPARE]
    fig = go.Figure()
    for label, d, color in ((labels[0], b, _RED), (labels[1], a, _GREEN)):
        if not d:
            continue
        vals = [f(d) or 0.0 for _, f in _COMPARE]
        fig.add_trace(
            go.Bar(
                name=label,
                x=names,
                y=vals,
                marker_color=color,
                text=[f"{v:.1%}" for v in vals],
                textposition="outside",
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.1])
    return _layout(
        fig, "Risk before and after de-identification", "", "share / probability", barmode="group"
    )


def linkage_outcome(link: Any) -> go.Figure:
    """Released records with no, one or several candidate matches in the attacker's data."""
    d = as_dict(link)
    if "no_match" not in d:
        return empty_figure("no linkage result", "Linkage attack")
    cats = ["no match", "one match", "several matches"]
    vals = [d.get("no_match", 0.0), d.get("one_match", 0.0), d.get("many_matches", 0.0)]
    fig = go.Figure(
        go.Bar(
            name="share of released records",
            x=cats,
            y=vals,
            marker_color=[_GREEN, _RED, _ORANGE],
            text=[f"{v:.1%}" for v in vals],
            textposition="outside",
        )
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.1])
    exp = d.get("expected_reidentifications")
    sub = f"expected re-identifications: {exp:,.0f}" if exp is not None else ""
    cu = d.get("correct_unique_matches")
    if cu is not None:
        sub += f"; correct unique matches: {cu:,}"
    return _layout(
        fig, f"Linkage attack outcome<br><sup>{sub}</sup>", "", "share of released records"
    )


def join_risk_heatmap(matrix: Any, value: str = "score") -> go.Figure:
    """Pairwise join-risk scores between catalog datasets, annotated with the advice."""
    d = as_dict(matrix)
    pairs = d.get("pairs") or []
    names = list(d.get("datasets") or sorted({n for p in pairs for n in p.get("datasets", [])}))
    if not pairs or not names:
        return empty_figure("no pairs assessed", "Join-risk matrix")
    idx = {n: i for i, n in enumerate(names)}
    z = [[None] * len(names) for _ in names]
    text = [[""] * len(names) for _ in names]
    why = [[""] * len(names) for _ in names]
    for p in pairs:
        ds = p.get("datasets") or []
        if len(ds) != 2:
            continue
        i, j = idx[ds[0]], idx[ds[1]]
        v = p.get(value)
        advice = advice_label(p.get("advice"))
        for a, b in ((i, j), (j, i)):
            z[a][b] = v
            text[a][b] = f"{v:.2f}<br>{advice}" if isinstance(v, int | float) else advice
            why[a][b] = join_risk_why(p)
    fig = go.Figure(
        go.Heatmap(
            name="join risk",
            z=z,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Reds",
            zmin=0,
            zmax=1,
            hoverongaps=False,
            customdata=why,
            hovertemplate="%{y} + %{x}<br>%{customdata}<extra></extra>",
            colorbar=dict(title=value),
        )
    )
    return _layout(
        fig,
        "Join-risk matrix (likelihood x harm) with advice",
        "",
        "",
        height=max(_HEIGHT, 120 + 70 * len(names)),
    )


def join_risk_why(pair: Mapping[str, Any]) -> str:
    """Why a pair scores as it does: likelihood and harm apart, and what drives each."""
    lk, harm, score = pair.get("likelihood"), pair.get("harm"), pair.get("score")
    if not isinstance(lk, int | float) or not isinstance(harm, int | float):
        return "likelihood or harm not assessed"
    exposed = sorted(
        pair.get("exposed") or [],
        key=lambda e: -float(e.get("weight") or 0) if isinstance(e, Mapping) else 0,
    )
    worst = exposed[0] if exposed and isinstance(exposed[0], Mapping) else {}
    harm_why = (
        f"harm {harm:.2f}: the most sensitive field exposed is {worst.get('dataset')}."
        f"{worst.get('column')} ({worst.get('category')})"
        if worst
        else f"harm {harm:.2f}: no sensitive field exposed"
    )
    driver = (
        (pair.get("combined") or {}).get("main_driver")
        if isinstance(pair.get("combined"), Mapping)
        else None
    )
    lk_why = f"likelihood {lk:.1%}: share of joined records singled out" + (
        f", {driver} adds the most" if driver else ""
    )
    total = f"score {score:.3f} = likelihood x harm" if isinstance(score, int | float) else ""
    return "; ".join(x for x in (lk_why, harm_why, total) if x)


def advice_label(advice: Any) -> str:
    """Short label of a pair's advice (a decision string or an advice dict)."""
    if isinstance(advice, Mapping):
        advice = advice.get("decision", "")
    return str(advice or "").replace("_", " ")


def frontier_points(frontier: Any) -> dict[str, Any]:
    """A frontier (``FrontierResult`` or its dict) with ``risk``, ``loss`` and ``label`` per point.

    Points that found no transformation are dropped; the original fields are kept, so a bundle
    can hold the whole result and still be drawn.
    """
    d = as_dict(frontier)
    measure = d.get("risk_measure", "average_risk")
    key = measure.replace(" ", "_")
    points = []
    for p in d.get("points") or []:
        if not p.get("found", True):
            continue
        label = p.get("label") or (
            f"k={p.get('k')}, suppression "
            f"{float(p.get('suppression') or 0):.0%}" + (f", l={p['l']}" if p.get("l") else "")
        )
        points.append(
            {
                **p,
                "risk": p.get("risk", p.get(key)),
                "loss": p.get("loss", p.get("score")),
                "label": label,
            }
        )
    return {
        **{k: v for k, v in d.items() if k not in ("points", "frontier")},
        "risk_measure": str(measure).replace("_", " "),
        "loss_measure": d.get("loss_measure") or f"information loss ({d.get('metric', 'loss')})",
        "points": points,
    }


def frontier_chart(frontier: Any) -> go.Figure:
    """Risk-utility trade-off: every evaluated target, Pareto-optimal ones highlighted."""
    d = frontier_points(frontier)
    points = d["points"]
    if not points:
        return empty_figure("no frontier computed", "Risk-utility frontier")
    xs = [p.get("risk") for p in points]
    ys = [p.get("loss") for p in points]
    labels = [p.get("label") for p in points]
    pareto = [bool(p.get("pareto", p.get("on_frontier", False))) for p in points]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            name="evaluated",
            marker=dict(color=_GREY, size=7),
            text=[str(t) for t in labels],
            hovertemplate="%{text}<br>risk %{x:.3f}<br>loss %{y:.3f}",
        )
    )
    fr = sorted((x, y, str(t)) for x, y, t, p in zip(xs, ys, labels, pareto, strict=True) if p)
    if fr:
        fig.add_trace(
            go.Scatter(
                x=[f[0] for f in fr],
                y=[f[1] for f in fr],
                mode="lines+markers",
                name="Pareto frontier",
                marker=dict(color=_RED, size=10),
                text=[f[2] for f in fr],
                hovertemplate="%{text}<br>risk %{x:.3f}<br>loss %{y:.3f}",
            )
        )
    return _layout(fig, "Risk-utility frontier", d["risk_measure"], d["loss_measure"])


def distribution_before_after(
    before: Mapping[str, float], after: Mapping[str, float], column: str
) -> go.Figure:
    """Category shares of one attribute before and after (aggregates only)."""
    cats = list(dict.fromkeys([*before.keys(), *after.keys()]))
    fig = go.Figure()
    fig.add_trace(
        go.Bar(name="before", x=cats, y=[before.get(c, 0.0) for c in cats], marker_color=_GREY)
    )
    fig.add_trace(
        go.Bar(name="after", x=cats, y=[after.get(c, 0.0) for c in cats], marker_color=_BLUE)
    )
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(type="category")
    return _layout(
        fig,
        f"Distribution of {column} before and after",
        column,
        "share of records",
        barmode="group",
    )


def scenario_matrix_heatmap(matrix: Any) -> go.Figure:
    """Headline risk of every release (rows) under every threat scenario (columns).

    Cells that do not apply stay blank; the hover says why, and each cell's text is the risk as
    a percentage. Draws a :class:`workbench.scenarios.ScenarioMatrix` or its ``to_dict()``.
    """
    d = as_dict(matrix)
    releases = list(d.get("releases") or [])
    scenarios = [s["name"] for s in d.get("scenarios") or []]
    if not releases or not scenarios:
        return empty_figure("no scenario evaluated", "Threat scenarios")
    cell = {(o["release"], o["scenario"]): o for o in d.get("outcomes") or []}
    z, text, hover = [], [], []
    for r in releases:
        zr, tr, hr = [], [], []
        for s in scenarios:
            o = cell.get((r, s)) or {}
            ok = bool(o.get("applicable"))
            zr.append(float(o["risk"]) if ok else None)
            tr.append(f"{100 * float(o['risk']):.1f} %" if ok else "n/a")
            hr.append(str(o.get("summary", "")))
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=scenarios,
            y=releases,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            hovertemplate="%{y} / %{x}<br>%{customdata}<extra>scenario risk</extra>",
            colorscale="Reds",
            zmin=0,
            zmax=1,
            hoverongaps=False,
            colorbar=dict(title="risk", tickformat=".0%"),
            name="scenario risk",
        )
    )
    return _layout(
        fig,
        "Threat scenarios: share of records at stake per release and attacker",
        "scenario",
        "release",
        height=max(_HEIGHT, 140 + 60 * len(releases)),
    )
