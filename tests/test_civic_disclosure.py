"""Disclosure requests: the rule vocabulary, the register, the board's signed quorum votes."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import UTC, datetime

import pytest

from tests._helpers_governance import CITY, isolated  # noqa: F401
from workbench.cli import main
from workbench.errors import ConfigError, ParameterError, PrivacyWarning, ProvenanceError
from workbench.governance import ProvenanceLog, verify_log
from workbench.governance.disclosure import (
    PERMITTED,
    REFERRED,
    REFUSED,
    DisclosureRegister,
    DisclosureRequest,
    DisclosureRules,
    disclosure_statistics,
)
from workbench.governance.oversight import OversightBody, load_oversight
from workbench.governance.signing import PROVENANCE_KEY_ENV, generate_signing_key, write_private_key

GOV = CITY / "governance"
CITY_RULES = DisclosureRules.load(GOV / "disclosure_rules.yaml")
SENSITIVE = ("diagnosis",)


def _req(instrument="none", fields=("sex",), dataset="clinic", rid="R1", requester="Agency"):
    return DisclosureRequest(rid, requester, "other government", instrument, dataset, fields)


@pytest.mark.parametrize(
    ("instrument", "fields", "outcome", "rule"),
    [
        ("court_order", ("diagnosis",), PERMITTED, 1),
        ("court_order", ("sex", "diagnosis"), PERMITTED, 1),
        ("warrant", ("diagnosis",), REFUSED, 2),  # sensitive status only with a court order
        ("statute", ("sex", "diagnosis"), REFUSED, 2),
        ("none", ("diagnosis",), REFUSED, 2),
        ("court_order", ("sex",), PERMITTED, 3),
        ("warrant", ("sex",), REFERRED, 4),
        ("subpoena", ("sex",), REFERRED, 4),
        ("statute", ("sex",), REFERRED, 4),
        ("none", ("sex",), REFUSED, 5),
    ],
)
def test_city_rules(instrument, fields, outcome, rule):
    ruling = CITY_RULES.rule_for(_req(instrument, fields), SENSITIVE)
    assert (ruling.outcome, ruling.rule) == (outcome, rule)


def test_no_matching_rule_refuses_and_dataset_scoping():
    rules = DisclosureRules.from_dict(
        {
            "rules": [
                {"datasets": ["transit"], "fields": "any", "decision": "permit"},
                {"fields": ["postcode"], "instruments": ["statute"], "decision": "refer"},
            ]
        }
    )
    assert rules.rule_for(_req(dataset="transit"), ()).outcome == PERMITTED
    assert rules.rule_for(_req(dataset="clinic"), ()).rule is None
    assert rules.rule_for(_req(dataset="clinic"), ()).outcome == REFUSED
    assert rules.rule_for(_req("statute", ("postcode",)), ()).outcome == REFERRED
    assert rules.rule_for(_req("warrant", ("postcode",)), ()).outcome == REFUSED


@pytest.mark.parametrize(
    "doc",
    [
        {"rules": []},
        {"rules": [{"fields": "any", "decision": "allow"}]},
        {"rules": [{"fields": "some", "decision": "permit"}]},
        {"rules": [{"fields": "any", "decision": "permit", "instruments": ["letter"]}]},
        {"rules": [{"fields": "any", "decision": "permit", "code": "x"}]},
        {"rules": [{"fields": [], "decision": "permit"}]},
        {"rules": {"fields": "any"}},
        {"rules": [], "extra": 1},
    ],
)
def test_malformed_rules_are_refused(doc):
    with pytest.raises(ConfigError):
        DisclosureRules.from_dict(doc, "r.yaml")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rid": "bad id"},
        {"rid": "x" * 65},
        {"instrument": "letter"},
        {"fields": ()},
        {"requester": "x" * 301},
    ],
)
def test_malformed_requests_are_refused(kwargs):
    with pytest.raises(ParameterError):
        _req(**kwargs)


# ------------------------------------------------------------------------------------ the board
def _board(n=4, quorum=2):
    keys = {f"m{i}": generate_signing_key() for i in range(n)}
    doc = {
        "name": "Board",
        "quorum": quorum,
        "members": [{"id": m, "name": m, "role": "", "public_key": k.public_text} for m, k in keys.items()],
    }  # fmt: skip
    return OversightBody.from_dict(doc), keys


def _t(day, hour=9):
    return datetime(2025, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def referred(isolated):  # noqa: F811
    board, keys = _board()
    reg = DisclosureRegister(isolated / "reg.jsonl", board)
    case = reg.file(
        _req("warrant", requester="m3"), CITY_RULES, sensitive=SENSITIVE, officer="m2", now=_t(1)
    )
    assert case.outcome == REFERRED and case.open
    return reg, keys


def test_quorum_of_concurring_votes_decides(referred):
    reg, keys = referred
    r1 = reg.vote("R1", "m0", "permit", keys["m0"], now=_t(2))
    assert r1.accepted and r1.case.open  # one vote below quorum 2
    r2 = reg.vote("R1", "m1", "permit", keys["m1"], now=_t(3, 15))
    assert r2.accepted and not r2.case.open and r2.case.outcome == PERMITTED
    assert r2.case.hours_to_decision == 54.0  # day 1 09:00 -> day 3 15:00
    ops = [r["operation"] for r in ProvenanceLog(reg.path).records()]
    assert ops[-1] == "disclosure-outcome"
    assert verify_log(reg.path).ok


def test_split_votes_leave_it_open_and_quorum_three(isolated):  # noqa: F811
    board, keys = _board(5, quorum=3)
    reg = DisclosureRegister(isolated / "reg.jsonl", board)
    reg.file(_req("warrant"), CITY_RULES, sensitive=SENSITIVE, officer="officer", now=_t(1))
    assert reg.vote("R1", "m0", "refuse", keys["m0"]).case.open
    assert reg.vote("R1", "m1", "permit", keys["m1"]).case.open
    assert reg.vote("R1", "m2", "refuse", keys["m2"]).case.open  # 2 refuse < quorum 3
    last = reg.vote("R1", "m3", "refuse", keys["m3"]).case
    assert not last.open and last.outcome == REFUSED


@pytest.mark.parametrize(
    ("member", "key_of", "reason"),
    [
        ("m3", "m3", "the requester"),
        ("m2", "m2", "the referring officer"),
        ("stranger", "m0", "not a member"),
        ("m0", "m1", "not 'm0''s key"),
    ],
)
def test_refused_votes_are_logged_and_do_not_count(referred, member, key_of, reason):
    reg, keys = referred
    result = reg.vote("R1", member, "permit", keys[key_of])
    assert not result.accepted and reason in result.reason
    assert result.case.votes == () and result.case.open
    assert result.case.refused_votes[-1]["member"] == member
    assert ProvenanceLog(reg.path).records()[-1]["operation"] == "disclosure-vote-refused"


def test_conflict_ignores_case_and_spaces(isolated):  # noqa: F811
    board, keys = _board()
    reg = DisclosureRegister(isolated / "reg.jsonl", board)
    reg.file(_req("warrant"), CITY_RULES, sensitive=SENSITIVE, officer=" M1 ", now=_t(1))
    assert "referring officer" in reg.vote("R1", "m1", "permit", keys["m1"]).reason


def test_no_double_vote_and_no_vote_after_decision(referred):
    reg, keys = referred
    reg.vote("R1", "m0", "permit", keys["m0"])
    assert "already voted" in reg.vote("R1", "m0", "permit", keys["m0"]).reason
    reg.vote("R1", "m1", "permit", keys["m1"])
    assert "already permitted" in reg.vote("R1", "m3", "refuse", keys["m3"]).reason


def test_rules_decide_without_the_board_and_officer_cannot_lift_a_refusal(isolated):  # noqa: F811
    board, keys = _board()
    reg = DisclosureRegister(isolated / "reg.jsonl", board)
    refused = reg.file(_req("none"), CITY_RULES, sensitive=SENSITIVE, officer="o", refer=True)
    assert refused.outcome == REFUSED and not refused.open
    assert "not open" in reg.vote("R1", "m0", "permit", keys["m0"]).reason
    # refer is more caution: a permitted request goes to the board instead
    up = reg.file(_req("court_order", rid="R2"), CITY_RULES, sensitive=SENSITIVE, officer="o", refer=True)  # fmt: skip
    assert up.outcome == REFERRED and up.open
    with pytest.raises(ParameterError):
        reg.file(_req("court_order", rid="R2"), CITY_RULES, sensitive=SENSITIVE, officer="o")


def test_staff_cannot_forge_a_vote(referred):
    """A vote written into the register without the member's key does not count."""
    reg, keys = referred
    forged = generate_signing_key()
    case = reg.case("R1")
    for m in ("m0", "m1"):
        ProvenanceLog(reg.path).append(
            "disclosure-vote",
            parameters={
                "request_id": "R1",
                "member": m,
                "decision": "permit",
                "reason": "",
                "signed_at": "2025-01-02T00:00:00Z",
                "signature": forged.sign(case.request_hash.encode()),
            },
            user=m,
        )
    after = reg.case("R1")
    assert after.open and after.votes == ()
    assert [r["reason"] for r in after.refused_votes] == ["the signature is not the member's"] * 2


