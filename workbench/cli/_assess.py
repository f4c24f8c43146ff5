"""``workbench assess``: re-identification risk profile of one file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._io import write_table
from ..errors import ParameterError, ResourceLimitError
from . import add_bundle_arguments, save_bundle_and_record
from ._progress import Progress, add_progress_arguments, source_label


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "assess",
        help="re-identification risk profile of a file (k, prosecutor/journalist/marketer risk, "
        "population uniqueness, individual risk, l-diversity, t-closeness, SUDA)",
        description="Scan FILE once into equivalence classes over the quasi-identifiers and "
        "report every risk measure computed from them.",
    )
    p.add_argument("file", metavar="FILE", help="data file (CSV, TSV, Parquet, Excel, JSONL)")
    p.add_argument(
        "--qi", required=True, type=_names, help="quasi-identifiers, comma-separated (a,b,c)"
    )
    p.add_argument(
        "--sensitive", type=_names, default=[], help="sensitive attributes, comma-separated"
    )
    p.add_argument("--weights", help="sampling-weight column (individual risk, Benedetti-Franconi)")
    p.add_argument("--household", help="household id column (household risk)")
    p.add_argument(
        "--population",
        type=float,
        metavar="N",
        help="population size for population-uniqueness estimates",
    )
    p.add_argument(
        "--population-table",
        metavar="FILE",
        help="population file with the QI columns (one row per person)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="highest acceptable record risk (default: the --policy's records-at-risk threshold, "
        "else 0.2)",
    )
    p.add_argument(
        "--missing",
        choices=["category", "wildcard"],
        default="category",
        help="missing QI value: own category (default) or wildcard (sdcMicro)",
    )
    p.add_argument(
        "--l",
        type=int,
        default=2,
        dest="l_value",
        metavar="L",
        help="l for recursive (c,l)-diversity (default 2)",
    )
    p.add_argument("--suda", action="store_true", help="add SUDA2 scores and contributions")
    p.add_argument(
        "--suda-max-size",
        type=int,
        default=None,
        metavar="M",
        help="largest MSU size SUDA2 searches (default: all QIs)",
    )
    p.add_argument(
        "--dis-fraction",
        type=float,
        default=0.01,
        help="sampling fraction for DIS-SUDA (default 0.01)",
    )
    p.add_argument("--subsets", action="store_true", help="add QI-subset uniqueness")
    p.add_argument(
        "--per-record",
        metavar="OUT.csv",
        help="write row, fk, Fk, risk (and SUDA scores) per input row",
    )
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    add_progress_arguments(p)
    add_bundle_arguments(p)
    p.set_defaults(func=run)


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def _load(args: argparse.Namespace, path: str) -> Any:
    """Lazy whatever the size: the rows stay in DuckDB (CSV/TSV, Parquet; others are eager), or
    in the engine ``--engine`` chose."""
    from . import load_source

    return load_source(args, path, allow_dirs=args.allow_dir, lazy=True)


def _grouped_profile(
    args: argparse.Namespace, population_table: Any, progress: Any
) -> tuple[Any, Any]:
    """(profile, dataset) from one grouped scan of the file.

    The profile is ``None`` when the records are needed or the dataset groups best itself
    (then the lazy dataset comes back, if it was loaded, so the file is not read again).

    SUDA, per-record output, household risk and sampling weights need the records (a second
    scan), and a bundle records every column's type: those take the lazy path of :func:`_load`.
    """
    if args.suda or args.per_record or args.household or args.weights or args.bundle:
        return None, None
    if args.engine not in (None, "duckdb"):  # the engine groups the file itself
        return None, None
    from ..loading.readers import load_grouped
    from ..risk import build_class_table, profile_from_table

    threshold, sensitive = _risk_options(args, None)
    sensitive = list(dict.fromkeys(sensitive))
    with progress.phase("scan", source_label(args.file)):
        data, groups = load_grouped(args.file, [*args.qi, *sensitive], allow_dirs=args.allow_dir)
        if groups is None:  # one scan of the lazy dataset is already the best (Parquet)
            return None, data
        table = build_class_table(
            groups,
            args.qi,
            sensitive=sensitive,
            missing=args.missing,
            counts="__n",
            source=args.file,
        )
    with progress.phase("measures"):
        profile = profile_from_table(
            table,
            threshold=threshold,
            population_size=args.population,
            population_table=population_table,
            l=args.l_value,
            suda_max_size=args.suda_max_size,
            dis_fraction=args.dis_fraction,
            source=data,
            source_name=args.file,
        )
    return profile, data


def run(args: argparse.Namespace) -> int:
    from ..engines import require_engine
    from ..risk import assess

    if args.per_record:
        from .._io import ensure_not_source

        sources = [args.file] + ([args.population_table] if args.population_table else [])
        ensure_not_source(args.per_record, sources)
    if args.bundle:
        from .._io import ensure_not_source

        ensure_not_source(args.bundle, [args.file])
    if args.suda_max_size is not None and args.suda_max_size < 1:
        raise ParameterError("suda-max-size", args.suda_max_size, "a whole number >= 1")
    if not 0.0 < args.dis_fraction <= 1.0:
        raise ParameterError("dis-fraction", args.dis_fraction, "a sampling fraction in (0, 1]")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise ParameterError("threshold", args.threshold, "a number in [0, 1]")
    if args.engine == "spark" and (args.suda or args.per_record or args.household):
        # record-level results would bring every record to the driver
        require_engine("assess --suda/--per-record/--household", "spark")
    progress = Progress.from_args(args, "assess")
    population_table = None
    if args.population_table:
        with progress.phase("scan", source_label(args.population_table)):
            population_table = _load(args, args.population_table)
    profile, data = _grouped_profile(args, population_table, progress)
    if profile is not None:
        return _report(args, profile, None)
    if data is None:
        with progress.phase("scan", source_label(args.file)):
            data = _load(args, args.file)
    # with --policy the bundle's gate judges this very profile: assess it the way the policy
    # measures (its risk threshold, its l-diversity attributes)
    threshold, sensitive = _risk_options(args, data)
    with progress.phase("measures"):
        try:
            profile = assess(
                data,
                args.qi,
                sensitive=sensitive,
                weights=args.weights,
                household=args.household,
                population_size=args.population,
                population_table=population_table,
                threshold=threshold,
                missing=args.missing,
                l=args.l_value,
                source=args.file,
                suda_max_size=args.suda_max_size,
                dis_fraction=args.dis_fraction,
            )
        except ResourceLimitError as exc:
            if args.engine != "spark" or args.bundle or args.missing != "category":
                raise
            return _report_class_sizes(args, data, threshold, exc)
    if args.suda:
        _check_suda_memory(profile.records, len(args.qi), args.suda_max_size)
        with progress.phase("suda"):
            _ = profile.suda
    if args.per_record:
        with progress.phase("write", Path(args.per_record).name):
            frame = profile.per_record(suda=args.suda)
            write_table(args.per_record, frame, sources=sources)
    return _report(args, profile, data)


def _report(args: argparse.Namespace, profile: Any, data: Any) -> int:
    from . import print_json

    if args.subsets:
        _ = profile.subsets
    bundle_written = _write_bundle(args, data, profile) if args.bundle else None
    if args.json:
        print_json(profile.to_dict())
    else:
        print(render_text(profile, Path(args.file).name))
        if args.per_record:
            print(f"\nper-record risk written to {args.per_record}")
        if bundle_written:
            print(f"assessment bundle written to {bundle_written}")
    return 0


def _report_class_sizes(
    args: argparse.Namespace, data: Any, threshold: float, exc: Exception
) -> int:
    """The class table is too large for the driver: the measures that are aggregates over it,
    computed in the engine, and a note saying which measures are left out."""
    from ..risk import class_size_profile
    from . import print_json

    print(
        f"workbench assess: note: {exc}. Reporting the class-size measures computed in the "
        "engine; the per-class measures (l-diversity, t-closeness, population models) are left "
        "out.",
        file=sys.stderr,
    )
    prof = class_size_profile(data, args.qi, threshold=threshold, source=args.file)
    if args.json:
        print_json(prof.to_dict())
        return 0
    s, p = prof.summary, prof.prosecutor
    print(f"{Path(args.file).name}: {s.records:,} records, {s.classes:,} classes over {args.qi}")
    print(f"  k (smallest class)   {s.min_class_size}")
    print(f"  sample uniques       {s.sample_uniques:,} ({s.sample_uniqueness:.1%})")
    print(f"  prosecutor risk      highest {p.highest:.3f}, average {p.average:.3f}")
    print(f"  records at risk      {p.records_at_risk:.1%} (risk > {p.threshold})")
    return 0


def _check_suda_memory(records: int, n_qis: int, max_size: int | None) -> None:
    """Refuse SUDA2 before it starts when it cannot fit; name the largest MSU size that fits."""
    from .._memory import available_memory, check_memory
    from ..risk.suda import suda2_memory

    have = available_memory()
    need = suda2_memory(records, n_qis, max_size)
    top = n_qis if max_size is None else min(max_size, n_qis)
    fits = [k for k in range(top - 1, 0, -1) if suda2_memory(records, n_qis, k) <= have]
    if fits:
        instead = f"--suda-max-size {fits[0]} fits, or assess a sample"
    else:
        per = max(suda2_memory(1, n_qis, 1), 1)
        instead = f"assess a sample of at most {have // per:,} records with --suda"
    check_memory(need, f"SUDA2 over {records:,} records and {n_qis} QIs", instead, available=have)


def _risk_options(args: argparse.Namespace, data: Any) -> tuple[float, list[str]]:
    """Risk threshold and sensitive attributes: the policy's when a bundle has a --policy."""
    from ..review.assessment import risk_options

    policies = args.policy if args.bundle else []
    columns = data.columns if hasattr(data, "columns") else []
    return risk_options(policies, list(columns), args.sensitive, args.threshold)


