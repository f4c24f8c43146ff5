"""N reviewers opening the ethics-review dashboard at once, served from the preheated pool.

Starts ``workbench dashboard --max-kernels M --pool-size P`` on the sample bundle, waits for the
pool, then opens N pages concurrently in one headless Chromium (one browser context each) and
records, per viewer, the HTTP status and the time to first render (charts drawn). Memory: RSS
of the Voila server and of each kernel once every page has rendered. Viewers beyond M get the
503 page. The browser runs on the same 2 cores, so render times include its own CPU use.
Writes bench/results/dashboard_load.json.

    .venv/bin/python bench/dashboard_load.py [--viewers 10] [--max-kernels 10] [--pool-sizes 2 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_process  # noqa: E402

KERNEL_MODULE = "workbench.ui.dashboard_kernel"
RENDERED = "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3"


def _family(pid: int) -> tuple[psutil.Process, list[psutil.Process]]:
    leader = psutil.Process(pid)
    procs = leader.children(recursive=True)
    server = next(p for p in procs if "workbench.ui.serving" in " ".join(p.cmdline()))
    kernels = [p for p in procs if KERNEL_MODULE in " ".join(p.cmdline())]
    return server, kernels


def _wait_for_pool(pid: int, pool: int, timeout: float = 180) -> float:
    """Seconds until ``pool`` kernels exist and have gone quiet (notebook executed)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        _, kernels = _family(pid)
        if len(kernels) >= pool and all(k.cpu_percent(interval=0.5) < 5 for k in kernels):
            return time.perf_counter() - t0
        time.sleep(1)
    raise TimeoutError("the kernel pool did not fill")


def measure(bundle: Path, viewers: int, max_kernels: int, pool_size: int, work: Path) -> dict:
    port = free_port()
    cmd = [
        sys.executable, "-m", "workbench", "dashboard", str(bundle), "--port", str(port),
        "--max-kernels", str(max_kernels), "--pool-size", str(pool_size),
    ]  # fmt: skip
    t0 = time.perf_counter()
    log = work / f"voila-{pool_size}.log"
    proc = start_server(cmd, f"http://127.0.0.1:{port}/voila/static/voila.js", log)
    try:
        pool_ready = _wait_for_pool(proc.pid, pool_size) + (time.perf_counter() - t0)
        server, kernels = _family(proc.pid)
        idle = {
            "server_rss_mb": server.memory_info().rss / 2**20,
            "kernel_rss_mb": [k.memory_info().rss / 2**20 for k in kernels],
        }
        results, loaded = asyncio.run(_run_viewers(f"http://127.0.0.1:{port}/", viewers, proc))
    finally:
        stop_process(proc)
    times = sorted(v["first_render_seconds"] for v in results if "first_render_seconds" in v)
    responses = sorted(v["response_seconds"] for v in results if v["status"] == 200)
    refused = [v for v in results if v["status"] == 503]
    return {
        "viewers": viewers,
        "max_kernels": max_kernels,
        "pool_size": pool_size,
        "server_start_to_pool_ready_seconds": pool_ready,
        "served": sum(1 for v in results if v["status"] == 200),
        "refused_503": len(refused),
        "refused_pages_polite": all(v.get("full_page") for v in refused),
        "html_response_seconds": responses,
        "first_render_seconds": times,
        "first_render_median": times[len(times) // 2] if times else None,
        "first_render_max": times[-1] if times else None,
        "idle_pool": idle,
        "loaded": loaded,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--max-kernels", type=int, default=10)
    ap.add_argument("--pool-sizes", type=int, nargs="+", default=[2, 10])
    args = ap.parse_args()
    os.environ.setdefault("WORKBENCH_PROVENANCE", "off")
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-load-"))
    os.environ["WORKBENCH_CACHE"] = str(work)
    from workbench.samples.demo import sample_bundle_path

    try:
        bundle = sample_bundle_path(refresh=True)
        runs = [measure(bundle, args.viewers, args.max_kernels, p, work) for p in args.pool_sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "dashboard_concurrent_viewers",
        "bundle": "sample (city clinic)",
        "note": "viewers' Chromium runs on the same 2 cores as Voila and the kernels",
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }
    out = ROOT / "bench" / "results" / "dashboard_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        idle = r["idle_pool"]
        print(f"--- max {r['max_kernels']} kernels, pool {r['pool_size']}")
        print(f"pool ready {r['server_start_to_pool_ready_seconds']:.1f}s after start")
        print(
            f"idle: server {idle['server_rss_mb']:.0f} MB, {len(idle['kernel_rss_mb'])} kernels "
            f"{sum(idle['kernel_rss_mb']):.0f} MB"
        )
        print(f"{r['viewers']} viewers at once: {r['served']} served, {r['refused_503']} got 503")
        if r["first_render_seconds"]:
            print(
                "HTML response: " + ", ".join(f"{t:.1f}" for t in r["html_response_seconds"]) + " s"
            )
            print(
                f"first render: median {r['first_render_median']:.1f}s, "
                f"max {r['first_render_max']:.1f}s"
            )
        lo = r["loaded"]
        print(
            f"every page open: {lo['kernels']} kernels {lo['kernel_rss_mb_total']:.0f} MB "
            f"+ server {lo['server_rss_mb']:.0f} MB"
        )


async def _run_viewers(url: str, n: int, proc) -> tuple[list[dict], dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:

            async def one(i: int) -> dict:
                ctx = await browser.new_context()
                page = await ctx.new_page()
                t0 = time.perf_counter()
                resp = await page.goto(url, timeout=300_000, wait_until="commit")
                status = resp.status if resp else None
                out: dict = {"viewer": i, "status": status}
                out["response_seconds"] = time.perf_counter() - t0
                if status == 200:
                    await page.wait_for_function(RENDERED, timeout=300_000)
                    out["first_render_seconds"] = time.perf_counter() - t0
                else:
                    out["full_page"] = "The dashboard is full" in await page.content()
                return out

            viewers = await asyncio.gather(*(one(i) for i in range(n)))
            await asyncio.sleep(2)
            server, kernels = _family(proc.pid)
            rss = [k.memory_info().rss / 2**20 for k in kernels]
            loaded = {
                "kernels": len(kernels),
                "kernel_rss_mb": rss,
                "kernel_rss_mb_total": sum(rss),
                "server_rss_mb": server.memory_info().rss / 2**20,
            }
        finally:
            await browser.close()
    return list(viewers), loaded


if __name__ == "__main__":
    main()
