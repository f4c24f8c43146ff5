"""Launch the read-only Voila dashboard and JupyterLab on the project's notebooks.

Voila is started as a subprocess (the core never imports it) with the security posture measured in
``shared/guides/notebooks-and-voila.md``: loopback only, sources stripped, tracebacks hidden,
a file allowlist limited to images, idle kernels culled (closed tabs otherwise leak kernels:
voila#1458) and one preheated kernel so the first page appears in a few seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import ConfigError

__all__ = ["notebooks_dir", "dashboard_notebook", "voila_command", "lab_command", "IMAGE_ALLOWLIST"]

IMAGE_ALLOWLIST = r".*\.(png|jpg|jpeg|gif|svg)$"


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the source checkout the package runs from."""
    candidate = Path(__file__).resolve().parents[1] / "notebooks"
    if not candidate.is_dir():
        raise ConfigError(
            f"notebooks folder not found at {candidate}; run from a source checkout "
            "(git clone, then `bash .ci/setup.sh start`)"
        )
    return candidate


def dashboard_notebook() -> Path:
    """Path of the ethics-review dashboard notebook."""
    path = notebooks_dir() / "dashboard" / "ethics_review.ipynb"
    if not path.exists():
        raise ConfigError(f"dashboard notebook missing: {path}")
    return path


def voila_command(
    notebook: Path, port: int, *, preheat: bool = True, cull_idle_seconds: int = 300
) -> list[str]:
    """Command line that serves ``notebook`` read-only with Voila on 127.0.0.1:``port``."""
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--VoilaConfiguration.file_allowlist=['{IMAGE_ALLOWLIST}']",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
    ]
    if preheat:
        cmd += ["--preheat_kernel=True", "--pool_size=1"]
    return cmd


def lab_command(port: int | None = None, *, open_browser: bool = True) -> list[str]:
    """Command line that opens JupyterLab on ``notebooks/``."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={notebooks_dir()}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if port:
        cmd.append(f"--ServerApp.port={port}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd
