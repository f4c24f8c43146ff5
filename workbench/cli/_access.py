"""``workbench access``: grant, revoke and review roles (privilege creep, expired grants)."""

from __future__ import annotations

import argparse

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "access",
        help="grant, revoke and review roles",
        description="Roles (steward, analyst, reviewer by default; WORKBENCH_ROLES names a YAML) "
        "decide whether a person sees raw rows, de-identified rows or aggregates only. Events "
        "go to the access log (default .workbench/access.jsonl or WORKBENCH_ACCESS_LOG).",
    )
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    r = asub.add_parser("review", help="who holds which role; flag unused and expired grants")
    r.add_argument("--now", help="review as of this date (YYYY-MM-DD)")
    r.add_argument("--unused-days", type=int, default=90)
    r.add_argument("--log", help="access log file")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_review)

    r.add_argument("--use-log", help="data-use log for real last use (default WORKBENCH_USE_LOG)")

    an = asub.add_parser(
        "anomalies",
        help="flag unusual data use: first-ever combinations, volume spikes, use outside a "
        "project, unusual raw reads, repeated narrow queries, reads without a purpose",
    )
    an.add_argument(
        "--use-log", help="data-use log (default WORKBENCH_USE_LOG or .workbench/use.jsonl)"
    )
    an.add_argument("--log", help="access log, for project periods (default WORKBENCH_ACCESS_LOG)")
    an.add_argument("--baseline-days", type=int, default=30)
    an.add_argument("--spike-factor", type=float, default=10.0)
    an.add_argument("--narrow-rows", type=int, default=5)
    an.add_argument("--narrow-count", type=int, default=10)
    an.add_argument("--json", action="store_true")
    an.set_defaults(func=_anomalies)

    for name, func in (("grant", _grant), ("revoke", _revoke)):
        g = asub.add_parser(name, help=f"{name} a role")
        g.add_argument("user")
        g.add_argument("role")
        g.add_argument("--project", help="project the role is for")
        if name == "grant":
            g.add_argument("--until", help="project end date (YYYY-MM-DD)")
            g.add_argument("--roles", help="roles YAML (default built-in or WORKBENCH_ROLES)")
        g.add_argument("--by", help="who grants/revokes (default WORKBENCH_USER, then USER)")
        g.add_argument("--log", help="access log file")
        g.set_defaults(func=func)


def _review(args: argparse.Namespace) -> int:
    from ..governance.access import AccessLog

    review = AccessLog(args.log).review(
        now=args.now, unused_days=args.unused_days, use_log=args.use_log
    )
    if args.json:
        print_json(review.to_dict())
        return 1 if review.flags else 0
    print(f"access review as of {review.now[:10]}: {len(review.grants)} grant(s)")
    for g in review.grants:
        project = f" project {g.project}" if g.project else ""
        until = f" until {g.until[:10]}" if g.until else ""
        used = g.last_used[:10] if g.last_used else "never"
        print(f"  {g.user:<16} {g.role:<10}{project}{until}  last used {used}")
    for f in review.flags:
        print(f"  FLAG {f.kind}: {f.message}")
    return 1 if review.flags else 0


def _grant(args: argparse.Namespace) -> int:
    from ..governance.access import AccessLog, AccessPolicy

    access = AccessPolicy.load(args.roles) if args.roles else AccessPolicy.default()
    ev = AccessLog(args.log).grant(
        args.user, args.role, project=args.project, until=args.until, by=args.by, access=access
    )
    print(
        f"granted {ev['role']} to {ev['user']}"
        + (f" until {ev['until'][:10]}" if ev["until"] else "")
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from ..governance.access import AccessLog

    ev = AccessLog(args.log).revoke(args.user, args.role, project=args.project, by=args.by)
    print(f"revoked {ev['role']} from {ev['user']}")
    return 0


def _anomalies(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import ConfigError
    from ..governance.access import AccessLog
    from ..governance.anomalies import detect_anomalies
    from ..governance.usage import default_use_log_path, project_periods, read_use_log

    path = Path(args.use_log) if args.use_log else default_use_log_path()
    if path is None or not path.is_file():
        raise ConfigError(f"data-use log {path} not found (reads of catalog datasets write it)")
    report = detect_anomalies(
        read_use_log(path),
        project_periods(AccessLog(args.log)),
        baseline_days=args.baseline_days,
        spike_factor=args.spike_factor,
        narrow_rows=args.narrow_rows,
        narrow_count=args.narrow_count,
    )
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"{report.events:,} data-use records; {len(report.findings)} finding(s)")
        for f in report.findings:
            print(f"  {f.day} {f.detector:<18} {f.reason}  (records {list(f.records)})")
    return 1 if report.findings else 0
