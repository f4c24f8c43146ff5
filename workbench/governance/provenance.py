"""Tamper-evident provenance: who did what to which data, under which policy.

Every operation that reads, transforms, joins, releases or purges data appends one JSON record to
a JSON Lines log (default ``.workbench/provenance.jsonl`` in the current directory, or the path in
``WORKBENCH_PROVENANCE``; the value ``off`` disables recording). Records are hash-chained: each
holds the SHA-256 of its predecessor and its own SHA-256 over canonical JSON, so an edited,
removed or reordered record is detected by :func:`verify_log` and named. A small ``.head`` file
next to the log anchors the last record so that truncation at the end is detected too.

Records carry a *recipe* when the operation can be re-run (a CLI argv list, or a registered
operation name with parameters); :func:`replay` re-runs it from the original inputs and checks the
output hashes. The log exports to W3C PROV-JSON (:func:`export_prov`) for other tools.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._io import atomic_write_text, sha256_file
from ..errors import ParameterError, ProvenanceError

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
    "replay",
    "export_prov",
    "utc_now",
]

REDACTED = "[REDACTED]"
GENESIS_HASH = "0" * 64
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
    key = os.environ.get("WORKBENCH_PSEUDONYM_KEY")
    return [key] if key and key.strip() else []


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
    body = {k: v for k, v in record.items() if k != "hash"}
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


def _last_line(path: Path) -> bytes | None:
    """Last non-empty line of a file without reading it all."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        pos, buf = end, b""
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            stripped = buf.rstrip(b"\r\n")
            idx = stripped.rfind(b"\n")
            if idx >= 0:
                return stripped[idx + 1 :]
        stripped = buf.rstrip(b"\r\n")
        return stripped or None


# ---------------------------------------------------------------------------------------- log
class ProvenanceLog:
    """An append-only, hash-chained JSON Lines provenance log.

    Parameters
    ----------
    path : path-like, optional
        The log file; default :func:`default_log_path`.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        if path is None:
            path = default_log_path()
            if path is None:
                raise ProvenanceError("provenance recording is off (WORKBENCH_PROVENANCE=off)")
        self.path = Path(path)

    @property
    def head_path(self) -> Path:
        """Anchor file holding the count and hash of the last record."""
        return self.path.with_name(self.path.name + ".head")

    def __repr__(self) -> str:
        return f"ProvenanceLog({str(self.path)!r})"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

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
    ) -> dict[str, Any]:
        """Append one record and return it (as written, with its ``hash``).

        ``inputs``/``outputs`` are file paths, Datasets, frames or ``{path|name, sha256}`` dicts;
        files are hashed. ``parameters`` and ``recipe`` are redacted (see :func:`redact`).
        ``policy`` is the Policy (or Harmonization) in force.
        """
        from .. import __version__

        if not operation or not isinstance(operation, str):
            raise ParameterError("operation", operation, "a non-empty operation name")
        ins = [_describe_data(i) for i in inputs]
        outs = [_describe_data(o) for o in outputs]
        with self._locked():
            prev = self._tail()
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
            record["hash"] = _record_hash(record)
            line = json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            head = {"count": record["seq"] + 1, "hash": record["hash"], "operation": operation}
            atomic_write_text(self.head_path, json.dumps(head) + "\n")
        return record

    def _tail(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        last = _last_line(self.path)
        if not last:
            return None
        try:
            return json.loads(last)
        except json.JSONDecodeError:
            raise ProvenanceError(
                f"{self.path}: the last line is not a JSON record; run "
                "'workbench provenance verify' before appending"
            ) from None

    def records(self) -> list[dict[str, Any]]:
        """All records in file order (raises :class:`ProvenanceError` on a malformed line)."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ProvenanceError(
                        f"{self.path}: line {lineno} is not a JSON record ({exc.msg})"
                    ) from None
                if not isinstance(rec, dict):
                    raise ProvenanceError(f"{self.path}: line {lineno} is not a JSON object")
                out.append(rec)
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records())

    def __len__(self) -> int:
        return len(self.records())

    def verify(self) -> VerifyResult:
        """Check the hash chain; see :func:`verify_log`."""
        return verify_log(self)


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
    if recipe is not None and "argv" in recipe and "cwd" not in recipe:
        recipe = {**recipe, "cwd": str(Path.cwd())}
    return target.append(
        operation, inputs, outputs, parameters, user=user, policy=policy, recipe=recipe
    )


