"""Loader panel: samples with their catalog roles; uploads treated as untrusted content."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from _helpers_ui import tiny_frame

from workbench.errors import LoadError, ParameterError
from workbench.profiling.roles import Role
from workbench.ui import loader as loader_mod
from workbench.ui.loader import LoaderPanel, load_sample, load_upload, sample_choices
from workbench.ui.state import Store

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _csv_bytes() -> bytes:
    return tiny_frame().to_csv(index=False).encode()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Route the loader's temporary directories into ``tmp_path`` to check their cleanup."""
    real = tempfile.mkdtemp
    monkeypatch.setattr(
        loader_mod.tempfile, "mkdtemp", lambda prefix="": real(prefix=prefix, dir=tmp_path)
    )
    return tmp_path


def test_sample_choices_are_tables_only() -> None:
    names = [n for _, n in sample_choices()]
    assert "city.clinic" in names and "adult" in names
    assert "city" not in names and "city.ground_truth" not in names


def test_city_sample_comes_with_catalog_roles() -> None:
    ds, roles = load_sample("city.clinic")
    assert ds.n_rows > 1000 and ds.department == "Health"
    assert roles.quasi_identifiers == ("patient_dob", "sex", "postal_code")
    assert roles.direct_identifiers == ("visit_id",)
    assert roles.sensitive == ("diagnosis",)
    assert set(roles.columns) == set(ds.columns)  # every column has a role


def test_upload_is_loaded_from_a_private_temp_file_then_deleted(private_tmp) -> None:
    ds = load_upload(_csv_bytes(), "../../somewhere/Clinic Extract.csv")
    assert ds.n_rows == 10 and ds.columns == ["record_id", "age", "zip", "diagnosis"]
    assert ds.name == "Clinic_Extract"
    assert ds.source == "upload:Clinic_Extract.csv"  # never the temp path, never the given path
    assert list(private_tmp.iterdir()) == []  # temp dir and file removed


@pytest.mark.parametrize("name", ["evil.exe", "noextension", "archive.csv.zip", ""])
def test_upload_with_unsupported_extension_is_refused(name) -> None:
    with pytest.raises(ParameterError, match="upload"):
        load_upload(_csv_bytes(), name)


def test_oversized_upload_is_refused_before_writing(private_tmp) -> None:
    with pytest.raises(ParameterError, match="at most 10 bytes"):
        load_upload(_csv_bytes(), "x.csv", max_bytes=10)
    assert list(private_tmp.iterdir()) == []


def test_broken_upload_names_the_upload_not_the_temp_file(private_tmp) -> None:
    ragged = b"a,b,c\n1,2,3\n4,5\n"
    with pytest.raises(LoadError) as info:
        load_upload(ragged, "broken.csv")
    msg = str(info.value)
    assert "uploaded file broken.csv" in msg
    assert str(private_tmp) not in msg and "workbench-upload" not in msg
    assert list(private_tmp.iterdir()) == []


def test_panel_upload_replaces_the_dataset_and_suggests_roles(private_tmp) -> None:
    store = Store()
    panel = LoaderPanel(store)
    panel.load_initial()
    assert store.state.dataset.name == "clinic"
    store.set(risk="stale result")
    panel.upload.value = (
        {
            "name": "mine.csv",
            "type": "text/csv",
            "size": 99,
            "content": memoryview(_csv_bytes()),
            "last_modified": NOW,
        },
    )
    st = store.state
    assert panel.errors.last_error is None
    assert st.dataset.name == "mine" and st.dataset.n_rows == 10
    assert st.risk is None  # results of the previous dataset are gone
    assert st.roles.role_of("record_id") == Role.DIRECT_IDENTIFIER
    assert "10 records" in panel.info.value
    assert panel.upload.value == ()  # content not kept in the widget


def test_panel_shows_upload_errors_instead_of_raising() -> None:
    store = Store()
    panel = LoaderPanel(store)
    panel.upload.value = (
        {
            "name": "x.exe",
            "type": "",
            "size": 3,
            "content": memoryview(b"abc"),
            "last_modified": NOW,
        },
    )
    assert "upload" in panel.errors.last_error
    assert "wb-error" in panel.errors.widget.value
    assert store.state.dataset is None


def test_panel_sample_picker_loads_and_server_file_parameter(adult_csv: Path) -> None:
    store = Store()
    panel = LoaderPanel(store, data_path=adult_csv)
    panel.load_initial()
    assert store.state.dataset.n_rows == 30162
    panel.sample.value = "city.housing"
    assert store.state.dataset.name == "housing"
    assert "household_size" in store.state.roles.quasi_identifiers
