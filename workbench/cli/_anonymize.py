"""``workbench anonymize``: optimal full-domain generalization (or Mondrian) of one file."""

from __future__ import annotations

import argparse
import functools
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._io import TABLE_SUFFIXES, ensure_not_source, write_table
from ..errors import ParameterError, PrivacyWarning
from . import add_bundle_arguments, save_bundle_and_record
from ._progress import Progress, add_progress_arguments, source_label


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def _hierarchy_arg(text: str) -> tuple[str, str]:
    col, sep, path = text.partition("=")
    if not sep or not col.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=PATH, got {text!r}")
    return col.strip(), path.strip()


def add_common(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``anonymize`` and ``frontier``."""
    p.add_argument("file", metavar="FILE", help="data file (CSV, TSV, Parquet, Excel, JSONL)")
    p.add_argument("--qi", required=True, type=_names, help="quasi-identifiers, comma-separated")
    p.add_argument(
        "--hierarchy",
        action="append",
        type=_hierarchy_arg,
        default=[],
        metavar="COL=PATH",
        help="ARX hierarchy CSV for a QI (repeat per QI); QIs without one get an automatic "
        "hierarchy (text dates: day/month/year/decade; fixed-width digit codes: masking; "
        "numbers: intervals; otherwise value -> *)",
    )
    p.add_argument("--sensitive", type=_names, default=[], help="sensitive attribute(s)")
    p.add_argument("--l", type=int, dest="l_value", metavar="L", help="l-diversity")
    p.add_argument(
        "--l-kind",
        choices=["distinct", "entropy", "recursive"],
        default="distinct",
        help="kind of l-diversity (default distinct)",
    )
    p.add_argument(
        "--metric",
        choices=["loss", "entropy", "discernibility", "aecs", "precision"],
        default="loss",
        help="information-loss metric to minimise (default loss)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _sensitive_hierarchies(args: argparse.Namespace) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for col, path in args.sensitive_hierarchy:
        if col not in args.sensitive:
            raise ParameterError(
                "--sensitive-hierarchy",
                f"{col}={path}",
                f"a sensitive attribute named in --sensitive {args.sensitive}",
            )
        out[col] = path
    if args.t_kind == "hierarchical" and args.t is not None:
        missing = [c for c in args.sensitive if c not in out]
        if missing:
            raise ParameterError(
                "--sensitive-hierarchy",
                missing[0],
                "a hierarchy for every sensitive attribute with --t-kind hierarchical",
            )
    return out or None


def hierarchies_from_args(args: argparse.Namespace) -> dict[str, str]:
    out: dict[str, str] = {}
    for col, path in args.hierarchy:
        if col not in args.qi:
            raise ParameterError("--hierarchy", f"{col}={path}", f"a QI named in --qi {args.qi}")
        if col in out:
            raise ParameterError("--hierarchy", col, "one hierarchy per QI")
        out[col] = path
    return out


def add_release_arguments(p: argparse.ArgumentParser) -> None:
    """``--direct-identifiers/--key-file``: every command that writes record-level data."""
    from .._release_modes import RELEASE_MODES

    p.add_argument(
        "--direct-identifiers",
        choices=RELEASE_MODES,
        default="drop",
        help="what happens to direct identifiers (role map, else suggested roles, plus values "
        "that look like e-mails, phones, national ids or names) in the written table: drop "
        "(default), pseudonymize (keyed HMAC-SHA256, 16 hex characters, column renamed "
        "COLUMN_pseudonym) or keep (explicit; recorded in provenance, fails `workbench check`)",
    )
    p.add_argument(
        "--key-file",
        metavar="PATH",
        help="pseudonymization key file (wins over $WORKBENCH_PSEUDONYM_KEY; at least 16 bytes)",
    )


def prepare_release_from_args(args: argparse.Namespace, frame: Any) -> tuple[Any, Any]:
    """:func:`workbench.deid.release.prepare_release` with the CLI's mode, roles and key file.

    ``keep`` prints the core's :class:`DirectIdentifierWarning` on stderr.
    """
    import sys
    import warnings

    from ..deid.release import DirectIdentifierWarning, prepare_release
    from ..profiling.roles import RoleMap

    roles = RoleMap.load(args.roles) if getattr(args, "roles", None) else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DirectIdentifierWarning)
        out = prepare_release(frame, args.direct_identifiers, roles=roles, key_file=args.key_file)
    for w in caught:
        if issubclass(w.category, DirectIdentifierWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def load_data(
    path: str, allow_dirs: list[str] | tuple[str, ...] = (), args: argparse.Namespace | None = None
) -> Any:
    from . import load_source

    if args is not None:
        return load_source(args, path, allow_dirs=allow_dirs)
    from ..loading.readers import load

    return load(path, allow_dirs=allow_dirs)


def _delta_range(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected DMIN:DMAX such as 0.1:0.6, got {text!r}"
        ) from None


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the plug-in privacy models (workbench.models)."""
    p.add_argument("--k-map", type=int, metavar="K", help="k-map: every class matches K people")
    p.add_argument(
        "--population-table", metavar="PATH", help="population table for --k-map (QI columns)"
    )
    p.add_argument(
        "--k-map-estimator",
        choices=["poisson", "zero_truncated_poisson"],
        help="estimate k-map from --population-size instead of a population table",
    )
    p.add_argument(
        "--significance", type=float, default=0.05, help="significance of the k-map estimators"
    )
    p.add_argument(
        "--population-size",
        type=float,
        metavar="N",
        help="population size (k-map estimators, --max-population-uniqueness)",
    )
    p.add_argument(
        "--delta-presence",
        type=_delta_range,
        metavar="DMIN:DMAX",
        help="delta-presence: the input is the population, --research-subset its released part",
    )
    p.add_argument(
        "--research-subset", metavar="PATH", help="research subset of the input (QI columns)"
    )
    p.add_argument(
        "--max-population-uniqueness",
        type=float,
        metavar="SHARE",
        help="estimated share of population uniques at most SHARE (needs --population-size)",
    )


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "k_map": args.k_map,
        "k_map_estimator": args.k_map_estimator,
        "significance": args.significance,
        "population_size": args.population_size,
        "delta_presence": args.delta_presence,
        "max_population_uniqueness": args.max_population_uniqueness,
    }
    if args.population_table:
        opts["population_table"] = load_data(args.population_table)
    if args.research_subset:
        opts["research_subset"] = load_data(args.research_subset)
    return opts


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "anonymize",
        help="optimal generalization + suppression satisfying k-anonymity, l-diversity, "
        "t-closeness and risk limits",
        description="Search the generalization lattice for the transformation with least "
        "information loss that satisfies the privacy models (or run Mondrian), and optionally "
        "write the anonymized file.",
    )
    add_common(p)
    p.add_argument("--k", type=int, default=2, help="k-anonymity (default 2)")
    p.add_argument("--c", type=float, default=3.0, help="c of recursive (c,l)-diversity")
    p.add_argument("--t", type=float, help="t-closeness threshold")
    p.add_argument(
        "--t-kind",
        choices=["equal", "ordered", "hierarchical"],
        default="equal",
        help="ground distance of t-closeness (hierarchical needs --sensitive-hierarchy)",
    )
    p.add_argument(
        "--sensitive-hierarchy",
        action="append",
        type=_hierarchy_arg,
        default=[],
        metavar="COL=PATH",
        help="ARX hierarchy CSV of a sensitive attribute (hierarchical t-closeness)",
    )
    p.add_argument(
        "--suppression", type=float, default=0.0, help="share of records that may be suppressed"
    )
    p.add_argument("--max-average-risk", type=float, help="prosecutor average risk limit")
    p.add_argument("--max-highest-risk", type=float, help="prosecutor highest risk limit")
    _add_model_arguments(p)
    p.add_argument("--strategy", choices=["lattice", "mondrian"], default="lattice")
    p.add_argument(
        "--output",
        metavar="OUT.csv",
        help="write the anonymized table here (.csv, .tsv, .txt, .xlsx or .parquet)",
    )
    add_release_arguments(p)
    add_progress_arguments(p)
    add_bundle_arguments(p)
    p.set_defaults(func=run)


def _privacy_warnings_to_stderr(func: Callable[[argparse.Namespace], int]) -> Callable:
    """Print a :class:`PrivacyWarning` (k = 1 protects nobody) as one line on stderr."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PrivacyWarning)
            code = func(args)
        for w in caught:
            if issubclass(w.category, PrivacyWarning):
                print(f"workbench {args.command}: warning: {w.message}", file=sys.stderr)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return code

    return wrapper


@_privacy_warnings_to_stderr
def run(args: argparse.Namespace) -> int:
    from ..deid.search.lattice import anonymize
    from . import print_json

    if args.output:
        ensure_not_source(
            args.output,
            [args.file, *(f for f in (args.population_table, args.research_subset) if f)],
        )
        if Path(args.output).suffix.lower() not in TABLE_SUFFIXES:
            raise ParameterError(
                "--output", args.output, "a file ending in " + ", ".join(TABLE_SUFFIXES)
            )
    if args.bundle:
        ensure_not_source(args.bundle, [args.file])
    hierarchies = hierarchies_from_args(args)
    progress = Progress.from_args(args, "anonymize")
    with progress.phase("scan", source_label(args.file)):
        data = load_data(args.file, args.allow_dir, args)
    with progress.phase("search", f"({args.strategy})"):
        result = anonymize(
            data,
            args.qi,
            hierarchies,
            k=args.k,
            l=args.l_value,
            l_kind=args.l_kind,
            c=args.c,
            t=args.t,
            t_kind=args.t_kind,
            sensitive=args.sensitive,
            suppression=args.suppression,
            max_average_risk=args.max_average_risk,
            max_highest_risk=args.max_highest_risk,
            metric=args.metric,
            strategy=args.strategy,
            return_data=bool(args.output or args.bundle),
            sensitive_hierarchies=_sensitive_hierarchies(args),
            **_model_options(args),
        )
    written = release = released = None
    if (args.output or args.bundle) and result.found and result.data is not None:
        # the one release path: direct identifiers handled, then formulas escaped on writing
        released, release = prepare_release_from_args(args, result.data)
    if args.output and released is not None:
        delim = None
        opts = getattr(data, "options", {}) or {}
        if Path(args.output).suffix.lower() == ".csv" and opts.get("delimiter") in (";", ",", "|"):
            delim = opts["delimiter"]
        with progress.phase("write", Path(args.output).name):
            write_table(args.output, released, sources=[args.file], sep=delim)
        written = str(args.output)
    if written:  # deterministic: replayable from the recipe
        from . import record

        params = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "func"}
        params["release"] = release.to_dict()
        record(
            args,
            "anonymize",
            inputs=[
                args.file,
                *hierarchies.values(),
                *(f for f in (args.population_table, args.research_subset) if f),
            ],
            outputs=[written],
            parameters=params,
        )
    bundle_written = None
    if args.bundle and result.found:
        bundle_written = _write_bundle(args, data, result, hierarchies, released)
    if args.json:
        doc = result.to_dict()
        doc["output"] = written
        doc["bundle"] = bundle_written
        doc["direct_identifiers"] = release.to_dict() if release is not None else None
        print_json(doc)
    else:
        print(_summary(result, written, release))
    return 0 if result.found else 1


def _write_bundle(
    args: argparse.Namespace, data: Any, result: Any, hierarchies: dict, released: Any
) -> str:
    from ..dataset import Dataset
    from ..deid.hierarchy import Hierarchy
    from ..profiling.roles import RoleMap
    from ..review.assessment import anonymization_bundle

    dataset = data if isinstance(data, Dataset) else Dataset.from_frame(data, name="data")
    roles = RoleMap.load(args.roles) if args.roles else None
    resolved = {
        q: (h if isinstance(h, Hierarchy) else Hierarchy.from_csv(h))
        for q, h in hierarchies.items()
    }
    resolved.update(result.hierarchies or {})
    # the gate judges the released table's profile the bundle shows (one set of figures)
    bundle = anonymization_bundle(
        dataset,
        result,
        qis=args.qi,
        sensitive=args.sensitive,
        hierarchies=resolved,
        roles=roles,
        rationale=args.rationale,
        policies=args.policy,
        gate_options={"user": getattr(args, "user", None)},
        release_mode=getattr(args, "direct_identifiers", "drop"),
    )
    return save_bundle_and_record(args, bundle, dataset, roles, "anonymize")


def _summary(r: Any, written: str | None, release: Any = None) -> str:
    lines = []
    if not r.found:
        lines.append(
            f"No transformation satisfies {r.criteria.to_dict()} within the suppression limit "
            f"({r.transformations_checked} of {r.lattice_size} transformations checked)."
        )
    else:
        what = "Mondrian local recoding" if r.strategy == "mondrian" else "optimal generalization"
        lines.append(f"{what} (metric {r.metric}): score {r.score:.6g}")
        if r.levels is not None:
            lines.append("  levels: " + ", ".join(f"{q}={v}" for q, v in r.levels.items()))
        share = r.suppressed / r.records if r.records else 0.0
        lines.append(
            f"  suppressed {r.suppressed} of {r.records} records ({share:.1%}); "
            f"{r.classes} classes, smallest {r.min_class_size}"
        )
        lines.append(
            f"  prosecutor risk: average {r.average_risk:.4f}, highest {r.highest_risk:.4f}"
        )
        lines.append(
            f"  checked {r.transformations_checked} of {r.lattice_size} transformations "
            f"in {r.elapsed_seconds:.2f} s"
        )
    for m in r.criteria.privacy_models():  # every registered model in force, in plain words
        lines.append(f"  model: {m.describe()} ({m.reference})")
    for q, note in r.hierarchy_notes.items():
        lines.append(f"  note: no --hierarchy for {q!r}: {note}")
    if written:
        lines.append(f"  anonymized table written to {written}")
    if release is not None:
        done = {
            "dropped": ", ".join(release.dropped),
            "pseudonymized": ", ".join(f"{a} -> {b}" for a, b in release.pseudonymized.items()),
            "KEPT": ", ".join(release.kept),
        }
        shown = "; ".join(f"{k} {v}" for k, v in done.items() if v)
        lines.append(f"  direct identifiers: {shown or 'none found'}")
    return "\n".join(lines)
