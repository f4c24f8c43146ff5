"""Chart builders draw what the core computes, from live results or their saved dictionaries."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.review import charts
from workbench.risk import assess


@pytest.fixture(scope="module")
def tiny():
    # classes: (a,x) x3, (a,y) x1, (b,x) x2  -> sizes 3, 1, 2
    return pd.DataFrame({"q1": list("aaaabb"), "q2": ["x", "x", "x", "y", "x", "x"]})


def test_histogram_and_records_at_risk_from_hand_counts(tiny) -> None:
    risk = assess(tiny, ["q1", "q2"])
    fig = charts.class_size_histogram(risk)
    assert list(fig.data[0].x[:4]) == ["1", "2", "3", "4"]
    assert list(fig.data[0].y[:4]) == [1, 2, 3, 0]  # records per class size
    # 1/size > t: size 1 (risk 1), 2 (0.5), 3 (0.333)
    assert charts.records_at_risk_by_threshold(risk, [0.9, 0.4, 0.3]) == pytest.approx(
        [1 / 6, 3 / 6, 6 / 6]
    )
    # the same from the saved dictionary
    assert charts.records_at_risk_by_threshold(risk.to_dict(), [0.4]) == pytest.approx([0.5])


def test_frontier_chart_draws_the_core_result_directly() -> None:
    from workbench.deid import Hierarchy, frontier

    df = pd.DataFrame(
        {"age": [str(a) for a in (21, 22, 23, 24, 31, 32, 33, 34)] * 3, "sex": list("FMFMFMFM") * 3}
    )
    h = Hierarchy.from_rows(
        [(str(a), f"{a // 10 * 10}s", "*") for a in (21, 22, 23, 24, 31, 32, 33, 34)]
    )
    result = frontier(df, ["age", "sex"], {"age": h}, k_values=[2, 4, 6], suppressions=[0.0])
    fig = charts.frontier_chart(result.to_dict())
    found = [p for p in result.to_dict()["points"] if p["found"]]
    assert len(fig.data[0].x) == len(found)
    assert list(fig.data[0].y) == [p["score"] for p in found]
    assert any(t.name == "Pareto frontier" for t in fig.data)


def test_heatmap_labels_advice_decisions() -> None:
    matrix = {
        "datasets": ["a", "b"],
        "pairs": [
            {
                "datasets": ["a", "b"],
                "score": 0.7,
                "advice": {"decision": "keep_isolated", "reasons": ["x"]},
            }
        ],
    }
    fig = charts.join_risk_heatmap(matrix)
    assert "keep isolated" in fig.data[0].text[0][1]
    assert fig.data[0].z[1][0] == 0.7


def test_empty_inputs_say_why() -> None:
    fig = charts.suda_contributions({})
    assert fig.layout.annotations[0].text == "SUDA not computed"
