"""``workbench lab``: open JupyterLab on ``notebooks/`` with the sample data ready."""

from __future__ import annotations

import argparse
import subprocess

from ..serve import lab_command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="open JupyterLab on the workbench notebooks")
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..samples import sample_path

    sample_path("city")  # fails clearly if the sample data is missing
    cmd = lab_command(args.port, open_browser=not args.no_browser)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 0
