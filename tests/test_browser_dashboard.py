"""End to end in Debian Chromium: the Voila ethics-review dashboard served by ``workbench dashboard``.

Checks that charts render, no code is shown, no JavaScript error occurs, no planted identifier
value reaches the page, and every request the page makes (websockets included) goes to the
dashboard's own origin; the static export (``--static``) requests nothing at all beyond its file.
Screenshots go to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import subprocess
import time
from urllib.parse import urlsplit

import pytest
from conftest import PYTHON, free_port, full_screenshot, start_server, stop_process
from test_bundle_report import _bundle, _planted_frame

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    df, planted = _planted_frame()
    bundle_path = _bundle(df).save(tmp / "bundle.json", forbidden=planted)
    port = free_port()
    proc = start_server(
        [
            PYTHON,
            "-m",
            "workbench",
            "dashboard",
            str(bundle_path),
            "--port",
            str(port),
            "--pool-size",
            "1",
        ],  # fmt: skip
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        tmp / "voila.log",
    )
    try:
        yield f"http://127.0.0.1:{port}/", planted, tmp / "voila.log", bundle_path
    finally:
        stop_process(proc)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme), parts.netloc


def _record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


def _grow_viewport(page) -> None:
    """Make the whole page visible at once, so that every lazily drawn chart is drawn."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 100, 16000)})


VERSION_WARNING = ("Unsatisfied version", "No satisfying version")


def _record_console(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    return messages


def test_dashboard_renders_charts_without_code_or_leaks(dashboard, page, shot_dir) -> None:
    url, planted, log, _ = dashboard
    requests = _record_requests(page)
    console = _record_console(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    t0 = time.monotonic()
    response = page.goto(url + "live", timeout=180_000, wait_until="commit")
    page.wait_for_selector(".wb-verdict", state="visible", timeout=180_000)
    first_render = time.monotonic() - t0
    page.screenshot(path=str(shot_dir / "dashboard_first_screen.png"))
    # the verdict and tables are in the page itself: small, no plotly.js inlined
    assert len(response.body()) < 1_000_000
    # charts below the fold wait until they come near the viewport (lazy)
    pending = page.locator(".wb-chart[data-wb-pending]").count()
    assert page.locator(".wb-chart").count() >= 3
    assert pending >= 1, "charts below the fold were drawn before they were needed"
    _grow_viewport(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=120_000
    )
    page.wait_for_timeout(1000)
    full_screenshot(page, shot_dir / "dashboard.png")
    # plotly.js came once, from the dashboard's own versioned, cacheable URL
    js = [u for u in requests if "plotly" in u]  # jupyterlab-plotly's 4.8 MB bundle is not loaded
    assert len(js) == 1 and "/workbench/static/plotly.min.js?v=" in js[0], js

    assert page.inner_text(".wb-title") == "Leak test"
    body = page.inner_text("body")
    assert "Re-identification risk" in body and "sample uniqueness" in body
    # the verdict box comes first, above the risk section, in plain words
    verdict = page.locator(".wb-verdict")
    assert verdict.count() == 1 and "No policy was checked" in verdict.inner_text()
    risk_top = page.locator("section#risk").bounding_box()["y"]
    assert verdict.bounding_box()["y"] < risk_top
    # before and after for every measure: a column per side (this bundle has no "after")
    assert "as assessed (no transformation)" in body and "diagnosis: distinct l" in body
    # bars really drawn in the class-size chart, not empty axes
    assert page.locator(".js-plotly-plot g.point").count() >= 5
    # read-only: no code editors or input areas
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor, .CodeMirror").count() == 0
    html = page.content()
    assert "ReviewDashboard" not in html and "load_bundle_from_env" not in html
    leaked = [v for v in planted if v in html]
    assert leaked == [], f"{len(leaked)} identifier values reached the dashboard page"
    assert page.js_errors == [], page.js_errors
    # a privacy dashboard makes no third-party request (Voila's lab template used a CDN)
    assert any("/api/kernels/" in u for u in requests)  # the websocket was recorded too
    foreign = sorted({u for u in requests if _origin(u) != _origin(url)})
    assert foreign == [], foreign
    # JupyterLab extensions built for another JupyterLab than Voila's front end (regression:
    # 16 "Unsatisfied version" warnings with voila 0.5.13 and jupyterlab_widgets 3.0.17)
    versions = [m for m in console if any(w in m for w in VERSION_WARNING)]
    assert versions == [], versions
    print(f"dashboard first render {first_render:.1f}s, {len(requests)} requests, all same-origin")


def test_static_review_at_root(dashboard, page, shot_dir) -> None:
    """`/`: the review without a kernel (no websocket), charts drawn lazily from the served
    plotly.js, every request same-origin, a link to the live page."""
    url, planted, _, _ = dashboard
    requests = _record_requests(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    t0 = time.monotonic()
    page.goto(url, timeout=60_000, wait_until="commit")
    page.wait_for_selector(".wb-verdict", state="visible", timeout=60_000)
    first_render = time.monotonic() - t0
    page.screenshot(path=str(shot_dir / "dashboard_static_root_first_screen.png"))
    assert page.locator("a[href='/live']").count() == 1
    _grow_viewport(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
    )
    full_screenshot(page, shot_dir / "dashboard_static_root.png")
    assert not any("/api/kernels" in u for u in requests)  # no kernel, no websocket
    assert len([u for u in requests if "plotly" in u]) == 1
    assert sorted({u for u in requests if _origin(u) != _origin(url)}) == []
    assert [v for v in planted if v in page.content()] == []
    assert page.js_errors == [], page.js_errors
    print(f"static review first screen {first_render:.2f}s")


def test_static_export_requests_nothing(dashboard, page, shot_dir, tmp_path) -> None:
    """The export opens from disk: charts drawn, no request beyond the file itself."""
    _, planted, _, bundle_path = dashboard
    out = tmp_path / "review.html"
    subprocess.run(
        [PYTHON, "-m", "workbench", "dashboard", str(bundle_path), "--static", str(out)],
        check=True,
        timeout=300,
    )
    requests = _record_requests(page)
    page.goto(out.as_uri(), timeout=60_000)
    _grow_viewport(page)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
    )
    assert page.locator(".js-plotly-plot g.point").count() >= 5
    full_screenshot(page, shot_dir / "dashboard_static.png")
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
    text = page.content()
    assert [v for v in planted if v in text] == []
    assert page.js_errors == [], page.js_errors


def test_dashboard_refuses_non_image_files(dashboard) -> None:
    """The file allowlist serves images only; a notebook or data file is not downloadable."""
    import urllib.error
    import urllib.request

    url, _, _, _ = dashboard
    for path in ("voila/files/ethics_review.ipynb", "voila/files/../../pyproject.toml"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + path, timeout=10)
        assert err.value.code in (403, 404)
