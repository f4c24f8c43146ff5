"""Dataset loader panel: pick a sample or upload a file; roles are suggested on load.

Uploaded content is untrusted: only its extension is taken from the uploaded name (and only if
the loader supports it), the bytes are written to a fresh temporary file whose path the panel
chooses, loaded with :func:`workbench.loading.readers.load`, and the temporary file is deleted. No path is
ever built from a widget value. Files on the server are loaded from the notebook's parameters
(``data_path``), which only the notebook's author controls.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..dataset import Dataset
from ..errors import LoadError, ParameterError
from ..loading.readers import SUPPORTED_EXTENSIONS, load
from ..profiling.roles import RoleMap, suggest_roles
from ._common import ErrorBox, guarded
from .state import Store, reacting, safe_name

__all__ = [
    "LoaderPanel",
    "load_sample",
    "load_upload",
    "sample_choices",
    "MAX_UPLOAD_BYTES",
    "DEFAULT_SAMPLE",
]

#: Largest accepted upload; larger files belong on the server, loaded by path.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
DEFAULT_SAMPLE = "city.clinic"
# Registered samples that are not single tables to assess (catalog, ground truth, a toy table).
_NOT_TABLES = {"city", "city.ground_truth", "survey.francdat"}


def sample_choices() -> list[tuple[str, str]]:
    """``(label, name)`` of every sample table, for a dropdown."""
    from ..samples import list_samples

    out = []
    for info in list_samples(count_rows=False):
        if info.name in _NOT_TABLES or not info.path.exists():
            continue
        desc = info.description.split(";")[0]
        label = f"{info.name}: {desc}"
        out.append((label if len(label) <= 70 else label[:67] + "...", info.name))
    return out


def load_sample(name: str) -> tuple[Dataset, RoleMap | None]:
    """Load a registered sample; city datasets come with the roles their catalog declares."""
    from ..samples import sample_path

    short = name.split(".", 1)[1] if name.startswith("city.") else name
    path = sample_path(name)
    if name.startswith("city.") and short not in ("population",):
        from ..governance.catalog import Catalog

        catalog = Catalog.load(sample_path("city"))
        if short in catalog.datasets:
            entry = catalog.entry(short)
            ds = catalog.load_dataset(short)
            roles = None
            if entry.roles is not None:
                roles = RoleMap.from_columns(
                    ds.columns,
                    direct_identifiers=[c for c in entry.direct_identifiers if c in ds.columns],
                    quasi_identifiers=[c for c in entry.quasi_identifiers if c in ds.columns],
                    sensitive=[c for c in entry.sensitive if c in ds.columns],
                )
            return ds, roles
    return load(path, name=safe_name(name)), None


def load_upload(content: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES) -> Dataset:
    """Load uploaded bytes safely (see the module docstring).

    Raises :class:`ParameterError` for unsupported extensions or oversized content; loading
    errors are the loader's own (they name the uploaded file, not the temporary one).
    """
    if len(content) > max_bytes:
        raise ParameterError(
            "upload", f"{len(content):,} bytes", f"a file of at most {max_bytes:,} bytes"
        )
    ext = Path(str(filename)).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise ParameterError(
            "upload", ext or "(no extension)", f"one of {', '.join(sorted(SUPPORTED_EXTENSIONS))}"
        )
    stem = safe_name(Path(str(filename)).stem, default="upload")
    tmpdir = tempfile.mkdtemp(prefix="workbench-upload-")
    try:
        fd, tmp = tempfile.mkstemp(suffix=ext, dir=tmpdir)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        try:
            ds = load(tmp, name=stem)
        except LoadError as exc:  # name the upload, never the temporary path
            raise type(exc)(str(exc).replace(tmp, f"uploaded file {stem}{ext}")) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return replace(ds, source=f"upload:{stem}{ext}")


def _describe(ds: Dataset) -> str:
    dept = f" ({html.escape(ds.department)})" if ds.department else ""
    src = Path(ds.source).name if ds.source else "in-memory table"
    sha = f", sha256 {ds.sha256[:12]}" if ds.sha256 else ""
    return (
        f'<div class="wb-dataset-info"><b>{html.escape(ds.name)}</b>{dept}: '
        f"{ds.n_rows:,} records, {len(ds.columns)} columns "
        f"<span style='color:#666'>({html.escape(src)}{sha})</span></div>"
    )


class LoaderPanel:
    """Sample picker + upload; loading a dataset resets the state and suggests roles.

    Parameters
    ----------
    store : Store
    sample : str
        Sample loaded by :meth:`load_initial` when no ``data_path`` is given.
    data_path : path, optional
        A server-side file chosen by the notebook's author (parameters cell).
    """

    def __init__(
        self,
        store: Store,
        sample: str = DEFAULT_SAMPLE,
        data_path: str | os.PathLike | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.store = store
        self.data_path = data_path
        self.max_upload_bytes = max_upload_bytes
        self.errors = ErrorBox()
        choices = sample_choices()
        names = [n for _, n in choices]
        self.sample = widgets.Dropdown(
            options=choices,
            value=sample if sample in names else (names[0] if names else None),
            description="Sample",
            layout=widgets.Layout(width="560px"),
        )
        self.sample.add_class("wb-sample-picker")
        self.upload = widgets.FileUpload(
            accept=",".join(sorted(SUPPORTED_EXTENSIONS)),
            multiple=False,
            description="Upload a file",
        )
        self.upload.add_class("wb-upload")
        self.info = widgets.HTML(value="")
        self.sample.observe(guarded(self.errors)(self._on_sample), names="value")
        self.upload.observe(guarded(self.errors)(self._on_upload), names="value")
        store.subscribe(reacting(self.errors)(self._on_state))
        self.ui = widgets.VBox(
            [
                widgets.HTML("<h3>1. Dataset</h3>"),
                widgets.HBox([self.sample, self.upload]),
                self.info,
                self.errors.widget,
            ]
        )

    # ------------------------------------------------------------------ actions
    def load_initial(self) -> None:
        """Load ``data_path`` or the chosen sample (errors shown in the panel)."""
        guarded(self.errors)(self._load_initial)()

    def _load_initial(self) -> None:
        if self.data_path is not None:
            ds = load(self.data_path)
            self.set_dataset(ds)
            self.sample.value = None  # a file, not a sample: the picker must not disagree
        elif self.sample.value is not None:
            self.set_dataset(*load_sample(self.sample.value))

    def set_dataset(self, dataset: Dataset, roles: RoleMap | None = None) -> None:
        """Make ``dataset`` current; roles are the given ones, else the suggestions."""
        suggestions = suggest_roles(dataset)
        self.store.load_dataset(
            dataset, suggestions=suggestions, roles=roles or suggestions.role_map
        )

    def _on_sample(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.set_dataset(*load_sample(change["new"]))

    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"] or ()
        if not files:
            return
        item = files[0]
        content = item.get("content")
        data = bytes(content) if content is not None else b""
        name = str(item.get("name", "upload"))
        self.upload.value = ()  # do not keep the content in the widget (or send it back)
        self.set_dataset(load_upload(data, name, self.max_upload_bytes))
        self.sample.value = None  # the picker no longer claims a sample is loaded

    def _on_state(self, state: Any, changed: frozenset[str]) -> None:
        if "dataset" in changed:
            self.info.value = _describe(state.dataset) if state.dataset is not None else ""
