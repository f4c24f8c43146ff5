"""``workbench check``: the privacy gate for ETL steps (exit 0 pass, 1 violation, 2 bad input)."""

from __future__ import annotations

import argparse

from ..errors import ParameterError
from . import print_json


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="privacy gate: compare measured risk with the (harmonized) policy",
        description="Measure re-identification risk of a dataset file, a catalog dataset or a "
        "planned combination 'a+b' and compare it with the policy in force. Exit 0 when every "
        "rule passes (review flags allowed unless --strict), 1 on a violation, 2 on bad input.",
    )
    p.add_argument("target", help="data file, catalog dataset name, or combination a+b")
    p.add_argument("--policy", action="append", help="policy YAML (repeat to harmonize several)")
    p.add_argument("--catalog", help="catalog YAML with datasets, roles and policies")
    p.add_argument("--qi", help="comma-separated quasi-identifiers (override the roles)")
    p.add_argument("--sensitive", help="comma-separated sensitive attributes")
    p.add_argument("--roles", help="role map JSON for a data file")
    p.add_argument("--purpose", help="intended use; must be a permitted, consented purpose")
    p.add_argument("--user", help="who runs the check (default WORKBENCH_USER, then USER)")
    p.add_argument("--access-log", help="access log: the user must hold a role allowed raw rows")
    p.add_argument("--reviews", help="reviewed-combinations registry (default next to catalog)")
    p.add_argument("--recipient", help="who receives the release (sharing is checked)")
    p.add_argument(
        "--recipient-kind",
        choices=("department", "vendor", "other government"),
        help="kind of recipient: a department, a vendor, another government",
    )
    p.add_argument("--agreements", help="data-use agreements (default governance/agreements.yaml)")
    p.add_argument("--strict", action="store_true", help="treat review flags as failures")
    p.add_argument(
        "--approve",
        action="store_true",
        help="record that you reviewed this combination (only when nothing fails)",
    )
    p.add_argument("--note", default="", help="note stored with --approve")
    p.add_argument("--no-record", action="store_true", help="do not write gate/provenance logs")
    p.add_argument(
        "--population-table", help="population table for the policy's min_k_map (QI columns)"
    )
    p.add_argument(
        "--research-subset", help="research subset of the data for the policy's delta_presence"
    )
    p.add_argument(
        "--population-size", type=float, help="population size for max_population_uniqueness"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _print_text(result) -> None:
    print(
        f"workbench check {result.target}: policy {result.policy} "
        f"(sha256 {result.policy_sha256[:12]}), {result.records} records"
    )
    width = max((len(f.rule) for f in result.findings), default=4)
    for f in result.findings:
        measured = "-" if f.measured is None else f.measured
        limit = "-" if f.limit is None else f.limit
        if isinstance(limit, dict) and {"share", "threshold"} <= set(limit):
            limit = f"share <= {limit['share']} of records with risk > {limit['threshold']}"
        elif isinstance(limit, list):
            limit = ", ".join(map(str, limit)) or "none"
        if isinstance(measured, list):
            measured = ", ".join(map(str, measured)) or "none"
        print(f"  {f.status.upper():<6} {f.rule:<{width}}  measured {measured}  limit {limit}")
        print(f"         {f.message}")
    for note in result.notes:
        print(f"  note: {note}")
    verdict = "PASS" if result.passed else "FAIL"
    print(
        f"Result: {verdict} ({len(result.violations)} violation(s), "
        f"{len(result.reviews)} review flag(s){', strict' if result.strict else ''})"
    )


def run(args: argparse.Namespace) -> int:
    from .._redact import display_source
    from ..governance.gate import gate
    from ..governance.reviews import ReviewRegistry, default_reviews_path
    from ..loading.readers import load

    kwargs = dict(
        policy=args.policy if args.policy and len(args.policy) > 1 else (args.policy or [None])[0],
        catalog=args.catalog,
        qis=_split(args.qi),
        sensitive=_split(args.sensitive),
        roles=args.roles,
        purpose=args.purpose,
        user=args.user,
        strict=args.strict,
        reviews=args.reviews,
        access_log=args.access_log,
        recipient=args.recipient,
        recipient_kind=args.recipient_kind,
        agreements=args.agreements,
        population_size=args.population_size,
        **{
            name: load(path).to_pandas()
            for name, path in (
                ("population_table", args.population_table),
                ("research_subset", args.research_subset),
            )
            if path
        },
    )
    if args.approve:
        first = gate(args.target, record=False, **kwargs)
        if len(first.datasets) < 2:
            raise ParameterError("--approve", args.target, "a combination a+b of catalog datasets")
        if first.violations:
            _print_text(first) if not args.json else print_json(first.to_dict())
            print("Not approved: fix the violations first.")
            return 1
        reg = ReviewRegistry(args.reviews or default_reviews_path(args.catalog))
        reg.approve(first.datasets, first.policy_sha256, reviewer=args.user, note=args.note)
    if not args.policy and not args.catalog:
        # no policy in force: the one check that needs none still runs, so an "anonymized" file
        # that holds a direct identifier fails (exit 1) instead of being waved through
        found = _direct_identifiers_without_policy(args)
        if found:
            doc = {
                "target": display_source(args.target),
                "passed": False,
                "exit_code": 1,
                "findings": [
                    {
                        "rule": "direct_identifier_present",
                        "status": "fail",
                        "columns": [d.column for d in found],
                        "message": "Direct identifiers present: "
                        + "; ".join(f"{d.column} ({d.reason})" for d in found)
                        + ". Drop or pseudonymize them before release.",
                    }
                ],
                "notes": ["no policy in force: only the direct-identifier check ran"],
            }
            if args.json:
                print_json(doc)
            else:
                print(f"FAIL {display_source(args.target)}: {doc['findings'][0]['message']}")
                print("  (no policy in force: only the direct-identifier check ran)")
            return 1
    result = gate(args.target, record=not args.no_record, **kwargs)
    if args.json:
        print_json(result.to_dict())
    else:
        _print_text(result)
    return result.exit_code


def _direct_identifiers_without_policy(args: argparse.Namespace) -> list:
    """The release rule's direct identifiers of a data file or database table (else ``[]``)."""
    from pathlib import Path

    from ..loading.postgres import is_database_url
    from ..loading.readers import load
    from ..profiling.roles import RoleMap, find_direct_identifiers

    if not is_database_url(args.target) and ("+" in args.target or not Path(args.target).is_file()):
        return []
    roles = RoleMap.load(args.roles) if args.roles else None
    return list(find_direct_identifiers(load(args.target), roles))
