"""A throwaway PostgreSQL server for the tests and bench/postgres.py (never a mock).

Debian's ``postgresql`` package provides the binaries (``.ci/setup.sh test`` installs it): a
cluster in a temporary directory on a free port with password authentication, stopped with
``pg_ctl -m immediate`` and removed on exit, so no process or file outlives the caller.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ServerMissing", "throwaway_server"]


class ServerMissing(RuntimeError):
    """The PostgreSQL server binaries (or the user to run them as) are not installed."""


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found and shutil.which("initdb"):
        found = [str(shutil.which("initdb"))]
    if not found:
        raise ServerMissing(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
            "'postgresql' package (bash .ci/setup.sh test does)"
        )
    return Path(found[-1]).parent


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the 'postgres' user the package creates."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerMissing(
            "running as root and no 'postgres' user: install Debian's 'postgresql'"
        ) from None
    return ["runuser", "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_server(settings: str = "") -> Iterator[tuple[str, int, str]]:
    """Start a server; yield ``(host, port, password)`` of its superuser ``wb``; remove it."""
    bindir = _pg_bin()
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="wbpg-"))
    data = root / "data"
    try:
        password = secrets.token_urlsafe(18)
        pwfile = root / "pw"
        pwfile.write_text(password)
        if prefix:
            uid = pwd.getpwnam("postgres").pw_uid
            for p in (root, pwfile):
                os.chown(p, uid, -1)
        port = _free_port()
        run = dict(check=True, capture_output=True, timeout=120)
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "scram-sha-256",
             f"--pwfile={pwfile}", "-U", "wb", "--no-sync", "-E", "UTF8", "--locale=C"],
            **run,
        )  # fmt: skip
        pwfile.unlink()
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off {settings}"
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l",
             str(root / "log"), "start"],
            **run,
        )  # fmt: skip
        yield "127.0.0.1", port, password
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
