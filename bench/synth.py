"""Bench: MST on the 1M-resident city, and the synthetic-data evaluation on 100k rows.

The population of a generated city (seed 2026, generated once into the git-ignored
``bench/data/``, shared with ``dp_histogram.py``) with seven columns: birth year (public keys
1900-2026), sex, postal code, race/ethnicity, income band, marital status, household size (all
with public keys). MST at epsilon 1, privacy unit ``resident_id`` with one row per person.
Reported: wall time and peak resident memory of the synthesis (whole process, ``ru_maxrss``),
then the evaluation (fidelity, three attacks with 500 attacks each, DCR on 2,000 rows, sample
uniques) of 100k synthetic rows against 100k training and 100k holdout rows.

Usage::

    .venv/bin/python bench/synth.py                  # 1M rows
    .venv/bin/python bench/synth.py --rows 200000    # smaller
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "birth_year",
    "sex",
    "postal_code",
    "race_ethnicity",
    "income_band",
    "marital_status",
    "household_size",
]


def ensure_population(rows: int, seed: int = 2026) -> Path:
    tag = f"city_{rows}" if seed == 2026 else f"city_{rows}_seed{seed}"
    path = ROOT / "bench" / "data" / tag / "population.parquet"
    if not path.exists():
        from workbench.samples.city import generate

        t0 = time.perf_counter()
        generate(rows, seed=seed, out_dir=path.parent, format="parquet")
        print(f"generated city of {rows:,} residents in {time.perf_counter() - t0:.0f} s")
    return path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import numpy as np
    import pandas as pd

    from workbench.synth.evaluate import evaluate
    from workbench.synth.generate import synthesize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--eval-rows", type=int, default=100_000)
    parser.add_argument("--epsilon", type=float, default=1.0)
    args = parser.parse_args()

    def read(path: Path) -> pd.DataFrame:
        df = pd.read_parquet(path)
        df["birth_year"] = df["date_of_birth"].astype(str).str[:4].astype(int)
        return df[["resident_id", *COLUMNS]]

    pop = read(ensure_population(args.rows))
    keys = {c: sorted(pop[c].astype(str).unique()) for c in COLUMNS if c != "birth_year"}
    # public domains: the code books of the city (the bench reads them from the generator's
    # output for brevity; a release would take them from the catalog)
    keys["birth_year"] = [str(y) for y in range(1900, 2027)]
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    res = synthesize(
        pop, COLUMNS, method="mst", epsilon=args.epsilon, keys=keys,
        privacy_unit="resident_id", rows=args.eval_rows,
    )  # fmt: skip
    t_mst = time.perf_counter() - t0
    rss_mst = _rss_mb()
    print(f"MST on {len(pop):,} rows: {t_mst:.1f} s, peak RSS {rss_mst:.0f} MB")

    rng = np.random.default_rng(0)
    order = rng.permutation(len(pop))
    n = args.eval_rows
    train = pop.iloc[order[:n]].reset_index(drop=True)
    # the holdout: residents of another city drawn by the same generator (seed 2027), people
    # the synthesis never read
    hold = read(ensure_population(n, seed=2027))
    t0 = time.perf_counter()
    ev = evaluate(train, res.data, hold, COLUMNS, targets=["income_band"], n_attacks=500)
    t_eval = time.perf_counter() - t0
    doc = ev.to_dict()
    print(f"evaluation on {n:,} rows: {t_eval:.1f} s, peak RSS {_rss_mb():.0f} MB")
    out = {
        "rows": len(pop),
        "columns": COLUMNS,
        "epsilon": args.epsilon,
        "mst_seconds": t_mst,
        "mst_peak_rss_mb": rss_mst,
        "rss_before_mb": rss0,
        "eval_rows": n,
        "eval_seconds": t_eval,
        "eval_peak_rss_mb": _rss_mb(),
        "fidelity": {
            k: doc["fidelity"][k]
            for k in ("one_way_tv_mean", "one_way_tv_max", "two_way_tv_mean", "two_way_tv_max")
        }
        | {"tstr": doc["fidelity"]["train_synthetic_test_real"]},
        "privacy": {
            "attacks": [
                {k: a[k] for k in ("attack", "risk", "risk_ci")}
                | {
                    "main": a["main"]["rate"],
                    "control": a["control"]["rate"],
                    "baseline": a["baseline"]["rate"],
                }  # fmt: skip
                for a in doc["privacy"]["attacks"]
            ],
            "dcr": doc["privacy"]["distance_to_closest_record"],
            "sample_uniques": doc["privacy"]["sample_uniques"],
        },
        "note": "training: 100k residents of the 1M city the synthesis read; holdout: 100k "
        "residents of a city generated with another seed (never read by the synthesis)",
    }
    path = ROOT / "bench" / "results" / "synth.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
