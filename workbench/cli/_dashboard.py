"""``workbench dashboard [BUNDLE]``: serve the read-only ethics-review dashboard, or export it.

Served: Voila on 127.0.0.1 with at most ``--max-kernels`` kernels (``--pool-size`` of them
preheated); a viewer past that gets a polite HTTP 503 page. ``--static OUT.html`` writes the same
tables and charts as one self-contained file instead (no server, no kernel, no CDN), for
audiences larger than the server can hold.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import ParameterError
from ..serve import (
    DASHBOARD_EXTENSION_DENYLIST,
    DEFAULT_MAX_KERNELS,
    DEFAULT_POOL_SIZE,
    dashboard_notebook,
    export_static,
    plotlyjs_url,
    run_foreground,
    voila_command,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="serve the read-only Voila ethics-review dashboard")
    p.add_argument(
        "bundle",
        nargs="?",
        help="assessment bundle JSON (default: a sample bundle built from the city data)",
    )
    p.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default 8866)")
    p.add_argument(
        "--max-kernels",
        type=int,
        default=DEFAULT_MAX_KERNELS,
        help=f"most viewers served at once, preheated kernels included (default "
        f"{DEFAULT_MAX_KERNELS}, ~210 MB each); past it viewers get a 'dashboard full' page",
    )
    p.add_argument(
        "--pool-size",
        type=int,
        default=DEFAULT_POOL_SIZE,
        help=f"kernels kept preheated for the next viewers (default {DEFAULT_POOL_SIZE})",
    )
    p.add_argument("--no-preheat", action="store_true", help="keep no preheated kernel")
    p.add_argument(
        "--cull-idle-seconds",
        type=int,
        default=300,
        help="free a viewer's kernel after this many idle seconds (default 300)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header is NAME (e.g. behind a reverse proxy); "
        "by default only localhost and loopback addresses",
    )
    p.add_argument(
        "--static",
        metavar="OUT.html",
        help="write the dashboard as one self-contained HTML file (no server) and exit",
    )
    p.add_argument(
        "--identifiers",
        metavar="DATA",
        help="with --static: refuse the export if a direct-identifier value of this data file "
        "(roles suggested from the data) occurs in it",
    )
    p.add_argument(
        "--print-command", action="store_true", help="print the Voila command instead of running it"
    )
    p.set_defaults(func=_run)


def _forbidden(data_path: str | None) -> set[str]:
    if not data_path:
        return set()
    from ..loading.readers import load
    from ..review.assessment import direct_identifier_columns
    from ..review.bundle import identifier_values

    dataset = load(data_path)
    return identifier_values(dataset, direct_identifier_columns(dataset))


def _run(args: argparse.Namespace) -> int:
    if args.identifiers and not args.static:
        raise ParameterError("--identifiers", args.identifiers, "to be used with --static")
    if args.bundle:
        bundle_path = Path(args.bundle).resolve()
        from ..review.bundle import AssessmentBundle

        AssessmentBundle.load(bundle_path)  # fail early, with a clear message, on a bad bundle
    else:
        from ..samples.demo import sample_bundle_path

        bundle_path = sample_bundle_path()
    if args.static:
        from . import record

        out = export_static(bundle_path, args.static, forbidden=_forbidden(args.identifiers))
        record(
            args,
            "dashboard-export",
            inputs=[str(bundle_path), *([args.identifiers] if args.identifiers else [])],
            outputs=[str(out)],
            parameters={"identifiers_checked": bool(args.identifiers)},
        )
        print(f"static dashboard written to {out}")
        return 0
    cmd = voila_command(
        dashboard_notebook(),
        args.port,
        preheat=not args.no_preheat,
        cull_idle_seconds=args.cull_idle_seconds,
        max_kernels=args.max_kernels,
        pool_size=args.pool_size,
        hostnames=args.allow_host,
        static_review=bundle_path,
        extension_denylist=DASHBOARD_EXTENSION_DENYLIST,  # no plotly widgets on the dashboard
    )
    env = dict(
        os.environ,
        WORKBENCH_BUNDLE=str(bundle_path),
        WORKBENCH_ROLE="reviewer",
        WORKBENCH_PLOTLYJS=plotlyjs_url(),  # the kernels link the server's cacheable copy
    )
    if args.print_command:
        print(" ".join(cmd))
        return 0
    print(
        f"ethics-review dashboard for {bundle_path.name}: http://127.0.0.1:{args.port}/ "
        f"(no session needed, any number of viewers); live page with a kernel per viewer: "
        f"http://127.0.0.1:{args.port}/live (at most {args.max_kernels} at once)",
        flush=True,
    )
    return run_foreground(cmd, env)
