"""The figures of a review, computed once from a bundle and rendered many ways.

A bundle holds the risk profile before and after de-identification (``risk_before`` /
``risk_after``) and, when a policy was given, the privacy gate's findings on the released table.
:func:`review_figures` reads every measure of both profiles into one list of :class:`Figure`
(before, after) and every policy threshold into a :class:`Check` whose measured value *is* the
figure of the measured side (after de-identification, else as assessed). The risk table, the gate
table and the verdict box of the report and the dashboard all render this one object, so they
cannot disagree.

The gate's own record of what it measured is kept in the bundle too. When it differs from the
figure (an old bundle, a gate run on another table, a hand edit), the check is reported as
*inconsistent* and fails the verdict: a review never silently picks one of two numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Figure",
    "Check",
    "ReviewFigures",
    "review_figures",
    "fmt",
    "label",
    "duration_words",
    "LABELS",
    "k_meaning",
    "at_risk_meaning",
    "headline_meanings",
    "NOT_COMPUTED",
]

#: What a table shows for a measure the bundle does not hold for that side.
NOT_COMPUTED = "not computed"

PASS, FAIL, REVIEW = "pass", "fail", "review"


#: The one label table for the raw keys a review shows (report, dashboard, notebooks): a key
#: missing here is shown with its underscores as spaces, never as ``records_compared``.
LABELS: dict[str, str] = {
    # transformation (the search's result)
    "found": "a transformation meeting every criterion was found",
    "strategy": "search strategy",
    "qis": "quasi-identifiers",
    "levels": "generalization level per attribute",
    "metric": "utility metric",
    "metric_reference": "metric defined in",
    "score": "score",
    "suppressed": "records suppressed",
    "classes": "equivalence classes",
    "min_class_size": "smallest class (k)",
    "transformations_checked": "transformations evaluated",
    "lattice_size": "transformations possible",
    "records": "records",
    "average_risk": "average re-identification risk",
    "highest_risk": "highest re-identification risk",
    "criteria": "privacy criteria",
    "sensitive": "sensitive attributes",
    "hierarchy_notes": "notes on the hierarchies",
    "elapsed_seconds": "time taken (seconds)",
    "parameters": "parameters",
    "hierarchies": "hierarchies",
    "models": "privacy models",
    # utility
    "records_original": "records before",
    "records_transformed": "records after",
    "records_suppressed": "records suppressed",
    "records_compared": "records compared",
    "mean_crosstab_difference": "mean difference of two-way tables",
    "mean_correlation_difference": "mean difference of correlations",
    "attributes": "distance per attribute",
    "distribution_distance": "distribution distance",
    "per_attribute": "per attribute",
    "notes": "notes",
    # linkage
    "released_records": "records released",
    "attacker_records": "records the attacker holds",
    "shared_qis": "attributes in common",
    "no_match": "share of released records with no match",
    "one_match": "share matched to exactly one person",
    "many_matches": "share matched to several people",
    "expected_reidentifications": "expected re-identifications",
    "expected_reidentification_rate": "expected re-identification rate",
    "correct_unique_matches": "correct unique matches",
    "precision": "precision (share of claimed matches that are right)",
    "recall": "recall (share of people re-identified)",
    # programme, DP, synthetic
    "population": "population",
    "privacy_unit": "privacy unit",
    "epsilon": "epsilon",
    "epsilon_spent": "epsilon spent",
    "remaining_epsilon": "epsilon remaining",
    "released_at": "released at",
    "release": "release",
    "kind": "kind",
    "dataset": "dataset",
    "median": "median",
    "min": "smallest",
    "max": "largest",
    "mean": "mean",
    "p05": "5th percentile",
    "p95": "95th percentile",
}


def label(key: Any) -> str:
    """The words for a raw key (:data:`LABELS`), else the key with spaces for underscores."""
    k = str(key)
    return LABELS.get(k) or k.replace("_", " ")


_ISO_DURATION = re.compile(
    r"P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_DURATION_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")


def duration_words(text: str) -> str | None:
    """An ISO 8601 duration in words ("P3Y" -> "3 years", "P1Y6M" -> "1 year 6 months"), or
    None when ``text`` is not one: a reviewer reads years, not ``P3Y``."""
    m = _ISO_DURATION.fullmatch(text.strip())
    if not m:
        return None
    parts = []
    for n, unit in zip(m.groups(), _DURATION_UNITS, strict=True):
        if n is None:
            continue
        value = float(n) if "." in n else int(n)
        parts.append(f"{value:g} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts) or None


def k_meaning(k: int | None, qis: Any) -> str:
    """One line saying what the smallest class size means for a person (plain words)."""
    names = list(qis or ())
    what = f"these {len(names)} attribute{'s' if len(names) != 1 else ''}"
    if names:
        what += f" ({', '.join(names)})"
    if k is None or k < 1:
        return "No records are released, so nobody can be singled out from them."
    if k == 1:
        return (
            f"k = 1: at least one person is alone in their group and can be singled out by "
            f"anyone who knows {what}."
        )
    return (
        f"k = {k:,}: everyone shares {what} with at least {k - 1:,} other "
        f"{'person' if k == 2 else 'people'}, so knowing them narrows a person down to no "
        f"fewer than {k:,} records (at most a 1 in {k:,} chance of picking the right one)."
    )


def at_risk_meaning(records_at_risk: int, records: int, threshold: float) -> str:
    """Records at risk in plain words: their group is small enough that 1 / size > threshold."""
    largest = math.ceil(1.0 / threshold) - 1 if threshold > 0 else 0
    share = records_at_risk / records if records else 0.0
    if largest < 1:
        return f"No group is small enough to exceed a risk threshold of {threshold:.0%}."
    return (
        f"{records_at_risk:,} of {records:,} people ({share:.1%}) are above the risk threshold "
        f"of {threshold:.0%}: they are in groups of {largest:,} or fewer, where a guess is "
        f"right with a probability above {threshold:.0%}."
    )


def headline_meanings(risk: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, one line in plain words) for the headline figures of one risk profile."""
    if not risk:
        return []
    out: list[tuple[str, str]] = []
    records = risk.get("records")
    k = risk.get("min_class_size")
    if isinstance(records, int) and (k is None or isinstance(k, int)):
        out.append(("smallest class (k)", k_meaning(k if records else None, risk.get("qis"))))
    uniques = risk.get("sample_uniques")
    if isinstance(uniques, int) and isinstance(records, int) and records:
        out.append(
            (
                "sample uniques",
                f"{uniques:,} of {records:,} records ({uniques / records:.1%}) are the only "
                "record with their combination of quasi-identifiers.",
            )
        )
    pros = risk.get("prosecutor") if isinstance(risk.get("prosecutor"), Mapping) else {}
    share, threshold = pros.get("records_at_risk"), pros.get("threshold")
    if _is_number(share) and _is_number(threshold) and isinstance(records, int):
        out.append(
            (
                "records at risk",
                at_risk_meaning(round(share * records), records, float(threshold)),
            )
        )
    highest = pros.get("highest")
    if _is_number(highest):
        out.append(
            (
                "highest prosecutor risk",
                f"An attacker who knows a person is in the data and knows their quasi-identifiers "
                f"picks the right record with a probability of up to {highest:.0%}.",
            )
        )
    exp = _get(risk, ("global_risk", "expected_reidentifications"))
    if _is_number(exp):
        out.append(
            (
                "expected re-identifications",
                f"Matching every record to a person, an attacker would be right about {exp:,.0f} "
                "times on average.",
            )
        )
    return out


