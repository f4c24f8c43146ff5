"""Benchmark: data commands at scale, as users run them (whole process, from the CLI).

Each case runs ``workbench <command>`` in a fresh process and a hand-written DuckDB baseline doing
the same work in a fresh process (``GROUP BY`` of the quasi-identifiers over the same file,
collected to Arrow), alternated ``--runs`` times (default 3), after one untimed warm-up run of each. Reported: median wall time of the
whole process (Python start, imports, reading and hashing the file, output), the peak resident
memory of each process (``wait4`` rusage), and the ratios to the baseline.

Data: a generated city-like population in DuckDB (seeded; birth year, sex, race/ethnicity, postal
code, marital status, income band, a diagnosis), written once to ``bench/data/scale_<N>.csv`` and
``.parquet``. Targets (issue #12): ``assess`` within 1.3x of the bare GROUP BY and peak memory
within 2x of DuckDB's; ``anonymize`` with automatic hierarchies within 1.3x of the same run with
given hierarchies.

``link`` and ``link_probabilistic`` link a generated release (half of a population, with typos)
against the population's voter roll (``ensure_link_data``); their baseline is the bare DuckDB
join of the two files' GROUP BY tables on the shared facts.

Usage::

    .venv/bin/python bench/scaling.py --rows 1000000 10000000
    .venv/bin/python bench/scaling.py --rows 100000 --commands assess anonymize

Writes ``bench/results/scaling.json`` (merged with the cases already there).
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
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results" / "scaling.json"
QIS = ["birth_year", "sex", "race_ethnicity", "postal_code", "marital_status", "income_band"]
WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def ensure_data(rows: int) -> dict[str, Path]:
    """``scale_<rows>.parquet`` and ``.csv`` (generated in DuckDB, seeded, written atomically)."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    out = {fmt: DATA / f"scale_{rows}.{fmt}" for fmt in ("parquet", "csv")}
    if all(p.exists() for p in out.values()):
        return out
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # hash(i, salt) gives a seeded, reproducible draw per row and column
    u = "(hash(i, {s}) % 1000000) / 1000000.0"
    query = f"""
        SELECT
          i AS person_id,
          (1925 + floor(90 * {u.format(s=1)}))::INTEGER AS birth_year,
          CASE WHEN {u.format(s=2)} < 0.49 THEN 'M' WHEN {u.format(s=2)} < 0.98 THEN 'F'
               ELSE 'X' END AS sex,
          ['White', 'Black', 'Hispanic', 'Asian', 'Native', 'Other']
            [1 + floor(6 * {u.format(s=3)} * {u.format(s=3)})::INTEGER] AS race_ethnicity,
          'P' || lpad((floor(400 * {u.format(s=4)} * {u.format(s=4)}))::VARCHAR, 4, '0')
            AS postal_code,
          ['single', 'married', 'divorced', 'widowed'][1 + floor(4 * {u.format(s=5)})::INTEGER]
            AS marital_status,
          ['<20k', '20-40k', '40-60k', '60-100k', '100k+']
            [1 + floor(5 * {u.format(s=6)})::INTEGER] AS income_band,
          ['none', 'asthma', 'diabetes', 'hypertension', 'depression', 'cancer']
            [1 + floor(6 * {u.format(s=7)})::INTEGER] AS diagnosis
        FROM range({rows}) t(i)
    """
    for fmt, path in out.items():
        tmp = path.with_name(path.name + ".tmp")
        opts = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
        con.execute(f"COPY ({query}) TO '{tmp}' ({opts})")
        os.replace(tmp, path)
    return out


def _run(cmd: list[str]) -> dict:
    """Run ``cmd`` in a fresh process: wall seconds and peak RSS (MB) from ``wait4``."""
    # as users run it: Python caches bytecode (some sandboxes switch that off, which makes
    # every process compile pandas and scipy again)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "stdout": out,
    }


_BASELINE = r"""
import sys, duckdb
path, fmt, qis = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
cols = ", ".join('"' + q + '"' for q in qis)
src = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
t = con.sql(f"SELECT {cols}, count(*) AS n FROM {src} GROUP BY ALL").arrow()
t = t.read_all() if hasattr(t, "read_all") else t
print(t.num_rows)
"""


