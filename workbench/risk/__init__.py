"""Re-identification and attribute-disclosure risk.

One scan builds the equivalence-class table (:func:`build_class_table`); :func:`assess` derives
the whole :class:`RiskProfile` from it: k-anonymity facts, prosecutor / journalist / marketer
risk, population-uniqueness estimates (Pitman, Zayatz, SNB, Dankar's rule), weighted individual
and household risk (Benedetti-Franconi, as sdcMicro), l-diversity, t-closeness, delta-disclosure,
beta-likeness, and on demand SUDA and QI-subset uniqueness.

Examples
--------
>>> import pandas as pd
>>> from workbench.risk import assess
>>> df = pd.DataFrame({"age": [30, 30, 41, 41, 52], "sex": ["F", "F", "M", "M", "F"]})
>>> p = assess(df, ["age", "sex"])
>>> p.classes, p.min_class_size, p.sample_uniques, p.prosecutor.highest
(3, 1, 1, 1.0)
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule, imported on first use: an assess without sensitive attributes, SUDA
# or QI subsets does not import those measures (nor the privacy models they use)
_LAZY: dict[str, str] = {
    "MISSING_MODES": "classes",
    "ClassSizeProfile": "class_sizes",
    "class_size_profile": "class_sizes",
    "ClassTable": "classes",
    "SensitiveTable": "classes",
    "build_class_table": "classes",
    "GlobalRisk": "individual",
    "HouseholdRisk": "individual",
    "household_risk": "individual",
    "individual_risk": "individual",
    "ClassSizeSummary": "measures",
    "RiskSummary": "measures",
    "class_size_summary": "measures",
    "journalist_risk": "measures",
    "marketer_risk": "measures",
    "prosecutor_risk": "measures",
    "PopulationEstimate": "population",
    "PopulationUniqueness": "population",
    "dankar": "population",
    "pitman": "population",
    "population_uniqueness": "population",
    "snb": "population",
    "zayatz": "population",
    "PopulationTableMatch": "profile",
    "RiskProfile": "profile",
    "assess": "profile",
    "profile_from_table": "profile",
    "BetaLikenessResult": "sensitive",
    "DeltaDisclosureResult": "sensitive",
    "LDiversityResult": "sensitive",
    "TClosenessResult": "sensitive",
    "beta_likeness": "sensitive",
    "delta_disclosure": "sensitive",
    "l_diversity": "sensitive",
    "t_closeness": "sensitive",
    "SubsetResult": "subsets",
    "SubsetStat": "subsets",
    "qi_subsets": "subsets",
    "SudaResult": "suda",
    "suda2": "suda",
}

__all__ = [
    "assess",
    "class_size_profile",
    "ClassSizeProfile",
    "profile_from_table",
    "RiskProfile",
    "PopulationTableMatch",
    "build_class_table",
    "ClassTable",
    "SensitiveTable",
    "MISSING_MODES",
    "ClassSizeSummary",
    "RiskSummary",
    "class_size_summary",
    "prosecutor_risk",
    "journalist_risk",
    "marketer_risk",
    "PopulationEstimate",
    "PopulationUniqueness",
    "pitman",
    "zayatz",
    "snb",
    "dankar",
    "population_uniqueness",
    "GlobalRisk",
    "HouseholdRisk",
    "individual_risk",
    "household_risk",
    "LDiversityResult",
    "TClosenessResult",
    "DeltaDisclosureResult",
    "BetaLikenessResult",
    "l_diversity",
    "t_closeness",
    "delta_disclosure",
    "beta_likeness",
    "SudaResult",
    "suda2",
    "SubsetResult",
    "SubsetStat",
    "qi_subsets",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
