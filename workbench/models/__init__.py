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
