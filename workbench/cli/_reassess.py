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
        required=True,
        metavar="REGISTER.jsonl",
        help="the register written by `workbench scenarios --register`",
    )
    r.add_argument("--force", action="store_true", help="re-evaluate every release, changed or not")
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.set_defaults(func=run_reassess)


def run_reassess(args: argparse.Namespace) -> int:
    from ..catalog import Catalog
    from ..scenarios import reassess
    from . import print_json

    result = reassess(Catalog.load(args.catalog), args.register, force=args.force)
    if args.json:
        print_json(result.to_dict())
    else:
        for r in result.releases:
            print(r.words)
        if not result.releases:
            print("the register holds no reviewed release")
    return 1 if result.breaks_policy else 0
