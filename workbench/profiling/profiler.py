"""Per-column profile of a dataset: what each column is, how identifying it is on its own.

The profile is computed once into frozen values (:class:`DatasetProfile`,
:class:`ColumnProfile`) and rendered as JSON (:meth:`DatasetProfile.to_dict`) or as a plain-text
table (:meth:`DatasetProfile.to_text`).

Privacy by construction: a profile never contains a raw value of a column that is (or looks
like) a direct identifier. Such columns are *redacted*: they keep counts, ratios, length ranges
and shape masks (``"aaaa.aaa@aaaaa.aaa"``: letters -> ``a``/``A``, digits -> ``9``) but no example
values, no top values and no numeric or date range. Values of other columns are listed only when
they occur at least ``min_count`` times, so a rare value never singles out a record in a report.

Measures
--------
* Shannon entropy (Shannon 1948, "A Mathematical Theory of Communication"):
  :math:`H = -\\sum_v p_v \\log_2 p_v` over the column's values, missing counted as one value.
* Unique share: the share of records whose value occurs exactly once in the column, i.e. records
  that this column alone makes sample-unique (the one-attribute case of sample uniqueness,
  Skinner & Elliot 2002, "A measure of disclosure risk for microdata", JRSS B 64(4)).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .._lazy import lazy_module
from ..dataset import Dataset
from ..errors import ColumnNotFoundError, ParameterError

pd = lazy_module("pandas")
pc = lazy_module("pyarrow.compute")

if TYPE_CHECKING:  # pragma: no cover
    from .roles import RoleMap, RoleSuggestions

__all__ = [
    "ColumnKind",
    "NumericSummary",
    "ColumnProfile",
    "DatasetProfile",
    "profile",
    "shape_mask",
    "IDENTIFIER_PATTERNS",
]

#: Value patterns whose presence makes a column a direct identifier (values are redacted).
IDENTIFIER_PATTERNS = ("email", "phone", "national_id", "payment_card", "iban", "ip_address")

_SAMPLE = 20_000  # distinct values inspected for patterns, kinds and shapes
_TOP = 5
_MASK_MAX = 32
_PERSON_NAME_SHARE = 0.4
_PERSON_NAME_DISTINCT = 5


class ColumnKind(StrEnum):
    """What a column holds, as far as its values tell."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DATE = "date"
    FREE_TEXT = "free_text"
    ID_LIKE = "id_like"


@dataclass(frozen=True)
class NumericSummary:
    """Minimum, maximum, mean, median and standard deviation of a numeric column."""

    min: float
    max: float
    mean: float
    median: float
    std: float

    def to_dict(self) -> dict[str, float]:
        return {k: _num(getattr(self, k)) for k in ("min", "max", "mean", "median", "std")}


