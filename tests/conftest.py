"""Shared fixtures: paths to the sample data, and the real-browser fixtures (Voila + Chromium).

Browser tests never skip silently when ``WORKBENCH_REQUIRE_BROWSER`` is set (the README's test
command and CI set it): a missing Chromium or Playwright is then a test failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: no per-example deadline (the 2-core CI machine may be loaded), and in CI a
# derandomized run, so a green local run predicts a green CI run; locally examples vary.
settings.register_profile(
    "workbench",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
)
settings.load_profile("workbench")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SHARED = ROOT.parent / "shared" / "data"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(os.environ.get("WORKBENCH_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def adult_csv() -> Path:
    path = SAMPLES / "adult" / "adult.csv"
    return path if path.exists() else SHARED / "adult" / "adult.csv"


def _require_or_skip(reason: str) -> None:
    if os.environ.get("WORKBENCH_REQUIRE_BROWSER"):
        pytest.fail(f"browser test cannot run: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def stop_process(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def browser_context():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require_or_skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _require_or_skip(f"{CHROMIUM} missing (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            yield ctx
        finally:
            ctx.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_errors = errors
    yield pg
    pg.close()


@pytest.fixture(scope="session")
def shot_dir() -> Path:
    d = ARTIFACTS / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def start_server(
    cmd: list[str], probe: str, log_path: Path, cwd: Path = ROOT, env: dict | None = None
) -> subprocess.Popen:
    """Start a server process in its own session and wait for ``probe`` to answer 200."""
    log = log_path.open("w")
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env or os.environ.copy(),
    )
    try:
        wait_http(probe, proc)
    except BaseException:
        stop_process(proc)
        log.close()
        raise RuntimeError(
            f"server failed to start: {cmd}\n{log_path.read_text()[-3000:]}"
        ) from None
    return proc


PYTHON = sys.executable


@pytest.fixture(autouse=True)
def _isolated_workbench_logs(tmp_path_factory, monkeypatch):
    """Keep provenance, gate, access and data-use logs (and the sample-bundle cache) out of the
    repo."""
    d = tmp_path_factory.mktemp("wb-logs")
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(d / "provenance.jsonl"))
    monkeypatch.setenv("WORKBENCH_GATE_LOG", str(d / "gate.jsonl"))
    monkeypatch.setenv("WORKBENCH_ACCESS_LOG", str(d / "access.jsonl"))
    monkeypatch.setenv("WORKBENCH_USE_LOG", str(d / "use.jsonl"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "wb-cache"))


@pytest.fixture(scope="module")
def spark():
    """A local Spark session per test module (one definition for every Spark test; the
    session-end fixture ends PySpark's JVM). A missing PySpark or Java fails, never skips.

    Per module, not per session: ``workbench dp release --engine spark`` stops the session it
    used, as a CLI command must, and a test checks that.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession  # ImportError fails the test: no silent skip

    session = (
        SparkSession.builder.master("local[1]")
        .appName("workbench-tests")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _wait_port(port: int, proc: subprocess.Popen, log_path: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"Spark Connect server exited with {proc.returncode}:\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"Spark Connect server not listening on {port} after {timeout}s")


@pytest.fixture(scope="session")
def spark_connect_url(tmp_path_factory):
    """One local Spark Connect server for the whole session (``sc://127.0.0.1:PORT``).

    Started as its own process group with the ``spark-submit`` that ships in the pyspark wheel
    (what ``sbin/start-connect-server.sh`` runs), and always stopped: SIGTERM to the group, then
    SIGKILL. A missing PySpark, Java or Connect jar fails, never skips.
    """
    import pyspark

    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    port = free_port()
    log_path = tmp_path_factory.mktemp("spark-connect") / "server.log"
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    cmd = [
        str(submit),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name",
        "workbench-tests-connect",
        "--master",
        "local[1]",
        "--driver-memory",
        "1g",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "spark-internal",
    ]
    with log_path.open("w") as log:
        # its own working directory, as a remote server has: a relative path from the client
        # must not resolve there
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=log_path.parent,
        )
    try:
        _wait_port(port, proc, log_path)
        yield f"sc://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def spark_connect(spark_connect_url):
    """A Spark Connect client session on the session's local Connect server."""
    # the Connect builder itself: the generic one refuses while a classic session runs
    from pyspark.sql.connect.session import SparkSession

    session = SparkSession.builder.remote(spark_connect_url).getOrCreate()
    yield session
    session.stop()


def full_screenshot(page, path: Path, width: int = 1280) -> None:
    """Screenshot the whole page; Voila scrolls inside its own container, so grow the viewport."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 100, 16000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)


_SESSION_MARK = "WORKBENCH_TEST_SESSION"


def _processes_marked(token: str) -> list:
    """Processes (other than this one) whose environment carries this session's mark."""
    import psutil

    needle = f"{_SESSION_MARK}={token}"
    found = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == os.getpid():
            continue
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if f"{_SESSION_MARK}={env.get(_SESSION_MARK)}" == needle:
            found.append(proc)
    return found


def _stop_spark_gateway() -> None:
    """End PySpark's JVM: ``SparkSession.stop()`` keeps it until the interpreter exits.

    The JVM exits when its stdin closes (PySpark's gateway watches it for exactly this).
    """
    pyspark = sys.modules.get("pyspark")
    gateway = getattr(getattr(pyspark, "SparkContext", None), "_gateway", None)
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    pyspark.SparkContext._gateway = None
    pyspark.SparkContext._jvm = None
    if proc is not None:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session", autouse=True)
def _no_process_survives():
    """Fail the session if a process the suite started (Voila, kernels, Chromium, Java...) outlives it.

    Every child inherits a unique environment mark, so the check finds orphans too and ignores
    processes of other test runs on the machine. Survivors are killed, then reported.
    """
    import psutil

    token = f"{os.getpid()}-{time.time_ns()}"
    os.environ[_SESSION_MARK] = token
    yield
    _stop_spark_gateway()
    deadline = time.monotonic() + 20  # servers stopped by SIGTERM may still be shutting down
    left = _processes_marked(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _processes_marked(token)
    described = []
    for proc in left:
        try:
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
            proc.kill()
        except psutil.Error:
            pass
    os.environ.pop(_SESSION_MARK, None)
    assert not described, "processes started by the tests outlived the session:\n" + "\n".join(
        described
    )
