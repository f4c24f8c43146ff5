"""The privacy gate: findings against hand-computed tables, exit codes, reviews, combinations."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
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
    log.grant("sam", "steward", by="boss")
    log.grant("ann", "analyst", by="sam")
    res = gate(
        files["good"], policy=files["policy"], roles=files["roles"], user="ann", access_log=log
    )
    assert _by_rule(res)["access"][0] == "fail"
    log.grant("ann", "steward", by="sam")
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


# ----------------------------------------------------------------- every threshold at its limit
def _classes(*sizes: int, dx: tuple[int, ...] | None = None) -> pd.DataFrame:
    """One class of ``sizes[i]`` records per quasi-identifier value ``q<i>``; class ``i`` holds
    ``dx[i]`` distinct diagnoses (default: one)."""
    rows = []
    for i, size in enumerate(sizes):
        distinct = 1 if dx is None else dx[i]
        rows += [(f"q{i}", f"d{j % distinct}") for j in range(size)]
    return pd.DataFrame(rows, columns=["zone", "diagnosis"])


def _gate_one(frame: pd.DataFrame, **thresholds) -> tuple:
    """The single finding of an end-to-end gate run under a policy with only these limits."""
    policy = Policy.from_dict(policy_doc(name="limits", thresholds=thresholds))
    res = gate(frame, policy=policy, qis=["zone"], sensitive=["diagnosis"], record=False)
    # the direct-identifier check always runs (and passes on these tables); the limit is the rest
    (di,) = [f for f in res.findings if f.rule == "direct_identifier_present"]
    assert di.status == "pass"
    (finding,) = [f for f in res.findings if f.rule != "direct_identifier_present"]
    assert res.passed == (finding.status == "pass")
    assert res.exit_code == (0 if finding.status == "pass" else 1)
    return finding.rule, finding.status, finding.measured


@pytest.mark.parametrize(
    ("min_k", "smallest", "status"),
    [
        (7, 6, "fail"),
        (7, 7, "pass"),  # exactly at the limit
        (7, 8, "pass"),
        (3, 2, "fail"),
        (3, 3, "pass"),
        (3, 4, "pass"),
        (1, 1, "pass"),
    ],
)
def test_min_k_at_its_limit(min_k, smallest, status):
    got = _gate_one(_classes(smallest, 12), min_k=min_k)
    assert got == ("min_k", status, smallest)


@pytest.mark.parametrize(
    ("limit", "smallest", "status"),
    [
        (1 / 8, 7, "fail"),  # 1/7 > 1/8
        (1 / 8, 8, "pass"),  # 1/8: exactly at the limit
        (1 / 8, 9, "pass"),
        (1 / 3, 2, "fail"),  # 1/3 is not a finite binary fraction; YAML keeps every digit
        (1 / 3, 3, "pass"),
        (1 / 3, 4, "pass"),
        (1.0, 1, "pass"),
    ],
)
def test_max_highest_risk_at_its_limit(limit, smallest, status):
    got = _gate_one(_classes(smallest, 12), max_highest_risk=limit)
    assert got == ("max_highest_risk", status, round(1 / smallest, 6))


@pytest.mark.parametrize(
    ("limit", "sizes", "status"),
    [
        (0.3, (3, 3, 2), "fail"),  # 3 classes / 8 records = 0.375
        (0.3, (3, 3, 3), "fail"),  # 3 / 9 = 0.333: one record short of the limit
        (0.3, (3, 3, 4), "pass"),  # 3 / 10 = 0.3: exactly at the limit
        (0.3, (3, 3, 5), "pass"),  # 3 / 11
        (0.25, (4, 3), "fail"),  # 2 / 7
        (0.25, (4, 4), "pass"),  # 2 / 8: exactly
        (0.25, (4, 5), "pass"),  # 2 / 9
    ],
)
def test_max_average_risk_at_its_limit(limit, sizes, status):
    expected = len(sizes) / sum(sizes)
    got = _gate_one(_classes(*sizes), max_average_risk=limit)
    assert got == ("max_average_risk", status, round(expected, 6))


@pytest.mark.parametrize("step", [0, -1, 1])
def test_max_average_risk_at_its_limit_to_the_last_bit(step):
    # 3 classes of 98, 49 and 49 records: average risk 3 / 196. Summing 49 * (1/49) per class
    # gives 0.9999999999999999, so the measured average came out one bit below 3/196 and a
    # limit one bit below passed (fail open). The limit is compared with classes / records.
    exact = 3 / 196
    limit = float(np.nextafter(exact, exact + step)) if step else exact
    got = _gate_one(_classes(98, 49, 49), max_average_risk=limit)
    assert got[:2] == ("max_average_risk", "fail" if step < 0 else "pass")


@pytest.mark.parametrize(
    ("threshold", "sizes", "at_risk"),
    [
        # records whose risk 1/f is strictly above the threshold (one class each side)
        (0.25, (3, 17), 3),  # 1/3 > 0.25
        (0.25, (4, 16), 0),  # 1/4 = 0.25 exactly: not above, not at risk
        (0.25, (5, 15), 0),
        (1 / 3, (2, 18), 2),
        (1 / 3, (3, 17), 0),  # exactly 1/3
        (1 / 3, (4, 16), 0),
    ],
)
def test_records_at_risk_threshold_at_its_limit(threshold, sizes, at_risk):
    rar = {"share": 0.1, "threshold": threshold}  # 2 of 20 records may be at risk
    got = _gate_one(_classes(*sizes), max_records_at_risk=rar)
    assert got == (
        "max_records_at_risk",
        "pass" if at_risk <= 2 else "fail",
        round(at_risk / 20, 6),
    )


@pytest.mark.parametrize(
    ("share", "uniques", "status"),
    [
        (0.1, 3, "fail"),  # 3 / 20 = 0.15
        (0.1, 2, "pass"),  # 2 / 20 = 0.1: exactly at the limit
        (0.1, 1, "pass"),
        (0.15, 4, "fail"),
        (0.15, 3, "pass"),  # 3 / 20 = 0.15 exactly
        (0.15, 2, "pass"),
        (0.0, 1, "fail"),
        (0.0, 0, "pass"),
    ],
)
def test_records_at_risk_share_at_its_limit(share, uniques, status):
    # `uniques` sample uniques (risk 1) and one class holding the rest of 20 records
    frame = _classes(*([1] * uniques), 20 - uniques)
    rar = {"share": share, "threshold": 0.5}
    assert _gate_one(frame, max_records_at_risk=rar) == (
        "max_records_at_risk",
        status,
        round(uniques / 20, 6),
    )


@pytest.mark.parametrize(
    ("need", "fewest", "status"),
    [
        (3, 2, "fail"),
        (3, 3, "pass"),  # exactly at the limit
        (3, 4, "pass"),
        (5, 4, "fail"),
        (5, 5, "pass"),
        (5, 6, "pass"),
    ],
)
def test_min_l_at_its_limit(need, fewest, status):
    frame = _classes(8, 8, dx=(fewest, 7))
    assert _gate_one(frame, min_l={"diagnosis": need}) == ("min_l[diagnosis]", status, fewest)


@pytest.mark.parametrize(
    ("sizes", "dx", "failing"),
    [
        ((7, 13), (3, 3), set()),  # k = 7, l = 3, risk 1/7: every harmonized limit met exactly
        ((6, 14), (3, 3), {"min_k"}),
        ((7, 13), (2, 3), {"min_l[diagnosis]"}),
        ((4, 16), (3, 3), {"min_k"}),  # highest risk 1/4 and threshold 1/4: exactly at both
        ((3, 17), (3, 3), {"min_k", "max_highest_risk", "max_records_at_risk"}),
    ],
)
def test_harmonized_limits_are_the_strictest_and_hold_at_the_limit(sizes, dx, failing):
    a = policy_doc(
        name="a",
        thresholds={
            "min_k": 5,
            "max_highest_risk": 0.5,
            "min_l": {"diagnosis": 2},
            "max_records_at_risk": {"share": 0.2, "threshold": 0.5},
        },
    )
    b = policy_doc(
        name="b",
        thresholds={
            "min_k": 7,
            "max_highest_risk": 0.25,
            "min_l": {"diagnosis": 3},
            "max_records_at_risk": {"share": 0.1, "threshold": 0.25},
        },
    )
    res = gate(
        _classes(*sizes, dx=dx),
        policy=[Policy.from_dict(a), Policy.from_dict(b)],
        qis=["zone"],
        sensitive=["diagnosis"],
        record=False,
    )
    got = _by_rule(res)
    assert got["min_k"][2] == 7 and got["min_l[diagnosis]"][2] == 3
    assert got["max_highest_risk"][2] == 0.25
    assert got["max_records_at_risk"][2] == {"share": 0.1, "threshold": 0.25}
    assert {rule for rule, (status, _, _) in got.items() if status == "fail"} == failing
    assert res.passed == (not failing)
