"""Information-loss metrics: hand-computed tiny table, fast models equal the plain definitions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers_e import small_problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.deid import Criteria, Hierarchy, SearchContext, metrics
from workbench.deid.metrics import (
    METRICS,
    average_class_size,
    discernibility,
    loss_metric,
    nonuniform_entropy,
    precision_metric,
    table_metrics,
)
from workbench.errors import PrivacyWarning

A = Hierarchy.from_rows(
    [("a1", "A12", "*"), ("a2", "A12", "*"), ("a3", "A34", "*"), ("a4", "A34", "*")], name="A"
)
B = Hierarchy.from_rows([("b1", "*"), ("b2", "*")], name="B")
TINY = pd.DataFrame({"A": ["a1", "a2", "a3", "a4"], "B": ["b1", "b1", "b2", "b2"]})
LEVELS = {"A": 1, "B": 0}


def test_tiny_table_by_hand_without_suppression() -> None:
    m = table_metrics(TINY, ["A", "B"], {"A": A, "B": B}, LEVELS, [False] * 4, k=2)
    # Loss: A covers 2 of 4 leaves for every record: L = 2, normalised (2 - 1) / (4 - 1) = 1/3;
    # B ungeneralized: L = 4 * 1/2 = 2 = N/|D| -> 0. Geometric mean: sqrt(4/3 * 1) - 1.
    assert m["loss"] == pytest.approx(math.sqrt(4 / 3) - 1)
    assert m["precision"] == pytest.approx((1 / 2 + 0) / 2)  # A at level 1 of 2, B at 0 of 1
    assert m["entropy"] == pytest.approx(4.0)  # each A value is 1 of 2 in its group: 1 bit
    assert m["discernibility"] == 8  # classes (A12,b1) and (A34,b2) of size 2
    assert m["aecs"] == pytest.approx(4 / 2 / 2)


def test_tiny_table_by_hand_with_one_suppressed_record() -> None:
    sup = [False, False, False, True]
    m = table_metrics(TINY, ["A", "B"], {"A": A, "B": B}, LEVELS, sup, k=2)
    # A: 3 * 1/2 + 1 = 2.5 -> (2.5 - 1)/3 = 0.5; B: 3 * 1/2 + 1 = 2.5 -> (2.5 - 2)/2 = 0.25
    assert m["loss"] == pytest.approx(math.sqrt(1.5 * 1.25) - 1)
    assert m["precision"] == pytest.approx((3 * 0.25 + 1.0) / 4)
    # suppressed a4: A -log2(1/4) = 2 instead of 1, B -log2(2/4) = 1 instead of 0
    assert m["entropy"] == pytest.approx(6.0)
    assert m["discernibility"] == 2**2 + 1**2 + 1 * 4
    assert m["aecs"] == pytest.approx(4 / 3 / 2)  # 2 released classes + 1 of suppressed


def test_reference_functions_extremes() -> None:
    shares = np.array([[0.25, 0.5], [0.25, 0.5]])
    assert loss_metric(shares, [False, False], [4, 2]) == pytest.approx(0.0)
    assert loss_metric(shares, [True, True], [4, 2]) == pytest.approx(1.0)
    assert precision_metric(np.zeros((3, 2)), [True, True, True]) == 1.0
    assert discernibility([5, 5], 0, 10) == 50
    assert average_class_size(10, 0, 2, 10) == 5.0
    assert nonuniform_entropy(np.array([[1.0]]), np.array([[1.0]]), 4, [False]) == 0.0


def test_every_metric_cites_its_definition() -> None:
    for fn in (
        loss_metric,
        precision_metric,
        nonuniform_entropy,
        discernibility,
        average_class_size,
    ):
        assert any(str(y) in fn.__doc__ for y in range(1995, 2020)), fn.__name__
    for name in METRICS:
        assert metrics.citation(name)


def test_lattice_scores_match_the_plain_definitions_on_adult(adult_csv) -> None:
    qis = ["sex", "age", "race", "education"]
    df = pd.read_csv(adult_csv, sep=";", dtype=str).iloc[:4000]
    hs = {q: Hierarchy.from_csv(adult_csv.parent / f"adult_hierarchy_{q}.csv") for q in qis}
    ctx = SearchContext(df, qis, hs)
    crit = Criteria(k=5, suppression=0.2)
    for levels in [(0, 0, 0, 0), (0, 2, 0, 1), (1, 3, 1, 2), (0, 1, 0, 0)]:
        _, sup = ctx.transform(levels, crit)
        ref = table_metrics(df, qis, hs, dict(zip(qis, levels, strict=True)), sup, k=5)
        for metric in METRICS:
            ev = ctx.evaluate(levels, Criteria(k=5, suppression=1.0), metric)
            assert ev.suppressed == int(sup.sum())
            assert ev.score == pytest.approx(ref[metric], rel=1e-9), (levels, metric)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems(), data=st.data())
def test_fast_scores_and_lower_bounds(problem, data) -> None:
    df, qis, hs, crit, _ = problem
    sensitive = ["s"] if crit.needs_sensitive else []
    ctx = SearchContext(df, qis, hs, sensitive)
    nodes = ctx.nodes.astype(np.int64)
    node = tuple(int(v) for v in nodes[data.draw(st.integers(0, len(nodes) - 1))])
    with warnings.catch_warnings():  # k = 1 alone warns (PrivacyWarning); still a valid case
        warnings.simplefilter("ignore", PrivacyWarning)
        everything = Criteria(**{**crit.__dict__, "suppression": 1.0, "max_average_risk": None})
    _, sup = ctx.transform(node, everything)
    ref = table_metrics(df, qis, hs, dict(zip(qis, node, strict=True)), sup, k=crit.k)
    for metric in METRICS:
        ev = ctx.evaluate(node, everything, metric)
        assert ev.score == pytest.approx(ref[metric], rel=1e-9, abs=1e-9)
        lb = ctx._model(metric).lower_bound(np.asarray([node]))[0]
        assert lb <= ev.score + 1e-9  # bound never exceeds the score with suppression
        # and never decreases under generalization
        up = [min(v + 1, h - 1) for v, h in zip(node, ctx.heights, strict=True)]
        assert ctx._model(metric).lower_bound(np.asarray([up]))[0] >= lb - 1e-9
