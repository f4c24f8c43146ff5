"""Harmonization: each rule of "the most protective standard at the intersection", and conflicts."""

from __future__ import annotations

import dataclasses
import json

import pytest
from _helpers_governance import POLICIES, policy_doc
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError
from workbench.governance import Policy, harmonize


def P(**changes) -> Policy:  # short factory name reads well in tables
    return Policy.from_dict(policy_doc(**changes))


def city(name: str) -> Policy:
    return Policy.load(POLICIES / f"{name}.yaml")


def test_purposes_and_consent_are_intersected_case_insensitively():
    a = P(
        name="a",
        purposes=["Treatment", "research", "billing"],
        consent_scope=["treatment", "research"],
    )
    b = P(name="b", purposes=["research", "treatment "], consent_scope=["RESEARCH"])
    h = harmonize([a, b])
    assert h.policy.purposes == ("Treatment", "research")
    assert h.policy.consent_scope == ("research",)
    assert h.permissible


def test_retention_is_the_shortest_across_formats():
    h = harmonize(
        [P(name="a", retention="P2Y"), P(name="b", retention=500), P(name="c", retention="P18M")]
    )
    assert h.policy.retention.text == 500
    h = harmonize([P(name="a", retention="P2Y"), P(name="b", retention="P18M")])
    assert h.policy.retention.text == "P18M"


def test_thresholds_take_the_strictest_of_each():
    a = P(
        name="a",
        thresholds={
            "min_k": 5,
            "max_average_risk": 0.1,
            "max_highest_risk": 0.2,
            "min_l": {"diagnosis": 2, "income": 3},
            "max_records_at_risk": {"share": 0.05, "threshold": 0.3},
        },
    )
    b = P(
        name="b",
        thresholds={
            "min_k": 10,
            "max_average_risk": 0.2,
            "max_highest_risk": 0.1,
            "min_l": {"diagnosis": 4, "benefit": 2},
            "max_records_at_risk": {"share": 0.1, "threshold": 0.2},
        },
    )
    t = harmonize([a, b]).policy.thresholds
    assert t.min_k == 10
    assert t.max_average_risk == 0.1
    assert t.max_highest_risk == 0.1
    assert dict(t.min_l) == {"diagnosis": 4, "income": 3, "benefit": 2}
    assert (t.max_records_at_risk.share, t.max_records_at_risk.threshold) == (0.05, 0.2)


def test_thresholds_missing_in_one_policy_keep_the_other():
    a = P(name="a", thresholds={"min_k": 3})
    b = P(name="b", thresholds={"max_highest_risk": 0.25})
    t = harmonize([a, b]).policy.thresholds
    assert (t.min_k, t.max_highest_risk, t.max_average_risk, t.max_records_at_risk) == (
        3,
        0.25,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [((True, True), True), ((True, False), False), ((False, False), False), ((True, None), None)],
)
def test_sharing_and_hosting_allowed_only_if_all_allow(values, expected):
    docs = [
        policy_doc(name=f"p{i}", sharing_allowed=v, third_party_hosting=v)
        for i, v in enumerate(values)
    ]
    ps = [Policy.from_dict({k: v for k, v in d.items() if v is not None}) for d in docs]
    h = harmonize(ps)
    assert h.policy.sharing_allowed is expected
    assert h.policy.third_party_hosting is expected


@pytest.mark.parametrize(
    ("values", "expected"), [((False, True), True), ((False, False), False), ((True, True), True)]
)
def test_encryption_required_if_any_requires(values, expected):
    ps = [P(name=f"p{i}", encryption_at_rest=v) for i, v in enumerate(values)]
    assert harmonize(ps).policy.encryption_at_rest is expected


def test_roles_are_intersected_per_view():
    a = P(
        name="a",
        access={
            "raw": ["steward", "analyst"],
            "deidentified": ["analyst", "steward"],
            "aggregate": ["reviewer", "analyst"],
        },
    )
    b = P(
        name="b",
        access={
            "raw": ["analyst"],
            "deidentified": ["steward"],
            "aggregate": ["analyst", "reviewer", "auditor"],
        },
    )
    acc = harmonize([a, b]).policy.access
    assert acc.raw == ("analyst",)
    assert acc.deidentified == ("steward",)
    assert acc.aggregate == ("reviewer", "analyst")


def test_sensitivity_weights_take_the_maximum():
    a = P(name="a", sensitivity={"diagnosis": 0.7, "age": 0.5})
    b = P(name="b", sensitivity={"diagnosis": 1.0, "income": 0.4})
    assert dict(harmonize([a, b]).policy.sensitivity) == {
        "diagnosis": 1.0,
        "age": 0.5,
        "income": 0.4,
    }


