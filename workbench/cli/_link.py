"""``workbench link``: simulate a linkage attack of a released file against an attacker's."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from ..errors import ParameterError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "link",
        help="linkage attack: join a released file with an attacker's file on shared QIs",
        description="For every record of RELEASED count the candidates in ATTACKER with the "
        "same harmonized quasi-identifiers (exact), or score pairs with a "
        "Fellegi-Sunter model (--probabilistic, Splink on DuckDB). --truth names a "
        "column present in both files with the true identity, used only to score "
        "the attack. With --catalog, RELEASED and ATTACKER may be dataset names.",
    )
    p.add_argument("released", metavar="RELEASED", help="released data file (or catalog name)")
    p.add_argument("attacker", metavar="ATTACKER", help="attacker's data file (or catalog name)")
    p.add_argument(
        "--on",
        default="auto",
        help="auto (detect and harmonize shared facts), or a,b,c / a=x pairs",
    )
    p.add_argument("--truth", metavar="COLUMN", help="ground-truth identity column (scoring only)")
    p.add_argument(
        "--probabilistic",
        action="store_true",
        help="Fellegi-Sunter linkage tolerating typos and off-by-one ages (Splink)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.9,
        help="match probability to accept a pair (probabilistic; default 0.9)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed of the u sampling (probabilistic; default 2026)",
    )
    p.add_argument(
        "--reference-date",
        metavar="YYYY-MM-DD",
        help="date at which ages are taken (default: the catalog's, else today)",
    )
    p.add_argument(
        "--catalog",
        metavar="CATALOG",
        help="catalog giving reference date, code books and confirmed crosswalk",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _ref(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError("reference-date", text, "a date YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..linkage import link_exact, link_probabilistic
    from ..linkage.crosswalk import hints_from_metadata, propose_crosswalk
    from ..linkage.exact import prepare_pair
    from . import load_source, print_json

    if not 0 < args.threshold < 1:
        raise ParameterError("threshold", args.threshold, "a match probability in (0, 1)")
    ref = _ref(args.reference_date)
    catalog = None
    if args.catalog:
        from ..governance.catalog import Catalog

        catalog = Catalog.load(args.catalog)
        ref = ref or catalog.reference_date
    ref = ref or date.today()

    def get(name: str) -> tuple[Any, str | None]:
        if catalog is not None and name in catalog.datasets and not Path(name).is_file():
            return catalog.load_dataset(name), name
        return load_source(args, name, allow_dirs=args.allow_dir), None

    released, rname = get(args.released)
    attacker, aname = get(args.attacker)
    crosswalk = None
    on = args.on
    if catalog is not None and rname and aname and on.strip().lower() == "auto":
        entries = catalog.crosswalk.for_pair(rname, aname)
        if entries:
            crosswalk = entries
        else:
            skip = [args.truth] if args.truth else []
            hints = {
                rname: hints_from_metadata(catalog.entry(rname).metadata),
                aname: hints_from_metadata(catalog.entry(aname).metadata),
            }
            cw = propose_crosswalk(
                {rname: released, aname: attacker},
                ref,
                exclude={rname: skip, aname: skip},
                hints=hints,
            )
            crosswalk = cw.for_pair(rname, aname) or None
    pair = prepare_pair(released, attacker, on, args.truth, ref, crosswalk)
    if args.probabilistic:
        res: Any = link_probabilistic(
            released,
            attacker,
            truth=args.truth,
            threshold=args.threshold,
            pair=pair,
            seed=args.seed,
        )
    else:
        res = link_exact(released, attacker, truth=args.truth, pair=pair)
    doc = res.to_dict()
    if args.json:
        print_json(doc)
        return 0
    print(
        f"{doc['method']} linkage of {args.released} ({doc['released_records']:,} records) "
        f"against {args.attacker} ({doc['attacker_records']:,} records)"
    )
    print(f"  shared QIs: {', '.join(doc['shared_qis'])}  (reference date {doc['reference_date']})")
    print(
        f"  no match {doc['no_match']:.1%}   one match {doc['one_match']:.1%}   "
        f"several {doc['many_matches']:.1%}"
    )
    print(
        f"  expected re-identifications: {doc['expected_reidentifications']:,.1f} "
        f"({doc['expected_reidentification_rate']:.1%} of released records)"
    )
    if args.truth:
        print(
            f"  correct unique matches: {doc['correct_unique_matches']:,} "
            f"({doc['correct_unique_share']:.1%}); precision {doc['precision']:.1%}, "
            f"recall {doc['recall']:.1%}"
        )
    return 0
