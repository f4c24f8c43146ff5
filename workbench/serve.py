"""Launch the read-only Voila dashboard and JupyterLab; export the dashboard as one static page.

Voila runs as a subprocess (the core never imports it): ``python -m workbench.ui.serving``, which
is Voila with kernels bounded by ``max_kernels``, a Host-header check, no CDN request and no
traceback to the browser (see :mod:`workbench.ui.serving`). On top of the posture measured in
``shared/guides/notebooks-and-voila.md`` (loopback only, sources stripped, tracebacks hidden, a
file allowlist limited to images, idle kernels culled because closed tabs leak them: voila#1458),
a pool of preheated kernels serves the first viewers within seconds.

Servers run in their own process group; :func:`run_foreground` forwards SIGTERM/SIGINT/SIGHUP to
that group, so stopping ``workbench dashboard`` stops Voila and its kernels.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .errors import ConfigError, ParameterError

__all__ = [
    "notebooks_dir",
    "dashboard_notebook",
    "voila_command",
    "lab_command",
    "run_foreground",
    "stop_process_group",
    "export_static",
    "IMAGE_ALLOWLIST",
    "DEFAULT_MAX_KERNELS",
    "DEFAULT_POOL_SIZE",
    "PLOTLYJS_ROUTE",
    "app_command",
    "interactive_notebooks",
    "browser_wanted",
    "plotlyjs_file",
    "plotlyjs_url",
]

IMAGE_ALLOWLIST = r".*\.(png|jpg|jpeg|gif|svg)$"
# About ten reviewers on a 2-core, 23 GB machine: ~270 MB per kernel, 2 of them kept preheated.
DEFAULT_MAX_KERNELS = 10
DEFAULT_POOL_SIZE = 2
#: Where the dashboard server serves plotly.js (one cacheable copy instead of 4.6 MB per page).
PLOTLYJS_ROUTE = "workbench/static/plotly.min.js"
# The dashboard needs no JupyterLab extension but the widget manager: jupyterlab-plotly alone
# made every page load another 4.8 MB bundle (the review draws its charts with the served copy).
DASHBOARD_EXTENSION_DENYLIST = ("jupyterlab-plotly",)
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the source checkout the package runs from."""
    candidate = Path(__file__).resolve().parents[1] / "notebooks"
    if not candidate.is_dir():
        raise ConfigError(
            f"notebooks folder not found at {candidate}; run from a source checkout "
            "(git clone, then `bash .ci/setup.sh start`)"
        )
    return candidate


def dashboard_notebook() -> Path:
    """Path of the ethics-review dashboard notebook."""
    path = notebooks_dir() / "dashboard" / "ethics_review.ipynb"
    if not path.exists():
        raise ConfigError(f"dashboard notebook missing: {path}")
    return path


