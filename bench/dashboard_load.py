"""N reviewers opening the ethics-review dashboard at once, served from the preheated pool.

Starts ``workbench dashboard --max-kernels M --pool-size P`` on the sample bundle, waits for the
pool, then opens N pages concurrently in one headless Chromium (one browser context each) and
records, per viewer, the HTTP status and three times from the request:

* first render: the first screen is shown (verdict box visible; the verdict and tables are in
  the page HTML, so this needs neither the kernel connection nor plotly.js);
* widgets live: Voila's JavaScript has connected the page's widgets to its kernel;
* first chart: the viewer scrolls to the first chart as soon as the first screen shows, and
  the chart is drawn (plotly.js fetched from the server's cacheable URL, then drawn).
 Memory: RSS
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
FIRST_SCREEN = ".wb-verdict"
WIDGETS = ".jupyter-widgets"
CHART = ".js-plotly-plot .main-svg"


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


def measure(
    bundle: Path, viewers: int, max_kernels: int, pool_size: int, work: Path, path: str = ""
) -> dict:
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
        url = f"http://127.0.0.1:{port}/{path}"
        results, loaded = asyncio.run(_run_viewers(url, viewers, proc, live=bool(path)))
    finally:
        stop_process(proc)
    times = sorted(v["first_render_seconds"] for v in results if "first_render_seconds" in v)
    charts = sorted(v["first_chart_seconds"] for v in results if "first_chart_seconds" in v)
    live = sorted(v["widgets_live_seconds"] for v in results if "widgets_live_seconds" in v)
    responses = sorted(v["response_seconds"] for v in results if v["status"] == 200)
    refused = [v for v in results if v["status"] == 503]
    return {
        "page": "/" + path,
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
        "first_chart_seconds": charts,
        "first_chart_median": charts[len(charts) // 2] if charts else None,
        "widgets_live_seconds": live,
        "widgets_live_median": live[len(live) // 2] if live else None,
        "load_average_during": os.getloadavg(),
        "idle_pool": idle,
        "loaded": loaded,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--max-kernels", type=int, default=10)
    ap.add_argument("--pool-sizes", type=int, nargs="+", default=[2, 10])
    ap.add_argument(
        "--pages",
        nargs="+",
        default=["", "live"],
        help="'' = the static review at / (no kernel), 'live' = the kernel-backed page",
    )
    args = ap.parse_args()
    os.environ.setdefault("WORKBENCH_PROVENANCE", "off")
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-load-"))
    os.environ["WORKBENCH_CACHE"] = str(work)
    from workbench.samples.demo import sample_bundle_path

    try:
        bundle = sample_bundle_path(refresh=True)
        runs = [
            measure(bundle, args.viewers, args.max_kernels, p, work, page)
            for page in args.pages
            for p in (args.pool_sizes if page else args.pool_sizes[:1])
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "dashboard_concurrent_viewers",
        "bundle": "sample (city clinic)",
        "note": "viewers' Chromium runs on the same 2 cores as Voila and the kernels",
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average": os.getloadavg()[0],
    }
    out = ROOT / "bench" / "results" / "dashboard_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        idle = r["idle_pool"]
        print(f"--- page {r['page']}: max {r['max_kernels']} kernels, pool {r['pool_size']}")
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
                f"max {r['first_render_max']:.1f}s; first chart median "
                f"{r['first_chart_median']:.1f}s max {r['first_chart_seconds'][-1]:.1f}s"
            )
            if r["widgets_live_seconds"]:
                print(
                    f"widgets live median {r['widgets_live_median']:.1f}s "
                    f"max {r['widgets_live_seconds'][-1]:.1f}s"
                )
        lo = r["loaded"]
        print(
            f"every page open: {lo['kernels']} kernels {lo['kernel_rss_mb_total']:.0f} MB "
            f"+ server {lo['server_rss_mb']:.0f} MB"
        )


async def _run_viewers(url: str, n: int, proc, live: bool) -> tuple[list[dict], dict]:
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
                    await page.wait_for_selector(FIRST_SCREEN, state="visible", timeout=300_000)
                    out["first_render_seconds"] = time.perf_counter() - t0
                    await page.locator(".wb-chart").first.scroll_into_view_if_needed()
                    await page.wait_for_selector(CHART, timeout=300_000)
                    out["first_chart_seconds"] = time.perf_counter() - t0
                    if live:
                        await page.wait_for_selector(WIDGETS, state="attached", timeout=300_000)
                        out["widgets_live_seconds"] = time.perf_counter() - t0
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
