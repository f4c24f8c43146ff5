"""Anomaly detection over a million data-use records, against a bare pandas aggregation.

Builds a seeded synthetic data-use log (``synthetic_use_log``: normal use plus planted anomalies
of each kind), runs every detector, and times a plain pandas ``groupby(user, day).rows.sum()`` on
the same events as the baseline (the least any per-user-day detector must do). Reports events,
seconds, events per second, the ratio to the baseline and recall of the planted anomalies.
Writes bench/results/anomalies.json.

Run: ``.venv/bin/python bench/anomalies.py [--users 1500] [--days 365]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.governance.anomalies import detect_anomalies, synthetic_use_log  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--reads-per-day", type=int, default=12)
    args = parser.parse_args()
    t0 = time.perf_counter()
    events, projects, truth = synthetic_use_log(
        seed=2026, users=args.users, days=args.days, reads_per_day=args.reads_per_day, planted=8
    )
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = detect_anomalies(events, projects)
    detect = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = pd.DataFrame(
        {
            "user": [e.user for e in events],
            "day": [e.timestamp.date() for e in events],
            "rows": [e.rows for e in events],
        }
    )
    frame.groupby(["user", "day"]).rows.sum()
    baseline = time.perf_counter() - t0
    got = {(f.detector, f.user, f.day) for f in report.findings}
    recall = len(got & truth) / len(truth)
    precision = len(got & truth) / len(got) if got else 0.0
    out = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg()[0],
        },
        "events": len(events),
        "build_seconds": round(build, 2),
        "detect_seconds": round(detect, 2),
        "events_per_second": round(len(events) / detect),
        "baseline_pandas_groupby_seconds": round(baseline, 2),
        "ratio_to_baseline": round(detect / baseline, 2),
        "planted": len(truth),
        "findings": len(report.findings),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
    }
    for k, v in out.items():
        print(f"{k:34s} {v}")
    path = ROOT / "bench" / "results" / "anomalies.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