def plotlyjs_file() -> Path:
    """The plotly.min.js that the installed plotly ships (the one its figures expect)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.origin:
        raise ConfigError("plotly is not installed; install the 'app' extra")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"plotly.js missing from the plotly package: {path}")
    return path


def plotlyjs_url(base_url: str = "/") -> str:
    """The served plotly.js URL, versioned by content hash so browsers may cache it for a year."""
    import hashlib

    digest = hashlib.sha256(plotlyjs_file().read_bytes()).hexdigest()[:16]
    return f"{base_url.rstrip('/')}/{PLOTLYJS_ROUTE}?v={digest}"


def interactive_notebooks() -> list[Path]:
    """The numbered notebooks (``01_...ipynb`` to ``99_...``), found by glob so that a notebook a
    later version adds is served without a code change."""
    found = sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise ConfigError(f"no notebook named NN_*.ipynb in {notebooks_dir()}")
    return found


def app_command(
    port: int,
    *,
    pool_size: int = 1,
    max_kernels: int | None = None,
    cull_idle_seconds: int = 3600,
) -> list[str]:
    """Voila serving every interactive notebook, each with ``pool_size`` preheated kernels.

    A preheated kernel has already run its notebook, so opening it shows the rendered page at
    once. ``max_kernels`` defaults to the preheated pools plus one open page per notebook; the
    ethics-review dashboard (``workbench dashboard``) is not preheated here.
    """
    notebooks = interactive_notebooks()
    if max_kernels is None:
        max_kernels = len(notebooks) * (pool_size + 1)
    if pool_size * len(notebooks) > max_kernels:
        raise ParameterError(
            "max_kernels",
            max_kernels,
            f"at least pool_size x notebooks = {pool_size * len(notebooks)}",
        )
    cmd = voila_command(
        notebooks_dir(),
        port,
        preheat=pool_size > 0,
        cull_idle_seconds=cull_idle_seconds,
        max_kernels=max_kernels,
        pool_size=pool_size,
    )
    cmd.insert(
        cmd.index("--no-browser") + 1, "--VoilaKernelManager.preheat_denylist=.*/dashboard/.*"
    )
    return cmd


def _check_capacity(max_kernels: int, pool_size: int) -> None:
    if max_kernels < 1:
        raise ParameterError("max_kernels", max_kernels, "at least 1")
    if not 0 <= pool_size <= max_kernels:
        raise ParameterError(
            "pool_size",
            pool_size,
            f"0 to max_kernels ({max_kernels}): preheated kernels count against max_kernels",
        )


def voila_command(
    notebook: Path,
    port: int,
    *,
    preheat: bool = True,
    cull_idle_seconds: int = 300,
    max_kernels: int = DEFAULT_MAX_KERNELS,
    pool_size: int = DEFAULT_POOL_SIZE,
    hostnames: Iterable[str] = (),
    extension_denylist: Iterable[str] = (),
    static_review: Path | None = None,
) -> list[str]:
    """Command line that serves ``notebook`` read-only on 127.0.0.1:``port``.

    ``max_kernels`` bounds the kernels alive at once (preheated ones included); past it a page
    request gets HTTP 503. ``hostnames`` are served besides ``localhost`` and loopback addresses
    (e.g. the name a reverse proxy forwards); any other ``Host`` header gets 403.
    ``extension_denylist``: JupyterLab extensions the page does not load; the dashboard passes
    :data:`DASHBOARD_EXTENSION_DENYLIST` (it draws no plotly widget), notebooks need them all.
    ``static_review``: a bundle whose review is served at ``/`` without a kernel (rendered once,
    for any number of viewers); the kernel-backed page then lives at ``/live``.
    """
    pool = pool_size if preheat else 0
    _check_capacity(max_kernels, pool)
    if cull_idle_seconds < 1:
        raise ParameterError("cull_idle_seconds", cull_idle_seconds, "at least 1")
    names = ["localhost", *hostnames]
    for name in names:
        if not name or any(c in name for c in "',[]\"\\ ") or len(name) > 253:
            raise ParameterError("host name", name, "a DNS name such as review.example")
    cmd = [
        sys.executable,
        "-m",
        "workbench.ui.serving",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.port_retries=0",  # a busy port is an error, not a silent move to another port
        "--Voila.ip=127.0.0.1",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--VoilaConfiguration.file_allowlist={IMAGE_ALLOWLIST}",
        f"--BoundedKernelManager.max_kernels={max_kernels}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        f"--MappingKernelManager.cull_interval={min(60, cull_idle_seconds)}",
        "--MappingKernelManager.cull_connected=True",
    ]
    cmd += [f"--WorkbenchVoila.local_hostnames={n}" for n in names]
    cmd += [f"--VoilaConfiguration.extension_denylist={n}" for n in extension_denylist]
    if static_review is not None:
        cmd.append(f"--WorkbenchVoila.static_review={static_review}")
    if pool:
        cmd += ["--preheat_kernel=True", f"--pool_size={pool}"]
    return cmd


#: JupyterLab settings (a config file, because ``None`` and dicts do not pass on a command line):
#: without notebook_shim's server extension (it reads the deprecated ``ServerApp.token``), with
#: the websocket ping timeout equal to its interval (tornado 6.5 warns when it is longer and
#: clamps it anyway), and no request to a third party (news feed, update check, PyPI).
LAB_CONFIG = Path(__file__).with_name("ui") / "jupyter_lab_config.json"


def browser_wanted(requested: bool = True) -> bool:
    """Whether to open a browser: asked for, not under CI or a test, and one can be found.

    Python's :mod:`webbrowser` decides what "can be found" means (a display and a browser, or a
    text browser); on a server without one the command prints its URL instead.
    """
    import webbrowser

    if not requested or any(
        os.environ.get(v) for v in ("CI", "PYTEST_CURRENT_TEST", "WORKBENCH_NO_BROWSER")
    ):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def lab_command(port: int | None = None, *, open_browser: bool = True) -> list[str]:
    """Command line that opens JupyterLab on ``notebooks/`` (see :data:`LAB_CONFIG`)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--config={LAB_CONFIG}",
        f"--notebook-dir={notebooks_dir()}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if port:
        cmd.append(f"--ServerApp.port={port}")
    if not browser_wanted(open_browser):
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def stop_process_group(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the group led by ``proc`` (its own session), then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; members that ignored SIGTERM go with SIGKILL
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return


class _Stop(Exception):
    pass


def run_foreground(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run a server in its own process group until it exits or we are asked to stop.

    SIGTERM, SIGINT and SIGHUP stop the whole group (Voila shuts its kernels down on SIGTERM;
    kernels also exit when their parent dies). Returns the server's exit code, or 0 when stopped
    by a signal.
    """

    def _raise(signum, frame):
        raise _Stop(signum)

    previous = {s: signal.signal(s, _raise) for s in _STOP_SIGNALS}
    proc = None
    try:
        proc = subprocess.Popen(list(cmd), env=dict(env) if env else None, start_new_session=True)
        return proc.wait()
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        for s in _STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)  # one clean stop, even if signals keep coming
        if proc is not None:
            stop_process_group(proc)
        for s, h in previous.items():
            signal.signal(s, h)


def export_static(bundle_path: str | Path, out: str | Path, forbidden: Iterable[str] = ()) -> Path:
    """Write the dashboard's content as one self-contained HTML file (no kernel, no CDN).

    The same sections as the dashboard, from :func:`workbench.review.report.render_html`, with plotly.js
    inlined; refused (:class:`workbench.review.bundle.LeakError`) if a ``forbidden`` value occurs.
    """
    from .review.report import write_report

    return write_report(bundle_path, out, plotlyjs="inline", forbidden=forbidden)
