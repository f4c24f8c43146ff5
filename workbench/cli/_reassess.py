"""``workbench reassess CATALOG --register R``: re-check reviewed releases when the world changes.

See :mod:`workbench.scenarios._register`. Exit 1 when a release now breaks its policy, so a
scheduled job (cron, a CI pipeline) fails loudly.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    r = subparsers.add_parser(
        "reassess",
        help="re-check reviewed releases when their data, attackers' data or policies change",
        description=(
            "Recompute the content hashes of everything each registered release was assessed "
            "against; re-evaluate the stale ones with today's data, show the risk delta and exit "
            "1 when a release now breaks its policy. Meant to run as a scheduled job."
        ),
    )
    r.add_argument("catalog", metavar="CATALOG", help="today's catalog YAML")
    r.add_argument(
        "--register",
        metavar="REGISTER.jsonl",
        help="the register written by `workbench scenarios --register` (default: "
        "reviews/releases.jsonl beside the catalog)",
    )
    r.add_argument("--force", action="store_true", help="re-evaluate every release, changed or not")
    r.add_argument(
        "--bundle",
        metavar="BUNDLE.json",
        help="a scenario-review bundle to mark: its scenario section then shows the review as "
        "current or stale, with what changed (the dashboard and `workbench report` show it)",
    )
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.set_defaults(func=run_reassess)


def run_reassess(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..governance.catalog import Catalog
    from ..scenarios import reassess
    from . import print_json

    if args.register is None:
        args.register = str(Path(args.catalog).parent / "reviews" / "releases.jsonl")
    result = reassess(Catalog.load(args.catalog), args.register, force=args.force)
    if args.bundle:
        mark_bundle(args.bundle, result)
    if args.json:
        print_json(result.to_dict())
    else:
        for r in result.releases:
            print(r.words)
        if not result.releases:
            print("the register holds no reviewed release")
    return 1 if result.breaks_policy else 0


def mark_bundle(path: str, result: Any) -> None:
    """Record the re-assessment in a bundle's scenario section (atomically, leak-checked)."""
    from dataclasses import replace

    from ..errors import ConfigError
    from ..review.bundle import AssessmentBundle

    bundle = AssessmentBundle.load(path)
    if not bundle.scenarios:
        raise ConfigError(f"{path}: the bundle holds no scenario review to mark")
    scenarios = {**bundle.scenarios, "reassessment": result.to_dict()}
    replace(bundle, scenarios=scenarios).save(path)