#: one untimed run of each command first (bytecode caches, file cache); ``--no-warm-up`` skips it
WARM_UP = True


def _alternate(cases: dict[str, list[str]], runs: int) -> dict:
    """Run each command ``runs`` times, alternating them; median time, max peak memory."""
    samples: dict[str, list[dict]] = {k: [] for k in cases}
    for cmd in cases.values() if WARM_UP else ():  # warm: not timed
        _run(cmd)
    for _ in range(runs):
        for name, cmd in cases.items():
            samples[name].append(_run(cmd))
    return {
        name: {
            "median_s": statistics.median(s["seconds"] for s in runs_),
            "seconds": [round(s["seconds"], 3) for s in runs_],
            "median_cpu_s": statistics.median(s["cpu_s"] for s in runs_),
            "peak_mb": max(s["maxrss_mb"] for s in runs_),
            "stdout": runs_[-1]["stdout"],
        }
        for name, runs_ in samples.items()
    }


#: 4 of the QIs: 5,400 possible classes, so the scan dominates (the 6 QIs are near-unique)
COARSE_QIS = ["birth_year", "sex", "marital_status", "income_band"]


def bench_assess(rows: int, runs: int, qis: list[str] = QIS) -> dict:
    files = ensure_data(rows)
    out: dict = {"qis": qis}
    for fmt, path in files.items():
        qi = ",".join(qis)
        res = _alternate(
            {
                "duckdb_group_by": [sys.executable, "-c", _BASELINE, str(path), fmt, qi],
                "workbench_assess": [WORKBENCH, "assess", str(path), "--qi", qi, "--json"],
            },
            runs,
        )
        base, ours = res["duckdb_group_by"], res["workbench_assess"]
        res["time_ratio"] = ours["median_s"] / base["median_s"]
        res["cpu_ratio"] = ours["median_cpu_s"] / base["median_cpu_s"]
        res["memory_ratio"] = ours["peak_mb"] / base["peak_mb"]
        res["file_mb"] = path.stat().st_size / 2**20
        out[fmt] = res
        print(
            f"assess {len(qis)} QIs {rows:>11,} {fmt:<8} workbench {ours['median_s']:7.2f} s "
            f"{ours['peak_mb']:7.0f} MB | duckdb {base['median_s']:7.2f} s {base['peak_mb']:7.0f} MB"
            f" | ratio time {res['time_ratio']:.2f}x cpu {res['cpu_ratio']:.2f}x "
            f"memory {res['memory_ratio']:.2f}x",
            flush=True,
        )
    return out


def bench_anonymize(rows: int, runs: int) -> dict:
    """``anonymize`` with automatic hierarchies against the same run with given hierarchies."""
    import tempfile

    files = ensure_data(rows)
    path = files["parquet"]
    qi = ",".join(QIS)
    with tempfile.TemporaryDirectory() as tmp:
        # the automatic hierarchies, saved as ARX CSVs, are the "given" ones: same search
        given = _save_auto_hierarchies(path, Path(tmp))
        base = [WORKBENCH, "anonymize", str(path), "--qi", qi, "--k", "5", "--json"]
        cases = {
            "duckdb_group_by": [sys.executable, "-c", _BASELINE, str(path), "parquet", qi],
            "auto_hierarchies": base,
            "given_hierarchies": [
                *base,
                *(a for q, p in given.items() for a in ("--hierarchy", f"{q}={p}")),
            ],
        }
        res = _alternate(cases, runs)
    auto, given = res["auto_hierarchies"], res["given_hierarchies"]
    res["time_ratio"] = auto["median_s"] / given["median_s"]
    res["cpu_ratio"] = auto["median_cpu_s"] / given["median_cpu_s"]
    res["ratio_to_duckdb"] = auto["median_s"] / res["duckdb_group_by"]["median_s"]
    res["memory_ratio_to_duckdb"] = auto["peak_mb"] / res["duckdb_group_by"]["peak_mb"]
    print(
        f"anonymize {rows:>8,} auto {res['auto_hierarchies']['median_s']:7.2f} s | given "
        f"{res['given_hierarchies']['median_s']:7.2f} s | ratio {res['time_ratio']:.2f}x "
        f"cpu {res['cpu_ratio']:.2f}x | to DuckDB GROUP BY {res['ratio_to_duckdb']:.2f}x "
        f"memory {auto['peak_mb']:.0f} MB ({res['memory_ratio_to_duckdb']:.2f}x)",
        flush=True,
    )
    return res


