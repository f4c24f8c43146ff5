"""Where the sample data sets live and what they are.

The samples are files in ``data/samples/`` of a source checkout, found relative to this package
(``<repo>/workbench/samples/`` -> ``<repo>/data/samples``); set ``WORKBENCH_SAMPLES_DIR`` to use
another copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, ParameterError

__all__ = ["SampleInfo", "samples_dir", "list_samples", "sample_path", "adult_hierarchy_paths"]

SAMPLES_DIR_ENV = "WORKBENCH_SAMPLES_DIR"


@dataclass(frozen=True)
class SampleInfo:
    """One registered sample: its name, file, size and what it is for."""

    name: str
    path: Path
    description: str
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "path": str(self.path),
            "rows": self.rows,
            "description": self.description,
        }


# name -> (path relative to data/samples, description)
_REGISTRY: dict[str, tuple[str, str]] = {
    "adult": (
        "adult/adult.csv",
        "UCI Adult census extract (30,162 rows, ';'-separated) with ARX hierarchies; CC BY 4.0",
    ),
    "survey": (
        "survey/testdata.csv",
        "sdcMicro household survey: keys, income/expenditure, household id, sampling weight",
    ),
    "survey.free1": ("survey/free1.csv", "sdcMicro / mu-Argus demo microdata (34 columns)"),
    "survey.francdat": ("survey/francdat.csv", "sdcMicro toy data (8 rows, weight w)"),
    "city": ("city/catalog.yaml", "Synthetic city: catalog of four departments and a voter roll"),
    "city.population": ("city/population.csv", "Synthetic city: every resident (population table)"),
    "city.clinic": (
        "city/clinic_visits.csv",
        "Health clinic visits (dob, sex, postal code, diagnosis)",
    ),
    "city.housing": (
        "city/housing_assistance.csv",
        "Housing assistance (birth year, gender, zip, household size, income band)",
    ),
    "city.social": (
        "city/social_services.csv",
        "Social services cases (age, sex, zip3, marital status, benefit type)",
    ),
    "city.transit": ("city/transit_passes.csv", "Transit passes (age band, postcode, disability)"),
    "city.voters": (
        "city/voter_roll.csv",
        "Public voter roll with names, dob, sex, postal code (attacker's data)",
    ),
    "city.ground_truth": (
        "city/ground_truth.csv",
        "Ground truth: which resident each department record belongs to (scoring only)",
    ),
}
_ALIASES = {n.split(".", 1)[1]: n for n in _REGISTRY if n.startswith("city.")} | {
    "population": "city.population"
}


def samples_dir() -> Path:
    """The ``data/samples`` directory (``WORKBENCH_SAMPLES_DIR`` overrides)."""
    env = os.environ.get(SAMPLES_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / "samples"


def _count_rows(path: Path) -> int | None:
    if not path.is_file() or path.suffix != ".csv":
        return None
    lines = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _resolve(name: str) -> str:
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        raise ParameterError("name", name, f"one of {', '.join(_REGISTRY)}")
    return key


def sample_path(name: str, must_exist: bool = True) -> Path:
    """Path of a sample: ``adult``, ``survey``, ``city`` (its catalog) or ``city.<dataset>``.

    The city's datasets are also accepted without prefix (``clinic``, ``voters``...).
    """
    key = _resolve(name)
    path = samples_dir() / _REGISTRY[key][0]
    if must_exist and not path.exists():
        raise MissingFileError(
            "sample file not found (the samples ship with a source checkout; set "
            f"{SAMPLES_DIR_ENV} to another copy)",
            path=path,
        )
    return path


def list_samples(count_rows: bool = True) -> tuple[SampleInfo, ...]:
    """Every registered sample with its path, description and (for CSV files) row count."""
    base = samples_dir()
    out = []
    for name, (rel, description) in _REGISTRY.items():
        path = base / rel
        out.append(SampleInfo(name, path, description, _count_rows(path) if count_rows else None))
    return tuple(out)


def adult_hierarchy_paths() -> dict[str, Path]:
    """ARX hierarchy file of each Adult column (``;``-separated, one row per value)."""
    directory = sample_path("adult").parent
    prefix = "adult_hierarchy_"
    return {p.stem[len(prefix) :]: p for p in sorted(directory.glob(f"{prefix}*.csv"))}
