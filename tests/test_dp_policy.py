"""``dp_budget`` in policies: schema, round trip, and harmonization to the most protective."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import PolicyError
from workbench.governance import harmonize
from workbench.governance.catalog_policies import combination_policy
from workbench.governance.policy import Policy

CITY = Path(__file__).resolve().parents[1] / "data" / "samples" / "city"


def _doc(**budget):
    doc = Policy.load(CITY / "policies" / "clinic.yaml").to_dict()
    doc.pop("dp_budget", None)
    if budget:
        doc["dp_budget"] = budget
    return doc


def test_round_trip_keeps_the_budget(tmp_path):
    p = Policy.from_dict(_doc(epsilon=0.8, delta=1e-8))
    assert dict(p.dp_budget) == {"epsilon": 0.8, "delta": 1e-8}
    again = Policy.load(p.save(tmp_path / "p.yaml"))
    assert again == p and dict(again.dp_budget) == {"epsilon": 0.8, "delta": 1e-8}
    assert Policy.from_dict(_doc()).dp_budget is None


@pytest.mark.parametrize(
    "budget",
    [{"epsilon": 0}, {"epsilon": -1}, {"delta": 1e-6}, {"epsilon": 1, "delta": 1},
     {"epsilon": 1, "rho": 0.1}],
)  # fmt: skip
def test_schema_refuses_impossible_budgets(budget):
    with pytest.raises(PolicyError, match="dp_budget"):
        Policy.from_dict(_doc(**budget))


def test_harmonized_budget_is_the_smallest_of_each_component():
    a = Policy.from_dict({**_doc(epsilon=1.0, delta=1e-6), "name": "a"})
    b = Policy.from_dict({**_doc(epsilon=3.0, delta=1e-8), "name": "b"})
    c = Policy.from_dict({**_doc(), "name": "c"})  # no budget: sets no limit
    eff = harmonize([a, b, c]).policy
    assert dict(eff.dp_budget) == {"epsilon": 1.0, "delta": 1e-8}
    assert harmonize([c, Policy.from_dict({**_doc(), "name": "d"})]).policy.dp_budget is None


def test_city_combination_takes_the_clinic_budget():
    eff = combination_policy(CITY / "catalog.yaml", "housing+clinic").policy
    assert dict(eff.dp_budget) == {"epsilon": 1.0, "delta": 1e-7}


def test_policy_declares_public_keys_for_dp_releases(tmp_path):
    import shutil

    import yaml

    from workbench.dp import dp_accuracy

    city = tmp_path / "city"
    shutil.copytree(CITY, city, ignore=shutil.ignore_patterns("*.csv"))
    doc = yaml.safe_load((city / "policies" / "clinic.yaml").read_text())
    doc["dp_public_keys"] = {"diagnosis": ["Hypertension", "Asthma", "Back pain"]}
    p = Policy.from_dict(doc)
    assert Policy.load(p.save(city / "policies" / "clinic.yaml")) == p
    report = dp_accuracy(
        "clinic", catalog=city / "catalog.yaml", privacy_unit="person_key", max_contributions=2,
        epsilon=1.0, count=True, by=["diagnosis"],
    )  # fmt: skip
    assert report.plan.spec.keys["diagnosis"] == ("Hypertension", "Asthma", "Back pain")
    with pytest.raises(PolicyError, match="dp_public_keys"):
        Policy.from_dict({**doc, "dp_public_keys": {"diagnosis": []}})
