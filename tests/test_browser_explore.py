"""End to end in Debian Chromium: ``01_explore_risk`` served by Voila reacts to the browser.

Changing the quasi-identifier selection in the page must update the numbers and the class-size
chart to exactly what ``assess`` computes for the new selection.
"""

from __future__ import annotations

import time

import pytest
from conftest import ROOT, free_port, full_screenshot, start_server, stop_process

from workbench.loading.readers import load
from workbench.review import charts
from workbench.risk import assess
from workbench.samples import sample_path
from workbench.serve import voila_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

HIST_Y = (
    "() => { const gd = document.querySelector("
    " '.wb-class-size-histogram.js-plotly-plot, .wb-class-size-histogram .js-plotly-plot');"
    " return gd && gd.data ? Array.from(gd.data[0].y) : null; }"
)


@pytest.fixture(scope="module")
def explore_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explore")
    port = free_port()
    cmd = voila_command(ROOT / "notebooks" / "01_explore_risk.ipynb", port, preheat=False)
    proc = start_server(
        cmd,
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        tmp / "voila.log",
        cwd=ROOT / "notebooks",
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(proc)


def _expected(qis: list[str]) -> tuple[int, list[int]]:
    df = load(sample_path("clinic")).to_pandas()
    profile = assess(df, qis)
    fig = charts.class_size_histogram(profile)
    return profile.min_class_size, [int(v) for v in fig.data[0].y]


def test_changing_qis_in_the_browser_updates_numbers_and_chart(explore_url, page, shot_dir):
    t0 = time.monotonic()
    page.goto(explore_url, timeout=180_000)
    page.wait_for_selector(".wb-risk-summary .wb-k", timeout=180_000)
    page.wait_for_function(f"() => ({HIST_Y})() !== null", timeout=120_000)
    print(f"01_explore_risk first render {time.monotonic() - t0:.1f}s")
    full_screenshot(page, shot_dir / "explore_before.png")
    page.set_viewport_size({"width": 1280, "height": 1000})

    picker = page.locator(".wb-qi-picker")
    checked = (
        "el => Array.from(el.querySelectorAll('.wb-check'))"
        ".filter(c => c.querySelector('input').checked).map(c => c.innerText.trim()).sort()"
    )
    initial = picker.evaluate(checked)
    k0, y0 = _expected(["patient_dob", "sex", "postal_code"])
    assert initial == ["patient_dob", "postal_code", "sex"]
    assert page.inner_text(".wb-risk-summary .wb-k").strip() == f"k = {k0}"
    assert page.evaluate(HIST_Y) == y0

    # the officer drops the date of birth with one plain click: the other QIs must stay
    # (regression: the <select multiple> kept only the clicked QI)
    picker.locator(".wb-check", has_text="patient_dob").locator("input").click()
    k1, y1 = _expected(["sex", "postal_code"])
    assert k1 != k0 and y1 != y0
    page.wait_for_function(
        "(k) => document.querySelector('.wb-risk-summary .wb-k').innerText.trim() === k",
        arg=f"k = {k1}",
        timeout=60_000,
    )
    page.wait_for_function(
        f"(y) => JSON.stringify(({HIST_Y})()) === JSON.stringify(y)", arg=y1, timeout=60_000
    )
    assert picker.evaluate(checked) == ["postal_code", "sex"]
    page.locator(".wb-risk-summary").scroll_into_view_if_needed()
    picker.screenshot(path=str(shot_dir / "explore_qi_picker_after_click.png"))
    page.wait_for_timeout(500)
    full_screenshot(page, shot_dir / "explore_after.png")
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0
    assert page.js_errors == [], page.js_errors
