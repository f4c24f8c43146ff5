"""Ethics reviews decided by the oversight board: signed votes, quorum, conflicts refused."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime

import pytest

from tests._helpers_governance import CITY, isolated  # noqa: F401
from workbench.errors import ParameterError, ProvenanceError
from workbench.governance import disclosure, reviews
from workbench.governance.oversight import OversightBody
from workbench.governance.reviews import APPROVED, OPEN, REJECTED, EthicsReviews
from workbench.governance.signing import generate_signing_key

POLICY = "a" * 64


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
def filed(isolated):  # noqa: F811
    board, keys = _board()
    log = EthicsReviews(isolated / "ethics.jsonl", board)
    log.file(
        "E1", ["social", "housing"], POLICY, purpose="research", applicant="m3", officer="m2",
        now=_t(1),
    )  # fmt: skip
    return log, keys


def test_quorum_of_distinct_members_decides(filed):
    log, keys = filed
    first = log.vote("E1", "m0", "approve", keys["m0"], reason="proportionate", now=_t(2))
    assert first.accepted and first.review.outcome == OPEN  # one vote is below the quorum of 2
    second = log.vote("E1", "m1", "approve", keys["m1"], now=_t(3, 15))
    r = second.review
    assert (r.outcome, r.decided_at) == (APPROVED, "2025-01-03T15:00:00Z")
    assert r.hours_to_decision == 2 * 24 + 6
    assert [v.member for v in r.votes] == ["m0", "m1"]
    assert log.approved(["housing", "social"], POLICY).id == "E1"
    assert log.approved(["housing", "social"], "b" * 64) is None  # another policy: not approved
    ops = [rec["operation"] for rec in log.log.records()]
    assert ops == ["ethics-review", "ethics-vote", "ethics-vote", "ethics-outcome"]


def test_split_votes_stay_open_then_rejected(filed):
    log, keys = filed
    log.vote("E1", "m0", "approve", keys["m0"], now=_t(2))
    assert log.vote("E1", "m1", "reject", keys["m1"], now=_t(3)).review.outcome == OPEN
    log.file("E2", ["clinic"], POLICY, purpose="p", applicant="a", officer="o", now=_t(4))
    assert log.vote("E2", "m0", "reject", keys["m0"], now=_t(5)).review.outcome == OPEN
    assert log.vote("E2", "m1", "reject", keys["m1"], now=_t(6)).review.outcome == REJECTED
    stats = log.statistics()
    assert stats["by_outcome"] == {APPROVED: 0, REJECTED: 1, OPEN: 1}
    assert stats["median_hours_to_decision"] == 48.0


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("m3", "conflict of interest: 'm3' is the applicant"),
        ("m2", "conflict of interest: 'm2' is the filing officer"),
        ("outsider", "'outsider' is not a member of Board"),
    ],
)
def test_conflicted_and_outside_votes_are_refused_and_logged(filed, member, why):
    log, keys = filed
    key = keys.get(member) or generate_signing_key()
    res = log.vote("E1", member, "approve", key, now=_t(2))
    assert not res.accepted and res.reason == why
    assert res.review.refused_votes == ({"member": member, "reason": why},)
    assert res.review.votes == ()


def test_conflict_is_case_and_space_insensitive(isolated):  # noqa: F811
    board, keys = _board()
    log = EthicsReviews(isolated / "e.jsonl", board)
    log.file("E1", ["a"], POLICY, purpose="p", applicant=" M1 ", officer="o", now=_t(1))
    assert "applicant" in log.vote("E1", "m1", "approve", keys["m1"]).reason


def test_wrong_key_second_vote_and_late_vote_are_refused(filed):
    log, keys = filed
    res = log.vote("E1", "m0", "approve", keys["m1"], now=_t(2))
    assert not res.accepted and "not 'm0'" in res.reason
    assert log.vote("E1", "m0", "approve", keys["m0"], now=_t(2)).accepted
    again = log.vote("E1", "m0", "reject", keys["m0"], now=_t(2))
    assert not again.accepted and again.reason == "'m0' has already voted"
    log.vote("E1", "m1", "approve", keys["m1"], now=_t(3))
    late = log.vote("E1", "m2", "reject", keys["m2"], now=_t(4))  # decided: closed first
    assert late.reason == "the review is already approved; it is not open for votes"
    log.file("E2", ["a"], POLICY, purpose="p", applicant="x", officer="y", now=_t(5))
    for m in ("m0", "m1"):
        log.vote("E2", m, "reject", keys[m], now=_t(6))
    after = log.vote("E2", "m2", "approve", keys["m2"], now=_t(7))
    assert after.reason == "the review is already rejected; it is not open for votes"


def test_quorum_edge_three(isolated):  # noqa: F811
    board, keys = _board(n=4, quorum=3)
    log = EthicsReviews(isolated / "e.jsonl", board)
    log.file("E1", ["a"], POLICY, purpose="p", applicant="x", officer="y", now=_t(1))
    log.vote("E1", "m0", "approve", keys["m0"], now=_t(2))
    assert log.vote("E1", "m1", "approve", keys["m1"], now=_t(3)).review.outcome == OPEN
    assert log.vote("E1", "m2", "approve", keys["m2"], now=_t(4)).review.outcome == APPROVED


def test_forged_vote_in_the_log_is_not_counted(filed):
    """A vote appended by someone without the member's key fails its signature when read."""
    log, keys = filed
    forger = generate_signing_key()
    log.log.append(
        "ethics-vote",
        parameters={"review_id": "E1", "member": "m0", "decision": "approve", "reason": "",
                    "signed_at": "2025-01-02T09:00:00Z", "signature": forger.sign(b"x"),
                    "signer_fingerprint": forger.fingerprint},
        user="m0",
    )  # fmt: skip
    r = log.review("E1")
    assert r.votes == () and r.refused_votes[0]["reason"] == "the signature is not the member's"


