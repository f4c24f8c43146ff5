"""Noticing the unusual in how data is used: five detectors over the data-use log.

Each finding names the detector, the user, the day, a reason in plain words and the ``seq``
numbers of the log records behind it (so a reviewer can open them). Detectors:

* ``first_combination`` -- a set of datasets used together for the first time after the
  baseline period (the first ``baseline_days`` of the log): a new linkage deserves a look.
* ``volume_spike`` -- a user reading far more rows in a day than their own baseline: more than
  ``spike_factor`` times the median of their earlier active days and more than the median plus
  6 robust standard deviations (1.4826 x MAD), with at least ``min_rows`` rows. A user needs
  ``min_history`` earlier active days before they can spike.
* ``outside_project`` -- a use for a project before the user's grant for it started or after it
  ended.
* ``unusual_raw`` -- a role reading raw (record-level) data that it rarely reads raw: fewer than
  ``raw_share`` of the role's earlier reads (with at least ``min_role_history`` of them).
* ``narrow_queries`` -- many small filtered reads by one user in one day (at least
  ``narrow_count`` reads returning at most ``narrow_rows`` rows): the pattern of singling people
  out by repeated queries (a differencing attack).

Also ``missing_purpose``: every read recorded without a purpose.

Everything runs in one pass over the events sorted by time, with per-user and per-role state, so
a million records take seconds (``bench/anomalies.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from ..errors import ParameterError
from .usage import UNSPECIFIED, ProjectPeriod, UseEvent

__all__ = ["AnomalyFinding", "AnomalyReport", "DETECTORS", "detect_anomalies", "synthetic_use_log"]

DETECTORS = (
    "first_combination",
    "volume_spike",
    "outside_project",
    "unusual_raw",
    "narrow_queries",
    "missing_purpose",
)
_MAX_SEQS = 20


@dataclass(frozen=True)
class AnomalyFinding:
    detector: str
    user: str
    day: date
    reason: str
    records: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "user": self.user,
            "day": str(self.day),
            "reason": self.reason,
            "records": list(self.records),
        }


@dataclass(frozen=True)
class AnomalyReport:
    findings: tuple[AnomalyFinding, ...]
    events: int
    parameters: dict = field(default_factory=dict)

    def by_detector(self) -> dict[str, int]:
        out = {d: 0 for d in DETECTORS}
        for f in self.findings:
            out[f.detector] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "counts": self.by_detector(),
            "parameters": dict(self.parameters),
            "findings": [f.to_dict() for f in self.findings],
        }


def _seqs(items: Iterable[UseEvent]) -> tuple[int, ...]:
    return tuple(e.seq for e in items if e.seq is not None)[:_MAX_SEQS]


def detect_anomalies(
    events: Iterable[UseEvent],
    projects: Sequence[ProjectPeriod] = (),
    *,
    baseline_days: int = 30,
    spike_factor: float = 10.0,
    min_rows: int = 1000,
    min_history: int = 7,
    raw_share: float = 0.05,
    min_role_history: int = 20,
    narrow_rows: int = 5,
    narrow_count: int = 10,
) -> AnomalyReport:
    """Run every detector (see the module docstring) over ``events``."""
    for name, value, lo in (
        ("baseline_days", baseline_days, 0),
        ("spike_factor", spike_factor, 1),
        ("min_history", min_history, 1),
        ("narrow_count", narrow_count, 2),
        ("narrow_rows", narrow_rows, 0),
        ("min_role_history", min_role_history, 1),
    ):
        if not isinstance(value, int | float) or value < lo:
            raise ParameterError(name, value, f"a number >= {lo}")
    if not 0 < raw_share < 1:
        raise ParameterError("raw_share", raw_share, "a share in (0, 1)")
    evs = sorted(events, key=lambda e: (e.timestamp, e.seq if e.seq is not None else 0))
    findings: list[AnomalyFinding] = []
    if not evs:
        return AnomalyReport((), 0)
    start = evs[0].timestamp
    baseline_end = start + timedelta(days=baseline_days)

    # first_combination
    seen: set[frozenset[str]] = set()
    for e in evs:
        if len(set(e.datasets)) < 2:
            continue
        key = frozenset(e.datasets)
        if key in seen:
            continue
        seen.add(key)
        if e.timestamp >= baseline_end:
            findings.append(
                AnomalyFinding(
                    "first_combination",
                    e.user,
                    e.timestamp.date(),
                    f"{e.user} combined {', '.join(sorted(key))} for the first time "
                    f"(purpose: {e.purpose})",
                    _seqs([e]),
                )
            )

    # volume_spike: per user, rows per day against the user's earlier days
    per_user_day: dict[str, dict[date, list[UseEvent]]] = defaultdict(lambda: defaultdict(list))
    for e in evs:
        per_user_day[e.user][e.timestamp.date()].append(e)
    for user, days in per_user_day.items():
        history: list[int] = []
        for day in sorted(days):
            total = sum(e.rows for e in days[day])
            if len(history) >= min_history:
                h = np.asarray(history, dtype=float)
                med = float(np.median(h))
                mad = 1.4826 * float(np.median(np.abs(h - med)))
                if total >= min_rows and total > spike_factor * med and total > med + 6 * mad:
                    findings.append(
                        AnomalyFinding(
                            "volume_spike",
                            user,
                            day,
                            f"{user} read {total:,} rows on {day}, against a usual {med:,.0f} a day",
                            _seqs(days[day]),
                        )
                    )
            history.append(total)

    # outside_project
    periods: dict[tuple[str, str], list[ProjectPeriod]] = defaultdict(list)
    for p in projects:
        periods[(p.user, p.project)].append(p)
    for e in evs:
        if e.project is None:
            continue
        ps = periods.get((e.user, e.project))
        if not ps:
            findings.append(
                AnomalyFinding(
                    "outside_project",
                    e.user,
                    e.timestamp.date(),
                    f"{e.user} used data for project {e.project} without a grant for it",
                    _seqs([e]),
                )
            )
            continue
        if not any(p.start <= e.timestamp and (p.end is None or e.timestamp <= p.end) for p in ps):
            findings.append(
                AnomalyFinding(
                    "outside_project",
                    e.user,
                    e.timestamp.date(),
                    f"{e.user} used data for project {e.project} outside its period",
                    _seqs([e]),
                )
            )

    # unusual_raw: per role, share of raw reads before this one
    role_reads: dict[str, int] = defaultdict(int)
    role_raw: dict[str, int] = defaultdict(int)
    for e in evs:
        role = e.role or "(none)"
        if e.view == "raw":
            n, r = role_reads[role], role_raw[role]
            if n >= min_role_history and r / n < raw_share:
                findings.append(
                    AnomalyFinding(
                        "unusual_raw",
                        e.user,
                        e.timestamp.date(),
                        f"{e.user} read raw {', '.join(e.datasets)} as {role}, a role that read raw "
                        f"data in {r} of its {n} earlier reads",
                        _seqs([e]),
                    )
                )
            role_raw[role] += 1
        role_reads[role] += 1

    # narrow_queries
    for user, days in per_user_day.items():
        for day in sorted(days):
            narrow = [e for e in days[day] if e.filtered and e.rows <= narrow_rows]
            if len(narrow) >= narrow_count:
                findings.append(
                    AnomalyFinding(
                        "narrow_queries",
                        user,
                        day,
                        f"{user} ran {len(narrow)} filtered reads returning at most {narrow_rows} rows "
                        f"each on {day}: the pattern of singling people out",
                        _seqs(narrow),
                    )
                )

    # missing_purpose
    for e in evs:
        if e.purpose == UNSPECIFIED:
            findings.append(
                AnomalyFinding(
                    "missing_purpose",
                    e.user,
                    e.timestamp.date(),
                    f"{e.user} read {', '.join(e.datasets)} without stating a purpose",
                    _seqs([e]),
                )
            )

    params = {
        "baseline_days": baseline_days,
        "spike_factor": spike_factor,
        "min_rows": min_rows,
        "min_history": min_history,
        "raw_share": raw_share,
        "min_role_history": min_role_history,
        "narrow_rows": narrow_rows,
        "narrow_count": narrow_count,
    }
    findings.sort(key=lambda f: (f.day, DETECTORS.index(f.detector), f.user))
    return AnomalyReport(tuple(findings), len(evs), params)


def synthetic_use_log(
    seed: int = 0,
    users: int = 40,
    days: int = 120,
    reads_per_day: int = 8,
    planted: int = 5,
) -> tuple[list[UseEvent], list[ProjectPeriod], set[tuple[str, str, date]]]:
    """A seeded normal data-use log with ``planted`` anomalies of each kind.

    Returns events, project periods and the planted truth as ``(detector, user, day)``; used by
    the tests (precision and recall per detector) and by ``bench/anomalies.py``.
    """
    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 1, 1, 8, 0)
    datasets = ["clinic", "housing", "social", "transit", "voters"]
    usual_pairs = [("clinic", "housing"), ("housing", "social")]
    roles = {f"u{i:03d}": ("analyst" if i % 4 else "steward") for i in range(users)}
    projects = [ProjectPeriod(u, "p-" + u, t0, t0 + timedelta(days=days + 30)) for u in roles]
    base_rows = {u: int(rng.integers(50, 500)) for u in roles}
    events: list[UseEvent] = []
    truth: set[tuple[str, str, date]] = set()
    seq = 0

    def add(ts: datetime, user: str, **kw: Any) -> None:
        nonlocal seq
        kw.setdefault("purpose", "service evaluation")
        kw.setdefault("project", "p-" + user)
        kw.setdefault("role", roles[user])
        events.append(UseEvent(timestamp=ts, user=user, seq=seq, **kw))
        seq += 1

    for d in range(days):
        day = t0 + timedelta(days=d)
        for u in roles:
            if rng.random() < 0.3:  # a user is active on about a third of the days
                continue
            for _ in range(int(rng.integers(1, reads_per_day + 1)) // 4 + 1):
                ts = day + timedelta(minutes=int(rng.integers(0, 600)))
                view = "raw" if roles[u] == "steward" else "deidentified"
                ds = (datasets[int(rng.integers(0, 4))],)
                if rng.random() < 0.05 and d < 25:
                    ds = usual_pairs[int(rng.integers(0, len(usual_pairs)))]
                add(ts, u, datasets=ds, rows=int(base_rows[u] * rng.uniform(0.5, 1.5)), view=view)
    analysts = [u for u, r in roles.items() if r == "analyst"]
    plant_days = rng.choice(np.arange(40, days), size=planted * 6, replace=False)
    k = 0
    new_pairs = [
        ("clinic", "voters"),
        ("transit", "voters"),
        ("clinic", "social"),
        ("social", "voters"),
        ("housing", "voters"),
        ("clinic", "transit"),
        ("housing", "transit"),
        ("social", "transit"),
    ]
    for i in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=11)
        k += 1
        add(d, u, datasets=new_pairs[i % len(new_pairs)], rows=300, view="deidentified")
        truth.add(("first_combination", u, d.date()))
    for _ in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=12)
        k += 1
        add(d, u, datasets=("clinic",), rows=base_rows[u] * 60, view="deidentified")
        truth.add(("volume_spike", u, d.date()))
    for _ in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=13)
        k += 1
        add(d, u, datasets=("housing",), rows=100, view="deidentified", project="p-closed")
        truth.add(("outside_project", u, d.date()))
    projects += [ProjectPeriod(u, "p-closed", t0, t0 + timedelta(days=20)) for u in analysts]
    for _ in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=14)
        k += 1
        add(d, u, datasets=("clinic",), rows=200, view="raw")
        truth.add(("unusual_raw", u, d.date()))
    for _ in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=15)
        k += 1
        for j in range(12):
            add(
                d + timedelta(minutes=j),
                u,
                datasets=("clinic",),
                rows=int(rng.integers(1, 4)),
                view="deidentified",
                filtered=True,
            )
        truth.add(("narrow_queries", u, d.date()))
    for _ in range(planted):
        u = analysts[int(rng.integers(0, len(analysts)))]
        d = t0 + timedelta(days=int(plant_days[k]), hours=16)
        k += 1
        add(d, u, datasets=("transit",), rows=100, view="deidentified", purpose=UNSPECIFIED)
        truth.add(("missing_purpose", u, d.date()))
    return events, projects, truth
