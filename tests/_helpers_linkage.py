"""Fixtures shared by the linkage tests (catalog, crosswalk, linkage, combine, matrix).

Everything runs on the committed synthetic city in ``data/samples/city``; department files
with the ground-truth ``resident_id`` are exported once per session with
:func:`workbench.samples.city.export` (the same path as ``workbench samples export --truth``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
CATALOG = CITY / "catalog.yaml"
REF = date(2026, 1, 1)

# Independent readings of the city's codes, written from the city README / contracts and not
# from workbench.linkage, so that tests compare against a separate computation.
SEX_CODES = {
    "clinic": {"female": "F", "male": "M"},
    "housing": {"F": "F", "M": "M"},  # X = not specified -> no match
    "social": {"1": "M", "2": "F"},
    "voters": {"F": "F", "M": "M"},
}


def load_city_catalog():
    """The committed city catalog (fixtures in each test module wrap this)."""
    from workbench.governance.catalog import Catalog

    assert CATALOG.is_file(), "the committed city sample is missing"
    return Catalog.load(CATALOG)


_TRUTH: dict[str, Path] = {}


def export_truth(tmp_path_factory) -> Path:
    """The five department files exported with ``resident_id`` (ground truth), once."""
    from workbench.samples.city import DATASETS, export

    if "dir" not in _TRUTH:
        import shutil

        # The ground truth is test scaffolding, read back with plain pandas: export it from a
        # copy of the city's data files without its catalog, whose clinic, housing and social
        # policies would (rightly) encrypt the exports at rest.
        plain = tmp_path_factory.mktemp("city_plain")
        for csv in CITY.glob("*.csv"):
            shutil.copy(csv, plain / csv.name)
        out = tmp_path_factory.mktemp("city_truth")
        for name in DATASETS:
            export(name, out / f"{name}.csv", truth=True, source_dir=plain)
        _TRUTH["dir"] = out
    return _TRUTH["dir"]


def read_text(path: Path) -> pd.DataFrame:
    """A city file read with plain pandas, every value as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
