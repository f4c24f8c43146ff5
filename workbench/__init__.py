"""Privacy Risk Workbench.

One visible flow: Dataset -> roles -> risk profile -> transforms -> comparison -> report and
provenance::

    import workbench as wb
    ds = wb.load("data/samples/city/clinic_visits.csv", department="Health")
    roles = wb.suggest_roles(ds).role_map
    risk = wb.assess(ds, roles.quasi_identifiers, sensitive=roles.sensitive)
    result = wb.anonymize(ds, roles.quasi_identifiers, k=5, suppression=0.05, return_data=True)

The core never imports ipywidgets or IPython; ``workbench.ui`` does. Public names are loaded
lazily so ``import workbench`` (and the CLI) start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all

# public name -> (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    # Dataset and loading
    "Dataset": ("workbench.dataset", "Dataset"),
    "load": ("workbench.loading.readers", "load"),
    # profiling and roles
    "profile": ("workbench.profiling.profiler", "profile"),
    "DatasetProfile": ("workbench.profiling.profiler", "DatasetProfile"),
    "ColumnProfile": ("workbench.profiling.profiler", "ColumnProfile"),
    "ColumnKind": ("workbench.profiling.profiler", "ColumnKind"),
    "suggest_roles": ("workbench.profiling.roles", "suggest_roles"),
    "Role": ("workbench.profiling.roles", "Role"),
    "RoleMap": ("workbench.profiling.roles", "RoleMap"),
    "RoleSuggestion": ("workbench.profiling.roles", "RoleSuggestion"),
    "RoleSuggestions": ("workbench.profiling.roles", "RoleSuggestions"),
    # risk
    "assess": ("workbench.risk", "assess"),
    "RiskProfile": ("workbench.risk", "RiskProfile"),
    "build_class_table": ("workbench.risk", "build_class_table"),
    # cross-department
    "Catalog": ("workbench.governance.catalog", "Catalog"),
    "propose_crosswalk": ("workbench.linkage", "propose_crosswalk"),
    "harmonize_fields": ("workbench.linkage", "harmonize"),
    "link_exact": ("workbench.linkage", "link_exact"),
    "link_probabilistic": ("workbench.linkage", "link_probabilistic"),
    "combine": ("workbench.linkage", "combine"),
    "join_risk_matrix": ("workbench.linkage", "join_risk_matrix"),
    # de-identification
    "Hierarchy": ("workbench.deid", "Hierarchy"),
    "anonymize": ("workbench.deid", "anonymize"),
    "frontier": ("workbench.deid", "frontier"),
    "compare": ("workbench.deid", "compare"),
    "Pipeline": ("workbench.deid", "Pipeline"),
    # governance
    "Policy": ("workbench.governance", "Policy"),
    "harmonize_policies": ("workbench.governance", "harmonize"),
    "gate": ("workbench.governance", "gate"),
    "ProvenanceLog": ("workbench.governance", "ProvenanceLog"),
    "record_operation": ("workbench.governance", "record_operation"),
    "render_for": ("workbench.governance", "render_for"),
    # differential privacy
    "dp_release": ("workbench.dp", "dp_release"),
    "dp_accuracy": ("workbench.dp", "dp_accuracy"),
    "Ledger": ("workbench.dp", "Ledger"),
    # review
    "AssessmentBundle": ("workbench.review.bundle", "AssessmentBundle"),
    "render_html": ("workbench.review.report", "render_html"),
}

__all__ = ["__version__", *_errors_all, *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
