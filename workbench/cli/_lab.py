"""``workbench lab``: open JupyterLab on ``notebooks/`` with the sample data ready."""

from __future__ import annotations

import argparse

from ..serve import lab_command, run_foreground


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="open JupyterLab on the workbench notebooks")
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..samples import sample_path

    sample_path("city")  # fails clearly if the sample data is missing
    # own process group: stopping `workbench lab` stops JupyterLab and its kernels
    return run_foreground(lab_command(args.port, open_browser=not args.no_browser))
