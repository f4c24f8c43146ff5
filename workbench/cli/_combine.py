"""``workbench combine``: cumulative risk of joining catalog datasets on a shared key."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ParameterError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "combine",
        help="risk of the merged table when departments join on a shared key",
        description="Join the named catalog datasets on KEY (a shared pseudonym) and compare "
        "the merged table's risk (union of QIs) with each input's: delta in "
        "uniqueness, records at risk and average risk, and the added attribute "
        "that drives the increase. For the synthetic city without a key column the "
        "key is attached in memory from the ground truth (demo path).",
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog file")
    p.add_argument(
        "--datasets", required=True, help="two or more catalog dataset names, comma-separated"
    )
    p.add_argument("--key", default="person_key", help="join key column (default person_key)")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.2,
        help="records-at-risk threshold on 1/k (default 0.2)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="add the full risk profile of the merged table (workbench assess)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..governance.catalog import Catalog
    from ..linkage import combine_catalog
    from . import print_json

    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    if len(names) < 2:
        raise ParameterError("datasets", args.datasets, "two or more names, comma-separated")
    if not 0 < args.threshold <= 1:
        raise ParameterError("threshold", args.threshold, "a number in (0, 1]")
    catalog = Catalog.load(args.catalog)
    res = combine_catalog(
        catalog, names, key=args.key, threshold=args.threshold, profile=args.profile
    )
    if args.json:
        print_json(res.to_dict())
        return 0
    print(f"join of {', '.join(res.datasets)} on {res.key}: {res.joined_records:,} merged records")
    if res.key_source != "column":
        print(f"  ({res.key_source})")
    print(f"  {'table':<24} {'records':>9} {'k':>4} {'unique':>8} {'at risk':>8} {'avg risk':>9}")
    for inp in res.inputs:
        r = inp.risk
        print(
            f"  {inp.name:<24} {r.records:>9,} {r.k:>4} {r.uniqueness:>8.1%} "
            f"{r.records_at_risk:>8.1%} {r.average_risk:>9.3f}"
        )
    c = res.combined
    print(
        f"  {'merged':<24} {c.records:>9,} {c.k:>4} {c.uniqueness:>8.1%} "
        f"{c.records_at_risk:>8.1%} {c.average_risk:>9.3f}"
    )
    for name, d in res.delta.items():
        print(
            f"  delta vs {name} (same records): uniqueness {d['uniqueness']:+.1%}, "
            f"at risk {d['records_at_risk']:+.1%}, average risk {d['average_risk']:+.3f}"
        )
    if res.main_driver:
        print(f"  main driver of the increase: {res.main_driver}")
    return 0
