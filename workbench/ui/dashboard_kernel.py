"""The dashboard's kernel: ipykernel, with every traceback kept in the server log.

Voila lets a page send ``comm_msg``/``comm_open`` to its kernel. A malformed message makes
ipywidgets call ``showtraceback()`` (an iopub ``error`` with the full traceback, server paths
included) and makes the comm manager log a traceback on ``stderr``, which ipykernel forwards to
the browser as a ``stream`` message. Voila's ``show_tracebacks=False`` covers neither. This
launcher, used by :class:`workbench.ui.serving.WorkbenchKernelSpecManager`, changes three things:

* the shell's ``_showtraceback`` (the one place IPython publishes an error) writes the traceback
  to the server log and publishes a fixed message with no frame, path or value;
* logging (``Comm``, ``traitlets``, the kernel app) writes to the server's stderr, duplicated
  before ipykernel replaces ``sys.stderr``;
* file-descriptor capture is off, so that stderr stays the server's log.

Run as ``python -m workbench.ui.dashboard_kernel -f CONNECTION_FILE``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any, TextIO

__all__ = ["HIDDEN_ERROR", "harden", "main"]

HIDDEN_ERROR = "an error occurred in the dashboard; details are in the server log"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DashboardError(Exception):
    """The only exception name a dashboard client ever sees."""


def _route_logging(server_log: TextIO) -> None:
    """Point every logging stream handler, and the root logger, at the server log."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for h in lg.handlers:
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                h.setStream(server_log)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(server_log)
        handler.setFormatter(logging.Formatter("[dashboard kernel] %(levelname)s | %(message)s"))
        root.addHandler(handler)


def harden(shell: Any, server_log: TextIO) -> None:
    """Make ``shell`` publish only :data:`HIDDEN_ERROR` when it shows a traceback."""
    publish = shell._showtraceback

    def _showtraceback(etype, evalue, stb):
        text = "\n".join(stb) if isinstance(stb, list | tuple) else str(stb)
        server_log.write("[dashboard kernel] traceback hidden from the browser:\n")
        server_log.write(_ANSI.sub("", text) + "\n")
        server_log.flush()
        publish(DashboardError, HIDDEN_ERROR, [HIDDEN_ERROR])

    shell._showtraceback = _showtraceback


def main(argv: list[str] | None = None) -> None:
    # the server's stderr, before ipykernel swaps sys.stderr for an iopub stream
    server_log = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.capture_fd_output = False
    app.initialize(sys.argv[1:] if argv is None else argv)
    harden(app.shell, server_log)
    _route_logging(server_log)
    app.start()


if __name__ == "__main__":
    main()
