"""Benchmark: the join-risk matrix over five city datasets of one million rows each.

Preparation (not timed, cached in ``bench/data/``, git-ignored): the synthetic city is generated
with ``workbench.samples.city.generate`` at ``--residents`` residents (10 million by default, so
that even housing, 10 % of residents, has a million applications), and the first ``--rows``
records of each department file are written to ``bench/data/matrix_<rows>/`` with a keyed
pseudonym ``person_key`` (HMAC-SHA256 of the resident under a bench-only key) on the four
internal datasets, plus a catalog from ``catalog_document``.

Timed, in the same run:

* ``matrix``: load the five files through the catalog, detect the crosswalk, and compute every
  pair's linkage (both directions), cumulative join, score and advice (greedy coarsening
  scenarios) - what ``workbench matrix CATALOG`` does;
* ``baseline``: for each of the ten pairs, the bare DuckDB queries an analyst would write by
  hand for the same facts - one group-by/join counting linkage candidates on the shared facts
  already in a common coarse form (birth year, sex, 3-digit postal prefix, written as SQL over
  the raw columns), plus for internal pairs one join on ``person_key`` - without
  harmonization detection, both directions, scenarios or advice.

Run: ``.venv/bin/python bench/matrix.py`` (add ``--rows 200000`` for a quick check).
Writes ``bench/results/matrix.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from workbench.samples import city  # noqa: E402

BENCH_KEY = b"bench-only-pseudonym-key"  # not a secret: synthetic people, bench files only

# Raw-column SQL for the coarse common form of each fact, per dataset (the baseline's
# hand-written harmonization).
_YEAR = {
    "clinic": "year(try_strptime(CAST(patient_dob AS VARCHAR), '%d/%m/%Y'))",
    "housing": "CAST(birth_year AS INTEGER)",
    "social": "2025 - CAST(age AS INTEGER)",
    "voters": "year(TRY_CAST(dob AS DATE))",
}
_SEX = {
    "clinic": "CASE sex WHEN 'female' THEN 'F' WHEN 'male' THEN 'M' END",
    "housing": "CASE gender WHEN 'F' THEN 'F' WHEN 'M' THEN 'M' END",
    "social": "CASE CAST(sex AS VARCHAR) WHEN '2' THEN 'F' WHEN '1' THEN 'M' END",
    "voters": "sex",
}
_POSTAL3 = {
    "clinic": "substr(CAST(postal_code AS VARCHAR), 1, 3)",
    "housing": "substr(CAST(zip AS VARCHAR), 1, 3)",
    "social": "CAST(zip3 AS VARCHAR)",
    "transit": "substr(CAST(postcode AS VARCHAR), 1, 3)",
    "voters": "substr(CAST(postal_code AS VARCHAR), 1, 3)",
}


def prepare(rows: int, residents: int, seed: int) -> Path:
    """Generate the city once and cut ``rows`` records per department (cached)."""
    src = ROOT / "bench" / "data" / f"city_{residents}"
    out = ROOT / "bench" / "data" / f"matrix_{rows}"
    if (out / "catalog.yaml").exists():
        return out / "catalog.yaml"
    if not (src / "ground_truth.parquet").exists():
        print(f"generating the city with {residents:,} residents into {src} ...", flush=True)
        t = time.perf_counter()
        city.generate(n_residents=residents, seed=seed, out_dir=src, format="parquet")
        print(f"  {time.perf_counter() - t:.0f} s", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    truth = pd.read_parquet(src / "ground_truth.parquet")
    for name in city.DATASETS:
        df = pd.read_parquet(src / f"{city.FILE_STEMS[name]}.parquet").head(rows)
        if len(df) < rows:
            raise SystemExit(f"{name} has only {len(df):,} records; raise --residents")
        if name != "voters":  # the public voter roll carries no departmental pseudonym
            t = truth[truth["dataset"] == name].set_index("record_id")["resident_id"]
            resident = df[city.RECORD_ID_COLUMNS[name]].map(t)
            df.insert(0, "person_key", city.pseudonymize(resident, BENCH_KEY))
        df.to_parquet(out / f"{city.FILE_STEMS[name]}.parquet", index=False)
    doc = city.catalog_document(".parquet")
    doc["name"] = f"city-bench-{rows}"
    (out / "catalog.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return out / "catalog.yaml"


def baseline(frames: dict[str, pd.DataFrame], internal: list[str]) -> float:
    """Seconds for the bare DuckDB joins of every pair (see the module docstring)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for name, df in frames.items():
        con.register(f"t_{name}", df)
    names = list(frames)
    started = time.perf_counter()
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            parts_a, parts_b = [], []
            for table in (_YEAR, _SEX, _POSTAL3):
                if a in table and b in table:
                    parts_a.append(table[a])
                    parts_b.append(table[b])
            ka = ", ".join(f"{e} AS k{j}" for j, e in enumerate(parts_a))
            kb = ", ".join(f"{e} AS k{j}" for j, e in enumerate(parts_b))
            keys = ", ".join(f"k{j}" for j in range(len(parts_a)))
            con.execute(f"""
                WITH fa AS (SELECT {keys}, count(*) AS fa FROM (SELECT {ka} FROM t_{a})
                            GROUP BY ALL),
                     fb AS (SELECT {keys}, count(*) AS fb FROM (SELECT {kb} FROM t_{b})
                            GROUP BY ALL)
                SELECT count(*), sum(fa * 1.0 / fb) FROM fa JOIN fb USING ({keys})
            """).fetchall()
            if a in internal and b in internal:
                con.execute(f"SELECT count(*) FROM t_{a} JOIN t_{b} USING (person_key)").fetchall()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--residents", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=city.DEFAULT_SEED)
    parser.add_argument("--triples", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "matrix.json")
    args = parser.parse_args()

    from workbench._io import atomic_write_text
    from workbench.governance.catalog import Catalog
    from workbench.linkage import join_risk_matrix

    path = prepare(args.rows, args.residents, args.seed)
    catalog = Catalog.load(path)

    t0 = time.perf_counter()
    frames = {n: catalog.load_dataset(n).to_pandas() for n in catalog.datasets}
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    matrix = join_risk_matrix(catalog, triples=args.triples, frames=frames)
    t_matrix = time.perf_counter() - t1
    total = t_load + t_matrix

    internal = [n for n, e in catalog.datasets.items() if not e.external]
    t_base = baseline(frames, internal)

    rows = {n: len(f) for n, f in frames.items()}
    result = {
        "benchmark": "join-risk matrix",
        "datasets": rows,
        "pairs": len(matrix.pairs),
        "triples": len(matrix.triples),
        "seconds": {
            "load": round(t_load, 3),
            "matrix": round(t_matrix, 3),
            "total": round(total, 3),
            "baseline_bare_duckdb_joins": round(t_base, 3),
        },
        "ratio_total_to_baseline": round(total / t_base, 2) if t_base else None,
        "target_seconds": 30,
        "within_target": total < 30,
        "levels": {" + ".join(p.datasets): p.level for p in (*matrix.pairs, *matrix.triples)},
        "advice": {
            " + ".join(p.datasets): p.advice.decision for p in (*matrix.pairs, *matrix.triples)
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
    }
    print(json.dumps(result["seconds"], indent=2))
    print(f"rows per dataset: {rows}")
    print(
        f"total {total:.1f} s (load {t_load:.1f} s + matrix {t_matrix:.1f} s) vs bare "
        f"DuckDB joins {t_base:.1f} s -> x{result['ratio_total_to_baseline']}; "
        f"target < 30 s: {'ok' if total < 30 else 'MISSED'}"
    )
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