def test_edited_register_is_not_trusted(referred):
    reg, keys = referred
    reg.vote("R1", "m0", "refuse", keys["m0"])
    lines = reg.path.read_text().splitlines()
    lines[-1] = lines[-1].replace('"refuse"', '"permit"')
    reg.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProvenanceError, match="cannot be trusted"):
        reg.cases()


def test_register_signed_with_the_provenance_key(isolated, monkeypatch):  # noqa: F811
    key_file = write_private_key(generate_signing_key(), isolated / "prov.pem")
    monkeypatch.setenv(PROVENANCE_KEY_ENV, str(key_file))
    board, keys = _board()
    reg = DisclosureRegister(isolated / "reg.jsonl", board)
    reg.file(_req("warrant"), CITY_RULES, sensitive=SENSITIVE, officer="o")
    reg.vote("R1", "m0", "permit", keys["m0"])
    assert all("signature" in r for r in ProvenanceLog(reg.path).records())
    res = verify_log(reg.path)
    assert res.ok and res.signed and res.unsigned_records == 0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"quorum": 5}, "quorum"),
        ({"quorum": 0}, "quorum"),
        ({"quorum": True}, "quorum"),
        ({"members": []}, "members"),
    ],
)
def test_board_validation(change, match):
    board, keys = _board()
    doc = {"name": "B", "quorum": 2, "members": [vars(m) for m in board.members], **change}
    with pytest.raises(ConfigError, match=match):
        OversightBody.from_dict(doc)


