"""``workbench app`` and ``workbench lab`` (issue #13, "Serve it").

* ``workbench app`` serves every interactive notebook (found by glob, so later notebooks join
  without a code change) in Voila, from preheated kernels, on loopback only, with no request
  to a third party, and SIGTERM stops its whole process group (tested in Chromium).
* ``workbench lab`` starts JupyterLab with no warning in its log: notebook_shim's deprecated
  ``ServerApp.token`` read and tornado's websocket ping-timeout warning were the two found.
* Neither opens a browser under a test or CI, nor when none can be found.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request
import uuid
import webbrowser

import psutil
import pytest
from conftest import PYTHON, free_port, start_server, stop_process

from workbench import serve

pytestmark = pytest.mark.timeout(900)


# ---------------------------------------------------------------- opening a browser


class _FakeBrowser(webbrowser.BaseBrowser):
    def open(self, url, new=0, autoraise=True):  # pragma: no cover - never called
        return True


@pytest.mark.parametrize(
    ("requested", "env", "has_browser", "expected"),
    [
        (True, {}, True, True),
        (False, {}, True, False),  # --no-browser
        (True, {}, False, False),  # a server without any browser
        (True, {"CI": "1"}, True, False),
        (True, {"WORKBENCH_NO_BROWSER": "1"}, True, False),
        (True, {"PYTEST_CURRENT_TEST": "x"}, True, False),
    ],
)
def test_browser_opens_only_when_wanted_and_present(
    requested, env, has_browser, expected, monkeypatch
) -> None:
    for var in ("CI", "WORKBENCH_NO_BROWSER", "PYTEST_CURRENT_TEST"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)

    def get(using=None):
        if not has_browser:
            raise webbrowser.Error("could not locate runnable browser")
        return _FakeBrowser("fake")

    monkeypatch.setattr(webbrowser, "get", get)
    assert serve.browser_wanted(requested) is expected
    assert ("--no-browser" in serve.lab_command(8888, open_browser=requested)) is (not expected)


def test_under_pytest_no_browser_is_ever_opened() -> None:
    assert os.environ.get("PYTEST_CURRENT_TEST")
    assert serve.browser_wanted(True) is False
    assert "--no-browser" in serve.lab_command(8888)


# ---------------------------------------------------------------- JupyterLab's log

_WARNING = re.compile(r"^\[W |Warning:|warn", re.I | re.M)


def test_jupyterlab_starts_without_warnings(tmp_path) -> None:
    """Start `workbench lab`, load /lab, start a kernel and open its websocket: no warning.

    On 0.2 the log held "DeprecationWarning: ServerApp.token config is deprecated" (read by
    notebook_shim's server extension) and "The websocket_ping_timeout (90000) cannot be longer
    than the websocket_ping_interval (30000)" (tornado 6.5, on every kernel connection).
    """
    import websocket

    port, token = free_port(), uuid.uuid4().hex
    log = tmp_path / "lab.log"
    env = dict(os.environ, JUPYTER_TOKEN=token)
    proc = start_server(
        [PYTHON, "-m", "workbench", "lab", "--no-browser", "--port", str(port)],
        f"http://127.0.0.1:{port}/api/status?token={token}",
        log,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=120) as r:
            page = r.read().decode()
        config = json.loads(
            re.search(
                r'id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S
            ).group(1)  # fmt: skip
        )
        # no request to a third party: no news feed, no update check, no PyPI lookups
        assert config["news"] == {"disabled": True}
        assert config.get("extensionManager", {}).get("name") == "read-only"
        req = urllib.request.Request(
            f"{base}/api/kernels",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=120) as r:
            kernel = json.loads(r.read())["id"]
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?token={token}&session_id={uuid.uuid4().hex}",
            timeout=60,
        )
        time.sleep(2)
        ws.close()
    finally:
        stop_process(proc)
    text = log.read_text()
    assert "is running at" in text  # the log is the server's log
    # ipykernel's note that kernels talk over loopback TCP (IPC would leave socket files in the
    # notebooks folder) is the one warning kept; it is not about versions or configuration
    warnings = [
        line
        for line in text.splitlines()
        if _WARNING.search(line) and "Kernel is running over TCP" not in line
    ]
    assert warnings == [], warnings


# ---------------------------------------------------------------- workbench app, in Chromium


def _kernels(pid: int) -> list[psutil.Process]:
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in procs if "workbench.ui.dashboard_kernel" in " ".join(p.cmdline())]


def test_app_command_serves_every_numbered_notebook() -> None:
    """Notebooks are found by glob; the dashboard is served but not preheated."""
    names = [p.name for p in serve.interactive_notebooks()]
    assert names == sorted(names) and names[0].startswith("01_") and len(names) >= 5
    on_disk = sorted(p.name for p in serve.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    assert names == on_disk
    cmd = serve.app_command(8867, pool_size=1)
    assert cmd[3] == str(serve.notebooks_dir())  # tree mode: the folder, not one notebook
    assert f"--BoundedKernelManager.max_kernels={2 * len(names)}" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd and "--strip_sources=True" in cmd
    assert not any("extension_denylist" in c for c in cmd)  # notebooks need jupyterlab-plotly
    with pytest.raises(serve.ParameterError):
        serve.app_command(8867, pool_size=2, max_kernels=2 * len(names) - 1)
    assert serve.app_command(8867, pool_size=2, max_kernels=2 * len(names))


def test_app_serves_notebooks_from_preheated_kernels(page, shot_dir, tmp_path) -> None:
    """`workbench app`: the list of notebooks, notebook 01 from its preheated kernel, every
    request to the app's own origin, and SIGTERM stopping Voila and every kernel."""
    from test_browser_dashboard import VERSION_WARNING, _origin, _record_console, _record_requests

    port = free_port()
    log = tmp_path / "app.log"
    proc = start_server(
        [PYTHON, "-m", "workbench", "app", "--port", str(port), "--pool-size", "1"],
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        log,
    )
    url = f"http://127.0.0.1:{port}/"
    n = len(serve.interactive_notebooks())
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:  # every pool filled, and the notebooks executed
            if log.read_text().count("is filled with 1 kernel") >= n:
                break
            time.sleep(2)
        assert log.read_text().count("is filled with 1 kernel") == n, log.read_text()[-3000:]
        assert "dashboard/ethics_review.ipynb is filled" not in log.read_text()
        requests = _record_requests(page)
        console = _record_console(page)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url, timeout=120_000)
        page.wait_for_selector("text=01_explore_risk.ipynb", timeout=60_000)
        listed = page.inner_text("body")
        for nb in serve.interactive_notebooks():
            assert nb.name in listed
        page.screenshot(path=str(shot_dir / "app_notebooks.png"))
        t0 = time.monotonic()
        page.goto(url + "voila/render/01_explore_risk.ipynb", timeout=120_000)
        page.wait_for_selector(".jupyter-widgets", timeout=120_000)
        first_render = time.monotonic() - t0
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shot_dir / "app_01_explore_risk.png"))
        assert "Using pre-heated kernel" in log.read_text()
        assert "1. Dataset" in page.inner_text("body")
        assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0  # no code
        # blob: URLs are objects the page made itself (their origin is the app's)
        foreign = sorted({u for u in requests if _origin(u.removeprefix("blob:")) != _origin(url)})
        assert foreign == [], foreign
        assert [m for m in console if any(w in m for w in VERSION_WARNING)] == []
        print(f"workbench app: notebook 01 first render {first_render:.1f}s (preheated)")
        family = psutil.Process(proc.pid).children(recursive=True)
        assert len(_kernels(proc.pid)) >= n
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        finally:
            stop_process(proc)
    assert code == 0
    _, alive = psutil.wait_procs(family, timeout=20)
    assert alive == [], [" ".join(p.cmdline())[:100] for p in alive]
