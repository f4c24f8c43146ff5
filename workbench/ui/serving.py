"""The Voila server behind ``workbench dashboard``: bounded kernels, loopback Host names, no CDN.

Stock Voila starts one kernel (~270 MB) per unauthenticated ``GET /``, accepts any ``Host``
header (it sets ``allow_remote_access``) and its ``lab`` template loads Font Awesome from a
public CDN. :class:`WorkbenchVoila` is Voila with four changes, each tested in
``tests/test_serve.py``:

* **Bounded kernels.** :class:`BoundedKernelManager` refuses to start a kernel when
  ``max_kernels`` are alive or starting (preheated pool included), and the preheated pool is
  refilled only into free slots. A page request that finds neither a preheated kernel nor a free
  slot gets a polite HTTP 503 page (no kernel, no notebook) pointing to the static export.
* **Host check.** jupyter_server's own ``check_host`` is switched back on: loopback addresses and
  ``local_hostnames`` (``localhost`` unless the operator adds names) are served, any other
  ``Host`` gets 403, which defeats DNS rebinding.
* **No third-party request.** A template that extends Voila's ``lab`` template without its two
  CDN stylesheets (the icons Voila needs are bundled in its own static files).
* **No traceback to the browser.** Kernels run :mod:`workbench.ui.dashboard_kernel`, which keeps
  tracebacks (malformed widget messages, comm errors) in the server log.

Voila config files (``voila.json`` in the working directory or the Jupyter config path) are not
read, so a stray file cannot undo these settings. Runs only inside the Voila subprocess.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import ipaddress
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer, List, Unicode, default
from voila import app as voila_app
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

__all__ = [
    "BoundedKernelManager",
    "DashboardFull",
    "WorkbenchKernelSpecManager",
    "WorkbenchVoila",
    "FULL_PAGE",
    "host_allowed",
    "TEMPLATE_DIR",
]

TEMPLATE_DIR = Path(__file__).with_name("voila_template")
RETRY_AFTER_SECONDS = 30
WARMING_WAIT_SECONDS = 60  # how long a viewer waits for a preheated kernel still warming up

FULL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard full</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222}}</style>
</head><body>
<h1 class="wb-full">The dashboard is full</h1>
<p>All {max_kernels} review sessions of this dashboard are in use. Please try again in a minute
(sessions are freed after {idle_minutes} minutes without activity).</p>
<p>{static_line}</p>
</body></html>
"""


class DashboardFull(web.HTTPError):
    """Raised instead of starting a kernel beyond ``max_kernels`` (rendered as HTTP 503)."""

    def __init__(self) -> None:
        super().__init__(503, "dashboard full: no free kernel slot")


class _Ticket:
    """A viewer's reserved kernel slot, held from admission until its kernel starts."""

    used = False


# Set by the page handler for the duration of one request; start_kernel runs in that context.
_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar("_TICKET", default=None)


