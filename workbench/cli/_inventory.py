"""``workbench inventory``: the catalog's datasets, their QIs, sizes and risk headline."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ParameterError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "inventory",
        help="list a catalog's datasets with QIs, sizes and risk headline (k, uniqueness)",
        description="Read CATALOG (YAML or JSON) and list every dataset: department, purpose, "
        "rows, quasi-identifiers, sensitive attributes, smallest class k and sample "
        "uniqueness. --crosswalk proposes the fields shared across datasets; "
        "--save-crosswalk writes the catalog with that proposal confirmed.",
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog file (catalog.yaml)")
    p.add_argument(
        "--crosswalk",
        action="store_true",
        help="detect shared facts across datasets (proposed crosswalk)",
    )
    p.add_argument(
        "--save-crosswalk",
        metavar="OUT",
        help="write the catalog with the proposed crosswalk marked confirmed to OUT "
        "(may be CATALOG itself)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.2,
        help="records-at-risk threshold on 1/k (default 0.2)",
    )
    p.add_argument(
        "--sharing",
        nargs="?",
        const="",
        metavar="SHARING.yaml",
        help="list every practice that shares individual-level data, those touching sensitive "
        "status first (default governance/sharing.yaml beside the catalog)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _run_sharing(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..governance.catalog import Catalog
    from ..governance.sharing import SharingInventory, default_governance_file
    from . import print_json

    path = args.sharing or default_governance_file(args.catalog, "sharing.yaml")
    if path is None:
        raise ConfigError(
            "no sharing inventory: give --sharing FILE or add governance/sharing.yaml"
        )
    catalog = Catalog.load(args.catalog)
    rows = SharingInventory.load(path).review(catalog)
    if args.json:
        print_json({"sharing_inventory": str(path), "practices": rows})
        return 0
    print(f"sharing practices of {catalog.name} ({path}), sensitive status first:")
    for r in rows:
        kind = "formal" if r["formal"] else "INFORMAL"
        print(f"  {r['id']}  {r['dataset']} -> {r['recipient']} ({r['recipient_kind']}), {kind}")
        fields = [f"{f}*" if f in r["sensitive_fields"] else f for f in r["fields"]]
        print(f"        fields: {', '.join(fields)}")
        print(f"        legal basis: {r['legal_basis']}; {r['frequency']}; hosting: {r['hosting']}")
        for c in r["concerns"]:
            print(f"        concern: {c}")
    print("(* sensitive status)")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..governance.catalog import Catalog, inventory
    from . import print_json

    if args.sharing is not None:
        return _run_sharing(args)
    if not 0 < args.threshold <= 1:
        raise ParameterError("threshold", args.threshold, "a number in (0, 1]")
    catalog = Catalog.load(args.catalog)
    propose = bool(args.crosswalk or args.save_crosswalk)
    inv = inventory(catalog, propose=propose, threshold=args.threshold)
    saved = None
    if args.save_crosswalk:
        saved = catalog.with_crosswalk(inv.crosswalk.confirmed()).save(args.save_crosswalk)
    if args.json:
        doc = inv.to_dict()
        if saved is not None:
            doc["saved"] = str(saved)
        print_json(doc)
        return 0
    print(
        f"catalog {inv.catalog} ({len(inv.datasets)} datasets"
        f"{', reference date ' + inv.reference_date.isoformat() if inv.reference_date else ''})"
    )
    header = f"{'dataset':<12} {'department':<30} {'rows':>9} {'k':>4} {'unique':>7}  QIs"
    print(header)
    print("-" * len(header))
    for d in inv.datasets:
        k = "-" if d.k is None else str(d.k)
        u = "-" if d.uniqueness is None else f"{d.uniqueness:.1%}"
        ext = " (external)" if d.external else ""
        dept = (d.department or "")[:30]
        print(
            f"{d.name:<12} {dept:<30} {d.records:>9,} {k:>4} {u:>7}  "
            f"{', '.join(d.quasi_identifiers)}{ext}"
        )
        if d.sensitive:
            print(f"{'':<12} sensitive: {', '.join(d.sensitive)}")
    if propose or len(inv.crosswalk):
        print()
        print(f"crosswalk ({inv.crosswalk_source}, {len(inv.crosswalk)} entries):")
        for e in inv.crosswalk:
            print(
                f"  {e.fact:<8} {e.left:<26} ~ {e.right:<26} -> {e.common:<9} "
                f"{e.confidence:.2f}  {e.status}"
            )
    if saved is not None:
        print(f"\ncatalog with confirmed crosswalk written to {saved}")
    return 0
