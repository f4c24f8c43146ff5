"""``workbench frontier``: the risk-utility frontier over a grid of k and suppression limits."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ParameterError
from ._anonymize import add_common, hierarchies_from_args, load_data


def _k_range(text: str) -> list[int]:
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            values = list(range(a, b + 1))
        else:
            values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B or a,b,c; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected k values >= 1; got {text!r}")
    return values


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers; got {text!r}"
        ) from None


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "frontier",
        help="risk-utility frontier: optimal transformations for a grid of k and suppression",
        description="Search the optimal transformation for every k in --k-range and every "
        "suppression limit (with and without l-diversity when --l is given) and print the "
        "Pareto-optimal (risk, information loss) points.",
    )
    add_common(p)
    p.add_argument("--k-range", type=_k_range, default=list(range(2, 21)), help="e.g. 2-20")
    p.add_argument("--suppression", type=_floats, default=[0.0, 0.05, 0.1], help="e.g. 0,0.05")
    p.add_argument(
        "--risk",
        choices=["average_risk", "records_at_risk", "highest_risk"],
        default="average_risk",
        help="risk axis (default average prosecutor risk)",
    )
    p.add_argument("--threshold", type=float, default=0.2, help="risk threshold (records at risk)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..deid.search.frontier import frontier
    from . import print_json

    if any(not 0 <= s <= 1 for s in args.suppression):
        raise ParameterError("--suppression", args.suppression, "shares in [0, 1]")
    data = load_data(args.file, args.allow_dir, args)
    res = frontier(
        data,
        args.qi,
        hierarchies_from_args(args),
        k_values=args.k_range,
        suppressions=args.suppression,
        l=args.l_value,
        l_kind=args.l_kind,
        sensitive=args.sensitive,
        metric=args.metric,
        risk=args.risk,
        threshold=args.threshold,
    )
    if args.json:
        print_json(res.to_dict())
        return 0
    print(
        f"Risk-utility frontier ({res.risk_measure} vs {res.metric} loss), "
        f"{len(res.points)} targets, {res.transformations_checked} transformations checked:"
    )
    for p in res.frontier:
        levels = ", ".join(f"{q}={v}" for q, v in (p.levels or {}).items())
        extra = f", l={p.l}" if p.l else ""
        print(
            f"  k={p.k}, suppression={p.suppression:g}{extra}: risk {p.risk(res.risk_measure):.4f}, "
            f"loss {p.score:.4f}, suppressed {p.suppressed} [{levels}]"
        )
    return 0