@dataclass(frozen=True)
class ColumnProfile:
    """Facts about one column.

    Attributes
    ----------
    name, storage_type : str
        Column name and its pandas/DuckDB type.
    kind : ColumnKind
        Inferred type: numeric, categorical, date, free text or id-like.
    n_values, n_missing : int
        Present and missing records.
    missing_ratio : float
        ``n_missing / n_rows``.
    distinct : int
        Number of distinct present values.
    distinct_ratio : float
        ``distinct / n_values`` (1.0: every present value different).
    entropy_bits : float
        Shannon entropy of the value distribution, missing counted as one value.
    unique_share : float
        Share of records whose value occurs exactly once in the column.
    length_range : tuple of int, optional
        Shortest and longest text form of a present value.
    shapes : tuple of (mask, share)
        Most common shape masks of present values with their share of present records.
    patterns : Mapping[str, float]
        Share of present records whose value looks like an e-mail address, phone number,
        national id (checksums verified where they exist), payment card (Luhn), IBAN (mod 97),
        IP address, URL, postal code, date, year, ICD-10 code, lowercase hex digest
        (``hex_digest``: a keyed pseudonym) or a common person name.
    date_format : str, optional
        Dominant date layout such as ``"DD/MM/YYYY"`` when the column holds dates.
    top_values : tuple of (value, count)
        Most frequent values seen at least ``min_count`` times; empty when redacted.
    numeric : NumericSummary, optional
        For numeric, unredacted columns.
    date_range : tuple of str, optional
        Earliest and latest date (ISO) for unredacted date columns.
    redacted : bool
        True when values are withheld; ``redaction_reason`` says why.
    """

    name: str
    storage_type: str
    kind: ColumnKind
    n_values: int
    n_missing: int
    missing_ratio: float
    distinct: int
    distinct_ratio: float
    entropy_bits: float
    unique_share: float
    length_range: tuple[int, int] | None
    shapes: tuple[tuple[str, float], ...]
    patterns: Mapping[str, float]
    date_format: str | None = None
    top_values: tuple[tuple[str, int], ...] = ()
    numeric: NumericSummary | None = None
    date_range: tuple[str, str] | None = None
    redacted: bool = False
    redaction_reason: str | None = None
    mean_tokens: float = 0.0
    sequence_like: bool = False
    has_leading_zeros: bool = False
    person_names_distinct: int = 0

    def pattern(self, name: str) -> float:
        """Share of present records matching pattern ``name`` (0.0 when absent)."""
        return float(self.patterns.get(name, 0.0))

    @property
    def looks_like_identifier(self) -> bool:
        """True when the values themselves look like direct identifiers."""
        return (
            self.kind in (ColumnKind.ID_LIKE, ColumnKind.FREE_TEXT)
            or any(self.pattern(p) >= 0.3 for p in IDENTIFIER_PATTERNS)
            or self.is_person_names
        )

    @property
    def is_person_names(self) -> bool:
        """Most values are common first names or surnames, and many different ones."""
        return (
            self.pattern("person_name") >= _PERSON_NAME_SHARE
            and self.person_names_distinct >= _PERSON_NAME_DISTINCT
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; never contains raw values of redacted columns."""
        return {
            "name": self.name,
            "storage_type": self.storage_type,
            "kind": self.kind.value,
            "n_values": self.n_values,
            "n_missing": self.n_missing,
            "missing_ratio": _num(self.missing_ratio),
            "distinct": self.distinct,
            "distinct_ratio": _num(self.distinct_ratio),
            "entropy_bits": _num(self.entropy_bits),
            "unique_share": _num(self.unique_share),
            "length_range": list(self.length_range) if self.length_range else None,
            "shapes": [{"shape": m, "share": _num(s)} for m, s in self.shapes],
            "patterns": {k: _num(v) for k, v in self.patterns.items()},
            "date_format": self.date_format,
            "top_values": [{"value": v, "count": c} for v, c in self.top_values],
            "numeric": self.numeric.to_dict() if self.numeric else None,
            "date_range": list(self.date_range) if self.date_range else None,
            "redacted": self.redacted,
            "redaction_reason": self.redaction_reason,
        }


@dataclass(frozen=True)
class DatasetProfile:
    """Profile of a whole dataset: one :class:`ColumnProfile` per column, plus role suggestions.

    Attributes
    ----------
    name, source, sha256, department : str or None
        Identity of the profiled dataset (from the :class:`Dataset`).
    n_rows : int
    columns : tuple of ColumnProfile
        In file order.
    roles : RoleSuggestions, optional
        Suggested roles (``None`` when profiled with ``suggest=False``).
    options : Mapping
        What the loader detected (format, delimiter, encoding, missing markers, ...).
    min_count : int
        Values seen fewer times than this are never listed.
    """

    name: str
    source: str | None
    sha256: str | None
    department: str | None
    n_rows: int
    columns: tuple[ColumnProfile, ...]
    roles: RoleSuggestions | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    min_count: int = 5

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise ColumnNotFoundError(name, [c.name for c in self.columns], self.source or self.name)

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.column(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON document (the ``workbench profile --json`` output)."""
        return {
            "dataset": {
                "name": self.name,
                "source": self.source if self.options.get("format") != "sql" else "SQL query",
                "sha256": self.sha256,
                "department": self.department,
                "n_rows": self.n_rows,
                "n_columns": self.n_columns,
                "load_options": {k: v for k, v in self.options.items() if k != "query"},
            },
            "min_count": self.min_count,
            "columns": [c.to_dict() for c in self.columns],
            "roles": self.roles.to_dict() if self.roles is not None else None,
        }

    def to_text(self, *, details: bool = True) -> str:
        """Plain-text table for terminals and logs (no raw identifier values)."""
        return _render_text(self, details=details)

    def __str__(self) -> str:
        return self.to_text()


# --------------------------------------------------------------------------------------------
# entry point


def profile(
    dataset: Any,
    roles: RoleMap | None = None,
    *,
    suggest: bool = True,
    min_count: int = 5,
    top: int = _TOP,
    columns: Sequence[str] | None = None,
) -> DatasetProfile:
    """Profile every column of ``dataset`` and (by default) suggest a role for each.

    Parameters
    ----------
    dataset : Dataset, pandas/polars DataFrame or DuckDB relation
    roles : RoleMap, optional
        Known roles: columns marked as direct identifiers are redacted in addition to those whose
        values look identifying. When given, suggestions are still computed for reference.
    suggest : bool
        Attach :func:`workbench.profiling.roles.suggest_roles` output and redact every column it proposes
        as a direct identifier.
    min_count : int
        Smallest count at which a value may be listed among top values (k-anonymity of the
        profile itself).
    top : int
        Number of top values and shape masks kept per column.
    columns : sequence of str, optional
        Profile only these columns.

    Returns
    -------
    DatasetProfile
    """
    if min_count < 1:
        raise ParameterError("min_count", min_count, "an integer >= 1")
    if top < 0:
        raise ParameterError("top", top, "an integer >= 0")
    ds = dataset if isinstance(dataset, Dataset) else Dataset.from_frame(dataset)
    names = ds.columns if columns is None else list(columns)
    for col in names:
        if col not in ds.column_types:
            raise ColumnNotFoundError(col, ds.columns, ds.source or ds.name)
    from ..engines import engine_of

    engine = engine_of(ds.data)
    stats_of = {"duckdb": _lazy_stats, "pandas": _pandas_stats}.get(engine, _engine_stats)
    stats = stats_of(ds, names, top, min_count)
    cols = tuple(_column_profile(s, ds.n_rows, min_count, top) for s in stats)
    prof = DatasetProfile(
        name=ds.name,
        source=ds.source,
        sha256=ds.sha256,
        department=ds.department,
        n_rows=ds.n_rows,
        columns=cols,
        options=MappingProxyType(dict(ds.options)),
        min_count=min_count,
    )
    direct: set[str] = set()
    if roles is not None:
        direct |= set(roles.direct_identifiers)
    if suggest:
        from .roles import suggest_from_profile

        suggestions = suggest_from_profile(prof)
        prof = replace(prof, roles=suggestions)
        direct |= set(suggestions.role_map.direct_identifiers)
    if direct:
        prof = replace(
            prof,
            columns=tuple(
                _redact(c, "direct identifier") if c.name in direct and not c.redacted else c
                for c in prof.columns
            ),
        )
    return prof


def _redact(col: ColumnProfile, reason: str) -> ColumnProfile:
    return replace(
        col, top_values=(), numeric=None, date_range=None, redacted=True, redaction_reason=reason
    )


# --------------------------------------------------------------------------------------------
# raw statistics (pandas or DuckDB) -> one neutral structure


@dataclass
class _Stats:
    name: str
    storage_type: str
    numeric_storage: bool
    integer_storage: bool
    datetime_storage: bool
    bool_storage: bool
    n_missing: int
    distinct: int
    entropy: float
    singletons: int  # records whose value (missing counted as a value) occurs once
    top: list[tuple[Any, int]]
    sample: list[Any]  # distinct present values (all, or a seeded random subset)
    sample_counts: np.ndarray
    length_range: tuple[int, int] | None
    numeric: NumericSummary | None
    min_max: tuple[Any, Any] | None


def _entropy(counts: np.ndarray, n: int) -> float:
    if n == 0:
        return 0.0
    p = counts[counts > 0] / n
    return float(max(0.0, -(p * np.log2(p)).sum()))


def _pandas_stats(ds: Dataset, names: Sequence[str], top: int, min_count: int) -> list[_Stats]:
    frame = ds.to_pandas()
    by_name = {str(c): c for c in frame.columns}
    out = []
    for col in names:
        s = frame[by_name.get(col, col)]
        dtype = s.dtype
        n = len(s)
        vc = s.value_counts(dropna=True, sort=True)
        vc = vc[vc > 0]  # categorical dtypes list unused categories with count 0
        counts = vc.to_numpy(dtype=np.int64)
        n_missing = int(n - counts.sum())
        all_counts = np.append(counts, n_missing) if n_missing else counts
        is_bool = pd.api.types.is_bool_dtype(dtype)
        is_num = pd.api.types.is_numeric_dtype(dtype) and not is_bool
        is_int = is_num and pd.api.types.is_integer_dtype(dtype)
        is_dt = pd.api.types.is_datetime64_any_dtype(dtype)
        idx = np.arange(len(vc))
        if len(vc) > _SAMPLE:
            idx = np.sort(np.random.default_rng(0).choice(len(vc), _SAMPLE, replace=False))
        values = vc.index.to_numpy(dtype=object)
        sample = [values[i] for i in idx]
        sample_counts = counts[idx]
        length_range = _length_range(values, sample)
        numeric = None
        min_max = None
        if is_num and len(vc):
            present = s.dropna().astype("float64")
            numeric = NumericSummary(
                float(present.min()),
                float(present.max()),
                float(present.mean()),
                float(present.median()),
                float(present.std(ddof=1)) if len(present) > 1 else 0.0,
            )
        if (is_num or is_dt) and len(vc):
            min_max = (vc.index.min(), vc.index.max())
        out.append(
            _Stats(
                name=col,
                storage_type=str(dtype),
                numeric_storage=is_num,
                integer_storage=is_int,
                datetime_storage=is_dt,
                bool_storage=is_bool,
                n_missing=n_missing,
                distinct=len(vc),
                entropy=_entropy(all_counts, n),
                singletons=int((all_counts == 1).sum()),
                top=_top(values, counts, max(top, 1), min_count),
                sample=sample,
                sample_counts=sample_counts,
                length_range=length_range,
                numeric=numeric,
                min_max=min_max,
            )
        )
    return out


def _length_range(values: np.ndarray, sample: list[Any]) -> tuple[int, int] | None:
    """Shortest and longest text form over all distinct values (vectorized when possible)."""
    if not len(values):
        return None
    try:
        arr = pa.array(values)
        if not pa.types.is_string(arr.type):
            arr = pc.cast(arr, pa.string())
        mm = pc.min_max(pc.utf8_length(arr)).as_py()
        return int(mm["min"]), int(mm["max"])
    except (pa.ArrowException, TypeError, ValueError):  # mixed Python objects: use the sample
        lens = [len(_as_text(v)) for v in sample]
        return min(lens), max(lens)


def _top(values: np.ndarray, counts: np.ndarray, k: int, min_count: int) -> list[tuple[Any, int]]:
    """The ``k`` most frequent values seen at least ``min_count`` times; ties by value, so the
    result is deterministic (and equal to the DuckDB path's ``ORDER BY c DESC, v``)."""
    keep = np.flatnonzero(counts >= min_count)
    if len(keep) > k:
        kth = np.partition(counts[keep], -k)[-k]
        keep = keep[counts[keep] >= kth]
    try:
        ranked = sorted(keep, key=lambda i: (-counts[i], values[i]))[:k]
    except TypeError:  # mixed Python types in an object column: order ties by text
        ranked = sorted(keep, key=lambda i: (-counts[i], _as_text(values[i])))[:k]
    return [(values[i], int(counts[i])) for i in ranked]


def _lazy_stats(ds: Dataset, names: Sequence[str], top: int, min_count: int) -> list[_Stats]:
    """The same statistics computed inside DuckDB (the rows never reach Python)."""
    rel = ds.data
    types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    out = []
    for col in names:
        q = '"' + col.replace('"', '""') + '"'
        typ = types[col].upper()
        is_bool = typ == "BOOLEAN"
        is_int = typ in {
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
        }
        is_num = is_int or typ in {"FLOAT", "DOUBLE", "REAL"} or typ.startswith("DECIMAL")
        is_dt = typ.startswith(("DATE", "TIMESTAMP"))
        n = ds.n_rows or 1
        k = max(top, 1)
        numeric_sql = ""
        if is_num:
            # weighted statistics over the value counts: one scan of the source per column
            at = (
                "(SELECT min(v) FROM (SELECT v, sum(c) OVER (ORDER BY v ROWS UNBOUNDED "
                "PRECEDING) AS cum FROM pres) WHERE cum >= {k})"
            )
            numeric_sql = (
                ", (SELECT sum(v * c) / sum(c) FROM pres) AS mean"
                f", ({at.format(k='(SELECT (sum(c) + 1) // 2 FROM pres)')}"
                f" + {at.format(k='(SELECT sum(c) // 2 + 1 FROM pres)')}) / 2.0 AS median"
                ", (SELECT CASE WHEN sum(c) > 1 THEN sqrt(sum(c * (v - m.mean) ** 2) / "
                "(sum(c) - 1)) ELSE 0 END FROM pres, (SELECT sum(v * c) / sum(c) AS mean "
                "FROM pres) m) AS std"
            )
        row = rel.query(
            "t",
            f"WITH vc AS MATERIALIZED (SELECT {q} AS v, count(*) AS c FROM t GROUP BY 1), "
            "pres AS (SELECT v, c FROM vc WHERE v IS NOT NULL) "
            "SELECT count(*) FILTER (WHERE v IS NOT NULL),"
            " coalesce(sum(c) FILTER (WHERE v IS NULL), 0),"
            f" coalesce(-sum((c / {n}) * log2(c / {n})), 0), count(*) FILTER (WHERE c = 1),"
            " min(length(CAST(v AS VARCHAR))), max(length(CAST(v AS VARCHAR))), min(v), max(v),"
            " (SELECT list({'v': v, 'c': c} ORDER BY c DESC, v) FROM"
            f"   (SELECT v, c FROM pres WHERE c >= {int(min_count)} ORDER BY c DESC, v LIMIT {k})),"
            " (SELECT list({'v': v, 'c': c}) FROM"
            f"   (SELECT v, c FROM pres USING SAMPLE reservoir({_SAMPLE} ROWS) REPEATABLE (0)))"
            f"{numeric_sql} FROM vc",
        ).fetchall()[0]
        distinct, n_missing, entropy, singletons, lmin, lmax, vmin, vmax, tops, samp = row[:10]
        tops, samp = tops or [], samp or []
        numeric = None
        if is_num and distinct:
            mean, median, std = row[10:13]
            numeric = NumericSummary(
                float(vmin), float(vmax), float(mean), float(median), float(std or 0.0)
            )
        top_rows = [(d["v"], d["c"]) for d in tops]
        sample_rows = [(d["v"], d["c"]) for d in samp]
        out.append(
            _Stats(
                name=col,
                storage_type=types[col],
                numeric_storage=is_num,
                integer_storage=is_int,
                datetime_storage=is_dt,
                bool_storage=is_bool,
                n_missing=int(n_missing),
                distinct=int(distinct),
                entropy=float(max(0.0, entropy)),
                singletons=int(singletons),
                top=[(v, int(c)) for v, c in top_rows],
                sample=[v for v, _ in sample_rows],
                sample_counts=np.array([c for _, c in sample_rows], dtype=np.int64),
                length_range=(int(lmin), int(lmax)) if lmin is not None else None,
                numeric=numeric,
                min_max=(vmin, vmax) if (is_num or is_dt) and distinct else None,
            )
        )
    return out


def _engine_stats(ds: Dataset, names: Sequence[str], top: int, min_count: int) -> list[_Stats]:
    """The same statistics inside polars or Spark through narwhals: per column one ``GROUP BY``
    value-count table in the engine, from which a few small results are collected (the scalar
    aggregates, the top values, at most ``_SAMPLE`` distinct values, the numeric summary)."""
    import narwhals as nw

    lf = nw.from_native(ds.data).lazy()
    schema = lf.collect_schema()
    n = ds.n_rows or 1
    k = max(top, 1)
    out = []
    for col in names:
        dtype = schema[col]
        is_bool = dtype == nw.Boolean
        is_num = dtype.is_numeric() and not is_bool
        is_int = dtype.is_integer()
        is_dt = dtype.is_temporal()
        vc = lf.group_by(col, drop_null_keys=False).agg(nw.len().alias("__c"))
        v, c = nw.col(col), nw.col("__c")
        p = c.cast(nw.Float64) / n
        text_len = v.cast(nw.String).str.len_chars()
        row = (
            vc.select(
                v.count().alias("distinct"),
                nw.when(v.is_null()).then(c).otherwise(0).sum().alias("missing"),
                (-(p * p.log(2))).sum().alias("entropy"),
                nw.when(c == 1).then(1).otherwise(0).sum().alias("singletons"),
                text_len.min().alias("lmin"),
                text_len.max().alias("lmax"),
                v.min().alias("vmin"),
                v.max().alias("vmax"),
            )
            .collect()
            .to_arrow()
            .to_pylist()[0]
        )
        present = vc.filter(~v.is_null())
        tops = (
            present.filter(c >= min_count)
            .sort(["__c", col], descending=[True, False])
            .head(k)
            .collect()
            .to_arrow()
            .to_pylist()
        )
        samp = present.sort(col).head(_SAMPLE).collect().to_arrow().to_pylist()
        numeric = None
        distinct = int(row["distinct"] or 0)
        if is_num and distinct:
            agg = (
                lf.select(
                    v.cast(nw.Float64).mean().alias("mean"),
                    v.cast(nw.Float64).median().alias("median"),
                    v.cast(nw.Float64).std(ddof=1).alias("std"),
                )
                .collect()
                .to_arrow()
                .to_pylist()[0]
            )
            numeric = NumericSummary(
                float(row["vmin"]),
                float(row["vmax"]),
                float(agg["mean"]),
                float(agg["median"]),
                float(agg["std"] or 0.0),
            )
        out.append(
            _Stats(
                name=col,
                storage_type=str(dtype),
                numeric_storage=is_num,
                integer_storage=is_int,
                datetime_storage=is_dt,
                bool_storage=is_bool,
                n_missing=int(row["missing"] or 0),
                distinct=distinct,
                entropy=float(max(0.0, row["entropy"] or 0.0)),
                singletons=int(row["singletons"] or 0),
                top=[(d[col], int(d["__c"])) for d in tops],
                sample=[d[col] for d in samp],
                sample_counts=np.array([d["__c"] for d in samp], dtype=np.int64),
                length_range=(int(row["lmin"]), int(row["lmax"]))
                if row["lmin"] is not None
                else None,
                numeric=numeric,
                min_max=(row["vmin"], row["vmax"]) if (is_num or is_dt) and distinct else None,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# patterns


# Patterns are matched with RE2 through pyarrow.compute on the sampled distinct values, then
# checksums are verified in Python on the few candidates only.
_RX = {
    "email": r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$",
    "url": r"^(?i:https?://|www\.)\S+$",
    "ipv4": r"^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$",
    "ipv6": r"^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$",
    "phone": r"^(?:\+|00)?[\d\s().\-/]{6,24}$",
    "nid": (
        r"^(?:\d{3}-\d{2}-\d{4}"  # US SSN
        r"|[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]"  # UK NINO
        r"|\d{8}-?[A-Z]|[XYZ]\d{7}-?[A-Z]"  # ES DNI / NIE
        r"|[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}"  # FR NIR with key
        r"|\d{9}|\d{11})$"  # NL BSN, DE Steuer-ID (checksums below)
    ),
    "card": r"^\d[\d -]{11,21}\d$",
    "iban": r"^[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{11,40}$",
    "postal": (
        r"^(?:\d{5}(?:-\d{4})?"  # US ZIP, DE/FR/ES/IT 5-digit
        r"|\d{3}"  # ZIP3 prefix
        r"|\d{4} ?[A-Za-z]{2}"  # NL
        r"|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}"  # UK
        r"|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$"  # CA
    ),
    "icd10": r"^[A-TV-Za-tv-z]\d{2}(?:\.[0-9A-Za-z]{1,4})?$",
    "hex_digest": r"^[0-9a-f]{16,64}$",  # keyed pseudonyms (workbench.deid.pseudonym)
    "name_like": r"^[^\d@/:_=#<>|\\\[\]{}()+*?!%&$€£]{2,60}$",
    "leading_zero": r"^0\d+$",
}
_US_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_UK_NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$")
_ES_DNI = re.compile(r"^(\d{8})-?([A-Z])$")
_ES_NIE = re.compile(r"^([XYZ])(\d{7})-?([A-Z])$")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _luhn(digits: str) -> bool:
    """Luhn (mod 10) check digit of payment card numbers (ISO/IEC 7812-1)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _bsn_ok(d: str) -> bool:
    """Dutch burgerservicenummer "elfproef" (weights 9..2, last digit -1)."""
    total = sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) - int(d[8])
    return total % 11 == 0 and int(d) != 0


def _steuer_id_ok(d: str) -> bool:
    """German Steuer-IdNr check digit (ISO 7064 MOD 11,10)."""
    if d[0] == "0":
        return False
    product = 10
    for c in d[:10]:
        s = (int(c) + product) % 10 or 10
        product = (s * 2) % 11
    return (11 - product) % 10 == int(d[10])


def _national_id(v: str) -> bool:
    """Checksum-valid (where one exists) national id of the US, UK, ES, FR, NL or DE."""
    if _US_SSN.match(v) or _UK_NINO.match(v.upper()):
        return True
    m = _ES_DNI.match(v)
    if m:
        return _DNI_LETTERS[int(m.group(1)) % 23] == m.group(2)
    m = _ES_NIE.match(v)
    if m:
        return _DNI_LETTERS[int(str("XYZ".index(m.group(1))) + m.group(2)) % 23] == m.group(3)
    compact = v.replace(" ", "")
    if len(compact) == 15 and compact[0] in "12":  # French NIR: key = 97 - (number mod 97)
        body = compact[:13].replace("2A", "19").replace("2B", "18")
        return (
            body.isdigit() and compact[13:].isdigit() and 97 - int(body) % 97 == int(compact[13:])
        )
    if v.isdigit():
        if len(v) == 9:
            return _bsn_ok(v)
        if len(v) == 11:
            return _steuer_id_ok(v)
    return False


def _iban_ok(v: str) -> bool:
    """IBAN check digits (ISO 13616: mod 97 of the rearranged number is 1)."""
    c = v.replace(" ", "").upper()
    if not (15 <= len(c) <= 34 and c.isalnum()):
        return False
    moved = c[4:] + c[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _payment_card(v: str) -> bool:
    c = v.replace(" ", "").replace("-", "")
    return 13 <= len(c) <= 19 and c.isdigit() and c[0] in "234569" and _luhn(c)


# ---- dates: (label, RE2 pattern with groups y/a/b, day-month orders to try)

_DATE_LAYOUTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("YYYY-MM-DD", r"^(?P<y>\d{4})-(?P<a>\d{1,2})-(?P<b>\d{1,2})$", ("MD",)),
    ("YYYY/MM/DD", r"^(?P<y>\d{4})/(?P<a>\d{1,2})/(?P<b>\d{1,2})$", ("MD",)),
    ("YYYY.MM.DD", r"^(?P<y>\d{4})\.(?P<a>\d{1,2})\.(?P<b>\d{1,2})$", ("MD",)),
    ("DD/MM/YYYY", r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})$", ("DM", "MD")),
    ("DD-MM-YYYY", r"^(?P<a>\d{1,2})-(?P<b>\d{1,2})-(?P<y>\d{4})$", ("DM", "MD")),
    ("DD.MM.YYYY", r"^(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<y>\d{4})$", ("DM",)),
    (
        "YYYY-MM-DD hh:mm",
        r"^(?P<y>\d{4})-(?P<a>\d{2})-(?P<b>\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?$",
        ("MD",),
    ),
    ("YYYYMMDD", r"^(?P<y>(?:19|20)\d{2})(?P<a>\d{2})(?P<b>\d{2})$", ("MD",)),
    ("YYYY-MM", r"^(?P<y>\d{4})-(?P<a>\d{2})(?P<b>)$", ("M",)),
)
_DATE_ANY = "|".join(re.sub(r"\?P<[a-z]>", "", rx) for _, rx, _ in _DATE_LAYOUTS[:6])
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _ints(arr: Any) -> np.ndarray:
    filled = pc.if_else(pc.equal(arr, ""), "1", arr)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


def _detect_dates(
    arr: Any, weights: np.ndarray
) -> tuple[float, str | None, tuple[str, str] | None]:
    """(share of records, layout label, (min, max) ISO) of the dominant date layout."""
    total = weights.sum()
    best: tuple[float, str | None, tuple[str, str] | None] = (0.0, None, None)
    if total == 0:
        return best
    for label, rx, orders in _DATE_LAYOUTS:
        hit = _match(arr, rx)
        if not hit.any():
            continue
        parts = pc.extract_regex(arr.filter(pa.array(hit)), rx)
        y, a = _ints(parts.field("y")), _ints(parts.field("a"))
        b = _ints(parts.field("b")) if orders != ("M",) else np.ones_like(y)
        w = weights[hit]
        for order in orders:
            month, day = (b, a) if order == "DM" else (a, b)
            ok = (y >= 1800) & (y <= 2200) & (month >= 1) & (month <= 12) & (day >= 1)
            mi = np.clip(month, 1, 12) - 1
            leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
            ok &= day <= _DAYS[mi] + ((mi == 1) & leap)
            share = float(w[ok].sum() / total)
            if share > best[0]:
                name = label
                if order == "MD" and label.startswith("DD"):
                    name = label.replace("DD", "\0").replace("MM", "DD").replace("\0", "MM")
                key = (y * 10000 + month * 100 + day)[ok]
                lo, hi = int(key.min()), int(key.max())
                iso = [f"{k // 10000:04d}-{k // 100 % 100:02d}-{k % 100:02d}" for k in (lo, hi)]
                if label == "YYYY-MM":
                    iso = [x[:7] for x in iso]
                best = (share, name, (iso[0], iso[1]))
    return best


def _match(arr: Any, rx: str) -> np.ndarray:
    out = pc.match_substring_regex(arr, rx)
    return np.asarray(pc.fill_null(out, False).to_numpy(zero_copy_only=False), dtype=bool)


# ---- person names


def _fold(text: str) -> str:
    """Case- and accent-insensitive form (``"Müller"`` -> ``"muller"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded.replace("ß", "ss").replace("ı", "i").replace("ł", "l").replace("ø", "o")


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    def read(fname: str) -> frozenset[str]:
        text = resources.files("workbench").joinpath("data", "names", fname).read_text("utf-8")
        return frozenset(
            _fold(line.strip()) for line in text.splitlines() if line.strip() and line[0] != "#"
        )

    return read("first_names.txt"), read("surnames.txt")


_NAME_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'’.\-]*([’'.\-][^\W\d_]+)*\.?$")
_PARTICLES = frozenset(
    "van von der den de del della di da dos das du la le el al bin ibn ten ter".split()
)


def _person_name(v: str, first: frozenset[str], last: frozenset[str]) -> bool:
    tokens = v.replace(",", " ").split()
    if not 1 <= len(tokens) <= 5:
        return False
    folded = _fold(v.replace(",", " ")).strip()
    folded = " ".join(folded.split())
    if folded in last or folded in first:
        return True
    core = [_fold(t) for t in tokens if _fold(t) not in _PARTICLES]
    if not core or not all(_NAME_TOKEN.match(t) for t in tokens):
        return False
    parts = {p for t in core for p in re.split(r"[-'’.]", t) if p}
    return any(p in first or p in last for p in parts) and len(tokens) >= 2


# ---- masks


def shape_mask(value: Any, max_len: int = _MASK_MAX) -> str:
    """Shape of a value: ``9`` for digits, ``A``/``a`` for upper/lower-case letters.

    Punctuation and symbols are kept, spaces become ``" "``, anything else ``?``, so e-mail
    addresses read ``aaaa@aaaa.aaa``. The mask never contains a letter or digit of the value,
    which is why it may be shown for identifiers. Masks longer than ``max_len`` characters end in ``…``.
    """
    text = str(value)
    out = []
    for ch in text[:max_len]:
        cat = unicodedata.category(ch)
        if cat == "Nd":
            out.append("9")
        elif cat in ("Lu", "Lt"):
            out.append("A")
        elif cat[0] == "L":
            out.append("a")
        elif cat[0] == "N":
            out.append("?")
        elif cat[0] == "Z" or ch in "\t\n\f\r":
            out.append(" ")
        elif cat[0] in "PS":  # punctuation and symbols carry the shape (@ . - / +)
            out.append(ch)
        else:  # controls, format, private-use, unassigned: never echo
            out.append("?")
    if len(text) > max_len:
        out.append("…")
    return "".join(out)


def _masks(arr: Any) -> list[str]:
    """:func:`shape_mask` of every element, vectorized with RE2 Unicode classes."""
    m = pc.utf8_slice_codeunits(arr, 0, _MASK_MAX)
    for rx, repl in (
        (r"[\x01-\x03]", "?"),
        (r"\p{Nd}", "\x01"),
        (r"\p{Lu}|\p{Lt}", "\x02"),
        (r"\p{L}", "\x03"),
        (r"\p{N}", "?"),
        (r"\p{Z}|[\t\n\f\r]", " "),
        (r"[^\x01\x02\x03 ?\p{P}\p{S}]", "?"),
        ("\x01", "9"),
        ("\x02", "A"),
        ("\x03", "a"),
    ):
        m = pc.replace_substring_regex(m, rx, repl)
    long = np.asarray(pc.greater(pc.utf8_length(arr), _MASK_MAX).to_numpy(zero_copy_only=False))
    return [x + "…" if lg else x for x, lg in zip(m.to_pylist(), long, strict=True)]


# --------------------------------------------------------------------------------------------
# column profile


def _value_patterns(
    texts: list[str], weights: np.ndarray
) -> tuple[
    dict[str, float], str | None, tuple[str, str] | None, float, float, bool, int, list[str]
]:
    """Pattern shares, date layout/range, mean tokens, mean length, leading zeros, distinct
    person names and shape masks of the sampled distinct values (weighted by their counts)."""
    total = float(weights.sum())
    arr = pc.utf8_trim_whitespace(pa.array(texts, type=pa.string()))

    def share(mask: np.ndarray) -> float:
        return float(weights[mask].sum() / total) if total else 0.0

    def checked(prefilter: str, check: Any) -> np.ndarray:
        hit = _match(arr, prefilter)
        if hit.any():
            idx = np.flatnonzero(hit)
            cand = arr.take(pa.array(idx)).to_pylist()
            hit[idx] = [bool(check(v)) for v in cand]
        return hit

    dates = _match(arr, _DATE_ANY)
    postal = _match(arr, _RX["postal"])
    phone = _match(arr, _RX["phone"]) & ~dates & ~postal
    if phone.any():
        digits = np.asarray(
            pc.utf8_length(pc.replace_substring_regex(arr, r"\D", "")).to_numpy(
                zero_copy_only=False
            )
        )
        lead = _match(arr, r"^(?:\+|0)")
        sep = _match(arr, r"[ ().\-/]")
        phone &= (digits >= 7) & (digits <= 15) & (lead | sep)
    nid = checked(_RX["nid"], _national_id)
    card = checked(_RX["card"], _payment_card)
    iban = checked(_RX["iban"], _iban_ok)
    phone &= ~(nid | card | iban)  # a checksum-valid id is more specific than "digits and dashes"
    patterns = {
        "email": share(_match(arr, _RX["email"])),
        "phone": share(phone),
        "national_id": share(nid),
        "payment_card": share(card),
        "iban": share(iban),
        "ip_address": share(
            _match(arr, _RX["ipv4"]) | (_match(arr, ":") & _match(arr, _RX["ipv6"]))
        ),
        "url": share(_match(arr, _RX["url"])),
        "postal_code": share(postal),
        "icd10": share(_match(arr, _RX["icd10"])),
        "hex_digest": share(_match(arr, _RX["hex_digest"])),
    }
    date_share, date_format, date_range = _detect_dates(arr, weights)
    patterns["date"] = date_share
    first, last = _name_lists()
    names = checked(_RX["name_like"], lambda v: _person_name(v, first, last))
    patterns["person_name"] = share(names)
    tokens = np.asarray(pc.count_substring_regex(arr, r"\S+").to_numpy(zero_copy_only=False))
    lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False))
    mean_tokens = float((tokens * weights).sum() / total) if total else 0.0
    mean_len = float((lengths * weights).sum() / total) if total else 0.0
    leading = bool(_match(arr, _RX["leading_zero"]).any())
    return (
        patterns,
        date_format if date_share >= 0.5 else None,
        date_range if date_share >= 0.5 else None,
        mean_tokens,
        mean_len,
        leading,
        int(names.sum()),
        _masks(pa.array(texts, type=pa.string())),
    )


