"""CLI start-up cost as an ETL job sees it: whole processes, against a bare interpreter.

Runs, alternated, ``python -c pass`` (the floor every Python CLI pays), ``workbench --help`` and
``workbench assess`` on a 20-row file, and reports the median wall time of each and the overhead
above the bare interpreter. Targets (issue 11, quiet machine): ``--help`` under 0.3 s and the
small ``assess`` under 0.5 s. Writes bench/results/startup.json.

Run: ``.venv/bin/python bench/startup.py [--repeat 15]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process (CPU: user + system, from ``wait4``).

    Run in the repository root, so ``-m workbench`` is this checkout whatever the caller's
    working directory (``-m`` puts the working directory first on ``sys.path``).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[2:4]} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.csv"
        rows = ["age,sex,zip,diagnosis"] + [
            f"{20 + i % 7},{'MF'[i % 2]},{1000 + i % 3},{'abc'[i % 3]}" for i in range(20)
        ]
        small.write_text("\n".join(rows) + "\n", encoding="utf-8")
        env = dict(os.environ, WORKBENCH_PROVENANCE="off", WORKBENCH_USE_LOG="off")
        # as users run it: compiled bytecode is cached (this sandbox disables that by default)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        py = sys.executable
        cases = {
            "python -c pass": [py, "-c", "pass"],
            "workbench --help": [py, "-m", "workbench", "--help"],
            "workbench assess (20 rows)": [
                py,
                "-m",
                "workbench",
                "assess",
                str(small),
                "--qi",
                "age,sex,zip",
                "--json",
            ],
        }
        times: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        load_before = os.getloadavg()[0]
        for cmd in cases.values():  # warm the page cache once
            _time(cmd, env)
        for _ in range(args.repeat):  # alternated, so load changes hit every case alike
            for name, cmd in cases.items():
                wall, used = _time(cmd, env)
                times[name].append(wall)
                cpu[name].append(used)
    base = statistics.median(times["python -c pass"])
    results = {
        name: {
            "median_s": round(statistics.median(t), 4),
            "min_s": round(min(t), 4),
            "overhead_over_python_s": round(statistics.median(t) - base, 4),
            # CPU time moves less with the machine's load than wall time
            "cpu_median_s": round(statistics.median(cpu[name]), 4),
        }
        for name, t in times.items()
    }
    for name, r in results.items():
        print(
            f"{name:32s} median {r['median_s']:.3f} s  (+{r['overhead_over_python_s']:.3f} s)"
            f"  cpu {r['cpu_median_s']:.3f} s"
        )
    out = ROOT / "bench" / "results" / "startup.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": os.getloadavg()[0],
                    "load_average_before": load_before,
                },
                "repeat": args.repeat,
                "targets_s": {"workbench --help": 0.3, "workbench assess (20 rows)": 0.5},
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
