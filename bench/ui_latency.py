"""UI latency: slider change -> refreshed risk, utility and charts, on Adult and on 1M rows.

Measured server side, as Voila runs it: the widget value is set in Python, which runs the same
callbacks a browser change triggers, and the clock stops when the summary HTML, the utility
table and the chart outputs hold the new numbers (the browser round trip adds ~100 ms; see the
notebooks guide). Utility is ON in both cases (the class-table comparison of
``workbench.deid.live_utility``); each timing is split into the computation (node + utility +
distributions and the HTML: what the browser shows first) and the charts redrawn after them.

Cases: ``adult`` (the Adult sample, 30,162 records, 8 QIs with ARX hierarchies, salary class
sensitive) and ``synthetic`` (a clinic-like table, --rows records, 3 QIs). Per case, the tuner's
sliders with the levels held: k, suppression limit, a level, the risk threshold, l; and, as
heavier steps with progress, k with "re-optimise levels" on (a lattice search) and the slow
reference ``compare()`` on the transformed records (Adult only; minutes on a million rows).
The risk panel's threshold slider is timed as before.

Target: under 300 ms per slider change. Writes bench/results/ui_latency.json.

Run: ``.venv/bin/python bench/ui_latency.py [--rows 1000000] [--repeat 10]``
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.dataset import Dataset  # noqa: E402
from workbench.profiling.roles import RoleMap  # noqa: E402
from workbench.ui.risk import RiskPanel  # noqa: E402
from workbench.ui.state import Store  # noqa: E402
from workbench.ui.tuner import TunerPanel  # noqa: E402

TARGET_MS = 300.0
QIS = ["patient_dob", "sex", "postal_code"]


def synthesize(n: int, seed: int = 2026) -> pd.DataFrame:
    """A clinic-like table: dd/mm/yyyy birth dates, sex, skewed 5-digit postal codes."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("1925-01-01")
    days = rng.integers(0, 30_000, n)
    dob = pd.Series(start + days.astype("timedelta64[D]")).dt.strftime("%d/%m/%Y")
    codes = np.array([f"{c:05d}" for c in range(46200, 46500)])
    weights = 1.0 / np.arange(1, len(codes) + 1) ** 0.8
    postal = rng.choice(codes, n, p=weights / weights.sum())
    diagnoses = np.array(
        [
            "flu",
            "cold",
            "asthma",
            "back pain",
            "diabetes",
            "hypertension",
            "injury",
            "routine examination",
            "depression",
            "migraine",
            "allergy",
            "other",
        ]
    )
    return pd.DataFrame(
        {
            "visit_id": np.char.add("V", np.char.zfill(np.arange(n).astype(str), 9)),
            "patient_dob": dob.to_numpy(),
            "sex": rng.choice(np.array(["female", "male"]), n),
            "postal_code": postal,
            "diagnosis": rng.choice(diagnoses, n),
        }
    )


def timed(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stats(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {
        "median_ms": round(statistics.median(s), 1),
        "p95_ms": round(s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))], 1),
        "max_ms": round(s[-1], 1),
        "n": len(s),
    }


def _slider_runs(tuner, store, repeat: int) -> dict[str, dict]:
    """Time each slider with the levels held (auto re-optimise off)."""
    tuner.auto.value = False
    out: dict[str, dict] = {}
    q0 = next(q for q, sl in tuner.levels.items() if sl.max >= 2)

    def run(name: str, values: list, set_value) -> None:
        total, numbers, charts = [], [], []
        for v in values:
            t0 = time.perf_counter()
            set_value(v)
            total.append((time.perf_counter() - t0) * 1000)
            assert tuner.errors.last_error is None, tuner.errors.last_error
            assert store.state.utility is not None, "utility must be on"
            numbers.append(tuner.last_timing["numbers"] * 1000)
            charts.append(tuner.last_timing["charts"] * 1000)
        out[name] = {
            "total": stats(total),
            "risk_and_utility_numbers": stats(numbers),
            "charts_after_the_numbers": stats(charts),
        }
        print(f"  {name:<16} numbers {stats(numbers)}  total {stats(total)}")

    run("k", [3 + (i * 7) % 25 for i in range(repeat)], lambda v: setattr(tuner.k, "value", v))
    run(
        "suppression",
        [round(0.01 * (1 + (i * 3) % 19), 2) for i in range(repeat)],
        lambda v: setattr(tuner.suppression, "value", v),
    )
    top = tuner.levels[q0].max
    run(
        f"level ({q0})",
        [i % (top + 1) for i in range(1, repeat + 1)],
        lambda v: setattr(tuner.levels[q0], "value", v),
    )
    run(
        "risk threshold",
        [round(0.05 + 0.9 * i / max(repeat - 1, 1), 2) for i in range(repeat)],
        lambda v: store.set(threshold=v),
    )
    if not tuner.l_div.disabled:
        run("l", [2 + i % 2 for i in range(repeat)], lambda v: setattr(tuner.l_div, "value", v))
        tuner.l_div.value = 0
    return out