def _column_profile(s: _Stats, n_rows: int, min_count: int, top: int) -> ColumnProfile:
    n_values = n_rows - s.n_missing
    distinct_ratio = s.distinct / n_values if n_values else 0.0
    weights = s.sample_counts.astype(float)
    total = float(weights.sum())
    texts = [_as_text(v) for v in s.sample]
    patterns: dict[str, float] = {}
    date_format = None
    date_range = None
    mean_tokens = mean_len = 0.0
    has_leading_zeros = False
    person_distinct = 0
    masks: list[str] = []
    if texts and total:
        if s.numeric_storage or s.bool_storage or s.datetime_storage:
            lengths = np.array([len(t) for t in texts])
            mean_len = float((lengths * weights).sum() / total)
            masks = _masks(pa.array(texts, type=pa.string()))
            if s.integer_storage:
                ints = np.array([int(v) for v in s.sample])
                patterns["year"] = float(weights[(ints >= 1900) & (ints <= 2100)].sum() / total)
            if s.datetime_storage:
                patterns["date"] = 1.0
                date_format = "datetime"
        else:
            (
                patterns,
                date_format,
                date_range,
                mean_tokens,
                mean_len,
                has_leading_zeros,
                person_distinct,
                masks,
            ) = _value_patterns(texts, weights)
        patterns = {k: round(v, 4) for k, v in patterns.items() if v > 0}
    if s.datetime_storage and s.min_max is not None:
        date_range = (_iso(s.min_max[0]), _iso(s.min_max[1]))
    sequence_like = False
    if s.integer_storage and s.min_max is not None and s.distinct:
        lo, hi = (int(x) for x in s.min_max)
        sequence_like = hi - lo + 1 <= 2 * s.distinct
    kind = _kind(s, n_values, distinct_ratio, patterns, mean_tokens, mean_len, sequence_like)
    shapes = _shapes(masks, weights, total, top)
    col = ColumnProfile(
        name=s.name,
        storage_type=s.storage_type,
        kind=kind,
        n_values=n_values,
        n_missing=s.n_missing,
        missing_ratio=s.n_missing / n_rows if n_rows else 0.0,
        distinct=s.distinct,
        distinct_ratio=distinct_ratio,
        entropy_bits=s.entropy,
        unique_share=s.singletons / n_rows if n_rows else 0.0,
        length_range=s.length_range,
        shapes=shapes,
        patterns=MappingProxyType(patterns),
        date_format=date_format if kind == ColumnKind.DATE else None,
        top_values=tuple((_as_text(v)[:60], c) for v, c in s.top if c >= min_count)[:top],
        numeric=s.numeric if kind in (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL) else None,
        date_range=date_range if kind == ColumnKind.DATE else None,
        mean_tokens=mean_tokens,
        sequence_like=sequence_like,
        has_leading_zeros=has_leading_zeros,
        person_names_distinct=person_distinct,
    )
    if col.looks_like_identifier:
        why = {
            ColumnKind.ID_LIKE: "id-like values",
            ColumnKind.FREE_TEXT: "free text may contain identifiers",
        }.get(kind)
        if why is None:
            found = [p for p in IDENTIFIER_PATTERNS if col.pattern(p) >= 0.3]
            why = f"values look like {found[0].replace('_', ' ')}s" if found else "person names"
        col = _redact(col, why)
    return col


