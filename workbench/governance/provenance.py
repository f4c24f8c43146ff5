"""Tamper-evident, signed provenance: who did what to which data, under which policy.

Every operation that reads, transforms, joins, releases or purges data appends one JSON record to
a JSON Lines log (default ``.workbench/provenance.jsonl`` in the current directory, or the path in
``WORKBENCH_PROVENANCE``; the value ``off`` disables recording). Records are hash-chained: each
holds the SHA-256 of its predecessor and its own SHA-256 over canonical JSON, so an edited,
removed or reordered record is detected by :func:`verify_log` and named. A small ``.head`` file
next to the log anchors the last record (its count and hash) so that truncation and appends that
bypass the log are detected too.

A hash chain alone is unkeyed: whoever can write the log can edit a record and re-hash the rest.
So when a private key is configured (``WORKBENCH_PROVENANCE_KEY``, see
:mod:`workbench.governance.signing`) every record carries its signer's public key and an Ed25519
signature of its hash, and the head is signed as well. The key lives outside the log; the public
key can be published, and ``verify --public-key`` then catches a log re-signed under another key,
while ``verify --against HEAD.json`` checks the log against a head published earlier (which
catches a log rolled back or truncated together with its anchor). Without a key the log is
*unsigned* and says so wherever it is verified or shown.

Records carry a *recipe* when the operation can be re-run (a CLI argv list, or a registered
operation name with parameters); :func:`replay` verifies the log, then re-runs an allow-listed
recipe in an isolated interpreter and checks the output hashes, re-run and on disk. The log
exports to W3C PROV-JSON (:func:`export_prov`) for other tools.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._crypto import ENCRYPTION_KEY_ENV
from .._io import atomic_write_text, sha256_file
from ..errors import ParameterError, ProvenanceError, WorkbenchError
from .signing import (
    PROVENANCE_KEY_ENV,
    SigningKey,
    fingerprint,
    is_inline_key,
    load_public_key,
    load_signing_key,
    public_key_text,
    verify_signature,
)

__all__ = [
    "REDACTED",
    "GENESIS_HASH",
    "ProvenanceLog",
    "TamperIssue",
    "VerifyResult",
    "ReplayResult",
    "default_log_path",
    "current_user",
    "redact",
    "record_operation",
    "register_operation",
    "registered_operations",
    "run_operation",
    "verify_log",
    "signed_head",
    "replay",
    "REPLAY_COMMANDS",
    "export_prov",
    "utc_now",
]

REDACTED = "[REDACTED]"
GENESIS_HASH = "0" * 64
HEAD_FORMAT = "workbench-provenance-head/1"
#: Longest line a log may hold; a record is a few kilobytes, so more means a damaged or hostile file.
MAX_LINE_BYTES = 1 << 20
MAX_HEAD_BYTES = 65_536
#: Verification stops after this many problems (and on the first fatal one), bounding its output.
MAX_ISSUES = 50
#: Gaps in the sequence up to this size are listed record by record; a larger jump is fatal.
MAX_LISTED_GAP = 20
MAX_SIGNERS = 16
_SIGNATURE_KINDS = frozenset({"bad-signature", "unsigned", "untrusted-signer"})
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# Domain separation: a record signature can never be replayed as a head signature or vice versa.
_RECORD_CONTEXT = b"workbench-provenance-record/1\n"
_HEAD_CONTEXT = b"workbench-provenance-head/1\n"
_SECRET_KEY_RE = re.compile(r"(key|secret|password|passwd|token|credential)", re.IGNORECASE)
_SECRET_FLAG_RE = re.compile(
    r"^--?[\w-]*(key|secret|password|passwd|token|credential)[\w-]*$", re.I
)


# ------------------------------------------------------------------------------------- helpers
def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse a record timestamp (or a date given on the command line) as aware UTC."""
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def default_log_path() -> Path | None:
    """``WORKBENCH_PROVENANCE`` or ``.workbench/provenance.jsonl``; ``None`` when set to ``off``."""
    env = os.environ.get("WORKBENCH_PROVENANCE")
    if env is not None and env.strip().lower() in {"off", "none", "0", "false"}:
        return None
    return Path(env) if env else Path.cwd() / ".workbench" / "provenance.jsonl"


def current_user(user: str | None = None) -> str:
    """The acting person: the argument, else ``WORKBENCH_USER``, else ``USER``, else unknown."""
    return user or os.environ.get("WORKBENCH_USER") or os.environ.get("USER") or "unknown"


def _secret_values() -> list[str]:
    """Key material held in the environment: the pseudonym key and a raw provenance key."""
    out = []
    key = os.environ.get("WORKBENCH_PSEUDONYM_KEY")
    if key and key.strip():
        out.append(key)
    enc = os.environ.get(ENCRYPTION_KEY_ENV, "").strip()
    if enc and not os.path.isfile(enc):  # the key itself, not the path of its file
        out.append(enc)
    signing = os.environ.get(PROVENANCE_KEY_ENV, "").strip()
    if is_inline_key(signing):  # PEM or base64 key material, not a path
        out.append(signing)
        out.extend(
            line
            for line in signing.splitlines()
            if len(line) >= 16 and not line.startswith("-----")
        )
    return out


def redact(parameters: Any, _secrets: Sequence[str] | None = None) -> Any:
    """Copy of ``parameters`` with secrets replaced by ``"[REDACTED]"``.

    Redacted: values under keys named like key/secret/password/token/credential, the value after a
    CLI flag named like them (``--key VALUE``, ``--token=VALUE``), and any string equal to (or
    containing) the pseudonymization key in ``WORKBENCH_PSEUDONYM_KEY``.
    """
    secrets = _secret_values() if _secrets is None else _secrets

    def scrub_str(s: str) -> str:
        for sec in secrets:
            if sec and sec in s:
                return REDACTED if s == sec else s.replace(sec, REDACTED)
        return s

    if isinstance(parameters, Mapping):
        return {
            str(k): (REDACTED if _SECRET_KEY_RE.search(str(k)) else redact(v, secrets))
            for k, v in parameters.items()
        }
    if isinstance(parameters, list | tuple):
        out: list[Any] = []
        hide_next = False
        for item in parameters:
            if hide_next:
                out.append(REDACTED)
                hide_next = False
                continue
            if isinstance(item, str) and item.startswith("-"):
                flag, eq, _value = item.partition("=")
                if _SECRET_FLAG_RE.match(flag):
                    if eq:
                        out.append(f"{flag}={REDACTED}")
                    else:
                        out.append(item)
                        hide_next = True
                    continue
            out.append(redact(item, secrets))
        return out
    if isinstance(parameters, str):
        return scrub_str(parameters)
    if isinstance(parameters, Path):
        return scrub_str(str(parameters))
    if parameters is None or isinstance(parameters, bool | int | float):
        return parameters
    if hasattr(parameters, "to_dict"):
        return redact(parameters.to_dict(), secrets)
    return scrub_str(str(parameters))


