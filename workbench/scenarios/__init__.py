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

__all__ = [
    "ATTACKER_MODELS",
    "GOALS",
    "GroundTruth",
    "Release",
    "Scenario",
    "ScenarioMatrix",
    "ScenarioOutcome",
    "evaluate_scenarios",
    "learned_mask",
    "load_scenarios",
]
