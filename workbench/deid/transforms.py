"""De-identification transforms: small parameterised objects applied to a table.

Every transform is a frozen dataclass holding only its parameters. ``apply(data)`` never mutates
its input; it returns a :class:`TransformResult` with a new pandas DataFrame and what changed
(cells changed, cells and records suppressed). ``to_dict()`` gives the parameters for the
provenance log (secrets are never parameters: the pseudonymization key is read at apply time and
only its *source name* is recorded), and :meth:`Transform.from_dict` rebuilds the object, so a
:class:`Pipeline` round-trips through JSON.

Conventions shared by all transforms
------------------------------------
* A suppressed value is the string ``"*"`` (:data:`SUPPRESSED`), as in ARX and sdcMicro's output.
  Numeric columns that receive a ``"*"`` become ``object`` columns.
* Cells that are already ``"*"`` or missing are left alone by the value-changing transforms
  (generalization, rounding, noise, coding, PRAM), so the order of steps never "un-suppresses".
* Record suppression marks the quasi-identifiers of a whole record ``"*"`` and reports the record
  in :attr:`TransformResult.suppressed`; downstream statistics exclude such records (as ARX does).
* Row count and order never change; :class:`DropColumns` is the only transform that removes
  columns.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..dataset import Dataset, as_pandas, check_columns
from ..errors import HierarchyError, ParameterError
from .pseudonym import (
    DEFAULT_KEY_ENV,
    MIN_KEY_BYTES,
    PSEUDONYM_LENGTH,
    load_pseudonym_key,
    pseudonym_collision_probability,
    pseudonymize_values,
)

__all__ = [
    "SUPPRESSED",
    "DEFAULT_KEY_ENV",
    "MIN_KEY_BYTES",
    "HierarchyLike",
    "TransformResult",
    "Transform",
    "DropColumns",
    "Pseudonymize",
    "FullDomainGeneralization",
    "RecordSuppression",
    "LocalSuppression",
    "TopBottomCoding",
    "Rounding",
    "AdditiveNoise",
    "MultiplicativeNoise",
    "Microaggregation",
    "Pram",
    "Pipeline",
    "PipelineResult",
    "load_pseudonym_key",
    "pseudonymize_values",
    "pseudonym_collision_probability",
    "wildcard_frequencies",
    "is_k_anonymous_wildcard",
    "mdav_groups",
    "invariant_pram_matrix",
]

SUPPRESSED = "*"
"""Marker written in place of a suppressed value (cell or whole record)."""


@runtime_checkable
class HierarchyLike(Protocol):
    """Anything that maps values to a generalization level (for example ``deid.Hierarchy``)."""

    def generalize(self, values: pd.Series, level: int) -> pd.Series: ...


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TransformResult:
    """The transformed table and what the transform did to it.

    Attributes
    ----------
    data : pandas.DataFrame
        New table (same rows, same order as the input).
    transform : str
        Type name of the transform (``"local_suppression"``...).
    parameters : Mapping
        ``transform.to_dict()``: what is recorded in provenance.
    cells_changed : int
        Cells whose value differs from the input (dropped columns count every cell).
    cells_suppressed : int
        Cells newly set to ``"*"`` by this step (including those of suppressed records).
    records_suppressed : int
        Records newly suppressed as a whole by this step.
    suppressed : numpy.ndarray
        Boolean per output row: the record is suppressed (by this or an earlier pipeline step).
    details : Mapping
        Transform-specific statistics (per-column counts, PRAM matrix, MDAV group sizes...).
    """

    data: pd.DataFrame
    transform: str
    parameters: Mapping[str, Any]
    cells_changed: int
    cells_suppressed: int = 0
    records_suppressed: int = 0
    suppressed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def n_records(self) -> int:
        """Rows in the output (equal to the input)."""
        return len(self.data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (never the rows)."""
        return {
            "transform": self.transform,
            "parameters": _jsonable(self.parameters),
            "records": int(len(self.data)),
            "cells_changed": int(self.cells_changed),
            "cells_suppressed": int(self.cells_suppressed),
            "records_suppressed": int(self.records_suppressed),
            "records_suppressed_total": int(np.count_nonzero(self.suppressed)),
            "details": _jsonable(self.details),
        }

    def __repr__(self) -> str:  # never print rows
        return (
            f"TransformResult(transform={self.transform!r}, records={len(self.data)}, "
            f"cells_changed={self.cells_changed}, cells_suppressed={self.cells_suppressed}, "
            f"records_suppressed={self.records_suppressed})"
        )


# --------------------------------------------------------------------------------------------
# Base class and registry
# --------------------------------------------------------------------------------------------

_REGISTRY: dict[str, type[Transform]] = {}


class Transform:
    """Base class: subclasses are frozen dataclasses with a ``kind`` and a ``_transform``."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    # -- public API --------------------------------------------------------------------------
    def apply(self, data: Any, suppressed: np.ndarray | None = None) -> TransformResult:
        """Apply to ``data`` (Dataset, pandas, polars, DuckDB relation); the input is not changed.

        ``suppressed`` is the record-suppression mask from earlier steps (a :class:`Pipeline`
        passes it on); it is carried into the result.
        """
        source = (data.source or data.name) if isinstance(data, Dataset) else None
        original = as_pandas(data)
        check_columns(original, list(self.columns_used()), source)
        n = len(original)
        prior = (
            np.zeros(n, dtype=bool) if suppressed is None else np.asarray(suppressed, bool).copy()
        )
        if prior.shape != (n,):
            raise ParameterError("suppressed", f"array of shape {prior.shape}", f"shape ({n},)")
        out = original.copy(deep=True)
        details, new_records = self._transform(out, prior)
        changed, newly_suppressed = _count_changes(original, out)
        now_suppressed = prior | new_records
        return TransformResult(
            data=out,
            transform=self.kind,
            parameters=MappingProxyType(self.to_dict()),
            cells_changed=changed,
            cells_suppressed=newly_suppressed,
            records_suppressed=int(np.count_nonzero(new_records & ~prior)),
            suppressed=now_suppressed,
            details=MappingProxyType(details),
        )

    def columns_used(self) -> tuple[str, ...]:
        """Columns the transform reads or writes (checked before applying)."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """Parameters only, JSON-ready, with ``"type"`` naming the transform."""
        d: dict[str, Any] = {"type": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            d[f.name] = _jsonable(getattr(self, f.name))
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any], **context: Any) -> Transform:
        """Rebuild any transform from :meth:`to_dict` output (``context`` e.g. ``hierarchies``)."""
        if not isinstance(d, Mapping) or "type" not in d:
            raise ParameterError("transform", d, "a mapping with a 'type' key")
        kind = d["type"]
        if kind not in _REGISTRY:
            raise ParameterError("type", kind, f"one of {sorted(_REGISTRY)}")
        cls = _REGISTRY[kind]
        params = {k: v for k, v in d.items() if k != "type"}
        return cls._from_params(params, **context)

    @classmethod
    def _from_params(cls, params: dict[str, Any], **context: Any) -> Transform:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(params) - names)
        if unknown:
            raise ParameterError(
                unknown[0], params[unknown[0]], f"a parameter of {cls.__name__}: {sorted(names)}"
            )
        return cls(**params)

    # -- to implement ------------------------------------------------------------------------
    def _transform(
        self, df: pd.DataFrame, suppressed: np.ndarray
    ) -> tuple[dict[str, Any], np.ndarray]:
        """Change ``df`` (a private copy) in place; return (details, newly suppressed records)."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Direct identifiers: drop and pseudonymize
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DropColumns(Transform):
    """Remove columns (direct identifiers that are not needed for any join)."""

    columns: tuple[str, ...]
    kind: ClassVar[str] = "drop_columns"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def _transform(self, df, suppressed):
        df.drop(columns=list(self.columns), inplace=True)
        return {"dropped": list(self.columns)}, np.zeros(len(df), dtype=bool)


