"""The equivalence-class table: the one scan every risk measure is computed from.

A record's *equivalence class* is the set of records sharing its values on the quasi-identifiers
(QIs) (Samarati & Sweeney 1998; Sweeney 2002). Every measure in :mod:`workbench.risk` is a
function of the class table, so it is built once: each QI is dictionary-encoded to integer codes,
one row per distinct QI combination with its record count and weight sum. Generalization later
becomes a roll-up of this table (:meth:`ClassTable.rollup`), not a re-scan of the data.

Two scans produce the same table:

* in-memory pandas frames are encoded directly (``pd.factorize`` per column, codes packed into one
  int64 key, one hash factorization of the key): this path also gives each record its class id;
* everything else (DuckDB relations and files, polars, PySpark, narwhals frames) runs one
  ``GROUP BY`` over the QIs through narwhals' lazy API and collects only the grouped table, which
  is then encoded in numpy. Per-record class ids are computed only when a caller needs them
  (:meth:`ClassTable.assign`), by a second scan.

Both give the same canonical table: each dictionary is sorted (missing value last), classes are
sorted lexicographically by their codes.

Missing QI values
-----------------
``missing="category"`` (default): a missing value is a category of its own, matched only by other
missing values. ``missing="wildcard"``: a missing value matches any value, as in sdcMicro's
``freqCalc``: the frequency ``fk`` of a record is the number of records that agree with it on every
QI where both are non-missing (``Fk`` likewise sums their weights). Wildcard matching is not
transitive, so it does not partition the records: the class table still groups identical records
(missing as a category), and :attr:`ClassTable.sizes` holds each group's wildcard ``fk``.
Difference from sdcMicro 5.x: ``freqCalc`` does not add records whose QIs are *all* missing to the
``fk`` of complete records (its ``addAllNAtoKeys`` is off), although it adds every record to theirs;
here matching is symmetric, as the definition says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from .._lazy import is_pandas, lazy_module
from ..dataset import Dataset, as_narwhals, check_columns
from ..errors import ParameterError

pd = lazy_module("pandas")

__all__ = [
    "MISSING_MODES",
    "ClassTable",
    "SensitiveTable",
    "build_class_table",
]

MISSING_MODES = ("category", "wildcard")
_MAX_KEY = 1 << 62


@dataclass(frozen=True, eq=False)
class SensitiveTable:
    """Histogram of one sensitive attribute within each equivalence class (sparse, COO form).

    Attributes
    ----------
    column : str
        Sensitive attribute.
    dictionary : tuple
        Its distinct values in code order (sorted; ``None`` = missing, last).
    class_ids, value_codes, counts : numpy.ndarray
        One entry per (class, value) pair present: the class id, the value's code, and the number
        of records of that class with that value.
    """

    column: str
    dictionary: tuple
    class_ids: np.ndarray
    value_codes: np.ndarray
    counts: np.ndarray

    def expand(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-record ``(class_ids, value_codes)`` (grouped by class, not in input order).

        Enough for measures that only look at the within-class distribution (l-diversity,
        t-closeness), which do not depend on record order.
        """
        return np.repeat(self.class_ids, self.counts), np.repeat(self.value_codes, self.counts)


