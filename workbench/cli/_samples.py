"""``workbench samples``: list the sample data, regenerate the synthetic city, export with truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# defaults shown in --help; the generator itself (pandas) loads only when a command runs
_DEFAULT_RESIDENTS = 20_000
_DEFAULT_SEED = 2026
_DATASETS = ("clinic", "housing", "social", "transit", "voters")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``samples`` sub-command."""
    parser = subparsers.add_parser(
        "samples",
        help="list sample data; regenerate or export the synthetic city",
        description="Sample data sets: Adult, sdcMicro surveys and a synthetic city with four "
        "departments and a public voter roll.",
    )
    parser.set_defaults(func=_list, json=False)
    sub = parser.add_subparsers(dest="samples_command", metavar="ACTION")

    p_list = sub.add_parser("list", help="list the samples (name, file, rows, description)")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_list.set_defaults(func=_list)

    p_gen = sub.add_parser(
        "generate",
        help="generate the synthetic city at any size",
        description="Deterministic: the same --residents and --seed give byte-identical files.",
    )
    p_gen.add_argument(
        "--residents",
        type=int,
        default=_DEFAULT_RESIDENTS,
        help=f"number of residents (default {_DEFAULT_RESIDENTS})",
    )
    p_gen.add_argument(
        "--seed",
        type=int,
        default=_DEFAULT_SEED,
        help=f"random seed (default {_DEFAULT_SEED})",
    )
    p_gen.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default data/generated/city_<N>_seed<S>)",
    )
    p_gen.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p_gen.add_argument(
        "--force", action="store_true", help="allow overwriting the committed data/samples city"
    )
    p_gen.add_argument("--json", action="store_true", help="print the summary as JSON")
    p_gen.set_defaults(func=_generate)

    p_exp = sub.add_parser(
        "export",
        help="write a city department file with the true resident id or a keyed pseudonym",
        description="Adds resident_id (--truth, for scoring linkage) and/or person_key "
        "(--pseudonym: HMAC-SHA256 of the resident id with the key from "
        "the environment (WORKBENCH_PSEUDONYM_KEY) or --key-file, for authorised joins).",
    )
    p_exp.add_argument("name", choices=_DATASETS, help="city dataset")
    p_exp.add_argument("--out", type=Path, required=True, help="output .csv or .parquet file")
    p_exp.add_argument("--truth", action="store_true", help="add the resident_id column")
    p_exp.add_argument("--pseudonym", action="store_true", help="add the person_key column")
    p_exp.add_argument(
        "--key-file",
        type=Path,
        default=None,
        help="file holding the pseudonym key (wins over $WORKBENCH_PSEUDONYM_KEY; at least "
        "16 bytes)",
    )
    p_exp.add_argument(
        "--direct-identifiers",
        choices=("drop", "pseudonymize", "keep"),
        default=None,
        help="the department's record id (and names on the voter roll): drop (default), "
        "pseudonymize (COLUMN_pseudonym) or keep (the default, and the only choice, with "
        "--truth: a scoring file, not a release)",
    )
    p_exp.add_argument("--json", action="store_true", help="print what was written as JSON")
    p_exp.add_argument(
        "--source",
        type=Path,
        default=None,
        help="city directory to read (default: the committed sample)",
    )
    p_exp.set_defaults(func=_export)


def _list(args: argparse.Namespace) -> int:
    from ..samples._registry import list_samples

    samples = list_samples()
    if getattr(args, "json", False):
        from . import print_json

        print_json([s.to_dict() for s in samples])
        return 0
    rows = [
        (s.name, _short(s.path), "-" if s.rows is None else f"{s.rows:,}", s.description)
        for s in samples
    ]
    widths = [max(len(r[i]) for r in [("NAME", "FILE", "ROWS", ""), *rows]) for i in range(3)]
    print(f"{'NAME':<{widths[0]}}  {'FILE':<{widths[1]}}  {'ROWS':>{widths[2]}}  DESCRIPTION")
    for name, path, n, description in rows:
        print(f"{name:<{widths[0]}}  {path:<{widths[1]}}  {n:>{widths[2]}}  {description}")
    return 0


def _short(path: Path) -> str:
    parts = path.parts
    if "samples" in parts:
        return "/".join(parts[parts.index("samples") - 1 :])
    return str(path)


def _generate(args: argparse.Namespace) -> int:
    from ..samples import city

    result = city.generate(
        args.residents, args.seed, args.out, format=args.format, force=args.force
    )
    if args.json:
        from . import print_json

        print_json(result.to_dict())
        return 0
    print(
        f"synthetic city: {result.n_residents:,} residents, seed {result.seed}, "
        f"{result.format}, {result.seconds:.2f} s -> {result.out_dir}"
    )
    for name, path in result.files.items():
        rows = result.rows.get(name)
        shown = "" if rows is None else f"{rows:>12,} rows  "
        print(f"  {name:<13} {shown}{path.name}")
    return 0


def _export(args: argparse.Namespace) -> int:
    import warnings

    from ..deid.release import DirectIdentifierWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DirectIdentifierWarning)
        from ..samples import city

        result = city.export_release(
            args.name,
            args.out,
            truth=args.truth,
            pseudonym=args.pseudonym,
            key_file=args.key_file,
            source_dir=args.source,
            direct_identifiers=args.direct_identifiers,
        )
    release = result.release.to_dict()
    # the dispatcher records this run from ``vars(args)``: record the mode actually used (keep
    # with --truth) and what was done, names only
    args.direct_identifiers = result.release.mode
    args.release = release
    # the files read: their policy (through the catalog beside them) is recorded with the output
    args._record_inputs = [str(s) for s in result.sources if s is not None]
    added = [c for c, on in (("resident_id", args.truth), ("person_key", args.pseudonym)) if on]
    if args.json:
        from . import print_json

        print_json({"output": str(result.path), "added": added, "direct_identifiers": release})
    else:
        print(f"wrote {result.path}" + (f" with {', '.join(added)}" if added else ""))
        r = result.release
        done = [
            f"dropped {', '.join(r.dropped)}" if r.dropped else "",
            ", ".join(f"pseudonymized {a} -> {b}" for a, b in r.pseudonymized.items()),
            f"KEPT {', '.join(r.kept)} (not a release)" if r.kept else "",
        ]
        print("  direct identifiers: " + ("; ".join(d for d in done if d) or "none found"))
    for w in caught:
        if args.direct_identifiers == "keep" and not args.truth:
            print(f"warning: {w.message}", file=sys.stderr)
    return 0
