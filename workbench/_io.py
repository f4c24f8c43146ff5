"""Small file helpers shared by every module that writes output.

Outputs are written atomically (temporary file in the same directory, then ``os.replace``) so a
crash never leaves half a file, and never over a file the caller marked as a source.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import FileSystemError, ParameterError

__all__ = [
    "sha256_file",
    "atomic_write",
    "atomic_write_text",
    "atomic_write_bytes",
    "ensure_not_source",
    "FORMULA_PREFIXES",
    "escape_formula",
    "escape_formulas",
    "write_table",
]
__all__ += ["output_journal", "OutputJournal"]

_CHUNK = 1 << 20


# SHA-256 of files this process read, by (device, inode, size, modification and change time in
# ns): a command hashes its input once (the loader), not again for its provenance record
_DIGESTS: dict[tuple[int, ...], str] = {}
_MAX_DIGESTS = 256


def file_version(path: str | Path) -> tuple[int, ...]:
    """What changes whenever a file's content does (any write updates ``st_ctime_ns``)."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def remember_sha256(path: str | Path, version: tuple[int, ...], digest: str) -> None:
    """Record ``digest`` as the hash of ``path`` read at ``version`` if it is still unchanged."""
    if file_version(path) != version:
        return
    if len(_DIGESTS) >= _MAX_DIGESTS:
        _DIGESTS.pop(next(iter(_DIGESTS)))
    _DIGESTS[version] = digest


def sha256_file(path: str | Path) -> str:
    """Content SHA-256 of a file, streamed so large files do not load into memory.

    A file this process hashed already and that has not changed since is not read again.
    """
    version = file_version(path)
    known = _DIGESTS.get(version)
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    remember_sha256(path, version, digest)
    return digest


def ensure_not_source(output: str | Path, sources: Iterable[str | Path]) -> None:
    """Refuse to write an output over one of the input files."""
    out = Path(output).resolve()
    for src in sources:
        if src is not None and Path(src).resolve() == out:
            raise ParameterError("output", str(output), "a path different from the input file")


def atomic_write(
    path: str | Path, writer: Callable[[Path], None], sources: Iterable[str | Path] = ()
) -> Path:
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
        journal = _JOURNAL.get()
        if journal is not None:
            journal.before_replace(target)
        os.replace(tmp_path, target)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, FileSystemError):
            raise
        raise _os_error(exc, target) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
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


class OutputJournal:
    """The files :func:`atomic_write` changed inside :func:`output_journal`, and how to undo it.

    Before a file is first replaced, its old content is kept as a hard link (a copy where links
    are impossible) next to it; :meth:`rollback` puts every file back as it was (new files are
    removed) and :meth:`discard` drops the backups. The CLI rolls back a command that fails after
    writing, so that no output exists without its provenance record.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[Path, Path | None]] = []

    @property
    def written(self) -> list[Path]:
        """Paths written, in order."""
        return [t for t, _ in self.entries]

    def before_replace(self, target: Path) -> None:
        if any(t == target for t, _ in self.entries):
            return  # the state before the command is already kept
        backup = None
        if target.is_file():
            backup = target.with_name(f".{target.name}.{secrets.token_hex(6)}.bak.tmp")
            try:
                os.link(target, backup)
            except OSError:
                shutil.copy2(target, backup)
        self.entries.append((target, backup))

    def rollback(self, keep: Iterable[str | Path] = ()) -> list[tuple[Path, bool]]:
        """Undo every write except to ``keep``; returns (path, restored) for each undone one.

        ``restored`` is False for a file the command created (now removed).
        """
        kept = {Path(k).resolve() for k in keep}
        undone = []
        for target, backup in reversed(self.entries):
            if target.resolve() in kept:
                continue
            try:
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(backup, target)
                undone.append((target, backup is not None))
            except OSError:
                pass
        self.discard()
        return undone

    def discard(self) -> None:
        """Keep the writes; remove the backups."""
        for _, backup in self.entries:
            if backup is not None:
                backup.unlink(missing_ok=True)
        self.entries.clear()


_JOURNAL: contextvars.ContextVar[OutputJournal | None] = contextvars.ContextVar(
    "workbench_output_journal", default=None
)


@contextlib.contextmanager
def output_journal() -> Iterator[OutputJournal]:
    """Journal the writes of :func:`atomic_write` in this block (see :class:`OutputJournal`).

    Leaving the block keeps the writes (backups are removed) unless :meth:`OutputJournal.rollback`
    was called.
    """
    journal = OutputJournal()
    token = _JOURNAL.set(journal)
    try:
        yield journal
    finally:
        _JOURNAL.reset(token)
        journal.discard()


def atomic_write_bytes(path: str | Path, data: bytes, sources: Iterable[str | Path] = ()) -> Path:
    """Write bytes atomically."""
    return atomic_write(path, lambda p: p.write_bytes(data), sources)


def atomic_write_text(
    path: str | Path, text: str, sources: Iterable[str | Path] = (), encoding: str = "utf-8"
) -> Path:
    """Write text atomically (UTF-8, ``\\n`` newlines)."""
    return atomic_write(
        path, lambda p: p.write_text(text, encoding=encoding, newline="\n"), sources
    )


# --- tables: CSV/TSV/Excel/Parquet with formula-injection escaping ----------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make spreadsheet programs evaluate a text cell as a formula (OWASP
"CSV injection"): such cells get a leading apostrophe in CSV and Excel outputs."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def escape_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text starting with a formula character.

    Numbers, and text that is a plain number (``-5``, ``+1.5e3``), are returned unchanged:
    spreadsheets read them as numbers, not formulas.

    Examples
    --------
    >>> escape_formula("=HYPERLINK(1)"), escape_formula("-5"), escape_formula(-5)
    ("'=HYPERLINK(1)", '-5', -5)
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def escape_formulas(frame: Any) -> Any:
    """Copy of a pandas DataFrame with :func:`escape_formula` applied to text cells and names."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        escaped = s.astype(object).map(escape_formula, na_action="ignore")
        # text dtypes keep their dtype; a categorical's categories would not hold the escaped
        # values (they would become missing), so it is written as plain text
        text_dtype = s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
        categorical = isinstance(s.dtype, pd.CategoricalDtype)
        out[col] = escaped.astype(s.dtype) if text_dtype and not categorical else escaped
    out.columns = [escape_formula(str(c)) for c in out.columns]
    return out


TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")


def write_table(
    path: str | Path,
    frame: Any,
    sources: Iterable[str | Path] = (),
    sep: str | None = None,
    *,
    encrypt: bool | None = None,
) -> Path:
    """Write a pandas DataFrame atomically; the format follows the suffix.

    CSV (``sep``, default ``,``), TSV/TXT (tab), Excel ``.xlsx`` and Parquet. Text cells of CSV,
    TSV and Excel outputs go through :func:`escape_formulas`; Parquet is typed and never
    evaluated, so it is written as is. Every writer of record-level data calls this, through
    :func:`workbench.deid.release.write_release`.

    Encryption at rest (:mod:`workbench._crypto`): the table is written encrypted when a policy
    in force requires it (:func:`workbench._crypto.encryption_required`), when the name ends in
    ``.enc`` (``out.csv.enc``: the format is the suffix before it) or when ``encrypt=True``.
    The policy in force is the CLI's (set for the whole command), else the one found for
    ``sources`` (:func:`workbench.governance.in_force.policy_in_force`: the catalog declaring
    them; an encrypted source). The plaintext then never touches the disk: it streams through the encrypting writer into the
    atomic temporary file (Excel is built in memory first, as openpyxl needs to seek).
    ``encrypt=False`` where encryption is required raises :class:`EncryptionRequiredError`, as
    does a missing key.
    """
    from ._crypto import ENCRYPTED_SUFFIX, inner_suffix, key_for_output, required_by

    target = Path(path)
    suffix = inner_suffix(target)
    if suffix not in TABLE_SUFFIXES:
        raise ParameterError(
            "output",
            str(path),
            "a file ending in " + ", ".join(TABLE_SUFFIXES) + f" (optionally + {ENCRYPTED_SUFFIX})",
        )
    sources = [s for s in sources if s is not None]
    reasons = required_by()
    if not reasons and sources:  # a notebook or library caller: the sources' policy decides
        from .governance.in_force import policy_in_force

        reasons = policy_in_force(sources).encryption_reasons
    if target.suffix.lower() == ENCRYPTED_SUFFIX:
        reasons += (f"the output name ({ENCRYPTED_SUFFIX})",)
    if encrypt:
        reasons += ("the caller (encrypt=True)",)
    if encrypt is False and reasons:
        from .errors import EncryptionRequiredError

        raise EncryptionRequiredError(
            f"{target}: refusing to write plaintext: {', '.join(reasons)} requires encryption "
            "at rest"
        )
    write = _table_writer(frame, suffix, sep)
    if not reasons:
        return atomic_write(target, lambda p: _write_plain(p, write), sources)
    key = key_for_output(target, reasons)
    return atomic_write(target, lambda p: _write_encrypted(p, write, key, suffix), sources)


def _table_writer(frame: Any, suffix: str, sep: str | None) -> Callable[[Any], None]:
    """A function writing the table to a binary file object."""
    import io

    if suffix == ".parquet":
        return lambda fh: frame.to_parquet(fh, index=False)
    safe = escape_formulas(frame)
    if suffix == ".xlsx":
        return lambda fh: safe.to_excel(fh, index=False, engine="openpyxl")
    delim = sep if sep is not None else ("," if suffix == ".csv" else "\t")
    # Python's csv quotes only the line terminator's characters: a bare carriage return in a
    # text cell would split the row for readers, so such a table quotes every text field
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL

    def write_csv(fh: Any) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
        safe.to_csv(text, index=False, sep=delim, lineterminator="\n", quoting=quoting)
        text.flush()
        text.detach()

    return write_csv


def _write_plain(path: Path, write: Callable[[Any], None]) -> None:
    with open(path, "wb") as fh:
        write(fh)


def _write_encrypted(path: Path, write: Callable[[Any], None], key: Any, suffix: str) -> None:
    import io

    from ._crypto import EncryptingWriter

    with open(path, "wb") as raw:
        enc = EncryptingWriter(raw, key)
        try:
            if suffix == ".xlsx":  # openpyxl seeks in its zip: build it in memory, then encrypt
                buf = io.BytesIO()
                write(buf)
                enc.write(buf.getbuffer())
                del buf
            else:
                write(enc)
        except BaseException:
            enc.abort()  # no final chunk; atomic_write removes the partial file
            raise
        enc.close()


def _has_carriage_return(frame: Any) -> bool:
    if any("\r" in str(c) for c in frame.columns):
        return True
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or str(s.dtype).startswith("str"):
            if s.map(lambda v: isinstance(v, str) and "\r" in v).any():
                return True
    return False
