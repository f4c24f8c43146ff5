"""Deferred imports of heavy libraries, so a small command pays only for what it uses.

pandas and ``pyarrow.compute`` take about half a second to import on a quiet machine, more than a
whole ``workbench assess`` of a small file needs otherwise (issue 11: under 0.5 s). Modules on
that path bind ``pd = lazy_module("pandas")``: the library is imported on the first attribute
access, by whichever function actually needs it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class _LazyModule:
    """Stand-in for a module, imported on first attribute access (then a plain lookup)."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            self._module = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A module imported on first use (typed ``Any``: use it like the module itself)."""
    return _LazyModule(name)


def is_pandas(obj: object, kind: str = "DataFrame") -> bool:
    """``isinstance(obj, pandas.<kind>)`` without importing pandas (if it is not imported, no
    object can be a pandas object)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, getattr(pd, kind))
