"""Small data, warm: repeated calls in one process, with and without the per-dataset cache.

Issue 12 ("Small data, warm: faster than ARX on every case"). A notebook, the dashboard or a
service loads a table once and asks many questions; ARX's warm JVM is the reference. Each case
runs the same call repeatedly in this process, cached (the second and later calls reuse the
dataset's class table or search context, see ``workbench/_cache.py``) and uncached (inside
``workbench._cache.disabled()``: encoding, hierarchy preparation and class table every time, as
before the cache), alternated, median wall time and median CPU time of the runs.

Cases: a risk report (``assess``: class table and every headline measure) on the clinic file,
sdcMicro's survey file and adult; the optimal k-anonymity search on adult (k = 5, Loss) with 5
and 8 QIs at 0 %, 2 % and 10 % suppression, and with distinct 2-diversity or 0.2-closeness
(equal distance) of the salary class at 5 %. Results must be the same cached and uncached
(checked). ARX figures are those quoted in issue 12 (ARX 3.9, warm JVM, same machine).

Run: ``.venv/bin/python bench/warm.py [--repeat 21]``; writes ``bench/results/warm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench import _cache  # noqa: E402
from workbench._io import atomic_write_text  # noqa: E402
from workbench.deid import Hierarchy, anonymize  # noqa: E402
from workbench.loading.readers import load  # noqa: E402
from workbench.risk import assess  # noqa: E402

ADULT_QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]
# issue 12: ARX's warm times on the same cases (milliseconds, range over runs)
ARX_MS = {
    "risk clinic": (1.0, 2.0),
    "risk survey": (0.6, 0.6),
    "search adult 5 QIs 0%": (4.0, 15.0),
}
TARGET_MS = {
    "risk clinic": 0.5,
    "risk survey": 0.5,
    "risk adult": 10.0,
    "search adult 5 QIs 0%": 4.0,
    "search adult 8 QIs 0%": 10.0,
}


def _adult_dir() -> Path:
    for cand in (ROOT / "data" / "samples" / "adult", ROOT.parent / "shared" / "data" / "adult"):
        if (cand / "adult.csv").exists():
            return cand
    raise SystemExit("adult.csv not found")


def _survey() -> Path:
    for cand in (
        ROOT / "data" / "samples" / "survey" / "testdata.csv",
        ROOT.parent / "shared" / "data" / "sdcmicro" / "testdata.csv",
    ):
        if cand.exists():
            return cand
    raise SystemExit("testdata.csv not found")


def _run(fn, repeat: int) -> dict:
    """Cached and uncached runs of ``fn``, alternated; the results of both must agree."""
    with _cache.disabled():
        reference = fn()
    fn()  # fills the cache
    wall = {"cached": [], "uncached": []}
    cpu = {"cached": [], "uncached": []}
    for _ in range(repeat):
        for mode in ("cached", "uncached"):
            c0, t0 = time.process_time(), time.perf_counter()
            if mode == "cached":
                out = fn()
            else:
                with _cache.disabled():
                    out = fn()
            wall[mode].append(time.perf_counter() - t0)
            cpu[mode].append(time.process_time() - c0)
            if out != reference:
                raise SystemExit(f"{mode} result differs from the uncached reference")
    return {
        mode: {
            "median_ms": round(1000 * statistics.median(wall[mode]), 3),
            "min_ms": round(1000 * min(wall[mode]), 3),
            "cpu_median_ms": round(1000 * statistics.median(cpu[mode]), 3),
        }
        for mode in wall
    }


def _risk(ds, qis):
    return lambda: assess(ds, qis).to_dict()


def _search(ds, qis, hs, **kw):
    def run():
        d = anonymize(ds, qis, {q: hs[q] for q in qis}, **kw).to_dict()
        d.pop("elapsed_seconds", None)
        return d

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    adult_dir = _adult_dir()
    clinic = load(ROOT / "data" / "samples" / "city" / "clinic_visits.csv")
    survey = load(_survey())
    adult = load(adult_dir / "adult.csv")
    hs = {q: Hierarchy.from_csv(adult_dir / f"adult_hierarchy_{q}.csv") for q in ADULT_QIS}
    five = ADULT_QIS[:5]
    cases = {
        "risk clinic": _risk(clinic, ["patient_dob", "sex", "postal_code"]),
        "risk survey": _risk(survey, ["urbrur", "water", "sex", "age"]),
        "risk adult": _risk(adult, ADULT_QIS),
        "search adult 5 QIs 0%": _search(adult, five, hs, k=5),
        "search adult 8 QIs 0%": _search(adult, ADULT_QIS, hs, k=5),
        "search adult 5 QIs 2%": _search(adult, five, hs, k=5, suppression=0.02),
        "search adult 8 QIs 2%": _search(adult, ADULT_QIS, hs, k=5, suppression=0.02),
        "search adult 5 QIs 10%": _search(adult, five, hs, k=5, suppression=0.10),
        "search adult 8 QIs 10%": _search(adult, ADULT_QIS, hs, k=5, suppression=0.10),
        "search adult 5 QIs 5% l=2": _search(
            adult, five, hs, k=5, suppression=0.05, sensitive=["salary-class"], l=2
        ),
        "search adult 5 QIs 5% t=0.2": _search(
            adult, five, hs, k=5, suppression=0.05, sensitive=["salary-class"], t=0.2
        ),
    }
    load_before = os.getloadavg()[0]
    results = {}
    for name, fn in cases.items():
        repeat = args.repeat if name.startswith("risk") else max(3, args.repeat // 3)
        r = _run(fn, repeat)
        r["repeat"] = repeat
        r["speedup"] = round(r["uncached"]["median_ms"] / max(r["cached"]["median_ms"], 1e-9), 1)
        if name in TARGET_MS:
            r["target_ms"] = TARGET_MS[name]
        if name in ARX_MS:
            r["arx_ms"] = list(ARX_MS[name])
        results[name] = r
        extra = ""
        if name in TARGET_MS:
            extra += f"  target < {TARGET_MS[name]:g} ms"
        if name in ARX_MS:
            lo, hi = ARX_MS[name]
            extra += f"  ARX {lo:g}-{hi:g} ms"
        print(
            f"{name:30s} cached {r['cached']['median_ms']:9.3f} ms "
            f"(cpu {r['cached']['cpu_median_ms']:8.3f})  uncached "
            f"{r['uncached']['median_ms']:9.3f} ms  x{r['speedup']:<7g}{extra}"
        )
    out = ROOT / "bench" / "results" / "warm.json"
    doc = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        },
        "cache": _cache.stats(),
        "results": results,
    }
    atomic_write_text(out, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
