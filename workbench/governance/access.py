"""Role-based access: who may see raw rows, de-identified rows, or aggregates only.

Roles (``steward``, ``analyst``, ``reviewer`` by default; configurable in YAML) map to the views
they may see. A dataset's policy can narrow that further (``access:`` in the policy). The core
enforces it where results are rendered: :func:`render_for` refuses record-level data (DataFrames,
relations, per-record arrays) to a role without record-level access, so the dashboard, which runs
as ``reviewer``, only ever receives aggregates.

Grants, revocations and uses are appended to a JSON Lines access log (default
``.workbench/access.jsonl`` or ``WORKBENCH_ACCESS_LOG``); :meth:`AccessLog.review` lists who holds
which role, when each last used it, and flags privilege creep (unused for 90 days) and grants
past a project's end date.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from .._io import atomic_write_text
from ..errors import AccessDeniedError, ConfigError, ParameterError
from .policy import VIEW_KINDS, Policy
from .provenance import _iso, current_user, parse_time, utc_now

__all__ = [
    "DEFAULT_ROLES",
    "RECORD_LEVEL",
    "STEWARD",
    "AccessPolicy",
    "AccessLog",
    "Grant",
    "AccessFlag",
    "AccessReview",
    "default_access_log_path",
    "enforce",
    "render_for",
    "view_kind_of",
    "parse_now",
]

#: Default roles and the views each may see.
DEFAULT_ROLES: Mapping[str, tuple[str, ...]] = {
    "steward": ("raw", "deidentified", "aggregate"),
    "analyst": ("deidentified", "aggregate"),
    "reviewer": ("aggregate",),
}
#: The role that may grant roles (to anyone but its holder).
STEWARD = "steward"
#: View kinds that expose individual records.
RECORD_LEVEL = frozenset({"raw", "deidentified"})
_VIEW_WORDS = {"raw": "raw rows", "deidentified": "de-identified rows", "aggregate": "aggregates"}


def _check_view(view_kind: str) -> None:
    if view_kind not in VIEW_KINDS:
        raise ParameterError("view_kind", view_kind, f"one of {', '.join(VIEW_KINDS)}")


@dataclass(frozen=True)
class AccessPolicy:
    """Which views each role may see.

    Examples
    --------
    >>> AccessPolicy.default().allows("reviewer", "raw")
    False
    """

    roles: Mapping[str, tuple[str, ...]]
    source: str | None = None

    @classmethod
    def default(cls) -> AccessPolicy:
        """The built-in roles, or the YAML file named by ``WORKBENCH_ROLES``."""
        env = os.environ.get("WORKBENCH_ROLES")
        if env:
            return cls.load(env)
        return cls(roles=dict(DEFAULT_ROLES))

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> AccessPolicy:
        """``{"roles": {role: [views...]}}``; unknown views are errors naming the role."""
        where = f"{source}: " if source else ""
        if not isinstance(doc, Mapping) or not isinstance(doc.get("roles"), Mapping):
            raise ConfigError(f"{where}expected a mapping with 'roles: {{role: [views]}}'")
        roles: dict[str, tuple[str, ...]] = {}
        for role, views in doc["roles"].items():
            if isinstance(views, str):
                views = [views]
            if not isinstance(views, Sequence) or not views:
                raise ConfigError(f"{where}roles.{role}: expected a list of views")
            for v in views:
                if v not in VIEW_KINDS:
                    raise ConfigError(
                        f"{where}roles.{role}: unknown view {v!r}; expected {', '.join(VIEW_KINDS)}"
                    )
            roles[str(role)] = tuple(views)
        return cls(roles=roles, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> AccessPolicy:
        """Read a roles YAML file."""
        p = Path(path)
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: roles file not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML ({exc})") from None
        return cls.from_dict(doc, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        return {"roles": {r: list(v) for r, v in self.roles.items()}}

    def save(self, path: str | os.PathLike) -> Path:
        return atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))

    def views(self, role: str) -> tuple[str, ...]:
        """Views ``role`` may see (empty for an unknown role)."""
        return tuple(self.roles.get(role, ()))

    def allows(self, role: str, view_kind: str, policy: Policy | None = None) -> bool:
        """True when ``role`` may see ``view_kind``, also under the dataset ``policy`` if given."""
        _check_view(view_kind)
        if view_kind not in self.views(role):
            return False
        return policy is None or role in policy.access.roles_for(view_kind)

    def enforce(self, role: str, view_kind: str, policy: Policy | None = None) -> None:
        """Raise :class:`AccessDeniedError` unless ``role`` may see ``view_kind``."""
        if self.allows(role, view_kind, policy):
            return
        what = _VIEW_WORDS[view_kind]
        if role not in self.roles:
            raise AccessDeniedError(
                f"unknown role {role!r} may not see {what}; known roles: {', '.join(self.roles)}"
            )
        if view_kind not in self.views(role):
            allowed = ", ".join(_VIEW_WORDS[v] for v in self.views(role)) or "nothing"
            raise AccessDeniedError(f"role {role!r} may not see {what}; it may see {allowed}")
        raise AccessDeniedError(
            f"policy {policy.name!r} does not let role {role!r} see {what}; allowed roles: "
            f"{', '.join(policy.access.roles_for(view_kind)) or 'none'}"
        )


# ------------------------------------------------------------------------- record-level guard
def _is_frame_like(obj: Any) -> bool:
    import numpy as np
    import pandas as pd

    from ..dataset import Dataset

    if isinstance(obj, Dataset | pd.DataFrame | pd.Series | pd.Index):
        return True
    if isinstance(obj, np.ndarray):
        return obj.ndim >= 1
    mod = type(obj).__module__ or ""
    if mod.startswith(("polars", "duckdb", "narwhals", "pyspark", "pyarrow")):
        return True
    return hasattr(obj, "__dataframe__") or hasattr(obj, "__arrow_c_stream__")


_ORDER = {"aggregate": 0, "deidentified": 1, "raw": 2}


#: Most nodes :func:`view_kind_of` inspects; a bigger structure is refused as record-level.
_MAX_INSPECTED = 1_000_000


def view_kind_of(obj: Any, declared: str | None = None) -> str:
    """The most detailed view ``obj`` exposes: ``raw``, ``deidentified`` or ``aggregate``.

    Record-level containers (Datasets, pandas/polars/DuckDB/Spark frames, per-record numpy
    arrays) are ``raw`` unless declared ``deidentified``; declaring them ``aggregate`` does not
    make them so. Result objects are judged by their rendered form (``to_dict()``) or their
    fields; an object may declare ``__workbench_view__``. Mappings and sequences take the most
    detailed kind of their contents, at any depth (walked without recursion, each object once).
    The check fails closed: a structure with more than ``_MAX_INSPECTED`` nodes, which cannot be
    inspected to the end, counts as ``raw``.
    """
    if declared is not None:
        _check_view(declared)
    own = getattr(obj, "__workbench_view__", None)
    if _is_frame_like(obj):
        kind = declared or own or "raw"
        return "raw" if kind == "raw" else "deidentified"
    if own is not None:
        return own
    best = declared or "aggregate"
    stack: list[Any] = [obj]
    seen: dict[int, Any] = {}  # keeps each object alive so that its id is not reused
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen[id(item)] = item
        if len(seen) > _MAX_INSPECTED:
            return "raw"
        if item is not obj:
            mark = getattr(item, "__workbench_view__", None)
            if _is_frame_like(item):
                if mark in (None, "raw"):
                    return "raw"
                best = _most(best, "deidentified")
                continue
            if mark is not None:
                best = _most(best, mark)
                continue
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple | set | frozenset):
            children = item
        elif hasattr(item, "to_dict") and callable(item.to_dict) and not isinstance(item, type):
            children = (item.to_dict(),)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            children = [getattr(item, f.name) for f in dataclasses.fields(item)]
        else:
            continue
        stack.extend(c for c in children if not isinstance(c, _LEAVES))
    return best


_LEAVES = (str, bytes, int, float, complex, type(None))


def _most(a: str, b: str) -> str:
    return max(a, b, key=_ORDER.__getitem__)


def default_access_log_path() -> Path:
    """``WORKBENCH_ACCESS_LOG`` or ``.workbench/access.jsonl`` in the current directory."""
    env = os.environ.get("WORKBENCH_ACCESS_LOG")
    return Path(env) if env else Path.cwd() / ".workbench" / "access.jsonl"


def enforce(
    role: str,
    view_kind: str,
    *,
    policy: Policy | None = None,
    access: AccessPolicy | None = None,
    user: str | None = None,
    log: AccessLog | str | os.PathLike | None = None,
) -> None:
    """Raise :class:`AccessDeniedError` unless ``role`` may see ``view_kind``.

    When ``user`` or ``log`` is given the decision is appended to the access log (a ``use`` or a
    ``denied`` event), which :meth:`AccessLog.review` reads to find unused roles.
    """
    access = access or AccessPolicy.default()
    try:
        access.enforce(role, view_kind, policy)
    except AccessDeniedError:
        if user is not None or log is not None:
            _as_log(log).record_use(current_user(user), role, view_kind, allowed=False)
        raise
    if user is not None or log is not None:
        _as_log(log).record_use(current_user(user), role, view_kind, allowed=True)


def render_for(
    role: str,
    obj: Any,
    view_kind: str | None = None,
    *,
    policy: Policy | None = None,
    access: AccessPolicy | None = None,
    user: str | None = None,
    log: AccessLog | str | os.PathLike | None = None,
) -> Any:
    """Return ``obj`` if ``role`` may see it, else raise :class:`AccessDeniedError`.

    Call this wherever results are shown (dashboard, report, CLI JSON). ``view_kind`` declares a
    frame as ``deidentified``; it cannot downgrade record-level data to ``aggregate``.
    """
    kind = view_kind_of(obj, view_kind)
    enforce(role, kind, policy=policy, access=access, user=user, log=log)
    return obj


# ------------------------------------------------------------------------------- access log
def _as_log(log: AccessLog | str | os.PathLike | None) -> AccessLog:
    return log if isinstance(log, AccessLog) else AccessLog(log)


def _to_dt(value: str | date | datetime | None) -> datetime | None:
    """Dates mean the end of that day (a grant ``until`` 2026-03-31 holds through that day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=UTC)
    text = str(value).strip()
    try:
        if len(text) == 10:
            return _to_dt(date.fromisoformat(text))
        return parse_time(text)
    except ValueError:
        raise ParameterError("date", value, "an ISO date (YYYY-MM-DD) or date-time") from None