@dataclass(frozen=True)
class Pseudonymize(Transform):
    """Replace direct identifiers by keyed HMAC-SHA256 pseudonyms (hex, truncated).

    The key comes from ``key_file`` when named, else from the environment variable ``key_env``,
    at apply time (:func:`~workbench.deid.pseudonym.load_pseudonym_key`); it is never an attribute, so neither ``repr`` nor ``to_dict`` (provenance) can show it, and
    no fingerprint of it is recorded: only the source name ("env:WORKBENCH_PSEUDONYM_KEY").
    Truncation to ``length`` hex characters gives ``4 * length`` bits; see
    :func:`pseudonym_collision_probability`.
    """

    columns: tuple[str, ...]
    key_env: str = DEFAULT_KEY_ENV
    key_file: str | None = None
    length: int = PSEUDONYM_LENGTH
    strip: bool = True
    casefold: bool = False
    kind: ClassVar[str] = "pseudonymize"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        if self.key_file is not None:
            object.__setattr__(self, "key_file", str(self.key_file))
        if not isinstance(self.length, int) or not 1 <= self.length <= 64:
            raise ParameterError(
                "length", self.length, "an integer between 1 and 64 hex characters"
            )
        if not self.key_env:
            raise ParameterError("key_env", self.key_env, "an environment variable name")

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        # the key rule of workbench.deid.pseudonym: a named key file wins over the environment
        d["key_source"] = f"file:{self.key_file}" if self.key_file else f"env:{self.key_env}"
        return d

    @classmethod
    def _from_params(cls, params, **context):
        params = {k: v for k, v in params.items() if k != "key_source"}
        return super()._from_params(params, **context)

    def _transform(self, df, suppressed):
        key, source = load_pseudonym_key(self.key_env, self.key_file)
        for col in self.columns:
            values = pseudonymize_values(
                df[col].tolist(), key, self.length, self.strip, self.casefold
            )
            df[col] = pd.Series(values, index=df.index, dtype="str")
        del key
        n_distinct = {c: int(df[c].nunique()) for c in self.columns}
        return (
            {
                "key_source": source,
                "distinct_pseudonyms": n_distinct,
                "collision_probability": {
                    c: pseudonym_collision_probability(v, self.length)
                    for c, v in n_distinct.items()
                },
            },
            np.zeros(len(df), dtype=bool),
        )


# --------------------------------------------------------------------------------------------
# Generalization and suppression
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FullDomainGeneralization(Transform):
    """Replace every value of each column by its ancestor at one hierarchy level (full domain).

    Full-domain generalization (Samarati 2001; LeFevre, DeWitt & Ramakrishnan 2005 "Incognito"):
    the same level is used for every record. ``hierarchies`` maps a column to any object with
    ``generalize(values, level)`` (for example :class:`workbench.deid.hierarchy.Hierarchy`).
    Missing values and ``"*"`` are left as they are (not passed to the hierarchy).
    """

    levels: Mapping[str, int]
    hierarchies: Mapping[str, HierarchyLike]
    kind: ClassVar[str] = "generalize"

    def __post_init__(self) -> None:
        levels = dict(self.levels)
        for col, lev in levels.items():
            if not isinstance(lev, (int, np.integer)) or lev < 0:
                raise ParameterError(f"levels[{col!r}]", lev, "an integer >= 0")
        missing = [c for c in levels if c not in self.hierarchies]
        if missing:
            raise HierarchyError(
                f"no hierarchy given for column {missing[0]!r}; "
                f"hierarchies are given for {sorted(self.hierarchies)}"
            )
        for col, h in self.hierarchies.items():
            if not hasattr(h, "generalize"):
                raise HierarchyError(
                    f"hierarchy for column {col!r} has no generalize(values, level) method"
                )
        object.__setattr__(self, "levels", MappingProxyType({c: int(v) for c, v in levels.items()}))
        object.__setattr__(self, "hierarchies", MappingProxyType(dict(self.hierarchies)))

    def columns_used(self) -> tuple[str, ...]:
        return tuple(self.levels)

    def to_dict(self) -> dict[str, Any]:
        hier = {}
        for col in self.levels:
            h = self.hierarchies[col]
            hier[col] = (
                _jsonable(h.to_dict()) if hasattr(h, "to_dict") else {"class": type(h).__name__}
            )
        return {"type": self.kind, "levels": dict(self.levels), "hierarchies": hier}

    @classmethod
    def _from_params(
        cls, params, hierarchies: Mapping[str, HierarchyLike] | None = None, **context
    ):
        levels = params.get("levels") or {}
        if hierarchies is None:
            hierarchies = {}
            stored = params.get("hierarchies") or {}
            for col in levels:
                hierarchies[col] = _hierarchy_from_dict(col, stored.get(col))
        return cls(levels=levels, hierarchies=hierarchies)

    def _transform(self, df, suppressed):
        per_col = {}
        for col, level in self.levels.items():
            s = df[col]
            keep = s.isna() | _is_star(s)
            todo = s[~keep]
            new = self.hierarchies[col].generalize(todo, level)
            if len(new) != len(todo):
                raise HierarchyError(
                    f"hierarchy for column {col!r} returned {len(new)} values for "
                    f"{len(todo)} inputs at level {level}"
                )
            result = s.astype(object).copy()
            result.iloc[np.flatnonzero(~keep)] = np.asarray(new, dtype=object)
            df[col] = _tidy_dtype(result)
            per_col[col] = {
                "level": level,
                "distinct_before": int(s.nunique()),
                "distinct_after": int(df[col].nunique()),
            }
        return {"columns": per_col}, np.zeros(len(df), dtype=bool)


