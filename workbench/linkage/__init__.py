"""Linkage risk across departments: shared facts, harmonization, linkage attacks, joins.

One flow: :func:`propose_crosswalk` finds fields that record the same fact in two datasets;
:func:`harmonize` brings them to their most detailed common form; :func:`link_exact` and
:func:`link_probabilistic` simulate an attacker joining a released table with their own;
:func:`combine` measures the risk of an authorised join on a shared key; and
:func:`join_risk_matrix` does all of it for every pair of a catalog and advises.
"""

from __future__ import annotations

from ._codes import RiskHeadline, headline
from .combine import AttributeEffect, CombineResult, InputRisk, combine, combine_catalog
from .crosswalk import Crosswalk, CrosswalkEntry, detect_forms, propose_crosswalk
from .exact import LinkageResult, link_exact
from .forms import FieldForm, common_form, convert, detect_form
from .harmonize import HarmonizedField, HarmonizedPair, harmonize
from .matrix import Advice, Coarsening, LinkageSummary, PairRisk, RiskMatrix, join_risk_matrix
from .probabilistic import ProbabilisticLinkageResult, link_probabilistic
from .sensitivity import DEFAULT_HARM_WEIGHTS, Exposure, harm_category

__all__ = [
    "Advice",
    "AttributeEffect",
    "Coarsening",
    "CombineResult",
    "DEFAULT_HARM_WEIGHTS",
    "Exposure",
    "InputRisk",
    "LinkageSummary",
    "PairRisk",
    "RiskMatrix",
    "combine",
    "combine_catalog",
    "harm_category",
    "join_risk_matrix",
    "Crosswalk",
    "CrosswalkEntry",
    "FieldForm",
    "HarmonizedField",
    "HarmonizedPair",
    "LinkageResult",
    "ProbabilisticLinkageResult",
    "RiskHeadline",
    "common_form",
    "convert",
    "detect_form",
    "detect_forms",
    "harmonize",
    "headline",
    "link_exact",
    "link_probabilistic",
    "propose_crosswalk",
]
