"""``workbench app``: the interactive notebooks as web apps (Voila), from preheated kernels.

Every numbered notebook in ``notebooks/`` is served on 127.0.0.1 with its sources hidden; each
has ``--pool-size`` kernels that have already run it, so a page opens without waiting for the
notebook to execute. The browser opens on the notebook list when one exists (never under CI or
tests; ``--no-browser`` to stop it). Ctrl-C or SIGTERM stops Voila and every kernel.
"""

from __future__ import annotations

import argparse
import threading
import time
import urllib.request

from ..serve import app_command, browser_wanted, interactive_notebooks, run_foreground


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="serve the interactive notebooks as apps (Voila, preheated)")
    p.add_argument("--port", type=int, default=8867, help="port on 127.0.0.1 (default 8867)")
    p.add_argument(
        "--pool-size",
        type=int,
        default=1,
        help="preheated kernels per notebook (default 1, ~270 MB each; 0: none)",
    )
    p.add_argument(
        "--max-kernels",
        type=int,
        default=None,
        help="most kernels at once (default: the pools plus one open page per notebook)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--print-command", action="store_true", help="print the Voila command instead of running it"
    )
    p.set_defaults(func=_run)


def _open_when_ready(url: str, timeout: float = 120.0) -> None:
    """Open ``url`` in the browser once the server answers (bounded wait, daemon thread)."""
    import webbrowser

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    else:
        return
    webbrowser.open(url)


def _run(args: argparse.Namespace) -> int:
    from ..samples import sample_path

    sample_path("city")  # fails clearly if the sample data is missing
    cmd = app_command(args.port, pool_size=args.pool_size, max_kernels=args.max_kernels)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    url = f"http://127.0.0.1:{args.port}/"
    names = ", ".join(p.stem for p in interactive_notebooks())
    print(f"workbench app: {url} ({names}); Ctrl-C stops it", flush=True)
    if browser_wanted(not args.no_browser):
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    return run_foreground(cmd)
