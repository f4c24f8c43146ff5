"""Benchmark: the risk profile (class table + every measure except SUDA and QI subsets).

1. Adult (30,162 rows, 8 QIs), in memory, warm: time to encode (build the class table once) and
   to compute the measures from it, against a pandas ``groupby(...).size()`` baseline measured in
   the same run. Target: the full profile under 20 ms.
2. A 10M-row table with 6 QIs (the synthetic city population from
   ``workbench.samples.city.generate``; birth year, sex, race/ethnicity, postal code, marital
   status, income band) in Parquet: the profile through DuckDB against a bare DuckDB
   ``GROUP BY`` count (collected to Arrow) over the same file, timed as back-to-back pairs in one
   warm process because the machine is shared (ratio = median of the pair ratios), and peak
   memory of a fresh process running the profile once. Targets: within 2x of the baseline,
   under 8 GB peak memory. Imports are outside both timings.

Usage::

    .venv/bin/python bench/risk_profile.py            # both parts (generates bench/data once)
    .venv/bin/python bench/risk_profile.py --stress   # also near-unique classes (birth date)
    .venv/bin/python bench/risk_profile.py --rows 1000000   # smaller large-table part
    .venv/bin/python bench/risk_profile.py --skip-large

Writes ``bench/results/risk_profile.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
LARGE_QIS = ["birth_year", "sex", "race_ethnicity", "postal_code", "marital_status", "income_band"]
RESULTS = ROOT / "bench" / "results" / "risk_profile.json"


def _timeit(fn, repeat: int) -> dict:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        "min_ms": 1000 * min(times),
        "median_ms": 1000 * statistics.median(times),
        "repeat": repeat,
    }


def bench_adult(repeat: int) -> dict:
    import pandas as pd

    from workbench.loading.readers import load
    from workbench.risk import assess, build_class_table, profile_from_table

    path = ROOT / "data" / "samples" / "adult" / "adult.csv"
    if not path.exists():
        path = ROOT.parent / "shared" / "data" / "adult" / "adult.csv"
    df = load(path).data
    population = 300_000  # a population ten times the sample: all population models run
    table = build_class_table(df, ADULT_QIS)
    encode = _timeit(lambda: build_class_table(df, ADULT_QIS), repeat)
    measures = _timeit(lambda: profile_from_table(table, population_size=population), repeat)
    total = _timeit(lambda: assess(df, ADULT_QIS, population_size=population), repeat)
    baseline = _timeit(lambda: df.groupby(ADULT_QIS, dropna=False, observed=True).size(), repeat)
    profile = assess(df, ADULT_QIS, population_size=population)
    out = {
        "load_average": os.getloadavg(),
        "rows": len(df),
        "qis": ADULT_QIS,
        "classes": profile.classes,
        "encode": encode,
        "measures": measures,
        "total": total,
        "baseline_pandas_groupby_size": baseline,
        "target_ms": 20.0,
        "total_vs_target": total["min_ms"] / 20.0,
        "total_vs_baseline": total["min_ms"] / baseline["min_ms"],
        "population_models": {
            k: profile.to_dict()["population"][k] for k in ("pitman", "zayatz", "snb", "dankar")
        },
        "pandas": pd.__version__,
    }
    print(f"adult: {len(df):,} rows, {profile.classes:,} classes")
    print(f"  encode   {encode['min_ms']:7.2f} ms (median {encode['median_ms']:.2f})")
    print(f"  measures {measures['min_ms']:7.2f} ms (median {measures['median_ms']:.2f})")
    print(
        f"  total    {total['min_ms']:7.2f} ms (median {total['median_ms']:.2f})  "
        f"target < 20 ms -> {'OK' if total['min_ms'] < 20 else 'MISSED'}"
    )
    print(
        f"  baseline pandas groupby.size {baseline['min_ms']:.2f} ms "
        f"(profile = {out['total_vs_baseline']:.2f}x)"
    )
    return out


# ------------------------------------------------------------------------ large table
def ensure_large(rows: int) -> Path:
    """The population of a generated city with ``rows`` residents, reduced to the 6 QIs."""
    import duckdb

    data = ROOT / "bench" / "data"
    target = data / f"city_{rows}_qis.parquet"
    if target.exists():
        return target
    city = data / f"city_{rows}"
    population = city / "population.parquet"
    if not population.exists():
        from workbench.samples.city import generate

        t0 = time.perf_counter()
        generate(rows, seed=2026, out_dir=city, format="parquet")
        print(f"generated city of {rows:,} residents in {time.perf_counter() - t0:.0f} s")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    tmp = target.with_suffix(".tmp.parquet")
    con.execute(
        f"COPY (SELECT year(date_of_birth)::INTEGER AS birth_year, sex, race_ethnicity, "
        f"postal_code, marital_status, income_band FROM read_parquet('{population}')) "
        f"TO '{tmp}' (FORMAT parquet)"
    )
    os.replace(tmp, target)
    return target


_BASELINE = r"""
import json, resource, sys, time
import duckdb
path, qis = sys.argv[1], sys.argv[2].split(",")
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
cols = ", ".join('"' + q + '"' for q in qis)
t0 = time.perf_counter()
tbl = con.sql(f"SELECT {cols}, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL").arrow()
if hasattr(tbl, "read_all"):
    tbl = tbl.read_all()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "groups": tbl.num_rows,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_PROFILE = r"""
import json, resource, sys, time
import duckdb
import narwhals, pyarrow.compute  # imports are outside both timings (duckdb's too)
from workbench.risk import assess
path, qis, population = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rel = con.read_parquet(path)
profile = assess(rel, qis, population_size=population)
doc = profile.to_dict()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "classes": profile.classes, "records": profile.records,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "population": {k: doc["population"][k]
                                 for k in ("pitman", "zayatz", "snb", "dankar")},
                  "prosecutor": doc["prosecutor"], "sample_uniques": doc["sample_uniques"]}))
"""

