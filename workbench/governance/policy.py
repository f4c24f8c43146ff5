"""Data-protection policies: one YAML file per dataset, validated against a JSON schema.

A policy says who owns a dataset, what it may be used for, how long derived outputs may be kept,
who may see it at which level of detail, and which privacy thresholds a release must meet. The
gate (:mod:`workbench.governance.gate`) measures risk and compares it with these thresholds;
:mod:`workbench.governance.harmonize` combines several policies into the most protective one.

Policies round-trip: ``Policy.load(p).save(q)`` writes the same document (canonical files are
byte-identical; any valid file keeps the same content).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .._io import atomic_write_text
from ..errors import PolicyError

__all__ = [
    "VIEW_KINDS",
    "POLICY_SCHEMA",
    "Retention",
    "RecordsAtRisk",
    "Thresholds",
    "AccessTiers",
    "Policy",
    "load_policy",
    "validate_policy",
]

#: Levels of detail a role may see, from most to least detailed.
VIEW_KINDS: tuple[str, ...] = ("raw", "deidentified", "aggregate")

_DURATION_RE = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")

_ROLE_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
_TEXT_LIST = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "uniqueItems": True,
}


def _threshold_schema() -> dict[str, Any]:
    """``thresholds`` keys and value schemas, from the registered privacy models."""
    from ..models import MODELS

    return {
        cls.policy_key: dict(cls.policy_schema)
        for cls in MODELS.values()
        if cls.policy_key and cls.policy_schema is not None
    }


#: JSON schema (draft 2020-12) every policy file must satisfy.
POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Privacy Risk Workbench dataset policy",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "name",
        "owner",
        "purposes",
        "consent_scope",
        "legal_basis",
        "retention",
        "access",
        "thresholds",
    ],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "owner": {
            "type": "object",
            "additionalProperties": False,
            "required": ["department", "steward"],
            "properties": {
                "department": {"type": "string", "minLength": 1},
                "steward": {"type": "string", "minLength": 1},
            },
        },
        "purposes": _TEXT_LIST,
        "consent_scope": _TEXT_LIST,
        "legal_basis": {"type": "string", "minLength": 1},
        "retention": {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": _DURATION_RE.pattern},
            ],
            "description": "ISO 8601 duration (P5Y, P18M, P1Y6M, P90D, P2W) or a number of days",
        },
        "third_party_hosting": {"type": "boolean"},
        "sharing_allowed": {"type": "boolean"},
        "encryption_at_rest": {"type": "boolean"},
        "access": {
            "type": "object",
            "additionalProperties": False,
            "required": ["raw", "deidentified", "aggregate"],
            "properties": {k: _ROLE_LIST for k in VIEW_KINDS},
        },
        "sensitivity": {
            "type": "object",
            "additionalProperties": {"type": "number", "minimum": 0},
        },
        "thresholds": {
            "type": "object",
            "additionalProperties": False,
            # one key per registered privacy model (workbench.models)
            "properties": _threshold_schema(),
        },
        "dp_budget": {
            "type": "object",
            "additionalProperties": False,
            "required": ["epsilon"],
            "properties": {
                "epsilon": {"type": "number", "exclusiveMinimum": 0},
                "delta": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
            },
            "description": "total differential-privacy loss allowed for the dataset's population "
            "(workbench dp); a combination takes the smallest",
        },
        "dp_public_keys": {
            "type": "object",
            "additionalProperties": {**_TEXT_LIST, "minItems": 1},
            "description": "group keys of a column that are public (workbench dp releases a noisy "
            "count for every one of them, empty ones included)",
        },
    },
}


# ----------------------------------------------------------------------------------- retention
@dataclass(frozen=True)
class Retention:
    """How long derived outputs may be kept: an ISO 8601 duration or a number of days.

    Calendar arithmetic (P1M after 31 January is 28/29 February) follows ISO 8601 as implemented
    by most date libraries: months and years move the calendar date, clamping the day.

    Examples
    --------
    >>> Retention.parse("P18M").add_to(date(2024, 1, 31))
    datetime.date(2025, 7, 31)
    >>> Retention.parse(30) < Retention.parse("P1M")
    True
    """

    years: int = 0
    months: int = 0
    days: int = 0
    text: str | int = "P0D"

    @classmethod
    def parse(cls, value: str | int, where: str = "retention") -> Retention:
        """Parse ``"P5Y"``, ``"P18M"``, ``"P1Y6M"``, ``"P2W"``, ``"P90D"`` or an integer (days)."""
        if isinstance(value, bool):
            raise PolicyError(f"{where}: expected an ISO 8601 duration or days, got {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise PolicyError(f"{where}: retention days must be >= 0, got {value}")
            return cls(days=value, text=value)
        m = _DURATION_RE.match(str(value).strip())
        if not m:
            raise PolicyError(
                f"{where}: {value!r} is not an ISO 8601 duration like P5Y, P18M, P1Y6M, P90D"
            )
        y, mo, w, d = (int(g) if g else 0 for g in m.groups())
        return cls(years=y, months=mo, days=7 * w + d, text=str(value).strip())

    @property
    def approx_days(self) -> float:
        """Length in days using mean Gregorian years and months (used only to order periods)."""
        return 365.2425 * self.years + 30.436875 * self.months + self.days

    def add_to(self, start: date | datetime) -> date | datetime:
        """The end of the period that begins at ``start`` (calendar months, day clamped)."""
        total = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + total // 12, total % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def __lt__(self, other: Retention) -> bool:
        return self.approx_days < other.approx_days

    def __le__(self, other: Retention) -> bool:
        return self.approx_days <= other.approx_days

    def __str__(self) -> str:
        return str(self.text) if isinstance(self.text, str) else f"{self.text} days"


# ---------------------------------------------------------------------------------- thresholds
def _plain(v: Any) -> Any:
    return {k: _plain(x) for k, x in v.items()} if isinstance(v, Mapping) else v


@dataclass(frozen=True)
class RecordsAtRisk:
    """At most ``share`` of records may have an individual risk above ``threshold``."""

    share: float
    threshold: float

    def to_dict(self) -> dict[str, float]:
        return {"share": self.share, "threshold": self.threshold}


@dataclass(frozen=True)
class Thresholds:
    """Privacy limits a release must meet; ``None`` means the policy sets no limit.

    Every key is the ``policy_key`` of a registered privacy model (:mod:`workbench.models`):
    ``min_k`` is k-anonymity (Sweeney 2002), the risks are prosecutor risks 1/f_k per record
    (El Emam & Dankar 2008), ``min_l`` is distinct l-diversity per sensitive attribute
    (Machanavajjhala et al. 2007); ``extra`` holds the other models' keys (``min_k_map``,
    ``max_t``, ``max_delta_disclosure``, ``max_beta_likeness``, ``delta_presence``,
    ``max_population_uniqueness``) as written.
    """

    min_k: int | None = None
    max_average_risk: float | None = None
    max_highest_risk: float | None = None
    min_l: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    max_records_at_risk: RecordsAtRisk | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.min_k is not None:
            out["min_k"] = self.min_k
        if self.max_average_risk is not None:
            out["max_average_risk"] = self.max_average_risk
        if self.max_highest_risk is not None:
            out["max_highest_risk"] = self.max_highest_risk
        if self.min_l:
            out["min_l"] = dict(self.min_l)
        if self.max_records_at_risk is not None:
            out["max_records_at_risk"] = self.max_records_at_risk.to_dict()
        out.update({k: _plain(v) for k, v in self.extra.items()})
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Thresholds:
        rar = d.get("max_records_at_risk")
        named = set(cls.__dataclass_fields__) - {"extra"}
        return cls(
            min_k=d.get("min_k"),
            max_average_risk=d.get("max_average_risk"),
            max_highest_risk=d.get("max_highest_risk"),
            min_l=MappingProxyType(dict(d.get("min_l") or {})),
            max_records_at_risk=None
            if rar is None
            else RecordsAtRisk(rar["share"], rar["threshold"]),
            extra=MappingProxyType(
                {k: v for k, v in d.items() if k not in named and v is not None}
            ),
        )

    def models(self) -> list[Any]:
        """The registered privacy models these thresholds ask for (the gate checks each)."""
        from ..models import models_for_policy

        return models_for_policy(self.to_dict())


@dataclass(frozen=True)
class AccessTiers:
    """Roles allowed to see raw rows, de-identified rows and aggregates."""

    raw: tuple[str, ...] = ()
    deidentified: tuple[str, ...] = ()
    aggregate: tuple[str, ...] = ()

    def roles_for(self, view_kind: str) -> tuple[str, ...]:
        """Roles allowed ``view_kind`` (one of :data:`VIEW_KINDS`)."""
        return getattr(self, view_kind)

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in VIEW_KINDS}


# -------------------------------------------------------------------------------------- policy
@dataclass(frozen=True, eq=False)
class Policy:
    """One dataset's (or one harmonized combination's) data-protection policy.

    Attributes mirror the YAML keys (see :data:`POLICY_SCHEMA`). ``source`` is the file it was
    read from and is not part of the document.
    """

    name: str
    department: str
    steward: str
    purposes: tuple[str, ...]
    consent_scope: tuple[str, ...]
    legal_basis: str
    retention: Retention
    access: AccessTiers
    thresholds: Thresholds
    third_party_hosting: bool | None = None
    sharing_allowed: bool | None = None
    encryption_at_rest: bool | None = None
    sensitivity: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    description: str | None = None
    source: str | None = None
    dp_budget: Mapping[str, float] | None = None
    dp_public_keys: Mapping[str, tuple[str, ...]] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str | Path | None = None) -> Policy:
        """Validate ``d`` against the schema and build the policy (errors name the field path)."""
        validate_policy(d, source)
        where = f"{source}: retention" if source else "retention"
        return cls(
            name=d["name"],
            description=d.get("description"),
            department=d["owner"]["department"],
            steward=d["owner"]["steward"],
            purposes=tuple(d["purposes"]),
            consent_scope=tuple(d["consent_scope"]),
            legal_basis=d["legal_basis"],
            retention=Retention.parse(d["retention"], where),
            third_party_hosting=d.get("third_party_hosting"),
            sharing_allowed=d.get("sharing_allowed"),
            encryption_at_rest=d.get("encryption_at_rest"),
            access=AccessTiers(**{k: tuple(d["access"][k]) for k in VIEW_KINDS}),
            sensitivity=MappingProxyType({k: v for k, v in (d.get("sensitivity") or {}).items()}),
            thresholds=Thresholds.from_dict(d["thresholds"]),
            source=None if source is None else str(source),
            dp_budget=None
            if d.get("dp_budget") is None
            else MappingProxyType(dict(d["dp_budget"])),
            dp_public_keys=None
            if d.get("dp_public_keys") is None
            else MappingProxyType({k: tuple(v) for k, v in d["dp_public_keys"].items()}),
        )

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read and validate a policy YAML file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError(f"{p}: policy file not found") from None
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{p}: not UTF-8 text ({exc.reason})") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            raise PolicyError(
                f"{p}:{line} not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from None
        return cls.from_dict(doc, source=p)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The policy document (YAML/JSON), keys in canonical order."""
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["owner"] = {"department": self.department, "steward": self.steward}
        out["purposes"] = list(self.purposes)
        out["consent_scope"] = list(self.consent_scope)
        out["legal_basis"] = self.legal_basis
        out["retention"] = self.retention.text
        for key in ("third_party_hosting", "sharing_allowed", "encryption_at_rest"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["access"] = self.access.to_dict()
        if self.sensitivity:
            out["sensitivity"] = dict(self.sensitivity)
        out["thresholds"] = self.thresholds.to_dict()
        if self.dp_budget is not None:
            out["dp_budget"] = dict(self.dp_budget)
        if self.dp_public_keys is not None:
            out["dp_public_keys"] = {k: list(v) for k, v in self.dp_public_keys.items()}
        return out

    def to_yaml(self) -> str:
        """Canonical YAML text of :meth:`to_dict`."""
        return yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
        )

    def save(self, path: str | Path) -> Path:
        """Write the canonical YAML atomically (``load`` then ``save`` keeps the content)."""
        return atomic_write_text(path, self.to_yaml())

    @property
    def sha256(self) -> str:
        """Content hash of the canonical document (recorded in provenance as the policy in force)."""
        canon = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()

    def reference(self) -> dict[str, Any]:
        """Short reference for provenance: name, hash and retention."""
        return {"name": self.name, "sha256": self.sha256, "retention": self.retention.text}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        return f"Policy(name={self.name!r}, department={self.department!r})"

    def allows_role(self, role: str, view_kind: str) -> bool:
        """True when the policy lets ``role`` see ``view_kind`` data."""
        return role in self.access.roles_for(view_kind)


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy YAML file (same as :meth:`Policy.load`)."""
    return Policy.load(path)


def _field_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate_policy(doc: Any, source: str | Path | None = None) -> None:
    """Raise :class:`PolicyError` listing every schema violation with its field path.

    The error has ``.source`` (file), ``.field`` (path of the first problem) and ``.problems``
    (list of ``(field_path, message)``).
    """
    from jsonschema import Draft202012Validator

    where = f"{source}: " if source else ""
    if not isinstance(doc, Mapping):
        err = PolicyError(f"{where}a policy must be a mapping of keys, got {type(doc).__name__}")
        err.source, err.field, err.problems = source, "(top level)", [("(top level)", str(err))]
        raise err
    validator = Draft202012Validator(POLICY_SCHEMA)
    problems: list[tuple[str, str]] = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.path]):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for key in extra:
                known = ", ".join(error.schema.get("properties", {}))
                problems.append(
                    (_field_path([*path, key]), f"unknown key; expected one of: {known}")
                )
            continue
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            key = missing[0] if missing else "?"
            problems.append((_field_path([*path, key]), "is required but missing"))
            continue
        if error.validator == "oneOf" and path and path[-1] == "retention":
            msg = f"{error.instance!r} is not an ISO 8601 duration (P5Y, P18M, P90D) or days"
        elif error.validator == "pattern" and path and path[-1] == "retention":
            msg = f"{error.instance!r} is not an ISO 8601 duration (P5Y, P18M, P90D) or days"
        else:
            msg = error.message
        problems.append((_field_path(path), msg))
    if problems:
        lines = "; ".join(f"{p}: {m}" for p, m in problems)
        err = PolicyError(f"{where}invalid policy: {lines}")
        err.source, err.field, err.problems = source, problems[0][0], problems
        raise err
