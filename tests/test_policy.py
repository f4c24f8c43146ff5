"""Policy files: schema validation with field paths, retention periods, round-trips."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from _helpers_governance import POLICIES, policy_doc

from workbench.errors import PolicyError
from workbench.governance import Policy, Retention, validate_policy

SAMPLE_NAMES = ["clinic", "housing", "social", "transit", "voters"]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_policies_load_and_round_trip_byte_identical(name, tmp_path):
    src = POLICIES / f"{name}.yaml"
    policy = Policy.load(src)
    assert policy.name == name
    out = policy.save(tmp_path / "out.yaml")
    assert out.read_bytes() == src.read_bytes()
    assert Policy.load(out) == policy
    assert policy.to_dict() == yaml.safe_load(src.read_text())


def test_sample_departments_and_public_voters():
    depts = {n: Policy.load(POLICIES / f"{n}.yaml").department for n in SAMPLE_NAMES}
    assert depts["clinic"] == "Health"
    voters = Policy.load(POLICIES / "voters.yaml")
    assert "public inspection" in voters.purposes
    assert voters.sharing_allowed is True


def test_non_canonical_file_keeps_its_content(tmp_path):
    doc = policy_doc(retention=540)
    doc = {k: doc[k] for k in reversed(list(doc))}  # keys in an unusual order
    src = tmp_path / "odd.yaml"
    src.write_text(yaml.safe_dump(doc, sort_keys=False, default_flow_style=True))
    policy = Policy.load(src)
    assert policy.to_dict() == doc
    again = Policy.load(policy.save(tmp_path / "again.yaml"))
    assert again == policy and again.retention.text == 540


def test_policy_is_frozen_and_hash_tracks_content():
    p = Policy.from_dict(policy_doc())
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]
    q = Policy.from_dict(policy_doc(retention="P4Y"))
    assert p.sha256 != q.sha256
    assert p.sha256 == Policy.from_dict(policy_doc()).sha256
    json.dumps(p.to_dict())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["thresholds"].update(min_k=0), "thresholds.min_k"),
        (lambda d: d["thresholds"].update(min_k="five"), "thresholds.min_k"),
        (lambda d: d["owner"].pop("steward"), "owner.steward"),
        (lambda d: d.pop("legal_basis"), "legal_basis"),
        (lambda d: d.update(retention="5 years"), "retention"),
        (lambda d: d.update(retention=-3), "retention"),
        (lambda d: d["access"].update(raw="steward"), "access.raw"),
        (lambda d: d["purposes"].append(3), "purposes[2]"),
        (lambda d: d["thresholds"].update(max_k=3), "thresholds.max_k"),
        (lambda d: d["thresholds"].update(max_average_risk=1.5), "thresholds.max_average_risk"),
        (lambda d: d["thresholds"]["min_l"].update(diagnosis=0), "thresholds.min_l.diagnosis"),
        (
            lambda d: d["thresholds"]["max_records_at_risk"].pop("threshold"),
            "thresholds.max_records_at_risk.threshold",
        ),
        (lambda d: d["sensitivity"].update(age=-1), "sensitivity.age"),
        (lambda d: d.update(sharing_allowed="yes"), "sharing_allowed"),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_schema_errors_name_file_and_field(change, field, tmp_path):
    doc = policy_doc()
    change(doc)
    path = tmp_path / "bad_policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    err = info.value
    assert err.field == field
    assert str(path) in str(err)
    assert field in str(err)


def test_every_problem_is_listed():
    doc = policy_doc(retention="soon")
    doc["thresholds"]["min_k"] = 0
    with pytest.raises(PolicyError) as info:
        validate_policy(doc, "p.yaml")
    fields = [f for f, _ in info.value.problems]
    assert fields == ["retention", "thresholds.min_k"]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nowner: [unclosed\n")
    with pytest.raises(PolicyError, match=r"broken\.yaml: line \d+ not valid YAML"):
        Policy.load(path)


def test_missing_and_non_mapping_files(tmp_path):
    with pytest.raises(PolicyError, match="not found"):
        Policy.load(tmp_path / "nope.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(PolicyError, match="mapping"):
        Policy.load(path)


@pytest.mark.parametrize(
    ("text", "years", "months", "days"),
    [
        ("P5Y", 5, 0, 0),
        ("P18M", 0, 18, 0),
        ("P1Y6M", 1, 6, 0),
        ("P2W", 0, 0, 14),
        ("P90D", 0, 0, 90),
        (365, 0, 0, 365),
        (0, 0, 0, 0),
    ],
)
def test_retention_parse(text, years, months, days):
    r = Retention.parse(text)
    assert (r.years, r.months, r.days) == (years, months, days)
    assert r.text == text


@pytest.mark.parametrize("bad", ["P", "5Y", "P1.5Y", "PT5H", "p5y", -1, True, "P5Y extra"])
def test_retention_rejects(bad):
    with pytest.raises(PolicyError):
        Retention.parse(bad)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("P1Y", date(2024, 2, 29), date(2025, 2, 28)),
        ("P1M", date(2025, 1, 31), date(2025, 2, 28)),
        ("P18M", date(2024, 1, 31), date(2025, 7, 31)),
        ("P90D", date(2025, 1, 1), date(2025, 4, 1)),
        (30, date(2025, 1, 1), date(2025, 1, 31)),
        ("P1Y1M1D", date(2025, 12, 31), date(2027, 2, 1)),
    ],
)
def test_retention_horizon_calendar(period, start, end):
    assert Retention.parse(period).add_to(start) == end


def test_retention_ordering_mixes_days_and_durations():
    assert Retention.parse(540) < Retention.parse("P18M") < Retention.parse("P2Y")
    assert Retention.parse("P12M") <= Retention.parse("P1Y")
    assert min([Retention.parse("P5Y"), Retention.parse(30), Retention.parse("P1M")]).text == 30
