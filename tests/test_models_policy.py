"""Policies, harmonization and the gate loop over the registered privacy models."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench.errors import ParameterError, PolicyError
from workbench.governance import Policy, gate, harmonize
from workbench.governance.policy import POLICY_SCHEMA
from workbench.models import MODELS

pytestmark = pytest.mark.usefixtures("isolated")


def _frame() -> pd.DataFrame:
    """Classes (zip): a = {flu, flu, cold}, b = {flu, cold, cold, asthma}; table p(flu) = 3/7."""
    return pd.DataFrame(
        {
            "zip": ["a", "a", "a", "b", "b", "b", "b"],
            "diagnosis": ["flu", "flu", "cold", "flu", "cold", "cold", "asthma"],
        }
    )


def _gate(tmp_path: Path, thresholds: dict) -> dict:
    data = tmp_path / "d.csv"
    _frame().to_csv(data, index=False)
    pol = tmp_path / "p.yaml"
    Policy.from_dict(policy_doc(name="p", thresholds=thresholds)).save(pol)
    res = gate(data, policy=pol, qis=["zip"], sensitive=["diagnosis"])
    return {f.rule: (f.status, f.measured, f.limit) for f in res.findings}


def test_every_policy_key_comes_from_the_registry() -> None:
    keys = set(POLICY_SCHEMA["properties"]["thresholds"]["properties"])
    assert keys == {m.policy_key for m in MODELS.values() if m.policy_key}


# class a: q(flu) = 2/3, class b: q(flu) = 1/4; p = (asthma 1/7, cold 3/7, flu 3/7)
# equal-distance EMD: a: 0.5*(1/7 + 2/21 + 5/21) = 5/21 ; b: 0.5*(3/28 + 2/28 + 5/28) = 5/28
T_A = 5 / 21
# delta-disclosure: a: ln((2/3)/(3/7)) = ln(14/9); b: asthma ln((1/4)/(1/7)) = ln(7/4)
D_MAX = math.log(7 / 4)


@pytest.mark.parametrize(
    ("thresholds", "rule", "expected"),
    [
        ({"max_t": {"diagnosis": T_A}}, "max_t[diagnosis]", ("pass", round(T_A, 6))),
        ({"max_t": {"diagnosis": 0.238}}, "max_t[diagnosis]", ("fail", round(T_A, 6))),
        (
            {"max_delta_disclosure": {"diagnosis": 0.6}},
            "max_delta_disclosure[diagnosis]",
            ("pass", round(D_MAX, 6)),
        ),
        (  # the definition is strict: exactly at the limit fails
            {"max_delta_disclosure": {"diagnosis": D_MAX}},
            "max_delta_disclosure[diagnosis]",
            ("fail", round(D_MAX, 6)),
        ),
        # basic beta: a flu (2/3 - 3/7)/(3/7) = 5/9; b asthma (1/4-1/7)/(1/7) = 3/4
        (
            {"max_beta_likeness": {"diagnosis": 0.75}},
            "max_beta_likeness[diagnosis]",
            ("pass", 0.75),
        ),
        (
            {"max_beta_likeness": {"diagnosis": 0.7}},
            "max_beta_likeness[diagnosis]",
            ("fail", 0.75),
        ),
        ({"min_k": 3}, "min_k", ("pass", 3)),
        ({"min_k": 4}, "min_k", ("fail", 3)),
    ],
)
def test_gate_checks_registered_models_at_their_limits(tmp_path, thresholds, rule, expected):
    got = _gate(tmp_path, thresholds)
    assert got[rule][:2] == expected


def test_models_the_gate_cannot_measure_are_left_to_a_reviewer(tmp_path) -> None:
    got = _gate(
        tmp_path,
        {"min_k": 2, "min_k_map": 5, "delta_presence": {"min": 0.1, "max": 0.5}},
    )
    assert got["min_k_map"] == ("review", None, 5)
    assert got["delta_presence"] == ("review", None, {"min": 0.1, "max": 0.5})
    assert got["min_k"][0] == "pass"


def test_harmonization_combines_every_registered_key() -> None:
    a = Policy.from_dict(
        policy_doc(
            name="a",
            thresholds={
                "min_k_map": 5,
                "max_t": {"diagnosis": 0.3},
                "delta_presence": {"min": 0.1, "max": 0.6},
                "max_population_uniqueness": 0.05,
            },
        )
    )
    b = Policy.from_dict(
        policy_doc(
            name="b",
            thresholds={
                "min_k_map": 8,
                "max_t": {"diagnosis": 0.4, "income": 0.2},
                "delta_presence": {"min": 0.2, "max": 0.5},
                "max_population_uniqueness": 0.01,
            },
        )
    )
    h = harmonize([a, b])
    th = h.policy.thresholds.to_dict()
    assert th["min_k_map"] == 8
    assert th["max_t"] == {"diagnosis": 0.3, "income": 0.2}
    assert th["delta_presence"] == {"min": 0.2, "max": 0.5}
    assert th["max_population_uniqueness"] == 0.01
    assert not h.conflicts
    c = Policy.from_dict(
        policy_doc(name="c", thresholds={"delta_presence": {"min": 0.7, "max": 0.9}})
    )
    assert [x.rule for x in harmonize([a, c]).conflicts] == ["delta_presence_empty"]


def test_policy_round_trips_new_keys_and_rejects_bad_values(tmp_path) -> None:
    doc = policy_doc(name="p", thresholds={"min_k_map": 3, "max_beta_likeness": {"d": 1.5}})
    p = Policy.from_dict(doc)
    p.save(tmp_path / "p.yaml")
    assert Policy.load(tmp_path / "p.yaml").thresholds.to_dict() == doc["thresholds"]
    with pytest.raises(PolicyError):
        Policy.from_dict(policy_doc(name="p", thresholds={"min_k_map": 0}))
    with pytest.raises(PolicyError):
        Policy.from_dict(policy_doc(name="p", thresholds={"delta_presence": {"min": 0.1}}))


def test_report_lists_every_policy_key_by_its_model_title() -> None:
    from workbench.review.report import _policy_rows

    rows = dict(
        _policy_rows({"policy": {"thresholds": {"min_k": 5, "min_k_map": 9, "max_t": {"d": 0.2}}}})
    )
    assert rows["minimum k"] == 5
    assert rows["minimum k-map"] == 9
    assert rows["maximum t (t-closeness)"] == {"d": 0.2}


def test_gate_measures_k_map_delta_presence_and_population_uniqueness(tmp_path) -> None:
    """With the tables they need, the gate measures the new models at their exact limits."""
    data = tmp_path / "d.csv"
    _frame().to_csv(data, index=False)  # classes a (3 records), b (4 records)
    # population: a x5, b x9, c x100 (c is in no class of the data and does not count)
    population = pd.DataFrame({"zip": ["a"] * 5 + ["b"] * 9 + ["c"] * 100})
    research = pd.DataFrame({"zip": ["a", "b", "b"]})  # deltas 1/3 and 1/2

    def run(thresholds, **tables):
        pol = tmp_path / "p.yaml"
        Policy.from_dict(policy_doc(name="p", thresholds=thresholds)).save(pol)
        res = gate(data, policy=pol, qis=["zip"], sensitive=["diagnosis"], **tables)
        return {f.rule: (f.status, f.measured) for f in res.findings}

    assert run({"min_k_map": 5}, population_table=population)["min_k_map"] == ("pass", 5.0)
    assert run({"min_k_map": 6}, population_table=population)["min_k_map"] == ("fail", 5.0)
    dp = {"delta_presence": {"min": 1 / 3, "max": 0.5}}
    assert run(dp, research_subset=research)["delta_presence"] == ("pass", (1 / 3, 0.5))
    dp = {"delta_presence": {"min": 0.34, "max": 0.5}}
    assert run(dp, research_subset=research)["delta_presence"][0] == "fail"
    # no sample uniques: no estimated population uniques (ARX), at any limit
    pu = {"max_population_uniqueness": 0.0}
    assert run(pu, population_size=1000)["max_population_uniqueness"] == ("pass", 0.0)
    assert run(pu)["max_population_uniqueness"][0] == "review"
    with pytest.raises(ParameterError, match="research_subset"):
        run(dp, research_subset=pd.DataFrame({"zip": ["a", "a", "a", "a"]}))


def test_cli_check_with_a_population_table(tmp_path, capsys) -> None:
    from workbench.cli import main

    data, pop, pol = tmp_path / "d.csv", tmp_path / "pop.csv", tmp_path / "p.yaml"
    _frame().to_csv(data, index=False)
    pd.DataFrame({"zip": ["a"] * 5 + ["b"] * 9}).to_csv(pop, index=False)
    Policy.from_dict(policy_doc(name="p", thresholds={"min_k_map": 5})).save(pol)
    base = ["check", str(data), "--policy", str(pol), "--qi", "zip", "--no-record"]
    assert main([*base, "--population-table", str(pop)]) == 0
    assert main(base) == 0  # a review flag only
    assert "min_k_map" in capsys.readouterr().out
    assert main([*base, "--strict"]) == 1
