"""``workbench dashboard [BUNDLE] [--port N]``: serve the read-only ethics-review dashboard."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ..bundle import AssessmentBundle
from ..serve import dashboard_notebook, voila_command


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="serve the read-only Voila ethics-review dashboard")
    p.add_argument(
        "bundle",
        nargs="?",
        help="assessment bundle JSON (default: a sample bundle built from the city data)",
    )
    p.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default 8866)")
    p.add_argument("--no-preheat", action="store_true", help="do not keep a preheated kernel")
    p.add_argument(
        "--print-command", action="store_true", help="print the Voila command instead of running it"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.bundle:
        bundle_path = Path(args.bundle).resolve()
        AssessmentBundle.load(bundle_path)  # fail early, with a clear message, on a bad bundle
    else:
        from ..demo import sample_bundle_path

        bundle_path = sample_bundle_path()
    cmd = voila_command(dashboard_notebook(), args.port, preheat=not args.no_preheat)
    env = dict(os.environ, WORKBENCH_BUNDLE=str(bundle_path), WORKBENCH_ROLE="reviewer")
    if args.print_command:
        print(" ".join(cmd))
        return 0
    print(
        f"ethics-review dashboard for {bundle_path.name}: http://127.0.0.1:{args.port}/", flush=True
    )
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 0
    finally:
        sys.stdout.flush()
