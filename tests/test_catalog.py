"""The catalog: loading, round-trips, errors, inventory (API and CLI)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _helpers_linkage import CATALOG, CITY, load_city_catalog

from workbench.cli import main
from workbench.errors import ColumnNotFoundError, ConfigError, MissingFileError
from workbench.governance.catalog import Catalog, CatalogEntry, inventory
from workbench.linkage import headline
from workbench.profiling.roles import RoleMap


@pytest.fixture(scope="module")
def city_catalog():
    return load_city_catalog()


def test_city_catalog_entries(city_catalog):
    assert city_catalog.name == "city"
    assert city_catalog.reference_date == date(2026, 1, 1)
    assert set(city_catalog.datasets) == {"clinic", "housing", "social", "transit", "voters"}
    clinic = city_catalog.entry("clinic")
    assert isinstance(clinic, CatalogEntry) and isinstance(clinic.roles, RoleMap)
    assert clinic.file == (CITY / "clinic_visits.csv").resolve() and clinic.file.is_file()
    assert clinic.department == "Health" and not clinic.external
    assert clinic.quasi_identifiers == ("patient_dob", "sex", "postal_code")
    assert clinic.sensitive == ("diagnosis",)
    assert city_catalog.entry("voters").external
    ds = city_catalog.load_dataset("clinic")
    assert ds.n_rows == len(pd.read_csv(CITY / "clinic_visits.csv")) and ds.department == "Health"
    with pytest.raises(ConfigError, match="available: clinic"):
        city_catalog.entry("police")


def test_round_trip_is_unchanged(city_catalog, tmp_path):
    doc = yaml.safe_load(CATALOG.read_text())
    # an unchanged catalog saves to the document it was read from (same folder)
    assert city_catalog.to_dict() == doc
    # elsewhere, file paths are rewritten relative to the new location and still resolve
    out = city_catalog.save(tmp_path / "sub" / "catalog.yaml")
    again = Catalog.load(out)
    assert again.entry("clinic").file == city_catalog.entry("clinic").file
    assert again.to_dict(CITY) == doc
    assert again.load_dataset("voters").n_rows == city_catalog.load_dataset("voters").n_rows
    # and saving twice gives the same bytes
    text = out.read_text()
    again.save(out)
    assert out.read_text() == text


def test_round_trip_keeps_unknown_keys_and_int_codes(tmp_path):
    (tmp_path / "a.csv").write_text("id,dob,sex\n1,1980-01-02,1\n2,1990-03-04,2\n")
    doc = {
        "name": "mini",
        "reference_date": "2026-01-01",
        "owner": "DPO office",
        "datasets": {
            "a": {
                "file": "a.csv",
                "department": "X",
                "purpose": "test",
                "roles": {"direct_identifiers": ["id"], "quasi_identifiers": ["dob", "sex"]},
                "external": False,
                "metadata": {"codes": {"sex": {1: "male", 2: "female"}}},
                "retention_days": 30,
            }
        },
        "crosswalk": [],
    }
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    cat = Catalog.load(path)
    assert cat.to_dict() == doc
    assert cat.entry("a").metadata["codes"]["sex"][1] == "male"
    js = cat.save(tmp_path / "catalog.json")
    assert Catalog.load(js).to_dict() == json.loads(json.dumps(doc))
    # a role override is written back in the grouped form
    changed = cat.with_entry(
        CatalogEntry(
            "a",
            cat.entry("a").file,
            "X",
            "test",
            cat.entry("a").roles.with_role("sex", "sensitive"),
        )
    )
    assert changed.to_dict()["datasets"]["a"]["roles"] == {
        "direct_identifiers": ["id"],
        "quasi_identifiers": ["dob"],
        "sensitive": ["sex"],
    }


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("datasets: {}\n", ConfigError, "non-empty"),
        ("datasets: [1, 2]\n", ConfigError, "datasets"),
        ("datasets: {a: {department: X}}\n", ConfigError, "'file' is required"),
        ("datasets: {a: {file: a.csv}}\nreference_date: tomorrow\n", ConfigError, "reference_date"),
        (
            "datasets: {a: {file: a.csv}}\ncrosswalk: [{left: a.x, right: b.y}]\n",
            ConfigError,
            "dataset 'b'",
        ),
        (
            "datasets: {a: {file: a.csv, roles: {quasi_identifiers: [x], bogus: [y]}}}\n",
            ConfigError,
            "'a'",
        ),
        ("datasets: {a.b: {file: a.csv}}\n", ConfigError, "must not contain"),
        ("datasets: [\n", ConfigError, "not valid YAML"),
    ],
)
def test_malformed_catalogs(tmp_path, text, error, match):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(error, match=match):
        Catalog.load(path)


def test_missing_catalog_and_missing_role_column(tmp_path):
    with pytest.raises(MissingFileError):
        Catalog.load(tmp_path / "nope.yaml")
    (tmp_path / "a.csv").write_text("dob,sex\n1980-01-01,F\n")
    (tmp_path / "c.yaml").write_text(
        "datasets: {a: {file: a.csv, roles: {quasi_identifiers: [dob, zip]}}}\n"
    )
    with pytest.raises(ColumnNotFoundError, match="'zip' not found in .*a.csv"):
        Catalog.load(tmp_path / "c.yaml").load_dataset("a")


def _pandas_headline(df: pd.DataFrame, qis: list[str]) -> tuple[int, float]:
    sizes = df.groupby(qis, dropna=False).size()
    fk = df.merge(sizes.rename("fk").reset_index(), on=qis, how="left")["fk"]
    return int(sizes.min()), float((fk == 1).mean())


def test_inventory_headline_matches_pandas(city_catalog):
    inv = inventory(city_catalog)
    assert [d.name for d in inv.datasets] == list(city_catalog.datasets)
    for d in inv.datasets:
        raw = pd.read_csv(city_catalog.entry(d.name).file, dtype=str, keep_default_na=False)
        assert d.records == len(raw) and d.columns == raw.shape[1]
        k, uniq = _pandas_headline(raw, list(d.quasi_identifiers))
        assert (d.k, d.uniqueness) == (k, pytest.approx(uniq)), d.name
    assert inv.crosswalk_source == "catalog"


def test_headline_agrees_with_the_risk_engine(city_catalog):
    from workbench.risk import assess

    for name in ("clinic", "social"):
        e = city_catalog.entry(name)
        df = city_catalog.load_dataset(name).to_pandas()
        h = headline(df, list(e.quasi_identifiers))
        p = assess(df, list(e.quasi_identifiers))
        assert (h.k, h.uniques, h.classes) == (p.min_class_size, p.sample_uniques, p.classes)
        assert h.average_risk == pytest.approx(p.prosecutor.average)
        assert h.records_at_risk == pytest.approx(p.prosecutor.records_at_risk)


def test_inventory_cli_json_and_text(capsys):
    assert main(["inventory", str(CATALOG), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in doc["datasets"]] == [
        "clinic",
        "housing",
        "social",
        "transit",
        "voters",
    ]
    clinic = doc["datasets"][0]
    assert clinic["quasi_identifiers"] == ["patient_dob", "sex", "postal_code"]
    assert {"records", "k", "uniqueness"} <= set(clinic)
    assert main(["inventory", str(CATALOG)]) == 0
    out = capsys.readouterr().out
    assert "clinic" in out and "Health" in out
    voters = pd.read_csv(CITY / "voter_roll.csv", dtype=str)
    assert not any(f" {v} " in out for v in voters["last_name"].head(300))


def test_inventory_save_crosswalk_round_trip(city_catalog, tmp_path, capsys):
    path = city_catalog.save(tmp_path / "catalog.yaml")
    assert main(["inventory", str(path), "--save-crosswalk", str(path), "--json"]) == 0
    proposed = json.loads(capsys.readouterr().out)["crosswalk"]
    saved = Catalog.load(path)
    assert len(saved.crosswalk) == len(proposed) > 0
    assert all(e.status == "confirmed" for e in saved.crosswalk)
    assert [e.to_dict()["left"] for e in saved.crosswalk] == [e["left"] for e in proposed]
    text = Path(path).read_text()
    saved.save(path)
    assert Path(path).read_text() == text
    assert main(["inventory", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["crosswalk_source"] == "catalog"
    assert len(listed["crosswalk"]) == len(proposed)


def test_inventory_cli_bad_catalog_exit_2(tmp_path, capsys):
    assert main(["inventory", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
