"""Differentially private releases and the population's privacy-loss ledger.

Built on OpenDP for every mechanism and all accounting: :mod:`.release` (contribution bounding,
aggregation where the data is, OpenDP noise), :mod:`.accuracy` (error before spending),
:mod:`.ledger` (one append-only, hash-chained ledger per population), :mod:`.charts`.
"""

from ._accounting import Charge, PrivacyTotal, rho_for_epsilon, total, zcdp_epsilon
from ._api import dp_accuracy, dp_release, make_spec, resolve_sources
from .accuracy import AccuracyReport, StatisticAccuracy, accuracy_report, error_curve
from .ledger import ACCOUNTING, Budget, Exposure, Ledger, LedgerEntry, LedgerState
from .release import (
    DPRelease,
    Plan,
    ReleaseSpec,
    Statistic,
    bound_and_aggregate,
    parse_bounds,
    parse_keys,
    plan_release,
)

__all__ = [
    "ACCOUNTING",
    "AccuracyReport",
    "Budget",
    "Charge",
    "DPRelease",
    "Exposure",
    "Ledger",
    "LedgerEntry",
    "LedgerState",
    "Plan",
    "PrivacyTotal",
    "ReleaseSpec",
    "Statistic",
    "StatisticAccuracy",
    "accuracy_report",
    "bound_and_aggregate",
    "dp_accuracy",
    "dp_release",
    "error_curve",
    "make_spec",
    "parse_bounds",
    "parse_keys",
    "plan_release",
    "resolve_sources",
    "rho_for_epsilon",
    "total",
    "zcdp_epsilon",
]
