"""Bench: a DP histogram over the 10M-row city against a plain GROUP BY in the same run.

The table is the population of a generated city (one row per resident; generated once into the
git-ignored ``bench/data/``, shared with ``risk_profile.py``). The DP release counts residents by
sex x income band with public keys, privacy unit ``resident_id`` and at most one row per person,
so the engine runs the contribution bound (a window over the person key) before the GROUP BY;
OpenDP then adds discrete Laplace noise to the 14-cell vector. Reported:

* ``group_by``: DuckDB ``SELECT sex, income_band, count(*) ... GROUP BY ALL`` (the baseline);
* ``person_group_by``: ``GROUP BY resident_id`` (the least any per-person bound must do: count
  each person's rows; 10M distinct string keys);
* ``bound_and_aggregate``: the engine part of the release (bounding + aggregation);
* ``bound_row_unit``: the same with privacy unit ``row`` (no window: the bounding's cost);
* ``dp_release``: the whole release (plan, aggregation, ledger charge, OpenDP noise).

Usage::

    .venv/bin/python bench/dp_histogram.py                 # 10M rows (generates the city once)
    .venv/bin/python bench/dp_histogram.py --rows 1000000  # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_population(rows: int) -> Path:
    """``bench/data/city_<rows>/population.parquet``, generated once (seed 2026)."""
    path = ROOT / "bench" / "data" / f"city_{rows}" / "population.parquet"
    if not path.exists():
        from workbench.samples.city import generate

        t0 = time.perf_counter()
        generate(rows, seed=2026, out_dir=path.parent, format="parquet")
        print(f"generated city of {rows:,} residents in {time.perf_counter() - t0:.0f} s")
    return path


def _median(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["WORKBENCH_PROVENANCE"] = "off"

    import duckdb

    from workbench.dp import Budget, Ledger, bound_and_aggregate, dp_release, make_spec
    from workbench.samples.city import INCOME_BANDS

    path = ensure_population(args.rows)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rel = con.read_parquet(str(path))
    n_rows = int(rel.aggregate("count(*)").fetchall()[0][0])
    keys = {"sex": ["F", "M"], "income_band": list(INCOME_BANDS)}

    def group_by():
        return con.sql(
            f"SELECT sex, income_band, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL"
        ).fetchall()

    spec = make_spec(
        privacy_unit="resident_id", max_contributions=1, epsilon=0.5, count=True,
        by=["sex", "income_band"], keys=keys,
    )  # fmt: skip
    spec_row = make_spec(
        privacy_unit="row", max_contributions=1, epsilon=0.5, count=True,
        by=["sex", "income_band"], keys=keys,
    )  # fmt: skip

    def person_group_by():
        return con.sql(
            f"SELECT count(*) FROM (SELECT resident_id FROM read_parquet('{path}') "
            "GROUP BY resident_id)"
        ).fetchall()

    group_by()  # warm the file cache
    out: dict = {"rows": n_rows, "cells": 2 * len(INCOME_BANDS)}
    out["group_by"] = _median(group_by, args.repeat)
    out["person_group_by"] = _median(person_group_by, args.repeat)
    out["bound_and_aggregate"] = _median(lambda: bound_and_aggregate(spec, rel), args.repeat)
    out["bound_row_unit"] = _median(lambda: bound_and_aggregate(spec_row, rel), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(Path(tmp) / "l.jsonl", "residents", Budget(5.0))

        def release():
            return dp_release(
                rel, ledger=ledger, population="residents", privacy_unit="resident_id",
                max_contributions=1, epsilon=0.5, count=True, by=["sex", "income_band"],
                keys=keys,
            )  # fmt: skip

        last = release()  # the first call loads OpenDP's library: not timed
        out["dp_release"] = _median(release, args.repeat)
    out["dp_release_vs_group_by"] = out["dp_release"]["median_s"] / out["group_by"]["median_s"]
    out["bounding_vs_group_by"] = (
        out["bound_and_aggregate"]["median_s"] / out["group_by"]["median_s"]
    )
    out["bounding_vs_person_group_by"] = (
        out["bound_and_aggregate"]["median_s"] / out["person_group_by"]["median_s"]
    )
    out["noise_scale"] = last.plan.part("count").scale
    out["ci95"] = last.statistics[0].ci95[1] - last.statistics[0].value
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    target = ROOT / "bench" / "results" / "dp_histogram.json"
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"{n_rows:,} rows: GROUP BY {out['group_by']['median_s']:.2f} s; DP release "
        f"{out['dp_release']['median_s']:.2f} s ({out['dp_release_vs_group_by']:.2f}x), of which "
        f"bounding+aggregation {out['bound_and_aggregate']['median_s']:.2f} s; GROUP BY person "
        f"{out['person_group_by']['median_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
