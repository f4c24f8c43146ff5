"""``workbench metrics``: is the privacy programme working, in a handful of numbers.

Computed from the logs (provenance, gate, access; with ``--catalog`` also the disclosure
register and the ethics reviews in ``governance/`` beside it): releases passing their gate,
requests by outcome and time to decision, time to revoke access, time to delete.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "metrics",
        help="programme metrics from the signed logs (gate, deletion, access, disclosure, ethics)",
        description=__doc__,
    )
    p.add_argument("--catalog", help="catalog YAML: governance/ beside it adds disclosure, ethics")
    p.add_argument("--log", help="provenance log (default .workbench/provenance.jsonl)")
    p.add_argument("--gate-log", help="gate log (default WORKBENCH_GATE_LOG)")
    p.add_argument("--access-log", help="access log (default WORKBENCH_ACCESS_LOG)")
    p.add_argument("--now", help="evaluate as of this date (YYYY-MM-DD), default now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _governance(catalog: str | None) -> tuple[Any, Any]:
    if not catalog:
        return None, None
    from ..governance.disclosure import DisclosureRegister
    from ..governance.oversight import load_oversight
    from ..governance.reviews import EthicsReviews

    gov = Path(catalog).parent / "governance"
    if not (gov / "oversight.yaml").is_file():
        return None, None
    board = load_oversight(gov / "oversight.yaml")
    disclosure = (
        DisclosureRegister(gov / "disclosure.jsonl", board)
        if (gov / "disclosure.jsonl").is_file()
        else None
    )
    ethics = (
        EthicsReviews(gov / "ethics.jsonl", board) if (gov / "ethics.jsonl").is_file() else None
    )
    return disclosure, ethics


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}{unit}"
    return f"{value}{unit}"


def run(args: argparse.Namespace) -> int:
    from ..governance.metrics import programme_metrics

    disclosure, ethics = _governance(args.catalog)
    m = programme_metrics(
        provenance=args.log,
        gate_log=args.gate_log,
        access_log=args.access_log,
        now=args.now,
        disclosure=disclosure,
        ethics=ethics,
        catalog=args.catalog,
    )
    if args.json:
        print_json(m.to_dict())
        return 0
    share = "-" if m.share_releases_passing is None else f"{m.share_releases_passing:.0%}"
    lines = [
        f"programme metrics as of {m.now}",
        f"  releases passing their gate: {m.releases_passing} of {m.releases_checked} ({share})",
        f"  open violations: {m.violations}; open review flags: {m.open_reviews}",
        f"  time to revoke access: median {_num(m.median_days_to_revocation, ' days')}; "
        f"overdue revocations {m.overdue_revocations}",
        f"  time to delete: median {_num(m.median_days_to_delete, ' days')}, max "
        f"{_num(m.max_days_to_delete, ' days')} over {m.deletions} deletion(s); overdue "
        f"deletions {m.overdue_deletions}",
    ]
    if m.disclosure_requests is not None:
        by = ", ".join(f"{k} {v}" for k, v in m.disclosure_requests.items())
        lines.append(
            f"  disclosure requests: {by}; median time to decision "
            f"{_num(m.median_hours_to_disclosure_decision, ' h')}"
        )
    if m.ethics_reviews is not None:
        by = ", ".join(f"{k} {v}" for k, v in m.ethics_reviews.items())
        lines.append(
            f"  ethics reviews: {by}; median time to decision "
            f"{_num(m.median_hours_to_ethics_decision, ' h')}"
        )
    signed = {True: "signed", False: "UNSIGNED", None: "no log"}[m.provenance_signed]
    intact = {True: "intact", False: "BROKEN", None: "-"}[m.provenance_intact]
    lines.append(f"  provenance: {m.provenance_records} record(s), {intact}, {signed}")
    print("\n".join(lines))
    return 0
