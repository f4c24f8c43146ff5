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
