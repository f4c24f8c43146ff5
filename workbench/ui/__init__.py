"""Interactive panels (ipywidgets) over the core, and the apps the notebooks show.

Panels only call the core; they share one frozen :class:`AppState` held by a :class:`Store`
and subscribe to its changes. Each notebook is a parameters cell plus one app:

* ``01_explore_risk`` -> :class:`ExploreRiskApp` (loader, roles, risk, bundle)
* ``02_cross_department`` -> :class:`CrossDepartmentApp` (catalog, crosswalk, linkage, matrix)
* ``03_tune_deidentification`` -> :class:`TuneApp` (tuner, trade-off, bundle)
* ``04_training_linkage_attack`` -> :class:`TrainingWalkthrough`
* ``dashboard/ethics_review`` -> :class:`~workbench.ui.review.ReviewDashboard` (read-only)

Submodules are imported on first use, so ``import workbench.ui`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AppState",
    "Store",
    "LoaderPanel",
    "RolesPanel",
    "RiskPanel",
    "TunerPanel",
    "TradeoffPanel",
    "CrossDepartmentPanel",
    "ScenarioPanel",
    "SummaryPanel",
    "TrainingWalkthrough",
    "ExploreRiskApp",
    "CrossDepartmentApp",
    "TuneApp",
    "ReviewDashboard",
]

_WHERE = {
    "AppState": "state",
    "Store": "state",
    "LoaderPanel": "loader",
    "RolesPanel": "roles",
    "RiskPanel": "risk",
    "ExploreRiskApp": "risk",
    "TunerPanel": "tuner",
    "TradeoffPanel": "tradeoff",
    "TuneApp": "tradeoff",
    "CrossDepartmentPanel": "linkage",
    "CrossDepartmentApp": "linkage",
    "ScenarioPanel": "scenarios",
    "SummaryPanel": "summary",
    "TrainingWalkthrough": "training",
    "ReviewDashboard": "review",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
