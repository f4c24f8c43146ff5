"""``workbench report BUNDLE -o report.html``: the review as one self-contained HTML file."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render an assessment bundle as a standalone HTML report")
    p.add_argument("bundle", help="assessment bundle JSON (from the notebooks or --bundle)")
    p.add_argument("-o", "--output", required=True, help="HTML file to write (atomically)")
    p.add_argument(
        "--plotlyjs",
        choices=["inline", "cdn"],
        default="inline",
        help="inline plotly.js (works offline, default) or link the CDN (smaller)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..review.report import write_report  # needs the 'app' extra (plotly)

    out = write_report(args.bundle, args.output, plotlyjs=args.plotlyjs)
    print(f"report written to {out}")
    return 0
