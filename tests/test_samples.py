"""Sample registry and the committed copies of the Adult and sdcMicro data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import MissingFileError, ParameterError
from workbench.samples import adult_hierarchy_paths, list_samples, sample_path, samples_dir

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"


def shared_data() -> Path | None:
    """The read-only shared originals: next to the checkout (CI) or at /work/shared."""
    candidates = [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    if os.environ.get("WORKBENCH_SHARED_DATA"):
        candidates.insert(0, Path(os.environ["WORKBENCH_SHARED_DATA"]))
    for candidate in candidates:
        if (candidate / "adult" / "adult.csv").is_file():
            return candidate
    return None


SHARED = shared_data()
needs_shared = pytest.mark.skipif(SHARED is None, reason="shared original data not available")

COPIES = {"adult": "adult", "sdcmicro": "survey"}  # shared folder -> sample folder


@needs_shared
@pytest.mark.parametrize(("shared_dir", "sample_dir"), sorted(COPIES.items()))
def test_copies_are_byte_identical_to_the_originals(shared_dir, sample_dir):
    originals = sorted((SHARED / shared_dir).glob("*.csv"))
    assert originals
    copies = sorted((SAMPLES / sample_dir).glob("*.csv"))
    assert [p.name for p in copies] == [p.name for p in originals]
    for original in originals:
        assert (SAMPLES / sample_dir / original.name).read_bytes() == original.read_bytes()


def test_adult_keeps_its_crlf_line_ends():
    head = (SAMPLES / "adult" / "adult.csv").read_bytes()[:200]
    assert head.startswith(b"sex;age;race;marital-status;")
    assert b"\r\n" in head


def test_attribution_and_readmes():
    adult = (SAMPLES / "adult" / "ATTRIBUTION.md").read_text()
    assert "CC BY 4.0" in adult and "ARX" in adult and "UCI" in adult
    survey = (SAMPLES / "survey" / "ATTRIBUTION.md").read_text()
    for needle in ("sdcMicro", "GPL-2", "Templ", "Kowarik", "Meindl"):
        assert needle in survey
    readme = (SAMPLES / "survey" / "README.md").read_text()
    header = (SAMPLES / "survey" / "testdata.csv").read_text().splitlines()[0]
    for column in header.replace('"', "").split(","):
        assert f"`{column}`" in readme, column
    city = (SAMPLES / "city" / "README.md").read_text()
    assert "synthetic" in city.lower()
    for file in ("population.csv", "ground_truth.csv", "voter_roll.csv", "catalog.yaml"):
        assert file in city


def test_git_keeps_sample_bytes_unconverted():
    assert "* -text" in (SAMPLES / ".gitattributes").read_text().splitlines()


def test_samples_stay_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024


def test_registry_lists_every_sample_with_rows():
    samples = {s.name: s for s in list_samples()}
    assert {"adult", "survey", "city", "city.clinic", "city.voters", "city.ground_truth"} <= set(
        samples
    )
    assert samples["adult"].rows == 30_162
    assert samples["survey"].rows == 4_580
    assert samples["survey.free1"].rows == 4_000
    assert samples["survey.francdat"].rows == 8
    assert samples["city.population"].rows == 20_000
    assert samples["city"].rows is None  # the catalog is not a table
    for info in samples.values():
        assert info.path.is_file(), info.name
        assert info.description
        json.dumps(info.to_dict())


def test_sample_path_names_and_aliases():
    assert sample_path("adult") == SAMPLES / "adult" / "adult.csv"
    assert sample_path("survey").name == "testdata.csv"
    assert sample_path("city").name == "catalog.yaml"
    for short, file in (
        ("clinic", "clinic_visits.csv"),
        ("housing", "housing_assistance.csv"),
        ("social", "social_services.csv"),
        ("transit", "transit_passes.csv"),
        ("voters", "voter_roll.csv"),
        ("population", "population.csv"),
    ):
        assert sample_path(short) == sample_path(f"city.{short}") == SAMPLES / "city" / file
    assert samples_dir() == SAMPLES


def test_unknown_sample_names_the_choices():
    with pytest.raises(ParameterError) as err:
        sample_path("adults")
    assert "adult" in str(err.value) and "city.clinic" in str(err.value)


def test_samples_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_SAMPLES_DIR", str(tmp_path))
    assert samples_dir() == tmp_path
    assert sample_path("adult", must_exist=False) == tmp_path / "adult" / "adult.csv"
    with pytest.raises(MissingFileError, match="WORKBENCH_SAMPLES_DIR"):
        sample_path("adult")
    assert all(s.rows is None for s in list_samples())


def test_adult_hierarchies_cover_every_column():
    paths = adult_hierarchy_paths()
    header = sample_path("adult").read_text().splitlines()[0].split(";")
    assert sorted(paths) == sorted(header)
    for column, path in paths.items():
        rows = [line.split(";") for line in path.read_text().splitlines() if line]
        assert all(row[-1] == "*" for row in rows), column


def test_cli_lists_samples(capsys):
    assert main(["samples"]) == 0
    text = capsys.readouterr().out
    assert "adult" in text and "city.voters" in text and "30,162" in text
    assert main(["samples", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in listed} >= {"adult", "survey", "city"}
    assert all(set(d) == {"name", "path", "rows", "description"} for d in listed)


def test_cli_help_defaults_match_the_generator() -> None:
    """`samples` shows its defaults without importing the generator; they must agree with it."""
    from workbench.cli import _samples
    from workbench.deid.pseudonym import DEFAULT_KEY_ENV
    from workbench.samples import city

    assert _samples._DEFAULT_RESIDENTS == city.DEFAULT_RESIDENTS
    assert _samples._DEFAULT_SEED == city.DEFAULT_SEED
    assert tuple(_samples._DATASETS) == tuple(city.DATASETS)
    assert DEFAULT_KEY_ENV == "WORKBENCH_PSEUDONYM_KEY" == city.PSEUDONYM_KEY_ENV


def test_help_imports_no_data_stack() -> None:
    """`workbench --help` stays light: no pandas, numpy, DuckDB or plotly import."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom workbench.cli import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'duckdb', 'plotly', 'scipy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