def test_no_common_purpose_on_city_transit_and_clinic():
    h = harmonize([city("transit"), city("clinic")])
    rules = [c.rule for c in h.conflicts]
    assert "no_common_purpose" in rules and "no_common_consent" in rules
    assert not h.permissible
    msg = next(c for c in h.conflicts if c.rule == "no_common_purpose").message
    assert "transit allows fare concession administration" in msg
    assert "clinic allows treatment" in msg


def test_city_pairs_that_share_a_purpose_are_permissible():
    h = harmonize([city("clinic"), city("housing")])
    assert h.permissible, h.conflicts
    assert h.policy.purposes == ("public health research",)
    assert h.policy.name == "clinic+housing"
    assert h.policy.department == "Health + Housing"
    assert h.policy.retention.text == "P3Y"
    assert harmonize([city("housing"), city("transit")]).policy.purposes == ("service planning",)


def test_no_common_consent_scope():
    a = P(name="a", purposes=["research"], consent_scope=["treatment"])
    b = P(name="b", purposes=["research"], consent_scope=["research"])
    assert [c.rule for c in harmonize([a, b]).conflicts] == ["no_common_consent"]


def test_shared_purpose_not_covered_by_shared_consent():
    a = P(name="a", purposes=["research"], consent_scope=["treatment", "billing"])
    b = P(name="b", purposes=["research"], consent_scope=["treatment"])
    h = harmonize([a, b])
    assert [c.rule for c in h.conflicts] == ["purpose_outside_consent"]


@pytest.mark.parametrize("view", ["raw", "deidentified", "aggregate"])
def test_no_role_for_a_view_is_a_conflict(view):
    base = {"raw": ["steward"], "deidentified": ["steward"], "aggregate": ["steward"]}
    other = {**base, view: ["caseworker"]}
    h = harmonize([P(name="a", access=base), P(name="b", access=other)])
    assert [c.rule for c in h.conflicts] == [f"no_role_{view}"]
    assert "b allows caseworker" in h.conflicts[0].message


def test_every_conflict_is_reported_together():
    a = P(
        name="a",
        purposes=["x"],
        consent_scope=["x"],
        access={"raw": ["s"], "deidentified": ["s"], "aggregate": ["s"]},
    )
    b = P(
        name="b",
        purposes=["y"],
        consent_scope=["y"],
        access={"raw": ["t"], "deidentified": ["s"], "aggregate": ["s"]},
    )
    rules = [c.rule for c in harmonize([a, b]).conflicts]
    assert rules == ["no_common_purpose", "no_common_consent", "no_role_raw"]


def test_results_are_frozen_and_serialisable():
    h = harmonize([city("clinic"), city("transit")])
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.sources = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.conflicts[0].message = ""  # type: ignore[misc]
    d = json.loads(json.dumps(h.to_dict()))
    assert d["permissible"] is False and d["sources"] == ["clinic", "transit"]
    # the effective policy is itself a valid policy document
    assert Policy.from_dict(d["policy"]) == h.policy


def test_single_policy_is_its_own_effective_policy():
    p = city("clinic")
    h = harmonize([p])
    assert h.policy is p and h.permissible


def test_empty_input_is_rejected():
    with pytest.raises(ParameterError, match="policies"):
        harmonize([])


_thresholds = st.fixed_dictionaries(
    {},
    optional={
        "min_k": st.integers(1, 50),
        "max_average_risk": st.floats(0, 1),
        "max_highest_risk": st.floats(0, 1),
        "min_l": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(1, 6), max_size=3),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_thresholds, min_size=1, max_size=4))
def test_harmonized_thresholds_match_obvious_reference(ths):
    policies = [P(name=f"p{i}", thresholds=t) for i, t in enumerate(ths)]
    got = harmonize(policies).policy.thresholds

    def pick(key, fn):
        vals = [t[key] for t in ths if key in t]
        return fn(vals) if vals else None

    assert got.min_k == pick("min_k", max)
    assert got.max_average_risk == pick("max_average_risk", min)
    assert got.max_highest_risk == pick("max_highest_risk", min)
    ref_l: dict[str, int] = {}
    for t in ths:
        for a, v in t.get("min_l", {}).items():
            ref_l[a] = max(ref_l.get(a, 0), v)
    assert dict(got.min_l) == ref_l
    # order of the sources does not matter
    assert harmonize(policies[::-1]).policy.thresholds.to_dict() == got.to_dict()