def _kind(
    s: _Stats,
    n_values: int,
    distinct_ratio: float,
    patterns: Mapping[str, float],
    mean_tokens: float,
    mean_len: float,
    sequence_like: bool,
) -> ColumnKind:
    """Numeric / categorical / date / free text / id-like, from storage type and values."""
    if n_values == 0 or s.bool_storage:
        return ColumnKind.CATEGORICAL
    if s.datetime_storage:
        return ColumnKind.DATE
    many = n_values >= 10
    if s.numeric_storage:
        if s.integer_storage:
            if many and distinct_ratio >= 0.95 and sequence_like:
                return ColumnKind.ID_LIKE
            if s.distinct <= 10 and distinct_ratio <= 0.5:
                return ColumnKind.CATEGORICAL  # a coded variable (1 = male, 2 = female ...)
        return ColumnKind.NUMERIC
    if patterns.get("date", 0.0) >= 0.9:
        return ColumnKind.DATE
    if any(patterns.get(p, 0.0) >= 0.5 for p in IDENTIFIER_PATTERNS):
        return ColumnKind.ID_LIKE
    if (mean_tokens >= 3 or mean_len >= 40) and distinct_ratio >= 0.3:
        if patterns.get("person_name", 0.0) < 0.5:
            return ColumnKind.FREE_TEXT
    if many and distinct_ratio >= 0.9:
        return ColumnKind.ID_LIKE
    return ColumnKind.CATEGORICAL