def _canonical(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of the record without its own hash and signature (the signer's key is covered)."""
    body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _describe_data(item: Any) -> dict[str, Any]:
    """Turn an input/output (path, Dataset, frame, dict) into ``{path|name, sha256}``."""
    if isinstance(item, Mapping):
        d = {str(k): v for k, v in item.items()}
        if "path" in d and d["path"] is not None:
            p = Path(d["path"])
            d["path"] = str(p.resolve())
            if d.get("sha256") is None and p.is_file():
                d["sha256"] = sha256_file(p)
        return d
    if isinstance(item, str | os.PathLike):
        p = Path(item)
        return {"path": str(p.resolve()), "sha256": sha256_file(p) if p.is_file() else None}
    from ..dataset import Dataset

    if isinstance(item, Dataset):
        d: dict[str, Any] = {"name": item.name}
        if item.source and Path(item.source).is_file():
            d["path"] = str(Path(item.source).resolve())
        d["sha256"] = item.sha256
        return d
    try:
        import pandas as pd

        from ..dataset import as_pandas

        frame = as_pandas(item)
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
        cols = _canonical([str(c) for c in frame.columns])
        return {"name": "<in-memory>", "sha256": hashlib.sha256(cols + hashed).hexdigest()}
    except TypeError:
        raise ParameterError(
            "inputs/outputs", type(item).__name__, "file paths, Datasets, frames or dicts"
        ) from None


def _input_paths(items: Iterable[Any]) -> list[str]:
    """The file paths among a record's inputs (paths, Datasets with a source, dicts)."""
    out = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            out.append(str(item))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            out.append(item["path"])
        elif isinstance(getattr(item, "source", None), str):
            out.append(item.source)
    return out


def _policy_ref(policy: Any) -> dict[str, Any] | None:
    if policy is None:
        return None
    if hasattr(policy, "policy") and hasattr(policy, "conflicts"):  # Harmonization
        policy = policy.policy
    if hasattr(policy, "reference"):
        return policy.reference()
    if isinstance(policy, Mapping):
        return {str(k): v for k, v in policy.items()}
    raise ParameterError("policy", type(policy).__name__, "a Policy, Harmonization or dict")


def _open_regular(path: Path, what: str) -> Any:
    """Open a regular file for reading; a FIFO, device or directory is refused, never waited on."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ProvenanceError(f"{path}: the {what} is not a regular file")
        return open(path, "rb")  # the caller closes it
    except OSError as exc:
        raise ProvenanceError(
            f"{path}: the {what} cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None


def _read_head_bytes(path: Path) -> bytes:
    with _open_regular(path, "head") as fh:
        return fh.read(MAX_HEAD_BYTES + 1)


def _last_line(path: Path) -> bytes | None:
    """Last non-empty line of a file without reading it all (at most MAX_LINE_BYTES of it)."""
    with _open_regular(path, "log") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        pos, buf = end, b""
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            if len(buf) > MAX_LINE_BYTES + 2 * 65536:
                raise ProvenanceError(
                    f"{path}: the last line is longer than {MAX_LINE_BYTES} bytes; run "
                    "'workbench provenance verify'"
                )
            stripped = buf.rstrip(b"\r\n")
            idx = stripped.rfind(b"\n")
            if idx >= 0:
                return stripped[idx + 1 :]
        stripped = buf.rstrip(b"\r\n")
        return stripped or None


# ---------------------------------------------------------------------------------------- log
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_HELD = threading.local()


def _iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines of ``path`` as bytes, streamed, each at most :data:`MAX_LINE_BYTES`."""
    with _open_regular(path, "log") as fh:
        lineno = 0
        while True:
            line = fh.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            lineno += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                raise ProvenanceError(
                    f"{path}: line {lineno} is longer than {MAX_LINE_BYTES} bytes; a provenance "
                    "record is far smaller: the log is damaged or is not a provenance log"
                )
            if line.strip():
                yield lineno, line


def _decode_line(path: Path, lineno: int, line: bytes) -> Any:
    """The JSON value on one line; :data:`_MALFORMED` when it is not JSON.

    Bytes that are not UTF-8 are a damaged file rather than an edited record: they raise a
    :class:`ProvenanceError` that names the line (exit 2), never a traceback.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ProvenanceError(
            f"{path}: line {lineno} is not UTF-8 text (bad bytes): the log is damaged or is not "
            "a provenance log"
        ) from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _MALFORMED


_MALFORMED = object()


def _parse_head(data: bytes) -> dict[str, Any]:
    """Validate a head document (the ``.head`` anchor or a published copy); ``ValueError`` if bad."""
    if len(data) > MAX_HEAD_BYTES:
        raise ValueError(f"larger than {MAX_HEAD_BYTES} bytes")
    try:
        head = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError):
        raise ValueError("not UTF-8 JSON") from None
    if not isinstance(head, dict):
        raise ValueError("not a JSON object")
    count, digest = head.get("count"), head.get("hash")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError("'count' is not a whole number >= 0")
    if not isinstance(digest, str) or not _HASH_RE.match(digest):
        raise ValueError("'hash' is not a SHA-256 hex digest")
    for name in ("public_key", "signature"):
        if head.get(name) is not None and not isinstance(head[name], str):
            raise ValueError(f"'{name}' is not text")
    return head


def _head_payload(head: Mapping[str, Any]) -> bytes:
    return _HEAD_CONTEXT + _canonical({k: v for k, v in head.items() if k != "signature"})


def _record_payload(digest: str) -> bytes:
    return _RECORD_CONTEXT + digest.encode("ascii")


def _head_signature_ok(head: Mapping[str, Any]) -> bool:
    """The head carries a public key and a valid signature of its other fields by that key."""
    pub = head.get("public_key")
    if not isinstance(pub, str):
        return False
    if head.get("fingerprint") is not None and head["fingerprint"] != _fp(pub):
        return False  # the fingerprint a reader compares must be the key's own
    return verify_signature(pub, _head_payload(head), head.get("signature"))


def _record_signature_ok(rec: Mapping[str, Any]) -> bool:
    signer, digest = rec.get("signer"), rec.get("hash")
    if not isinstance(signer, str) or not isinstance(digest, str) or not _HASH_RE.match(digest):
        return False
    return verify_signature(signer, _record_payload(digest), rec.get("signature"))


def _printable(text: str, limit: int = 80) -> str:
    """A name from the log made safe to print: no control characters (terminal escapes), short."""
    clean = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _safe_hash(rec: Mapping[str, Any]) -> str | None:
    """:func:`_record_hash`, or ``None`` for content that cannot be canonicalised (NaN, ...)."""
    try:
        return _record_hash(rec)
    except (ValueError, TypeError, RecursionError):
        return None


def _fp(public: str) -> str:
    try:
        return fingerprint(public)
    except WorkbenchError:
        return "an unreadable key"


class ProvenanceLog:
    """An append-only, hash-chained, optionally signed JSON Lines provenance log.

    Parameters
    ----------
    path : path-like, optional
        The log file; default :func:`default_log_path`.
    signing_key : SigningKey, optional
        Key that signs every record this object appends. Default: the key named by
        ``WORKBENCH_PROVENANCE_KEY`` at append time (see :mod:`workbench.governance.signing`), or
        no signature when it is not set. A DP ledger or an oversight member passes their own.
    """

    def __init__(
        self, path: str | os.PathLike | None = None, *, signing_key: SigningKey | None = None
    ) -> None:
        if path is None:
            path = default_log_path()
            if path is None:
                raise ProvenanceError("provenance recording is off (WORKBENCH_PROVENANCE=off)")
        self.path = Path(path)
        self.signing_key = signing_key

    @property
    def head_path(self) -> Path:
        """Anchor file holding the count and hash of the last record (signed when keyed)."""
        return self.path.with_name(self.path.name + ".head")

    def __repr__(self) -> str:
        return f"ProvenanceLog({str(self.path)!r})"

    @contextlib.contextmanager
    def _locked(self, *, shared: bool = False) -> Iterator[None]:
        """Hold the log's lock (exclusive; ``shared`` for readers) across processes and threads.

        Re-entrant within a thread, so a caller can check and append atomically::

            with log._locked():
                if spent(log.records()) + cost <= budget:
                    log.append("charge", ...)

        A shared lock on a log that was never written is a no-op (nothing to wait for).
        """
        lock = self.path.with_name(self.path.name + ".lock")
        key = os.path.abspath(lock)
        held: dict[str, int] = _HELD.__dict__.setdefault("held", {})
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        with _LOCKS_GUARD:
            rlock = _LOCKS.setdefault(key, threading.RLock())
        with rlock:
            fh = None
            if shared:
                with contextlib.suppress(OSError):
                    fh = open(lock, "rb")  # closed below
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fh = open(lock, "a")  # closed below
            try:
                if fh is not None:
                    fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                held[key] = 1
                yield
            finally:
                held.pop(key, None)
                if fh is not None:
                    fcntl.flock(fh, fcntl.LOCK_UN)
                    fh.close()

    def _key(self, signing_key: SigningKey | None) -> SigningKey | None:
        if signing_key is not None:
            return signing_key
        if self.signing_key is not None:
            return self.signing_key
        return load_signing_key(PROVENANCE_KEY_ENV)

    def append(
        self,
        operation: str,
        inputs: Iterable[Any] = (),
        outputs: Iterable[Any] = (),
        parameters: Mapping[str, Any] | None = None,
        user: str | None = None,
        policy: Any = None,
        *,
        recipe: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        signing_key: SigningKey | None = None,
    ) -> dict[str, Any]:
        """Append one record and return it (as written, with its ``hash``).

        ``inputs``/``outputs`` are file paths, Datasets, frames or ``{path|name, sha256}`` dicts;
        files are hashed. ``parameters`` and ``recipe`` are redacted (see :func:`redact`).
        ``policy`` is the Policy (or Harmonization) in force. With a key (``signing_key``, the
        log's key, or ``WORKBENCH_PROVENANCE_KEY``) the record and the head are signed; a signer
        first checks that the last record is intact and anchored, so it never vouches for a
        tampered tail, and an unsigned record is refused on a signed log.
        """
        from .. import __version__

        if not operation or not isinstance(operation, str):
            raise ParameterError("operation", operation, "a non-empty operation name")
        key = self._key(signing_key)
        ins = [_describe_data(i) for i in inputs]
        outs = [_describe_data(o) for o in outputs]
        with self._locked():
            prev = self._tail()
            self._check_tail(prev, key)
            record: dict[str, Any] = {
                "seq": 0 if prev is None else int(prev["seq"]) + 1,
                "timestamp": _iso(now or utc_now()),
                "user": current_user(user),
                "tool": "workbench",
                "tool_version": __version__,
                "operation": operation,
                "inputs": ins,
                "outputs": outs,
                "parameters": redact(dict(parameters or {})),
                "policy": _policy_ref(policy),
                "recipe": None if recipe is None else redact(dict(recipe)),
                "prev_hash": GENESIS_HASH if prev is None else prev["hash"],
                "prev_operation": None if prev is None else prev["operation"],
            }
            if key is not None:
                record["signer"] = key.public_text
            # round-trip through JSON so the hash covers exactly what is written (default=str)
            record = json.loads(
                json.dumps(record, ensure_ascii=False, allow_nan=False, default=str)
            )
            record["hash"] = _record_hash(record)
            if key is not None:
                record["signature"] = key.sign(_record_payload(record["hash"]))
            line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            head: dict[str, Any] = {
                "format": HEAD_FORMAT,
                "count": record["seq"] + 1,
                "hash": record["hash"],
                "operation": operation,
                "public_key": None if key is None else key.public_text,
                "fingerprint": None if key is None else key.fingerprint,
            }
            head["signature"] = None if key is None else key.sign(_head_payload(head))
            atomic_write_text(self.head_path, json.dumps(head) + "\n")
        return record

    def _check_tail(self, prev: dict[str, Any] | None, key: SigningKey | None) -> None:
        """Refuse to extend a tail a signer cannot vouch for, or to add unsigned to a signed log."""
        where = f"{self.path}: run 'workbench provenance verify {self.path}'"
        if prev is not None and "signer" in prev and key is None:
            raise ProvenanceError(
                f"{self.path} is signed ({_fp(str(prev['signer']))}) but no signing key is set; "
                f"set {PROVENANCE_KEY_ENV} to the key file so that this record is signed too"
            )
        if key is None:
            return
        head = None
        if self.head_path.exists():
            try:
                head = _parse_head(_read_head_bytes(self.head_path))
            except (ProvenanceError, ValueError):
                raise ProvenanceError(
                    f"refusing to sign: the head anchor is unreadable; {where}"
                ) from None
        if prev is None:
            if head is not None and head["count"] > 0:
                raise ProvenanceError(
                    f"refusing to sign: the log is empty but its head anchor counts "
                    f"{head['count']} records (the log was emptied); {where}"
                )
            return
        if _safe_hash(prev) != prev.get("hash"):
            raise ProvenanceError(f"refusing to sign: the last record was edited; {where}")
        if "signer" in prev and not _record_signature_ok(prev):
            raise ProvenanceError(
                f"refusing to sign: the last record's signature does not verify; {where}"
            )
        if head is None or head["count"] != prev["seq"] + 1 or head["hash"] != prev["hash"]:
            raise ProvenanceError(
                f"refusing to sign: the last record is not the one the head anchor names "
                f"(appended without the anchor, or the anchor was changed); {where}"
            )

    def _tail(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        last = _last_line(self.path)
        if not last:
            return None
        try:
            rec = json.loads(last.decode("utf-8"))
        except (ValueError, RecursionError):
            rec = None
        seq = rec.get("seq") if isinstance(rec, dict) else None
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 0
            or not isinstance(rec.get("hash"), str)
        ):
            raise ProvenanceError(
                f"{self.path}: the last line is not a provenance record; run "
                "'workbench provenance verify' before appending"
            )
        return rec

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Records in file order, streamed (raises :class:`ProvenanceError` on a malformed line)."""
        if not self.path.exists():
            return
        for lineno, line in _iter_lines(self.path):
            rec = _decode_line(self.path, lineno, line)
            if rec is _MALFORMED:
                raise ProvenanceError(f"{self.path}: line {lineno} is not a JSON record")
            if not isinstance(rec, dict):
                raise ProvenanceError(f"{self.path}: line {lineno} is not a JSON object")
            yield rec

    def records(self) -> list[dict[str, Any]]:
        """All records in file order (raises :class:`ProvenanceError` on a malformed line)."""
        return list(self.iter_records())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iter_records()

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_records())

    def head(self) -> dict[str, Any] | None:
        """The head anchor as stored (``None`` when missing); see :func:`signed_head`."""
        if not self.head_path.exists():
            return None
        try:
            return _parse_head(_read_head_bytes(self.head_path))
        except (ProvenanceError, ValueError) as exc:
            raise ProvenanceError(
                f"{self.head_path}: the head anchor is unreadable ({exc})"
            ) from None

    def verify(
        self, against: str | os.PathLike | None = None, public_keys: Sequence[Any] = ()
    ) -> VerifyResult:
        """Check the chain, signatures and anchor; see :func:`verify_log`."""
        return verify_log(self, against=against, public_keys=public_keys)


def record_operation(
    operation: str,
    inputs: Iterable[Any] = (),
    outputs: Iterable[Any] = (),
    parameters: Mapping[str, Any] | None = None,
    *,
    user: str | None = None,
    policy: Any = None,
    recipe: Mapping[str, Any] | None = None,
    log: str | os.PathLike | ProvenanceLog | None = None,
) -> dict[str, Any] | None:
    """Record an operation in the default (or given) log; the one call other modules make.

    Returns the record, or ``None`` when recording is off (``WORKBENCH_PROVENANCE=off``).
    A CLI command passes ``recipe={"argv": argv}`` so that the run can be replayed.
    """
    if isinstance(log, ProvenanceLog):
        target = log
    else:
        path = Path(log) if log is not None else default_log_path()
        if path is None:
            return None
        target = ProvenanceLog(path)
    inputs = list(inputs)
    if policy is None:  # the policy in force for the inputs, so retention knows every output
        from .in_force import policy_in_force

        policy = policy_in_force(_input_paths(inputs)).policy
    if recipe is not None and "argv" in recipe and "cwd" not in recipe:
        recipe = {**recipe, "cwd": str(Path.cwd())}
    return target.append(
        operation, inputs, outputs, parameters, user=user, policy=policy, recipe=recipe
    )


# ------------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class TamperIssue:
    """One break in the chain: which record (index and operation), what happened.

    ``kind`` is one of: edited, removed, reordered, duplicate, truncated, malformed, sequence,
    unanchored, bad-signature, unsigned, untrusted-signer, too-many.
    """

    index: int
    operation: str | None
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "operation": self.operation,
            "kind": self.kind,
            "message": self.message,
        }


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_log`.

    ``signed`` is true when the last record and the head anchor carry valid signatures (every
    earlier record is then covered through the hash chain); ``signers`` are the fingerprints of
    the keys seen; ``unsigned_records`` counts records written before signing was turned on;
    ``stopped`` says verification stopped early (a fatal break or too many problems).
    """

    path: str
    records: int
    issues: tuple[TamperIssue, ...]
    anchored: bool
    signed: bool = False
    signers: tuple[str, ...] = ()
    unsigned_records: int = 0
    stopped: bool = False
    against: str | None = None

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def signing(self) -> str:
        """One phrase on who vouches for the log: shown wherever the log is verified."""
        if not self.signed and (
            self.signers or any(i.kind in _SIGNATURE_KINDS for i in self.issues)
        ):
            return "signature check failed (see the problems)"
        if not self.signed:
            return (
                "unsigned: anyone with write access could rewrite it unnoticed (set "
                f"{PROVENANCE_KEY_ENV} to a key from 'workbench provenance keygen')"
            )
        text = f"signed by {', '.join(self.signers)}"
        if self.unsigned_records:
            text += f" (the first {self.unsigned_records} record(s) predate signing)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records": self.records,
            "ok": self.ok,
            "anchored": self.anchored,
            "signed": self.signed,
            "signers": list(self.signers),
            "unsigned_records": self.unsigned_records,
            "stopped": self.stopped,
            "against": self.against,
            "issues": [i.to_dict() for i in self.issues],
        }


def _published_head(against: str | os.PathLike) -> dict[str, Any]:
    path = Path(against)
    with _open_regular(path, "published head") as fh:
        data = fh.read(MAX_HEAD_BYTES + 1)
    try:
        return _parse_head(data)
    except ValueError as exc:
        raise ProvenanceError(
            f"published head {path} is not a provenance head ({exc}); expected the JSON printed "
            "by 'workbench provenance head'"
        ) from None


class _Verifier:
    """Streaming verification state: memory bounded by :data:`MAX_ISSUES`, not by the log."""

    def __init__(self, path: Path, trusted: set[str], wanted: set[int]) -> None:
        self.path = path
        self.trusted = trusted
        self.wanted = wanted  # sequence numbers whose hash a head pins
        self.hash_at: dict[int, str] = {}
        self.issues: list[TamperIssue] = []
        self.expected = 0
        self.records = 0
        self.prev: tuple[int, str, str | None, bool] | None = None  # seq, hash, op, edited
        self.pending: dict[int, str | None] = {}
        self.signers: dict[str, str] = {}
        self.seen_signed = False
        self.unsigned = 0
        self.last_signed_ok = False
        self.stopped = False

    def add(self, index: int, op: str | None, kind: str, message: str) -> None:
        if self.stopped:
            return
        self.issues.append(TamperIssue(index, op, kind, message))
        if len(self.issues) >= MAX_ISSUES:
            self.issues.append(
                TamperIssue(
                    index,
                    None,
                    "too-many",
                    f"{MAX_ISSUES} problems found: verification stopped after {self.records} "
                    "records",
                )
            )
            self.stopped = True

    def fatal(self, index: int, op: str | None, kind: str, message: str) -> None:
        if self.stopped:
            return
        self.issues.append(TamperIssue(index, op, kind, message + "; verification stopped"))
        self.stopped = True

    def feed(self, lineno: int, rec: Any) -> None:
        pos = self.records
        self.records += 1
        if not isinstance(rec, dict):
            self.add(pos, None, "malformed", f"line {lineno} is not a valid JSON record")
            self.prev = None
            return
        seq = rec.get("seq")
        raw_op = rec.get("operation")
        op = _printable(raw_op) if isinstance(raw_op, str) else None
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            self.fatal(
                pos,
                op,
                "sequence",
                f"line {lineno}: the record's sequence number is not a whole number >= 0",
            )
            return
        digest = rec.get("hash")
        edited = not isinstance(digest, str) or _safe_hash(rec) != digest
        if edited:
            self.add(
                seq,
                op,
                "edited",
                f"record {seq} ({op}) was edited: its content no longer matches its hash",
            )
        self._check_signature(seq, op, rec, edited)
        if seq == self.expected:
            want = GENESIS_HASH if seq == 0 else None
            if self.prev is not None and self.prev[0] == seq - 1:
                want = self.prev[1]
            prev_edited = self.prev is not None and self.prev[3]
            if want is not None and not edited and not prev_edited and rec.get("prev_hash") != want:
                label = max(seq - 1, 0)
                name = self.prev[2] if seq and self.prev is not None else op
                self.add(
                    label,
                    name,
                    "edited",
                    f"record {label} ({name}) was altered and re-hashed: record {seq} no longer "
                    "links to it",
                )
            self._advance(seq, rec, op, edited)
        elif seq > self.expected:
            gap = seq - self.expected
            if gap > MAX_LISTED_GAP:
                self.fatal(
                    self.expected,
                    None,
                    "sequence",
                    f"line {lineno}: the sequence jumps from record {self.expected - 1} to record "
                    f"{seq}: {gap} records are missing or the number was forged",
                )
                return
            for m in range(self.expected, seq):
                name = rec.get("prev_operation") if m == seq - 1 else None
                self.pending[m] = _printable(name) if isinstance(name, str) else None
            self._advance(seq, rec, op, edited)
        elif seq in self.pending:
            del self.pending[seq]
            self.add(
                seq,
                op,
                "reordered",
                f"record {seq} ({op}) is out of order: found at position {pos}, after record "
                f"{self.expected - 1}",
            )
        else:
            self.add(seq, op, "duplicate", f"record {seq} ({op}) appears more than once")

    def _advance(self, seq: int, rec: dict[str, Any], op: str | None, edited: bool) -> None:
        digest = str(rec.get("hash"))
        if seq in self.wanted:
            self.hash_at[seq] = digest
        self.prev = (seq, digest, op, edited)
        self.expected = seq + 1

    def _check_signature(self, seq: int, op: str | None, rec: dict[str, Any], edited: bool) -> None:
        signer = rec.get("signer")
        if signer is None:
            self.last_signed_ok = False
            if self.seen_signed:
                self.add(
                    seq,
                    op,
                    "unsigned",
                    f"record {seq} ({op}) is unsigned but follows signed records: it was added "
                    "without the key (or its signature stripped)",
                )
            else:
                self.unsigned += 1
            return
        self.seen_signed = True
        ok = not edited and _record_signature_ok(rec)
        self.last_signed_ok = ok
        if not ok:
            if not edited:
                self.add(
                    seq,
                    op,
                    "bad-signature",
                    f"record {seq} ({op}): its signature does not verify (altered after signing, "
                    "or signed with another key)",
                )
            return
        if signer not in self.signers and len(self.signers) < MAX_SIGNERS:
            self.signers[signer] = _fp(signer)
        if self.trusted and signer not in self.trusted:
            self.add(
                seq,
                op,
                "untrusted-signer",
                f"record {seq} ({op}) is signed by {_fp(signer)}, not by the given public key(s)",
            )

    def finish(self) -> None:
        for m, name in sorted(self.pending.items()):
            nxt = min(
                (s for s in range(m + 1, self.expected) if s not in self.pending), default=None
            )
            self.add(
                m,
                name,
                "removed",
                f"record {m}{f' ({name})' if name else ''} was removed: the chain jumps from "
                f"record {m - 1} to record {nxt}",
            )

    def check_head(self, head: Mapping[str, Any], label: str, *, published: bool) -> bool:
        """Compare a head (the anchor or a published copy) with the log; ``True`` if signed."""
        count = head["count"]
        name = head.get("operation")
        name = _printable(name) if isinstance(name, str) else None
        if count > self.expected:
            missing = count - self.expected
            if published or missing > MAX_LISTED_GAP:
                self.add(
                    self.expected,
                    name if missing == 1 else None,
                    "truncated",
                    f"records {self.expected} to {count - 1} were removed from the end of the log "
                    f"({label} counts {count} records, the log holds {self.expected})",
                )
            else:
                for m in range(self.expected, count):
                    op = name if m == count - 1 else None
                    self.add(
                        m,
                        op,
                        "truncated",
                        f"record {m}{f' ({op})' if op else ''} was removed from the end of the log "
                        f"({label} counts {count} records, the log ends at record "
                        f"{self.expected - 1})",
                    )
        elif count < self.expected and not published:
            self.add(
                count,
                None,
                "unanchored",
                f"records {count} to {self.expected - 1} are not covered by {label} (it counts "
                f"{count} records): they were appended without updating it, or it was lowered",
            )
        if 0 < count <= self.expected and self.hash_at.get(count - 1) != head["hash"]:
            self.add(
                count - 1,
                name,
                "edited",
                f"record {count - 1} does not match {label}: the log was rewritten",
            )
        if head.get("signature") is None and head.get("public_key") is None:
            if self.seen_signed and not published:
                self.add(count, None, "unsigned", f"{label} is unsigned but the log is signed")
            return False
        if not _head_signature_ok(head):
            self.add(count, None, "bad-signature", f"the signature of {label} does not verify")
            return False
        pub = str(head["public_key"])
        if self.trusted and pub not in self.trusted:
            self.add(
                count,
                None,
                "untrusted-signer",
                f"{label} is signed by {_fp(pub)}, not by the given public key(s)",
            )
        return True


def verify_log(
    log: str | os.PathLike | ProvenanceLog | None = None,
    *,
    against: str | os.PathLike | None = None,
    public_keys: Sequence[Any] = (),
) -> VerifyResult:
    """Detect edited, removed, reordered, appended or truncated records and bad signatures.

    A record is *edited* when its stored hash differs from the hash of its content; *removed*
    when the chain skips a sequence number that appears nowhere in the log (the next record's
    ``prev_operation`` names it); *reordered* when the missing number appears later; *truncated*
    when a head (the ``.head`` anchor, or a published head given as ``against``) counts more
    records than the file holds; *unanchored* when records follow the one the anchor names.
    Signed records and heads must verify; with ``public_keys`` every signature must be by one of
    them, so a log re-signed under another key is caught. A published head also catches a log
    rolled back together with its anchor.

    The file is streamed line by line (each at most :data:`MAX_LINE_BYTES`); a forged sequence
    number or more than :data:`MAX_ISSUES` problems stop verification, so time and memory stay
    bounded. A missing or empty log without an anchor raises :class:`ProvenanceError` ("nothing to
    verify"), as do bytes that are not UTF-8 text.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    trusted = {public_key_text(load_public_key(k)) for k in public_keys}
    published = _published_head(against) if against is not None else None
    with plog._locked(shared=True):
        anchored = plog.head_path.exists()
        head: dict[str, Any] | None = None
        head_error = None
        if anchored:
            try:
                head = _parse_head(_read_head_bytes(plog.head_path))
            except (ProvenanceError, ValueError) as exc:
                head_error = str(exc)
        wanted = {h["count"] - 1 for h in (head, published) if h is not None and h["count"] > 0}
        v = _Verifier(plog.path, trusted, wanted)
        if plog.path.exists():
            for lineno, line in _iter_lines(plog.path):
                v.feed(lineno, _decode_line(plog.path, lineno, line))
                if v.stopped:
                    break
    if v.records == 0 and not anchored:
        state = "is empty" if plog.path.exists() else "does not exist"
        raise ProvenanceError(
            f"{plog.path}: nothing to verify: the log {state} and has no head anchor"
        )
    head_signed = False
    if not v.stopped:
        v.finish()
        if not anchored:
            v.add(
                v.expected,
                None,
                "unanchored",
                f"the head anchor {plog.head_path.name} is missing: records at the end could have "
                "been removed or added unnoticed",
            )
        elif head is None:
            v.add(v.expected, None, "malformed", f"the head anchor is unreadable ({head_error})")
        else:
            head_signed = v.check_head(head, "the head anchor", published=False)
        if published is not None and not v.stopped:
            v.check_head(published, f"the published head {Path(against).name}", published=True)
    signed = v.seen_signed and v.last_signed_ok and head_signed
    return VerifyResult(
        path=str(plog.path),
        records=v.records,
        issues=tuple(v.issues),
        anchored=anchored,
        signed=signed,
        signers=tuple(v.signers.values()),
        unsigned_records=v.unsigned if signed else v.records,
        stopped=v.stopped,
        against=None if against is None else str(against),
    )


def signed_head(
    log: str | os.PathLike | ProvenanceLog | None = None, public_keys: Sequence[Any] = ()
) -> tuple[dict[str, Any], VerifyResult]:
    """The head anchor of a log that verifies, ready to publish, and the verification result.

    Raises :class:`ProvenanceError` when the log fails verification: a tampered log has no head
    worth publishing. The head is unsigned (``signature: null``) when no key signed the log.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    res = verify_log(plog, public_keys=public_keys)
    if not res.ok:
        raise ProvenanceError(
            f"{plog.path} fails verification ({res.issues[0].message}); no head to publish"
        )
    head = plog.head()
    if head is None:  # unreachable: verify_log flags a missing anchor
        raise ProvenanceError(f"{plog.head_path} is missing; no head to publish")
    return head, res


# ------------------------------------------------------------------------- registered operations
Operation = Callable[..., None]
_OPERATIONS: dict[str, Operation] = {}


def register_operation(name: str) -> Callable[[Operation], Operation]:
    """Register a deterministic operation ``f(inputs, outputs, **parameters)`` for replay."""

    def deco(func: Operation) -> Operation:
        _OPERATIONS[name] = func
        return func

    return deco


def registered_operations() -> tuple[str, ...]:
    """Names of operations :func:`replay` can re-run in-process."""
    return tuple(sorted(_OPERATIONS))


def run_operation(
    name: str,
    inputs: Sequence[str | os.PathLike],
    outputs: Sequence[str | os.PathLike],
    parameters: Mapping[str, Any] | None = None,
    *,
    user: str | None = None,
    policy: Any = None,
    log: str | os.PathLike | ProvenanceLog | None = None,
) -> dict[str, Any] | None:
    """Run a registered operation and record it with a replayable recipe."""
    if name not in _OPERATIONS:
        raise ParameterError("operation", name, f"one of {', '.join(registered_operations())}")
    for out in outputs:
        from .._io import ensure_not_source

        ensure_not_source(out, inputs)
    params = dict(parameters or {})
    _OPERATIONS[name]([Path(i) for i in inputs], [Path(o) for o in outputs], **params)
    return record_operation(
        name,
        inputs,
        outputs,
        params,
        user=user,
        policy=policy,
        recipe={"operation": name, "parameters": params},
        log=log,
    )


# ------------------------------------------------------------------------------------- replay
#: Sub-commands a recorded CLI recipe may re-run, with the allowed actions of those that have
#: actions (``None``: any). Servers, purges, access changes, gate approvals and replay itself are
#: not replayable: a recipe is data from the log, so only deterministic writers of files qualify.
REPLAY_COMMANDS: Mapping[str, frozenset[str] | None] = MappingProxyType(
    {
        "profile": None,
        "assess": None,
        "inventory": None,
        "link": None,
        "combine": None,
        "matrix": None,
        "anonymize": None,
        "frontier": None,
        "report": None,
        "samples": frozenset({"generate", "export"}),
        "provenance": frozenset({"export"}),
    }
)
_SCRATCH_ENV = ("WORKBENCH_PROVENANCE", "WORKBENCH_GATE_LOG", "WORKBENCH_ACCESS_LOG")


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of re-running one recorded operation.

    ``outputs`` holds ``(path, recorded, replayed, on_disk)`` SHA-256s: a replay is OK only when
    the re-run and the file still on disk both match the recorded hash.
    """

    index: int
    operation: str
    ok: bool
    message: str
    outputs: tuple[tuple[str, str | None, str | None, str | None], ...]
    signed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "operation": self.operation,
            "ok": self.ok,
            "signed": self.signed,
            "message": self.message,
            "outputs": [
                {"path": p, "recorded_sha256": r, "replayed_sha256": n, "on_disk_sha256": d}
                for p, r, n, d in self.outputs
            ],
        }


def _contains_redacted(obj: Any) -> bool:
    if isinstance(obj, str):
        return REDACTED in obj
    if isinstance(obj, Mapping):
        return any(_contains_redacted(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_contains_redacted(v) for v in obj)
    return False


def _replay_argv(
    argv: Sequence[str], cwd: Path | None, mapping: Mapping[str, str], where: str
) -> list[str]:
    """Check a recorded argv and point its recorded inputs/outputs at the replay locations.

    ``mapping`` sends each recorded path (inputs to themselves, outputs into the scratch
    directory). Any other argument that names a path (a separator, ``~`` or ``..``) is refused:
    the command runs in an empty scratch directory and may touch nothing else.
    """
    if not argv or argv[0] not in REPLAY_COMMANDS:
        raise ProvenanceError(
            f"{where}: sub-command {str(argv[0])[:40] if argv else ''!r} cannot be replayed; "
            f"replayable: {', '.join(sorted(REPLAY_COMMANDS))}"
        )
    actions = REPLAY_COMMANDS[argv[0]]
    if actions is not None and (len(argv) < 2 or argv[1] not in actions):
        raise ProvenanceError(
            f"{where}: only '{argv[0]} {'|'.join(sorted(actions))}' can be replayed"
        )

    def target(value: str) -> str | None:
        if not value:
            return None
        if os.path.isabs(value):
            return mapping.get(os.path.normpath(value))
        if cwd is None:
            return None
        try:
            return mapping.get(str((cwd / value).resolve()))
        except (OSError, RuntimeError):
            return None

    def checked(value: str, i: int) -> str:
        if "/" in value or os.sep in value or value.startswith(("~", "..")):
            raise ProvenanceError(
                f"{where}: argument {i} names a path that is neither a recorded input nor a "
                "recorded output; replay runs only on the files the record lists"
            )
        return value

    out = []
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if eq and flag.startswith("-"):
            new = target(value)
            out.append(f"{flag}={new}" if new else f"{flag}={checked(value, i)}")
        elif arg.startswith("-"):
            out.append(checked(arg, i))
        elif (new := target(arg)) is not None:
            out.append(new)
        elif "=" in arg:  # NAME=PATH values such as --hierarchy age=ages.csv
            name, _, value = arg.partition("=")
            new = target(value)
            out.append(f"{name}={new}" if new else checked(arg, i))
        else:
            out.append(checked(arg, i))
    return out


def _same_plaintext(a: Path, b: Path) -> bool:
    """Whether two encrypted files decrypt to the same content (False if either cannot).

    The key comes from ``WORKBENCH_ENCRYPTION_KEY`` (a recorded key file is redacted, as the
    pseudonym key's is: secrets for a replay come from the environment).
    """
    from .._crypto import content_sha256, is_encrypted, load_encryption_key

    if not (is_encrypted(a) and is_encrypted(b)):
        return False
    try:
        key = load_encryption_key()
        return content_sha256(a, key) == content_sha256(b, key)
    except WorkbenchError:
        return False


def _select_record(plog: ProvenanceLog, record: int | None) -> dict[str, Any]:
    chosen = None
    for rec in plog.iter_records():
        if record is None:
            if rec.get("recipe"):
                chosen = rec
        elif rec.get("seq") == record:
            return rec
    if chosen is None:
        if record is None:
            raise ProvenanceError(f"{plog.path}: no record has a replayable recipe")
        raise ProvenanceError(f"{plog.path}: no record with index {record}")
    return chosen


def replay(
    log: str | os.PathLike | ProvenanceLog | None = None,
    record: int | None = None,
    timeout: float = 600,
    *,
    public_keys: Sequence[Any] = (),
) -> ReplayResult:
    """Re-run a recorded recipe from its original inputs and compare the output hashes.

    The log is verified first (a log that fails is not replayed). A CLI recipe may only name a
    sub-command in :data:`REPLAY_COMMANDS`; it runs as ``python -I -m workbench`` from the
    installed package (isolated mode: no recorded directory, environment variable or current
    directory on the import path) in an empty scratch directory, with its own provenance, gate
    and access logs in scratch and no signing key. The inputs must still have their recorded
    hashes; outputs are written to scratch, never over the recorded ones; the replay is OK when
    each re-run output *and* the output still on disk match the recorded hash. ``record`` is the
    index (``seq``); default the last record that has a recipe.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    check = verify_log(plog, public_keys=public_keys)
    if not check.ok:
        return ReplayResult(
            -1 if record is None else record,
            "",
            False,
            f"{plog.path} fails verification ({check.issues[0].message}); nothing was replayed",
            (),
            check.signed,
        )
    rec = _select_record(plog, record)
    index, op = int(rec["seq"]), _printable(str(rec.get("operation")))
    where = f"record {index} ({op})"
    recipe = rec.get("recipe")
    if not recipe:
        raise ProvenanceError(f"{where} has no recipe and cannot be replayed")
    if not isinstance(recipe, Mapping):
        raise ProvenanceError(f"{where}: the recipe is not a JSON object")
    if _contains_redacted(recipe):
        raise ProvenanceError(
            f"{where}: the recipe contains a redacted secret; pass secrets through "
            "the environment (WORKBENCH_PSEUDONYM_KEY, WORKBENCH_ENCRYPTION_KEY) so that runs "
            "can be replayed"
        )
    items = [i for i in rec.get("inputs") or [] if isinstance(i, Mapping)]
    for item in items:
        path, recorded = item.get("path"), item.get("sha256")
        if not isinstance(path, str) or recorded is None:
            continue
        if not Path(path).is_file():
            return ReplayResult(
                index, op, False, f"input {path} no longer exists", (), check.signed
            )
        if sha256_file(path) != recorded:
            return ReplayResult(
                index,
                op,
                False,
                f"input {path} changed since record {index} was made",
                (),
                check.signed,
            )
    outputs = [
        o
        for o in rec.get("outputs") or []
        if isinstance(o, Mapping) and isinstance(o.get("path"), str)
    ]
    with tempfile.TemporaryDirectory(prefix="workbench-replay-") as tmp:
        scratch = Path(tmp)
        work = scratch / "work"
        work.mkdir()
        mapping = {
            os.path.normpath(o["path"]): str(scratch / f"{i}_{Path(o['path']).name}")
            for i, o in enumerate(outputs)
        }
        for item in items:
            if isinstance(item.get("path"), str) and item.get("sha256") is not None:
                mapping.setdefault(os.path.normpath(item["path"]), item["path"])
        if "argv" in recipe:
            argv = recipe["argv"]
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise ProvenanceError(f"{where}: the recipe's argv is not a list of strings")
            cwd_text = recipe.get("cwd")
            cwd = Path(cwd_text) if isinstance(cwd_text, str) and os.path.isabs(cwd_text) else None
            if cwd is not None and not cwd.is_dir():
                cwd = None  # only used to resolve the recorded relative paths, never run in
            args = _replay_argv(argv, cwd, mapping, where)
            env = {k: v for k, v in os.environ.items() if k != PROVENANCE_KEY_ENV}
            for name in _SCRATCH_ENV:
                env[name] = str(scratch / f"{name.lower()}.jsonl")
            try:
                proc = subprocess.run(
                    [sys.executable, "-I", "-m", "workbench", *args],
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return ReplayResult(
                    index,
                    op,
                    False,
                    f"the command did not finish in {timeout:g} s",
                    (),
                    check.signed,
                )
            if proc.returncode not in (0, 1):
                tail = (proc.stderr or "").strip().splitlines()[-1:] or [""]
                return ReplayResult(
                    index,
                    op,
                    False,
                    f"the command failed (exit {proc.returncode}): {tail[0][:300]}",
                    (),
                    check.signed,
                )
        elif "operation" in recipe:
            name = recipe["operation"]
            if not isinstance(name, str) or name not in _OPERATIONS:
                raise ProvenanceError(
                    f"{where}: the operation is not registered; known: "
                    f"{', '.join(registered_operations())}"
                )
            params = recipe.get("parameters") or {}
            if not isinstance(params, Mapping):
                raise ProvenanceError(f"{where}: the recipe's parameters are not a JSON object")
            ins = [Path(i["path"]) for i in items if isinstance(i.get("path"), str)]
            try:
                _OPERATIONS[name](
                    ins, [Path(mapping[os.path.normpath(o["path"])]) for o in outputs], **params
                )
            except TypeError:
                raise ProvenanceError(
                    f"{where}: the recorded parameters do not fit operation {name!r}"
                ) from None
        else:
            raise ProvenanceError(f"{where}: recipe needs 'argv' or 'operation'")
        compared = []
        by_content = 0
        for o in outputs:
            new = Path(mapping[os.path.normpath(o["path"])])
            disk = Path(o["path"])
            new_hash = sha256_file(new) if new.is_file() else None
            disk_hash = sha256_file(disk) if disk.is_file() else None
            if (
                new_hash is not None
                and disk_hash is not None
                and new_hash != disk_hash
                and _same_plaintext(new, disk)
            ):
                new_hash = disk_hash  # encrypted: fresh nonces, identical decrypted content
                by_content += 1
            compared.append((o["path"], o.get("sha256"), new_hash, disk_hash))
    ok = bool(compared) and all(r is not None and r == n == d for _, r, n, d in compared)
    if not compared:
        msg = "the record has no file outputs to compare"
    elif ok:
        msg = (
            f"replayed record {index} ({op}): all {len(compared)} output hash(es) match, "
            "re-run and on disk"
            + (f" ({by_content} encrypted: by decrypted content)" if by_content else "")
        )
    else:
        problems = []
        for p, r, n, d in compared:
            if r != n:
                problems.append(f"the re-run of {p} differs")
            if d is None:
                problems.append(f"{p} is missing on disk")
            elif d != r:
                problems.append(f"{p} on disk differs from the recorded hash")
        msg = f"replayed record {index} ({op}): {'; '.join(problems)}"
    return ReplayResult(index, op, ok, msg, tuple(compared), check.signed)


# ----------------------------------------------------------------------------------- PROV-JSON
def _qn_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "_"


def export_prov(
    log: str | os.PathLike | ProvenanceLog | None = None, out: str | os.PathLike | None = None
) -> str:
    """Export the log as W3C PROV-JSON (activities, file entities by content hash, agents).

    Each record becomes an activity ``used`` its inputs and the policy in force, that
    ``wasAssociatedWith`` the user and the workbench (a SoftwareAgent); outputs were generated by
    the activity and derived from its inputs. Returns the JSON text, also written to ``out``.
    """
    from prov.model import ProvDocument

    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    doc = ProvDocument()
    doc.add_namespace("wb", "urn:privacy-risk-workbench:")
    agents: dict[str, Any] = {}
    entities: dict[str, Any] = {}

    def entity(item: Mapping[str, Any]) -> Any:
        ident = item.get("sha256") or _qn_part(item.get("path") or item.get("name") or "unknown")
        key = f"wb:data-{ident}"
        if key not in entities:
            attrs: dict[str, Any] = {"wb:sha256": item.get("sha256") or ""}
            if item.get("path"):
                attrs["wb:path"] = item["path"]
            if item.get("name"):
                attrs["wb:name"] = item["name"]
            entities[key] = doc.entity(key, attrs)
        return entities[key]

    for rec in plog.records():
        ts = parse_time(rec["timestamp"])
        act = doc.activity(
            f"wb:op-{rec['seq']}",
            ts,
            ts,
            {
                "wb:operation": rec["operation"],
                "wb:parameters": json.dumps(rec.get("parameters") or {}, sort_keys=True),
                "wb:record_hash": rec["hash"],
                # who vouches for the record; "unsigned" when no key signed it (verify first)
                "wb:signer": _fp(rec["signer"])
                if isinstance(rec.get("signer"), str)
                else "unsigned",
            },
        )
        user_key = f"wb:user-{_qn_part(rec['user'])}"
        if user_key not in agents:
            agents[user_key] = doc.agent(user_key, {"prov:type": "prov:Person"})
        tool_key = f"wb:workbench-{_qn_part(rec.get('tool_version', ''))}"
        if tool_key not in agents:
            agents[tool_key] = doc.agent(
                tool_key, {"prov:type": "prov:SoftwareAgent", "wb:version": rec.get("tool_version")}
            )
        doc.wasAssociatedWith(act, agents[user_key])
        doc.wasAssociatedWith(act, agents[tool_key])
        ins = [entity(i) for i in rec.get("inputs", [])]
        for e in ins:
            doc.used(act, e)
        pol = rec.get("policy")
        if pol:
            pkey = f"wb:policy-{pol.get('sha256', _qn_part(pol.get('name', '')))}"
            if pkey not in entities:
                entities[pkey] = doc.entity(
                    pkey, {"prov:type": "wb:Policy", "wb:name": pol.get("name", "")}
                )
            doc.used(act, entities[pkey])
        for o in rec.get("outputs", []):
            e = entity(o)
            doc.wasGeneratedBy(e, act, ts)
            for i in ins:
                doc.wasDerivedFrom(e, i, act)
    text = doc.serialize(format="json", indent=2)
    if out is not None:
        atomic_write_text(out, text + ("" if text.endswith("\n") else "\n"))
    return text