def test_an_edited_log_is_refused(filed):
    log, keys = filed
    log.vote("E1", "m0", "reject", keys["m0"], now=_t(2))
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["parameters"]["decision"] = "approve"
    lines[1] = json.dumps(rec)
    log.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProvenanceError, match="fails verification"):
        log.reviews()


def test_filing_is_validated(filed):
    log, _ = filed
    with pytest.raises(ParameterError):
        log.file("E1", ["a"], POLICY, purpose="p", applicant="x", officer="y")  # id reused
    with pytest.raises(ParameterError):
        log.file("E9", ["a"], "not-a-hash", purpose="p", applicant="x", officer="y")
    with pytest.raises(ParameterError):
        log.file("bad id!", ["a"], POLICY, purpose="p", applicant="x", officer="y")


def test_one_definition_of_the_board_rules():
    """Disclosure referrals and ethics reviews call the oversight module's quorum and
    eligibility rules; neither counts votes against the quorum itself."""
    for module in (disclosure, reviews):
        src = inspect.getsource(module)
        assert "quorum_decision(" in src and "why_not_eligible(" in src
        assert ">= self.oversight.quorum" not in src and "conflicts(" not in src


# --------------------------------------------------------------------------------- the city
def test_sample_city_ethics_reviews():
    from workbench.governance.oversight import load_oversight

    gov = CITY / "governance"
    log = EthicsReviews(gov / "ethics.jsonl", load_oversight(gov / "oversight.yaml"))
    by_id = {r.id: r for r in log.reviews()}
    approved, rejected, still_open = by_id["E-2025-001"], by_id["E-2025-002"], by_id["E-2025-003"]
    assert approved.outcome == APPROVED and [v.member for v in approved.votes] == [
        "okafor",
        "mbeki",
    ]
    assert approved.refused_votes[0]["reason"].endswith("is the filing officer")
    assert rejected.outcome == REJECTED
    assert still_open.outcome == OPEN
    assert still_open.refused_votes[0]["reason"] == "conflict of interest: 'mbeki' is the applicant"
    # the approval is tied to today's harmonized policy of housing + social
    from workbench.governance.catalog_policies import combination_policy

    sha = combination_policy(CITY / "catalog.yaml", ["housing", "social"]).policy.sha256
    assert log.approved(["social", "housing"], sha).id == "E-2025-001"


def test_gate_counts_the_board_approval(isolated):  # noqa: F811
    from workbench.governance.gate import _board_approval

    cat = CITY / "catalog.yaml"
    from workbench.governance.catalog_policies import combination_policy

    def sha(names):
        return combination_policy(cat, names).policy.sha256

    assert _board_approval(cat, ("housing", "social"), sha(["housing", "social"])).id == (
        "E-2025-001"
    )
    assert _board_approval(cat, ("clinic", "social"), sha(["clinic", "social"])) is None  # open
    assert _board_approval(cat, ("clinic", "transit"), sha(["clinic", "transit"])) is None
    assert _board_approval(None, ("housing", "social"), sha(["housing", "social"])) is None


def test_cli_file_vote_list_and_metrics(isolated, monkeypatch, capsys):  # noqa: F811
    import shutil

    from workbench.cli import main
    from workbench.governance.signing import write_private_key

    city = isolated / "city"
    shutil.copytree(CITY / "policies", city / "policies")
    shutil.copy(CITY / "catalog.yaml", city / "catalog.yaml")
    for f in CITY.glob("*.csv"):
        (city / f.name).symlink_to(f)
    board, keys = _board()
    (city / "governance").mkdir()
    (city / "governance" / "oversight.yaml").write_text(
        json.dumps({"name": "B", "quorum": 2, "members": [vars(m) for m in board.members]})
    )
    cat = str(city / "catalog.yaml")
    base = ["ethics", "file", "--catalog", cat, "--purpose", "evaluation", "--user", "m2"]
    assert main([*base, "--id", "E1", "--datasets", "housing+social", "--applicant", "m3"]) == 0
    assert "E1: open" in capsys.readouterr().out
    for m in ("m0", "m1", "m3"):
        write_private_key(keys[m], isolated / f"{m}.pem")
    vote = ["ethics", "vote", "E1", "--catalog", cat, "--decision", "approve"]
    assert main([*vote, "--member", "m3", "--key-file", str(isolated / "m3.pem")]) == 1
    assert "is the applicant" in capsys.readouterr().out
    monkeypatch.setenv("WORKBENCH_MEMBER_KEY", str(isolated / "m0.pem"))
    assert main([*vote, "--member", "m0"]) == 0
    assert main([*vote, "--member", "m1", "--key-file", str(isolated / "m1.pem")]) == 0
    out = capsys.readouterr().out
    assert "E1: approved" in out and "PRIVATE" not in out
    assert main(["ethics", "list", "--catalog", cat, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["statistics"]["by_outcome"] == {APPROVED: 1, REJECTED: 0, OPEN: 0}
    assert main(["metrics", "--catalog", cat, "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["ethics_reviews"] == {APPROVED: 1, REJECTED: 0, OPEN: 0}
    assert m["disclosure_requests"] is None  # no register in this city
    assert main(["metrics", "--catalog", cat]) == 0
    assert "ethics reviews: approved 1" in capsys.readouterr().out
