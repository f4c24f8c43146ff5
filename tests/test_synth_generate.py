"""DP synthesis through OpenDP's MST: parameters refused, the unit truncation, one real run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError, PrivacyWarning
from workbench.synth.generate import _truncate, synthesize

R = np.random.default_rng(0)
N = 400
DATA = pd.DataFrame(
    {
        "pid": np.arange(N) // 4,
        "age": R.integers(0, 90, N),
        "sex": R.choice(["F", "M"], N),
        "inc": R.choice(["a", "b", "c"], N),
    }
)
KEYS = {"sex": ["F", "M"], "inc": ["a", "b", "c"]}
BINS = {"age": [18, 65]}


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": float("inf")}, "epsilon"),
        ({"epsilon": 1.0, "delta": 1.0}, "delta"),
        ({"epsilon": 1.0, "method": "gan"}, "method"),
        ({"epsilon": 1.0, "contributions": 0}, "contributions"),
        ({"epsilon": 1.0, "rows": 0}, "rows"),
        ({"epsilon": 1.0, "privacy_unit": "sex"}, "privacy_unit"),
    ],
)
def test_bad_parameters_are_refused_before_any_spending(kwargs, parameter):
    with pytest.raises(ParameterError, match=parameter):
        synthesize(DATA, ["age", "sex", "inc"], keys=KEYS, bins=BINS, **kwargs)


def test_categories_are_never_read_from_the_data_without_delta():
    with pytest.raises(ParameterError, match="discover the categories of \\['inc'\\]"):
        synthesize(DATA, ["age", "sex", "inc"], epsilon=1.0, keys={"sex": ["F", "M"]}, bins=BINS)


def test_truncation_keeps_at_most_k_rows_per_unit_and_is_seeded():
    a = _truncate(DATA, "pid", 2, seed=3)
    assert a.groupby("pid").size().max() == 2
    assert len(a) == 2 * DATA["pid"].nunique()
    assert a.equals(_truncate(DATA, "pid", 2, seed=3))
    assert not a.index.equals(_truncate(DATA, "pid", 2, seed=4).index)
    # k at the largest group size keeps everything
    assert len(_truncate(DATA, "pid", 4, seed=0)) == N


def test_row_unit_with_several_contributions_warns():
    # the warning comes before the data are read (here: a missing column stops the run)
    with pytest.warns(PrivacyWarning, match="contributions > 1"), pytest.raises(KeyError):
        synthesize(
            DATA.drop(columns="inc"),
            ["age", "sex", "inc"],
            epsilon=1.0,
            keys=KEYS,
            bins=BINS,
            contributions=2,
        )


@pytest.mark.slow
def test_mst_generates_the_requested_rows_within_the_public_categories():
    res = synthesize(
        DATA,
        ["age", "sex", "inc"],
        epsilon=2.0,
        keys=KEYS,
        bins=BINS,
        rows=123,
        privacy_unit="pid",
        contributions=2,
    )
    assert list(res.data.columns) == ["age", "sex", "inc"]
    assert len(res.data) == 123
    assert set(res.data["age"].dropna()) <= {"<18", "[18, 65[", ">=65"}
    assert set(res.data["sex"].dropna()) <= {"F", "M"}
    assert set(res.data["inc"].dropna()) <= {"a", "b", "c"}
    d = res.to_dict()
    assert d["epsilon"] == 2.0 and d["delta"] == 0.0 and d["contributions"] == 2
    assert "pid" not in res.data.columns


def test_plan_charge_pure_and_approximate():
    from workbench.dp import zcdp_epsilon
    from workbench.synth.generate import plan_charge

    loss, charge = plan_charge(1.0, 0.0)
    assert loss == {"epsilon": 1.0}
    assert (charge.rho, charge.delta, charge.epsilon) == (0.5, 0.0, 1.0)
    loss, charge = plan_charge(1.0, 1e-6)
    assert loss["delta"] == charge.delta == 5e-7  # half of delta pays for key discovery
    # the rest converts to at most the requested epsilon at the other half of delta
    assert zcdp_epsilon(loss["rho"], 5e-7) <= 1.0
    assert charge.epsilon <= 1.0 and charge.epsilon_delta == 1e-6


@pytest.mark.slow
def test_aim_discovers_categories_under_dp_when_delta_is_given():
    res = synthesize(
        DATA,
        ["age", "sex", "inc"],
        method="aim",
        epsilon=2.0,
        delta=1e-6,
        keys={"sex": ["F", "M"]},
        bins=BINS,
        rows=50,
    )
    assert res.discovered == ("inc",)
    assert res.charge["delta"] == 5e-7
    assert set(res.data["inc"].dropna()) <= {"a", "b", "c"}