def bench_case(name: str, ds, roles, repeat: int, reference: bool) -> dict:
    print(f"--- {name}: {ds.n_rows:,} records")
    store = Store()
    store.load_dataset(ds, roles=roles)
    t0 = time.perf_counter()
    tuner = TunerPanel(store, k=5, suppression=0.05, auto_search=False)
    init_ms = (time.perf_counter() - t0) * 1000
    assert tuner.errors.last_error is None, tuner.errors.last_error
    assert store.state.utility is not None, "utility must be on"
    print(f"  tuner init (assess + encode + first evaluation): {init_ms:,.0f} ms")
    result: dict = {
        "records": ds.n_rows,
        "qis": list(store.state.qis),
        "class_table_rows": int(tuner.ctx.n_base),
        "tuner_init_ms": round(init_ms, 1),
        "sliders": _slider_runs(tuner, store, repeat),
    }
    # heavier steps: a lattice search per k change (progress bar + busy state in the panel)
    tuner.auto.value = True
    search = []
    for k in [4 + i for i in range(min(repeat, 4))]:
        t0 = time.perf_counter()
        tuner.k.value = k
        search.append((time.perf_counter() - t0) * 1000)
        assert tuner.errors.last_error is None, tuner.errors.last_error
    result["k_with_reoptimise"] = stats(search)
    print(f"  k with re-optimise (search): {stats(search)}")
    if reference:
        view = tuner.view
        ref = timed(lambda: tuner.model.reference_utility(view), 2)
        fast = timed(lambda: tuner.model.utility(view), 5)
        result["utility_reference_compare"] = stats(ref)
        result["utility_class_table"] = stats(fast)
        print(f"  utility: compare() on records {stats(ref)} vs class table {stats(fast)}")
    worst = max(v["risk_and_utility_numbers"]["max_ms"] for v in result["sliders"].values())
    result["worst_slider_numbers_ms"] = worst
    result["worst_slider_total_ms"] = max(v["total"]["max_ms"] for v in result["sliders"].values())
    result["meets_target"] = worst < TARGET_MS
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "ui_latency.json"))
    args = ap.parse_args()
    load_before = os.getloadavg()

    from workbench.loading.readers import load
    from workbench.samples import sample_path

    adult = load(sample_path("adult"))
    adult_qis = [c for c in adult.columns if c != "salary-class"]
    adult_roles = RoleMap.from_columns(
        adult.columns, quasi_identifiers=adult_qis, sensitive=["salary-class"]
    )
    cases = {"adult": bench_case("adult", adult, adult_roles, args.repeat, reference=True)}

    t0 = time.perf_counter()
    df = synthesize(args.rows)
    gen_s = time.perf_counter() - t0
    ds = Dataset.from_frame(df, name="synthetic_clinic")
    roles = RoleMap.from_columns(
        df.columns,
        direct_identifiers=["visit_id"],
        quasi_identifiers=QIS,
        sensitive=["diagnosis"],
    )
    cases["synthetic"] = bench_case("synthetic", ds, roles, args.repeat, reference=False)
    cases["synthetic"]["synthesize_s"] = round(gen_s, 1)

    # the risk panel's threshold slider (re-derived from the class table, no re-scan)
    store = Store()
    store.load_dataset(ds, roles=roles)
    risk = RiskPanel(store)
    lat_threshold = []
    for i in range(args.repeat):
        t = round(0.05 + 0.9 * i / max(args.repeat - 1, 1), 2)
        t0 = time.perf_counter()
        risk.threshold.value = t
        lat_threshold.append((time.perf_counter() - t0) * 1000)
        assert f"above threshold {t:g}" in risk.summary.value, risk.errors.last_error
    print(f"risk panel threshold ({len(df):,} rows): {stats(lat_threshold)}")

    result = {
        "target_ms": TARGET_MS,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "cases": cases,
        "risk_panel_threshold_1m": stats(lat_threshold),
        "meets_target": all(c["meets_target"] for c in cases.values()),
        "notes": [
            "server side: widget value set in Python; risk_and_utility_numbers stops when the "
            "summary and utility HTML hold the new numbers (sent to the browser at once), "
            "total when the three chart outputs are redrawn too (unchanged charts are kept)",
            "utility is on in every slider timing (class-table comparison, equal to compare() "
            "on the records: tests/test_live_utility.py)",
            "levels held during slider timings; k with re-optimise runs a lattice search",
            "the machine is shared: see the load averages",
        ],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v["meets_target"] for k, v in cases.items()}))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