class BoundedKernelManager(AsyncMappingKernelManager):
    """A kernel manager that never holds more than ``max_kernels`` kernels.

    The count covers running kernels, kernels being started and slots reserved by admitted
    viewers (admission reserves a slot synchronously, so concurrent page requests cannot
    overshoot, and a viewer admitted first is not crowded out by a pool refill).
    """

    max_kernels = Integer(
        10, config=True, help="Most kernels alive at once, preheated ones included."
    )

    def __init__(self, **kwargs):
        self._starting = 0  # start_kernel calls in progress
        self._reserved = 0  # admitted viewers whose kernel start has not begun
        self._started: set[str] = set()  # kernel ids this manager started
        super().__init__(**kwargs)

    def occupied(self) -> int:
        """Kernel slots in use: our kernels alive, starts in progress and viewer reservations.

        A start's slot moves from ``_starting`` to ``_started`` in one step (no ``await``
        between), so no kernel is counted twice or missed; kernels removed by any path (culling,
        death, shutdown) drop out because only ids still known to the manager count.
        """
        self._started &= set(self._kernels)
        return len(self._started) + self._starting + self._reserved

    def has_free_slot(self) -> bool:
        return self.occupied() < self.max_kernels

    def reserve(self) -> _Ticket | None:
        """Reserve a slot for a viewer about to start a kernel, or None when full."""
        if not self.has_free_slot():
            return None
        self._reserved += 1
        return _Ticket()

    def release(self, ticket: _Ticket) -> None:
        """Give back a reservation that no kernel start used."""
        if not ticket.used:
            ticket.used = True
            self._reserved -= 1

    async def start_kernel(self, *args, **kwargs):
        ticket = _TICKET.get()
        viewer = (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "False"
        if viewer and ticket is not None and not ticket.used:
            self.release(ticket)  # the reserved slot becomes this kernel's slot
        elif not self.has_free_slot():
            self.log.warning("dashboard full: %d kernel(s), refusing to start one", self.occupied())
            raise DashboardFull()
        self._starting += 1
        kernel_id = None
        try:
            kernel_id = await super().start_kernel(*args, **kwargs)
            return kernel_id
        finally:
            if kernel_id is not None:
                self._started.add(kernel_id)
            self._starting -= 1


class _CappedPool:
    """Mixed in before Voila's pooling kernel manager: refill the pool only into free slots."""

    def _purge_failed(self, notebook_name: str | None) -> None:
        pool = self._pools.get(notebook_name, [])
        pool[:] = [t for t in pool if not (t.done() and (t.cancelled() or t.exception()))]

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs):
        self._purge_failed(notebook_name)
        pools = self.kernel_pools_config
        config = dict(pools.get(notebook_name, pools.get("default", {})))
        wanted = int(config.get("pool_size", 1))
        pool = self._pools.get(notebook_name, [])
        # pool tasks not finished may not have started their kernel yet: count them as taken
        unfinished = sum(1 for t in pool if not t.done())
        room = max(self.max_kernels - self.occupied() - unfinished, 0)
        config["pool_size"] = min(wanted, len(pool) + room)
        self.kernel_pools_config = {**pools, notebook_name: config}
        try:
            super().fill_if_needed(delay=delay, notebook_name=notebook_name, **kwargs)
        finally:
            self.kernel_pools_config = pools

    async def _initialize(self, notebook_path, kernel_id=None, **kwargs):
        if kernel_id is None and not self.has_free_slot():
            # a refill that found no room (viewers come first): leave the pool quietly,
            # unless a viewer already took this task from the pool
            pool = self._pools.get(notebook_path, [])
            me = asyncio.current_task()
            if me in pool:
                pool.remove(me)
                self.log.info("pool refill skipped: %d kernel slot(s) in use", self.occupied())
                return None
            raise DashboardFull()
        return await super()._initialize(notebook_path, kernel_id, **kwargs)

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        out = await super().shutdown_kernel(kernel_id, *args, **kwargs)
        if not getattr(self, "_stopping", False):
            # a slot was freed: refill the one notebook's pool, or each pool (tree mode)
            for name in [self.notebook_path] if self.notebook_path else list(self._pools):
                self.fill_if_needed(notebook_name=name)
        return out

    async def shutdown_all(self, *args, **kwargs):
        self._stopping = True
        return await super().shutdown_all(*args, **kwargs)

    def get_pool_size(self, notebook_name: str | None) -> int:
        """Preheated kernels ready now (Voila takes its pool path only when this is > 0)."""
        pool = self._pools.get(notebook_name, [])
        return sum(1 for t in pool if t.done() and not t.cancelled() and t.exception() is None)

    def pooled_kernel_ready(self, notebook_name: str | None) -> bool:
        """Whether a preheated kernel is ready now; if so, it is the next one handed out.

        A viewer never waits on a refill still in progress: that refill may find no free slot
        (viewers with reservations come first), so such a viewer reserves its own slot instead.
        """
        self._purge_failed(notebook_name)
        pool = self._pools.get(notebook_name, [])
        pool.sort(key=lambda t: not t.done())  # stable: ready kernels first, in pool order
        return bool(pool) and pool[0].done()


def host_allowed(host: str, names: Iterable[str]) -> bool:
    """Whether a ``Host`` header names this server: a loopback address or one of ``names``.

    The same rule as jupyter_server's ``check_host``, applied to every handler (Voila's static
    file handlers skip jupyter_server's check).
    """
    match = re.fullmatch(r"(.*?)(:\d+)?", host or "")
    name = match.group(1) if match else ""
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name.lower() in {n.lower() for n in names}