# ------------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class TamperIssue:
    """One break in the chain: which record (index and operation), what happened."""

    index: int
    operation: str | None
    kind: str  # edited | removed | reordered | truncated | malformed
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
    """Outcome of :func:`verify_log`."""

    path: str
    records: int
    issues: tuple[TamperIssue, ...]
    anchored: bool

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records": self.records,
            "ok": self.ok,
            "anchored": self.anchored,
            "issues": [i.to_dict() for i in self.issues],
        }


def verify_log(log: str | os.PathLike | ProvenanceLog | None = None) -> VerifyResult:
    """Detect edited, removed, reordered or truncated records and name each one.

    A record is *edited* when its stored hash differs from the hash of its content; *removed*
    when the chain skips a sequence number that appears nowhere in the log (the next record's
    ``prev_operation`` names it); *reordered* when the missing number appears later; *truncated*
    when the head anchor counts more records than the file holds.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    issues: list[TamperIssue] = []
    raw: list[dict[str, Any] | None] = []
    if plog.path.exists():
        with open(plog.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    raw.append(rec if isinstance(rec, dict) else None)
                except json.JSONDecodeError:
                    raw.append(None)
    elif not plog.head_path.exists():
        raise ProvenanceError(f"{plog.path}: provenance log not found")
    by_seq: dict[int, dict[str, Any]] = {}
    max_seq = -1
    for pos, rec in enumerate(raw):
        if rec is None:
            issues.append(
                TamperIssue(pos, None, "malformed", f"line {pos + 1} is not a valid JSON record")
            )
            continue
        op, seq = rec.get("operation"), rec.get("seq")
        if not isinstance(seq, int) or rec.get("hash") != _record_hash(rec):
            label = seq if isinstance(seq, int) else pos
            issues.append(
                TamperIssue(
                    label,
                    op,
                    "edited",
                    f"record {label} ({op}) was edited: its content no longer matches its hash",
                )
            )
            if not isinstance(seq, int):
                continue
        if seq in by_seq:
            issues.append(
                TamperIssue(seq, op, "duplicate", f"record {seq} ({op}) appears more than once")
            )
            continue
        if seq < max_seq:
            issues.append(
                TamperIssue(
                    seq,
                    op,
                    "reordered",
                    f"record {seq} ({op}) is out of order: found at position {pos}, after "
                    f"record {max_seq} ({by_seq[max_seq].get('operation')})",
                )
            )
        by_seq[seq] = rec
        max_seq = max(max_seq, seq)
    for m in range(max_seq + 1):
        if m not in by_seq:
            nxt_seq = min((s for s in by_seq if s > m), default=None)
            nxt = by_seq.get(m + 1)
            name = nxt.get("prev_operation") if nxt else None
            issues.append(
                TamperIssue(
                    m,
                    name,
                    "removed",
                    f"record {m}{f' ({name})' if name else ''} was removed: the chain jumps "
                    f"from record {m - 1} to record {nxt_seq}",
                )
            )
    edited = {i.index for i in issues if i.kind == "edited"}
    for seq, rec in sorted(by_seq.items()):
        want = GENESIS_HASH if seq == 0 else by_seq.get(seq - 1, {}).get("hash")
        if want is None or seq in edited or (seq - 1) in edited:
            continue
        if rec.get("prev_hash") != want:
            prev_op = by_seq[seq - 1].get("operation") if seq else None
            label = seq - 1 if seq else 0
            issues.append(
                TamperIssue(
                    label,
                    prev_op if seq else rec.get("operation"),
                    "edited",
                    f"record {label} ({prev_op if seq else rec.get('operation')}) was altered and "
                    f"re-hashed: record {seq} no longer links to it",
                )
            )
    issues.sort(key=lambda i: (i.index, i.kind))
    anchored = plog.head_path.exists()
    if anchored:
        try:
            head = json.loads(plog.head_path.read_text(encoding="utf-8"))
            count, head_hash = int(head["count"]), head["hash"]
        except (ValueError, KeyError, TypeError):
            issues.append(TamperIssue(len(raw), None, "malformed", "the head anchor is unreadable"))
        else:
            last = by_seq.get(max_seq)
            if count > max_seq + 1:
                for m in range(max_seq + 1, count):
                    name = head.get("operation") if m == count - 1 else None
                    issues.append(
                        TamperIssue(
                            m,
                            name,
                            "truncated",
                            f"record {m}{f' ({name})' if name else ''} was removed from the end "
                            f"of the log (the anchor counts {count} records, the log ends at "
                            f"record {max_seq})",
                        )
                    )
            elif count == max_seq + 1 and by_seq.get(max_seq, {}).get("hash") != head_hash:
                if not issues:
                    issues.append(
                        TamperIssue(
                            max_seq,
                            last.get("operation") if last else None,
                            "edited",
                            f"record {max_seq} ({last.get('operation') if last else None}) does "
                            "not match the head anchor",
                        )
                    )
    return VerifyResult(
        path=str(plog.path), records=len(raw), issues=tuple(issues), anchored=anchored
    )


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


@register_operation("sort_lines")
def _sort_lines(inputs: list[Path], outputs: list[Path], header: bool = True) -> None:
    """Deterministic reference operation: the input's lines sorted (header kept first)."""
    lines = inputs[0].read_text(encoding="utf-8").splitlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    atomic_write_text(outputs[0], "\n".join(head + sorted(body)) + "\n", sources=inputs)