def fmt(v: Any) -> str:
    """The one way a figure is written (risk table, gate table, verdict box, dashboard)."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if 0 < abs(v) < 1:
            return f"{v:.4f}"
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Mapping):
        return ", ".join(f"{label(k)}: {fmt(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(fmt(x) for x in v)
    if isinstance(v, str):
        return duration_words(v) or v
    return str(v)


@dataclass(frozen=True)
class Figure:
    """One measure before and after de-identification.

    ``key`` is the path of the value in the ``RiskProfile.to_dict()`` document, e.g.
    ``("l_diversity", "diagnosis", "distinct")``. ``has_before``/``has_after`` say whether the
    bundle holds the measure for that side at all (``None`` with ``has_* = True`` means it was
    computed and is undefined, e.g. a population model that does not fit).
    """

    key: tuple[str, ...]
    label: str
    before: Any = None
    after: Any = None
    has_before: bool = False
    has_after: bool = False
    why_before: str | None = None
    why_after: str | None = None

    def cell(self, side: str) -> str:
        """The table cell for ``side`` ("before" or "after"); an estimator that was computed
        but is unavailable says why (the reason its result records)."""
        if not getattr(self, f"has_{side}"):
            return NOT_COMPUTED
        value, why = getattr(self, side), getattr(self, f"why_{side}")
        if value is None and why:
            return f"unavailable: {why}"
        return fmt(value)


@dataclass(frozen=True)
class Check:
    """One policy threshold: what it requires, what was measured, pass or fail, in plain words.

    ``measured`` is the figure of the measured side (``key``) when the rule reads a risk measure;
    ``gate_measured`` is what the gate recorded. ``consistent`` is False when they differ.
    """

    rule: str
    label: str
    required: Any
    measured: Any
    status: str
    sentence: str
    key: tuple[str, ...] | None = None
    gate_measured: Any = None
    consistent: bool = True

    @property
    def passed(self) -> bool:
        return self.status == PASS and self.consistent

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "required": self.required,
            "measured": self.measured,
            "status": self.status if self.consistent else "inconsistent",
            "sentence": self.sentence,
            "key": list(self.key) if self.key else None,
            "gate_measured": self.gate_measured,
            "consistent": self.consistent,
        }


@dataclass(frozen=True)
class ReviewFigures:
    """Every figure of a bundle and every policy check, computed once.

    ``side`` is the side the policy is checked on: ``"after"`` when the bundle has a risk
    profile after de-identification, else ``"before"`` (an assessment without transformation).
    ``policy`` names the policy in force; ``checks`` is empty when the bundle has no gate.
    """

    figures: tuple[Figure, ...]
    checks: tuple[Check, ...]
    side: str
    has_after: bool
    policy: str | None = None
    strict: bool = False

    def figure(self, *key: str) -> Figure:
        for f in self.figures:
            if f.key == tuple(key):
                return f
        raise KeyError(key)

    def value(self, *key: str) -> Any:
        """The measured-side value of a figure (what the policy is checked against)."""
        return getattr(self.figure(*key), self.side)

    @property
    def passed(self) -> bool | None:
        """True if every check passed and agrees with the figures; None without a policy."""
        if not self.checks:
            return None
        return all(
            c.passed or (c.status == REVIEW and c.consistent and not self.strict)
            for c in self.checks
        )

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == FAIL or not c.consistent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "policy": self.policy,
            "passed": self.passed,
            "figures": [
                {
                    "key": list(f.key),
                    "label": f.label,
                    "before": f.before if f.has_before else NOT_COMPUTED,
                    "after": f.after if f.has_after else NOT_COMPUTED,
                }
                for f in self.figures
            ],
            "checks": [c.to_dict() for c in self.checks],
        }


# ------------------------------------------------------------------------------------ figures
_MISSING = object()


def _get(doc: Mapping[str, Any] | None, key: Sequence[str]) -> Any:
    cur: Any = doc
    for k in key:
        if not isinstance(cur, Mapping) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def _specs(docs: Sequence[Mapping[str, Any]]) -> list[tuple[tuple[str, ...], str]]:
    """(key, label) of every measure either profile holds, in the order a reviewer reads them."""

    def any_has(*key: str) -> bool:
        return any(_get(d, key) is not _MISSING for d in docs)

    specs: list[tuple[tuple[str, ...], str]] = [
        (("records",), "records"),
        (("classes",), "equivalence classes"),
        (("min_class_size",), "smallest class (k)"),
        (("max_class_size",), "largest class"),
        (("sample_uniques",), "sample uniques (records alone in their class)"),
        (("sample_uniqueness",), "sample uniqueness (share of records)"),
        (("prosecutor", "threshold"), "risk threshold (a record above it is at risk)"),
        (("prosecutor", "highest"), "highest prosecutor risk"),
        (("prosecutor", "average"), "average prosecutor risk"),
        (("prosecutor", "records_at_risk"), "prosecutor: share of records at risk"),
        (("journalist", "highest"), "highest journalist risk"),
        (("journalist", "average"), "average journalist risk"),
        (("journalist", "records_at_risk"), "journalist: share of records at risk"),
        (("marketer",), "marketer risk"),
        (("global_risk", "expected_reidentifications"), "expected re-identifications"),
    ]
    if any(isinstance(_get(d, ("household_risk",)), Mapping) for d in docs):
        specs += [
            (("household_risk", "expected_reidentifications"), "household: expected re-ids"),
            (("household_risk", "highest"), "household: highest risk"),
        ]
    if any(_get(d, ("population", "size")) not in (None, _MISSING) for d in docs):
        specs += [
            (("population", "size"), "population size"),
            (("population", "pitman"), "estimated population uniques (Pitman)"),
            (("population", "zayatz"), "estimated population uniques (Zayatz)"),
            (("population", "snb"), "estimated population uniques (SNB)"),
            (("population", "dankar", "uniques"), "estimated population uniques (Dankar choice)"),
        ]
    attrs: dict[str, None] = {}
    for d in docs:
        for block in ("l_diversity", "t_closeness", "delta_disclosure", "beta_likeness"):
            found = _get(d, (block,))
            if isinstance(found, Mapping):
                attrs.update(dict.fromkeys(str(s) for s in found))
    for s in attrs:
        specs += [
            (("l_diversity", s, "distinct"), f"{s}: distinct l"),
            (("l_diversity", s, "entropy"), f"{s}: entropy l"),
            (("l_diversity", s, "recursive_c"), f"{s}: recursive (c,l), smallest c"),
            (("t_closeness", s), f"{s}: t-closeness (t)"),
            (("delta_disclosure", s), f"{s}: delta-disclosure (delta)"),
            (("beta_likeness", s), f"{s}: beta-likeness (beta)"),
        ]
    if any_has("suda"):
        specs += [
            (("suda", "msus"), "SUDA: minimal sample uniques"),
            (("suda", "records_with_msu"), "SUDA: records with an MSU"),
            (("suda", "score_max"), "SUDA: highest score"),
            (("suda", "dis_score_max"), "DIS-SUDA: highest score"),
            (("suda", "dis_score_mean"), "DIS-SUDA: mean score"),
        ]
    return specs


def _figures(before: Mapping | None, after: Mapping | None) -> tuple[Figure, ...]:
    docs = [d for d in (before, after) if d]
    out = []
    for key, name in _specs(docs):
        b, a = _get(before, key), _get(after, key)
        if isinstance(b, Mapping) or isinstance(a, Mapping):
            continue  # a block, not a number (malformed bundle): never shown as a figure
        out.append(
            Figure(
                key,
                name,
                None if b is _MISSING else b,
                None if a is _MISSING else a,
                b is not _MISSING,
                a is not _MISSING,
                _why(before, key),
                _why(after, key),
            )
        )
    return tuple(out)


def _why(doc: Mapping | None, key: tuple[str, ...]) -> str | None:
    """The recorded reason a population estimator is unavailable (``population.notes``)."""
    if len(key) < 2 or key[0] != "population":
        return None
    note = _get(doc, ("population", "notes", key[1]))
    return str(note) if isinstance(note, str) and note else None


# ------------------------------------------------------------------------------------- checks
def _rule_key(rule: str) -> tuple[str, ...] | None:
    fixed = {
        "min_k": ("min_class_size",),
        "max_average_risk": ("prosecutor", "average"),
        "max_highest_risk": ("prosecutor", "highest"),
        "max_records_at_risk": ("prosecutor", "records_at_risk"),
    }
    if rule in fixed:
        return fixed[rule]
    if rule.startswith("min_l[") and rule.endswith("]"):
        return ("l_diversity", rule[6:-1], "distinct")
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal figures; the gate stores risks rounded to 6 decimals."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=5.1e-7)
    return a == b


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _verb(status: str) -> str:
    return {PASS: "PASS", FAIL: "FAIL"}.get(status, "REVIEW")


def _others(m: int) -> str:
    return "nobody else" if m <= 1 else ("1 other" if m == 2 else f"{m - 1:,} others")


def _pct(x: Any) -> str:
    return f"{100 * float(x):.2f} %" if isinstance(x, int | float) else fmt(x)


def _sentence(rule: str, status: str, required: Any, m: Any, message: str) -> tuple[str, str]:
    """(label, plain-words sentence) of one check."""
    v = _verb(status)
    ok = status == PASS
    if not _is_number(m) or status == REVIEW:
        return rule, f"{rule}: {v} — {message}"
    if rule == "min_k":
        what = (
            f"everyone shares their combination of quasi-identifiers with at least {_others(m)}"
            if ok and m > 1
            else "the policy accepts people who are unique on their quasi-identifiers"
            if ok
            else f"at least one person shares their combination of quasi-identifiers with only "
            f"{_others(m)}"
            if m > 1
            else "at least one person is unique on their quasi-identifiers (shares the "
            "combination with nobody else)"
        )
        return "k-anonymity", f"k = {fmt(required)} required, {fmt(m)} measured: {v} — {what}"
    if rule == "max_average_risk":
        return "average re-identification risk", (
            f"average risk at most {fmt(required)} allowed, {fmt(m)} measured: {v} — on average "
            f"a record can be re-identified with probability {fmt(m)}"
        )
    if rule == "max_highest_risk":
        odds = f" (1 in {1 / m:,.0f})" if isinstance(m, int | float) and m > 0 else ""
        return "highest re-identification risk", (
            f"highest risk at most {fmt(required)} allowed, {fmt(m)} measured: {v} — the most "
            f"exposed person can be picked out with probability {fmt(m)}{odds}"
        )
    if rule == "max_records_at_risk":
        share = required.get("share") if isinstance(required, Mapping) else required
        thr = required.get("threshold") if isinstance(required, Mapping) else None
        return "records at risk", (
            f"at most {_pct(share)} of records may have a risk above {fmt(thr)}, {_pct(m)} "
            f"measured: {v} — {_pct(m)} of the records can be re-identified with probability "
            f"above {fmt(thr)}"
        )
    if rule.startswith("min_l["):
        col = rule[6:-1]
        what = (
            f"every group of people with the same quasi-identifiers holds at least {fmt(m)} "
            f"different values of {col}"
            if ok
            else f"in at least one group of people with the same quasi-identifiers only one value "
            f"of {col} occurs: whoever knows a person is in that group learns their {col}"
            if m == 1
            else f"in at least one group of people with the same quasi-identifiers only {fmt(m)} "
            f"different values of {col} occur, narrowing a person's {col} down to {fmt(m)}"
        )
        return f"l-diversity of {col}", (
            f"l = {fmt(required)} distinct values of {col} required in every group, {fmt(m)} "
            f"measured: {v} — {what}"
        )
    return rule, f"{rule}: {v} — {message}"


def _checks(gate: Mapping[str, Any], measured: Mapping[str, Any] | None) -> list[Check]:
    out: list[Check] = []
    records = _get(measured, ("records",))
    g_records = gate.get("records")
    if measured and g_records is not None and records is not _MISSING and records != g_records:
        out.append(
            Check(
                "records",
                "records checked",
                None,
                records,
                FAIL,
                f"records checked: INCONSISTENT — the privacy gate checked {fmt(g_records)} "
                f"records but the risk figures describe {fmt(records)}; rebuild the bundle "
                "from the data before deciding",
                ("records",),
                g_records,
                False,
            )
        )
    for f in gate.get("findings") or []:
        if not isinstance(f, Mapping):
            continue
        rule = str(f.get("rule"))
        status = str(f.get("status"))
        limit, g_measured = f.get("limit"), f.get("measured")
        key = _rule_key(rule)
        value: Any = g_measured
        consistent = True
        if key is not None:
            fig = _get(measured, key)
            value = None if fig is _MISSING else fig
            # a figure that is not a number (a hand-edited bundle) is never judged as one
            consistent = _same(g_measured, value) and (value is None or _is_number(value))
            if rule == "max_records_at_risk" and isinstance(limit, Mapping):
                thr = _get(measured, ("prosecutor", "threshold"))
                consistent = consistent and _same(
                    limit.get("threshold"), None if thr is _MISSING else thr
                )
        label, sentence = _sentence(rule, status, limit, value, str(f.get("message") or ""))
        if not consistent:
            sentence = (
                f"{label}: INCONSISTENT — the privacy gate recorded {fmt(g_measured)} but the "
                f"risk figures show {fmt(value)}; rebuild the bundle from the data before deciding"
            )
        out.append(Check(rule, label, limit, value, status, sentence, key, g_measured, consistent))
    return out


def review_figures(bundle: Any) -> ReviewFigures:
    """Every figure and policy check of ``bundle`` (an AssessmentBundle or its dictionary)."""
    get = bundle.get if isinstance(bundle, Mapping) else lambda k: getattr(bundle, k, None)
    before, after = get("risk_before"), get("risk_after")
    before = before if isinstance(before, Mapping) else None
    after = after if isinstance(after, Mapping) else None
    side = "after" if after else "before"
    gate = get("gate")
    checks: list[Check] = []
    if isinstance(gate, Mapping):
        checks = _checks(gate, after if after else before)
    return ReviewFigures(
        figures=_figures(before, after),
        checks=tuple(checks),
        side=side,
        has_after=bool(after),
        policy=str(gate.get("policy"))
        if isinstance(gate, Mapping) and gate.get("policy")
        else None,
        strict=bool(gate.get("strict")) if isinstance(gate, Mapping) else False,
    )
