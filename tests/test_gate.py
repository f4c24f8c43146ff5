"""The privacy gate: findings against hand-computed tables, exit codes, reviews, combinations."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _helpers_governance import CITY, POLICIES, isolated, policy_doc  # noqa: F401 - fixture

from workbench.cli import main
from workbench.governance import (
    AccessLog,
    Policy,
    PolicyViolationError,
    ProvenanceLog,
    gate,
    read_gate_log,
)

pytestmark = pytest.mark.usefixtures("isolated")

THRESHOLDS = {
    "min_k": 5,
    "max_average_risk": 0.2,
    "max_highest_risk": 0.2,
    "min_l": {"diagnosis": 2},
    "max_records_at_risk": {"share": 0.05, "threshold": 0.2},
}


def passing_frame() -> pd.DataFrame:
    """Two classes of 10 records, each with 3 distinct diagnoses: k=10, risk 0.1, l=3."""
    rows = []
    for i in range(20):
        band, zip3 = ("30-39", "123") if i < 10 else ("40-49", "456")
        key = hashlib.sha256(f"p{i:03d}".encode()).hexdigest()[:16]  # a pseudonym's shape
        rows.append((key, band, zip3, ["flu", "asthma", "diabetes"][i % 3]))
    return pd.DataFrame(rows, columns=["person_key", "age_band", "zip3", "diagnosis"])


def failing_frame() -> pd.DataFrame:
    """Classes of 5, 5, 1, 1 records: k=1, average 4/12, highest 1, 2/12 at risk, l=1."""
    rows = [("30-39", "123", ["flu", "asthma"][i % 2]) for i in range(5)]
    rows += [("40-49", "456", ["flu", "cold"][i % 2]) for i in range(5)]
    rows += [("80-89", "999", "cancer"), ("20-29", "111", "flu")]
    return pd.DataFrame(rows, columns=["age_band", "zip3", "diagnosis"])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.csv"
    bad = tmp_path / "bad.csv"
    passing_frame().to_csv(good, index=False)
    failing_frame().to_csv(bad, index=False)
    policy = tmp_path / "policy.yaml"
    Policy.from_dict(policy_doc(name="clinic", thresholds=THRESHOLDS)).save(policy)
    roles = tmp_path / "roles.json"
    roles.write_text(
        json.dumps(
            {
                "quasi_identifiers": ["age_band", "zip3"],
                "sensitive": ["diagnosis"],
                "other": ["person_key"],
            }
        )
    )
    return {"good": good, "bad": bad, "policy": policy, "roles": roles}


def _by_rule(result) -> dict[str, tuple]:
    return {f.rule: (f.status, f.measured, f.limit) for f in result.findings}


def test_passing_table_hand_computed(files):
    res = gate(files["good"], policy=files["policy"], roles=files["roles"])
    assert _by_rule(res) == {
        "direct_identifier_present": ("pass", [], []),
        "min_k": ("pass", 10, 5),
        "max_average_risk": ("pass", 0.1, 0.2),
        "max_highest_risk": ("pass", 0.1, 0.2),
        "max_records_at_risk": ("pass", 0.0, {"share": 0.05, "threshold": 0.2}),
        "min_l[diagnosis]": ("pass", 3, 2),
    }
    assert res.passed and res.exit_code == 0 and res.records == 20
    assert res.raise_for_violations() is res


def test_failing_table_hand_computed(files):
    res = gate(
        files["bad"], policy=files["policy"], qis=["age_band", "zip3"], sensitive=["diagnosis"]
    )
    got = _by_rule(res)
    assert got["min_k"] == ("fail", 1, 5)
    assert got["max_average_risk"] == ("fail", round(4 / 12, 6), 0.2)
    assert got["max_highest_risk"] == ("fail", 1.0, 0.2)
    assert got["max_records_at_risk"][:2] == ("fail", round(2 / 12, 6))
    assert got["min_l[diagnosis]"] == ("fail", 1, 2)
    assert res.exit_code == 1 and not res.passed
    msg = next(f.message for f in res.findings if f.rule == "min_k")
    assert "only 1 record" in msg and "at least 5" in msg and "anonymize" in msg
    with pytest.raises(PolicyViolationError, match="violates policy clinic") as info:
        res.raise_for_violations()
    assert info.value.result is res


def test_cli_exit_codes(files, capsys):
    base = ["--policy", str(files["policy"]), "--roles", str(files["roles"])]
    assert main(["check", str(files["good"]), *base]) == 0
    out = capsys.readouterr().out
    assert "Result: PASS" in out and "min_k" in out
    assert (
        main(
            [
                "check",
                str(files["bad"]),
                "--policy",
                str(files["policy"]),
                "--qi",
                "age_band,zip3",
                "--sensitive",
                "diagnosis",
            ]
        )
        == 1
    )
    assert "Result: FAIL" in capsys.readouterr().out
    assert main(["check", str(files["good"]), *base, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is True and doc["exit_code"] == 0
    assert {f["rule"] for f in doc["findings"]} >= {"min_k", "min_l[diagnosis]"}


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "missing.csv", "--policy", "policy.yaml"],
        ["check", "good.csv", "--policy", "nope.yaml", "--qi", "age_band"],
        ["check", "good.csv", "--qi", "age_band"],  # no policy in force
        ["check", "good.csv", "--policy", "policy.yaml", "--qi", "no_such_column"],
        ["check", "clinic", "--catalog", "missing_catalog.yaml"],
    ],
)
def test_cli_bad_input_exits_2(files, argv, capsys):
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_invalid_policy_names_the_field(files, tmp_path, capsys):
    doc = policy_doc()
    doc["thresholds"]["min_k"] = 0
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(doc))
    assert main(["check", "good.csv", "--policy", "broken.yaml", "--qi", "age_band"]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "thresholds.min_k" in err


def test_roles_suggested_automatically_are_flagged_for_review(files):
    res = gate(files["good"], policy=files["policy"])
    assert "review:roles" in _by_rule(res)
    assert _by_rule(res)["review:roles"][0] == "review"
    assert gate(files["good"], policy=files["policy"], strict=True, record=False).exit_code == 1


def test_purpose_must_be_permitted_and_consented(files):
    ok = gate(files["good"], policy=files["policy"], roles=files["roles"], purpose="Research")
    assert _by_rule(ok)["purpose"][0] == "pass"
    bad = gate(files["good"], policy=files["policy"], roles=files["roles"], purpose="marketing")
    assert _by_rule(bad)["purpose"][0] == "fail" and bad.exit_code == 1


def test_user_must_hold_a_role_allowed_raw_rows(files, tmp_path):
    log = AccessLog(tmp_path / "access.jsonl")
    log.grant("ann", "analyst")
    res = gate(
        files["good"], policy=files["policy"], roles=files["roles"], user="ann", access_log=log
    )
    assert _by_rule(res)["access"][0] == "fail"
    log.grant("ann", "steward")
    res = gate(
        files["good"], policy=files["policy"], roles=files["roles"], user="ann", access_log=log
    )
    assert _by_rule(res)["access"][0] == "pass" and res.passed


def test_pipeline_dataframe_target(files):
    res = gate(
        passing_frame(),
        policy=Policy.load(files["policy"]),
        qis=["age_band", "zip3"],
        sensitive=["diagnosis"],
        record=False,
    )
    assert res.passed and res.target == "data"


def test_results_are_logged_to_gate_log_and_provenance(files, tmp_path):
    gate(files["good"], policy=files["policy"], roles=files["roles"], user="etl")
    gate(files["bad"], policy=files["policy"], roles=files["roles"])
    runs = read_gate_log()
    assert [(r["target"], r["passed"], r["user"]) for r in runs] == [
        ("good", True, "etl"),
        ("bad", False, "tester"),
    ]
    recs = ProvenanceLog().records()
    assert [r["operation"] for r in recs] == ["check", "check"]
    assert recs[0]["policy"]["name"] == "clinic"
    assert recs[0]["inputs"][0]["path"] == str(files["good"].resolve())
    assert "diagnosis" not in json.dumps(runs[0]["findings"][0]["measured"])


# ------------------------------------------------------------------------ catalog and combos
@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """Two departments with a shared pseudonym key and their own policies."""
    a = passing_frame()
    b = pd.DataFrame(
        {"person_key": a["person_key"], "income": ["low", "high"] * 10, "tenure": ["rent"] * 20}
    )
    a.to_csv(tmp_path / "clinic.csv", index=False)
    b.to_csv(tmp_path / "housing.csv", index=False)
    (tmp_path / "policies").mkdir()
    Policy.from_dict(policy_doc(name="clinic", thresholds=THRESHOLDS)).save(
        tmp_path / "policies" / "clinic.yaml"
    )
    Policy.from_dict(
        policy_doc(
            name="housing",
            retention="P1Y",
            purposes=["research", "planning"],
            consent_scope=["research"],
            owner={"department": "Housing", "steward": "H"},
            thresholds={"min_k": 2, "min_l": {"income": 2}},
        )
    ).save(tmp_path / "policies" / "housing.yaml")
    Policy.from_dict(
        policy_doc(
            name="transit",
            purposes=["fares"],
            consent_scope=["fares"],
            thresholds={"min_k": 2},
        )
    ).save(tmp_path / "policies" / "transit.yaml")
    doc = {
        "name": "test",
        "datasets": {
            "clinic": {
                "file": "clinic.csv",
                "department": "Health",
                "roles": {
                    "quasi_identifiers": ["age_band", "zip3"],
                    "sensitive": ["diagnosis"],
                    "other": ["person_key"],
                },
                "policy": "policies/clinic.yaml",
            },
            "housing": {
                "file": "housing.csv",
                "department": "Housing",
                "roles": {
                    "quasi_identifiers": ["tenure"],
                    "sensitive": ["income"],
                    "other": ["person_key"],
                },
                "policy": "policies/housing.yaml",
            },
            "transit": {
                "file": "housing.csv",
                "department": "Transit",
                "roles": {"quasi_identifiers": ["tenure"], "other": ["person_key"]},
                "policy": "policies/transit.yaml",
            },
            "nopolicy": {"file": "housing.csv", "roles": {"quasi_identifiers": ["tenure"]}},
        },
        "crosswalk": [],
    }
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_catalog_dataset_name(catalog, capsys):
    assert main(["check", "clinic", "--catalog", str(catalog)]) == 0
    assert main(["check", "nopolicy", "--catalog", str(catalog)]) == 2
    assert "has no policy" in capsys.readouterr().err
    assert main(["check", "nothere", "--catalog", str(catalog)]) == 2


def test_new_combination_is_flagged_for_review_not_failed(catalog, capsys):
    res = gate("clinic+housing", catalog=catalog)
    rules = _by_rule(res)
    assert rules["review:combination"][0] == "review"
    assert res.passed and res.exit_code == 0
    assert res.records == 20
    assert res.quasi_identifiers == ("clinic.age_band", "clinic.zip3", "housing.tenure")
    # harmonized: min_k = max(5, 2); l for both departments' sensitive attributes
    assert rules["min_k"] == ("pass", 10, 5)
    assert rules["min_l[clinic.diagnosis]"][0] == "pass"
    assert rules["min_l[housing.income]"] == ("pass", 2, 2)
    assert res.policy == "clinic+housing"
    assert main(["check", "clinic+housing", "--catalog", str(catalog)]) == 0
    assert "REVIEW" in capsys.readouterr().out
    assert main(["check", "clinic+housing", "--catalog", str(catalog), "--strict"]) == 1


def test_approved_combination_passes_until_a_policy_changes(catalog, capsys):
    assert (
        main(
            [
                "check",
                "housing+clinic",
                "--catalog",
                str(catalog),
                "--approve",
                "--user",
                "officer",
                "--note",
                "research project R-12",
            ]
        )
        == 0
    )
    reviews = yaml.safe_load((catalog.parent / "reviews.yaml").read_text())["reviews"]
    assert reviews[0]["combination"] == ["clinic", "housing"]
    assert reviews[0]["reviewer"] == "officer"
    res = gate("clinic+housing", catalog=catalog, strict=True)
    assert _by_rule(res)["review:combination"][:2] == ("pass", "officer")
    assert res.exit_code == 0
    # a source policy changes: the harmonized policy hash changes and the review is stale
    p = catalog.parent / "policies" / "housing.yaml"
    Policy.from_dict({**Policy.load(p).to_dict(), "retention": "P6M"}).save(p)
    res = gate("clinic+housing", catalog=catalog)
    assert _by_rule(res)["review:combination"][0] == "review"
    assert "changed since" in next(
        f.message for f in res.findings if f.rule == "review:combination"
    )


def test_conflicting_combination_fails_with_plain_words(catalog, capsys):
    assert main(["check", "clinic+transit", "--catalog", str(catalog)]) == 1
    out = capsys.readouterr().out
    assert "conflict:no_common_purpose" in out and "no permitted use" in out
    assert main(["check", "clinic+transit", "--catalog", str(catalog), "--approve"]) == 1
    assert "Not approved" in capsys.readouterr().out


def test_unknown_combination_member_is_bad_input(catalog, capsys):
    assert main(["check", "clinic+bogus", "--catalog", str(catalog)]) == 2
    assert "'bogus' not in the catalog" in capsys.readouterr().err


# ------------------------------------------------------------------------ the city samples
@pytest.fixture
def city_catalog(tmp_path: Path) -> Path:
    """The city catalog with its policies (copied so that the real one is never modified)."""
    doc = yaml.safe_load((CITY / "catalog.yaml").read_text())
    for name, entry in doc["datasets"].items():
        entry["file"] = str(CITY / entry["file"])
        entry["policy"] = str(POLICIES / f"{name}.yaml")
    shutil.copy(CITY / "ground_truth.csv", tmp_path / "ground_truth.csv")
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_city_clinic_fails_its_policy(city_catalog, capsys):
    assert main(["check", "clinic", "--catalog", str(city_catalog), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    fails = {f["rule"] for f in doc["findings"] if f["status"] == "fail"}
    assert {"min_k", "max_highest_risk", "min_l[diagnosis]"} <= fails
    # no raw value of a quasi-identifier or identifier reaches the output
    raw = pd.read_csv(CITY / "clinic_visits.csv", dtype=str)
    text = json.dumps(doc)
    for value in raw["visit_id"].head(50).tolist() + raw["patient_dob"].head(50).tolist():
        assert value not in text


def test_city_transit_generalized_passes_but_for_its_record_id(city_catalog):
    res = gate("transit", catalog=city_catalog, qis=["age_band"], sensitive=["disability"])
    fails = {f.rule: f.measured for f in res.findings if f.status == "fail"}
    # the department file still holds its record id (a direct identifier): not releasable
    assert fails == {"direct_identifier_present": ["pass_id"]}


def test_city_transit_and_clinic_do_not_share_a_purpose(city_catalog):
    res = gate("transit+clinic", catalog=city_catalog)
    rules = _by_rule(res)
    assert rules["conflict:no_common_purpose"][0] == "fail"
    assert res.exit_code == 1
    assert any("person_key" in n for n in res.notes)


def test_catalog_file_path_uses_the_catalog_entry(catalog, capsys):
    res = gate(catalog.parent / "clinic.csv", catalog=catalog)
    assert res.datasets == ("clinic",) and res.policy == "clinic" and res.passed
    assert main(["check", "clinic", "--catalog", str(catalog), "--approve"]) == 2
    assert "--approve" in capsys.readouterr().err
