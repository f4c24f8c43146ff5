"""Risk-utility frontier: every point is the optimum for its target; Pareto marking is right."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main
from workbench.deid import Criteria, Hierarchy, SearchContext, frontier
from workbench.errors import ParameterError

QIS = ["sex", "age", "race", "marital-status"]


@pytest.fixture(scope="module")
def ctx(adult_csv: Path) -> SearchContext:
    df = pd.read_csv(adult_csv, sep=";", dtype=str).iloc[:5000]
    hs = {q: Hierarchy.from_csv(adult_csv.parent / f"adult_hierarchy_{q}.csv") for q in QIS}
    return SearchContext(df, QIS, hs, sensitive=["salary-class"])


def _dominates(q, p, measure):
    a, b = q.risk(measure), p.risk(measure)
    return a <= b and q.score <= p.score and (a < b or q.score < p.score)


@pytest.mark.parametrize("measure", ["average_risk", "records_at_risk"])
def test_frontier_points_are_optima_and_pareto_marking_is_correct(ctx, measure) -> None:
    res = frontier(ctx, k_values=[2, 3, 5, 8], suppressions=[0, 0.05], l=2, risk=measure)
    assert len(res.points) == 4 * 2 * 2
    for p in res.points:
        direct = ctx.search(Criteria(k=p.k, l=p.l, suppression=p.suppression))
        assert p.found == direct.found
        if p.found:
            assert dict(p.levels) == dict(direct.levels) and p.score == direct.score
    found = [p for p in res.points if p.found]
    for p in found:
        dominated = any(_dominates(q, p, measure) for q in found)
        assert p.pareto == (not dominated)
    front = res.frontier
    assert front and all(p.pareto for p in front)
    risks = [p.risk(measure) for p in front]
    assert risks == sorted(risks)
    scores = [p.score for p in front]  # along the frontier, more risk buys less loss
    assert all(a >= b for a, b in zip(scores, scores[1:], strict=False))
    doc = res.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["frontier"][0]["levels"] is not None


def test_frontier_parameter_errors(ctx) -> None:
    with pytest.raises(ParameterError):
        frontier(ctx, risk="bogus")
    with pytest.raises(ParameterError):
        frontier(ctx, k_values=[])


def test_cli_frontier_json(adult_csv: Path, capsys) -> None:
    hier = [
        a for q in QIS for a in ("--hierarchy", f"{q}={adult_csv.parent}/adult_hierarchy_{q}.csv")
    ]
    assert (
        main(
            [
                "frontier",
                str(adult_csv),
                "--qi",
                ",".join(QIS),
                *hier,
                "--k-range",
                "2-4",
                "--suppression",
                "0,0.05",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["points"]) == 6 and doc["frontier"]
    assert {"k", "suppression", "levels", "score", "average_risk", "pareto"} <= set(
        doc["points"][0]
    )
