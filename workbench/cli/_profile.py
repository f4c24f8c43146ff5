"""``workbench profile``: per-column profile and role suggestions of a data file or SQL query."""

from __future__ import annotations

import argparse
import sys

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="profile a data file and suggest column roles",
        description="Load a CSV/TSV/Parquet/Excel/JSON Lines file (or a SQL SELECT over files) "
        "faithfully, profile every column (type, distinct values, missing, entropy, records made "
        "unique) and suggest a role per column: direct identifier, quasi-identifier, sensitive "
        "or other. Values of direct identifiers are never printed.",
    )
    p.add_argument("file", metavar="FILE", help="data file, or a SQL query in quotes")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.add_argument("--delimiter", help="field delimiter (default: detected; 'tab' for TAB)")
    p.add_argument("--encoding", help="text encoding (default: detected)")
    p.add_argument("--sheet", help="Excel sheet name or 0-based index (default: first sheet)")
    p.add_argument(
        "--missing",
        action="append",
        metavar="MARKER",
        help="string that means 'no value' (repeat; default: the empty string only)",
    )
    p.add_argument("--name", help="dataset name (default: file stem)")
    p.add_argument("--department", help="owning department")
    p.add_argument("--roles", help="role map JSON with your decisions (overrides suggestions)")
    p.add_argument("--roles-out", metavar="JSON", help="write the resulting role map here")
    p.add_argument(
        "--min-count",
        type=int,
        default=5,
        help="list a value only when it occurs at least this often (default 5)",
    )
    p.add_argument("--brief", action="store_true", help="table and roles only, no value lines")
    p.add_argument("--lazy", action="store_true", help="keep the rows in DuckDB (large files)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..profiling.profiler import profile
    from ..profiling.roles import RoleMap
    from . import load_source

    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    ds = load_source(
        args,
        args.file,
        name=args.name,
        department=args.department,
        delimiter=args.delimiter,
        encoding=args.encoding,
        missing=args.missing if args.missing is not None else ("",),
        sheet=sheet,
        lazy=True if args.lazy else None,
        allow_dirs=args.allow_dir,
    )
    user = RoleMap.load(args.roles) if args.roles else None
    if user is not None:
        user.check(ds.columns, args.roles)
    prof = profile(ds, roles=user, min_count=args.min_count)
    effective = prof.roles.role_map if prof.roles is not None else RoleMap({})
    if user is not None:
        effective = effective.with_roles(dict(user.roles))
    if args.roles_out:
        sources = [ds.source] if ds.options.get("format") != "sql" else []
        sources += list(ds.options.get("sources", {}))
        out = effective.save(args.roles_out, sources=sources)
        print(f"workbench profile: wrote role map to {out}", file=sys.stderr)
    if args.json:
        doc = prof.to_dict()
        if doc["roles"] is not None:
            doc["roles"]["role_map"] = effective.to_dict()
            doc["roles"]["overrides"] = user.to_dict() if user is not None else None
        print_json(doc)
        return 0
    sys.stdout.write(prof.to_text(details=not args.brief))
    if user is not None:
        changed = [
            f"{c}: {r.value}"
            for c, r in user.roles.items()
            if prof.roles is None or prof.roles[c].role is not r
        ]
        if changed:
            sys.stdout.write("\nYour role decisions (from --roles): " + "; ".join(changed) + "\n")
    return 0
