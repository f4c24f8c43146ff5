"""The oversight body: its members, their public keys, the quorum, and who is conflicted.

Why: safeguards for data that can endanger residents work only if the decisions that bend them
are taken by a body, not by whoever holds the data. Each member signs their own decision with
their own Ed25519 key (:mod:`workbench.governance.signing`); the board file publishes only public
keys. A decision needs ``quorum`` concurring signed votes of distinct members, none of them
conflicted (the requester, or the officer who referred the matter)::

    name: Data Oversight Board
    quorum: 2
    members:
      - id: okafor
        name: Dr. A. Okafor
        role: chair, ethicist
        public_key: <base64 of the 32 raw bytes, as 'workbench provenance keygen' prints>
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, KeyMissingError, ParameterError, PrivacyWarning, ProvenanceError
from .minimize import read_yaml_bounded
from .signing import fingerprint, load_public_key, verify_signature

__all__ = [
    "Member",
    "OversightBody",
    "Vote",
    "load_oversight",
    "vote_payload",
    "why_not_eligible",
    "key_mismatch",
    "quorum_decision",
    "record_vote",
    "replay_decision_log",
]

MAX_MEMBERS = 100
_PUBLIC_RE = re.compile(r"^[A-Za-z0-9+/]{43}=$")


@dataclass(frozen=True)
class Member:
    """One board member: an id, a display name, a role and the public key of their signatures."""

    id: str
    name: str
    role: str
    public_key: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def verifies(self, payload: bytes, signature: object) -> bool:
        """Whether ``signature`` is this member's signature of ``payload`` (fails closed)."""
        return verify_signature(self.public_key, payload, signature)

    def to_public_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class OversightBody:
    """The configured board (see the module docstring for the file)."""

    name: str
    quorum: int
    members: tuple[Member, ...]
    source: str | None = None

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def conflicts(self, member_id: str, parties: Iterable[str]) -> tuple[str, ...]:
        """The parties (requester, referring officer) that ``member_id`` is; empty if none.

        Compared case- and space-insensitively so that 'J.Rivera ' is 'j.rivera'.
        """

        def norm(s: str) -> str:
            return " ".join(str(s).casefold().split())

        return tuple(p for p in parties if p and norm(p) == norm(member_id))

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> OversightBody:
        where = source or "oversight"
        if not isinstance(doc, Mapping) or set(doc) - {"name", "quorum", "members"}:
            raise ConfigError(f"{where}: expected a mapping with name, quorum and members")
        name = doc.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: name must be a non-empty text")
        raw = doc.get("members")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_MEMBERS:
            raise ConfigError(f"{where}: members must be a list of 1 to {MAX_MEMBERS} members")
        members: list[Member] = []
        for i, m in enumerate(raw):
            at = f"{where}: members[{i}]"
            if not isinstance(m, Mapping) or set(m) - {"id", "name", "role", "public_key"}:
                raise ConfigError(f"{at}: expected id, name, role and public_key")
            for k in ("id", "name", "public_key"):
                if not isinstance(m.get(k), str) or not m[k].strip():
                    raise ConfigError(f"{at}.{k}: expected a non-empty text")
            if not _PUBLIC_RE.match(m["public_key"]):
                raise ConfigError(f"{at}.public_key: expected the base64 of a 32-byte public key")
            try:
                load_public_key(m["public_key"])
            except KeyMissingError:
                raise ConfigError(f"{at}.public_key: not an Ed25519 public key") from None
            members.append(Member(m["id"], m["name"], str(m.get("role") or ""), m["public_key"]))
        ids = [m.id for m in members]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"{where}: member ids must be distinct")
        if len({m.public_key for m in members}) != len(members):
            raise ConfigError(f"{where}: each member must have their own key")
        quorum = doc.get("quorum")
        if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= len(ids):
            raise ConfigError(
                f"{where}: quorum must be a whole number from 1 to the {len(ids)} member(s)"
            )
        if quorum == 1:
            warnings.warn(
                f"{where}: quorum 1 lets a single member decide alone; a board protects against "
                "one person's error only with a quorum of 2 or more",
                PrivacyWarning,
                stacklevel=2,
            )
        return cls(name, quorum, tuple(members), source)

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "quorum": self.quorum,
            "members": [m.to_public_dict() for m in self.members],
        }


def load_oversight(path: str | os.PathLike) -> OversightBody:
    """Read and validate the oversight-body file."""
    return OversightBody.from_dict(read_yaml_bounded(path, "oversight file"), str(path))


# --------------------------------------------------------------------- board decisions
# One definition of how the board decides, used by disclosure referrals and ethics reviews.