# Paired timing in one process: baseline and profile alternate back to back, so both see the
# same machine load (the machine is shared); the ratio is taken per pair.
_PAIRED = r"""
import json, sys, time
import duckdb
import narwhals, pyarrow.compute
from workbench.risk import assess
path, qis, population, pairs = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
cols = ", ".join('"' + q + '"' for q in qis)
def baseline():
    t = con.sql(f"SELECT {cols}, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL").arrow()
    return t.read_all() if hasattr(t, "read_all") else t
def profile():
    return assess(con.read_parquet(path), qis, population_size=population).to_dict()
baseline(); profile()  # warm the file cache and code paths
out = []
for _ in range(pairs):
    t0 = time.perf_counter(); baseline(); b = time.perf_counter() - t0
    t0 = time.perf_counter(); profile(); p = time.perf_counter() - t0
    out.append([b, p])
print(json.dumps(out))
"""


def _run(code: str, *args: str) -> dict | list:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_large(rows: int, pairs: int, stress: bool = False) -> dict:
    """Profile vs bare GROUP BY on the same Parquet file.

    Time: ``pairs`` back-to-back (baseline, profile) pairs in one warm process; the reported
    ratio is the median of the per-pair ratios. Memory: one fresh process per side, peak RSS
    from ``getrusage``. ``stress`` uses the day-level birth date instead of the birth year:
    nearly every record is its own class, so the collected class table is as large as the
    data (informational).
    """
    path = ensure_large(rows)
    qis_list = LARGE_QIS
    label = "6 QIs with birth year"
    if stress:
        path = ROOT / "bench" / "data" / f"city_{rows}" / "population.parquet"
        qis_list = ["date_of_birth", *LARGE_QIS[1:]]
        label = "stress: 6 QIs with day-level birth date"
    qis = ",".join(qis_list)
    population = str(10 * rows)  # the table as a 10 % sample: Pitman by Dankar's rule
    load_before = os.getloadavg()
    timings = _run(_PAIRED, str(path), qis, population, str(pairs))
    base_mem = _run(_BASELINE, str(path), qis)
    prof = _run(_PROFILE, str(path), qis, population)
    load_after = os.getloadavg()
    ratios = [p / b for b, p in timings]
    ratio = statistics.median(ratios)
    b_med = statistics.median(b for b, _ in timings)
    p_med = statistics.median(p for _, p in timings)
    peak = prof["maxrss_mb"]
    out = {
        "case": label,
        "rows": rows,
        "file": str(path.relative_to(ROOT)),
        "qis": qis_list,
        "classes": prof["classes"],
        "pairs_seconds_baseline_profile": timings,
        "baseline_duckdb_group_by_count_median_s": b_med,
        "profile_median_s": p_med,
        "profile_vs_baseline_median_of_pair_ratios": ratio,
        "profile_vs_baseline_pair_ratios": ratios,
        "target_ratio": 2.0,
        "profile_cold_process_s": prof["seconds"],
        "baseline_cold_process_s": base_mem["seconds"],
        "profile_peak_rss_mb": peak,
        "baseline_peak_rss_mb": base_mem["maxrss_mb"],
        "target_peak_rss_mb": 8192,
        "population_size": int(population),
        "population_models": prof["population"],
        "sample_uniques": prof["sample_uniques"],
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    print(f"large ({label}): {rows:,} rows, {prof['classes']:,} classes ({path.name})")
    pairs_text = ", ".join(f"{b:.2f}/{p:.2f}" for b, p in timings)
    print(f"  baseline/profile pairs (s): {pairs_text}")
    print(f"  median baseline {b_med:.2f} s, median profile {p_med:.2f} s")
    print(
        f"  ratio {ratio:.2f}x (median of pairs; target <= 2x -> "
        f"{'OK' if ratio <= 2 else 'MISSED'}); peak RSS {peak:,.0f} MB "
        f"(baseline {base_mem['maxrss_mb']:,.0f} MB; target < 8192 -> "
        f"{'OK' if peak < 8192 else 'MISSED'})"
    )
    print(f"  load average before {load_before}, after {load_after}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument(
        "--stress", action="store_true", help="also run the near-unique day-level birth date case"
    )
    args = parser.parse_args()
    results = {
        "benchmark": "risk_profile",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "adult": bench_adult(args.repeat),
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.skip_large:
        results["large"] = bench_large(args.rows, args.pairs)
    elif "large" in previous:  # keep the last large-table numbers
        results["large"] = previous["large"]
    if args.stress:
        results["large_stress"] = bench_large(args.rows, max(2, args.pairs // 2), stress=True)
    elif "large_stress" in previous:
        results["large_stress"] = previous["large_stress"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    from workbench._io import atomic_write_text

    atomic_write_text(RESULTS, json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
