"""First render of the ethics-review dashboard in Chromium, with and without a preheated kernel.

Issue goal: first dashboard render under 5 s with a preheated kernel. Baseline measured in the
same run: the same server without preheating (Voila then executes the notebook per request).
Writes bench/results/dashboard.json.

    .venv/bin/python bench/dashboard.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_process  # noqa: E402


def _render_once(url: str) -> float:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url, timeout=180_000)
            page.wait_for_selector(".wb-title", timeout=180_000)
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                timeout=180_000,
            )
            elapsed = time.perf_counter() - t0
            ctx.close()
        return elapsed
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def measure(bundle: Path, preheat: bool, rounds: int, workdir: Path) -> dict:
    times = []
    for i in range(rounds):
        port = free_port()
        cmd = [sys.executable, "-m", "workbench", "dashboard", str(bundle), "--port", str(port)]
        if not preheat:
            cmd.append("--no-preheat")
        proc = start_server(
            cmd,
            f"http://127.0.0.1:{port}/voila/static/voila.js",
            workdir / f"voila-{preheat}-{i}.log",
        )
        try:
            if preheat:
                time.sleep(8)  # let the pool's kernel execute the notebook before the visit
            times.append(_render_once(f"http://127.0.0.1:{port}/"))
        finally:
            stop_process(proc)
    return {
        "preheat": preheat,
        "seconds": times,
        "min": min(times),
        "median": sorted(times)[len(times) // 2],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("WORKBENCH_PROVENANCE", "off")
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    os.environ["WORKBENCH_CACHE"] = str(work)
    from workbench.samples.demo import sample_bundle_path

    t0 = time.perf_counter()
    bundle = sample_bundle_path(refresh=True)
    build = time.perf_counter() - t0
    pre = measure(bundle, True, args.rounds, work)
    cold = measure(bundle, False, args.rounds, work)
    result = {
        "benchmark": "dashboard_first_render",
        "bundle": "sample (city clinic)",
        "sample_bundle_build_seconds": build,
        "preheated": pre,
        "baseline_no_preheat": cold,
        "target_seconds": 5.0,
        "preheated_vs_target": pre["median"] / 5.0,
        "baseline_over_preheated": cold["median"] / pre["median"],
        "load_average": os.getloadavg()[0],
    }
    out = ROOT / "bench" / "results" / "dashboard.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"sample bundle built in {build:.1f}s")
    print(f"first render, preheated kernel: median {pre['median']:.2f}s (target 5 s)")
    print(
        f"first render, no preheat (baseline): median {cold['median']:.2f}s "
        f"({result['baseline_over_preheated']:.1f}x slower)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
