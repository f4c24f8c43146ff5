"""Per-dataset cache of what is derived from a table: class tables, search contexts.

Why: a notebook, the dashboard or a service asks many questions of one loaded table. Encoding
its columns, preparing hierarchies and building the class table cost 10-100x more than the
measures and the search themselves on small tables (issue 12, "Small data, warm"), so a warm
call reuses them.

Correctness rules, each tested in ``tests/test_cache.py``:

* Keyed by the :class:`~workbench.dataset.Dataset` object (held by a weak reference: the cache
  never keeps a dataset, nor its rows, alive; its entries go when it goes) and by what was
  asked (a kind and its parameters; hierarchies by identity, hierarchy files by path, size and
  modification time).
* Content version: the identity of the frame's storage (pandas' block manager, its index, its
  columns and each block's values). The entry holds a shallow copy of the frame, so pandas'
  copy-on-write (always on in pandas 3) must copy any block that is written to: every write
  through pandas changes the version and the entry is rebuilt, never reused stale.
* Bounded: at most :data:`MAX_ENTRIES` entries and ``WORKBENCH_CACHE_MB`` megabytes (default
  256; 0 turns caching off) by estimated size; the least recently used entry goes first.

Only pandas-backed datasets are cached: a lazy dataset (a DuckDB relation over a file) may read
a changed file on its next query, and a large one gains little from skipping its encoding.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "MAX_ENTRIES",
    "cached",
    "clear",
    "disabled",
    "estimate_nbytes",
    "read_only",
    "stats",
]

T = TypeVar("T")

#: Most entries kept over all datasets.
MAX_ENTRIES = 64
_DEFAULT_MB = 256

_lock = threading.RLock()
_entries: OrderedDict[tuple, _Entry] = OrderedDict()
_refs: dict[int, weakref.ref] = {}  # id(dataset) -> weak reference whose callback drops entries
_counts = {"hits": 0, "misses": 0, "stale": 0, "evicted": 0}
_total_bytes = 0
_off: ContextVar[bool] = ContextVar("workbench_cache_off", default=False)


@dataclass
class _Entry:
    ref: weakref.ref
    version: tuple
    pin: Any  # shallow copy of the frame: writes to the frame must copy what they touch
    value: Any
    nbytes: int


def _budget() -> int:
    try:
        mb = float(os.environ.get("WORKBENCH_CACHE_MB", _DEFAULT_MB))
    except ValueError:
        mb = _DEFAULT_MB
    return int(max(mb, 0.0) * 2**20)


def _version(frame: Any) -> tuple | None:
    """The storage objects of a pandas frame, compared by identity (``None``: not cacheable)."""
    mgr = getattr(frame, "_mgr", None)
    blocks = getattr(mgr, "blocks", None)
    if blocks is None:
        return None
    return (mgr, frame.columns, frame.index, *(b.values for b in blocks))


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _drop(dataset_id: int) -> None:
    global _total_bytes
    with _lock:
        _refs.pop(dataset_id, None)
        for k in [k for k in _entries if k[0] == dataset_id]:
            _total_bytes -= _entries.pop(k).nbytes


def _on_collected(dataset_id: int, _ref: weakref.ref) -> None:
    _drop(dataset_id)


def estimate_nbytes(value: Any, depth: int = 2) -> int:
    """Bytes held by the numpy arrays of ``value`` (its fields, mappings and sequences)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if depth < 0:
        return 0
    if isinstance(value, dict) or hasattr(value, "items") and hasattr(value, "values"):
        return sum(estimate_nbytes(v, depth - 1) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(estimate_nbytes(v, depth - 1) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(estimate_nbytes(getattr(value, f.name), depth - 1) for f in fields(value))
    attrs = getattr(value, "__dict__", None)
    if attrs is not None:
        return sum(estimate_nbytes(v, depth - 1) for v in attrs.values())
    return 0


def read_only(value: T, depth: int = 2) -> T:
    """Mark the numpy arrays of ``value`` (its fields and mappings) read-only; return it.

    A cached value is shared by every warm call: an in-place write by one caller must fail
    loudly rather than change what the next caller gets.
    """
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif depth >= 0:
        if is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                read_only(getattr(value, f.name), depth - 1)
        elif hasattr(value, "items") and hasattr(value, "values"):
            for v in value.values():
                read_only(v, depth - 1)
    return value


def cached(
    data: Any,
    kind: str,
    key: Any,
    build: Callable[[], T],
    nbytes: Callable[[T], int] = estimate_nbytes,
) -> T:
    """``build()``, or what it returned for the same dataset, content and ``(kind, key)``.

    ``key`` must be hashable and name everything ``build`` depends on besides the rows; an
    unhashable key, a dataset that is not pandas-backed or a zero budget just calls ``build``.
    """
    from ._lazy import is_pandas
    from .dataset import Dataset

    global _total_bytes
    if _off.get() or not isinstance(data, Dataset) or not is_pandas(data.data):
        return build()
    budget = _budget()
    if budget <= 0:
        return build()
    try:
        hash(key)
    except TypeError:
        return build()
    frame = data.data
    version = _version(frame)
    if version is None:
        return build()
    k = (id(data), kind, key)
    with _lock:
        entry = _entries.get(k)
        if entry is not None:
            if entry.ref() is data and _same(entry.version, version):
                _entries.move_to_end(k)
                _counts["hits"] += 1
                return entry.value
            _counts["stale"] += 1
            _total_bytes -= _entries.pop(k).nbytes
        _counts["misses"] += 1
    value = build()
    pin = frame.copy(deep=False)
    if not _same(_version(frame), version):  # written to meanwhile: do not keep
        return value
    size = int(nbytes(value))
    if size > budget:
        return value
    with _lock:
        ref = _refs.get(id(data))
        if ref is None or ref() is not data:
            ref = weakref.ref(data, functools.partial(_on_collected, id(data)))
            _refs[id(data)] = ref
        old = _entries.pop(k, None)
        if old is not None:
            _total_bytes -= old.nbytes
        _entries[k] = _Entry(ref, version, pin, value, size)
        _total_bytes += size
        while _entries and (_total_bytes > budget or len(_entries) > MAX_ENTRIES):
            _, gone = _entries.popitem(last=False)
            _total_bytes -= gone.nbytes
            _counts["evicted"] += 1
    return value


def clear() -> None:
    """Forget every entry (the counters too)."""
    global _total_bytes
    with _lock:
        _entries.clear()
        _total_bytes = 0
        for name in _counts:
            _counts[name] = 0


def stats() -> dict[str, int]:
    """Hits, misses, stale entries rebuilt, evictions, entries and estimated bytes held."""
    with _lock:
        return {**_counts, "entries": len(_entries), "bytes": _total_bytes}


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Compute everything afresh inside the block (benchmarks, reference results)."""
    token = _off.set(True)
    try:
        yield
    finally:
        _off.reset(token)
