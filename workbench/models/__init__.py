"""Privacy models as plug-ins: one module per model, registered by subclassing.

Adding a model is one module: a frozen dataclass subclassing :class:`PrivacyModel` with a
``key`` (see :mod:`workbench.models.k_map`). The search, Mondrian, the gate and policy
harmonization loop over :data:`MODELS`.
"""

from __future__ import annotations

from .base import MODELS, Classes, PrivacyModel, SensitivePairs, model_from_dict, models_for_policy
from .beta_likeness import BetaLikeness
from .delta_disclosure import DeltaDisclosure
from .delta_presence import DeltaPresence
from .k_anonymity import KAnonymity
from .k_map import KMap
from .l_diversity import LDiversity
from .risk_thresholds import AverageRisk, HighestRisk, PopulationUniqueness, RecordsAtRisk
from .t_closeness import TCloseness

# Reading order of the built-in models (reports, policies); plug-ins follow in registration order.
_ORDER = (
    "k_anonymity",
    "highest_risk",
    "average_risk",
    "records_at_risk",
    "l_diversity",
    "t_closeness",
    "delta_disclosure",
    "beta_likeness",
    "k_map",
    "delta_presence",
    "population_uniqueness",
)
_builtin = {k: MODELS.pop(k) for k in _ORDER}
_builtin.update(MODELS)
MODELS.clear()
MODELS.update(_builtin)
del _builtin

__all__ = [
    "MODELS",
    "Classes",
    "PrivacyModel",
    "SensitivePairs",
    "model_from_dict",
    "models_for_policy",
    "KAnonymity",
    "LDiversity",
    "TCloseness",
    "DeltaDisclosure",
    "BetaLikeness",
    "KMap",
    "DeltaPresence",
    "AverageRisk",
    "HighestRisk",
    "RecordsAtRisk",
    "PopulationUniqueness",
]
