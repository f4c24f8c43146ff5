"""Noticing the unusual in how data is used: five detectors over the data-use log.

Each finding names the detector, the user, the day, a reason in plain words and the ``seq``
numbers of the log records behind it (so a reviewer can open them). Detectors:

* ``first_combination`` -- a set of datasets used together for the first time after the
  baseline period (the first ``baseline_days`` of the log): a new linkage deserves a look.
* ``volume_spike`` -- a user reading far more rows in a day than their own baseline: more than
  ``spike_factor`` times the median of their previous ``history_days`` active days, with at
  least ``min_rows`` rows. A user needs ``min_history`` earlier active days before they can
  spike. (A median is robust: one earlier spike does not raise the baseline.)
* ``outside_project`` -- a use for a project before the user's grant for it started or after it
  ended.
* ``unusual_raw`` -- a role reading raw (record-level) data that it rarely reads raw: fewer than
  ``raw_share`` of the role's earlier reads (with at least ``min_role_history`` of them).
* ``narrow_queries`` -- many small filtered reads by one user in one day (at least
  ``narrow_count`` reads returning at most ``narrow_rows`` rows): the pattern of singling people
  out by repeated queries (a differencing attack).

Also ``missing_purpose``: every read recorded without a purpose.

The events become one columnar table and each detector is a group-by over it
(``bench/anomalies.py`` measures a million records against a bare pandas group-by).
"""