def _write_bundle(args: argparse.Namespace, data: Any, profile: Any) -> str:
    """Bundle of the assessment (plus policy and gate findings when ``--policy`` is given).

    The gate judges ``profile`` itself, so the gate table and the risk table agree.
    """
    from ..dataset import Dataset
    from ..profiling.roles import RoleMap
    from ..review.assessment import assessment_bundle

    dataset = data if isinstance(data, Dataset) else Dataset.from_frame(data, name="data")
    roles = RoleMap.load(args.roles) if args.roles else None
    bundle = assessment_bundle(
        dataset,
        profile,
        roles=roles,
        rationale=args.rationale,
        policies=args.policy,
        gate_options={"user": getattr(args, "user", None)},
    )
    return save_bundle_and_record(args, bundle, dataset, roles, "assess")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def _num(x: float | None) -> str:
    return "unavailable" if x is None else f"{x:,.1f}"


def render_text(profile: Any, name: str) -> str:
    """Readable summary of a :class:`~workbench.risk.RiskProfile` (no data values)."""
    p = profile
    lines = [
        f"Risk profile of {name}",
        f"  quasi-identifiers: {', '.join(p.qis)}  (missing values: {p.missing})",
        f"  records {p.records:,}   classes {p.classes:,}   "
        f"class size min {p.min_class_size} / max {p.max_class_size} / "
        f"mean {p.mean_class_size:.2f}",
        f"  sample uniques {p.sample_uniques:,} ({_pct(p.sample_uniqueness)})",
        "",
        f"  {'attacker':<11}{'highest':>10}{'average':>10}{'at risk':>10}   (threshold "
        f"{p.threshold:g})",
    ]
    for label, r in (("prosecutor", p.prosecutor), ("journalist", p.journalist)):
        lines.append(
            f"  {label:<11}{_pct(r.highest):>10}{_pct(r.average):>10}{_pct(r.records_at_risk):>10}"
        )
    lines.append(f"  {'marketer':<11}{'':>10}{_pct(p.marketer):>10}")
    if p.population_table is not None:
        m = p.population_table
        lines.append(
            f"  population table: {m.records:,} people, {m.classes:,} classes; "
            f"{m.classes_not_found} sample classes not found"
        )
    lines.append("")
    if p.population is not None:
        pop = p.population
        lines.append(
            f"  population uniques (N = {pop.size:,}, sampling fraction "
            f"{pop.sampling_fraction:.4g}):"
        )
        for est in (pop.pitman, pop.zayatz, pop.snb):
            extra = f"  ({est.reason})" if est.reason else ""
            lines.append(f"    {est.model:<8}{_num(est.uniques):>16}{extra}")
        lines.append(f"    dankar  {_num(pop.dankar.uniques):>16}  (model: {pop.dankar.model})")
    else:
        lines.append(f"  population uniques: not estimated ({p.population_note})")
    g = p.global_risk
    kind = "weighted, Benedetti-Franconi" if g.weighted else "1/fk"
    lines.append(
        f"  expected re-identifications: {g.expected_reidentifications:,.2f} "
        f"({_pct(g.rate)} of records; {kind})"
    )
    if p.household is not None:
        h = p.household
        lines.append(
            f"  household risk ({p.household_column}): {h.households:,} households, "
            f"expected {h.expected_reidentifications:,.2f}, highest {_pct(h.highest)}"
        )
    for s in p.sensitive:
        ld, tc = p.l_diversity[s], p.t_closeness[s]
        rc = "n/a" if ld.recursive_c is None else f"{ld.recursive_c:.3g}"
        lines.append(
            f"  {s}: distinct l = {ld.distinct_l}, entropy l = {ld.entropy_l:.3g}, "
            f"recursive c = {rc}, t = {tc.t:.3g} ({tc.kind}), "
            f"delta = {p.delta_disclosure[s].delta:.3g}, "
            f"beta = {_num(p.beta_likeness[s].beta)}"
        )
    if "suda" in p.__dict__:
        contrib = p.suda.attribute_contributions
        top = ", ".join(f"{k} {v:.1f} %" for k, v in sorted(contrib.items(), key=lambda kv: -kv[1]))
        lines.append(f"  SUDA contributions: {top}")
    if "subsets" in p.__dict__:
        sub = p.subsets
        best = ", ".join(
            f"{'+'.join(s.columns)} {_pct(s.uniqueness)}" for s in sub.best_by_size[:4]
        )
        lines.append(f"  most identifying QI subsets by size: {best}")
    return "\n".join(lines)
