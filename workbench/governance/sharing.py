"""Sharing practices, hosting, recipients and data-use agreements: the policy flags that bite.

Why: a policy that says ``sharing_allowed: false`` or ``third_party_hosting: false`` protects
nobody unless something checks the releases and combinations against it. Three declarations feed
the checks, all kept beside the catalog:

* where each dataset is stored: a ``hosting: {location: ..., third_party: true|false}`` entry of
  the dataset in the catalog;
* the sharing inventory (``governance/sharing.yaml``): every practice, formal or informal, that
  shares individual-level data -- dataset, fields, recipient and its kind (``department``,
  ``vendor``, ``other government``), legal basis, frequency, hosting;
* data-use agreements (``governance/agreements.yaml``): parties, datasets, permitted analyses,
  expiry. When the file exists, a combination of datasets needs an agreement that covers all of
  them, has not expired, and permits the purpose (when one is given).

:func:`release_findings` is the one place these rules live; the gate adds its findings and the
join-risk matrix withholds "permit" from a pair they block (:func:`combination_blocks`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .minimize import normalize_purpose, read_yaml_bounded

__all__ = [
    "RECIPIENT_KINDS",
    "Hosting",
    "SharingPractice",
    "SharingInventory",
    "Agreement",
    "Agreements",
    "hosting_of",
    "release_findings",
    "combination_blocks",
    "default_governance_file",
]

RECIPIENT_KINDS = ("department", "vendor", "other government")
MAX_ITEMS = 1000


def default_governance_file(catalog_path: str | os.PathLike | None, name: str) -> Path | None:
    """``governance/<name>`` beside the catalog, when it exists."""
    if catalog_path is None:
        return None
    p = Path(catalog_path).parent / "governance" / name
    return p if p.is_file() else None


def _text(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > 500:
        raise ConfigError(f"{where}: expected a non-empty text (at most 500 characters)")
    return v


def _texts(v: Any, where: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise ConfigError(f"{where}: expected a non-empty list of texts")
    return tuple(v)


def _items(doc: Any, key: str, where: str) -> list[Any]:
    if not isinstance(doc, Mapping) or set(doc) != {key} or not isinstance(doc[key], list):
        raise ConfigError(f"{where}: expected a mapping with one key {key!r} (a list)")
    if len(doc[key]) > MAX_ITEMS:
        raise ConfigError(f"{where}: at most {MAX_ITEMS} {key}")
    return doc[key]


# ------------------------------------------------------------------------------------ hosting
@dataclass(frozen=True)
class Hosting:
    """Where a dataset is stored, and whether that is a third party's infrastructure."""

    location: str
    third_party: bool


def hosting_of(entry: Any) -> Hosting | None:
    """The ``hosting`` a catalog entry declares (``None`` when it declares none)."""
    raw = (getattr(entry, "extra", None) or {}).get("hosting")
    if raw is None:
        return None
    where = f"catalog dataset {entry.name!r}: hosting"
    if not isinstance(raw, Mapping) or set(raw) != {"location", "third_party"}:
        raise ConfigError(f"{where}: expected {{location: ..., third_party: true|false}}")
    if not isinstance(raw["third_party"], bool):
        raise ConfigError(f"{where}.third_party: expected true or false")
    return Hosting(_text(raw["location"], f"{where}.location"), raw["third_party"])


# --------------------------------------------------------------------------- sharing inventory
@dataclass(frozen=True)
class SharingPractice:
    """One practice that shares individual-level data (formal or informal)."""

    id: str
    dataset: str
    fields: tuple[str, ...]
    recipient: str
    recipient_kind: str
    legal_basis: str
    frequency: str
    hosting: str
    formal: bool
    agreement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


_PRACTICE_KEYS = {
    "id",
    "dataset",
    "fields",
    "recipient",
    "recipient_kind",
    "legal_basis",
    "frequency",
    "hosting",
    "formal",
    "agreement",
}


