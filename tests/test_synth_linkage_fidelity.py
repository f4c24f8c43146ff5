"""Linkage attack on synthetic records, fidelity measures: hand-made tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.synth.fidelity import fidelity, train_synthetic_test_real
from workbench.synth.generate import bin_columns, bin_labels
from workbench.synth.linkage_attack import link_synthetic

# five training people; voters hold four of them (P5 is not on the roll) and one outsider V9
TRAIN = pd.DataFrame(
    {
        "pid": ["P1", "P2", "P3", "P4", "P5"],
        "year": [1950, 1960, 1970, 1970, 1980],
        "sex": ["F", "M", "F", "F", "M"],
        "zip": ["a", "b", "c", "c", "d"],
    }
)
VOTERS = pd.DataFrame(
    {
        "pid": ["P1", "P2", "P3", "P4", "V9"],
        "year": [1950, 1960, 1970, 1970, 1990],
        "sex": ["F", "M", "F", "F", "M"],
        "zip": ["a", "b", "c", "c", "e"],
    }
)
ON = "year,sex,zip"


def test_a_copy_of_the_training_rows_reidentifies_who_the_training_table_does():
    syn = TRAIN.drop(columns="pid")
    r = link_synthetic(syn, TRAIN, VOTERS, "pid", ON)
    # P1 and P2 are unique on the roll; P3/P4 share a key (2 candidates); P5 is not on the roll
    assert r.training_correct == 2
    assert r.claimed == 2
    assert r.correct == 2
    # random assignment: each of P1's and P2's copies hits its voter with p = 1/5
    assert r.baseline_mean == pytest.approx(2 / 5)


def test_claims_on_holdout_people_are_the_control():
    # the holdout person H1 is on the roll; a synthetic record with H1's key names H1 correctly,
    # which says nothing about the training people: it is counted as control, not as correct
    voters = pd.concat(
        [VOTERS, pd.DataFrame({"pid": ["H1"], "year": [2000], "sex": ["F"], "zip": ["h"]})]
    )
    hold = pd.DataFrame({"pid": ["H1"], "year": [2000], "sex": ["F"], "zip": ["h"]})
    syn = pd.DataFrame({"year": [2000, 1950], "sex": ["F", "F"], "zip": ["h", "a"]})
    r = link_synthetic(syn, TRAIN, voters, "pid", ON, holdout=hold)
    assert r.claimed == 2
    assert r.correct == 1  # P1
    assert r.control == 1  # H1
    assert r.to_dict()["holdout_control_correct"] == 1


def test_a_synthetic_record_naming_an_outsider_is_not_a_reidentification():
    syn = pd.DataFrame({"year": [1990, 1990], "sex": ["M", "M"], "zip": ["e", "e"]})
    r = link_synthetic(syn, TRAIN, VOTERS, "pid", ON)
    assert r.claimed == 2  # both link uniquely to V9 ...
    assert r.correct == 0  # ... who was never in the training data
    assert r.baseline_mean == 0.0
    assert r.baseline_ci == (0.0, 0.0)


def test_linkage_rejects_a_synthetic_table_without_the_join_fields():
    with pytest.raises(Exception, match="year"):
        link_synthetic(pd.DataFrame({"sex": ["F"]}), TRAIN, VOTERS, "pid", ON)


def test_one_and_two_way_total_variation_by_hand():
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    syn = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": ["u", "v", "u", "v"]})
    rep = fidelity(real, syn, ["a", "b"])
    assert rep.one_way_tv == {"a": pytest.approx(0.25), "b": 0.0}
    # cells (x,u) .25 -> .5, (y,u) .25 -> 0, others equal: TV = (0.25 + 0.25) / 2
    assert rep.two_way_tv == {"a x b": pytest.approx(0.25)}
    same = fidelity(real, real, ["a", "b"])
    assert same.to_dict()["one_way_tv_max"] == 0.0
    assert same.to_dict()["two_way_tv_max"] == 0.0


def test_tstr_learns_a_deterministic_rule_and_misses_it_from_noise():
    rng = np.random.default_rng(0)
    x = rng.choice(["a", "b", "c"], 400)
    y = np.where(x == "a", "yes", "no")
    real = pd.DataFrame({"x": x, "y": y})
    hold = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    noise = pd.DataFrame({"x": x, "y": rng.choice(["yes", "no"], 400)})
    good = train_synthetic_test_real(real, real, hold, "y", ["x", "y"])
    assert good.accuracy_synthetic == 1.0 and good.accuracy_real == 1.0
    bad = train_synthetic_test_real(real, noise, hold, "y", ["x", "y"])
    assert bad.accuracy_synthetic < 0.8
    assert good.accuracy_majority == pytest.approx(float(np.mean(y == "no")))


def test_fidelity_needs_a_holdout_for_tstr():
    with pytest.raises(ParameterError):
        fidelity(TRAIN, TRAIN, ["year", "sex"], targets=["sex"])


def test_bins_cut_left_closed_at_every_edge():
    assert bin_labels([18, 65]) == ["<18", "[18, 65[", ">=65"]
    df = bin_columns(pd.DataFrame({"age": [17.999, 18, 64, 65, None]}), {"age": [18, 65]})
    assert df["age"].tolist()[:4] == ["<18", "[18, 65[", "[18, 65[", ">=65"]
    assert pd.isna(df["age"].iloc[4])


@pytest.mark.parametrize("edges", [[], [3, 3], [5, 1], [1, float("inf")]])
def test_bins_must_be_strictly_increasing_and_finite(edges):
    with pytest.raises(ParameterError):
        bin_columns(pd.DataFrame({"age": [1, 2]}), {"age": edges})


def test_binning_refuses_text_and_does_not_echo_it():
    with pytest.raises(ParameterError) as e:
        bin_columns(pd.DataFrame({"age": ["12", "secret-value"]}), {"age": [10]})
    assert "secret-value" not in str(e.value)
