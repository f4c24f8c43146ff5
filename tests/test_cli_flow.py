"""The visible flow through the CLI: anonymize -> bundle -> report, with provenance and replay."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.governance.provenance import ProvenanceLog, replay, verify_log
from workbench.review.bundle import AssessmentBundle


@pytest.fixture
def adult_dir(samples_dir):
    return samples_dir / "adult"


def test_anonymize_bundle_report_provenance_replay(tmp_path, adult_dir, monkeypatch, capsys):
    log = tmp_path / "prov.jsonl"
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(log))
    monkeypatch.chdir(tmp_path)
    src = adult_dir / "adult.csv"
    before = src.read_bytes()
    argv = [
        "anonymize",
        str(src),
        "--qi",
        "sex,age,race",
        "--sensitive",
        "salary-class",
        "--l",
        "2",
        "--hierarchy",
        f"age={adult_dir / 'adult_hierarchy_age.csv'}",
        "--k",
        "10",
        "--suppression",
        "0.02",
        "--output",
        "out.csv",
        "--bundle",
        "bundle.json",
        "--rationale",
        "Ages banded for the research release",
        "--json",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bundle"].endswith("bundle.json") and doc["output"] == "out.csv"
    assert src.read_bytes() == before  # the source is never written

    bundle = AssessmentBundle.load(tmp_path / "bundle.json")
    assert bundle.rationale == "Ages banded for the research release"
    assert bundle.risk_before["min_class_size"] == 1
    assert bundle.risk_after["min_class_size"] >= 10
    assert bundle.risk_after["records"] == doc["records"] - doc["suppressed"]
    assert bundle.transformation["levels"] == doc["levels"]
    assert bundle.utility["records_suppressed"] == doc["suppressed"]

    records = ProvenanceLog(log).records()
    assert [r["operation"] for r in records] == ["anonymize", "release-bundle"]
    assert records[0]["recipe"]["argv"] == argv
    assert verify_log(log).ok
    outcome = replay(log, 0)
    assert outcome.ok, outcome

    assert main(["report", "bundle.json", "-o", "report.html"]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "Ages banded for the research release" in html
    assert "Risk before and after" in html


def test_reads_and_joins_are_recorded_in_provenance(tmp_path, samples_dir, monkeypatch, capsys):
    """assess (read), link (join) and report (release) each append a chained record."""
    log = tmp_path / "prov.jsonl"
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(log))
    city = samples_dir / "city"
    assert (
        main(["assess", str(samples_dir / "adult" / "adult.csv"), "--qi", "sex,age", "--json"]) == 0
    )
    assert (
        main(
            [
                "link",
                str(city / "clinic_visits.csv"),
                str(city / "voter_roll.csv"),
                "--on",
                "auto",
                "--json",
            ]
        )
        == 0
    )
    assert main(["samples", "list"]) == 0  # listing touches no data: not recorded
    capsys.readouterr()
    records = ProvenanceLog(log).records()
    assert [r["operation"] for r in records] == ["assess", "link"]
    assert len(records[1]["inputs"]) == 2
    assert all(i["sha256"] for i in records[1]["inputs"])
    assert verify_log(log).ok
    # a failed command (bad input, exit 2) records nothing
    assert main(["assess", str(tmp_path / "missing.csv"), "--qi", "a"]) == 2
    assert len(ProvenanceLog(log).records()) == 2


def test_assess_bundle_with_policy_holds_gate_findings(tmp_path, samples_dir, monkeypatch, capsys):
    """`assess --bundle --policy`: the review shows the policy, failing gate rules and metrics."""
    monkeypatch.chdir(tmp_path)
    city = samples_dir / "city"
    assert (
        main(
            [
                "assess",
                str(city / "clinic_visits.csv"),
                "--qi",
                "patient_dob,sex,postal_code",
                "--sensitive",
                "diagnosis",
                "--policy",
                str(city / "policies" / "clinic.yaml"),
                "--bundle",
                "review.json",
                "--rationale",
                "before release",
                "--json",
            ]
        )
        == 0
    )
    capsys.readouterr()
    b = AssessmentBundle.load(tmp_path / "review.json")
    assert b.rationale == "before release" and b.risk_after is None
    assert b.gate["passed"] is False
    failed = {f["rule"] for f in b.gate["findings"] if f["status"] == "fail"}
    assert {"min_k", "max_highest_risk", "min_l[diagnosis]"} <= failed
    assert b.policy["policy"]["thresholds"]["min_k"] == 5
    assert b.programme["violations"] >= 1
    # a suggested direct identifier (visit_id) never reaches the bundle
    ids = pytest.importorskip("pandas").read_csv(city / "clinic_visits.csv", dtype=str)["visit_id"]
    text = (tmp_path / "review.json").read_text()
    assert not [v for v in ids if v in text]
