"""Small file helpers shared by every module that writes output.

Outputs are written atomically (temporary file in the same directory, then ``os.replace``) so a
crash never leaves half a file, and never over a file the caller marked as a source.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import FileSystemError, ParameterError

__all__ = ["sha256_file", "atomic_write", "atomic_write_text", "atomic_write_bytes", "ensure_not_source"]
__all__ += ["output_journal"]

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Content SHA-256 of a file, streamed so large files do not load into memory."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def ensure_not_source(output: str | Path, sources: Iterable[str | Path]) -> None:
    """Refuse to write an output over one of the input files."""
    out = Path(output).resolve()
    for src in sources:
        if src is not None and Path(src).resolve() == out:
            raise ParameterError("output", str(output), "a path different from the input file")


def atomic_write(path: str | Path, writer: Callable[[Path], None],
                 sources: Iterable[str | Path] = ()) -> Path:
    """Call ``writer(tmp_path)`` and move the result into place atomically."""
    target = Path(path)
    ensure_not_source(target, sources)
    if target.is_dir():
        raise FileSystemError("is a directory; expected the path of an output file", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _os_error(exc, target) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        # mkstemp creates 0600 files; give the output the permissions a normal open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, FileSystemError):
            raise
        raise _os_error(exc, target) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    journal = _JOURNAL.get()
    if journal is not None:
        journal.append(target)
    return target


def _os_error(exc: OSError, target: Path) -> FileSystemError:
    """The OS refusal, naming the output (not the temporary file) and the blocking path."""
    reason = exc.strerror or type(exc).__name__
    blocking = next(
        (a for a in target.parents if a.exists() and not a.is_dir()), None
    )  # "a/b.csv/out.csv" where b.csv is a file
    if blocking is not None:
        reason = f"{blocking} is a file, not a directory"
    return FileSystemError(f"cannot write the output: {reason}", target)


_JOURNAL: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar(
    "workbench_output_journal", default=None
)


@contextlib.contextmanager
def output_journal() -> Iterator[list[Path]]:
    """Collect every path :func:`atomic_write` puts in place inside the block.

    The CLI runs each command in a journal so that, when the command fails after writing (for
    example its provenance record cannot be written), it can remove those outputs: an output
    never exists without its provenance record.
    """
    written: list[Path] = []
    token = _JOURNAL.set(written)
    try:
        yield written
    finally:
        _JOURNAL.reset(token)


def atomic_write_bytes(path: str | Path, data: bytes, sources: Iterable[str | Path] = ()) -> Path:
    """Write bytes atomically."""
    return atomic_write(path, lambda p: p.write_bytes(data), sources)


def atomic_write_text(path: str | Path, text: str, sources: Iterable[str | Path] = (),
                      encoding: str = "utf-8") -> Path:
    """Write text atomically (UTF-8, ``\\n`` newlines)."""
    return atomic_write(path, lambda p: p.write_text(text, encoding=encoding, newline="\n"), sources)
