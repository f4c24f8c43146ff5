"""Risk from a PostgreSQL table: pushed-down assess against the database's bare GROUP BY.

Starts a throwaway server (tests/_pgserver.py: Debian's ``postgresql``), generates a city-like
table of N rows inside it with ``generate_series`` (no Python loop), then times, alternated:

- ``bare``: ``SELECT qis, count(*) ... GROUP BY qis`` through psycopg, rows fetched (the floor);
- ``assess``: ``wb.assess(wb.load(url), qis)`` in process (connect, count + fingerprint scan,
  the pushed-down GROUP BY, measures);
- ``cli``: the whole ``workbench assess URL --qi ... --json`` process.

The fingerprint is a scan of its own (every row's md5, sorted); it is reported separately so the
cost of knowing *what* was assessed is visible. Writes bench/results/postgres.json.

Run: ``.venv/bin/python bench/postgres.py [--rows 1000000] [--repeat 3]``
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

QIS = ["sex", "birth_year", "postal_code", "district"]


def main() -> None:
    import psycopg

    import workbench as wb
    from tests._pgserver import throwaway_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with throwaway_server("-c shared_buffers=512MB -c work_mem=256MB") as (host, port, pw):
        os.environ["PGPASSWORD"] = pw
        with psycopg.connect(host=host, port=port, user="wb", dbname="postgres") as c:
            c.execute(
                "CREATE TABLE people AS SELECT i AS person_id,"
                " (ARRAY['female','male'])[1 + i % 2] AS sex,"
                " 1930 + (i * 7919) % 80 AS birth_year,"
                " lpad(((i * 104729) % 900 + 10000)::text, 5, '0') AS postal_code,"
                " 'D' || ((i * 31) % 12) AS district,"
                " (ARRAY['none','flu','asthma','diabetes'])[1 + (i * 13) % 4] AS diagnosis"
                f" FROM generate_series(1::bigint, {args.rows}::bigint) AS i"
            )
            c.execute("ANALYZE people")
            c.commit()
        url = f"postgresql://wb@{host}:{port}/postgres?table=people"
        keys = ", ".join(QIS)

        def bare() -> float:
            t = time.perf_counter()
            with psycopg.connect(host=host, port=port, user="wb", dbname="postgres") as c:
                c.execute(f"SELECT {keys}, count(*) FROM people GROUP BY {keys}").fetchall()
            return time.perf_counter() - t

        def fingerprint() -> float:
            t = time.perf_counter()
            with psycopg.connect(host=host, port=port, user="wb", dbname="postgres") as c:
                c.execute(
                    "SELECT count(*), encode(sha256(convert_to(string_agg(h, '' ORDER BY h),"
                    " 'UTF8')), 'hex') FROM (SELECT md5(p::text) AS h FROM people p) q"
                ).fetchall()
            return time.perf_counter() - t

        def in_process() -> float:
            t = time.perf_counter()
            wb.assess(wb.load(url), QIS)
            return time.perf_counter() - t

        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cli = [str(ROOT / ".venv" / "bin" / "workbench"), "assess", url, "--qi", ",".join(QIS)]

        def whole_process() -> float:
            t = time.perf_counter()
            subprocess.run([*cli, "--json"], check=True, capture_output=True, env=env)
            return time.perf_counter() - t

        in_process()  # warm imports and the server's cache once
        runs: dict[str, list[float]] = {"bare": [], "fingerprint": [], "assess": [], "cli": []}
        for _ in range(args.repeat):
            for name, fn in (
                ("bare", bare),
                ("fingerprint", fingerprint),
                ("assess", in_process),
                ("cli", whole_process),
            ):
                runs[name].append(fn())
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "rows": args.rows,
        "qis": QIS,
        "repeat": args.repeat,
        "median_seconds": med,
        "ratio_assess_to_bare": med["assess"] / med["bare"],
        "ratio_cli_to_bare": med["cli"] / med["bare"],
        "ratio_assess_to_bare_plus_fingerprint": med["assess"] / (med["bare"] + med["fingerprint"]),
        "load_average": os.getloadavg(),
        "machine": platform.platform(),
    }
    for k, v in med.items():
        print(f"{k:12s} {v:8.3f} s")
    print(f"assess / bare GROUP BY: {result['ratio_assess_to_bare']:.2f}x")
    print(f"assess / (bare + fingerprint): {result['ratio_assess_to_bare_plus_fingerprint']:.2f}x")
    print(f"whole CLI / bare GROUP BY: {result['ratio_cli_to_bare']:.2f}x  load {os.getloadavg()}")
    out = ROOT / "bench" / "results" / "postgres.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
