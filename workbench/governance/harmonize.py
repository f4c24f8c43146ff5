"""Harmonization: the most protective standard at the intersection of several policies.

When departments combine datasets, the combination may only be used for what *every* source
allows, kept no longer than the *shortest* retention, and must meet the *strictest* of each
threshold. Anything that leaves the combination without a lawful use or without anyone allowed to
handle it is reported as a conflict in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError
from ..models import MODELS
from .policy import VIEW_KINDS, AccessTiers, Policy, Thresholds

__all__ = ["Conflict", "Harmonization", "harmonize"]

_VIEW_WORDS = {
    "raw": "raw rows",
    "deidentified": "de-identified rows",
    "aggregate": "aggregates",
}


@dataclass(frozen=True)
class Conflict:
    """A reason the combination is impermissible, in words a privacy officer can act on."""

    rule: str
    message: str
    datasets: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "datasets": list(self.datasets)}


@dataclass(frozen=True)
class Harmonization:
    """The effective policy of a combination and every conflict found while building it."""

    policy: Policy
    sources: tuple[str, ...]
    conflicts: tuple[Conflict, ...]

    @property
    def permissible(self) -> bool:
        """True when no conflict forbids the combination."""
        return not self.conflicts

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "permissible": self.permissible,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "policy": self.policy.to_dict(),
            "policy_sha256": self.policy.sha256,
        }


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _intersect(lists: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Items present in every list (case and spacing ignored), in the first list's order."""
    common = set.intersection(*({_key(x) for x in lst} for lst in lists)) if lists else set()
    return tuple(x for x in lists[0] if _key(x) in common) if lists else ()


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(_key(item), item)
    return list(seen.values())


def _listing(policies: Sequence[Policy], attr: str, verb: str = "allows") -> str:
    parts = []
    for p in policies:
        values = getattr(p, attr)
        parts.append(f"{p.name} {verb} {', '.join(values) if values else 'nothing'}")
    return "; ".join(parts)


def _all_true(values: Iterable[bool | None]) -> bool | None:
    vals = list(values)
    if any(v is False for v in vals):
        return False
    return True if vals and all(v is True for v in vals) else None


def harmonize(policies: Sequence[Policy], name: str | None = None) -> Harmonization:
    """Combine policies into the most protective effective policy.

    Rules: purposes, consent scope and roles are intersected; retention is the shortest;
    minimum k and minimum l (per attribute) take the maximum, maximum risks and the records-at-
    risk share and threshold take the minimum; sharing and third-party hosting are allowed only if
    all sources allow them; encryption at rest is required if any source requires it; sensitivity
    weights take the maximum per attribute; the differential-privacy budget takes the smallest
    epsilon and the smallest delta (a source without ``dp_budget`` sets no limit).

    Parameters
    ----------
    policies : sequence of Policy
        One per source dataset (at least one).
    name : str, optional
        Name of the effective policy; default joins the source names with ``+``.
    """
    policies = list(policies)
    if not policies:
        raise ParameterError("policies", policies, "at least one policy to harmonize")
    names = tuple(p.name for p in policies)
    conflicts: list[Conflict] = []

    purposes = _intersect([p.purposes for p in policies])
    if not purposes:
        conflicts.append(
            Conflict(
                "no_common_purpose",
                f"No purpose is shared by all datasets ({_listing(policies, 'purposes')}), so the "
                "combination has no permitted use. Ask the stewards for a common purpose or do not "
                "combine these datasets.",
                names,
            )
        )
    consent = _intersect([p.consent_scope for p in policies])
    if not consent:
        conflicts.append(
            Conflict(
                "no_common_consent",
                "The people in these datasets did not consent to any common use "
                f"({_listing(policies, 'consent_scope', 'consent covers')}). The combination "
                "needs a new consent or a legal basis that does not rely on consent.",
                names,
            )
        )
    elif purposes and not _intersect([purposes, consent]):
        conflicts.append(
            Conflict(
                "purpose_outside_consent",
                f"The shared purposes ({', '.join(purposes)}) are not covered by the shared consent "
                f"scope ({', '.join(consent)}).",
                names,
            )
        )

    tiers = {}
    for view in VIEW_KINDS:
        roles = _intersect([p.access.roles_for(view) for p in policies])
        tiers[view] = roles
        if not roles:
            per = "; ".join(
                f"{p.name} allows {', '.join(p.access.roles_for(view)) or 'no role'}"
                for p in policies
            )
            what = _VIEW_WORDS[view]
            consequence = {
                "raw": "nobody may perform the join on the original records",
                "deidentified": "nobody may work with the combined records even after "
                "de-identification",
                "aggregate": "nobody may even see aggregate results",
            }[view]
            conflicts.append(
                Conflict(
                    f"no_role_{view}",
                    f"No role is allowed to see {what} of every dataset ({per}), so {consequence}.",
                    names,
                )
            )

    retention = min((p.retention for p in policies), key=lambda r: r.approx_days)

    # every registered privacy model combines its own policy values (most protective)
    docs = [p.thresholds.to_dict() for p in policies]
    combined: dict[str, Any] = {}
    for model in MODELS.values():
        key = model.policy_key
        values = [d[key] for d in docs if key and d.get(key) is not None]
        if values:
            combined[key] = model.combine_policy(values)
    thresholds = Thresholds.from_dict(combined)
    dp = combined.get("delta_presence")
    if dp is not None and dp["min"] > dp["max"]:
        conflicts.append(
            Conflict(
                "delta_presence_empty",
                f"The delta-presence ranges do not overlap (the narrowest is {dp['min']:g} to "
                f"{dp['max']:g}), so no release can satisfy every policy.",
                names,
            )
        )
    weights: dict[str, float] = {}
    for p in policies:
        for attr, w in p.sensitivity.items():
            weights[attr] = max(weights.get(attr, w), w)

    budgets = [p.dp_budget for p in policies if p.dp_budget is not None]
    dp_budget = None
    if budgets:  # most protective: the smallest epsilon and the smallest delta
        dp_budget = MappingProxyType(
            {
                "epsilon": min(float(b["epsilon"]) for b in budgets),
                "delta": min(float(b.get("delta", 0.0)) for b in budgets),
            }
        )

    encryption = [p.encryption_at_rest for p in policies]
    if len(policies) == 1 and name is None:
        return Harmonization(policy=policies[0], sources=names, conflicts=tuple(conflicts))
    effective = Policy(
        name=name or "+".join(names),
        description=f"Harmonized policy of {', '.join(names)} (most protective standard).",
        department=" + ".join(_unique(p.department for p in policies)),
        steward=" + ".join(_unique(p.steward for p in policies)),
        purposes=purposes,
        consent_scope=consent,
        legal_basis="; ".join(_unique(p.legal_basis for p in policies)),
        retention=retention,
        third_party_hosting=_all_true(p.third_party_hosting for p in policies),
        sharing_allowed=_all_true(p.sharing_allowed for p in policies),
        encryption_at_rest=True if any(e is True for e in encryption) else _all_true(encryption),
        access=AccessTiers(**tiers),
        sensitivity=MappingProxyType(weights),
        thresholds=thresholds,
        dp_budget=dp_budget,
    )
    return Harmonization(policy=effective, sources=names, conflicts=tuple(conflicts))
