"""Progress of long CLI commands on stderr, phase by phase (standard library only).

A command that can run for minutes (``assess`` on 50M rows, ``anonymize`` searching a lattice)
says what it is doing: one line when a phase starts and one when it ends, with its duration::

    workbench assess: scan bench/data/city.csv ...
    workbench assess: scan done in 12.4 s
    workbench assess: measures done in 0.8 s

On a terminal the running phase also shows its elapsed seconds, rewritten in place once a
second by a daemon thread that is stopped and joined when the phase ends. Progress is on by
default for text output and off with ``--json`` (the output is for a program) unless
``--progress`` is given; ``--no-progress`` turns it off. Lines name phases and files, never
data values.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


def add_progress_arguments(p: argparse.ArgumentParser) -> None:
    """``--progress/--no-progress`` (default: on, except with ``--json``)."""
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="phases (scan, build, search, write) and their times on stderr "
        "(default: on, off with --json)",
    )


class Progress:
    """Phase reporter; a disabled one does nothing (so commands call it unconditionally)."""

    def __init__(
        self, command: str, enabled: bool, stream: TextIO | None = None, tick: float = 1.0
    ) -> None:
        self.command = command
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tick = tick
        self.phases: list[tuple[str, float]] = []

    @classmethod
    def from_args(cls, args: argparse.Namespace, command: str) -> Progress:
        flag = getattr(args, "progress", None)
        enabled = (not getattr(args, "json", False)) if flag is None else bool(flag)
        return cls(command, enabled)

    def _say(self, text: str) -> None:
        self.stream.write(f"workbench {self.command}: {text}\n")
        self.stream.flush()

    @contextmanager
    def phase(self, name: str, detail: str = "") -> Iterator[None]:
        """Time one phase; report its start and end when enabled."""
        t0 = time.perf_counter()
        stop = threading.Event()
        ticker = None
        if self.enabled:
            self._say(f"{name}{' ' + detail if detail else ''} ...")
            if _is_tty(self.stream):
                ticker = threading.Thread(
                    target=self._tick, args=(name, t0, stop), daemon=True, name="progress"
                )
                ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                self.stream.write("\r\033[K")
            elapsed = time.perf_counter() - t0
            self.phases.append((name, elapsed))
            if self.enabled:
                self._say(f"{name} done in {elapsed:.1f} s")

    @contextmanager
    def heartbeat(self, after: float = 2.0, every: float = 10.0) -> Iterator[None]:
        """Say that a command without phases of its own is still working, once it runs long.

        Nothing is printed for a run shorter than ``after`` seconds, so quick commands stay
        quiet; past it, one line, then one every ``every`` seconds (rewritten in place on a
        terminal), and the total time at the end. Lines name the command only, never data.
        """
        t0 = time.perf_counter()
        stop = threading.Event()
        spoke = threading.Event()

        def beat() -> None:
            if stop.wait(after):
                return
            spoke.set()
            self._say("working ...")
            tty = _is_tty(self.stream)
            while not stop.wait(self.tick if tty else every):
                elapsed = time.perf_counter() - t0
                if tty:
                    self.stream.write(f"\r  {elapsed:.0f} s")
                    self.stream.flush()
                else:
                    self._say(f"still working ({elapsed:.0f} s)")

        ticker = None
        if self.enabled:
            ticker = threading.Thread(target=beat, daemon=True, name="progress-heartbeat")
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                if spoke.is_set():
                    if _is_tty(self.stream):
                        self.stream.write("\r\033[K")
                    self._say(f"done in {time.perf_counter() - t0:.1f} s")

    def _tick(self, name: str, t0: float, stop: threading.Event) -> None:
        while not stop.wait(self.tick):
            self.stream.write(f"\r  {name} {time.perf_counter() - t0:.0f} s")
            self.stream.flush()


def source_label(source: str) -> str:
    """What a progress line calls an input: the file name, or ``query`` for SQL text.

    A SQL query may carry literal values (``WHERE name = '...'``), so it is never echoed.
    """
    from pathlib import Path

    try:
        return Path(source).name if Path(source).is_file() else "query"
    except (OSError, ValueError):
        return "query"


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
