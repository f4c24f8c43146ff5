"""Intake review: the questions a form should not ask, or should ask without recording the answer.

Why: the safest data about immigration status, health or benefits is data the city never holds.
A form or questionnaire is described as a list of questions, each with the purpose (mission
reason) it serves::

    name: Emergency rental assistance
    purposes: [housing assistance eligibility]
    questions:
      - id: income
        text: Household income in the last 12 months
        purpose: housing assistance eligibility
      - id: status
        text: What is your immigration status?
        purpose: housing assistance eligibility
        record: outcome only

Two rules, one finding each:

``no_mission_reason``
    The question names no purpose, or one that is not among the form's purposes: **don't
    collect**.
``sensitive_status``
    The question records a sensitive status (its declared ``sensitive:`` category, or a keyword of
    :data:`SENSITIVE_STATUS` in its id or text -- detection fails closed: a keyword cannot be
    waived). With a mission reason the advice is **don't record** (check eligibility, keep only the
    outcome, and mark the question ``record: outcome only``, which passes); without one it is
    **don't collect**.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .minimize import normalize_purpose, read_yaml_bounded

__all__ = [
    "SENSITIVE_STATUS",
    "DONT_COLLECT",
    "DONT_RECORD",
    "IntakeFinding",
    "IntakeReview",
    "review_intake",
    "sensitive_categories",
]

DONT_COLLECT, DONT_RECORD = "don't collect", "don't record"
OUTCOME_ONLY = "outcome only"
MAX_QUESTIONS = 1000
MAX_FORM_BYTES = 256 * 1024

#: Sensitive statuses and the word stems that reveal a question records one (matched at the start
#: of a word, case-insensitively).
SENSITIVE_STATUS: Mapping[str, tuple[str, ...]] = {
    "immigration or citizenship status": (
        "immigra", "citizen", "visa", "undocumented", "asylum", "refugee", "green card",
        "residency status", "legal status", "nationality", "passport", "country of birth",
        "social security number", "ssn",
    ),
    "health": (
        "health", "diagnos", "illness", "disease", "disab", "medical", "medication",
        "pregnan", "hiv", "mental", "psychiatr", "substance use", "addiction",
    ),
    "benefits": (
        "benefit", "welfare", "food stamp", "snap", "medicaid", "public assistance",
        "unemployment insurance", "tanf",
    ),
    "criminal record": ("arrest", "convict", "criminal", "incarcerat", "probation", "parole"),
    "sexual orientation or gender identity": ("sexual orientation", "gender identity", "transgender"),
    "religion": ("religio", "faith"),
}  # fmt: skip

_PATTERNS = {
    cat: re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)
    for cat, words in SENSITIVE_STATUS.items()
}


def sensitive_categories(text: str) -> tuple[str, ...]:
    """The sensitive statuses whose keywords occur in ``text`` (``_`` counts as a space).

    >>> sensitive_categories("What is your immigration_status?")
    ('immigration or citizenship status',)
    >>> sensitive_categories("Number of people in the household")
    ()
    """
    flat = str(text).replace("_", " ")
    return tuple(cat for cat, pat in _PATTERNS.items() if pat.search(flat))


@dataclass(frozen=True)
class IntakeFinding:
    """One question flagged by one rule, with the advice."""

    question: str
    rule: str
    advice: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "question": self.question,
            "rule": self.rule,
            "advice": self.advice,
            "message": self.message,
        }


@dataclass(frozen=True)
class IntakeReview:
    """Every finding for one form."""

    form: str
    purposes: tuple[str, ...]
    questions: int
    findings: tuple[IntakeFinding, ...]

    @property
    def passed(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "purposes": list(self.purposes),
            "questions": self.questions,
            "passed": self.passed,
            "findings": [f.to_dict() for f in self.findings],
        }


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}: expected a non-empty text")
    return value


def review_intake(form: Mapping[str, Any] | str | os.PathLike) -> IntakeReview:
    """Review a form (a mapping or a YAML file) question by question."""
    source = "form"
    if not isinstance(form, Mapping):
        source = str(form)
        form = read_yaml_bounded(form, "intake form", MAX_FORM_BYTES)
        if not isinstance(form, Mapping):
            raise ConfigError(f"{source}: expected a mapping with name, purposes and questions")
    unknown = set(form) - {"name", "department", "description", "purposes", "questions"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; expected name, "
            "department, description, purposes, questions"
        )
    name = _text(form.get("name"), f"{source}: name")
    purposes = form.get("purposes")
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        raise ConfigError(f"{source}: purposes must be a list of the programme's purposes")
    allowed = {normalize_purpose(p) for p in purposes}
    questions = form.get("questions")
    if not isinstance(questions, list) or not questions:
        raise ConfigError(f"{source}: questions must be a non-empty list")
    if len(questions) > MAX_QUESTIONS:
        raise ConfigError(f"{source}: at most {MAX_QUESTIONS} questions (has {len(questions)})")
    findings: list[IntakeFinding] = []
    seen: set[str] = set()
    for i, q in enumerate(questions):
        where = f"{source}: questions[{i}]"
        if not isinstance(q, Mapping):
            raise ConfigError(f"{where}: expected a mapping with id, text and purpose")
        extra = set(q) - {"id", "text", "purpose", "sensitive", "record"}
        if extra:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}; expected id, "
                "text, purpose, sensitive, record"
            )
        qid = _text(q.get("id"), f"{where}.id")
        if qid in seen:
            raise ConfigError(f"{where}.id: question id {qid!r} is used twice")
        seen.add(qid)
        text = _text(q.get("text"), f"{where}.text")
        purpose = _text(q.get("purpose"), f"{where}.purpose", required=False).strip()
        declared = _text(q.get("sensitive"), f"{where}.sensitive", required=False).strip()
        record = _text(q.get("record"), f"{where}.record", required=False).strip()
        if record and normalize_purpose(record) not in {OUTCOME_ONLY, "answer"}:
            raise ConfigError(f"{where}.record: expected 'answer' or '{OUTCOME_ONLY}'")
        has_reason = bool(purpose) and normalize_purpose(purpose) in allowed
        if not has_reason:
            findings.append(
                IntakeFinding(
                    qid,
                    "no_mission_reason",
                    DONT_COLLECT,
                    (
                        "names no purpose"
                        if not purpose
                        else f"serves {purpose!r}, which is not a purpose of this programme"
                    )
                    + ": don't collect it.",
                )
            )
        cats = tuple(dict.fromkeys([*([declared] if declared else []), *sensitive_categories(
            f"{qid} {text}"
        )]))  # fmt: skip
        outcome_only = normalize_purpose(record) == OUTCOME_ONLY
        if cats and not (has_reason and outcome_only):
            advice = DONT_RECORD if has_reason else DONT_COLLECT
            findings.append(
                IntakeFinding(
                    qid,
                    "sensitive_status",
                    advice,
                    f"records {', '.join(cats)}: "
                    + (
                        "check what the programme needs and keep only the outcome (mark the "
                        f"question 'record: {OUTCOME_ONLY}'); don't record the answer."
                        if has_reason
                        else "no purpose of this programme needs it; don't collect it."
                    ),
                )
            )
    return IntakeReview(name, tuple(purposes), len(questions), tuple(findings))
