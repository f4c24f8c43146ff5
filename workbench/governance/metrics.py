"""Programme metrics: is the privacy programme working, in a handful of numbers.

Computed from the logs the workbench already keeps (gate results, provenance, access events), so
the numbers can be audited back to individual records.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from ..errors import ProvenanceError
from .access import AccessLog, parse_now
from .gate import read_gate_log
from .provenance import ProvenanceLog, _iso, default_log_path, verify_log

__all__ = ["ProgrammeMetrics", "programme_metrics"]


@dataclass(frozen=True)
class ProgrammeMetrics:
    """Headline numbers of the privacy programme.

    Attributes
    ----------
    datasets_checked, datasets_passing : int
        Targets (datasets or combinations) in the gate log and how many passed on their latest
        check.
    share_passing : float or None
        ``datasets_passing / datasets_checked``.
    violations : int
        Failed findings in the latest check of each target (open violations).
    violations_total : int
        Failed findings over every check ever run.
    open_reviews : int
        Review flags in the latest check of each target.
    median_days_to_revocation : float or None
        Median days from a project's end date to the revocation of a role granted for it (0 when
        revoked on time).
    overdue_revocations : int
        Roles still held past their project's end date.
    provenance_records : int
        Records in the provenance log; ``provenance_intact`` says whether its chain verifies.
    provenance_signed : bool or None
        Whether the log is signed (``False``: unsigned, so anyone with write access could
        rewrite it unnoticed); ``None`` when there is no log.
    operations : Mapping[str, int]
        Provenance records per operation.
    disclosure_requests : Mapping[str, int] or None
        External requests for individual-level data by outcome (permitted, refused, referred =
        still open); ``None`` when no disclosure register is given.
    median_hours_to_disclosure_decision : float or None
        Median hours from a request's receipt to its decision (by the rules or the board).
    """

    now: str
    datasets_checked: int
    datasets_passing: int
    share_passing: float | None
    violations: int
    violations_total: int
    open_reviews: int
    median_days_to_revocation: float | None
    overdue_revocations: int
    provenance_records: int
    provenance_intact: bool | None
    operations: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    provenance_signed: bool | None = None
    disclosure_requests: MappingProxyType | None = None
    median_hours_to_disclosure_decision: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "datasets_checked": self.datasets_checked,
            "datasets_passing": self.datasets_passing,
            "share_passing": self.share_passing,
            "violations": self.violations,
            "violations_total": self.violations_total,
            "open_reviews": self.open_reviews,
            "median_days_to_revocation": self.median_days_to_revocation,
            "overdue_revocations": self.overdue_revocations,
            "provenance_records": self.provenance_records,
            "provenance_intact": self.provenance_intact,
            "operations": dict(self.operations),
            "provenance_signed": self.provenance_signed,
            "disclosure_requests": None
            if self.disclosure_requests is None
            else dict(self.disclosure_requests),
            "median_hours_to_disclosure_decision": self.median_hours_to_disclosure_decision,
        }


def programme_metrics(
    provenance: str | os.PathLike | ProvenanceLog | None = None,
    gate_log: str | os.PathLike | None = None,
    access_log: str | os.PathLike | AccessLog | None = None,
    now: str | date | datetime | None = None,
    disclosure: Any = None,
) -> ProgrammeMetrics:
    """Compute :class:`ProgrammeMetrics` from the gate, provenance and access logs.

    ``disclosure`` is a :class:`~workbench.governance.disclosure.DisclosureRegister`: its
    requests by outcome and time to decision join the metrics.
    """
    now_dt = parse_now(now)
    runs = read_gate_log(gate_log)
    latest: dict[str, dict[str, Any]] = {}
    total_fail = 0
    for run in runs:
        latest[run["target"]] = run
        total_fail += sum(1 for f in run.get("findings", []) if f.get("status") == "fail")
    passing = sum(1 for r in latest.values() if r.get("passed"))
    open_fail = sum(
        1 for r in latest.values() for f in r.get("findings", []) if f.get("status") == "fail"
    )
    open_reviews = sum(
        1 for r in latest.values() for f in r.get("findings", []) if f.get("status") == "review"
    )
    if isinstance(provenance, ProvenanceLog):
        plog: ProvenanceLog | None = provenance
    else:
        path = provenance if provenance is not None else default_log_path()
        plog = ProvenanceLog(path) if path is not None else None
    records: list[dict[str, Any]] = []
    intact: bool | None = None
    signed: bool | None = None
    if plog is not None and (plog.path.exists() or plog.head_path.exists()):
        try:
            check = verify_log(plog)
            intact, signed = check.ok, check.signed
        except ProvenanceError:  # nothing to verify, or bytes that are not a log: not intact
            intact, signed = False, False
        try:
            records = plog.records()
        except ProvenanceError:
            records = []
    alog = access_log if isinstance(access_log, AccessLog) else AccessLog(access_log)
    delays = alog.revocation_delays()
    review = alog.review(now=now_dt)
    overdue = sum(1 for f in review.flags if f.kind == "expired")
    dstats = None
    if disclosure is not None:
        from .disclosure import disclosure_statistics

        dstats = disclosure_statistics(disclosure.cases())
    return ProgrammeMetrics(
        now=_iso(now_dt),
        datasets_checked=len(latest),
        datasets_passing=passing,
        share_passing=(passing / len(latest)) if latest else None,
        violations=open_fail,
        violations_total=total_fail,
        open_reviews=open_reviews,
        median_days_to_revocation=float(statistics.median(delays)) if delays else None,
        overdue_revocations=overdue,
        provenance_records=len(records),
        provenance_intact=intact,
        provenance_signed=signed,
        operations=MappingProxyType(dict(Counter(r.get("operation") for r in records))),
        disclosure_requests=None
        if dstats is None
        else MappingProxyType(dict(dstats["by_outcome"])),
        median_hours_to_disclosure_decision=None
        if dstats is None
        else dstats["median_hours_to_decision"],
    )