def test_board_needs_own_keys_and_warns_on_quorum_one():
    board, _ = _board(2)
    members = [vars(m) for m in board.members]
    same = [dict(members[0]), dict(members[1], public_key=members[0]["public_key"])]
    with pytest.raises(ConfigError, match="own key"):
        OversightBody.from_dict({"name": "B", "quorum": 1, "members": same})
    with pytest.raises(ConfigError, match="public_key"):
        OversightBody.from_dict(
            {"name": "B", "quorum": 1, "members": [dict(members[0], public_key="/etc/passwd")]}
        )
    with pytest.warns(PrivacyWarning, match="quorum 1"):
        OversightBody.from_dict({"name": "B", "quorum": 1, "members": members})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OversightBody.from_dict({"name": "B", "quorum": 2, "members": members})


# ------------------------------------------------------------------------------- the city
def test_shipped_city_register():
    board = load_oversight(GOV / "oversight.yaml")
    assert verify_log(GOV / "disclosure.jsonl").ok
    cases = {c.request.id: c for c in DisclosureRegister(GOV / "disclosure.jsonl", board).cases()}
    assert {k: c.outcome for k, c in cases.items()} == {
        "D-2025-001": PERMITTED,
        "D-2025-002": REFUSED,
        "D-2025-003": REFUSED,
        "D-2025-004": PERMITTED,
    }
    by_board = cases["D-2025-003"]
    assert [v.member for v in by_board.votes] == ["okafor", "lindqvist"]
    assert by_board.refused_votes[0]["member"] == "haddad"
    assert "referring officer" in by_board.refused_votes[0]["reason"]
    assert len(cases["D-2025-004"].votes) == board.quorum == 2
    stats = disclosure_statistics(list(cases.values()))
    assert stats["by_outcome"] == {PERMITTED: 2, REFUSED: 2, REFERRED: 0}
    assert stats["decided_by_board"] == 2