def _save_auto_hierarchies(path: Path, out: Path) -> dict[str, Path]:
    import duckdb

    from workbench.deid.hierarchy import auto_hierarchy

    files = {}
    con = duckdb.connect()
    for q in QIS:
        values = con.sql(f"SELECT DISTINCT \"{q}\" FROM read_parquet('{path}')").df()[q]
        h, _ = auto_hierarchy(values, name=q)
        files[q] = out / f"{q}.csv"
        h.to_csv(files[q])
    return files


def ensure_link_data(rows: int) -> dict[str, Path]:
    """A voter roll of ``rows`` people and a release of half of them, with typos (seeded).

    Shared facts: birth date (70 years), sex, a 5-digit postal code (400 codes): about
    ``rows / 20M`` random exact agreements per released record, so exact linkage's unique
    matches are mostly right; 5 % of released birth dates are a day off, 4 % of postal codes
    have a wrong first digit. ``person_id`` is the ground truth (``--truth``), never compared.
    """
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    out = {n: DATA / f"link_{n}_{rows}.parquet" for n in ("released", "roll")}
    if all(p.exists() for p in out.values()):
        return out
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    u = "(hash(i, {s}) % 1000000) / 1000000.0"
    roll = f"""
        SELECT i AS person_id,
          DATE '1940-01-01' + (floor(70 * 365 * {u.format(s=21)}))::INTEGER AS birth_date,
          CASE WHEN {u.format(s=22)} < 0.5 THEN 'F' ELSE 'M' END AS sex,
          (10000 + floor(400 * {u.format(s=23)}))::INTEGER::VARCHAR AS postal_code
        FROM range({rows}) t(i)
    """
    released = f"""
        SELECT person_id,
          CASE WHEN hash(person_id, 91) % 20 = 0 THEN birth_date + 1 ELSE birth_date END
            AS birth_date, sex,
          CASE WHEN hash(person_id, 92) % 25 = 0 THEN '9' || substr(postal_code, 2)
               ELSE postal_code END AS postal_code,
          ['none', 'asthma', 'diabetes'][1 + (hash(person_id, 94) % 3)::INTEGER] AS diagnosis
        FROM ({roll}) WHERE hash(person_id, 93) % 2 = 0
    """
    for name, query in (("roll", roll), ("released", released)):
        tmp = out[name].with_name(out[name].name + ".tmp")
        con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT parquet)")
        os.replace(tmp, out[name])
    return out


_JOIN_BASELINE = r"""
import sys, duckdb
released, roll = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
keys = "birth_date, sex, postal_code"
q = (
    f"WITH r AS (SELECT {keys}, count(*) AS fr FROM read_parquet('{released}') GROUP BY ALL), "
    f"a AS (SELECT {keys}, count(*) AS fa FROM read_parquet('{roll}') GROUP BY ALL) "
    "SELECT count(*), sum(fr * 1.0 / fa), sum(CASE WHEN fa = 1 THEN fr END) "
    f"FROM r JOIN a USING ({keys})"
)
print(con.sql(q).fetchall())
"""


def bench_link(rows: int, runs: int, probabilistic: bool = False) -> dict:
    """``workbench link`` (exact or probabilistic) against the bare DuckDB GROUP BY join."""
    files = ensure_link_data(rows)
    cmd = [WORKBENCH, "link", str(files["released"]), str(files["roll"]), "--truth", "person_id"]
    cmd += ["--reference-date", "2026-01-01", "--json"]
    if probabilistic:
        cmd.append("--probabilistic")
    name = "workbench_link_probabilistic" if probabilistic else "workbench_link"
    baseline = [sys.executable, "-c", _JOIN_BASELINE, str(files["released"]), str(files["roll"])]
    res = _alternate({"duckdb_join": baseline, name: cmd}, runs)
    doc = json.loads(res[name]["stdout"])  # the last timed run's result, for the record
    keys = (
        "released_records",
        "attacker_records",
        "one_match",
        "correct_unique_matches",
        "correct_reidentifications",
        "precision",
        "recall",
        "scored_pairs",
    )
    res["result"] = {k: doc[k] for k in keys if k in doc}
    ours, base = res[name], res["duckdb_join"]
    res["time_ratio"] = ours["median_s"] / base["median_s"]
    res["memory_ratio"] = ours["peak_mb"] / base["peak_mb"]
    print(
        f"{name} {rows:>11,} workbench {ours['median_s']:7.2f} s {ours['peak_mb']:7.0f} MB | "
        f"duckdb {base['median_s']:7.2f} s {base['peak_mb']:7.0f} MB | ratio time "
        f"{res['time_ratio']:.2f}x memory {res['memory_ratio']:.2f}x | {res['result']}",
        flush=True,
    )
    return res