class _HostChecked:
    """Mixed into every handler: 403 before anything else when the Host is not ours."""

    def prepare(self, *args, **kwargs):
        if not host_allowed(self.request.host, self.settings.get("local_hostnames", ())):
            raise web.HTTPError(403, "Host header not allowed")
        return super().prepare(*args, **kwargs)


class WorkbenchKernelSpecManager(KernelSpecManager):
    """Only the Python kernel, launched through :mod:`workbench.ui.dashboard_kernel`."""

    def get_kernel_spec(self, kernel_name: str):
        if kernel_name != "python3":
            raise NoSuchKernel(kernel_name)
        spec = super().get_kernel_spec(kernel_name)
        spec.argv = [
            sys.executable,
            "-m",
            "workbench.ui.dashboard_kernel",
            "-f",
            "{connection_file}",
        ]
        return spec


class BoundedVoilaHandler(TornadoVoilaHandler):
    """Voila's page handler, answering 503 (no kernel started) when the dashboard is full."""

    def _full(self) -> None:
        km = self.kernel_manager
        self.log.warning(
            "dashboard full: %d of %d kernel slots in use (%d reserved)",
            km.occupied(),
            km.max_kernels,
            km._reserved,
        )
        self.set_status(503)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.set_header("Cache-Control", "no-store")
        idle = int(getattr(km, "cull_idle_timeout", 0) or 0)
        self.finish(
            FULL_PAGE.format(
                max_kernels=html.escape(str(km.max_kernels)),
                idle_minutes=max(idle // 60, 1),
                static_line=(
                    "The same review without a session, for any number of readers: "
                    f"<a href='{html.escape(self.base_url)}'>the static page</a>."
                    if self.settings.get("static_review")
                    else "For a larger audience, ask the dashboard's operator for the static "
                    "export of the same page (<code>workbench dashboard BUNDLE --static "
                    "review.html</code>): the same tables and charts in one file, no server "
                    "needed."
                ),
            )
        )

    async def _wait_for_warming_kernel(self, km, notebook: str | None) -> bool:
        """No free slot, but a preheated kernel may be almost ready: wait for it (bounded)."""
        warming = [t for t in getattr(km, "_pools", {}).get(notebook, []) if not t.done()]
        if not warming:
            return False
        await asyncio.wait(warming[:1], timeout=WARMING_WAIT_SECONDS)
        return km.pooled_kernel_ready(notebook)

    @web.authenticated
    async def get(self, path=None):
        if self.settings.get("static_review") and path == LIVE_PATH:
            path = None  # `/` is the static review: the notebook's page lives at /live
        km = self.kernel_manager
        notebook = self.notebook_path or path  # one notebook, or the one asked for (tree mode)
        pooled = getattr(km, "pooled_kernel_ready", None)
        ticket = None
        if pooled is None or not pooled(notebook):
            ticket = km.reserve()
            if ticket is None and not await self._wait_for_warming_kernel(km, notebook):
                self._full()
                return
        token = _TICKET.set(ticket)
        try:
            await super().get(path=path)
        except DashboardFull:
            if self._headers_written:
                raise
            self.clear()
            self._full()
        finally:
            _TICKET.reset(token)
            if ticket is not None:
                km.release(ticket)


class PlotlyJsHandler(web.StaticFileHandler):
    """plotly.js for the dashboard's charts, immutable under its versioned URL."""

    def set_extra_headers(self, path: str) -> None:
        if self.get_argument("v", None):
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")


#: Where the live (kernel-backed) dashboard is served when the static review takes ``/``.
LIVE_PATH = "live"


class StaticReviewHandler(web.RequestHandler):
    """The review page without a kernel: rendered once from the bundle, the same for everyone.

    Every section is static HTML (verdict, tables) with charts drawn lazily in the browser from
    the served plotly.js, so any number of viewers cost no kernel and the first screen needs no
    script. ``Cache-Control: no-cache`` with an ETag (tornado): browsers revalidate and get 304.
    """

    def initialize(self, page: Callable[[], str]) -> None:
        self._page = page

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.finish(self._page())


def _static_review_page(bundle_path: str, live_url: str, max_kernels: int) -> Callable[[], str]:
    """Render the bundle's review once (leak-checked on load) and return it on every call."""
    from ..review.bundle import AssessmentBundle
    from ..review.report import render_html
    from ..serve import plotlyjs_url

    text = render_html(AssessmentBundle.load(bundle_path), plotlyjs=plotlyjs_url())
    note = (
        "<p class='wb-live-link'>This page needs no server session. "
        f"<a href='{html.escape(live_url)}'>Open the live dashboard</a> "
        f"(one session per viewer, at most {int(max_kernels)} at once).</p>"
    )
    text = text.replace("</h1>", "</h1>" + note, 1)
    return lambda: text


class WorkbenchVoila(Voila):
    """Voila with bounded kernels, a Host check and the CDN-free template (see module doc)."""

    static_review = Unicode(
        "",
        config=True,
        help="Bundle whose review is served at / without a kernel (the live page moves to "
        "/live); empty: / is the live page.",
    )

    local_hostnames = List(
        Unicode(),
        ["localhost"],
        config=True,
        help="Host names served besides loopback addresses; any other Host header gets 403.",
    )

    @default("config_file_paths")
    def _no_config_files(self):
        return []

    def initialize(self, argv=None):
        super().initialize(argv)
        conf = self.voila_configuration
        conf.multi_kernel_manager_class = BoundedKernelManager
        conf.kernel_spec_manager_class = WorkbenchKernelSpecManager
        conf.allow_template_override = "NO"  # ?template=... would bypass the pool and template
        conf.allow_theme_override = "NO"

    def setup_template_dirs(self):
        if not (TEMPLATE_DIR / "index.html.j2").is_file():  # fail closed: no CDN fallback
            raise FileNotFoundError(f"dashboard template missing: {TEMPLATE_DIR / 'index.html.j2'}")
        super().setup_template_dirs()
        # our index.html.j2 (lab without the CDN stylesheets) is found before Voila's
        self.template_paths = [str(TEMPLATE_DIR), *self.template_paths]

    def init_settings(self):
        original = voila_app.voila_kernel_manager_factory

        def capped_factory(base_class, preheat_kernel, default_pool_size, page_config_hook=None):
            cls = original(base_class, preheat_kernel, default_pool_size, page_config_hook)
            if not preheat_kernel:
                return cls
            return type("CappedVoilaKernelManager", (_CappedPool, cls), {})

        voila_app.voila_kernel_manager_factory = capped_factory
        try:
            settings = super().init_settings()
        finally:
            voila_app.voila_kernel_manager_factory = original
        settings["allow_remote_access"] = False
        settings["local_hostnames"] = list(self.local_hostnames)
        settings["static_review"] = bool(self.static_review)
        return settings

    def init_handlers(self):
        from jupyter_server.utils import url_path_join

        from ..serve import PLOTLYJS_ROUTE, plotlyjs_file

        # plotly.js once per browser, not inline in every page: a versioned URL (?v=sha256),
        # cached for a year, with an ETag for revalidation (tornado's StaticFileHandler)
        route = url_path_join(self.server_url, PLOTLYJS_ROUTE.rsplit("/", 1)[0])
        checked_js = type("PlotlyJsHandler", (_HostChecked, PlotlyJsHandler), {})
        out = [(route + r"/(plotly\.min\.js)", checked_js, {"path": str(plotlyjs_file().parent)})]
        if self.static_review and self.notebook_path:
            max_kernels = self.config.get("BoundedKernelManager", {}).get("max_kernels", 10)
            page = _static_review_page(
                self.static_review, url_path_join(self.server_url, LIVE_PATH), max_kernels
            )
            checked_page = type("StaticReviewHandler", (_HostChecked, StaticReviewHandler), {})
            out.append((self.server_url.rstrip("/") + "/?", checked_page, {"page": page}))
        for pattern, handler, *rest in super().init_handlers():
            if handler is TornadoVoilaHandler:
                handler = BoundedVoilaHandler
            checked = type(handler.__name__, (_HostChecked, handler), {})
            out.append((pattern, checked, *rest))
        return out


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":
    main()
