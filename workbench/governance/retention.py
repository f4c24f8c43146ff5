"""Retention: which derived outputs are past their horizon, and purging them safely.

An output's horizon is its creation time (the provenance record that wrote it) plus the
retention period of the policy in force (harmonized over the combination when the catalog is
given, else the period recorded with the policy). Only files the workbench itself recorded as
outputs, whose content still has the recorded hash, are ever deleted: inputs and sources it did
not create are never touched, and a changed file is left for a person to decide.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .._io import sha256_file
from ..errors import ConfigError, PolicyError, ProvenanceError
from .access import parse_now
from .policy import Retention
from .provenance import ProvenanceLog, _iso, parse_time, verify_log

__all__ = ["RetentionItem", "RetentionReport", "retention_status", "purge"]

_STATUS_WORDS = {
    "due": "past its retention horizon: delete it (run with --purge)",
    "kept": "within its retention period",
    "purged": "deleted by this run",
    "already_purged": "deleted by an earlier purge",
    "missing": "already gone from disk (not deleted by the workbench)",
    "modified": "changed since the workbench wrote it: not deleted; a person must decide",
    "source": "also used as a source before the workbench wrote it: never deleted",
    "no_policy": "no policy was in force: no retention horizon; add a policy",
}


@dataclass(frozen=True)
class RetentionItem:
    """One derived output and its retention state."""

    path: str
    sha256: str | None
    created: str
    record: int
    operation: str
    policy: str | None
    retention: str | None
    horizon: str | None
    status: str

    @property
    def advice(self) -> str:
        """What the status means, in plain words."""
        return _STATUS_WORDS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "created": self.created,
            "record": self.record,
            "operation": self.operation,
            "policy": self.policy,
            "retention": self.retention,
            "horizon": self.horizon,
            "status": self.status,
            "advice": self.advice,
        }


@dataclass(frozen=True)
class RetentionReport:
    """Retention state of every derived output in the provenance log."""

    now: str
    log: str
    items: tuple[RetentionItem, ...]
    purge_record: int | None = None

    @property
    def due(self) -> tuple[RetentionItem, ...]:
        """Outputs past their horizon and not yet deleted."""
        return tuple(i for i in self.items if i.status == "due")

    @property
    def purged(self) -> tuple[RetentionItem, ...]:
        return tuple(i for i in self.items if i.status == "purged")

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "log": self.log,
            "due": len(self.due),
            "purged": len(self.purged),
            "purge_record": self.purge_record,
            "items": [i.to_dict() for i in self.items],
        }


def _catalog_retention(catalog: Any, policy_name: str | None) -> Retention | None:
    """Current harmonized retention of the dataset(s) a policy name refers to, if resolvable."""
    if catalog is None or not policy_name:
        return None
    from .catalog_policies import combination_policy, open_catalog, split_target

    cat = open_catalog(catalog)
    names = split_target(policy_name)
    if not all(n in cat.datasets for n in names):
        return None
    try:
        return combination_policy(cat, names).policy.retention
    except (PolicyError, ConfigError):
        return None


def _catalog_sources(catalog: Any) -> set[str]:
    if catalog is None:
        return set()
    from .catalog_policies import open_catalog

    cat = open_catalog(catalog)
    return {str(Path(e.file).resolve()) for e in cat.datasets.values()}


def retention_status(
    log: str | os.PathLike | ProvenanceLog | None = None,
    catalog: Any = None,
    now: str | date | datetime | None = None,
) -> RetentionReport:
    """List every derived output recorded in the log with its horizon and status."""
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    now_dt = parse_now(now)
    records = plog.records()
    sources = _catalog_sources(catalog)
    first_input: dict[str, int] = {}
    latest: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    purged: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    retention_cache: dict[str | None, Retention | None] = {}
    for rec in records:
        if rec.get("operation") == "purge":
            for item in rec.get("inputs", []):
                p = item.get("path")
                if p in latest:
                    purged[p] = latest.pop(p)
            continue
        for item in rec.get("inputs", []):
            if item.get("path"):
                first_input.setdefault(item["path"], int(rec["seq"]))
        for item in rec.get("outputs", []):
            p = item.get("path")
            if p:
                latest[p] = (rec, item)
                purged.pop(p, None)
    items = []
    for group, state in ((latest, None), (purged, "already_purged")):
        for path, (rec, out) in group.items():
            pol = rec.get("policy") or {}
            name = pol.get("name")
            if name not in retention_cache:
                retention_cache[name] = _catalog_retention(catalog, name)
            ret = retention_cache[name]
            if ret is None and pol.get("retention") is not None:
                ret = Retention.parse(pol["retention"])
            created = parse_time(rec["timestamp"])
            horizon = ret.add_to(created) if ret is not None else None
            if state:
                status = state
            elif path in sources or first_input.get(path, 1 << 62) < int(rec["seq"]):
                status = "source"
            elif ret is None:
                status = "no_policy"
            elif horizon > now_dt:
                status = "kept"
            elif not Path(path).is_file():
                status = "missing"
            elif out.get("sha256") is None or sha256_file(path) != out.get("sha256"):
                status = "modified"
            else:
                status = "due"
            items.append(
                RetentionItem(
                    path=path,
                    sha256=out.get("sha256"),
                    created=rec["timestamp"],
                    record=int(rec["seq"]),
                    operation=rec["operation"],
                    policy=name,
                    retention=None if ret is None else str(ret.text),
                    horizon=None if horizon is None else _iso(horizon),
                    status=status,
                )
            )
    items.sort(key=lambda i: (i.record, i.path))
    return RetentionReport(now=_iso(now_dt), log=str(plog.path), items=tuple(items))


def purge(
    log: str | os.PathLike | ProvenanceLog | None = None,
    catalog: Any = None,
    now: str | date | datetime | None = None,
    user: str | None = None,
) -> RetentionReport:
    """Delete derived outputs past their horizon and record the purge in provenance.

    Refuses to act on a log whose hash chain is broken (it decides what gets deleted). Each file
    is re-hashed just before deletion; one ``purge`` record lists the deleted files.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    check = verify_log(plog)
    if not check.ok:
        raise ProvenanceError(
            f"{plog.path}: the provenance log fails verification ({check.issues[0].message}); "
            "nothing was purged"
        )
    report = retention_status(plog, catalog=catalog, now=now)
    deleted: list[dict[str, Any]] = []
    items = []
    for item in report.items:
        if item.status == "due" and sha256_file(item.path) == item.sha256:
            Path(item.path).unlink()
            # the horizon is kept so that "time to delete" (horizon -> deletion) is measurable
            # from the signed log alone (workbench.governance.metrics)
            deleted.append(
                {
                    "path": item.path,
                    "sha256": item.sha256,
                    "policy": item.policy,
                    "horizon": item.horizon,
                }
            )
            item = RetentionItem(**{**item.__dict__, "status": "purged"})
        items.append(item)
    seq = None
    if deleted:
        rec = plog.append(
            "purge",
            inputs=deleted,
            outputs=[],
            parameters={
                "reason": "retention horizon passed",
                "now": report.now,
                "files": len(deleted),
            },
            user=user,
        )
        seq = int(rec["seq"])
    return RetentionReport(now=report.now, log=report.log, items=tuple(items), purge_record=seq)
