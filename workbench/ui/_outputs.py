"""Where a notebook panel writes and how each write is recorded: one rule for every panel.

The tuner and the steps panel both save files into the notebook's output folder, named after
the dataset, with the dataset's file as the output's source and a provenance record kept in the
session state (an output never exists without its record). Widget-free, so controllers and
tests use it without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .state import safe_name

__all__ = ["dataset_sources", "output_path", "record_output"]


def output_path(store: Any, output_dir: Path | None, suffix: str) -> Path:
    """``output_dir / <dataset name><suffix>``; a panel without an output folder may not write."""
    if output_dir is None:
        raise ParameterError("output_dir", None, "an output folder given by the notebook")
    ds = store.state.dataset
    return Path(output_dir) / f"{safe_name(ds.name if ds else None)}{suffix}"


def dataset_sources(store: Any) -> list[str]:
    """The loaded file an output derives from (an upload has no path to name)."""
    ds = store.state.dataset
    if ds is not None and ds.source and not ds.source.startswith("upload:"):
        return [ds.source]
    return []


def record_output(store: Any, operation: str, path: Path, parameters: Mapping[str, Any]) -> None:
    """Record ``path`` in provenance and keep the record in the session's state."""
    from ..governance import record_operation

    st = store.state
    rec = record_operation(
        operation, inputs=[st.dataset], outputs=[path], parameters=dict(parameters)
    )
    if rec is not None:
        store.set(provenance=(*st.provenance, rec))