def test_cli_request_vote_list(isolated, monkeypatch, capsys):  # noqa: F811
    gov = isolated / "city" / "governance"
    shutil.copytree(GOV, gov)
    shutil.copy(CITY / "catalog.yaml", isolated / "city" / "catalog.yaml")
    for f in CITY.glob("*.csv"):
        (isolated / "city" / f.name).symlink_to(f)
    board, keys = _board()
    (gov / "oversight.yaml").write_text(
        json.dumps({"name": "B", "quorum": 2, "members": [vars(m) for m in board.members]})
    )
    (gov / "disclosure.jsonl").unlink()
    (gov / "disclosure.jsonl.head").unlink()
    cat = str(isolated / "city" / "catalog.yaml")
    base = ["disclosure", "request", "--catalog", cat, "--requester", "Police", "--user", "m2"]
    assert main([*base, "--id", "A", "--instrument", "none", "--dataset", "transit",
                 "--fields", "age_band,disability"]) == 0  # fmt: skip
    assert "A: refused" in capsys.readouterr().out
    assert main([*base, "--id", "B", "--instrument", "warrant", "--dataset", "transit",
                 "--fields", "age_band", "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["outcome"] == REFERRED
    assert main([*base, "--id", "C", "--instrument", "warrant", "--dataset", "transit",
                 "--fields", "name"]) == 2  # fmt: skip
    for m in ("m0", "m2"):
        write_private_key(keys[m], isolated / f"{m}.pem")
    vote = ["disclosure", "vote", "B", "--catalog", cat, "--decision", "permit"]
    assert main([*vote, "--member", "m2", "--key-file", str(isolated / "m2.pem")]) == 1
    assert "referring officer" in capsys.readouterr().out
    monkeypatch.setenv("WORKBENCH_MEMBER_KEY", str(isolated / "m0.pem"))
    assert main([*vote, "--member", "m0"]) == 0
    out = capsys.readouterr().out
    assert "vote counted" in out and "PRIVATE" not in out
    assert main(["disclosure", "list", "--catalog", cat, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["statistics"]["by_outcome"] == {PERMITTED: 0, REFUSED: 1, REFERRED: 1}
    monkeypatch.delenv("WORKBENCH_MEMBER_KEY")
    assert main([*vote, "--member", "m1"]) == 2  # no key


def test_programme_metrics_count_requests_and_time_to_decision(isolated):  # noqa: F811
    from workbench.governance import programme_metrics

    board = load_oversight(GOV / "oversight.yaml")
    reg = DisclosureRegister(GOV / "disclosure.jsonl", board)
    m = programme_metrics(disclosure=reg, gate_log=isolated / "none.jsonl")
    assert dict(m.disclosure_requests) == {PERMITTED: 2, REFUSED: 2, REFERRED: 0}
    # two decided by the rules on receipt (0 h); 003: 06-02 09:00 -> 06-05 10:00 = 73 h;
    # 004: 09-08 14:00 -> 09-11 15:00 = 73 h; the median of 0, 0, 73, 73 is 36.5
    assert m.median_hours_to_disclosure_decision == 36.5
    assert m.to_dict()["disclosure_requests"][REFUSED] == 2
    assert programme_metrics(gate_log=isolated / "none.jsonl").disclosure_requests is None


# ------------------------------------------------------------------- forged or stray rulings
def _catalog():
    from workbench.governance.catalog import Catalog

    return Catalog.load(CITY / "catalog.yaml")


def _forge_ruling(reg, outcome, **extra):
    ProvenanceLog(reg.path).append(
        "disclosure-ruling",
        parameters={"request_id": "R1", "outcome": outcome, "rule": 1, "reason": "x", **extra},
        user="staff",
    )


def test_a_second_ruling_cannot_approve(referred):
    """Staff appending 'permitted' for a referred request: the request counts as refused."""
    reg, keys = referred
    _forge_ruling(reg, PERMITTED)
    case = reg.case("R1")
    assert case.outcome == REFUSED and not case.open
    assert "second ruling" in case.anomalies[0]
    assert "not open" in reg.vote("R1", "m0", "permit", keys["m0"]).reason


def test_a_ruling_the_rules_would_not_give_is_an_anomaly(isolated):  # noqa: F811
    board, keys = _board()
    cat = _catalog()
    path = isolated / "reg.jsonl"
    log = ProvenanceLog(path)
    req = _req("none", fields=("age_band",), dataset="transit")
    log.append("disclosure-request", parameters=req.to_dict(), user="staff")
    _forge_ruling(
        DisclosureRegister(path, board), PERMITTED, rules_sha256=CITY_RULES.sha256
    )  # rule 5 refuses it
    checked = DisclosureRegister(path, board, rules=CITY_RULES, catalog=cat).case("R1")
    assert checked.outcome == REFUSED
    assert "the rules decide refused, the register says permitted" in checked.anomalies[0]
    # without the rules to check against, the structure alone cannot tell
    assert DisclosureRegister(path, board).case("R1").outcome == PERMITTED


def test_rulings_made_by_file_pass_the_recheck(isolated):  # noqa: F811
    board, keys = _board()
    reg = DisclosureRegister(isolated / "reg.jsonl", board, rules=CITY_RULES, catalog=_catalog())
    for i, (inst, refer) in enumerate([("court_order", True), ("warrant", False), ("none", False)]):
        reg.file(_req(inst, rid=f"R{i}", dataset="transit", fields=("age_band",)), CITY_RULES,
                 sensitive=("disability",), officer="o", refer=refer)  # fmt: skip
    assert [c.outcome for c in reg.cases()] == [REFERRED, REFERRED, REFUSED]
    assert all(not c.anomalies for c in reg.cases())


def test_malformed_register_record_is_bad_input(referred):
    reg, _ = referred
    ProvenanceLog(reg.path).append("disclosure-vote", parameters={"request_id": "R1"}, user="x")
    with pytest.raises(ConfigError, match="not a well-formed disclosure step"):
        reg.cases()


def test_shipped_register_passes_the_recheck():
    board = load_oversight(GOV / "oversight.yaml")
    reg = DisclosureRegister(GOV / "disclosure.jsonl", board, rules=CITY_RULES, catalog=_catalog())
    cases = reg.cases()
    assert len(cases) == 4 and all(not c.anomalies for c in cases)
