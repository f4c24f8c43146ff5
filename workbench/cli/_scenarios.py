"""``workbench scenarios CATALOG``: every release against every threat scenario."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ParameterError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "scenarios",
        help="evaluate releases against threat scenarios (who attacks, holding what, wanting what)",
        description=(
            "Evaluate every release against every threat scenario: expected and, with ground "
            "truth, actual re-identifications; share of records whose sensitive value is learned; "
            "membership advantage. Scenarios are YAML files (default: the scenarios/ folder "
            "beside the catalog). Releases default to the catalog's own (non-external) datasets."
        ),
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog YAML")
    p.add_argument(
        "--scenarios",
        action="append",
        default=[],
        metavar="PATH",
        help="scenario YAML file or folder (repeatable; default: scenarios/ beside the catalog)",
    )
    p.add_argument(
        "--releases",
        nargs="+",
        default=[],
        metavar="RELEASE",
        help="catalog dataset names, or files as PATH, NAME=PATH or NAME=PATH@DATASET "
        "(DATASET: the catalog entry the file was derived from)",
    )
    p.add_argument(
        "--fail-above",
        type=float,
        metavar="RISK",
        help="exit 1 when any scenario's headline risk is above RISK (a share in [0, 1])",
    )
    p.add_argument(
        "--register",
        metavar="REGISTER.jsonl",
        help="record this review (content hashes of every input, the figures found) in a "
        "register of reviewed releases, for `workbench reassess`",
    )
    p.add_argument(
        "--bundle",
        metavar="BUNDLE.json",
        help="write an assessment bundle with the scenario matrix (for `workbench report` and "
        "the dashboard); leak-checked against every release's direct identifiers",
    )
    p.add_argument("--title", default="Threat-scenario review", help="the bundle's title")
    p.add_argument("--json", action="store_true", help="print the scenario matrix as JSON")
    p.set_defaults(func=run)


def _parse_release(text: str, catalog: Any, files: dict[str, str]) -> Any:
    from ..loading.readers import load
    from ..scenarios import Release

    if catalog is not None and text in catalog.datasets and not Path(text).is_file():
        return Release(text, catalog.load_dataset(text), dataset=text, kind="dataset")
    name, _, rest = text.partition("=") if "=" in text else ("", "", text)
    path, _, dataset = rest.partition("@")
    name = name or Path(path).stem
    if dataset and dataset not in catalog.datasets:
        raise ParameterError(
            "releases", text, f"@DATASET naming a catalog dataset ({', '.join(catalog.datasets)})"
        )
    files[name] = path
    return Release(name, load(path), dataset=dataset or None, kind="file")


def run(args: argparse.Namespace) -> int:
    from ..governance.catalog import Catalog
    from ..scenarios import evaluate_scenarios, load_scenarios
    from . import print_json

    if args.fail_above is not None and not 0 <= args.fail_above <= 1:
        raise ParameterError("fail-above", args.fail_above, "a share in [0, 1]")
    catalog = Catalog.load(args.catalog)
    paths = args.scenarios or [Path(args.catalog).parent / "scenarios"]
    scenarios = load_scenarios(paths)
    files: dict[str, str] = {}
    if args.releases:
        releases = [_parse_release(t, catalog, files) for t in args.releases]
    else:
        releases = [
            _parse_release(name, catalog, files)
            for name, entry in catalog.datasets.items()
            if not entry.external
        ]
    matrix = evaluate_scenarios(releases, scenarios, catalog)
    if args.register:
        from ..scenarios import register_review

        register_review(matrix, releases, catalog, args.register, files)
    if args.bundle:
        write_scenario_bundle(args.bundle, args.title, matrix, releases, catalog)
    failed = args.fail_above is not None and any(
        o.applicable and o.risk > args.fail_above for o in matrix.outcomes
    )
    if args.json:
        doc = matrix.to_dict()
        doc["fail_above"] = args.fail_above
        doc["failed"] = failed
        print_json(doc)
    else:
        names = [s.name for s in matrix.scenarios]
        width = max(len(r) for r in matrix.releases) + 2
        print("risk by release (rows) and scenario (columns); - = does not apply")
        print(" " * width + "  ".join(f"{n[:22]:>22}" for n in names))
        for r in matrix.releases:
            cells = []
            for n in names:
                o = matrix.outcome(r, n)
                cells.append(f"{(f'{100 * o.risk:.1f} %' if o.applicable else '-'):>22}")
            print(f"{r:<{width}}" + "  ".join(cells))
        print()
        for line in matrix.worst_in_words().values():
            print(line)
    return 1 if failed else 0


def write_scenario_bundle(path: str, title: str, matrix: Any, releases: Any, catalog: Any) -> None:
    """A bundle holding the scenario matrix, leak-checked against every release's identifiers."""
    from ..review.assessment import direct_identifier_columns
    from ..review.bundle import AssessmentBundle, identifier_values

    datasets = []
    forbidden: set[str] = set()
    for r in releases:
        entry = catalog.entry(r.dataset) if r.dataset in catalog.datasets else None
        roles = entry.roles if entry is not None else None
        datasets.append(
            {"name": r.name, "department": entry.department if entry else None, "kind": r.kind}
        )
        forbidden |= identifier_values(r.data, direct_identifier_columns(r.data, roles))
    bundle = AssessmentBundle.build(title, datasets=datasets, scenarios=matrix.to_dict())
    bundle.save(path, forbidden=forbidden)