def _shapes(
    masks: Sequence[str], weights: np.ndarray, total: float, top: int
) -> tuple[tuple[str, float], ...]:
    if not masks or total == 0 or top == 0:
        return ()
    acc: dict[str, float] = {}
    for m, w in zip(masks, weights, strict=True):
        acc[m] = acc.get(m, 0.0) + float(w)
    ranked = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return tuple((m, round(w / total, 4)) for m, w in ranked)


def _as_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return _iso(v)
    return str(v)


def _iso(v: Any) -> str:
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _num(x: float | int | None) -> float | int | None:
    if x is None:
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, 6)


# --------------------------------------------------------------------------------------------
# text rendering


def _fmt_pct(x: float) -> str:
    if x == 0:
        return "0 %"
    if x < 0.001:
        return "<0.1 %"
    return f"{100 * x:.1f} %"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _render_text(p: DatasetProfile, *, details: bool) -> str:
    opts = p.options
    where = "SQL query" if opts.get("format") == "sql" else (p.source or "(in memory)")
    head = [f"Dataset {p.name!r}: {p.n_rows:,} rows x {p.n_columns} columns  ({where})"]
    if p.department:
        head.append(f"Department: {p.department}")
    if opts.get("format") == "csv":
        head.append(
            "Read as: delimiter {!r}, encoding {}, newline {}, missing markers {}".format(
                opts.get("delimiter"),
                opts.get("encoding"),
                {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}.get(opts.get("newline", ""), "?"),
                opts.get("missing"),
            )
        )
    roles = {s.column: s for s in p.roles.suggestions} if p.roles is not None else {}
    rows = []
    for c in p.columns:
        sug = roles.get(c.name)
        rows.append(
            [
                c.name,
                c.kind.value + (f" ({c.date_format})" if c.date_format else ""),
                f"{c.distinct:,}",
                _fmt_pct(c.distinct_ratio),
                _fmt_pct(c.missing_ratio),
                f"{c.entropy_bits:.2f}",
                _fmt_pct(c.unique_share),
                (c.shapes[0][0] if c.shapes else ""),
                f"{sug.role.value} ({sug.confidence:.2f})" if sug else "",
            ]
        )
    head.append("")
    head += _table(
        [
            "column",
            "type",
            "distinct",
            "distinct%",
            "missing%",
            "entropy",
            "unique%",
            "common shape",
            "suggested role",
        ],
        rows,
        right={2, 3, 4, 5, 6},
    )
    if roles:
        head += ["", "Role suggestions (override with RoleMap.with_role or --roles):"]
        for c in p.columns:
            sug = roles.get(c.name)
            if sug:
                head.append(f"  {c.name}: {sug.role.value} - {sug.reason}")
    if details:
        head += ["", f"Values (listed only when seen at least {p.min_count} times):"]
        for c in p.columns:
            if c.redacted:
                lr = f", length {c.length_range[0]}-{c.length_range[1]}" if c.length_range else ""
                shapes = ", ".join(f"{m} {_fmt_pct(s)}" for m, s in c.shapes[:3])
                head.append(f"  {c.name}: [redacted: {c.redaction_reason}]{lr}; shapes {shapes}")
            elif c.numeric is not None and c.kind == ColumnKind.NUMERIC:
                n = c.numeric
                head.append(
                    f"  {c.name}: min {n.min:g}, median {n.median:g}, mean {n.mean:.4g}, "
                    f"max {n.max:g}, sd {n.std:.4g}"
                )
            elif c.date_range is not None:
                head.append(f"  {c.name}: {c.date_range[0]} .. {c.date_range[1]}")
            elif c.top_values:
                vals = ", ".join(f"{v} ({cnt:,})" for v, cnt in c.top_values)
                more = c.distinct - len(c.top_values)
                head.append(f"  {c.name}: {vals}" + (f", +{more:,} more" if more > 0 else ""))
            else:
                head.append(f"  {c.name}: no value occurs {p.min_count} times or more")
    return "\n".join(head) + "\n"
