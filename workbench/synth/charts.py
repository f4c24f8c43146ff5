"""Plotly chart of the attacks on several releases of the same data, side by side.

A pure function of the evaluation dictionaries (:meth:`SynthEvaluation.to_dict`), so the notebook
panel and anything holding a saved bundle draw the same chart from aggregates only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from ..review.charts import _layout, empty_figure

__all__ = ["attack_risks"]


def attack_risks(evaluations: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Risk of each attack with its 95 % interval, one bar group per release.

    ``evaluations`` maps a release's label (e.g. "synthetic (MST)", "5-anonymous") to its
    evaluation dictionary. Risk is Anonymeter's ``(main - control) / (1 - control)``: what the
    release lets an attacker learn about the training people beyond what it says about anyone.
    """
    fig = go.Figure()
    for label, doc in evaluations.items():
        attacks = list(((doc or {}).get("privacy") or {}).get("attacks") or [])
        if not attacks:
            continue
        names = [str(a.get("attack", "")).replace("_", " ") for a in attacks]
        risk = [float(a.get("risk") or 0.0) for a in attacks]
        lo = [float((a.get("risk_ci") or [0, 0])[0]) for a in attacks]
        hi = [float((a.get("risk_ci") or [0, 0])[1]) for a in attacks]
        fig.add_trace(
            go.Bar(
                x=names,
                y=risk,
                name=label,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - r for h, r in zip(hi, risk, strict=True)],
                    "arrayminus": [r - low for r, low in zip(risk, lo, strict=True)],
                },
                hovertemplate="%{x}: risk %{y:.3f}<extra>" + label + "</extra>",
            )
        )
    if not fig.data:
        return empty_figure("no attack was run", "Attack risk")
    _layout(fig, "Attack risk with 95 % interval (0: no more than the holdout control)", "", "risk")
    fig.update_layout(barmode="group", yaxis_range=[0, 1])
    return fig
