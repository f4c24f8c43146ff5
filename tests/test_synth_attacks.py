"""Attacks on synthetic data (Anonymeter method): hand-checked rates, copies vs independent draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.synth.attacks import (
    SuccessRate,
    attack_risk,
    distance_to_closest_record,
    inference,
    linkability,
    singling_out,
    wilson,
)


def _table(n: int, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": r.integers(18, 90, n),
            "zip": r.choice([f"z{i:02d}" for i in range(40)], n),
            "sex": r.choice(["F", "M"], n),
            "job": r.choice([f"j{i:02d}" for i in range(30)], n),
            "income": r.choice(list("abcdefgh"), n),
            "dx": r.choice(list("pqrs"), n),
        }
    )


TRAIN, HOLDOUT, OTHER = _table(600, 1), _table(600, 2), _table(600, 3)
COLS = list(TRAIN.columns)


def test_wilson_zero_of_ten_matches_the_published_upper_bound():
    # Wilson 95 % interval for 0/10 is [0, 0.2775] (Newcombe 1998, table I)
    r = wilson(0, 10)
    z2 = 1.959963984540054**2
    assert r.value == pytest.approx((z2 / 20) / (1 + z2 / 10))
    assert r.ci[0] == pytest.approx(0.0, abs=1e-12)
    assert r.ci[1] == pytest.approx(0.2775, abs=5e-5)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ParameterError):
        wilson(11, 10)
    with pytest.raises(ParameterError):
        wilson(0, 0)


def test_risk_is_zero_when_main_equals_control_and_one_when_control_fails():
    a = SuccessRate(5, 10, 0.5, 0.1)
    assert attack_risk(a, a)[0] == 0.0
    # a main attack below the control is clipped to no risk
    assert attack_risk(SuccessRate(2, 10, 0.2, 0.0), a)[0] == 0.0
    r, _ = attack_risk(SuccessRate(9, 10, 0.9, 0.0), SuccessRate(0, 10, 0.0, 0.0))
    assert r == pytest.approx(0.9)
    # hand-computed: (0.6 - 0.2) / (1 - 0.2) = 0.5; error sqrt((0.1/0.8)^2 + (0.05*0.4/0.64)^2)
    r, ci = attack_risk(SuccessRate(6, 10, 0.6, 0.1), SuccessRate(2, 10, 0.2, 0.05))
    err = math.sqrt((0.1 / 0.8) ** 2 + (0.05 * 0.4 / 0.64) ** 2)
    assert r == pytest.approx(0.5)
    assert ci == pytest.approx((0.5 - err, 0.5 + err))


def test_a_copy_of_the_training_rows_is_singled_out_linked_and_inferred():
    so = singling_out(TRAIN, TRAIN, HOLDOUT, COLS, n_attacks=200, n_cols=3)
    assert so.risk > 0.8 and so.better_than_baseline
    li = linkability(
        TRAIN, TRAIN, HOLDOUT, ["age", "zip"], ["job", "income", "sex", "dx"], n_attacks=200
    )
    assert li.risk > 0.6 and li.better_than_baseline
    inf = inference(TRAIN, TRAIN, HOLDOUT, ["age", "zip", "job", "income"], "dx", n_attacks=200)
    assert inf.risk > 0.8 and inf.better_than_baseline
    dcr = distance_to_closest_record(TRAIN, TRAIN, HOLDOUT, COLS)
    assert dcr.median_to_training == 0.0
    assert dcr.exact_copies_of_training == 1.0
    assert dcr.closer_to_training > 0.95


def test_an_independent_draw_shows_risk_near_the_baseline():
    so = singling_out(TRAIN, OTHER, HOLDOUT, COLS, n_attacks=200, n_cols=3)
    li = linkability(
        TRAIN, OTHER, HOLDOUT, ["age", "zip"], ["job", "income", "sex", "dx"], n_attacks=200
    )
    inf = inference(TRAIN, OTHER, HOLDOUT, ["age", "zip", "job", "income"], "dx", n_attacks=200)
    for a in (so, li, inf):
        assert a.risk_ci[0] < 0.05, a.to_dict()
        assert a.risk < 0.15, a.to_dict()
    dcr = distance_to_closest_record(TRAIN, OTHER, HOLDOUT, COLS)
    assert 0.4 < dcr.closer_to_training < 0.6
    assert dcr.exact_copies_of_training < 0.05


def test_dcr_on_a_hand_made_table():
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    hold = pd.DataFrame({"x": [5.0, 10.0], "c": ["b", "a"]})
    syn = pd.DataFrame({"x": [0.0, 5.0], "c": ["a", "b"]})
    # range of x over the three tables is 10: syn row 0 -> train row 0 at 0, holdout at 0.5+1
    # or 1.0+0; syn row 1 -> train (0.5+1 | 0.5+0) = 0.5, holdout row 0 at 0
    d = distance_to_closest_record(train, syn, hold, ["x", "c"])
    assert d.exact_copies_of_training == 0.5
    assert d.exact_copies_of_holdout == 0.5
    assert d.closer_to_training == 0.5
    assert d.median_to_training == pytest.approx(0.25)
    assert d.median_to_holdout == pytest.approx(0.5)


def test_numeric_inference_uses_the_relative_tolerance_at_its_limit():
    train = pd.DataFrame({"k": ["a", "b"], "v": [100.0, 200.0]})
    # a guess 5 away from 100 is within 5 %; 11 away from 200 is not (limit 10)
    syn = pd.DataFrame({"k": ["a", "b"], "v": [105.0, 211.0]})
    r = inference(train, syn, train, ["k"], "v", n_attacks=2, tolerance=0.05)
    assert r.main.successes == 1
    r = inference(train, syn, train, ["k"], "v", n_attacks=2, tolerance=0.055)
    assert r.main.successes == 2


def test_attacks_are_deterministic_for_a_seed():
    a = singling_out(TRAIN, OTHER, HOLDOUT, COLS, n_attacks=50, seed=7).to_dict()
    b = singling_out(TRAIN, OTHER, HOLDOUT, COLS, n_attacks=50, seed=7).to_dict()
    assert a == b


@pytest.mark.parametrize(
    ("aux_a", "aux_b"), [([], ["zip"]), (["zip"], []), (["zip", "age"], ["age"])]
)
def test_linkability_needs_two_disjoint_halves(aux_a, aux_b):
    with pytest.raises(ParameterError):
        linkability(TRAIN, OTHER, HOLDOUT, aux_a, aux_b)


def test_missing_column_is_named():
    with pytest.raises(Exception, match="nope"):
        singling_out(TRAIN, OTHER, HOLDOUT, ["nope"], n_cols=1)