from __future__ import annotations

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
    history_days: int = 30,
    raw_share: float = 0.05,
    min_role_history: int = 20,
    narrow_rows: int = 5,
    narrow_count: int = 10,
) -> AnomalyReport:
    """Run every detector (see the module docstring) over ``events``.

    The events become one columnar table and every detector is a group-by over it, so a million
    records take seconds, not a Python loop per record.
    """
    import pandas as pd

    for name, value, lo in (
        ("baseline_days", baseline_days, 0),
        ("spike_factor", spike_factor, 1),
        ("min_history", min_history, 1),
        ("history_days", history_days, 1),
        ("narrow_count", narrow_count, 2),
        ("narrow_rows", narrow_rows, 0),
        ("min_role_history", min_role_history, 1),
    ):
        if not isinstance(value, int | float) or isinstance(value, bool) or value < lo:
            raise ParameterError(name, value, f"a number >= {lo}")
    if history_days < min_history:
        raise ParameterError("history_days", history_days, f"at least min_history ({min_history})")
    if not 0 < raw_share < 1:
        raise ParameterError("raw_share", raw_share, "a share in (0, 1)")
    evs = list(events)
    params = {
        "baseline_days": baseline_days,
        "spike_factor": spike_factor,
        "min_rows": min_rows,
        "min_history": min_history,
        "history_days": history_days,
        "raw_share": raw_share,
        "min_role_history": min_role_history,
        "narrow_rows": narrow_rows,
        "narrow_count": narrow_count,
    }
    if not evs:
        return AnomalyReport((), 0, params)
    df = pd.DataFrame(
        {
            "ts": [e.timestamp for e in evs],
            "user": [e.user for e in evs],
            "role": [e.role or "(none)" for e in evs],
            "rows": np.fromiter((e.rows for e in evs), dtype=np.int64, count=len(evs)),
            "view": [e.view for e in evs],
            "filtered": np.fromiter((e.filtered for e in evs), dtype=bool, count=len(evs)),
            "project": [e.project for e in evs],
            "purpose": [e.purpose for e in evs],
            "seq": [e.seq for e in evs],
            "i": np.arange(len(evs)),
        }
    )
    df = df.sort_values(["ts", "i"], kind="stable").reset_index(drop=True)
    df["day"] = df["ts"].map(lambda t: t.date())
    findings: list[AnomalyFinding] = []

    def seqs(rows: Any) -> tuple[int, ...]:
        return tuple(int(x) for x in rows["seq"] if x is not None and x == x)[:_MAX_SEQS]

    # first_combination (few events name several datasets: a plain loop over those)
    baseline_end = df["ts"].iloc[0] + timedelta(days=baseline_days)
    seen: set[frozenset[str]] = set()
    for i in df["i"].to_numpy():
        e = evs[i]
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

    # volume_spike: a user's rows per active day against the median of their previous
    # (up to history_days) active days
    daily = df.groupby(["user", "day"], sort=True)["rows"].sum().reset_index()
    prior = daily.groupby("user")["rows"].transform(
        lambda r: r.shift(1).rolling(history_days, min_periods=min_history).median()
    )
    spike = (daily["rows"] >= min_rows) & (daily["rows"] > spike_factor * prior)
    spiking = daily[spike.fillna(False).to_numpy()]
    where = df.groupby(["user", "day"], sort=False).indices if len(spiking) else {}
    for _, row in spiking.iterrows():
        rows_of_day = df.iloc[where[(row["user"], row["day"])]]
        med = float(prior[_])
        findings.append(
            AnomalyFinding(
                "volume_spike",
                row["user"],
                row["day"],
                f"{row['user']} read {int(row['rows']):,} rows on {row['day']}, against a usual "
                f"{med:,.0f} a day",
                seqs(rows_of_day),
            )
        )

    # outside_project: join each event with the periods of its (user, project)
    with_project = df[df["project"].notna()][["user", "project", "ts", "day", "seq", "i"]]
    if len(with_project):
        pf = pd.DataFrame(
            [(p.user, p.project, p.start, p.end) for p in projects],
            columns=["user", "project", "start", "end"],
        )
        joined = with_project.merge(pf, on=["user", "project"], how="left")
        granted = joined["start"].notna()
        inside = (
            granted
            & (joined["start"] <= joined["ts"])
            & (joined["end"].isna() | (joined["ts"] <= joined["end"]))
        )
        per_event = (
            joined.assign(granted=granted, inside=inside).groupby("i")[["granted", "inside"]].any()
        )
        bad = per_event[~per_event["inside"]]
        rows = with_project.set_index("i").loc[bad.index]
        for i, e in rows.iterrows():
            why = "outside its period" if bad.loc[i, "granted"] else "without a grant for it"
            findings.append(
                AnomalyFinding(
                    "outside_project",
                    e["user"],
                    e["day"],
                    f"{e['user']} used data for project {e['project']} {why}",
                    seqs(rows.loc[[i]]),
                )
            )

    # unusual_raw: the role's reads and raw reads strictly before each raw read
    is_raw = (df["view"] == "raw").to_numpy()
    before = df.groupby("role").cumcount().to_numpy()
    raw_before = pd.Series(is_raw.astype(np.int64)).groupby(df["role"]).cumsum().to_numpy() - is_raw
    with np.errstate(divide="ignore", invalid="ignore"):
        rare = (before >= min_role_history) & (raw_before / np.maximum(before, 1) < raw_share)
    for idx in np.flatnonzero(is_raw & rare):
        e = evs[int(df["i"].iloc[idx])]
        findings.append(
            AnomalyFinding(
                "unusual_raw",
                e.user,
                e.timestamp.date(),
                f"{e.user} read raw {', '.join(e.datasets)} as {df['role'].iloc[idx]}, a role that "
                f"read raw data in {int(raw_before[idx])} of its {int(before[idx])} earlier reads",
                _seqs([e]),
            )
        )

    # narrow_queries
    narrow = df[df["filtered"] & (df["rows"] <= narrow_rows)]
    for (user, day), group in narrow.groupby(["user", "day"], sort=True):
        if len(group) >= narrow_count:
            findings.append(
                AnomalyFinding(
                    "narrow_queries",
                    user,
                    day,
                    f"{user} ran {len(group)} filtered reads returning at most {narrow_rows} rows "
                    f"each on {day}: the pattern of singling people out",
                    seqs(group),
                )
            )

    # missing_purpose
    for idx in np.flatnonzero((df["purpose"] == UNSPECIFIED).to_numpy()):
        e = evs[int(df["i"].iloc[idx])]
        findings.append(
            AnomalyFinding(
                "missing_purpose",
                e.user,
                e.timestamp.date(),
                f"{e.user} read {', '.join(e.datasets)} without stating a purpose",
                _seqs([e]),
            )
        )

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
