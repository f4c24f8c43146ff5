"""Threat scenarios as first-class objects, evaluated against every release.

See :mod:`workbench.scenarios._model` for the scenario document and
:mod:`workbench.scenarios._evaluate` for what each goal measures.
"""

from ._evaluate import (
    Release,
    ScenarioMatrix,
    ScenarioOutcome,
    evaluate_scenarios,
    learned_mask,
)
from ._model import ATTACKER_MODELS, GOALS, GroundTruth, Scenario, load_scenarios
from ._register import (
    PolicyBreach,
    ReassessResult,
    ReleaseReassessment,
    policy_breaches,
    reassess,
    register_review,
)

__all__ = [
    "ATTACKER_MODELS",
    "GOALS",
    "GroundTruth",
    "PolicyBreach",
    "ReassessResult",
    "ReleaseReassessment",
    "Release",
    "Scenario",
    "ScenarioMatrix",
    "ScenarioOutcome",
    "evaluate_scenarios",
    "learned_mask",
    "load_scenarios",
    "policy_breaches",
    "reassess",
    "register_review",
]
