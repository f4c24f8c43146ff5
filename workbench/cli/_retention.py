"""``workbench retention``: list derived outputs past their horizon; ``--purge`` deletes them."""

from __future__ import annotations

import argparse

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retention",
        help="list (and purge) derived outputs past their retention horizon",
        description="Horizon = creation time in provenance + the (harmonized) retention period. "
        "--purge deletes only files the workbench recorded as outputs whose hash still matches, "
        "and records the purge in provenance.",
    )
    p.add_argument("--catalog", help="catalog: use the current harmonized policies' retention")
    p.add_argument("--log", help="provenance log (default .workbench/provenance.jsonl)")
    p.add_argument("--purge", action="store_true", help="delete the outputs that are due")
    p.add_argument("--now", help="evaluate as of this date (YYYY-MM-DD), default now")
    p.add_argument("--user", help="who purges (default WORKBENCH_USER, then USER)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..governance.retention import purge, retention_status

    if args.purge:
        report = purge(args.log, catalog=args.catalog, now=args.now, user=args.user)
    else:
        report = retention_status(args.log, catalog=args.catalog, now=args.now)
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"retention as of {report.now} ({len(report.items)} derived output(s) in {report.log})")
    for item in report.items:
        print(
            f"  {item.status.upper():<14} {item.path}  created {item.created[:10]}  "
            f"horizon {(item.horizon or '-')[:10]}  policy {item.policy or '-'} "
            f"({item.retention or '-'})"
        )
        if item.status not in ("kept",):
            print(f"                 {item.advice}")
    if report.purge_record is not None:
        print(f"purged {len(report.purged)} file(s); provenance record {report.purge_record}")
    elif report.due:
        print(f"{len(report.due)} output(s) due for deletion; run with --purge to delete them")
    return 0
