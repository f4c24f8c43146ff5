"""The core must never import UI libraries: panels and notebooks call the core, not the reverse."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import workbench

UI_MODULES = ("ipywidgets", "IPython", "ipykernel", "voila")


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.startswith(("workbench.ui", "workbench.review.charts")):
            continue
        names.append(info.name)
    return names


def test_core_modules_do_not_import_ui() -> None:
    modules = _core_modules()
    assert "workbench.dataset" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {UI_MODULES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported UI modules: {out.stdout}"


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, check=True
    )
    assert "profile" in out.stdout


def test_facade_exports_resolve() -> None:
    """Every public name of the facade resolves (no stale entries after refactors)."""
    missing = [n for n in workbench.__all__ if getattr(workbench, n, None) is None]
    assert missing == []
    assert callable(workbench.assess) and callable(workbench.load)
