"""Data minimization: field purposes, the gate's unneeded_field rule and `workbench minimize`."""

from __future__ import annotations

import json

import pytest
import yaml

from tests._helpers_governance import CITY, isolated, policy_doc  # noqa: F401
from workbench.cli import main
from workbench.errors import ConfigError
from workbench.governance import gate
from workbench.governance.minimize import (
    COARSER,
    NEEDED,
    UNDECLARED,
    UNNEEDED,
    FieldPurposes,
    minimize,
)

PURPOSES = {
    "datasets": {
        "survey": {
            "person_id": {"needed_for": ["treatment"]},
            "dob": {
                "needed_for": ["treatment"],
                "coarser": [{"form": "birth year", "suffices_for": ["research"]}],
            },
            "sex": {"needed_for": ["treatment", "research"]},
            "diagnosis": {
                "needed_for": ["treatment", "Research"],
                "coarser": [{"form": "chapter", "suffices_for": ["research"]}],
            },
        }
    }
}


@pytest.fixture
def survey(isolated):  # noqa: F811
    rows = ["person_id,dob,sex,diagnosis,shoe_size"]
    rows += [f"P{i},1990-01-0{i % 9 + 1},{'FM'[i % 2]},flu,{40 + i % 3}" for i in range(30)]
    (isolated / "survey.csv").write_text("\n".join(rows) + "\n")
    (isolated / "purposes.yaml").write_text(yaml.safe_dump(PURPOSES))
    (isolated / "policy.yaml").write_text(yaml.safe_dump(policy_doc()))
    return isolated


@pytest.mark.parametrize(
    ("field", "purpose", "verdict", "form"),
    [
        ("dob", "treatment", NEEDED, None),
        ("dob", "research", COARSER, "birth year"),
        ("dob", "  RESEARCH ", COARSER, "birth year"),  # purposes compare like the gate's
        ("person_id", "research", UNNEEDED, None),
        ("person_id", "marketing", UNNEEDED, None),
        ("diagnosis", "research", NEEDED, None),  # needed wins over a coarser form
        ("shoe_size", "treatment", UNDECLARED, None),
    ],
)
def test_judge_each_field(field, purpose, verdict, form):
    need = FieldPurposes.from_dict(PURPOSES).judge("survey", field, purpose)
    assert (need.verdict, need.form) == (verdict, form)


def test_proposal_lists_what_to_keep_coarsen_drop():
    fp = FieldPurposes.from_dict(PURPOSES)
    fields = [("survey", c) for c in ("person_id", "dob", "sex", "shoe_size")]
    p = minimize(fields, "research", fp).to_dict()
    assert p["keep"] == ["sex"]
    assert p["coarsen"] == {"dob": "birth year"}
    assert p["drop"] == ["person_id"]
    assert p["undeclared"] == ["shoe_size"]
    assert not p["minimal"]
    assert minimize([("survey", "sex")], "research", fp).minimal


@pytest.mark.parametrize(
    "doc",
    [
        {"fields": {}},
        {"datasets": {"survey": {"dob": {"needed_for": "treatment"}}}},
        {"datasets": {"survey": {"dob": {"needed_for": [], "purposes": []}}}},
        {"datasets": {"survey": {"dob": {"needed_for": [], "coarser": [{"form": "year"}]}}}},
        {"datasets": {"survey": ["dob"]}},
    ],
)
def test_malformed_purposes_are_refused(doc):
    with pytest.raises(ConfigError):
        FieldPurposes.from_dict(doc, "p.yaml")


def test_gate_fails_fields_the_purpose_does_not_need(survey):
    res = gate(
        "survey.csv",
        policy="policy.yaml",
        qis=["dob", "sex"],
        purpose="research",
        field_purposes="purposes.yaml",
        record=False,
    )
    by = {f.rule: f for f in res.findings}
    assert by["unneeded_field[person_id]"].status == "fail"
    assert by["unneeded_field[dob]"].status == "fail"
    assert by["unneeded_field[dob]"].limit == "birth year"
    assert by["unneeded_field[shoe_size]"].status == "review"
    assert "unneeded_field[sex]" not in by and "unneeded_field[diagnosis]" not in by
    # the identifier's values never reach a message
    assert not any("P1" in f.message for f in res.findings)


def test_gate_passes_minimal_data_and_ignores_uncovered_datasets(survey):
    (survey / "minimal.csv").write_text("sex,diagnosis\nF,flu\nM,flu\n")
    kw = dict(policy="policy.yaml", qis=["sex"], purpose="research", record=False)
    fp = FieldPurposes.from_dict({"datasets": {"minimal": PURPOSES["datasets"]["survey"]}})
    res = gate("minimal.csv", field_purposes=fp, **kw)
    assert not [f for f in res.findings if f.rule.startswith("unneeded_field")]
    # a purposes file that does not cover the dataset adds nothing; nor does a gate without purpose
    res = gate("survey.csv", field_purposes="purposes.yaml", policy="policy.yaml", qis=["sex"],
               record=False)  # fmt: skip
    assert not [f for f in res.findings if f.rule.startswith("unneeded_field")]
    res = gate("minimal.csv", field_purposes="purposes.yaml", **kw)
    assert not [f for f in res.findings if f.rule.startswith("unneeded_field")]


def test_city_gate_uses_purposes_beside_the_catalog(isolated):  # noqa: F811
    res = gate(
        "clinic", catalog=CITY / "catalog.yaml", purpose="public health research", record=False
    )
    by = {f.rule: f for f in res.findings if f.rule.startswith("unneeded_field")}
    assert set(by) == {
        "unneeded_field[visit_id]",
        "unneeded_field[patient_dob]",
        "unneeded_field[postal_code]",
        "unneeded_field[visit_date]",
    }
    assert all(f.status == "fail" for f in by.values())
    combo = gate(
        "clinic+social",
        catalog=CITY / "catalog.yaml",
        purpose="public health research",
        record=False,
    )
    rules = {f.rule for f in combo.findings if f.rule.startswith("unneeded_field")}
    assert "unneeded_field[clinic.patient_dob]" in rules
    assert "unneeded_field[social.age]" in rules
    assert "unneeded_field[social.zip3]" not in rules


def test_cli_minimize_city(isolated, capsys):  # noqa: F811
    cat = str(CITY / "catalog.yaml")
    assert main(["minimize", "clinic", "--catalog", cat, "--purpose", "treatment"]) == 0
    capsys.readouterr()
    code = main(
        ["minimize", "clinic", "--catalog", cat, "--purpose", "public health research", "--json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["drop"] == ["visit_id"]
    assert doc["coarsen"]["patient_dob"] == "birth year"
    assert doc["keep"] == ["sex", "diagnosis"]


def test_cli_minimize_file_and_bad_input(survey, capsys):
    assert main(["minimize", "survey.csv", "--purposes", "purposes.yaml", "--purpose", "x"]) == 1
    out = capsys.readouterr().out
    assert "drop     person_id" in out and "review   shoe_size" in out
    assert main(["minimize", "missing.csv", "--purposes", "purposes.yaml", "--purpose", "x"]) == 2
    (survey / "other.csv").write_text("a\n1\n")
    assert main(["minimize", "other.csv", "--purposes", "purposes.yaml", "--purpose", "x"]) == 2
    assert "declares no fields for 'other'" in capsys.readouterr().err
    assert main(["minimize", "other.csv", "--purpose", "x"]) == 2
