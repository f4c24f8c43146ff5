"""De-identification: hierarchies, transforms, anonymization search, utility.

The flow: build or load :class:`Hierarchy` objects, search the optimal full-domain
generalization with :func:`anonymize` (or Mondrian local recoding), explore the risk-utility
trade-off with :func:`frontier`, apply individual :mod:`~workbench.deid.transforms`, and compare
utility with :mod:`~workbench.deid.comparison`.
"""

from . import comparison as _utility
from . import transforms as _transforms
from .accuracy import ClassificationAccuracy, TargetAccuracy, classification_accuracy
from .comparison import *  # noqa: F403 -- the public names listed in its __all__
from .hierarchy import (
    Hierarchy,
    auto_hierarchy,
    date_hierarchy,
    grouping_hierarchy,
    identity_hierarchy,
    interval_hierarchy,
    masking_hierarchy,
)
from .live_utility import LiveUtility
from .metrics import (
    METRICS,
    average_class_size,
    discernibility,
    loss_metric,
    nonuniform_entropy,
    precision_metric,
    table_metrics,
)
from .release import (
    RELEASE_MODES,
    DirectIdentifierWarning,
    ReleaseReport,
    prepare_release,
    write_release,
)
from .search.frontier import FrontierPoint, FrontierResult, frontier
from .search.lattice import (
    AnonymizationResult,
    Criteria,
    NodeEvaluation,
    SearchContext,
    anonymize,
    exhaustive_search,
    prepare,
)
from .search.mondrian import mondrian
from .transforms import *  # noqa: F403 -- the public names listed in its __all__

__all__ = [
    "Hierarchy",
    "auto_hierarchy",
    "date_hierarchy",
    "grouping_hierarchy",
    "identity_hierarchy",
    "interval_hierarchy",
    "masking_hierarchy",
    "Criteria",
    "SearchContext",
    "NodeEvaluation",
    "AnonymizationResult",
    "prepare",
    "anonymize",
    "exhaustive_search",
    "mondrian",
    "LiveUtility",
    "classification_accuracy",
    "ClassificationAccuracy",
    "TargetAccuracy",
    "METRICS",
    "loss_metric",
    "precision_metric",
    "nonuniform_entropy",
    "discernibility",
    "average_class_size",
    "table_metrics",
    "frontier",
    "FrontierPoint",
    "FrontierResult",
    "RELEASE_MODES",
    "DirectIdentifierWarning",
    "ReleaseReport",
    "prepare_release",
    "write_release",
    *_transforms.__all__,
    *_utility.__all__,
]
