"""End to end in Debian Chromium: notebook 06 generates, compares, saves, then refuses.

The officer presses "Spend and generate": a busy message shows while OpenDP runs, then the
synthetic table and its 5-anonymous alternative are compared side by side; the table, bundle and
report are saved; a second generation is refused (the housing policy's delta is spent) and the
page says so. The page is checked for layout at 1280 px and screenshotted.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import ROOT, free_port, full_screenshot, start_server, stop_process
from test_browser_tuner import OFFSCREEN

from workbench.dp import Ledger
from workbench.serve import voila_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def synth_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synth")
    nb = json.loads((ROOT / "notebooks" / "06_synthetic_data.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if "ledger_path =" in src:
            src = src.replace(
                'ledger_path = ".workbench/residents_ledger.jsonl"',
                f"ledger_path = {str(tmp / 'ledger.jsonl')!r}",
            )
            src = src.replace(
                'output_dir = ".workbench/output"', f"output_dir = {str(tmp / 'out')!r}"
            )
            assert str(tmp) in src
            cell["source"] = src
    (tmp / "06.ipynb").write_text(json.dumps(nb))
    port = free_port()
    proc = start_server(
        voila_command(tmp / "06.ipynb", port, preheat=False),
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        tmp / "voila.log",
        cwd=tmp,
    )
    try:
        yield f"http://127.0.0.1:{port}/", tmp
    finally:
        stop_process(proc)


def test_generate_compare_save_and_refuse_in_the_browser(synth_page, page, shot_dir):
    url, tmp = synth_page
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".wb-synth-generate", timeout=300_000)
    assert "discovered under DP" in page.inner_text(".wb-synth-domains")
    assert not (tmp / "ledger.jsonl").exists()  # choosing spends nothing

    t0 = time.monotonic()
    page.locator(".wb-synth-generate").click()
    page.wait_for_function(
        "() => (document.querySelector('.wb-synth-busy') || {}).innerText?.includes('synthesizing')",
        timeout=60_000,
    )
    page.wait_for_selector(".wb-synth-compare table", timeout=900_000)
    print(f"06 generate and judge {time.monotonic() - t0:.1f}s")
    page.wait_for_function(
        "() => document.querySelector('.wb-synth-busy').innerText.trim() === ''", timeout=60_000
    )
    table = page.inner_text(".wb-synth-compare")
    assert "5-anonymous release" in table and "singling out risk" in table
    assert "voter-roll linkage" in table
    assert "not people" in page.inner_text(".wb-synth-uniques")
    page.wait_for_selector(
        ".wb-synth ~ * .js-plotly-plot, .wb-synth .js-plotly-plot", timeout=60_000
    )
    assert Ledger(tmp / "ledger.jsonl").state().spent.epsilon == pytest.approx(1.0)

    page.set_viewport_size({"width": 1280, "height": 1000})
    page.wait_for_timeout(500)
    page.locator(".wb-synth-compare").screenshot(path=str(shot_dir / "synth_compare_1280.png"))
    offscreen = page.evaluate(OFFSCREEN)
    assert offscreen == [], "\n".join(offscreen)
    full_screenshot(page, shot_dir / "synth_panel.png")

    page.locator(".wb-synth-save").click()
    page.wait_for_function(
        "() => document.querySelector('.wb-synth-saved').innerText.includes('synth-bundle.json')",
        timeout=120_000,
    )
    out = tmp / "out"
    for name in ("housing.synth.csv", "housing.synth-bundle.json", "housing.synth-report.html"):
        assert (out / name).exists(), name

    page.locator(".wb-synth-generate").click()  # delta 1e-6 is the whole budget's delta
    page.wait_for_selector(".wb-synth-refused", timeout=300_000)
    assert "Refused" in page.inner_text(".wb-synth-outcome")
    assert Ledger(tmp / "ledger.jsonl").state().spent.epsilon == pytest.approx(1.0)
    page.locator(".wb-synth-outcome").screenshot(path=str(shot_dir / "synth_refused.png"))
    assert page.js_errors == [], page.js_errors
