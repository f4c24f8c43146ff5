"""The transform base class and registry, the result type and the helpers every transform shares.

A transform is registered by subclassing :class:`Transform` with a ``kind``
(``__init_subclass__``), so adding one is one class in one module of this package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ...dataset import Dataset, as_pandas, check_columns
from ...errors import ParameterError

__all__ = ["SUPPRESSED", "HierarchyLike", "TransformResult", "Transform"]

SUPPRESSED = "*"

"""Marker written in place of a suppressed value (cell or whole record)."""


@runtime_checkable
class HierarchyLike(Protocol):
    """Anything that maps values to a generalization level (for example ``deid.Hierarchy``)."""

    def generalize(self, values: pd.Series, level: int) -> pd.Series: ...


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


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


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
