"""``workbench minimize``: the fields a purpose does not need, and the coarser forms that would do.

Exit 0 when the data is already minimal for the purpose, 1 when fields should be dropped or
coarsened (the gate's ``unneeded_field`` rule would fail), 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "minimize",
        help="propose the fields a purpose does not need and the coarser forms that would do",
        description="Judge every field of DATA (a catalog dataset name or a data file) against "
        "PURPOSE using the field purposes (purposes.yaml beside the catalog): keep, coarsen "
        "(birth year instead of birth date), drop, or undeclared. Exit 1 when something "
        "should be dropped or coarsened.",
    )
    p.add_argument("data", metavar="DATA", help="catalog dataset name (with --catalog) or file")
    p.add_argument("--purpose", required=True, help="the purpose of the request")
    p.add_argument("--catalog", help="catalog YAML (its purposes.yaml is the default)")
    p.add_argument("--purposes", help="field purposes YAML (default: beside the catalog)")
    p.add_argument(
        "--dataset", help="the purposes-file name of a data file (default: catalog name or stem)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _columns(args: argparse.Namespace) -> tuple[str, list[str]]:
    from ..governance.catalog_policies import open_catalog
    from ..loading.readers import load

    cat = open_catalog(args.catalog) if args.catalog else None
    if cat is not None and args.data in cat.datasets:
        return args.dataset or args.data, list(cat.load_dataset(args.data).columns)
    path = Path(args.data)
    if not path.is_file():
        where = "" if cat is not None else " (give --catalog for a dataset name)"
        raise ConfigError(f"{args.data!r} is neither a catalog dataset nor a data file{where}")
    name = args.dataset or path.stem
    if cat is not None and args.dataset is None:
        for entry in cat.datasets.values():
            if Path(entry.file).resolve() == path.resolve():
                name = entry.name
    return name, list(load(path).columns)


def run(args: argparse.Namespace) -> int:
    from ..governance.minimize import minimize, open_purposes

    purposes = open_purposes(args.purposes, args.catalog)
    if purposes is None:
        raise ConfigError(
            "no field purposes: give --purposes FILE or a --catalog with purposes.yaml"
        )
    name, columns = _columns(args)
    if not purposes.covers(name):
        raise ConfigError(
            f"{purposes.source}: declares no fields for {name!r}; declared: "
            f"{', '.join(purposes.datasets) or 'none'} (name the entry with --dataset)"
        )
    proposal = minimize([(name, c) for c in columns], args.purpose, purposes)
    if args.json:
        print_json({"dataset": name, **proposal.to_dict()})
        return 0 if proposal.minimal else 1
    print(f"workbench minimize {name} for {args.purpose!r} ({purposes.source}):")
    for n in proposal.keep:
        print(f"  keep     {n.field}")
    for n in proposal.coarsen:
        print(f"  coarsen  {n.field} -> {n.form}")
    for n in proposal.drop:
        print(f"  drop     {n.field}   (the purpose does not need it)")
    for n in proposal.undeclared:
        print(f"  review   {n.field}   (no purpose declared: declare it or drop it)")
    print(
        "Result: minimal"
        if proposal.minimal
        else f"Result: drop {len(proposal.drop)} field(s), coarsen {len(proposal.coarsen)}"
    )
    return 0 if proposal.minimal else 1