def _hierarchy_from_dict(col: str, stored: Any) -> HierarchyLike:
    try:
        from .hierarchy import Hierarchy  # E's module; optional until it exists
    except ImportError as exc:  # pragma: no cover - depends on the other module
        raise HierarchyError(
            f"cannot rebuild the hierarchy for column {col!r}: pass hierarchies=... to from_dict"
        ) from exc
    if not isinstance(stored, Mapping) or not hasattr(Hierarchy, "from_dict"):
        raise HierarchyError(
            f"no stored hierarchy for column {col!r}; pass hierarchies=... to from_dict"
        )
    return Hierarchy.from_dict(stored)


@dataclass(frozen=True)
class RecordSuppression(Transform):
    """Suppress whole records whose equivalence class on ``qis`` is smaller than ``k``.

    Suppressed records keep their row, with every quasi-identifier set to ``"*"`` (ARX's
    convention, Prasser et al. 2014), and are flagged in :attr:`TransformResult.suppressed`
    so class statistics and utility exclude them. Classes are exact matches; a missing value is
    a category of its own; records already suppressed by an earlier step are not counted.
    """

    qis: tuple[str, ...]
    k: int = 2
    kind: ClassVar[str] = "record_suppression"

    def __post_init__(self) -> None:
        object.__setattr__(self, "qis", _as_columns(self.qis, "qis"))
        _check_k(self.k)

    def columns_used(self) -> tuple[str, ...]:
        return self.qis

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        sub = df.iloc[active]
        codes = (
            np.column_stack(
                [pd.factorize(sub[c].astype(object), use_na_sentinel=False)[0] for c in self.qis]
            )
            if len(sub)
            else np.zeros((0, len(self.qis)), int)
        )
        _, inv, counts = np.unique(_row_keys(codes), return_inverse=True, return_counts=True)
        small = np.zeros(len(df), dtype=bool)
        small[active] = counts[inv] < self.k
        _set_star(df, small, self.qis)
        return (
            {
                "classes": int(len(counts)),
                "classes_suppressed": int((counts < self.k).sum()),
                "records_suppressed": int(small.sum()),
            },
            small,
        )


