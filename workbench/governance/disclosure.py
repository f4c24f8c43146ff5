"""Disclosure requests: external requests for individual-level data, decided by rules or a board.

Why: a city's data can be demanded by courts, police, other governments or vendors. Staff discretion
is the weak point, so the outcome of a request follows declared rules, and what the rules leave
open is referred to the oversight body (:mod:`workbench.governance.oversight`), whose members each
sign their own vote. Every step is appended to a hash-chained (and, with
``WORKBENCH_PROVENANCE_KEY``, signed) log -- the register -- so nothing can be approved outside the
rules or edited afterwards unnoticed.

The rule vocabulary (a YAML file of rules, tried in order; the first that matches decides)::

    rules:
      - fields: sensitive          # 'sensitive' (the catalog's sensitive attributes), 'any',
        instruments: [court_order] #   or a list of field names; matches if the request has one
        decision: permit           # permit | refuse | refer
      - fields: sensitive
        decision: refuse           # no 'instruments': any instrument
      - datasets: [housing]        # optional: only requests for these datasets
        fields: any
        instruments: [warrant, subpoena, statute]
        decision: refer

Instruments are ``court_order``, ``warrant``, ``subpoena``, ``statute`` or ``none``. A request no
rule matches is **refused** (fails closed). An officer may refer a request the rules would permit
(more caution), never permit one they refuse or refer. A referral is decided once ``quorum``
distinct, unconflicted members have signed the same decision (``permit`` or ``refuse``); a vote by
the requester or the referring officer, by a non-member, with a key that is not the member's, or
after the decision, is refused and the refusal is logged.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

from ..errors import ConfigError, ParameterError
from .minimize import read_yaml_bounded
from .oversight import (
    OversightBody,
    Vote,
    key_mismatch,
    quorum_decision,
    record_vote,
    replay_decision_log,
    vote_payload,
    why_not_eligible,
)
from .provenance import ProvenanceLog, parse_time, utc_now
from .signing import SigningKey

__all__ = [
    "INSTRUMENTS",
    "PERMITTED",
    "REFUSED",
    "REFERRED",
    "DisclosureRule",
    "DisclosureRules",
    "DisclosureRequest",
    "Ruling",
    "Vote",
    "Case",
    "VoteResult",
    "DisclosureRegister",
    "disclosure_statistics",
]

INSTRUMENTS = ("court_order", "warrant", "subpoena", "statute", "none")
_DECISIONS = {"permit": "permitted", "refuse": "refused", "refer": "referred"}
PERMITTED, REFUSED, REFERRED = "permitted", "refused", "referred"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT = 300
MAX_RULES = 200
MAX_FIELDS = 200
OP_REQUEST, OP_RULING, OP_VOTE = "disclosure-request", "disclosure-ruling", "disclosure-vote"
OP_VOTE_REFUSED, OP_OUTCOME = "disclosure-vote-refused", "disclosure-outcome"


def _bounded_text(value: Any, name: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
        raise ParameterError(name, "<text>", f"a non-empty text of at most {MAX_TEXT} characters")
    return " ".join(value.split())


# ----------------------------------------------------------------------------------- the rules
@dataclass(frozen=True)
class DisclosureRule:
    """One rule of the vocabulary (see the module docstring)."""

    decision: str
    fields: str | tuple[str, ...] = "any"
    instruments: tuple[str, ...] | None = None
    datasets: tuple[str, ...] | None = None
    note: str = ""

    def matches(self, request: DisclosureRequest, sensitive: Sequence[str]) -> bool:
        if self.datasets is not None and request.dataset not in self.datasets:
            return False
        if self.instruments is not None and request.instrument not in self.instruments:
            return False
        if self.fields == "any":
            return True
        wanted = set(sensitive) if self.fields == "sensitive" else set(self.fields)
        return bool(wanted & set(request.fields))

    def describe(self) -> str:
        what = {"any": "any field", "sensitive": "sensitive-status fields"}.get(
            self.fields if isinstance(self.fields, str) else "", ""
        ) or ("fields " + ", ".join(self.fields))
        how = "any instrument" if self.instruments is None else " or ".join(self.instruments)
        where = "" if self.datasets is None else f" of {', '.join(self.datasets)}"
        return f"{what}{where} with {how}: {self.decision}"


@dataclass(frozen=True)
class Ruling:
    """What the rules decide for a request: the outcome, the rule (index from 1) and why."""

    outcome: str
    rule: int | None
    reason: str


@dataclass(frozen=True)
class DisclosureRules:
    """The ordered rules of a rules file."""

    rules: tuple[DisclosureRule, ...]
    source: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> DisclosureRules:
        where = source or "disclosure rules"
        if (
            not isinstance(doc, Mapping)
            or set(doc) != {"rules"}
            or not isinstance(doc["rules"], list)
        ):
            raise ConfigError(f"{where}: expected a mapping with one key 'rules' (a list)")
        if not doc["rules"] or len(doc["rules"]) > MAX_RULES:
            raise ConfigError(f"{where}: rules must hold 1 to {MAX_RULES} rules")
        out = []
        for i, r in enumerate(doc["rules"], 1):
            at = f"{where}: rule {i}"
            if not isinstance(r, Mapping) or set(r) - {
                "decision",
                "fields",
                "instruments",
                "datasets",
                "note",
            }:
                raise ConfigError(
                    f"{at}: expected keys decision, fields, and optional instruments, datasets, note"
                )
            if r.get("decision") not in _DECISIONS:
                raise ConfigError(f"{at}.decision: expected permit, refuse or refer")
            fields = r.get("fields", "any")
            if not (fields in ("any", "sensitive") or _str_list(fields)):
                raise ConfigError(f"{at}.fields: expected 'any', 'sensitive' or a list of fields")
            instruments = r.get("instruments")
            if instruments is not None and (
                not _str_list(instruments) or set(instruments) - set(INSTRUMENTS)
            ):
                raise ConfigError(f"{at}.instruments: expected a list of {', '.join(INSTRUMENTS)}")
            datasets = r.get("datasets")
            if datasets is not None and datasets != "any" and not _str_list(datasets):
                raise ConfigError(f"{at}.datasets: expected 'any' or a list of dataset names")
            out.append(
                DisclosureRule(
                    r["decision"],
                    fields if isinstance(fields, str) else tuple(fields),
                    None if instruments is None else tuple(instruments),
                    None if datasets in (None, "any") else tuple(datasets),
                    str(r.get("note") or ""),
                )
            )
        return cls(tuple(out), source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DisclosureRules:
        return cls.from_dict(read_yaml_bounded(path, "disclosure rules file"), str(path))

    def rule_for(self, request: DisclosureRequest, sensitive: Sequence[str]) -> Ruling:
        """The first matching rule decides; no match refuses (fails closed)."""
        for i, rule in enumerate(self.rules, 1):
            if rule.matches(request, sensitive):
                reason = f"rule {i} ({rule.describe()})" + (f": {rule.note}" if rule.note else "")
                return Ruling(_DECISIONS[rule.decision], i, reason)
        return Ruling(REFUSED, None, "no rule permits it (requests no rule matches are refused)")

    @property
    def sha256(self) -> str:
        """Content hash of the rules (recorded with each ruling made under them)."""
        import hashlib

        doc = [[r.decision, r.fields, r.instruments, r.datasets] for r in self.rules]
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()

    def to_public_list(self) -> list[str]:
        return [f"{r.describe()}" + (f" ({r.note})" if r.note else "") for r in self.rules]


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v)


# ----------------------------------------------------------------------------- the register
@dataclass(frozen=True)
class DisclosureRequest:
    """An external request for individual-level data. ``scope`` describes, never names, people."""

    id: str
    requester: str
    requester_kind: str
    instrument: str
    dataset: str
    fields: tuple[str, ...]
    scope: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ParameterError("request id", "<id>", "letters, digits, '.', '_' or '-' (<= 64)")
        _bounded_text(self.requester, "requester")
        _bounded_text(self.requester_kind, "requester kind")
        if self.instrument not in INSTRUMENTS:
            raise ParameterError("instrument", self.instrument, ", ".join(INSTRUMENTS))
        if not self.fields or len(self.fields) > MAX_FIELDS:
            raise ParameterError("fields", len(self.fields), f"1 to {MAX_FIELDS} field names")
        _bounded_text(self.scope, "scope", required=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.id,
            "requester": self.requester,
            "requester_kind": self.requester_kind,
            "instrument": self.instrument,
            "dataset": self.dataset,
            "fields": list(self.fields),
            "scope": self.scope,
        }


@dataclass(frozen=True)
class Case:
    """A request and everything that happened to it, rebuilt from the register."""

    request: DisclosureRequest
    request_hash: str
    received: str
    officer: str
    ruling: Ruling | None
    votes: tuple[Vote, ...] = ()
    refused_votes: tuple[dict[str, str], ...] = ()
    outcome: str = REFERRED
    decided_at: str | None = None
    anomalies: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return self.decided_at is None

    @property
    def hours_to_decision(self) -> float | None:
        if self.decided_at is None:
            return None
        return (parse_time(self.decided_at) - parse_time(self.received)).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.request.to_dict(),
            "received": self.received,
            "officer": self.officer,
            "rule": None if self.ruling is None else self.ruling.rule,
            "reason": None if self.ruling is None else self.ruling.reason,
            "outcome": self.outcome,
            "open": self.open,
            "decided_at": self.decided_at,
            "hours_to_decision": self.hours_to_decision,
            "votes": [vars(v) for v in self.votes],
            "refused_votes": list(self.refused_votes),
            "anomalies": list(self.anomalies),
        }


@dataclass(frozen=True)
class VoteResult:
    """Whether a vote was counted (else why it was refused) and the case afterwards."""

    accepted: bool
    reason: str
    case: Case


def _vote_payload(request_id: str, request_hash: str, member: str, decision: str, at: str) -> bytes:
    subject = {"request_id": request_id, "request_hash": request_hash}
    return vote_payload(OP_VOTE, subject, member, decision, at)


def _iso(now: datetime | None) -> str:
    from .provenance import _iso as iso

    return iso(now or utc_now())


@dataclass
class _Building:
    request: DisclosureRequest
    request_hash: str
    received: str
    officer: str
    ruling: Ruling | None = None
    votes: list[Vote] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    outcome: str = REFERRED
    decided_at: str | None = None
    anomalies: list[str] = field(default_factory=list)

    def freeze(self) -> Case:
        return Case(
            self.request,
            self.request_hash,
            self.received,
            self.officer,
            self.ruling,
            tuple(self.votes),
            tuple(self.refused),
            self.outcome,
            self.decided_at,
            tuple(self.anomalies),
        )


class DisclosureRegister:
    """The register: a hash-chained log of disclosure steps, and the cases it implies.

    Parameters
    ----------
    path : path-like
        The register's log (JSON Lines, with its ``.head`` anchor).
    oversight : OversightBody
        The board whose members' signed votes decide referrals.
    signing_key : SigningKey, optional
        Key that signs the log records (default ``WORKBENCH_PROVENANCE_KEY``, if set).
    rules : DisclosureRules, optional
        With ``catalog``, every ruling made under these rules (same hash) is decided again when
        the register is read; a ruling the rules would not give is an anomaly and the request
        counts as refused.
    catalog : Catalog, optional
        Where the datasets' sensitive fields are looked up for that check.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        oversight: OversightBody,
        *,
        signing_key: SigningKey | None = None,
        rules: DisclosureRules | None = None,
        catalog: Any = None,
    ) -> None:
        self.path = Path(path)
        self.oversight = oversight
        self.rules = rules
        self.catalog = catalog
        self.log = ProvenanceLog(self.path, signing_key=signing_key)

    # ------------------------------------------------------------------------ reading
    def cases(self) -> tuple[Case, ...]:
        """Every case, rebuilt from a register that verifies (a tampered one raises)."""
        building = replay_decision_log(
            self.log, self.path, "the register", "disclosure step", self._replay
        )
        return tuple(b.freeze() for b in building.values())

    def _replay(self, building: dict[str, _Building], rec: dict[str, Any]) -> None:
        """Apply one log record to the cases being rebuilt (votes and rulings re-checked)."""
        op, p = rec.get("operation"), rec.get("parameters") or {}
        if op == OP_REQUEST:
            req = DisclosureRequest(
                p["request_id"],
                p["requester"],
                p["requester_kind"],
                p["instrument"],
                p["dataset"],
                tuple(p["fields"]),
                p.get("scope", ""),
            )
            if req.id in building:
                raise ParameterError("request id", req.id, "an id used once in the register")
            building[req.id] = _Building(req, rec["hash"], rec["timestamp"], rec["user"])
        elif op == OP_RULING and p.get("request_id") in building:
            b = building[p["request_id"]]
            why = self._bad_ruling(b, rec, p)
            if why is not None:
                b.anomalies.append(why)
                b.outcome, b.decided_at = REFUSED, rec["timestamp"]  # fails closed
                if b.ruling is None:
                    b.ruling = Ruling(REFUSED, None, f"refused: {why}")
                return
            b.ruling = Ruling(p["outcome"], p.get("rule"), p["reason"])
            b.outcome = p["outcome"]
            if p["outcome"] != REFERRED:
                b.decided_at = rec["timestamp"]
        elif op == OP_VOTE and p.get("request_id") in building:
            b = building[p["request_id"]]
            why = self._why_not(b, p.get("member", ""))
            payload = _vote_payload(
                b.request.id, b.request_hash, p["member"], p["decision"], p["signed_at"]
            )
            member = self.oversight.member(p["member"])
            if why is None and (member is None or not member.verifies(payload, p["signature"])):
                why = "the signature is not the member's"
            if why is None and p["decision"] in ("permit", "refuse"):
                b.votes.append(Vote(p["member"], p["decision"], p["signed_at"], p["reason"]))
                self._settle(b, rec["timestamp"])
            else:
                b.refused.append({"member": p.get("member", ""), "reason": why or "invalid"})
        elif op == OP_VOTE_REFUSED and p.get("request_id") in building:
            building[p["request_id"]].refused.append(
                {"member": p.get("member", ""), "reason": p.get("reason", "")}
            )

    def _bad_ruling(self, b: _Building, rec: dict[str, Any], p: Mapping[str, Any]) -> str | None:
        """Why a ruling record cannot be the rules' decision (``None`` when it can)."""
        if b.ruling is not None:
            return f"a second ruling (record {rec.get('seq')}) for a request already ruled"
        if rec.get("prev_hash") != b.request_hash:
            return "the ruling does not directly follow its request in the register"
        if p.get("outcome") not in (PERMITTED, REFUSED, REFERRED):
            return "the ruling has no valid outcome"
        if (
            self.rules is not None
            and self.catalog is not None
            and p.get("rules_sha256") == self.rules.sha256
            and b.request.dataset in self.catalog.datasets
        ):
            due = self.rules.rule_for(b.request, self.catalog.datasets[b.request.dataset].sensitive)
            # an officer may send a permitted request to the board; nothing else may differ
            if p["outcome"] != due.outcome and not (
                due.outcome == PERMITTED and p["outcome"] == REFERRED
            ):
                return f"the rules decide {due.outcome}, the register says {p['outcome']}"
        return None

    def case(self, request_id: str) -> Case:
        for c in self.cases():
            if c.request.id == request_id:
                return c
        raise ConfigError(f"{self.path}: no request {request_id!r} in the register")

    def _why_not(self, b: _Building, member_id: str) -> str | None:
        """Why ``member_id`` may not vote on the case now (``None`` when they may)."""
        if b.outcome != REFERRED or b.decided_at is not None:
            return f"the request is already {b.outcome}; it is not open for votes"
        parties = {"the requester": b.request.requester, "the referring officer": b.officer}
        return why_not_eligible(self.oversight, member_id, parties, b.votes)

    def _settle(self, b: _Building, at: str) -> None:
        decision = quorum_decision(self.oversight, b.votes, ("permit", "refuse"))
        if decision is not None:
            b.outcome = _DECISIONS[decision]
            b.decided_at = at

    # ------------------------------------------------------------------------ writing
    def file(
        self,
        request: DisclosureRequest,
        rules: DisclosureRules,
        *,
        sensitive: Sequence[str],
        officer: str,
        refer: bool = False,
        now: datetime | None = None,
    ) -> Case:
        """Register a request and apply the rules (two log records: the request, the ruling).

        ``refer=True`` sends a request the rules would permit to the board instead; it never
        lifts a refusal.
        """
        officer = _bounded_text(officer, "officer")
        with self.log._locked():
            if any(c.request.id == request.id for c in self.cases()):
                raise ParameterError("request id", request.id, "an id not yet in the register")
            ruling = rules.rule_for(request, sensitive)
            if refer and ruling.outcome == PERMITTED:
                ruling = Ruling(REFERRED, ruling.rule, f"{ruling.reason}; referred by {officer}")
            when = now or utc_now()
            self.log.append(OP_REQUEST, parameters=request.to_dict(), user=officer, now=when)
            self.log.append(
                OP_RULING,
                parameters={
                    "request_id": request.id,
                    "outcome": ruling.outcome,
                    "rule": ruling.rule,
                    "reason": ruling.reason,
                    "rules_file": rules.source,
                    "rules_sha256": rules.sha256,
                },
                user=officer,
                now=when,
            )
            return self.case(request.id)

    def vote(
        self,
        request_id: str,
        member_id: str,
        decision: str,
        member_signing: SigningKey,
        *,
        reason: str = "",
        now: datetime | None = None,
    ) -> VoteResult:
        """Record ``member_id``'s decision signed with their own key, or log why it is refused.

        The key must be the one the board file publishes for the member. When the vote completes
        a quorum, the outcome is recorded too.
        """
        if decision not in ("permit", "refuse"):
            raise ParameterError("decision", decision, "permit or refuse")
        reason = _bounded_text(reason, "reason", required=False)
        when = _iso(now)
        with self.log._locked():
            case = self.case(request_id)
            b = _Building(
                case.request,
                case.request_hash,
                case.received,
                case.officer,
                case.ruling,
                list(case.votes),
                list(case.refused_votes),
                case.outcome,
                case.decided_at,
            )
            why = self._why_not(b, member_id)
            if why is None:
                why = key_mismatch(self.oversight, member_id, member_signing.public_text)
            payload = _vote_payload(request_id, case.request_hash, member_id, decision, when)
            counted, why, after = record_vote(
                self.log,
                (OP_VOTE, OP_VOTE_REFUSED, OP_OUTCOME),
                "request_id",
                request_id,
                member_id,
                why,
                (decision, reason, when, member_signing, payload),
                lambda: self.case(request_id),
                self.oversight.quorum,
                now,
            )
            return VoteResult(counted, why, after)


def disclosure_statistics(cases: Sequence[Case]) -> dict[str, Any]:
    """Requests by outcome (open referrals as ``referred``) and the median hours to a decision."""
    by = {PERMITTED: 0, REFUSED: 0, REFERRED: 0}
    for c in cases:
        by[c.outcome if not c.open else REFERRED] += 1
    hours = [c.hours_to_decision for c in cases if c.hours_to_decision is not None]
    return {
        "requests": len(cases),
        "by_outcome": by,
        "decided_by_board": sum(1 for c in cases if c.votes and not c.open),
        "median_hours_to_decision": None if not hours else round(median(hours), 2),
    }
