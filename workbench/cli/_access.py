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

    review = AccessLog(args.log).review(now=args.now, unused_days=args.unused_days)
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
