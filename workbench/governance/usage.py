"""Who used which data, for what: the data-use log.

Every read of a catalog dataset (CLI, Python API, notebooks: they all go through
:meth:`workbench.governance.catalog.Catalog.load_dataset`) appends one ``data-use`` record -- user, role,
dataset(s), purpose, columns, rows, operation -- to a hash-chained log in the provenance format,
Ed25519-signed when ``WORKBENCH_PROVENANCE_KEY`` is set. It lives at ``$WORKBENCH_USE_LOG`` or
``.workbench/use.jsonl`` (``off`` disables it). Access reviews read it for real last use, and
:mod:`workbench.governance.anomalies` looks for unusual use in it.

Column names and counts are recorded, never values. A read without a purpose is recorded as
``unspecified`` (and flagged by the anomaly detectors); with ``WORKBENCH_REQUIRE_PURPOSE=1`` such a
read is refused instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ParameterError

__all__ = [
    "Identity",
    "ProjectPeriod",
    "UNSPECIFIED",
    "UseEvent",
    "default_use_log_path",
    "identity",
    "last_use",
    "project_periods",
    "read_use_log",
    "record_use",
]

UNSPECIFIED = "unspecified"
OPERATION = "data-use"


def default_use_log_path() -> Path | None:
    """``WORKBENCH_USE_LOG`` or ``.workbench/use.jsonl``; ``None`` when set to ``off``."""
    env = os.environ.get("WORKBENCH_USE_LOG")
    if env is not None and env.strip().lower() in {"off", "none", "0", "false"}:
        return None
    return Path(env) if env else Path.cwd() / ".workbench" / "use.jsonl"


@dataclass(frozen=True)
class UseEvent:
    """One use of data: aggregates and names only."""

    timestamp: datetime
    user: str
    role: str | None
    datasets: tuple[str, ...]
    purpose: str
    columns: tuple[str, ...] = ()
    rows: int = 0
    operation: str = "read"
    view: str = "raw"
    filtered: bool = False
    project: str | None = None
    seq: int | None = None

    def to_parameters(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "datasets": list(self.datasets),
            "purpose": self.purpose,
            "columns": list(self.columns),
            "rows": int(self.rows),
            "operation": self.operation,
            "view": self.view,
            "filtered": bool(self.filtered),
            "project": self.project,
        }


def record_use(
    datasets: str | Sequence[str],
    *,
    purpose: str | None,
    columns: Iterable[str] = (),
    rows: int = 0,
    operation: str = "read",
    view: str = "raw",
    filtered: bool = False,
    user: str | None = None,
    role: str | None = None,
    project: str | None = None,
    log: str | os.PathLike | None = None,
) -> dict[str, Any] | None:
    """Append a ``data-use`` record (or do nothing when the use log is off).

    ``purpose`` is required when ``WORKBENCH_REQUIRE_PURPOSE`` is set; otherwise a missing one is
    recorded as ``unspecified`` so the anomaly detectors can flag it.
    """
    from .provenance import ProvenanceLog, current_user

    path = Path(log) if log is not None else default_use_log_path()
    if path is None:
        return None
    names = (datasets,) if isinstance(datasets, str) else tuple(datasets)
    who = identity() if user is None or role is None else Identity(user, role)
    if not purpose or not str(purpose).strip():
        if os.environ.get("WORKBENCH_REQUIRE_PURPOSE", "").strip() not in ("", "0", "false"):
            raise ParameterError(
                "purpose", purpose, f"the purpose of reading {', '.join(names)} (required here)"
            )
        purpose = UNSPECIFIED
    event = UseEvent(
        timestamp=datetime.now(),
        user=user or who.user or current_user(None),
        role=role or who.role or os.environ.get("WORKBENCH_ROLE") or None,
        datasets=names,
        purpose=str(purpose),
        columns=tuple(str(c) for c in columns),
        rows=int(rows),
        operation=operation,
        view=view,
        filtered=filtered,
        project=project or os.environ.get("WORKBENCH_PROJECT") or None,
    )
    return ProvenanceLog(path).append(OPERATION, parameters=event.to_parameters(), user=event.user)


@dataclass(frozen=True)
class Identity:
    """Who is acting, as an identity provider says (``None``: fall back to the OS user)."""

    user: str | None = None
    role: str | None = None


def identity() -> Identity:
    """The acting person from the configured identity-provider hook, else nobody in particular.

    ``WORKBENCH_IDENTITY_HOOK=package.module:function`` names a function (installed code an
    administrator configures, never content read from data) returning a user name, a
    ``(user, role)`` pair or a mapping with ``user`` and ``role`` -- for example one that reads
    the single-sign-on session. Without a hook the OS user (``WORKBENCH_USER``, ``USER``) acts.
    A hook that fails or returns something else is an error, not a silent fallback.
    """
    import importlib

    spec = os.environ.get("WORKBENCH_IDENTITY_HOOK", "").strip()
    if not spec:
        return Identity()
    module, _, func = spec.partition(":")
    if not module or not func.isidentifier():
        raise ParameterError("WORKBENCH_IDENTITY_HOOK", spec, "package.module:function")
    try:
        got = getattr(importlib.import_module(module), func)()
    except Exception as exc:  # a broken hook must stop the read, loudly
        raise ParameterError(
            "WORKBENCH_IDENTITY_HOOK", spec, f"a working hook ({type(exc).__name__})"
        ) from None
    if isinstance(got, str) and got.strip():
        return Identity(got.strip())
    if isinstance(got, tuple) and len(got) == 2 and all(isinstance(x, str | None) for x in got):
        return Identity(*got)
    if isinstance(got, dict) and isinstance(got.get("user"), str):
        return Identity(got["user"], got.get("role"))
    raise ParameterError(
        "WORKBENCH_IDENTITY_HOOK", spec, "a hook returning a user name, (user, role) or a mapping"
    )


def _parse_time(text: str) -> datetime:
    from .provenance import parse_time

    return parse_time(text)


def read_use_log(path: str | os.PathLike, verify: bool = True) -> Iterator[UseEvent]:
    """The ``data-use`` records of a log, verified first (a tampered log is refused)."""
    from ..errors import ProvenanceError
    from .provenance import ProvenanceLog, verify_log

    if verify:
        result = verify_log(path)
        if not result.ok:
            raise ProvenanceError(f"use log {path} failed verification; refusing to trust it")
    for rec in ProvenanceLog(path).records():
        if rec.get("operation") != OPERATION:
            continue
        p = rec.get("parameters") or {}
        yield UseEvent(
            timestamp=_parse_time(rec["timestamp"]),
            user=str(rec.get("user")),
            role=p.get("role"),
            datasets=tuple(p.get("datasets") or ()),
            purpose=str(p.get("purpose") or UNSPECIFIED),
            columns=tuple(p.get("columns") or ()),
            rows=int(p.get("rows") or 0),
            operation=str(p.get("operation") or "read"),
            view=str(p.get("view") or "raw"),
            filtered=bool(p.get("filtered")),
            project=p.get("project"),
            seq=rec.get("seq"),
        )


@dataclass(frozen=True)
class ProjectPeriod:
    """When a user may use data for a project (from the access log's grants)."""

    user: str
    project: str
    start: datetime
    end: datetime | None = None
    extra: dict = field(default_factory=dict, compare=False)


def project_periods(access_log: Any) -> list[ProjectPeriod]:
    """Project periods from an access log's grants (current and revoked): from the grant to its
    end date (``until``) or, once revoked, to the revocation."""
    from .provenance import parse_time

    out = []
    if not access_log.path.exists():
        return out
    active, closed = access_log._state()
    for g in [*active.values(), *closed]:
        if not g.get("project"):
            continue
        ends = [parse_time(t) for t in (g.get("until"), g.get("revoked_at")) if t]
        out.append(
            ProjectPeriod(
                g["user"], g["project"], parse_time(g["timestamp"]), min(ends) if ends else None
            )
        )
    return out


def last_use(path: str | os.PathLike | None = None) -> dict[tuple[str, str | None], datetime]:
    """Latest data use per (user, role) in the use log (empty when there is none)."""
    p = Path(path) if path is not None else default_use_log_path()
    if p is None or not p.is_file():
        return {}
    out: dict[tuple[str, str | None], datetime] = {}
    for e in read_use_log(p):
        key = (e.user, e.role)
        if key not in out or e.timestamp > out[key]:
            out[key] = e.timestamp
    return out
