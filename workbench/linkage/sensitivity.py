"""Harm weights: how much damage exposing an attribute does, by category.

Special categories of data (GDPR art. 9 and 10: health, genetic, sexual life, religion, ethnic
origin, criminal records) and data that exposes people to discrimination or fraud (immigration
status, income, benefits) weigh more. Weights are configurable; a catalog can name the category
of a column explicitly with ``metadata: {sensitivity: {column: category}}``, otherwise the
category is recognised from the column name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError
from .forms import _tokens

__all__ = ["DEFAULT_HARM_WEIGHTS", "Exposure", "harm_category", "harm_weights"]

#: Default weight per harm category, in [0, 1].
DEFAULT_HARM_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "health": 1.0,
        "genetic": 1.0,
        "criminal": 1.0,
        "immigration": 1.0,
        "sexual_life": 1.0,
        "religion": 0.9,
        "ethnicity": 0.9,
        "benefits": 0.7,
        "income": 0.7,
        "financial": 0.7,
        "other": 0.4,
    }
)

_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "health": (
            "diagnosis",
            "diagnoses",
            "icd",
            "disease",
            "health",
            "medical",
            "disability",
            "disabled",
            "treatment",
            "medication",
            "prescription",
            "hiv",
            "mental",
            "clinical",
            "illness",
            "symptom",
        ),
        "genetic": ("genetic", "genome", "dna"),
        "criminal": (
            "criminal",
            "conviction",
            "offence",
            "offense",
            "arrest",
            "crime",
            "sentence",
            "prison",
            "probation",
        ),
        "immigration": (
            "immigration",
            "visa",
            "asylum",
            "citizenship",
            "refugee",
            "migrant",
            "nationality",
        ),
        "sexual_life": ("sexual", "orientation", "sexuality"),
        "religion": ("religion", "religious", "faith", "belief"),
        "ethnicity": ("race", "ethnicity", "ethnic"),
        "benefits": ("benefit", "benefits", "welfare", "assistance", "allowance", "subsidy"),
        "income": ("income", "salary", "wage", "wages", "earnings", "pay"),
        "financial": ("debt", "credit", "bank", "tax", "loan", "arrears"),
    }
)


@dataclass(frozen=True)
class Exposure:
    """An attribute a join or linkage exposes, with its harm category and weight."""

    dataset: str
    column: str
    category: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "category": self.category,
            "weight": self.weight,
        }


def harm_weights(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Default weights updated with ``weights`` (each in [0, 1])."""
    out = dict(DEFAULT_HARM_WEIGHTS)
    for k, v in (weights or {}).items():
        if not isinstance(v, int | float) or not 0 <= float(v) <= 1:
            raise ParameterError(f"weights[{k!r}]", v, "a harm weight between 0 and 1")
        out[str(k)] = float(v)
    return out


def harm_category(
    column: str, metadata: Mapping[str, Any] | None = None, sensitive: bool = True
) -> str | None:
    """The harm category of ``column``: the catalog's ``sensitivity`` entry, else a name match.

    Sensitive attributes with no recognised category are ``"other"``; other columns without a
    match are ``None`` (no harm by themselves).
    """
    declared = dict((metadata or {}).get("sensitivity") or {})
    if column in declared:
        return str(declared[column])
    toks = _tokens(column)
    for cat, words in _KEYWORDS.items():
        for w in words:
            # words of four letters or more also match as stems (convictions, disabilities)
            if any(
                t == w or (len(w) >= 4 and t.startswith(w[:-1] if len(w) > 6 else w)) for t in toks
            ):
                return cat
    return "other" if sensitive else None
