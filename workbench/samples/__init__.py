"""Sample data: the Adult census extract, sdcMicro surveys and a synthetic city.

``list_samples()`` and ``sample_path(name)`` find the committed files; :mod:`.city` generates the
synthetic city at any size and exports department files with ground truth or pseudonyms.
"""

from __future__ import annotations

from . import city
from ._registry import SampleInfo, adult_hierarchy_paths, list_samples, sample_path, samples_dir
from .city import (
    PLANTED_FACTS,
    REFERENCE_DATE,
    CityGenerationResult,
    PlantedFact,
    export,
    generate,
    read_ground_truth,
)

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