@dataclass(frozen=True)
class SharingInventory:
    """Every sharing practice, as declared in ``governance/sharing.yaml``."""

    practices: tuple[SharingPractice, ...]
    source: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> SharingInventory:
        where = source or "sharing inventory"
        out = []
        for i, p in enumerate(_items(doc, "practices", where)):
            at = f"{where}: practices[{i}]"
            if not isinstance(p, Mapping) or set(p) - _PRACTICE_KEYS:
                raise ConfigError(f"{at}: expected keys {', '.join(sorted(_PRACTICE_KEYS))}")
            if p.get("recipient_kind") not in RECIPIENT_KINDS:
                raise ConfigError(f"{at}.recipient_kind: expected {', '.join(RECIPIENT_KINDS)}")
            if not isinstance(p.get("formal"), bool):
                raise ConfigError(f"{at}.formal: expected true (documented) or false (informal)")
            out.append(
                SharingPractice(
                    _text(p.get("id"), f"{at}.id"),
                    _text(p.get("dataset"), f"{at}.dataset"),
                    _texts(p.get("fields"), f"{at}.fields"),
                    _text(p.get("recipient"), f"{at}.recipient"),
                    p["recipient_kind"],
                    _text(p.get("legal_basis"), f"{at}.legal_basis"),
                    _text(p.get("frequency"), f"{at}.frequency"),
                    _text(p.get("hosting"), f"{at}.hosting"),
                    p["formal"],
                    None
                    if p.get("agreement") is None
                    else _text(p["agreement"], f"{at}.agreement"),
                )
            )
        if len({p.id for p in out}) != len(out):
            raise ConfigError(f"{where}: practice ids must be distinct")
        return cls(tuple(out), source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SharingInventory:
        return cls.from_dict(read_yaml_bounded(path, "sharing inventory"), str(path))

    def review(self, catalog: Any) -> list[dict[str, Any]]:
        """Each practice with its sensitive-status fields and concerns, sensitive ones first.

        Concerns: the dataset's policy forbids sharing outside the owning department (or
        third-party hosting, for a vendor), the practice is informal, it names no legal basis.
        """
        from .catalog_policies import dataset_policy

        rows = []
        for p in self.practices:
            if p.dataset not in catalog.datasets:
                raise ConfigError(
                    f"{self.source}: practice {p.id!r} names dataset {p.dataset!r}, which is not "
                    f"in the catalog; available: {', '.join(catalog.datasets)}"
                )
            entry = catalog.datasets[p.dataset]
            sensitive = [f for f in p.fields if f in entry.sensitive]
            concerns = []
            policy = dataset_policy(catalog, p.dataset) if entry.policy is not None else None
            external = p.recipient_kind != "department" or p.recipient != entry.department
            if policy is not None and external and policy.sharing_allowed is not True:
                concerns.append(f"policy {policy.name} does not allow sharing")
            if (
                policy is not None
                and p.recipient_kind == "vendor"
                and not policy.third_party_hosting
            ):
                concerns.append(f"policy {policy.name} does not allow third-party hosting")
            if not p.formal:
                concerns.append("informal: no documented procedure")
            if normalize_purpose(p.legal_basis) in {"none", "none documented", "unknown"}:
                concerns.append("no legal basis")
            rows.append({**p.to_dict(), "sensitive_fields": sensitive, "concerns": concerns})
        rows.sort(key=lambda r: (not r["sensitive_fields"], r["id"]))
        return rows


# ------------------------------------------------------------------------- data-use agreements
@dataclass(frozen=True)
class Agreement:
    """A data-use agreement: who, which datasets, which analyses, until when."""

    id: str
    parties: tuple[str, ...]
    datasets: tuple[str, ...]
    permitted_analyses: tuple[str, ...]
    expires: date

    def covers(self, names: Sequence[str]) -> bool:
        return set(names) <= set(self.datasets)

    def valid_on(self, day: date) -> bool:
        """Valid up to and including its expiry date."""
        return day <= self.expires

    def permits(self, purpose: str) -> bool:
        want = normalize_purpose(purpose)
        return want in {normalize_purpose(a) for a in self.permitted_analyses}


@dataclass(frozen=True)
class Agreements:
    """The data-use agreements of ``governance/agreements.yaml``."""

    agreements: tuple[Agreement, ...]
    source: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> Agreements:
        where = source or "agreements"
        out = []
        keys = {"id", "parties", "datasets", "permitted_analyses", "expires"}
        for i, a in enumerate(_items(doc, "agreements", where)):
            at = f"{where}: agreements[{i}]"
            if not isinstance(a, Mapping) or set(a) != keys:
                raise ConfigError(f"{at}: expected keys {', '.join(sorted(keys))}")
            exp = a["expires"]
            if isinstance(exp, str):
                try:
                    exp = date.fromisoformat(exp)
                except ValueError:
                    exp = None
            if not isinstance(exp, date):
                raise ConfigError(f"{at}.expires: expected a date YYYY-MM-DD")
            out.append(
                Agreement(
                    _text(a["id"], f"{at}.id"),
                    _texts(a["parties"], f"{at}.parties"),
                    _texts(a["datasets"], f"{at}.datasets"),
                    _texts(a["permitted_analyses"], f"{at}.permitted_analyses"),
                    exp,
                )
            )
        return cls(tuple(out), source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Agreements:
        return cls.from_dict(read_yaml_bounded(path, "agreements file"), str(path))

    def check(
        self, names: Sequence[str], purpose: str | None, today: date
    ) -> tuple[Agreement | None, str]:
        """The agreement that allows combining ``names`` (for ``purpose``) today, or why none."""
        covering = [a for a in self.agreements if a.covers(names)]
        if not covering:
            return None, f"no data-use agreement covers {' + '.join(names)}"
        valid = [a for a in covering if a.valid_on(today)]
        if not valid:
            last = max(covering, key=lambda a: a.expires)
            return None, f"the data-use agreement {last.id} expired on {last.expires.isoformat()}"
        if purpose is not None:
            fit = [a for a in valid if a.permits(purpose)]
            if not fit:
                ids = ", ".join(a.id for a in valid)
                return None, f"{ids} does not permit {purpose!r}"
            valid = fit
        return valid[0], f"covered by data-use agreement {valid[0].id} until {valid[0].expires}"


# ---------------------------------------------------------------------------------- the rules
def release_findings(
    catalog: Any,
    names: Sequence[str],
    policy: Any,
    *,
    recipient: str | None = None,
    recipient_kind: str | None = None,
    purpose: str | None = None,
    agreements: Agreements | None = None,
    today: date | None = None,
) -> list[Any]:
    """Findings of the hosting, sharing and agreement rules for a release of ``names``.

    ``policy`` is the (harmonized) policy in force. Hosting is checked when the catalog declares
    it; sharing when a recipient is named (a recipient outside the owning departments, or not a
    department, is sharing); agreements when ``agreements`` is given and ``names`` is a
    combination.
    """
    from .gate import FAIL, PASS, REVIEW, Finding

    findings = []
    entries = [catalog.datasets[n] for n in names] if catalog is not None else []
    hosted = [(e.name, hosting_of(e)) for e in entries]
    third = [(n, h) for n, h in hosted if h is not None and h.third_party]
    if recipient_kind == "vendor":
        third.append(("release", Hosting(f"vendor {recipient or ''}".strip(), True)))
    if any(h is not None for _, h in hosted) or recipient_kind == "vendor":
        if third and policy.third_party_hosting is not True:
            where = "; ".join(f"{n} at {h.location}" for n, h in third)
            findings.append(
                Finding(
                    "third_party_hosting",
                    FAIL if policy.third_party_hosting is False else REVIEW,
                    [n for n, _ in third],
                    policy.third_party_hosting,
                    f"Data would sit on a third party's infrastructure ({where}) but policy "
                    f"{policy.name} "
                    + (
                        "does not allow third-party hosting."
                        if policy.third_party_hosting is False
                        else "does not say whether third-party hosting is allowed."
                    )
                    + " Keep the data on the city's own infrastructure.",
                )
            )
        else:
            findings.append(
                Finding(
                    "third_party_hosting",
                    PASS,
                    [h.location for _, h in hosted if h is not None],
                    policy.third_party_hosting,
                    "Storage locations are allowed by the policy.",
                )
            )
    if recipient is not None:
        depts = {e.department for e in entries if e.department}
        sharing = recipient_kind != "department" or recipient not in depts
        ok = not sharing or policy.sharing_allowed is True
        findings.append(
            Finding(
                "sharing_allowed",
                PASS if ok else FAIL,
                recipient,
                policy.sharing_allowed,
                f"Release to {recipient} is allowed by policy {policy.name}."
                if ok
                else f"Release to {recipient} ({recipient_kind or 'recipient'}) shares the data "
                f"outside {', '.join(sorted(depts)) or 'its owner'}, but policy {policy.name} "
                "does not allow sharing. Do not release it.",
            )
        )
    if agreements is not None and len(names) > 1:
        found, why = agreements.check(names, purpose, today or date.today())
        findings.append(
            Finding(
                "agreement",
                PASS if found else FAIL,
                None if found is None else found.id,
                None,
                why[0].upper() + why[1:] + "."
                + ("" if found else " A combination needs a valid data-use agreement."),
            )
        )  # fmt: skip
    return findings


def combination_blocks(
    catalog: Any, names: Sequence[str], catalog_path: str | os.PathLike | None = None
) -> tuple[str, ...]:
    """Why the policies forbid combining ``names`` at all (empty when they do not).

    The same rules as the gate: harmonization conflicts (no common purpose or consent ...),
    hosting, and -- when an agreements file exists -- a valid data-use agreement.
    """
    from .catalog_policies import combination_policy
    from .gate import FAIL

    if any(catalog.datasets[n].policy is None for n in names):
        return ()
    harm = combination_policy(catalog, tuple(names))
    reasons = [c.message for c in harm.conflicts]
    path = catalog_path or getattr(catalog, "path", None)
    agr_path = default_governance_file(path, "agreements.yaml")
    agreements = Agreements.load(agr_path) if agr_path is not None else None
    for f in release_findings(catalog, names, harm.policy, agreements=agreements):
        if f.status == FAIL:
            reasons.append(f.message)
    return tuple(reasons)
