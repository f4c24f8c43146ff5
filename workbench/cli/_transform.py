"""``workbench transform DATA --recipe R.yaml --output OUT``: run a recipe from the tuner.

The same code path as the notebook's "Save" (:meth:`workbench.deid.recipe.Recipe.write`), so a
recipe exported from the tuner gives the same bytes here. The output never exists without its
provenance record (recipe, per-step effects, release report; never a value or the key).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from .._io import TABLE_SUFFIXES, ensure_not_source
from ..errors import ParameterError
from . import add_bundle_arguments, save_bundle_and_record


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "transform",
        help="apply a de-identification recipe (YAML exported from the tuner) to a file",
        description="Apply the steps of a recipe (generalization, suppression, coding, "
        "rounding, noise, microaggregation, PRAM, pseudonymization, dropping) and write the "
        "release; direct identifiers are handled as the recipe says (dropped by default).",
    )
    p.add_argument("file", metavar="DATA", help="data file (CSV, TSV, Parquet, Excel, JSONL)")
    p.add_argument("--recipe", required=True, metavar="R.yaml", help="recipe file (YAML)")
    p.add_argument(
        "--output",
        required=True,
        metavar="OUT.csv",
        help="where the release is written (.csv, .tsv, .txt, .xlsx or .parquet)",
    )
    p.add_argument(
        "--key-file",
        metavar="PATH",
        help="pseudonymization key file (wins over $WORKBENCH_PSEUDONYM_KEY; at least 16 bytes)",
    )
    p.add_argument(
        "--statistic",
        action="append",
        default=[],
        metavar="TEXT",
        help="downstream statistic compared before/after in the bundle, e.g. 'mean income by "
        "region', 'count by sex' (repeat; needs --bundle)",
    )
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    add_bundle_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..deid.recipe import Recipe
    from ..loading.readers import load
    from . import print_json, record

    out = Path(args.output)
    ensure_not_source(out, [args.file, args.recipe])
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise ParameterError(
            "--output", args.output, "a file ending in " + ", ".join(TABLE_SUFFIXES)
        )
    if args.bundle:
        ensure_not_source(args.bundle, [args.file, args.recipe, args.output])
    from ..deid.comparison import Statistic

    statistics = [Statistic.parse(t) for t in args.statistic]
    if statistics and not args.bundle:
        raise ParameterError("--statistic", args.statistic[0], "--bundle to hold the comparison")
    recipe = Recipe.load(args.recipe)
    if args.roles:
        from ..profiling.roles import RoleMap

        recipe = Recipe(recipe.steps, RoleMap.load(args.roles), recipe.direct_identifiers)
    if args.bundle and not recipe.qis:
        raise ParameterError(
            "--bundle", args.bundle, "a recipe (or --roles) naming quasi-identifiers"
        )
    data = load(args.file)
    run_ = recipe.write(data, out, key_file=args.key_file, sources=[args.file, args.recipe])
    summary = run_.to_dict()
    recipe_sha = hashlib.sha256(recipe.to_yaml().encode("utf-8")).hexdigest()
    record(
        args,
        "transform",
        inputs=[args.file, args.recipe],
        outputs=[str(out)],
        parameters={"recipe_sha256": recipe_sha, **summary},
    )
    bundle = None
    if args.bundle:
        bundle = _write_bundle(args, data, recipe, run_, statistics)
    if args.json:
        print_json({"output": str(out), "bundle": bundle, "recipe_sha256": recipe_sha, **summary})
    else:
        print(_text(summary, out, bundle))
    return 0


def _write_bundle(
    args: argparse.Namespace, data: Any, recipe: Any, run_: Any, statistics: list
) -> str:
    from ..dataset import Dataset
    from ..review.assessment import anonymization_bundle

    dataset = data if isinstance(data, Dataset) else Dataset.from_frame(data, name="data")
    extra = {}
    if args.policy:
        from ..review.assessment import governance_sections, released_rows

        extra = governance_sections(
            released_rows(run_.data, recipe.qis), recipe.qis, recipe.sensitive, args.policy
        )
    bundle = anonymization_bundle(
        dataset,
        run_,
        qis=recipe.qis,
        sensitive=recipe.sensitive,
        hierarchies=run_.hierarchies,
        roles=recipe.roles,
        rationale=args.rationale,
        statistics=statistics,
        **extra,
    )
    return save_bundle_and_record(args, bundle, dataset, recipe.roles, "transform")


def _text(summary: dict[str, Any], out: Path, bundle: str | None) -> str:
    lines = [f"{len(summary['effects'])} step(s) applied to {summary['records']:,} records:"]
    for e in summary["effects"]:
        lines.append(
            f"  {e['transform'].replace('_', ' ')}: {e['cells_changed']:,} cells changed, "
            f"{e['records_suppressed']:,} records suppressed"
        )
    rel = summary.get("release") or {}
    dropped = ", ".join(rel.get("dropped") or []) or "none found"
    lines.append(f"release written to {out} (direct identifiers dropped: {dropped})")
    if bundle:
        lines.append(f"bundle written to {bundle}")
    return "\n".join(lines)
