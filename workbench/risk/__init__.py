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

from .class_sizes import ClassSizeProfile, class_size_profile
from .classes import MISSING_MODES, ClassTable, SensitiveTable, build_class_table
from .individual import GlobalRisk, HouseholdRisk, household_risk, individual_risk
from .measures import (
    ClassSizeSummary,
    RiskSummary,
    class_size_summary,
    journalist_risk,
    marketer_risk,
    prosecutor_risk,
)
from .population import (
    PopulationEstimate,
    PopulationUniqueness,
    dankar,
    pitman,
    population_uniqueness,
    snb,
    zayatz,
)
from .profile import PopulationTableMatch, RiskProfile, assess, profile_from_table
from .sensitive import (
    BetaLikenessResult,
    DeltaDisclosureResult,
    LDiversityResult,
    TClosenessResult,
    beta_likeness,
    delta_disclosure,
    l_diversity,
    t_closeness,
)
from .subsets import SubsetResult, SubsetStat, qi_subsets
from .suda import SudaResult, suda2

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
