"""Sample data: the Adult census extract, sdcMicro surveys and a synthetic city.

``list_samples()`` and ``sample_path(name)`` find the committed files; :mod:`.city` generates the
synthetic city at any size and exports department files with ground truth or pseudonyms.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._registry import SampleInfo, adult_hierarchy_paths, list_samples, sample_path, samples_dir

# the city generator (pandas, numpy, the pseudonym code) loads on first use, so that
# `workbench --help` and `samples list` stay light
_CITY_NAMES = {
    "PLANTED_FACTS",
    "REFERENCE_DATE",
    "CityGenerationResult",
    "PlantedFact",
    "export",
    "generate",
    "read_ground_truth",
}


def __getattr__(name: str) -> Any:
    if name == "city":
        return importlib.import_module(".city", __name__)
    if name in _CITY_NAMES:
        return getattr(importlib.import_module(".city", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "city",
    "SampleInfo",
    "list_samples",
    "sample_path",
    "samples_dir",
    "adult_hierarchy_paths",
    "generate",
    "export",
    "read_ground_truth",
    "CityGenerationResult",
    "PlantedFact",
    "PLANTED_FACTS",
    "REFERENCE_DATE",
]