@dataclass(frozen=True, eq=False)
class ClassTable:
    """Equivalence classes over a set of quasi-identifiers, dictionary-encoded.

    Attributes
    ----------
    columns : tuple of str
        The QIs, in the order of the code columns.
    codes : numpy.ndarray
        ``(n_classes, d)`` int64; row ``i`` is the QI combination of class ``i``. Rows are sorted
        lexicographically.
    dictionaries : tuple of tuple
        Per QI, its distinct values in code order (sorted); ``None`` (missing) is the last entry
        when present.
    counts : numpy.ndarray
        Records per class (int64).
    weight_sums : numpy.ndarray or None
        Sum of the sampling weights per class (float64), when weights were given.
    sizes : numpy.ndarray
        Frequency ``fk`` used by the risk measures: ``counts`` for ``missing="category"``, the
        wildcard frequency for ``missing="wildcard"``.
    population_sizes : numpy.ndarray
        Estimated population frequency ``Fk``: the weight sums (matched as ``sizes``) when weights
        were given, else ``sizes``.
    missing : str
        ``"category"`` or ``"wildcard"``.
    record_class : numpy.ndarray or None
        Class id of every input record, in input order, when the scan kept it.
    sensitive : Mapping[str, SensitiveTable]
        Within-class histograms of the sensitive attributes that were asked for.
    weights : str or None
        Name of the weight column.
    """

    columns: tuple[str, ...]
    codes: np.ndarray
    dictionaries: tuple[tuple, ...]
    counts: np.ndarray
    weight_sums: np.ndarray | None
    sizes: np.ndarray
    population_sizes: np.ndarray
    missing: str = "category"
    record_class: np.ndarray | None = None
    sensitive: Mapping[str, SensitiveTable] = field(default_factory=lambda: MappingProxyType({}))
    weights: str | None = None

    # ------------------------------------------------------------------ basic facts
    @property
    def n_classes(self) -> int:
        """Number of equivalence classes (distinct QI combinations)."""
        return int(self.codes.shape[0])

    @property
    def n_records(self) -> int:
        """Number of records."""
        return int(self.counts.sum())

    @property
    def radices(self) -> tuple[int, ...]:
        """Number of codes per QI (dictionary sizes, missing included)."""
        return tuple(max(len(d), 1) for d in self.dictionaries)

    @property
    def missing_codes(self) -> tuple[int, ...]:
        """Code of the missing value per QI, ``-1`` when the QI has no missing value."""
        return tuple(_missing_code(d) for d in self.dictionaries)

    def __repr__(self) -> str:  # never print values: QIs may be identifying
        return (
            f"ClassTable(columns={list(self.columns)}, classes={self.n_classes}, "
            f"records={self.n_records}, missing={self.missing!r})"
        )

    def record_sizes(self) -> np.ndarray:
        """``fk`` of every record in input order (needs :attr:`record_class`)."""
        if self.record_class is None:
            raise ValueError("this class table has no record->class ids; use assign(data)")
        return self.sizes[self.record_class]

    def to_frame(self) -> pd.DataFrame:
        """Decoded table: one row per class with its QI values, ``count`` and ``fk``."""
        out = {}
        for j, col in enumerate(self.columns):
            values = np.asarray(self.dictionaries[j] or (None,), dtype=object)
            out[col] = pd.Series(values[self.codes[:, j]], dtype=object)
        out["count"] = self.counts
        out["fk"] = self.sizes
        if self.weight_sums is not None:
            out["Fk"] = self.population_sizes
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ derived tables
    def with_missing(self, missing: str) -> ClassTable:
        """The same classes with the other treatment of missing values."""
        _check_missing(missing)
        sizes, pop = _effective_sizes(
            self.codes, self.missing_codes, self.counts, self.weight_sums, missing
        )
        return replace(self, missing=missing, sizes=sizes, population_sizes=pop)

    def rollup(
        self,
        maps: Sequence[np.ndarray | None],
        dictionaries: Sequence[Sequence | None] | None = None,
    ) -> ClassTable:
        """Merge classes after recoding each QI's codes (generalization as a roll-up).

        Parameters
        ----------
        maps : sequence of (numpy.ndarray or None)
            One per QI: ``maps[j][old_code] -> new_code`` (for example one hierarchy level), or
            ``None`` to keep the QI as it is.
        dictionaries : sequence, optional
            The new value of each new code (``None`` entries mark missing values, for example a
            suppressed cell). Defaults to the new codes themselves, with an old missing value's
            image kept missing when only missing values map to it.

        Returns
        -------
        ClassTable
            Counts and weight sums added up per new class; record ids and sensitive histograms
            carried over. Cost is proportional to the number of classes, not records.
        """
        d = len(self.columns)
        if len(maps) != d:
            raise ParameterError("maps", len(maps), f"one entry per QI ({d})")
        new_codes = np.empty_like(self.codes)
        new_dicts: list[tuple] = []
        for j in range(d):
            m = maps[j]
            if m is None:
                new_codes[:, j] = self.codes[:, j]
                new_dicts.append(
                    self.dictionaries[j]
                    if dictionaries is None or dictionaries[j] is None
                    else tuple(dictionaries[j])
                )
                continue
            m = np.asarray(m, dtype=np.int64)
            if m.shape[0] < len(self.dictionaries[j]) or (m.size and m.min() < 0):
                raise ParameterError(
                    f"maps[{j}]",
                    f"array of length {m.shape[0]}",
                    f"non-negative codes for all {len(self.dictionaries[j])} "
                    f"values of {self.columns[j]!r}",
                )
            new_codes[:, j] = m[self.codes[:, j]]
            size = int(m.max()) + 1 if m.size else 1
            if dictionaries is not None and dictionaries[j] is not None:
                nd = tuple(dictionaries[j])
                if len(nd) < size:
                    raise ParameterError(
                        f"dictionaries[{j}]",
                        f"{len(nd)} values",
                        f"at least {size} values (one per new code)",
                    )
                new_dicts.append(nd)
            else:
                vals: list[Any] = list(range(size))
                mc = _missing_code(self.dictionaries[j])
                if mc >= 0:
                    image = int(m[mc])
                    others = np.delete(m[: len(self.dictionaries[j])], mc)
                    if image not in set(others.tolist()):
                        vals[image] = None
                new_dicts.append(tuple(vals))
        radices = tuple(max(len(x), 1) for x in new_dicts)
        keys = _pack(new_codes, radices)
        if keys is not None:
            uniq, inverse = np.unique(keys, return_inverse=True)
            codes = _unpack(uniq, radices)
        else:
            codes, inverse = np.unique(new_codes, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        n_new = codes.shape[0]
        counts = np.bincount(inverse, weights=self.counts, minlength=n_new).astype(np.int64)
        wsums = (
            None
            if self.weight_sums is None
            else np.bincount(inverse, weights=self.weight_sums, minlength=n_new)
        )
        record_class = None if self.record_class is None else inverse[self.record_class]
        sensitive = {
            name: _rollup_sensitive(st, inverse, n_new) for name, st in self.sensitive.items()
        }
        sizes, pop = _effective_sizes(
            codes, tuple(_missing_code(x) for x in new_dicts), counts, wsums, self.missing
        )
        return ClassTable(
            columns=self.columns,
            codes=codes,
            dictionaries=tuple(new_dicts),
            counts=counts,
            weight_sums=wsums,
            sizes=sizes,
            population_sizes=pop,
            missing=self.missing,
            record_class=record_class,
            sensitive=MappingProxyType(sensitive),
            weights=self.weights,
        )

    def lookup(self, other: ClassTable) -> np.ndarray:
        """Records of ``other`` (for example a population) in each class of this table.

        Classes are matched on their decoded values (the two dictionaries may differ); a missing
        value matches only a missing value. Values of different Python types are compared as text
        (so a postal code read as ``1234`` in one file matches ``"1234"`` in the other).
        """
        if tuple(other.columns) != tuple(self.columns):
            missing = [c for c in self.columns if c not in other.columns]
            if missing:
                raise ParameterError(
                    "population_table",
                    f"columns {list(other.columns)}",
                    f"the quasi-identifiers {list(self.columns)}",
                )
            other = _reorder(other, self.columns)
        mapped = np.empty_like(self.codes)
        for j in range(len(self.columns)):
            translate = _translate_dictionary(self.dictionaries[j], other.dictionaries[j])
            mapped[:, j] = translate[self.codes[:, j]]
        found = (mapped >= 0).all(axis=1)
        out = np.zeros(self.n_classes, dtype=np.int64)
        if not found.any() or other.n_classes == 0:
            return out
        okeys = _pack(other.codes, other.radices)
        skeys = _pack(mapped[found], other.radices)
        if okeys is None or skeys is None:
            both = np.vstack([other.codes, mapped[found]])
            _, inv = np.unique(both, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            okeys, skeys = inv[: other.n_classes], inv[other.n_classes :]
            order = np.argsort(okeys, kind="stable")
            okeys, ocounts = okeys[order], other.counts[order]
        else:
            ocounts = other.counts  # other.codes are sorted, so packed keys are ascending
        pos = np.searchsorted(okeys, skeys)
        pos = np.minimum(pos, len(okeys) - 1)
        hit = okeys[pos] == skeys
        vals = np.where(hit, ocounts[pos], 0)
        out[np.flatnonzero(found)] = vals
        return out

    def assign(self, data: Any, source: str | None = None) -> np.ndarray:
        """Class id of every record of ``data`` (input order); ``-1`` where no class matches.

        Scans the QI columns once; used for per-record output when the table was built by the
        lazy ``GROUP BY`` scan. "Input order" is the order the engine returns rows in: the file
        order for pandas, polars and DuckDB scans; PySpark guarantees no order unless the frame
        is sorted.
        """
        frame = _collect_columns(data, list(self.columns), source)
        codes = np.empty((len(frame), len(self.columns)), dtype=np.int64)
        for j, col in enumerate(self.columns):
            translate_values = _values_to_codes(frame[col], self.dictionaries[j])
            codes[:, j] = translate_values
        ok = (codes >= 0).all(axis=1)
        out = np.full(len(frame), -1, dtype=np.int64)
        if self.n_classes == 0:
            return out
        keys = _pack(self.codes, self.radices)
        rkeys = _pack(codes[ok], self.radices)
        if keys is None or rkeys is None:
            both = np.vstack([self.codes, codes[ok]])
            _, inv = np.unique(both, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            keys, rkeys = inv[: self.n_classes], inv[self.n_classes :]
            order = np.argsort(keys, kind="stable")
            keys, ids = keys[order], order
        else:
            ids = np.arange(self.n_classes)
        pos = np.minimum(np.searchsorted(keys, rkeys), len(keys) - 1)
        hit = keys[pos] == rkeys
        out[np.flatnonzero(ok)] = np.where(hit, ids[pos], -1)
        return out


# ---------------------------------------------------------------------- building the table
def build_class_table(
    data: Any,
    qis: Sequence[str],
    weights: str | None = None,
    sensitive: Sequence[str] = (),
    missing: str = "category",
    records: bool | None = None,
    source: str | None = None,
    counts: str | None = None,
) -> ClassTable:
    """Scan ``data`` once and return its equivalence-class table.

    Parameters
    ----------
    data : Dataset, pandas/polars DataFrame, DuckDB relation, PySpark or narwhals frame
        The records.
    qis : sequence of str
        Quasi-identifiers.
    weights : str, optional
        Sampling-weight column (non-negative numbers); per class its sum estimates the population
        frequency ``Fk``.
    sensitive : sequence of str
        Attributes whose within-class histograms are kept (for l-diversity, t-closeness).
    missing : {"category", "wildcard"}
        Treatment of missing QI values (see the module docstring).
    records : bool, optional
        Keep every record's class id (input order). Free for pandas input (default there); for
        other engines it makes the scan collect the QI columns instead of only the grouped table,
        so it defaults to False.
    source : str, optional
        File name used in error messages.
    counts : str, optional
        ``data`` is already grouped: this column holds how many records each row stands for
        (as :func:`workbench.loading.readers.load_grouped` gives, from the same scan that read the
        file). Not with ``weights`` or ``records``, which need the records themselves.

    Returns
    -------
    ClassTable
    """
    qis = _check_qis(qis)
    if counts is not None and (weights or records):
        what = "weights" if weights else "records"
        raise ParameterError(what, weights or records, f"none with pre-grouped counts {counts!r}")
    _check_missing(missing)
    sensitive = tuple(sensitive)
    for s in sensitive:
        if s in qis:
            raise ParameterError("sensitive", s, "an attribute that is not a quasi-identifier")
    if isinstance(data, Dataset):
        source = source or data.source or data.name
    needed = [*qis, *sensitive, *([weights] if weights else [])]
    check_columns(data, _unique([*needed, *([counts] if counts else [])]), source)
    native = _native(data)
    if counts is not None:
        return _build_lazy(data, qis, None, sensitive, missing, source, counts=counts)
    if is_pandas(native):
        return _build_pandas(
            native,
            qis,
            weights,
            sensitive,
            missing,
            records=True if records is None else records,
            source=source,
        )
    if records:
        frame = _collect_columns(data, _unique(needed), source)
        return _build_pandas(frame, qis, weights, sensitive, missing, records=True, source=source)
    return _build_lazy(data, qis, weights, sensitive, missing, source)


def _build_pandas(
    frame: pd.DataFrame,
    qis: tuple[str, ...],
    weights: str | None,
    sensitive: tuple[str, ...],
    missing: str,
    records: bool,
    source: str | None,
) -> ClassTable:
    """Fast path for in-memory frames: encode every record, no group-by engine."""
    w = _validated_weights(frame[weights], weights, source) if weights else None
    return _assemble(
        {c: frame[c] for c in qis},
        None,
        w,
        {s: frame[s] for s in sensitive},
        missing,
        records,
        weights,
    )


def _build_lazy(
    data: Any,
    qis: tuple[str, ...],
    weights: str | None,
    sensitive: tuple[str, ...],
    missing: str,
    source: str | None,
    counts: str | None = None,
) -> ClassTable:
    """One GROUP BY over the QIs (and sensitive attributes) through narwhals, one collect."""
    relation = _duckdb_relation(data)
    if relation is not None:
        return _build_duckdb(data, relation, qis, weights, sensitive, missing, source, counts)
    import narwhals as nw

    lf = as_narwhals(data)
    schema = lf.collect_schema()
    if counts is not None:
        if not schema[counts].is_integer():
            raise ParameterError("counts", counts, "a column of whole numbers of records")
        keys = _unique([*qis, *sensitive])
        grouped = (
            lf.group_by(keys, drop_null_keys=False)
            .agg(
                nw.col(counts).sum().alias("__n"),
                nw.col(counts).min().alias("__nmin"),
                nw.col(counts).count().alias("__nn"),
                nw.len().alias("__rows"),
            )
            .collect()
            .to_arrow()
        )
        return _finish_counted(grouped, counts, qis, sensitive, missing)
    if weights and not schema[weights].is_numeric():
        # Text weights: parse them in pandas to name the first bad row.
        frame = _collect_columns(data, _unique([*qis, *sensitive, weights]), source)
        return _build_pandas(frame, qis, weights, sensitive, missing, records=False, source=source)
    aggs = [nw.len().alias("__n")]
    if weights:
        # Cast outside the aggregation: simple aggregations run natively on every engine.
        lf = lf.with_columns(nw.col(weights).cast(nw.Float64).alias("__w"))
        wcol = nw.col("__w")
        aggs += [
            wcol.sum().alias("__wsum"),
            wcol.min().alias("__wmin"),
            wcol.count().alias("__wcount"),
        ]
    keys = _unique([*qis, *sensitive])
    grouped_lf = lf.group_by(keys, drop_null_keys=False).agg(*aggs)
    limit = _driver_limit(data)
    if limit is not None:  # a cluster engine: the class table comes to the driver only if small
        grouped_lf = grouped_lf.head(limit + 1)
    grouped = grouped_lf.collect().to_arrow()
    if limit is not None and grouped.num_rows > limit:
        from ..errors import ResourceLimitError

        raise ResourceLimitError(
            f"the class table over {list(keys)} has more than {limit:,} classes, too many for "
            "the driver; the class-size measures (histogram, k, uniques, records at risk) run "
            "in the engine: workbench.risk.class_size_profile, or `workbench assess --engine "
            "spark` (which falls back to them)"
        )
    return _finish_grouped(data, grouped, qis, weights, sensitive, missing, source)


def _finish_counted(
    grouped: Any, counts: str, qis: tuple[str, ...], sensitive: tuple[str, ...], missing: str
) -> ClassTable:
    """Class table from an Arrow GROUP BY of pre-grouped rows (``__n``, ``__nmin``, ``__nn``,
    ``__rows``): every row's count must be a whole number >= 1."""
    n = _arrow_numbers(grouped.column("__n"))
    if len(n) and (
        (_arrow_numbers(grouped.column("__nn")) != _arrow_numbers(grouped.column("__rows"))).any()
        or np.nanmin(_arrow_numbers(grouped.column("__nmin"))) < 1
    ):
        raise ParameterError("counts", counts, "whole numbers >= 1 (no missing)")
    return _assemble(
        {c: grouped.column(c) for c in qis},
        n.astype(np.int64),
        None,
        {s: grouped.column(s) for s in sensitive},
        missing,
        False,
        None,
    )


def _finish_grouped(
    data: Any,
    grouped: Any,
    qis: tuple[str, ...],
    weights: str | None,
    sensitive: tuple[str, ...],
    missing: str,
    source: str | None,
) -> ClassTable:
    """Class table from an Arrow GROUP BY result with ``__n`` (and the weight aggregates)."""
    wsum = None
    if weights:
        wsum = _arrow_numbers(grouped.column("__wsum"))
        wmin = _arrow_numbers(grouped.column("__wmin"))
        nulls = int(
            (
                _arrow_numbers(grouped.column("__n")) - _arrow_numbers(grouped.column("__wcount"))
            ).sum()
        )
        bad = (
            nulls > 0
            or not np.isfinite(wsum).all()
            or (np.nanmin(wmin) < 0 if len(wmin) else False)
        )
        if bad:  # error path only: find the first bad row to name it
            col = _collect_columns(data, [weights], source)[weights]
            _validated_weights(col, weights, source)
            raise ParameterError("weights", weights, "finite non-negative numbers")
    counts = _arrow_numbers(grouped.column("__n")).astype(np.int64)
    return _assemble(
        {c: grouped.column(c) for c in qis},
        counts,
        wsum,
        {s: grouped.column(s) for s in sensitive},
        missing,
        False,
        weights,
    )


_DUCKDB_INTEGERS = frozenset(
    "TINYINT SMALLINT INTEGER BIGINT HUGEINT UTINYINT USMALLINT UINTEGER UBIGINT UHUGEINT".split()
)


def _duckdb_relation(data: Any) -> Any:
    """The DuckDB relation behind ``data``, or ``None``."""
    import sys

    duckdb = sys.modules.get("duckdb")
    native = _native(data)
    if duckdb is not None and isinstance(native, duckdb.DuckDBPyRelation):
        return native
    return None


def _build_duckdb(
    data: Any,
    rel: Any,
    qis: tuple[str, ...],
    weights: str | None,
    sensitive: tuple[str, ...],
    missing: str,
    source: str | None,
    counts: str | None,
) -> ClassTable:
    """:func:`_build_lazy` for a DuckDB relation: the same GROUP BY in DuckDB's own API.

    Same aggregates as the narwhals path; written directly because narwhals' DuckDB backend
    with pyarrow and without pandas makes DuckDB print "nanobind: leaked ..." at exit.
    """
    from ..loading.readers import _sql_ident as ident

    types = {c: str(t).upper() for c, t in zip(rel.columns, rel.types, strict=True)}
    keys = _unique([*qis, *sensitive])
    if counts is not None:
        if types[counts] not in _DUCKDB_INTEGERS:
            raise ParameterError("counts", counts, "a column of whole numbers of records")
        c = ident(counts)
        aggs = [f"sum({c}) AS __n", f"min({c}) AS __nmin", f"count({c}) AS __nn"]
        grouped = _duckdb_group(rel, keys, [*aggs, "count(*) AS __rows"])
        return _finish_counted(grouped, counts, qis, sensitive, missing)
    numeric = _DUCKDB_INTEGERS | {"FLOAT", "DOUBLE"}
    if weights and not (types[weights] in numeric or types[weights].startswith("DECIMAL")):
        # Text weights: parse them in pandas to name the first bad row.
        frame = _collect_columns(data, _unique([*qis, *sensitive, weights]), source)
        return _build_pandas(frame, qis, weights, sensitive, missing, records=False, source=source)
    aggs = ["count(*) AS __n"]
    if weights:
        w = f"CAST({ident(weights)} AS DOUBLE)"
        aggs += [f"sum({w}) AS __wsum", f"min({w}) AS __wmin", f"count({w}) AS __wcount"]
    grouped = _duckdb_group(rel, keys, aggs)
    return _finish_grouped(data, grouped, qis, weights, sensitive, missing, source)


def _duckdb_group(rel: Any, keys: list[str], aggs: list[str]) -> Any:
    """``SELECT keys, aggs ... GROUP BY keys`` (missing values form groups) as an Arrow table."""
    from ..loading.readers import _sql_ident as ident

    cols = ", ".join(ident(k) for k in keys)
    out = rel.aggregate(", ".join([cols, *aggs]), cols).arrow()
    return out.read_all() if hasattr(out, "read_all") else out


def _arrow_numbers(col: Any) -> np.ndarray:
    """A numeric Arrow column as float64 numpy (nulls as NaN)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return _primitive_numpy(pc.cast(arr, pa.float64()), np.float64, np.nan)


def _primitive_numpy(arr: Any, dtype: type, fill: float) -> np.ndarray:
    """A fixed-width Arrow array of ``dtype`` as numpy, nulls replaced by ``fill``.

    Read from the data buffer directly: ``Array.to_numpy``, ``fill_null`` and ``pa.scalar``
    import pandas (half a second), even for a plain float64 array.
    """
    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=dtype)
    validity, data = arr.buffers()[:2]
    width = np.dtype(dtype).itemsize
    out = np.frombuffer(data, dtype=dtype, count=n, offset=arr.offset * width)
    if arr.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out = np.where(bits[arr.offset : arr.offset + n].astype(bool), out, fill).astype(dtype)
    return out


# below this many rows, classes are found by sorting the packed keys (np.unique) rather than by
# hashing them (pd.factorize): same classes, same order, without importing pandas
_HASH_MIN_ROWS = 100_000


def _assemble(
    qi_values: Mapping[str, pd.Series],
    row_counts: np.ndarray | None,
    row_wsums: np.ndarray | None,
    sens_values: Mapping[str, pd.Series],
    missing: str,
    records: bool,
    weights: str | None,
) -> ClassTable:
    """Encode rows (records, or pre-grouped rows with counts) into a canonical class table."""
    columns = tuple(qi_values)
    n_rows = len(next(iter(qi_values.values()))) if qi_values else 0
    dictionaries = []
    encoded = []
    for col in columns:
        codes, dictionary = encode_column(qi_values[col])
        encoded.append(codes)
        dictionaries.append(dictionary)
    radices = tuple(max(len(d), 1) for d in dictionaries)
    keys = _pack_columns(encoded, radices, n_rows)
    if n_rows == 0:
        class_codes = np.empty((0, len(columns)), dtype=np.int64)
        ids = np.empty(0, dtype=np.int64)
    elif keys is not None and row_counts is not None and not sens_values and not records:
        # Rows of a GROUP BY over exactly the QIs are already the classes: only sort them.
        order = np.argsort(keys)
        counts = np.asarray(row_counts, dtype=np.int64)[order]
        wsums = None if row_wsums is None else np.asarray(row_wsums, dtype=np.float64)[order]
        class_codes = np.empty((n_rows, len(columns)), dtype=np.int64, order="F")
        for j, codes in enumerate(encoded):  # column by column: contiguous gathers and writes
            class_codes[:, j] = codes[order]
        sizes, pop = _effective_sizes(
            class_codes, tuple(_missing_code(d) for d in dictionaries), counts, wsums, missing
        )
        return ClassTable(
            columns=columns,
            codes=class_codes,
            dictionaries=tuple(dictionaries),
            counts=counts,
            weight_sums=wsums,
            sizes=sizes,
            population_sizes=pop,
            missing=missing,
            weights=weights,
        )
    elif keys is not None and n_rows < _HASH_MIN_ROWS:  # small: a sort beats importing pandas
        uniq, ids = np.unique(keys, return_inverse=True)
        ids = ids.reshape(-1).astype(np.int64)
        class_codes = _unpack(uniq.astype(np.int64), radices)
    elif keys is not None:
        ids, uniq = pd.factorize(keys)  # hash, then sort only the (few) distinct keys
        order = np.argsort(uniq, kind="stable")
        rank = np.empty(order.shape[0], dtype=np.int64)
        rank[order] = np.arange(order.shape[0], dtype=np.int64)
        ids = rank[ids]
        class_codes = _unpack(np.asarray(uniq, dtype=np.int64)[order], radices)
    else:
        class_codes, ids = np.unique(np.column_stack(encoded), axis=0, return_inverse=True)
        ids = ids.reshape(-1).astype(np.int64)
    n_classes = class_codes.shape[0]
    if row_counts is None:
        counts = np.bincount(ids, minlength=n_classes).astype(np.int64)
    else:
        counts = np.bincount(ids, weights=row_counts, minlength=n_classes).astype(np.int64)
    wsums = None if row_wsums is None else np.bincount(ids, weights=row_wsums, minlength=n_classes)
    sensitive = {}
    for name, values in sens_values.items():
        scodes, sdict = encode_column(values)
        nv = max(len(sdict), 1)
        pair = ids * nv + scodes
        if row_counts is None:
            upair, pcount = np.unique(pair, return_counts=True)
        else:
            upair, inv = np.unique(pair, return_inverse=True)
            pcount = np.bincount(inv.reshape(-1), weights=row_counts)
        sensitive[name] = SensitiveTable(
            name,
            sdict,
            (upair // nv).astype(np.int64),
            (upair % nv).astype(np.int64),
            np.asarray(pcount, dtype=np.int64),
        )
    sizes, pop = _effective_sizes(
        class_codes, tuple(_missing_code(d) for d in dictionaries), counts, wsums, missing
    )
    return ClassTable(
        columns=columns,
        codes=class_codes,
        dictionaries=tuple(dictionaries),
        counts=counts,
        weight_sums=wsums,
        sizes=sizes,
        population_sizes=pop,
        missing=missing,
        record_class=ids if records else None,
        sensitive=MappingProxyType(sensitive),
        weights=weights,
    )


def encode_column(values: Any) -> tuple[np.ndarray, tuple]:
    """Dictionary-encode one column: sorted distinct values, missing (``None``) coded last.

    Missing means null/NaN/None; every engine's nulls end up here the same way. Accepts a pandas
    Series, a numpy array, or an Arrow array (what the lazy engines collect).
    """
    if type(values).__module__.startswith("pyarrow"):
        return _encode_arrow(values)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):  # sort by value, not category order
        series = series.astype(object)
    try:
        codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        dictionary = list(uniques.tolist())
    except TypeError:  # values of mixed, unorderable types: order by (type, text)
        codes, uniques = pd.factorize(series, sort=False, use_na_sentinel=True)
        vals = list(uniques.tolist())
        order = sorted(range(len(vals)), key=lambda i: (type(vals[i]).__name__, str(vals[i])))
        rank = np.empty(len(vals), dtype=np.int64)
        rank[order] = np.arange(len(vals))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        dictionary = [vals[i] for i in order]
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(dictionary), codes)
        dictionary.append(None)
    return codes, tuple(dictionary)


def _encode_arrow(values: Any) -> tuple[np.ndarray, tuple]:
    """Arrow version of :func:`encode_column` (hash-encode in C++, sort only the dictionary)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_null(arr.type) or arr.null_count == len(arr):  # nothing but missing values
        return np.zeros(len(arr), dtype=np.int64), ((None,) if len(arr) else ())
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_floating(arr.type):  # NaN is missing, as in pandas
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    enc = pc.dictionary_encode(arr)
    dictionary = enc.dictionary
    k = len(dictionary)
    sort = pc.array_sort_indices(dictionary)
    order = _primitive_numpy(pc.cast(sort, pa.int64()), np.int64, -1)
    rank = np.empty(k + 1, dtype=np.int64)
    rank[order] = np.arange(k, dtype=np.int64)
    rank[k] = k
    raw = _primitive_numpy(pc.cast(enc.indices, pa.int64()), np.int64, k)
    codes = rank[raw]
    values_sorted = dictionary.take(sort).to_pylist()
    if enc.indices.null_count:
        values_sorted.append(None)
    return codes, tuple(values_sorted)


# ---------------------------------------------------------------------- wildcard matching
def _effective_sizes(
    codes: np.ndarray,
    missing_codes: tuple[int, ...],
    counts: np.ndarray,
    wsums: np.ndarray | None,
    missing: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``(fk, Fk)`` per class under the chosen treatment of missing values."""
    if missing == "category" or not any(m >= 0 for m in missing_codes) or codes.shape[0] == 0:
        sizes = counts.copy()
        return sizes, (sizes.astype(np.float64) if wsums is None else wsums.copy())
    return wildcard_frequencies(codes, missing_codes, counts, wsums)


def wildcard_frequencies(
    codes: np.ndarray,
    missing_codes: Sequence[int],
    counts: np.ndarray,
    wsums: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """sdcMicro-style frequencies where a missing value matches any value.

    For each class (a distinct combination, missing as a code), ``fk`` is the number of records
    agreeing with it on every QI where both are non-missing, ``Fk`` the sum of their weights
    (``fk`` when there are no weights). Computed per pair of missing-value patterns: records of
    patterns ``P`` and ``Q`` agree iff their codes are equal on the QIs missing in neither.

    References: Templ, Kowarik & Meindl (2015), *Statistical Disclosure Control for Micro-Data Using
    the R Package sdcMicro*, J. Stat. Softw. 67(4), section on ``freqCalc``.
    """
    n, d = codes.shape
    miss = np.zeros((n, d), dtype=bool)
    for j, mc in enumerate(missing_codes):
        if mc >= 0:
            miss[:, j] = codes[:, j] == mc
    weights = counts.astype(np.float64) if wsums is None else np.asarray(wsums, dtype=np.float64)
    patterns, pat_idx = np.unique(miss, axis=0, return_inverse=True)
    pat_idx = pat_idx.reshape(-1)
    groups = [np.flatnonzero(pat_idx == p) for p in range(len(patterns))]
    radices = tuple(int(codes[:, j].max()) + 1 if n else 1 for j in range(d))
    fk = np.zeros(n, dtype=np.float64)
    fw = np.zeros(n, dtype=np.float64)
    for p, rows_p in enumerate(groups):
        for q, rows_q in enumerate(groups):
            common = np.flatnonzero(~(patterns[p] | patterns[q]))
            if common.size == 0:
                fk[rows_p] += counts[rows_q].sum()
                fw[rows_p] += weights[rows_q].sum()
                continue
            kp, kq = _joint_keys(
                codes[np.ix_(rows_p, common)],
                codes[np.ix_(rows_q, common)],
                tuple(radices[c] for c in common),
            )
            uq, inv = np.unique(kq, return_inverse=True)
            inv = inv.reshape(-1)
            cq = np.bincount(inv, weights=counts[rows_q], minlength=len(uq))
            wq = np.bincount(inv, weights=weights[rows_q], minlength=len(uq))
            pos = np.minimum(np.searchsorted(uq, kp), len(uq) - 1)
            hit = uq[pos] == kp
            fk[rows_p] += np.where(hit, cq[pos], 0.0)
            fw[rows_p] += np.where(hit, wq[pos], 0.0)
    return np.rint(fk).astype(np.int64), fw


def _joint_keys(
    a: np.ndarray, b: np.ndarray, radices: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    ka, kb = _pack(a, radices), _pack(b, radices)
    if ka is not None and kb is not None:
        return ka, kb
    _, inv = np.unique(np.vstack([a, b]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    return inv[: len(a)], inv[len(a) :]


# ---------------------------------------------------------------------- helpers
def _pack(codes: np.ndarray, radices: Sequence[int]) -> np.ndarray | None:
    """Mixed-radix int64 key (first column most significant), or None if it would overflow."""
    return _pack_columns([codes[:, j] for j in range(codes.shape[1])], radices, codes.shape[0])


def _pack_columns(
    columns: Sequence[np.ndarray], radices: Sequence[int], n: int
) -> np.ndarray | None:
    """:func:`_pack` over a list of code columns."""
    total = 1
    for r in radices:
        total *= max(int(r), 1)
    if total >= _MAX_KEY:
        return None
    key = np.zeros(n, dtype=np.int64)
    for col, r in zip(columns, radices, strict=True):
        key *= max(int(r), 1)
        key += col
    return key


def _unpack(keys: np.ndarray, radices: Sequence[int]) -> np.ndarray:
    out = np.empty((keys.shape[0], len(radices)), dtype=np.int64)
    rest = keys.copy()
    for j in range(len(radices) - 1, -1, -1):
        r = max(int(radices[j]), 1)
        out[:, j] = rest % r
        rest //= r
    return out


def _missing_code(dictionary: tuple) -> int:
    return len(dictionary) - 1 if dictionary and dictionary[-1] is None else -1


def _check_missing(missing: str) -> None:
    if missing not in MISSING_MODES:
        raise ParameterError("missing", missing, "'category' or 'wildcard'")


def _check_qis(qis: Sequence[str]) -> tuple[str, ...]:
    if isinstance(qis, str):
        qis = [qis]
    from collections.abc import Iterable

    from ..errors import ParameterTypeError

    if not isinstance(qis, Iterable):
        raise ParameterTypeError("qis", qis, "a list of column names")
    qis = tuple(qis)
    for q in qis:
        if not isinstance(q, str):
            raise ParameterTypeError("qis", q, "column names (strings), one per element")
    if not qis:
        raise ParameterError("qis", [], "at least one quasi-identifier")
    dup = sorted({q for q in qis if qis.count(q) > 1})
    if dup:
        raise ParameterError("qis", list(qis), f"distinct columns ({dup[0]!r} is repeated)")
    return qis


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _driver_limit(data: Any) -> int | None:
    """Most classes a Spark source may bring to the driver (``None``: no limit)."""
    from .. import engines

    return engines.DRIVER_CLASS_LIMIT if engines.engine_of(data) == "spark" else None


def _native(data: Any) -> Any:
    if isinstance(data, Dataset):
        data = data.data
    if hasattr(data, "to_native") and type(data).__module__.startswith("narwhals"):
        data = data.to_native()
    return data


def _collect_columns(data: Any, columns: list[str], source: str | None) -> pd.DataFrame:
    """The given columns of every record as pandas, in the engine's row order."""
    check_columns(data, columns, source)
    native = _native(data)
    if is_pandas(native):
        return native[columns]
    lf = as_narwhals(data).select(columns)
    return lf.collect().to_pandas()


def _validated_weights(col: pd.Series, name: str, source: str | None) -> np.ndarray:
    """Weights as float64; ParameterError naming the first bad row (1-based) otherwise."""
    where = f" in {source}" if source else ""
    if pd.api.types.is_bool_dtype(col.dtype):
        raise ParameterError("weights", name, f"a numeric column{where}; it holds true/false")
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        parsed_bad = np.zeros(len(values), dtype=bool)
    else:
        parsed = pd.to_numeric(col, errors="coerce")
        values = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
        parsed_bad = np.asarray(parsed.isna() & col.notna())
    problems = [
        (parsed_bad, "is not a number"),
        (np.isnan(values) & ~parsed_bad, "is missing"),
        (np.isinf(values), "is infinite"),
        (values < 0, "is negative"),
    ]
    first = None
    for mask, what in problems:
        with np.errstate(invalid="ignore"):
            idx = np.flatnonzero(mask)
        if idx.size and (first is None or idx[0] < first[0]):
            first = (int(idx[0]), what)
    if first is not None:
        row, what = first  # the cell itself is never shown: it may be an identifier
        raise ParameterError(
            "weights",
            name,
            f"finite non-negative numbers{where}; the value in row {row + 1} of column "
            f"{name!r} {what}",
        )
    return values


def _translate_dictionary(src: tuple, dst: tuple) -> np.ndarray:
    """Code in ``dst`` of every value of ``src`` (``-1`` when absent); missing maps to missing."""
    out = np.full(max(len(src), 1), -1, dtype=np.int64)
    src_mc, dst_mc = _missing_code(src), _missing_code(dst)
    src_vals = [v for v in src if v is not None]
    dst_vals = [v for v in dst if v is not None]
    if src_vals and dst_vals:
        same_types = {type(v) for v in src_vals} == {type(v) for v in dst_vals}
        numeric = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (*src_vals, *dst_vals)
        )
        if numeric and not same_types:  # 1 (int) and 1.0 (float) are the same value
            idx = pd.Index(np.asarray(dst_vals, dtype=np.float64)).get_indexer(
                np.asarray(src_vals, dtype=np.float64)
            )
        elif same_types:
            idx = pd.Index(dst_vals).get_indexer(pd.Index(src_vals))
        else:
            idx = pd.Index([str(v) for v in dst_vals]).get_indexer(
                pd.Index([str(v) for v in src_vals])
            )
        out[: len(src_vals)] = idx
    if src_mc >= 0:
        out[src_mc] = dst_mc
    return out


def _values_to_codes(values: pd.Series, dictionary: tuple) -> np.ndarray:
    mc = _missing_code(dictionary)
    vals = [v for v in dictionary if v is not None]
    if vals:
        codes = pd.Index(vals).get_indexer(values)
    else:
        codes = np.full(len(values), -1, dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    isna = np.asarray(values.isna())
    codes[isna] = mc
    return codes


def _rollup_sensitive(st: SensitiveTable, inverse: np.ndarray, n_new: int) -> SensitiveTable:
    nv = max(len(st.dictionary), 1)
    pair = inverse[st.class_ids] * nv + st.value_codes
    upair, inv = np.unique(pair, return_inverse=True)
    cnt = np.bincount(inv.reshape(-1), weights=st.counts).astype(np.int64)
    return SensitiveTable(st.column, st.dictionary, upair // nv, upair % nv, cnt)


def _reorder(table: ClassTable, columns: Sequence[str]) -> ClassTable:
    order = [table.columns.index(c) for c in columns]
    codes = table.codes[:, order]
    dicts = tuple(table.dictionaries[i] for i in order)
    radices = tuple(max(len(d), 1) for d in dicts)
    keys = _pack(codes, radices)
    if keys is not None:
        perm = np.argsort(keys, kind="stable")
    else:
        perm = np.lexsort(codes.T[::-1])
    return ClassTable(
        columns=tuple(columns),
        codes=codes[perm],
        dictionaries=dicts,
        counts=table.counts[perm],
        weight_sums=None if table.weight_sums is None else table.weight_sums[perm],
        sizes=table.sizes[perm],
        population_sizes=table.population_sizes[perm],
        missing=table.missing,
        weights=table.weights,
    )