_SPARK_BASELINE = r"""
import os, sys
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
from pyspark.sql import SparkSession
path, fmt, qis, master = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
spark = SparkSession.builder.master(master).config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(path) if fmt == "parquet" else spark.read.option("header", True).csv(path)
print(df.groupBy(*qis).count().toArrow().num_rows)
spark.stop()
"""


def bench_assess_spark(rows: int, runs: int, master: str = "local[2]") -> dict:
    """``assess --engine spark`` on a local Spark against a bare PySpark GROUP BY (same master),
    next to ``assess`` on DuckDB against DuckDB's bare GROUP BY (Parquet, coarse QIs)."""
    files = ensure_data(rows)
    qi = ",".join(COARSE_QIS)
    path, fmt = files["parquet"], "parquet"
    assess = [WORKBENCH, "assess", str(path), "--qi", qi, "--json"]
    res = _alternate(
        {
            "duckdb_group_by": [sys.executable, "-c", _BASELINE, str(path), fmt, qi],
            "workbench_assess_duckdb": assess,
            "spark_group_by": [sys.executable, "-c", _SPARK_BASELINE, str(path), fmt, qi, master],
            "workbench_assess_spark": [*assess, "--engine", "spark", "--spark-master", master],
        },
        runs,
    )
    res["qis"] = COARSE_QIS
    res["master"] = master
    res["spark_vs_duckdb"] = (
        res["workbench_assess_spark"]["median_s"] / res["workbench_assess_duckdb"]["median_s"]
    )
    res["spark_ratio_to_bare_spark"] = (
        res["workbench_assess_spark"]["median_s"] / res["spark_group_by"]["median_s"]
    )
    print(
        f"assess {rows:>11,} parquet duckdb {res['workbench_assess_duckdb']['median_s']:7.2f} s | "
        f"spark {master} {res['workbench_assess_spark']['median_s']:7.2f} s "
        f"(bare spark {res['spark_group_by']['median_s']:.2f} s) | spark/duckdb "
        f"{res['spark_vs_duckdb']:.2f}x",
        flush=True,
    )
    return res


COMMANDS = {
    "link": bench_link,
    "link_probabilistic": lambda rows, runs: bench_link(rows, runs, probabilistic=True),
    "assess": bench_assess,
    "assess_spark": bench_assess_spark,
    "assess_coarse": lambda rows, runs: bench_assess(rows, runs, COARSE_QIS),
    "anonymize": bench_anonymize,
}


def _drop_stdout(doc: dict) -> None:
    for value in doc.values():
        if isinstance(value, dict):
            value.pop("stdout", None)
            _drop_stdout(value)


def main() -> None:
    global WARM_UP
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--commands", nargs="+", choices=sorted(COMMANDS), default=["assess"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-warm-up", action="store_true", help="skip the untimed first runs")
    args = ap.parse_args()
    WARM_UP = not args.no_warm_up
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc.update(
        {
            "benchmark": "scaling",
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
        }
    )
    cases = doc.setdefault("cases", {})
    for rows in args.rows:
        for command in args.commands:
            res = COMMANDS[command](rows, args.runs)
            _drop_stdout(res)
            res["load_average"] = os.getloadavg()
            res["warm_up"] = WARM_UP
            res["runs"] = args.runs
            cases[f"{command}/{rows}"] = res
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            tmp = RESULTS.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
            os.replace(tmp, RESULTS)


if __name__ == "__main__":
    main()
