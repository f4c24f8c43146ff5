"""Benedetti-Franconi individual risk (sdcMicro indivRisk / measure_risk) and household risk."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.risk import assess, household_risk, individual_risk

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["urbrur", "water", "sex", "age"]


@pytest.fixture(scope="module")
def testdata() -> pd.DataFrame:
    path = ROOT / "data" / "samples" / "survey" / "testdata.csv"
    if not path.exists():
        path = ROOT.parent / "shared" / "data" / "sdcmicro" / "testdata.csv"
    return pd.read_csv(path)


def test_formula_branches_by_hand() -> None:
    fk = np.array([1, 2, 3, 5, 4])
    Fk = np.array([100.0, 50.0, 30.0, 5.0, 2.0])
    r = individual_risk(fk, Fk)
    p1 = 1 / 100
    assert r[0] == pytest.approx(p1 / (1 - p1) * math.log(1 / p1))
    p2 = 2 / 50
    assert r[1] == pytest.approx(p2 / (1 - p2) - (p2 / (1 - p2)) ** 2 * math.log(1 / p2))
    p3 = 3 / 30
    assert r[2] == pytest.approx(p3 / (3 - (1 - p3)))
    assert r[3] == pytest.approx(1 / 5)  # fk == Fk: the class is fully observed
    assert r[4] == pytest.approx(1 / 4)  # weights below 1: Fk raised to fk


def test_without_weights_risk_is_one_over_fk() -> None:
    assert individual_risk(np.array([1, 2, 4])).tolist() == [1.0, 0.5, 0.25]


def test_risk_is_a_probability_and_decreases_with_weight() -> None:
    fk = np.repeat(np.arange(1, 8), 50)
    Fk = fk * np.tile(np.geomspace(1.01, 1e5, 50), 7)
    r = individual_risk(fk, Fk)
    assert np.all((r > 0) & (r <= 1))
    for k in range(1, 8):
        block = r[fk == k]
        assert np.all(np.diff(block) < 0)


def test_testdata_records_hand_checked(testdata) -> None:
    p = assess(testdata, KEYS, weights="sampling_weight", household="ori_hid")
    per = p.per_record()
    # fk / Fk by plain pandas counting
    fk = testdata.groupby(KEYS)["sampling_weight"].transform("size").to_numpy()
    Fk = testdata.groupby(KEYS)["sampling_weight"].transform("sum").to_numpy()
    np.testing.assert_array_equal(per["fk"], fk)
    np.testing.assert_allclose(per["Fk"], Fk)
    # row 1: fk 7, Fk 700 -> p = 0.01, risk p / (fk - (1 - p))
    assert (per.loc[0, "fk"], per.loc[0, "Fk"]) == (7, 700.0)
    assert per.loc[0, "risk"] == pytest.approx(0.01 / (7 - 0.99))
    # a sample unique and a pair: sdcMicro's fk = 1 and fk = 2 formulas with p = 1/100
    i1 = int(np.flatnonzero(fk == 1)[0])
    assert per.loc[i1, "risk"] == pytest.approx(0.01 / 0.99 * math.log(100))
    i2 = int(np.flatnonzero(fk == 2)[0])
    odds = 0.01 / 0.99
    assert per.loc[i2, "risk"] == pytest.approx(odds - odds**2 * math.log(100))
    # household 1: 1 - prod(1 - r_i) over its members
    members = np.flatnonzero(testdata["ori_hid"].to_numpy() == 1)
    h1 = 1 - np.prod(1 - per.loc[members, "risk"].to_numpy())
    np.testing.assert_allclose(per.loc[members, "household_risk"], h1)
    # global risk: expected re-identifications = sum of individual risks
    g = p.global_risk
    assert g.expected_reidentifications == pytest.approx(per["risk"].sum())
    assert g.rate == pytest.approx(per["risk"].sum() / len(testdata))
    # Regression values for this example (sdcMicro's measure_risk summary for these keys).
    assert g.expected_reidentifications == pytest.approx(24.78, abs=0.005)
    assert p.household.expected_reidentifications == pytest.approx(117.20, abs=0.005)
    assert p.household.households == 1000


def test_household_risk_by_hand() -> None:
    r = np.array([0.5, 0.5, 0.1, 1.0, 0.2])
    hh = np.array(["a", "a", "b", "c", None], dtype=object)
    per, summary = household_risk(r, hh)
    assert per.tolist() == pytest.approx([0.75, 0.75, 0.1, 1.0, 0.2])
    assert summary.households == 4  # the missing id is a household of its own
    assert summary.expected_reidentifications == pytest.approx(2.8)
    assert summary.highest == 1.0
