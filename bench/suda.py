"""Benchmark SUDA2 on Adult (8 quasi-identifiers) against two baselines measured in the same run.

1. Exhaustive numpy baseline: group every one of the 2^M - 1 column subsets over all records,
   an MSU is "unique on S and on no (|S|-1)-subset". Same answer, no pruning: checks the fast
   search on the full 30,162 records and shows what the pruning buys.
2. The brute-force reference (``suda2_reference``) on the first ``--reference-rows`` records.

A scaling section runs sdcMicro's ``free1`` microdata (4,000 records) with 8 to 14 categorical
keys: the number of column subsets doubles with every key, and so does the time.

Usage: ``.venv/bin/python bench/suda.py [--repeat 3] [--reference-rows 150]``; writes
``bench/results/suda.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench._io import atomic_write_text  # noqa: E402
from workbench.risk.subsets import _dense_codes, _group_all  # noqa: E402
from workbench.risk.suda import suda2, suda2_reference  # noqa: E402

QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]


def adult_path() -> Path:
    local = ROOT / "data" / "samples" / "adult" / "adult.csv"
    return local if local.exists() else ROOT.parent / "shared" / "data" / "adult" / "adult.csv"


def free1_path() -> Path:
    local = ROOT / "data" / "samples" / "survey" / "free1.csv"
    return local if local.exists() else ROOT.parent / "shared" / "data" / "sdcmicro" / "free1.csv"


def exhaustive_msu_counts(codes: np.ndarray) -> np.ndarray:
    """MSU counts per record and size by grouping every column subset over all records."""
    dense, cards = _dense_codes(codes, [str(i) for i in range(codes.shape[1])])
    n, m = dense.shape
    unique: dict[tuple[int, ...], np.ndarray] = {}
    out = np.zeros((n, m), dtype=np.int64)
    for k in range(1, m + 1):
        for sub in combinations(range(m), k):
            gid, _, sizes = _group_all(dense[:, sub], cards[list(sub)])
            u = sizes[gid] == 1
            unique[sub] = u
            lower = np.zeros(n, dtype=bool)
            for drop in range(k if k > 1 else 0):
                lower |= unique[sub[:drop] + sub[drop + 1 :]]
            out[:, k - 1] += u & ~lower
    return out


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reference-rows", type=int, default=150)
    ap.add_argument("--scaling", type=int, nargs="*", default=[8, 10, 12, 14])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "suda.json")
    args = ap.parse_args(argv)

    df = pd.read_csv(adult_path(), sep=";")
    codes = np.column_stack([pd.factorize(df[c])[0] for c in QIS]).astype(np.int64)
    n = codes.shape[0]

    fast_times, fast = timed(lambda: suda2(codes, QIS), args.repeat)
    base_times, base_counts = timed(lambda: exhaustive_msu_counts(codes), 1)
    agree_full = bool(np.array_equal(fast.msu_counts, base_counts))

    sub = codes[: args.reference_rows]
    ref_times, ref = timed(lambda: suda2_reference(sub, QIS), 1)
    small_times, small = timed(lambda: suda2(sub, QIS), args.repeat)
    agree_ref = bool(
        np.array_equal(small.msu_counts, ref.msu_counts)
        and np.allclose(small.scores, ref.scores)
        and np.allclose(small.dis_scores, ref.dis_scores)
    )

    scaling = []
    free1 = pd.read_csv(free1_path())
    keys = [c for c in free1.columns if free1[c].nunique() < 100]
    for m in args.scaling:
        cols = keys[:m]
        sc_times, sc = timed(lambda cols=cols: suda2(free1[cols].to_numpy(), cols), 1)
        row = {"keys": m, "records": len(free1), "seconds": sc_times[0], "msus": sc.n_msus}
        if m <= 12:
            ex_times, ex = timed(lambda cols=cols: exhaustive_msu_counts(free1[cols].to_numpy()), 1)
            row["exhaustive_seconds"] = ex_times[0]
            row["agrees_with_exhaustive"] = bool(np.array_equal(sc.msu_counts, ex))
        scaling.append(row)
        print(
            f"free1 {len(free1)} records x {m} keys: {sc_times[0]:.3f} s"
            + (
                f" (exhaustive {row['exhaustive_seconds']:.3f} s, identical "
                f"{row['agrees_with_exhaustive']})"
                if m <= 12
                else ""
            )
        )

    fast_med = statistics.median(fast_times)
    result = {
        "benchmark": "SUDA2 on Adult",
        "data": "adult.csv",
        "records": n,
        "quasi_identifiers": QIS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "suda2_seconds": {"median": fast_med, "min": min(fast_times), "runs": fast_times},
        "baseline_exhaustive_numpy_seconds": base_times[0],
        "speedup_vs_exhaustive": base_times[0] / fast_med,
        "agrees_with_exhaustive_on_all_records": agree_full,
        "reference_rows": int(sub.shape[0]),
        "reference_seconds": ref_times[0],
        "suda2_on_reference_rows_seconds": statistics.median(small_times),
        "agrees_with_reference": agree_ref,
        "summary": fast.to_dict(top_subsets=10),
        "scaling_free1": scaling,
        "target_seconds": 5.0,
        "meets_target": fast_med < 5.0,
    }
    print(
        f"SUDA2 adult {n} records x {len(QIS)} QIs: median {fast_med:.3f} s "
        f"(runs {', '.join(f'{t:.3f}' for t in fast_times)})"
    )
    print(
        f"exhaustive numpy baseline: {base_times[0]:.3f} s "
        f"-> speed-up {base_times[0] / fast_med:.1f}x; identical MSUs: {agree_full}"
    )
    print(
        f"brute-force reference on {sub.shape[0]} rows: {ref_times[0]:.3f} s vs "
        f"{statistics.median(small_times):.4f} s; identical: {agree_ref}"
    )
    print(
        f"MSUs {fast.n_msus}, records with MSU {result['summary']['records_with_msu']}, "
        f"max score {result['summary']['score_max']:.0f}, "
        f"max DIS {result['summary']['dis_score_max']:.3f}"
    )
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    agree_scaling = all(r.get("agrees_with_exhaustive", True) for r in scaling)
    return 0 if agree_full and agree_ref and agree_scaling else 1


if __name__ == "__main__":
    raise SystemExit(main())