@register_operation("drop_columns")
def _drop_columns(inputs: list[Path], outputs: list[Path], columns: Sequence[str] = ()) -> None:
    """Deterministic CSV transform: remove the named columns (for example direct identifiers)."""
    from ..errors import ColumnNotFoundError

    with open(inputs[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] if rows else []
    for col in columns:
        if col not in header:
            raise ColumnNotFoundError(col, header, str(inputs[0]))
    keep = [i for i, c in enumerate(header) if c not in set(columns)]

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for row in rows:
                w.writerow([row[i] for i in keep])

    from .._io import atomic_write

    atomic_write(outputs[0], write, sources=inputs)


# ------------------------------------------------------------------------------------- replay
@dataclass(frozen=True)
class ReplayResult:
    """Outcome of re-running one recorded operation."""

    index: int
    operation: str
    ok: bool
    message: str
    outputs: tuple[tuple[str, str | None, str | None], ...]  # (path, recorded, replayed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "operation": self.operation,
            "ok": self.ok,
            "message": self.message,
            "outputs": [
                {"path": p, "recorded_sha256": r, "replayed_sha256": n} for p, r, n in self.outputs
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


def _substitute_argv(argv: Sequence[str], cwd: Path, mapping: Mapping[str, str]) -> list[str]:
    """Point every argv element naming a recorded output at its replay location."""
    out = []
    for arg in argv:
        flag, eq, value = arg.partition("=")
        if eq and flag.startswith("-"):
            target = mapping.get(str((cwd / value).resolve()))
            out.append(f"{flag}={target}" if target else arg)
            continue
        target = (
            mapping.get(str((cwd / arg).resolve())) if arg and not arg.startswith("-") else None
        )
        out.append(target or arg)
    return out


def replay(
    log: str | os.PathLike | ProvenanceLog | None = None,
    record: int | None = None,
    timeout: float = 600,
) -> ReplayResult:
    """Re-run a recorded recipe from its original inputs and compare the output hashes.

    The inputs must still have their recorded hashes. Outputs are written to a temporary
    directory, never over the recorded outputs; a CLI recipe runs in a subprocess whose own
    provenance goes to a scratch log. ``record`` is the index (``seq``); default the last record
    that has a recipe.
    """
    plog = log if isinstance(log, ProvenanceLog) else ProvenanceLog(log)
    records = plog.records()
    if record is None:
        candidates = [r for r in records if r.get("recipe")]
        if not candidates:
            raise ProvenanceError(f"{plog.path}: no record has a replayable recipe")
        rec = candidates[-1]
    else:
        found = [r for r in records if r.get("seq") == record]
        if not found:
            raise ProvenanceError(f"{plog.path}: no record with index {record}")
        rec = found[0]
    index, op = int(rec["seq"]), str(rec["operation"])
    recipe = rec.get("recipe")
    if not recipe:
        raise ProvenanceError(f"record {index} ({op}) has no recipe and cannot be replayed")
    if _contains_redacted(recipe):
        raise ProvenanceError(
            f"record {index} ({op}): the recipe contains a redacted secret; pass secrets through "
            "the environment (WORKBENCH_PSEUDONYM_KEY) so that runs can be replayed"
        )
    for item in rec.get("inputs", []):
        path, recorded = item.get("path"), item.get("sha256")
        if path is None or recorded is None:
            continue
        if not Path(path).is_file():
            return ReplayResult(index, op, False, f"input {path} no longer exists", ())
        if sha256_file(path) != recorded:
            return ReplayResult(
                index, op, False, f"input {path} changed since record {index} was made", ()
            )
    outputs = [o for o in rec.get("outputs", []) if o.get("path")]
    with tempfile.TemporaryDirectory(prefix="workbench-replay-") as tmp:
        mapping = {
            o["path"]: str(Path(tmp) / f"{i}_{Path(o['path']).name}") for i, o in enumerate(outputs)
        }
        if "argv" in recipe:
            cwd = Path(recipe.get("cwd") or Path.cwd())
            argv = _substitute_argv([str(a) for a in recipe["argv"]], cwd, mapping)
            env = dict(os.environ)
            env["WORKBENCH_PROVENANCE"] = str(Path(tmp) / "replay-provenance.jsonl")
            proc = subprocess.run(
                [sys.executable, "-m", "workbench", *argv],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if proc.returncode not in (0, 1):
                tail = (proc.stderr or "").strip().splitlines()[-1:] or [""]
                return ReplayResult(
                    index, op, False, f"the command failed (exit {proc.returncode}): {tail[0]}", ()
                )
        elif "operation" in recipe:
            name = recipe["operation"]
            if name not in _OPERATIONS:
                raise ProvenanceError(
                    f"record {index} ({op}): operation {name!r} is not registered; known: "
                    f"{', '.join(registered_operations())}"
                )
            ins = [Path(i["path"]) for i in rec.get("inputs", []) if i.get("path")]
            _OPERATIONS[name](
                ins,
                [Path(mapping[o["path"]]) for o in outputs],
                **dict(recipe.get("parameters") or {}),
            )
        else:
            raise ProvenanceError(f"record {index} ({op}): recipe needs 'argv' or 'operation'")
        compared = []
        for o in outputs:
            new = Path(mapping[o["path"]])
            compared.append(
                (o["path"], o.get("sha256"), sha256_file(new) if new.is_file() else None)
            )
    ok = bool(compared) and all(r is not None and r == n for _, r, n in compared)
    if not compared:
        msg = "the record has no file outputs to compare"
    elif ok:
        msg = f"replayed record {index} ({op}): all {len(compared)} output hash(es) match"
    else:
        bad = [p for p, r, n in compared if r != n]
        msg = f"replayed record {index} ({op}): output hash differs for {', '.join(bad)}"
    return ReplayResult(index, op, ok, msg, tuple(compared))


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