def _is_star(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return np.zeros(len(s), dtype=bool)
    return (s.astype(object) == SUPPRESSED).to_numpy(dtype=bool)


def _set_star(df: pd.DataFrame, mask: np.ndarray, columns: Sequence[str]) -> None:
    if not mask.any():
        return
    for col in columns:
        s = df[col]
        if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            s = s.astype(object)
        else:
            s = s.copy()
        s.iloc[np.flatnonzero(mask)] = SUPPRESSED
        df[col] = s


def _encode_wildcard(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Integer codes per column; missing and ``"*"`` become -1 (wildcard)."""
    codes = np.empty((len(df), len(columns)), dtype=np.int64)
    for j, col in enumerate(columns):
        s = df[col]
        star = _is_star(s)
        c, _ = pd.factorize(s.astype(object).where(~star, None), use_na_sentinel=True)
        codes[:, j] = c
    return codes


def _row_keys(sub: np.ndarray) -> np.ndarray:
    """One int64 per row identifying its (non-negative) codes, via mixed radix or np.unique."""
    if sub.shape[1] == 0:
        return np.zeros(sub.shape[0], dtype=np.int64)
    radices = sub.max(axis=0).astype(np.float64) + 1
    if np.prod(radices) < 2**62:
        key = np.zeros(sub.shape[0], dtype=np.int64)
        for j in range(sub.shape[1]):
            key = key * int(radices[j]) + sub[:, j]
        return key
    _, inv = np.unique(sub, axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def wildcard_frequencies(codes: np.ndarray) -> np.ndarray:
    """Sample frequency ``fk`` of each record with missing/suppressed values as wildcards.

    ``fk_i`` counts the records ``j`` (itself included) that agree with ``i`` on every key
    variable where both are known: a suppressed cell matches anything, as sdcMicro's
    ``freqCalc`` does with ``alpha = 1`` (Templ, Kowarik & Meindl 2015, J. Stat. Softw. 67(4)).
    ``codes`` is ``(n, m)`` int with negative values for wildcards. Work is done per pair of
    missingness patterns, so cost grows with the number of patterns, not with ``n**2``.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n, m = codes.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    wild = codes < 0
    pattern = (
        (wild.astype(np.int64) << np.arange(m, dtype=np.int64)).sum(axis=1)
        if m
        else np.zeros(n, np.int64)
    )
    patterns = np.unique(pattern)
    members = {int(p): np.flatnonzero(pattern == p) for p in patterns}
    fk = np.zeros(n, dtype=np.int64)
    for a in patterns:
        ia = members[int(a)]
        for b in patterns:
            jb = members[int(b)]
            known = [c for c in range(m) if not ((int(a) | int(b)) >> c) & 1]
            if not known:
                fk[ia] += len(jb)
                continue
            keys = _row_keys(np.concatenate([codes[ia][:, known], codes[jb][:, known]]))
            uniq, inv = np.unique(keys, return_inverse=True)
            counts = np.bincount(inv[len(ia) :], minlength=len(uniq))
            fk[ia] += counts[inv[: len(ia)]]
    return fk


def is_k_anonymous_wildcard(data: Any, qis: Sequence[str], k: int) -> bool:
    """True when every record has wildcard ``fk >= k`` on ``qis`` (see :func:`wildcard_frequencies`)."""
    df = as_pandas(data)
    check_columns(df, list(qis))
    if len(df) == 0:
        return True
    return bool(wildcard_frequencies(_encode_wildcard(df, qis)).min() >= k)


@dataclass(frozen=True)
class LocalSuppression(Transform):
    """Suppress single cells of quasi-identifiers until every record has wildcard ``fk >= k``.

    Semantics follow sdcMicro's ``localSuppression`` (Templ 2017, *Statistical Disclosure
    Control for Microdata*, Springer, sec. 3.5; Templ, Kowarik & Meindl 2015): a suppressed cell
    becomes ``"*"`` and matches any value when frequencies are counted (missing values already
    in the data are wildcards too), and among records violating k the values of the *least
    important* quasi-identifier are suppressed first.

    ``importance`` lists the quasi-identifiers from most to least important (least likely to be
    suppressed first). By default, as in sdcMicro, variables with more categories are less
    important.

    ``method="greedy"`` is a heuristic, not guaranteed minimal: records violating k are taken
    in increasing order of ``fk``; for each, the least important column whose suppression
    alone reaches k is suppressed, otherwise the least important column in which it differs
    from its nearest records (sdcMicro's rule); finally every suppression that is not needed
    is undone, most important columns first. The result is verified to be k-anonymous.
    ``method="exact"`` finds a minimum number of suppressed cells (ties broken by importance:
    fewest cells in the most important column first) by exhaustive search; it is exponential and
    refused above ``max_exact_cells`` candidate cells. Both methods, like sdcMicro, suppress only
    cells of records that violate k at the start (suppressing a safe record so that it "covers"
    a risky one would leave the risky record's values published in full).
    """

    qis: tuple[str, ...]
    k: int = 2
    importance: tuple[str, ...] | None = None
    method: str = "greedy"
    max_exact_cells: int = 20
    kind: ClassVar[str] = "local_suppression"

    def __post_init__(self) -> None:
        object.__setattr__(self, "qis", _as_columns(self.qis, "qis"))
        _check_k(self.k)
        if self.importance is not None:
            imp = _as_columns(self.importance, "importance")
            if sorted(imp) != sorted(self.qis):
                raise ParameterError(
                    "importance",
                    list(imp),
                    f"the quasi-identifiers {list(self.qis)} in order of importance",
                )
            object.__setattr__(self, "importance", imp)
        if self.method not in ("greedy", "exact"):
            raise ParameterError("method", self.method, "'greedy' or 'exact'")

    def columns_used(self) -> tuple[str, ...]:
        return self.qis

    def resolved_importance(self, df: pd.DataFrame) -> tuple[str, ...]:
        """Importance order used: the given one, or fewer categories = more important."""
        if self.importance is not None:
            return self.importance
        n_cat = {c: int(df[c].nunique(dropna=True)) for c in self.qis}
        return tuple(sorted(self.qis, key=lambda c: n_cat[c]))

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        if 0 < len(active) < self.k:
            raise ParameterError("k", self.k, f"at most the number of records ({len(active)})")
        importance = self.resolved_importance(df)
        rank = np.array([importance.index(c) for c in self.qis])  # 0 = most important
        codes = _encode_wildcard(df.iloc[active], self.qis)
        before = codes < 0
        if self.method == "exact":
            new_codes = _exact_local_suppression(codes, self.k, rank, self.max_exact_cells)
        else:
            new_codes = _greedy_local_suppression(codes, self.k, rank)
        fk = wildcard_frequencies(new_codes)
        if len(fk) and fk.min() < self.k:  # pragma: no cover - guarded by construction
            raise AssertionError("local suppression did not reach k")
        newly = (new_codes < 0) & ~before
        full = np.zeros((len(df), len(self.qis)), dtype=bool)
        full[active] = newly
        for j, col in enumerate(self.qis):
            _set_star(df, full[:, j], [col])
        per_col = {c: int(full[:, j].sum()) for j, c in enumerate(self.qis)}
        return (
            {
                "importance": list(importance),
                "method": self.method,
                "suppressed_per_column": per_col,
                "cells_suppressed": int(full.sum()),
                "records_with_suppression": int(full.any(axis=1).sum()),
                "min_fk": int(fk.min()) if len(fk) else None,
            },
            np.zeros(len(df), dtype=bool),
        )


class _PatternTable:
    """Distinct key patterns with multiplicities and their wildcard frequencies, kept current.

    Patterns are stored column-major (``cols[c, :size]``) so that the compatibility of one row
    with every pattern is a few vector operations per known column.
    """

    def __init__(self, codes: np.ndarray) -> None:
        uniq, first, inv, counts = np.unique(
            codes, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        self.m = codes.shape[1]
        self.size = len(uniq)
        cap = max(16, 2 * self.size)
        self.cols = np.full((self.m, cap), -1, dtype=np.int64)
        self.cols[:, : self.size] = uniq.T
        self.counts = np.zeros(cap, dtype=np.int64)
        self.counts[: self.size] = counts
        self.record = inv.reshape(-1).astype(np.int64)
        self.index = {tuple(r): i for i, r in enumerate(uniq.tolist())}
        self.fk = np.zeros(cap, dtype=np.int64)
        self.fk[: self.size] = wildcard_frequencies(codes)[first]

    def row(self, i: int) -> np.ndarray:
        return self.cols[:, i].copy()

    def compat(self, i: int, row: np.ndarray | None = None) -> np.ndarray:
        """Boolean per pattern (first ``size``): compatible with pattern ``i`` or ``row``."""
        v = self.cols[:, i] if row is None else row
        ok = np.ones(self.size, dtype=bool)
        for c in range(self.m):
            if v[c] >= 0:
                col = self.cols[c, : self.size]
                ok &= (col == v[c]) | (col < 0)
        return ok

    def mismatches(self, v: np.ndarray) -> np.ndarray:
        """``(size, m)`` bool: pattern and ``v`` both known and different in that column."""
        mis = np.zeros((self.size, self.m), dtype=bool)
        for c in range(self.m):
            if v[c] >= 0:
                col = self.cols[c, : self.size]
                mis[:, c] = (col != v[c]) & (col >= 0)
        return mis

    def _pattern(self, row: np.ndarray) -> int:
        t = tuple(int(x) for x in row)
        i = self.index.get(t)
        if i is None:
            if self.size == self.cols.shape[1]:
                grow = self.cols.shape[1]
                self.cols = np.concatenate([self.cols, np.full((self.m, grow), -1, np.int64)], 1)
                self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
                self.fk = np.concatenate([self.fk, np.zeros(grow, np.int64)])
            i = self.size
            self.cols[:, i] = row
            self.size += 1
            self.index[t] = i
            self.fk[i] = int(self.compat(i) @ self.counts[: self.size])
        return i

    def move(self, src: int, dst_row: np.ndarray, records: np.ndarray) -> int:
        """Move ``records`` (all currently in pattern ``src``) to the pattern ``dst_row``."""
        dst = self._pattern(dst_row)
        x = len(records)
        c_src, c_dst = self.compat(src), self.compat(dst)
        self.fk[: self.size] += x * (c_dst.astype(np.int64) - c_src.astype(np.int64))
        self.counts[src] -= x
        self.counts[dst] += x
        self.record[records] = dst
        return dst

    def codes(self) -> np.ndarray:
        return self.cols[:, self.record].T.copy()


def _greedy_local_suppression(codes: np.ndarray, k: int, rank: np.ndarray) -> np.ndarray:
    n, m = codes.shape
    if n == 0 or m == 0:
        return codes.copy()
    t = _PatternTable(codes)
    least_first = np.argsort(-rank, kind="stable")  # least important column first
    order = np.argsort(t.fk[: t.size], kind="stable")
    for p in order:
        p = int(p)
        while t.counts[p] > 0 and t.fk[p] < k:
            v = t.row(p)
            known = v >= 0
            mis = t.mismatches(v)
            nmis = mis.sum(axis=1)
            counts = t.counts[: t.size]
            live = counts > 0
            base = int(counts[live & (nmis == 0)].sum())
            one = live & (nmis == 1)
            col = None
            for c in least_first:
                if known[c] and base + int(counts[one & mis[:, c]].sum()) >= k:
                    col = int(c)
                    break
            if col is None:
                far = live & (nmis > 0)
                if far.any():
                    near = far & (nmis == nmis[far].min())
                    cand = mis[near].any(axis=0)
                    col = next(int(c) for c in least_first if cand[c])
                else:  # pragma: no cover - only when k > n, refused earlier
                    col = next(int(c) for c in least_first if known[c])
            v[col] = -1
            p = t.move(p, v, np.flatnonzero(t.record == p))
    _prune(t, codes, k, rank)
    return t.codes()


def _prune(t: _PatternTable, original: np.ndarray, k: int, rank: np.ndarray) -> None:
    """Undo suppressions that k-anonymity does not need, most important columns first.

    Restoring cell ``(i, c)`` makes record ``i`` more specific: records that matched it only
    through the wildcard lose one from their ``fk``, and ``i``'s own ``fk`` becomes the number
    of records matching the restored row. The cell is restored when both stay ``>= k``.
    """
    suppressed = np.argwhere((t.codes() < 0) & (original >= 0))
    if len(suppressed) == 0:
        return
    order = np.lexsort((suppressed[:, 0], rank[suppressed[:, 1]]))
    for i, c in suppressed[order]:
        src = int(t.record[i])
        row = t.row(src)
        row[c] = original[i, c]
        live = t.counts[: t.size] > 0
        c_new = t.compat(src, row)
        lose = t.compat(src) & ~c_new & live
        if np.any(t.fk[: t.size][lose] - 1 < k):
            continue
        if int(t.counts[: t.size][c_new & live].sum()) < k:  # i itself is counted through src
            continue
        t.move(src, row, np.array([i]))


def _exact_local_suppression(
    codes: np.ndarray, k: int, rank: np.ndarray, max_cells: int
) -> np.ndarray:
    n, m = codes.shape
    risky = wildcard_frequencies(codes) < k if n else np.zeros(0, dtype=bool)
    cells = [(i, c) for i in range(n) for c in range(m) if risky[i] and codes[i, c] >= 0]
    if len(cells) > max_cells:
        raise ParameterError(
            "method",
            "exact",
            f"at most max_exact_cells={max_cells} known cells (got {len(cells)}); "
            "use method='greedy'",
        )
    if not risky.any():
        return codes.copy()
    m_rank = int(rank.max()) + 1 if m else 0
    for size in range(1, len(cells) + 1):
        best = None
        best_key = None
        for combo in itertools.combinations(cells, size):
            trial = codes.copy()
            for i, c in combo:
                trial[i, c] = -1
            if wildcard_frequencies(trial).min() >= k:
                per_rank = [0] * m_rank
                for _, c in combo:
                    per_rank[int(rank[c])] += 1
                key = (tuple(per_rank), combo)  # fewest cells in the most important columns
                if best_key is None or key < best_key:
                    best, best_key = trial, key
        if best is not None:
            return best
    return np.full_like(codes, -1)  # pragma: no cover - all cells suppressed always works


# --------------------------------------------------------------------------------------------
# Numeric recodings
# --------------------------------------------------------------------------------------------


def _numeric(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Float values of ``col`` and a mask of cells to leave alone (missing or ``"*"``)."""
    s = df[col]
    star = _is_star(s)
    values = pd.to_numeric(s.astype(object).where(~star, None), errors="coerce")
    bad = values.isna().to_numpy() & s.notna().to_numpy() & ~star
    if bad.any():
        example = "non-numeric value(s)"
        raise ParameterError(col, example, "a numeric column (missing values and '*' allowed)")
    arr = values.to_numpy(dtype=np.float64, copy=True)
    return arr, np.isnan(arr)


def _write_numeric(
    df: pd.DataFrame, col: str, new: np.ndarray, skip: np.ndarray, keep_int: bool = False
) -> None:
    s = df[col]
    star = _is_star(s)
    if not star.any() and pd.api.types.is_numeric_dtype(s.dtype):
        if keep_int and pd.api.types.is_integer_dtype(s.dtype) and not skip.any():
            df[col] = pd.Series(np.rint(new).astype(s.dtype), index=df.index)
        elif keep_int and pd.api.types.is_integer_dtype(s.dtype):  # nullable Int64 with NA
            df[col] = pd.Series(new, index=df.index).round().astype("Int64")
        else:
            out = np.where(skip, np.nan, new)
            df[col] = pd.Series(out, index=df.index, dtype=np.float64)
        return
    obj = s.astype(object).copy()
    pos = np.flatnonzero(~skip)
    values = new[pos].tolist()
    if keep_int:
        values = [int(v) if float(v).is_integer() else v for v in values]
    obj.iloc[pos] = values
    df[col] = obj


@dataclass(frozen=True)
class TopBottomCoding(Transform):
    """Replace values above ``top`` (below ``bottom``) by a replacement (sdcMicro ``topBotCoding``).

    As in sdcMicro, values strictly greater than ``top`` become ``top_replacement`` (default
    ``top``) and values strictly below ``bottom`` become ``bottom_replacement`` (default
    ``bottom``). Reference: Hundepool et al. (2012), *Statistical Disclosure Control*, sec. 3.4.
    """

    column: str
    top: float | None = None
    bottom: float | None = None
    top_replacement: float | None = None
    bottom_replacement: float | None = None
    kind: ClassVar[str] = "top_bottom_coding"

    def __post_init__(self) -> None:
        if self.top is None and self.bottom is None:
            raise ParameterError("top/bottom", None, "at least one of top or bottom")
        if self.top is not None and self.bottom is not None and self.bottom > self.top:
            raise ParameterError("bottom", self.bottom, f"at most top={self.top}")

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def _transform(self, df, suppressed):
        x, skip = _numeric(df, self.column)
        new = x.copy()
        n_top = n_bottom = 0
        if self.top is not None:
            hit = ~skip & (x > self.top)
            new[hit] = self.top if self.top_replacement is None else self.top_replacement
            n_top = int(hit.sum())
        if self.bottom is not None:
            hit = ~skip & (x < self.bottom)
            new[hit] = self.bottom if self.bottom_replacement is None else self.bottom_replacement
            n_bottom = int(hit.sum())
        integral = all(
            v is None or float(v).is_integer()
            for v in (self.top, self.bottom, self.top_replacement, self.bottom_replacement)
        )
        _write_numeric(df, self.column, new, skip, keep_int=integral)
        return {"top_coded": n_top, "bottom_coded": n_bottom}, np.zeros(len(df), dtype=bool)


@dataclass(frozen=True)
class Rounding(Transform):
    """Round numeric values to a multiple of ``base`` (e.g. nearest 5).

    ``mode="nearest"`` rounds halves up (12.5 -> 15 for base 5), unlike numpy's half-to-even,
    so the rule is the one a reader expects; ``"down"``/``"up"`` use floor/ceiling. Rounding is
    a standard non-perturbative recoding (Hundepool et al. 2012, sec. 3.4).
    """

    columns: tuple[str, ...]
    base: float = 5
    mode: str = "nearest"
    kind: ClassVar[str] = "rounding"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        if not (isinstance(self.base, (int, float)) and self.base > 0 and math.isfinite(self.base)):
            raise ParameterError("base", self.base, "a positive number")
        if self.mode not in ("nearest", "down", "up"):
            raise ParameterError("mode", self.mode, "'nearest', 'down' or 'up'")

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def _transform(self, df, suppressed):
        fn = {"nearest": lambda q: np.floor(q + 0.5), "down": np.floor, "up": np.ceil}[self.mode]
        decimals = max(0, -int(math.floor(math.log10(self.base))) + 6)
        for col in self.columns:
            x, skip = _numeric(df, col)
            with np.errstate(invalid="ignore"):
                new = np.round(fn(x / self.base) * self.base, decimals)
            _write_numeric(df, col, new, skip, keep_int=float(self.base).is_integer())
        return {}, np.zeros(len(df), dtype=bool)


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class _Noise(Transform):
    """Shared parameters and checks of the seeded noise transforms."""

    columns: tuple[str, ...]
    noise: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        if not (isinstance(self.noise, (int, float)) and self.noise >= 0):
            raise ParameterError("noise", self.noise, "a percentage >= 0")

    def columns_used(self) -> tuple[str, ...]:
        return self.columns


@dataclass(frozen=True)
class AdditiveNoise(_Noise):
    """Add Gaussian noise with standard deviation ``noise`` % of each column's std.

    As sdcMicro ``addNoise(method="additive")``: ``x + N(0, (noise/100 * sd(x))^2)`` with the
    sample standard deviation (n - 1); default ``noise=150`` as sdcMicro. Reference: Brand
    (2002), "Microdata protection through noise addition", LNCS 2316; Domingo-Ferrer, Sebé &
    Castellà (2004), LNCS 3050. The seed makes the result reproducible; whoever holds the seed
    and the release can remove the noise, so keep provenance records as protected as the
    original data.
    """

    columns: tuple[str, ...]
    noise: float = 150.0
    seed: int | None = None
    kind: ClassVar[str] = "additive_noise"

    def _transform(self, df, suppressed):
        rng = _rng(self.seed)
        sds = {}
        for col in self.columns:
            x, skip = _numeric(df, col)
            valid = x[~skip]
            sd = float(np.std(valid, ddof=1)) if len(valid) > 1 else 0.0
            sds[col] = sd
            new = x + rng.standard_normal(len(x)) * (self.noise / 100.0 * sd)
            _write_numeric(df, col, new, skip)
        return {"noise_sd": sds}, np.zeros(len(df), dtype=bool)


@dataclass(frozen=True)
class MultiplicativeNoise(_Noise):
    """Multiply values by ``1 + e`` with ``e ~ N(0, (noise/100)^2)``.

    Multiplicative noise keeps the relative error constant, which suits skewed variables such
    as income (Kim & Winkler 2003, "Multiplicative noise for masking continuous data", US
    Census Bureau RR 2003-01; Hundepool et al. 2012, sec. 3.3). Seeded; see
    :class:`AdditiveNoise` about keeping the seed protected.
    """

    columns: tuple[str, ...]
    noise: float = 10.0
    seed: int | None = None
    kind: ClassVar[str] = "multiplicative_noise"

    def _transform(self, df, suppressed):
        rng = _rng(self.seed)
        for col in self.columns:
            x, skip = _numeric(df, col)
            new = x * (1.0 + rng.standard_normal(len(x)) * self.noise / 100.0)
            _write_numeric(df, col, new, skip)
        return {}, np.zeros(len(df), dtype=bool)


# --------------------------------------------------------------------------------------------
# Microaggregation (MDAV)
# --------------------------------------------------------------------------------------------


def mdav_groups(x: np.ndarray, k: int) -> np.ndarray:
    """Group labels from MDAV on the rows of ``x`` (already standardized).

    Maximum Distance to Average Vector (Domingo-Ferrer & Mateo-Sanz 2002, IEEE TKDE 14(1);
    Domingo-Ferrer & Torra 2005, DMKD 11(2)): while at least 3k records remain, take the record
    ``r`` farthest from the centroid and the record ``s`` farthest from ``r``, and form a group
    of each with its k-1 nearest records; with 2k..3k-1 left, form one group around the
    farthest record and put the rest in a last group; with fewer than 2k left they form one
    group. Every group has at least k records and fewer than 2k.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    _check_k(k)
    if n < k:
        raise ParameterError("k", k, f"at most the number of records ({n})")
    labels = np.full(n, -1, dtype=np.int64)
    idx = np.arange(n)
    g = 0

    def take_group(center_pos: int, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = ((x[pool] - x[pool[center_pos]]) ** 2).sum(axis=1)
        d[center_pos] = -1.0  # the centre itself always belongs to its group
        near = np.argpartition(d, k - 1)[:k]
        rest = np.ones(len(pool), dtype=bool)
        rest[near] = False
        return pool[near], pool[rest]

    while len(idx) >= 3 * k:
        xr = x[idx]
        centroid = xr.mean(axis=0)
        r = int(np.argmax(((xr - centroid) ** 2).sum(axis=1)))
        s_rec = idx[int(np.argmax(((xr - xr[r]) ** 2).sum(axis=1)))]
        grp, idx = take_group(r, idx)
        labels[grp] = g
        g += 1
        pos = np.flatnonzero(idx == s_rec)
        if len(pos) == 0:  # ties put s in r's group: use the farthest remaining record
            xr = x[idx]
            pos = [int(np.argmax(((xr - x[s_rec]) ** 2).sum(axis=1)))]
        grp, idx = take_group(int(pos[0]), idx)
        labels[grp] = g
        g += 1
    if len(idx) >= 2 * k:
        xr = x[idx]
        r = int(np.argmax(((xr - xr.mean(axis=0)) ** 2).sum(axis=1)))
        grp, idx = take_group(r, idx)
        labels[grp] = g
        g += 1
    if len(idx):
        labels[idx] = g
    return labels


@dataclass(frozen=True)
class Microaggregation(Transform):
    """Multivariate microaggregation with MDAV, replacing values by their group means.

    Variables are standardized (z-scores; constant columns are left unscaled) before distances
    are computed, as in Domingo-Ferrer & Torra (2005) and sdcMicro's ``mdav``; each group has at
    least ``k`` and fewer than ``2k`` records. The result's details give the group sizes and the
    information loss SSE/SST on the standardized values (Domingo-Ferrer & Mateo-Sanz 2002).
    Missing or ``"*"`` values are refused: impute or suppress after microaggregating.
    """

    columns: tuple[str, ...]
    k: int = 3
    kind: ClassVar[str] = "microaggregation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        _check_k(self.k)

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def _transform(self, df, suppressed):
        active = np.flatnonzero(~suppressed)
        cols = []
        for col in self.columns:
            x, skip = _numeric(df, col)
            if skip[active].any():
                raise ParameterError(
                    col, "missing or '*' values", "complete numeric values for microaggregation"
                )
            cols.append(x[active])
        x = np.column_stack(cols) if cols else np.zeros((len(active), 0))
        if len(active) == 0:
            return {"groups": 0}, np.zeros(len(df), dtype=bool)
        sd = x.std(axis=0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
        sd = np.where(sd > 0, sd, 1.0)
        z = (x - x.mean(axis=0)) / sd
        labels = mdav_groups(z, self.k)
        n_groups = int(labels.max()) + 1
        sizes = np.bincount(labels, minlength=n_groups)
        means = np.vstack(
            [
                np.bincount(labels, weights=x[:, j], minlength=n_groups) / sizes
                for j in range(x.shape[1])
            ]
        ).T
        agg = means[labels]
        zm = (agg - x.mean(axis=0)) / sd
        sse = float(((z - zm) ** 2).sum())
        sst = float((z**2).sum())
        for j, col in enumerate(self.columns):
            full, skip = _numeric(df, col)
            full[active] = agg[:, j]
            _write_numeric(df, col, full, skip)
        return (
            {
                "groups": n_groups,
                "min_group_size": int(sizes.min()),
                "max_group_size": int(sizes.max()),
                "sse_sst": sse / sst if sst > 0 else 0.0,
            },
            np.zeros(len(df), dtype=bool),
        )


# --------------------------------------------------------------------------------------------
# PRAM
# --------------------------------------------------------------------------------------------


def invariant_pram_matrix(p: np.ndarray, freqs: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Invariant PRAM matrix ``alpha * P Q + (1 - alpha) * I`` for transition matrix ``P``.

    ``Q_kj = P_jk T_j / sum_l P_lk T_l`` (Kooiman, Willenborg & Gouweleeuw 1997; Gouweleeuw,
    Kooiman, Willenborg & de Wolf 1998, J. Off. Stat. 14(4)), so ``T (P Q) = T``: the expected
    frequencies after PRAM equal the observed ones. Mixing with the identity (sdcMicro's
    ``alpha``) keeps invariance and reduces perturbation. Categories with zero frequency keep a
    well-defined row (their ``Q`` column is never used when ``T_j = 0``).
    """
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(freqs, dtype=np.float64)
    tp = t @ p  # expected frequencies after P: sum_l T_l P_lk
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (p * t[:, None]).T / tp[:, None]  # q[k, j] = P_jk T_j / tp_k
    q = np.nan_to_num(q, nan=0.0)
    zero = tp == 0
    q[zero] = np.eye(len(t))[zero]
    r = p @ q
    rs = alpha * r + (1.0 - alpha) * np.eye(len(t))
    return rs / rs.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Pram(Transform):
    """Post-randomization of a categorical column with an invariant transition matrix.

    Implements sdcMicro's ``pram`` construction: diagonal entries drawn uniformly from
    ``[pd, 1]``, the rest of each row spread evenly, then made invariant with
    :func:`invariant_pram_matrix` and mixed with the identity by ``alpha``. A custom
    ``transition`` (row category -> column category -> probability, rows summing to 1) can be
    given; it is made invariant unless ``invariant=False``. Categories are the sorted observed
    values; missing and ``"*"`` stay unchanged. Seeded for reproducibility (see
    :class:`AdditiveNoise` about the seed). The matrix used is returned in ``details`` so
    analysts can correct estimates (Gouweleeuw et al. 1998).
    """

    column: str
    pd: float = 0.8
    alpha: float = 0.5
    seed: int | None = None
    transition: Mapping[str, Mapping[str, float]] | None = None
    invariant: bool = True
    kind: ClassVar[str] = "pram"

    def __post_init__(self) -> None:
        if not (isinstance(self.pd, (int, float)) and 0 <= self.pd <= 1):
            raise ParameterError("pd", self.pd, "a number in [0, 1]")
        if not (isinstance(self.alpha, (int, float)) and 0 <= self.alpha <= 1):
            raise ParameterError("alpha", self.alpha, "a number in [0, 1]")
        if self.transition is not None:
            tr = {
                str(a): {str(b): float(v) for b, v in row.items()}
                for a, row in self.transition.items()
            }
            for a, row in tr.items():
                if any(v < 0 for v in row.values()) or abs(sum(row.values()) - 1) > 1e-9:
                    raise ParameterError(
                        f"transition[{a!r}]", row, "probabilities >= 0 summing to 1"
                    )
            object.__setattr__(self, "transition", MappingProxyType(tr))

    def columns_used(self) -> tuple[str, ...]:
        return (self.column,)

    def _transform(self, df, suppressed):
        s = df[self.column]
        skip = s.isna().to_numpy() | _is_star(s)
        active = ~skip & ~suppressed
        text = s.astype(object).where(~pd.Series(skip, index=s.index), None)
        levels = sorted({str(v) for v in text[active]})
        L = len(levels)
        rng = _rng(self.seed)
        if L == 0:
            return {"levels": [], "matrix": [], "changed": 0}, np.zeros(len(df), dtype=bool)
        pos = {v: i for i, v in enumerate(levels)}
        idx = np.array([pos[str(v)] if a else -1 for v, a in zip(text, active, strict=True)])
        freqs = np.bincount(idx[active], minlength=L).astype(np.float64)
        if self.transition is not None:
            p = np.zeros((L, L))
            for a, row in self.transition.items():
                for b, v in row.items():
                    if a in pos and b in pos:
                        p[pos[a], pos[b]] = v
            missing = [lv for lv in levels if lv not in self.transition]
            if missing or not np.allclose(p.sum(axis=1), 1.0):
                raise ParameterError(
                    "transition",
                    f"rows for {missing or levels}",
                    f"a row summing to 1 over the observed categories {levels}",
                )
        elif L == 1:
            p = np.ones((1, 1))
        else:
            d = rng.uniform(self.pd, 1.0, size=L)
            p = np.repeat(((1.0 - d) / (L - 1))[:, None], L, axis=1)
            np.fill_diagonal(p, d)
        if self.invariant:
            rs = invariant_pram_matrix(p, freqs, self.alpha)
        else:
            rs = p / p.sum(axis=1, keepdims=True)
        new_idx = idx.copy()
        for i in range(L):
            rows = np.flatnonzero(idx == i)
            if len(rows):
                new_idx[rows] = rng.choice(L, size=len(rows), p=rs[i])
        values = s.astype(object).copy()
        changed_rows = np.flatnonzero(active & (new_idx != idx))
        lv = np.array(levels, dtype=object)
        if len(changed_rows):
            originals = {str(v): v for v in s[active]}
            values.iloc[changed_rows] = [originals[x] for x in lv[new_idx[changed_rows]]]
        df[self.column] = _tidy_dtype(values, like=s)
        return (
            {
                "levels": levels,
                "matrix": rs.tolist(),
                "frequencies": freqs.tolist(),
                "changed": int(len(changed_rows)),
            },
            np.zeros(len(df), dtype=bool),
        )


# --------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """Output of a :class:`Pipeline`: final table, per-step results and suppressed records."""

    data: pd.DataFrame
    steps: tuple[TransformResult, ...]
    suppressed: np.ndarray

    @property
    def records_suppressed(self) -> int:
        """Records suppressed by any step."""
        return int(np.count_nonzero(self.suppressed))

    @property
    def cells_suppressed(self) -> int:
        """Cells set to ``"*"`` over all steps."""
        return int(sum(s.cells_suppressed for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (never the rows)."""
        return {
            "records": int(len(self.data)),
            "records_suppressed": self.records_suppressed,
            "cells_suppressed": self.cells_suppressed,
            "steps": [s.to_dict() for s in self.steps],
        }

    def write(
        self,
        path: str | Path,
        direct_identifiers: str = "drop",
        *,
        roles: Any = None,
        key_env: str = DEFAULT_KEY_ENV,
        key_file: str | Path | None = None,
        sources: Sequence[str | Path] = (),
        sep: str | None = None,
    ) -> Any:
        """Write the table as a release (:func:`workbench.deid.release.write_release`).

        Columns a :class:`Pseudonymize` step replaced are written as ``<column>_pseudonym`` (so
        neither a reader nor the gate takes them for the identifier); remaining direct
        identifiers are dropped, pseudonymized or (explicitly) kept. Returns the
        :class:`~workbench.deid.release.ReleaseReport` to record in provenance.
        """
        from .release import PSEUDONYM_SUFFIX, write_release

        done = [
            c
            for s in self.steps
            if s.transform == Pseudonymize.kind
            for c in s.parameters.get("columns", ())
            if c in self.data.columns
        ]
        frame = self.data.rename(columns={c: f"{c}{PSEUDONYM_SUFFIX}" for c in done})
        if roles is not None and done:
            from ..roles import RoleMap

            rmap = roles if isinstance(roles, RoleMap) else RoleMap.from_dict(roles)
            kept = {c: r for c, r in rmap.roles.items() if c not in done}
            roles = RoleMap({**kept, **{f"{c}{PSEUDONYM_SUFFIX}": "other" for c in done}})
        return write_release(
            frame,
            path,
            direct_identifiers,
            roles=roles,
            key_env=key_env,
            key_file=key_file,
            sources=sources,
            sep=sep,
        )

    def __repr__(self) -> str:
        return (
            f"PipelineResult(records={len(self.data)}, steps={len(self.steps)}, "
            f"records_suppressed={self.records_suppressed})"
        )


@dataclass(frozen=True)
class Pipeline:
    """Transforms applied in order; each step's result is kept for the provenance record."""

    steps: tuple[Transform, ...] = ()

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for i, s in enumerate(steps):
            if not isinstance(s, Transform):
                raise ParameterError(f"steps[{i}]", type(s).__name__, "a Transform")
        object.__setattr__(self, "steps", steps)

    def apply(self, data: Any) -> PipelineResult:
        """Apply every step to the previous step's output; ``data`` is not changed."""
        current = data
        suppressed = None
        results = []
        for step in self.steps:
            res = step.apply(current, suppressed=suppressed)
            results.append(res)
            current, suppressed = res.data, res.suppressed
        if not results:
            df = as_pandas(data).copy(deep=True)
            return PipelineResult(df, (), np.zeros(len(df), dtype=bool))
        return PipelineResult(current, tuple(results), suppressed)

    def to_dict(self) -> dict[str, Any]:
        """``{"steps": [transform.to_dict(), ...]}``."""
        return {"steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], **context: Any) -> Pipeline:
        """Inverse of :meth:`to_dict` (``context`` is passed to each step, e.g. hierarchies)."""
        if not isinstance(d, Mapping) or not isinstance(d.get("steps"), list):
            raise ParameterError("pipeline", d, "a mapping with a list under 'steps'")
        return cls(tuple(Transform.from_dict(s, **context) for s in d["steps"]))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _as_columns(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        cols = tuple(value)
    except TypeError:
        raise ParameterError(name, value, "a column name or a list of column names") from None
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ParameterError(name, value, "a non-empty list of column names")
    if len(set(cols)) != len(cols):
        raise ParameterError(name, list(cols), "distinct column names")
    return cols


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError("k", k, "an integer >= 1")


def _tidy_dtype(values: pd.Series, like: pd.Series | None = None) -> pd.Series:
    """Give an object column back a string or numeric dtype when every value allows it."""
    nonnull = values.dropna()
    if len(nonnull) and all(isinstance(v, str) for v in nonnull):
        return values.astype("str")
    if like is not None and len(nonnull) and pd.api.types.is_numeric_dtype(like.dtype):
        try:
            return values.astype(like.dtype)
        except (TypeError, ValueError):
            return values
    return values


def _count_changes(before: pd.DataFrame, after: pd.DataFrame) -> tuple[int, int]:
    """(cells changed, cells newly set to ``"*"``); dropped columns count all their cells."""
    changed = 0
    stars = 0
    for col in before.columns:
        if col not in after.columns:
            changed += len(before)
            continue
        sa, sb = before[col], after[col]
        na_a, na_b = sa.isna().to_numpy(), sb.isna().to_numpy()
        both = ~na_a & ~na_b
        eq = np.zeros(len(sa), dtype=bool)
        if both.any():
            if sa.dtype == sb.dtype and sa.dtype != object:
                eq[both] = sa.to_numpy()[both] == sb.to_numpy()[both]
            else:
                a, b = sa.to_numpy(dtype=object)[both], sb.to_numpy(dtype=object)[both]
                eq[both] = [_same(x, y) for x, y in zip(a, b, strict=True)]
        changed += int((~((na_a & na_b) | eq)).sum())
        stars += int((_is_star(sb) & ~_is_star(sa)).sum())
    return changed, stars


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, str) != isinstance(y, str):
        return False
    return bool(x == y)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value
