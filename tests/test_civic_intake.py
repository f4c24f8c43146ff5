"""Intake review: questions without a mission reason, questions recording sensitive status."""

from __future__ import annotations

import json

import pytest
import yaml

from tests._helpers_governance import CITY
from workbench.cli import main
from workbench.errors import ConfigError
from workbench.governance.intake import (
    DONT_COLLECT,
    DONT_RECORD,
    review_intake,
    sensitive_categories,
)

FORM = CITY / "forms" / "rental_assistance_intake.yaml"


def _form(*questions, purposes=("eligibility",)):
    return {"name": "f", "purposes": list(purposes), "questions": list(questions)}


def _advice(review):
    return {(f.question, f.rule): f.advice for f in review.findings}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ({"id": "q", "text": "Household size", "purpose": "eligibility"}, {}),
        ({"id": "q", "text": "Household size", "purpose": " ELIGIBILITY "}, {}),
        ({"id": "q", "text": "Household size"}, {("q", "no_mission_reason"): DONT_COLLECT}),
        (
            {"id": "q", "text": "Household size", "purpose": "newsletter"},
            {("q", "no_mission_reason"): DONT_COLLECT},
        ),
        (
            {"id": "q", "text": "Your visa type?", "purpose": "eligibility"},
            {("q", "sensitive_status"): DONT_RECORD},
        ),
        (
            {"id": "q", "text": "Your visa type?"},
            {("q", "no_mission_reason"): DONT_COLLECT, ("q", "sensitive_status"): DONT_COLLECT},
        ),
        # recording only the outcome settles a sensitive question with a mission reason ...
        (
            {
                "id": "q",
                "text": "Any disability?",
                "purpose": "eligibility",
                "record": "outcome only",
            },
            {},
        ),
        # ... but not one without
        (
            {"id": "q", "text": "Any disability?", "record": "outcome only"},
            {("q", "no_mission_reason"): DONT_COLLECT, ("q", "sensitive_status"): DONT_COLLECT},
        ),
        # a declared category counts even when no keyword reveals it
        (
            {"id": "q", "text": "Document type", "purpose": "eligibility", "sensitive": "status"},
            {("q", "sensitive_status"): DONT_RECORD},
        ),
        # the id reveals it too (underscores are spaces)
        (
            {"id": "immigration_status", "text": "Status", "purpose": "eligibility"},
            {("immigration_status", "sensitive_status"): DONT_RECORD},
        ),
    ],
)
def test_rules_and_advice(question, expected):
    assert _advice(review_intake(_form(question))) == expected


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("Are you a citizen?", ("immigration or citizenship status",)),
        ("Citizenship", ("immigration or citizenship status",)),
        ("Which benefits do you receive?", ("benefits",)),
        ("Any chronic illness?", ("health",)),
        ("Have you been arrested?", ("criminal record",)),
        ("Number of bedrooms", ()),
        ("Preferred contact time", ()),
        ("Lunch preference (nonsnap)", ()),  # a stem matches at the start of a word only
        ("Snapshot date", ("benefits",)),  # ... so 'snap' flags 'snapshot': detection fails closed
    ],
)
def test_keyword_detection(text, categories):
    assert sensitive_categories(text) == categories


@pytest.mark.parametrize(
    "doc",
    [
        {"name": "f", "purposes": ["a"], "questions": []},
        {"name": "f", "purposes": "a", "questions": [{"id": "q", "text": "t"}]},
        {"name": "f", "purposes": ["a"], "questions": [{"id": "q", "text": "t", "why": "x"}]},
        {"name": "f", "purposes": ["a"], "questions": [{"id": "q", "text": ""}]},
        {
            "name": "f",
            "purposes": ["a"],
            "questions": [{"id": "q", "text": "t", "record": "maybe"}],
        },
        {"name": "f", "purposes": ["a"], "questions": [{"id": "q", "text": "t"}] * 2},
        {"name": "f", "purposes": ["a"], "questions": ["q"], "extra": 1},
    ],
)
def test_malformed_forms_are_refused(doc):
    with pytest.raises(ConfigError):
        review_intake(doc)


def test_too_many_questions_or_bytes(tmp_path):
    qs = [{"id": f"q{i}", "text": "t", "purpose": "a"} for i in range(1001)]
    with pytest.raises(ConfigError, match="at most 1000"):
        review_intake({"name": "f", "purposes": ["a"], "questions": qs})
    assert review_intake({"name": "f", "purposes": ["a"], "questions": qs[:1000]}).passed
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 300_000 + "\nname: f\n")
    with pytest.raises(ConfigError, match="at most"):
        review_intake(big)


def test_shipped_city_form(capsys):
    review = review_intake(FORM)
    assert _advice(review) == {
        ("citizenship", "no_mission_reason"): DONT_COLLECT,
        ("citizenship", "sensitive_status"): DONT_COLLECT,
        ("benefits", "sensitive_status"): DONT_RECORD,
        ("marketing", "no_mission_reason"): DONT_COLLECT,
    }
    assert main(["intake-review", str(FORM), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["questions"] == 10 and not doc["passed"]
    assert main(["intake-review", str(FORM)]) == 1
    assert "DON'T RECORD  benefits" in capsys.readouterr().out


def test_cli_clean_form_and_bad_form(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_form({"id": "q", "text": "Rooms", "purpose": "eligibility"})))
    assert main(["intake-review", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert main(["intake-review", str(bad)]) == 2
    assert main(["intake-review", str(tmp_path / "none.yaml")]) == 2
