"""Which optional extra provides which module: one table, used by the CLI and the Python API.

The core installs only what ``profile``, ``assess``, ``anonymize``, ``check`` and ``provenance``
need. Notebooks and the dashboard (``app``), Splink (``linkage``), Spark (``spark``) and OpenDP
(``dp``) are extras; a command that needs a missing one fails with :class:`MissingExtraError`
naming the extra instead of a raw ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError

__all__ = ["EXTRA_OF", "extra_for", "require"]

#: top-level module -> the extra that installs it
EXTRA_OF: dict[str, str] = {
    "plotly": "app",
    "ipywidgets": "app",
    "IPython": "app",
    "ipykernel": "app",
    "jupyterlab": "app",
    "jupyter_server": "app",
    "voila": "app",
    "splink": "linkage",
    "pyspark": "spark",
    "grpc": "spark",
    "zstandard": "spark",
    "opendp": "dp",
    "mbi": "synth",
    "sklearn": "synth",
    "polars": "polars",
    "ibis": "postgres",
    "psycopg": "postgres",
}


def extra_for(exc: ModuleNotFoundError) -> str | None:
    """The extra that would provide the module ``exc`` failed to import, if it is one of ours."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    return EXTRA_OF.get(name)


def require(module: str, feature: str = "this feature") -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        extra = extra_for(exc)
        if extra is None:
            raise
        raise MissingExtraError(extra, exc.name or module, feature) from None
