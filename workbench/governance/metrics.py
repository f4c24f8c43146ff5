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
from .provenance import ProvenanceLog, _iso, default_log_path, parse_time, verify_log

__all__ = ["ProgrammeMetrics", "programme_metrics", "release_checks", "days_to_delete"]


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
    releases_checked, releases_passing : int
        Every gate check recorded in the (signed) provenance log -- each release candidate
        checked, not only each target's latest -- and how many passed.
    share_releases_passing : float or None
        ``releases_passing / releases_checked``.
    median_days_to_delete, max_days_to_delete : float or None
        Days from an output's retention horizon to its deletion by ``retention --purge``, from
        the purge records of the provenance log (0 when purged the moment it expired).
    deletions : int
        Outputs purged, with a recorded horizon.
    overdue_deletions : int
        Outputs past their horizon and still on disk now (the purge job is not running).
    ethics_reviews : Mapping[str, int] or None
        Ethics reviews by outcome (approved, rejected, open); ``None`` without an ethics log.
    median_hours_to_ethics_decision : float or None
        Median hours from an ethics review's filing to the board's quorum.
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
    releases_checked: int = 0
    releases_passing: int = 0
    share_releases_passing: float | None = None
    median_days_to_delete: float | None = None
    max_days_to_delete: float | None = None
    deletions: int = 0
    overdue_deletions: int = 0
    ethics_reviews: MappingProxyType | None = None
    median_hours_to_ethics_decision: float | None = None

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
            "releases_checked": self.releases_checked,
            "releases_passing": self.releases_passing,
            "share_releases_passing": self.share_releases_passing,
            "median_days_to_delete": self.median_days_to_delete,
            "max_days_to_delete": self.max_days_to_delete,
            "deletions": self.deletions,
            "overdue_deletions": self.overdue_deletions,
            "ethics_reviews": None if self.ethics_reviews is None else dict(self.ethics_reviews),
            "median_hours_to_ethics_decision": self.median_hours_to_ethics_decision,
        }


def release_checks(records: list[dict[str, Any]]) -> tuple[int, int]:
    """(checked, passed) over every ``check`` record: each release candidate's gate result."""
    checks = [r for r in records if r.get("operation") == "check"]
    passed = sum(1 for r in checks if (r.get("parameters") or {}).get("passed") is True)
    return len(checks), passed


def days_to_delete(records: list[dict[str, Any]]) -> list[float]:
    """Days from each purged output's horizon to the purge that deleted it (never negative)."""
    out = []
    for r in records:
        if r.get("operation") != "purge":
            continue
        for item in r.get("inputs") or []:
            horizon = item.get("horizon") if isinstance(item, dict) else None
            if not horizon:
                continue  # purged before horizons were recorded: not measurable
            delta = parse_time(r["timestamp"]) - parse_time(horizon)
            out.append(max(0.0, delta.total_seconds() / 86400))
    return out


def programme_metrics(
    provenance: str | os.PathLike | ProvenanceLog | None = None,
    gate_log: str | os.PathLike | None = None,
    access_log: str | os.PathLike | AccessLog | None = None,
    now: str | date | datetime | None = None,
    disclosure: Any = None,
    ethics: Any = None,
    catalog: Any = None,
) -> ProgrammeMetrics:
    """Compute :class:`ProgrammeMetrics` from the gate, provenance and access logs.

    ``disclosure`` is a :class:`~workbench.governance.disclosure.DisclosureRegister`: its
    requests by outcome and time to decision join the metrics. ``ethics`` is an
    :class:`~workbench.governance.reviews.EthicsReviews` log (reviews by outcome, time to the
    board's decision). ``catalog`` resolves the current retention of outputs for the overdue
    count (as ``workbench retention --catalog``).
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
    checked, passed_checks = release_checks(records)
    deletes = days_to_delete(records)
    overdue_del = 0
    if plog is not None and records and intact:
        from .retention import retention_status

        overdue_del = len(retention_status(plog, catalog=catalog, now=now_dt).due)
    estats = None
    if ethics is not None:
        estats = ethics.statistics()
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
        releases_checked=checked,
        releases_passing=passed_checks,
        share_releases_passing=(passed_checks / checked) if checked else None,
        median_days_to_delete=float(statistics.median(deletes)) if deletes else None,
        max_days_to_delete=max(deletes) if deletes else None,
        deletions=len(deletes),
        overdue_deletions=overdue_del,
        ethics_reviews=None if estats is None else MappingProxyType(dict(estats["by_outcome"])),
        median_hours_to_ethics_decision=None
        if estats is None
        else estats["median_hours_to_decision"],
    )
