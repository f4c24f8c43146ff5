"""Policies that bite: hosting, sharing, data-use agreements, the sharing inventory, the matrix."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
import yaml

from tests._helpers_governance import CITY, isolated, policy_doc  # noqa: F401
from workbench.cli import main
from workbench.errors import ConfigError, ParameterError
from workbench.governance import Policy, gate
from workbench.governance.catalog import Catalog
from workbench.governance.sharing import (
    Agreements,
    SharingInventory,
    combination_blocks,
    release_findings,
)
from workbench.samples import city

CATALOG = CITY / "catalog.yaml"


def _rules(res):
    return {f.rule: f for f in res.findings}


@pytest.fixture(scope="module")
def cat():
    return Catalog.load(CATALOG)


def _policy(**changes):
    return Policy.from_dict(policy_doc(**changes))


# ------------------------------------------------------------------------------ hosting
@pytest.mark.parametrize(
    ("names", "allowed", "status"),
    [
        (("transit",), True, "pass"),
        (("transit",), False, "fail"),
        (("transit",), None, "review"),  # the policy does not say: a person decides
        (("clinic",), False, "pass"),  # the city's own data centre
        (("clinic", "transit"), False, "fail"),
    ],
)
def test_third_party_hosting(cat, names, allowed, status):
    pol = _policy(third_party_hosting=allowed) if allowed is not None else _policy()
    if allowed is None:
        doc = policy_doc()
        del doc["third_party_hosting"]
        pol = Policy.from_dict(doc)
    f = _rules(type("R", (), {"findings": release_findings(cat, names, pol)}))
    assert f["third_party_hosting"].status == status


def test_city_combination_with_vendor_hosted_data_fails(isolated):  # noqa: F811
    res = gate("clinic+transit", catalog=CATALOG, record=False)
    assert _rules(res)["third_party_hosting"].status == "fail"
    assert "FareCloud" in _rules(res)["third_party_hosting"].message
    assert _rules(gate("transit", catalog=CATALOG, record=False))["third_party_hosting"].status == (
        "pass"
    )


# ------------------------------------------------------------------------------ recipients
@pytest.mark.parametrize(
    ("target", "recipient", "kind", "sharing", "hosting"),
    [
        ("clinic", "Health", "department", "pass", "pass"),  # the owner itself: not sharing
        ("clinic", "Housing", "department", "fail", "pass"),
        ("clinic", "Health", "vendor", "fail", "fail"),  # a vendor named like the owner
        ("clinic", "Acme Analytics", "vendor", "fail", "fail"),
        ("clinic", "State Health Department", "other government", "fail", "pass"),
        ("transit", "Acme Analytics", "vendor", "pass", "pass"),  # transit allows both
    ],
)
def test_recipient_rules(isolated, target, recipient, kind, sharing, hosting):  # noqa: F811
    res = gate(target, catalog=CATALOG, recipient=recipient, recipient_kind=kind, record=False)
    assert _rules(res)["sharing_allowed"].status == sharing
    assert _rules(res)["third_party_hosting"].status == hosting
    if "fail" in (sharing, hosting):
        assert res.exit_code == 1


def test_cli_recipient(isolated, capsys):  # noqa: F811
    argv = ["check", "clinic", "--catalog", str(CATALOG), "--no-record", "--json"]
    assert main([*argv, "--recipient", "Acme", "--recipient-kind", "vendor"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert {f["rule"]: f["status"] for f in doc["findings"]}["sharing_allowed"] == "fail"
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--recipient", "Acme", "--recipient-kind", "friend"])
    assert exc.value.code == 2
    with pytest.raises(ParameterError):
        gate("clinic", catalog=CATALOG, recipient="x", recipient_kind="friend", record=False)


# ------------------------------------------------------------------------------ agreements
AGREEMENTS = {
    "agreements": [
        {
            "id": "A1",
            "parties": ["Health", "Housing"],
            "datasets": ["clinic", "housing", "social"],
            "permitted_analyses": ["Research"],
            "expires": "2026-06-30",
        }
    ]
}


@pytest.mark.parametrize(
    ("names", "purpose", "day", "ok", "why"),
    [
        (("clinic", "housing"), None, date(2026, 6, 30), True, "A1"),  # the expiry day is valid
        (("clinic", "housing"), None, date(2026, 7, 1), False, "expired on 2026-06-30"),
        (("clinic", "housing"), " research ", date(2026, 1, 1), True, "A1"),
        (("clinic", "housing"), "marketing", date(2026, 1, 1), False, "does not permit"),
        (("clinic", "transit"), None, date(2026, 1, 1), False, "no data-use agreement covers"),
        (("clinic", "housing", "social"), None, date(2026, 1, 1), True, "A1"),
    ],
)
def test_agreement_edges(names, purpose, day, ok, why):
    found, reason = Agreements.from_dict(AGREEMENTS).check(names, purpose, day)
    assert (found is not None) == ok and why in reason


@pytest.mark.parametrize(
    "change",
    [
        {"expires": "next year"},
        {"expires": "2026-02-30"},
        {"datasets": []},
        {"extra": 1},
    ],
)
def test_malformed_agreements(change):
    doc = {"agreements": [{**AGREEMENTS["agreements"][0], **change}]}
    with pytest.raises(ConfigError):
        Agreements.from_dict(doc)


def test_city_combinations_need_a_valid_agreement(isolated):  # noqa: F811
    expired = gate("clinic+housing", catalog=CATALOG, record=False)
    assert _rules(expired)["agreement"].status == "fail"
    assert "DUA-2024-11 expired" in _rules(expired)["agreement"].message
    # DUA-2025-03 runs to 2029-03-31 and permits service planning only
    ok = gate("housing+social", catalog=CATALOG, record=False)
    assert _rules(ok)["agreement"].measured == "DUA-2025-03"
    wrong = gate("housing+social", catalog=CATALOG, purpose="public health research", record=False)
    assert _rules(wrong)["agreement"].status == "fail"
    # single datasets need none; a catalog without the file checks none
    assert "agreement" not in _rules(gate("housing", catalog=CATALOG, record=False))


# ------------------------------------------------------------------------------ the matrix
def test_matrix_advice_respects_policies(cat):
    """Regression: the matrix advised 'permit after de-identification' for clinic + transit while
    `workbench check clinic+transit` fails on purpose and consent."""
    from workbench.linkage import join_risk_matrix

    m = join_risk_matrix(cat, datasets=["clinic", "transit", "voters"])
    p = m.get("clinic", "transit")
    assert p.advice.decision == "not_permitted_by_policy"
    assert p.advice.coarsen == ()
    assert "Not permitted by policy" in p.advice.reasons[-1]
    assert "No purpose is shared" in p.advice.reasons[-1]
    # linkage with public data is about the release, not a join: untouched
    assert m.get("clinic", "voters").advice.decision == "permit_after_deidentification"


def test_combination_blocks_match_the_gate(isolated, cat):  # noqa: F811
    for names in (("clinic", "transit"), ("clinic", "housing"), ("housing", "social")):
        blocks = combination_blocks(cat, names)
        res = gate("+".join(names), catalog=CATALOG, record=False)
        policy_fails = [
            f
            for f in res.findings
            if f.status == "fail"
            and (f.rule.startswith("conflict:") or f.rule in ("agreement", "third_party_hosting"))
        ]
        assert len(blocks) == len(policy_fails), names
    assert combination_blocks(cat, ("housing", "social")) == ()


# ------------------------------------------------------------------------- sharing inventory
def test_inventory_lists_sensitive_first_with_concerns(cat, capsys):
    rows = SharingInventory.load(CITY / "governance" / "sharing.yaml").review(cat)
    assert [r["id"] for r in rows] == ["S-01", "S-02", "S-03", "S-04"]
    assert [bool(r["sensitive_fields"]) for r in rows] == [True, True, True, False]
    s04 = rows[-1]
    assert "informal: no documented procedure" in s04["concerns"]
    assert "no legal basis" in s04["concerns"]
    assert rows[2]["concerns"] == []  # transit's policy allows its vendor
    assert main(["inventory", str(CATALOG), "--sharing", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["practices"][0]["sensitive_fields"] == ["diagnosis"]
    assert main(["inventory", str(CATALOG), "--sharing"]) == 0
    assert "diagnosis*" in capsys.readouterr().out


def test_inventory_sorts_a_non_sensitive_practice_after(cat):
    doc = yaml.safe_load((CITY / "governance" / "sharing.yaml").read_text())
    doc["practices"][0]["fields"] = ["sex"]  # S-01 no longer touches sensitive status
    rows = SharingInventory.from_dict(doc).review(cat)
    assert [r["id"] for r in rows] == ["S-02", "S-03", "S-01", "S-04"]


@pytest.mark.parametrize(
    "change",
    [{"recipient_kind": "friend"}, {"formal": "yes"}, {"fields": []}, {"secret": 1}],
)
def test_malformed_practices(change):
    doc = yaml.safe_load((CITY / "governance" / "sharing.yaml").read_text())
    doc["practices"][0].update(change)
    with pytest.raises(ConfigError):
        SharingInventory.from_dict(doc)


def test_unknown_dataset_in_inventory(cat, tmp_path):
    doc = yaml.safe_load((CITY / "governance" / "sharing.yaml").read_text())
    doc["practices"][0]["dataset"] = "payroll"
    with pytest.raises(ConfigError, match="payroll"):
        SharingInventory.from_dict(doc, "s.yaml").review(cat)


def test_regenerating_the_city_keeps_hosting(tmp_path):
    out = tmp_path / "city"
    out.mkdir()
    shutil.copy(CATALOG, out / "catalog.yaml")
    city.generate(200, 3, out)
    doc = yaml.safe_load((out / "catalog.yaml").read_text())
    assert doc["datasets"]["transit"]["hosting"]["third_party"] is True
    assert doc["datasets"]["clinic"]["policy"] == "policies/clinic.yaml"


def test_inventory_sharing_without_a_file_is_bad_input(tmp_path, capsys):
    shutil.copy(CATALOG, tmp_path / "catalog.yaml")
    assert main(["inventory", str(tmp_path / "catalog.yaml"), "--sharing"]) == 2
    assert "no sharing inventory" in capsys.readouterr().err
    assert main(["inventory", str(CATALOG), "--sharing", str(tmp_path / "none.yaml")]) == 2