def parse_now(value: str | date | datetime | None) -> datetime:
    """A "now" given on the command line: a date means the start of that day (UTC)."""
    if value is None:
        return utc_now()
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError("now", value, "an ISO date (YYYY-MM-DD) or date-time") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    dt = _to_dt(value)
    assert dt is not None
    return dt


@dataclass(frozen=True)
class Grant:
    """An active role held by a user (optionally for a project until its end date)."""

    user: str
    role: str
    project: str | None
    granted_at: str
    granted_by: str | None
    until: str | None
    last_used: str | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class AccessFlag:
    """Something a person should act on: ``unused`` (privilege creep) or ``expired`` grant."""

    kind: str
    user: str
    role: str
    project: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class AccessReview:
    """Who holds which role, when they last used it, and what needs attention."""

    now: str
    grants: tuple[Grant, ...]
    flags: tuple[AccessFlag, ...]
    unused_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "unused_days": self.unused_days,
            "grants": [g.to_dict() for g in self.grants],
            "flags": [f.to_dict() for f in self.flags],
        }


class AccessLog:
    """Append-only JSON Lines log of grants, revocations and uses of roles."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_access_log_path()

    def __repr__(self) -> str:
        return f"AccessLog({str(self.path)!r})"

    def _append(self, event: dict[str, Any]) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        return event

    def events(self) -> list[dict[str, Any]]:
        """All events in order."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise ConfigError(f"{self.path}: line {lineno} is not JSON") from None
        return out

    def grant(
        self,
        user: str,
        role: str,
        *,
        project: str | None = None,
        until: str | date | datetime | None = None,
        by: str | None = None,
        now: datetime | None = None,
        access: AccessPolicy | None = None,
    ) -> dict[str, Any]:
        """Give ``user`` the ``role`` (for ``project`` until its end date).

        ``by`` (default the current user) must hold the ``steward`` role now and must not be
        ``user``: nobody grants themselves a role. The one exception names the first steward of
        a new log (no grant recorded yet), which someone other than the grantee must do; the
        event is marked ``bootstrap``. A log whose stewards were all revoked stays closed.
        """
        access = access or AccessPolicy.default()
        if role not in access.roles:
            raise ParameterError("role", role, f"one of {', '.join(access.roles)}")
        if not user:
            raise ParameterError("user", user, "a user name")
        if STEWARD not in access.roles:
            raise ParameterError(
                "roles", ", ".join(access.roles), f"a {STEWARD!r} role to grant roles"
            )
        until_dt = _to_dt(until)
        now = now or utc_now()
        granter = current_user(by)
        if granter == user:
            raise AccessDeniedError(
                f"{granter!r} cannot grant a role to themselves; another steward must grant "
                f"{role!r} to {user!r}"
            )
        event: dict[str, Any] = {
            "timestamp": _iso(now),
            "event": "grant",
            "user": user,
            "role": role,
            "project": project,
            "until": None if until_dt is None else _iso(until_dt),
            "by": granter,
        }
        if not any(e.get("event") == "grant" for e in self.events()):
            if role != STEWARD:
                raise AccessDeniedError(
                    f"the access log {self.path} has no steward yet: the first grant of a new "
                    f"access log must name a {STEWARD!r}, not {role!r}"
                )
            event["bootstrap"] = True
        elif STEWARD not in self.roles_of(granter, now):
            raise AccessDeniedError(
                f"{granter!r} is not a steward; only a current steward may grant {role!r} "
                f"(stewards: {', '.join(self.holders(STEWARD, now)) or 'none'})"
            )
        return self._append(event)

    def revoke(
        self,
        user: str,
        role: str,
        *,
        project: str | None = None,
        by: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Withdraw a role; error if the user does not hold it (for that project)."""
        held = [
            g
            for g in self.grants()
            if g.user == user and g.role == role and (project is None or g.project == project)
        ]
        if not held:
            raise ParameterError(
                "user/role", f"{user}/{role}", "a role the user currently holds (see access review)"
            )
        return self._append(
            {
                "timestamp": _iso(now or utc_now()),
                "event": "revoke",
                "user": user,
                "role": role,
                "project": project,
                "by": current_user(by),
            }
        )

    def record_use(
        self,
        user: str,
        role: str,
        view_kind: str,
        *,
        allowed: bool = True,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Note that ``user`` used ``role`` to see ``view_kind`` (or was denied)."""
        return self._append(
            {
                "timestamp": _iso(now or utc_now()),
                "event": "use" if allowed else "denied",
                "user": user,
                "role": role,
                "view": view_kind,
            }
        )

    def _state(self) -> tuple[dict[tuple, dict[str, Any]], list[dict[str, Any]]]:
        """Active grants keyed by (user, role, project) and closed grants with revocation time."""
        active: dict[tuple, dict[str, Any]] = {}
        closed: list[dict[str, Any]] = []
        last_use: dict[tuple[str, str], str] = {}
        for ev in self.events():
            kind = ev.get("event")
            if kind == "grant":
                key = (ev["user"], ev["role"], ev.get("project"))
                active[key] = {**ev, "last_used": None}
            elif kind == "revoke":
                for key in [
                    k
                    for k in active
                    if k[0] == ev["user"]
                    and k[1] == ev["role"]
                    and (ev.get("project") is None or k[2] == ev.get("project"))
                ]:
                    closed.append({**active.pop(key), "revoked_at": ev["timestamp"]})
            elif kind == "use":
                last_use[(ev["user"], ev["role"])] = ev["timestamp"]
                for key, g in active.items():
                    if key[0] == ev["user"] and key[1] == ev["role"]:
                        g["last_used"] = ev["timestamp"]
        return active, closed

    def grants(self) -> tuple[Grant, ...]:
        """Currently held roles."""
        active, _ = self._state()
        return tuple(
            Grant(
                user=g["user"],
                role=g["role"],
                project=g.get("project"),
                granted_at=g["timestamp"],
                granted_by=g.get("by"),
                until=g.get("until"),
                last_used=g.get("last_used"),
            )
            for g in active.values()
        )

    def _current(self, now: datetime | None) -> list[Grant]:
        """Grants in force at ``now`` (those past their end date excluded)."""
        now = now or utc_now()
        return [g for g in self.grants() if g.until is None or parse_time(g.until) >= now]

    def roles_of(self, user: str, now: datetime | None = None) -> tuple[str, ...]:
        """Roles ``user`` holds now (grants past their end date excluded)."""
        return tuple(dict.fromkeys(g.role for g in self._current(now) if g.user == user))

    def holders(self, role: str, now: datetime | None = None) -> tuple[str, ...]:
        """Users holding ``role`` now (grants past their end date excluded)."""
        return tuple(dict.fromkeys(g.user for g in self._current(now) if g.role == role))

    def revocation_delays(self) -> list[float]:
        """Days from each project's end to the revocation of a grant tied to it (0 if on time)."""
        _, closed = self._state()
        out = []
        for g in closed:
            if g.get("until"):
                delta = parse_time(g["revoked_at"]) - parse_time(g["until"])
                out.append(max(0.0, delta.total_seconds() / 86400))
        return out

    def review(
        self,
        now: str | date | datetime | None = None,
        unused_days: int = 90,
        use_log: str | os.PathLike | None = None,
    ) -> AccessReview:
        """List held roles and flag those unused for ``unused_days`` or past their end date.

        Use comes from the access log's ``use`` events and from the data-use log
        (:mod:`workbench.governance.usage`, every catalog read), whichever is later.
        """
        from .usage import last_use

        now_dt = parse_now(now)
        used = last_use(use_log)
        grants = tuple(
            dataclasses.replace(g, last_used=_later(g.last_used, used.get((g.user, g.role))))
            for g in self.grants()
        )
        flags: list[AccessFlag] = []
        horizon = timedelta(days=unused_days)
        for g in grants:
            if g.until is not None and parse_time(g.until) < now_dt:
                flags.append(
                    AccessFlag(
                        "expired",
                        g.user,
                        g.role,
                        g.project,
                        f"{g.user} still holds {g.role}"
                        f"{f' for project {g.project}' if g.project else ''} although it ended "
                        f"on {g.until[:10]}; revoke it",
                    )
                )
            since = parse_time(g.last_used or g.granted_at)
            if now_dt - since >= horizon:
                when = f"last used on {g.last_used[:10]}" if g.last_used else "never used"
                flags.append(
                    AccessFlag(
                        "unused",
                        g.user,
                        g.role,
                        g.project,
                        f"{g.user} holds {g.role} but has {when} ({(now_dt - since).days} days); "
                        "revoke it unless still needed",
                    )
                )
        return AccessReview(
            now=_iso(now_dt), grants=grants, flags=tuple(flags), unused_days=unused_days
        )


def _later(recorded: str | None, used: datetime | None) -> str | None:
    """The later of a recorded ISO timestamp and a datetime (as ISO)."""
    if used is None:
        return recorded
    if recorded is None or parse_time(recorded) < used:
        return _iso(used)
    return recorded
