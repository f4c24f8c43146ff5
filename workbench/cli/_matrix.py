"""``workbench matrix``: join-risk matrix and advice for every pair of catalog datasets."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ParameterError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "matrix",
        help="linkage and join risk for every pair of catalog datasets, with advice",
        description="For every pair (and with --triples every triple of internal datasets): "
        "exact linkage risk on the harmonized shared facts, cumulative risk of "
        "joining on the key, a score weighing likelihood against the harm of the "
        "sensitive attributes exposed, and advice: permit, permit after "
        "de-identification (which fields to coarsen, risk after) or keep isolated.",
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog file")
    p.add_argument("--triples", action="store_true", help="also assess triples")
    p.add_argument("--key", default="person_key", help="join key column (default person_key)")
    p.add_argument(
        "--weights",
        metavar="CAT=W,...",
        help="harm weights overriding the defaults, e.g. health=1,income=0.5",
    )
    p.add_argument("--high", type=float, default=0.2, help="score threshold of high (0.2)")
    p.add_argument("--medium", type=float, default=0.05, help="score threshold of medium (0.05)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _weights(text: str | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if not text:
        return out
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ParameterError("weights", text, "category=weight pairs, comma-separated")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise ParameterError("weights", text, "numeric weights") from None
    return out


def run(args: argparse.Namespace) -> int:
    from ..governance.catalog import Catalog
    from ..linkage import join_risk_matrix
    from . import print_json

    catalog = Catalog.load(args.catalog)
    m = join_risk_matrix(
        catalog,
        triples=args.triples,
        weights=_weights(args.weights),
        levels={"high": args.high, "medium": args.medium},
        key=args.key,
    )
    if args.json:
        print_json(m.to_dict())
        return 0
    print(f"join-risk matrix of {m.catalog} ({len(m.datasets)} datasets, {m.seconds:.1f} s)")
    header = (
        f"{'datasets':<32} {'kind':<14} {'likely':>7} {'harm':>5} {'score':>6} {'level':<7} advice"
    )
    print(header)
    print("-" * len(header))
    for p in (*m.pairs, *m.triples):
        print(
            f"{' + '.join(p.datasets):<32} {p.kind:<14} {p.likelihood:>7.1%} {p.harm:>5.2f} "
            f"{p.score:>6.3f} {p.level:<7} {p.advice.decision.replace('_', ' ')}"
        )
        for c in p.advice.coarsen:
            print(f"{'':<34}coarsen {c}")
    return 0