@dataclass(frozen=True)
class Vote:
    """One member's signed decision on a matter before the board."""

    member: str
    decision: str
    signed_at: str
    reason: str = ""


def vote_payload(
    kind: str, subject: Mapping[str, str], member: str, decision: str, at: str
) -> bytes:
    """The bytes a member signs: the kind of matter, what it is (id and hash), who, what, when.

    The subject's hash ties the vote to the exact matter filed, so a vote cannot be moved to
    another request or review.
    """
    doc = {"kind": kind, **subject, "member": member, "decision": decision, "signed_at": at}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def why_not_eligible(
    body: OversightBody,
    member_id: str,
    parties: Mapping[str, str],
    votes: Sequence[Vote],
) -> str | None:
    """Why ``member_id`` may not vote on a matter (``None`` when they may).

    ``parties`` maps a role in the matter ("the requester", "the referring officer", "the
    applicant") to who holds it; a member who is one of them is conflicted and refused.
    """
    if body.member(member_id) is None:
        return f"{member_id!r} is not a member of {body.name}"
    for role, who in parties.items():
        if body.conflicts(member_id, (who,)):
            return f"conflict of interest: {member_id!r} is {role}"
    if any(v.member == member_id for v in votes):
        return f"{member_id!r} has already voted"
    return None


def key_mismatch(body: OversightBody, member_id: str, signing_public_text: str) -> str | None:
    """Why a signing key is not ``member_id``'s published key (``None`` when it is)."""
    member = body.member(member_id)
    if member is not None and signing_public_text != member.public_key:
        return f"the key given is not {member_id!r}'s key ({member.fingerprint})"
    return None


def quorum_decision(
    body: OversightBody, votes: Sequence[Vote], decisions: Sequence[str]
) -> str | None:
    """The decision ``quorum`` distinct counted votes agree on, or ``None`` while none does.

    Votes reaching here are already checked (distinct, unconflicted members, their own keys).
    """
    for decision in decisions:
        if sum(v.decision == decision for v in votes) >= body.quorum:
            return decision
    return None


def replay_decision_log(
    log: Any, path: Any, what: str, step: str, replay: Callable[[dict, dict], None]
) -> dict[str, Any]:
    """Rebuild a board's cases from its signed log: verify first, then apply every record.

    The disclosure register and the ethics reviews are both signed logs of filings, votes and
    rulings; a log that fails verification cannot be trusted, and a record that does not fit
    its step is named by its sequence number, never by its content.
    """
    from .provenance import verify_log

    building: dict[str, Any] = {}
    if not Path(path).exists():
        return building
    res = verify_log(log)
    if not res.ok:
        raise ProvenanceError(
            f"{path} fails verification ({res.issues[0].message}); {what} cannot be trusted"
        )
    for rec in log.iter_records():
        try:
            replay(building, rec)
        except (KeyError, TypeError, AttributeError, ParameterError):
            raise ConfigError(
                f"{path}: record {rec.get('seq')} ({rec.get('operation')}) is not a "
                f"well-formed {step}; {what} cannot be read"
            ) from None
    return building


def record_vote(
    log: Any,
    ops: tuple[str, str, str],
    id_key: str,
    case_id: str,
    member_id: str,
    why_refused: str | None,
    signed: tuple[str, str, str, Any, Any],
    reload: Callable[[], Any],
    quorum: int,
    now: Any = None,
) -> tuple[bool, str, Any]:
    """Append one member's vote to a board's signed log, or the reason it is refused.

    ``ops`` names the log's (vote, refused vote, outcome) operations; ``signed`` is
    ``(decision, reason, signed_at, member's SigningKey, payload)``: the member signs the payload
    with their own key. When the vote completes the quorum, the outcome is recorded too. Returns
    ``(counted, why, case after the vote)``; the caller holds the log's lock.
    """
    op_vote, op_refused, op_outcome = ops
    if why_refused is not None:
        log.append(
            op_refused,
            parameters={id_key: case_id, "member": member_id, "reason": why_refused},
            user=member_id,
            now=now,
        )
        return False, why_refused, reload()
    decision, reason, when, signing, payload = signed
    vote = {
        id_key: case_id,
        "member": member_id,
        "decision": decision,
        "reason": reason,
        "signed_at": when,
        "signature": signing.sign(payload),
        "signer_fingerprint": signing.fingerprint,
    }
    log.append(op_vote, parameters=vote, user=member_id, now=now)
    after = reload()
    if not after.open:
        log.append(
            op_outcome,
            parameters={
                id_key: case_id,
                "outcome": after.outcome,
                "votes": [v.member for v in after.votes],
                "quorum": quorum,
            },
            user=member_id,
            now=now,
        )
    return True, "counted", after
