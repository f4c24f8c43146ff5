"""Generalization hierarchies in the ARX CSV format, their builders and their validation.

A hierarchy is a table with one row per leaf (original value) and one column per level: column 0
is the leaf, column ``i`` its generalization at level ``i``, the last column usually the single
value ``*``. The ARX format (Prasser & Kohlmayer 2015, "Putting statistical disclosure control into
practice: the ARX data anonymization tool") stores it as ``;``-separated text without a header,
for example ``39;35-39;30-39;20-39;*``.

For fast lattice search every level also has integer codes: ``codes(level)[leaf_code]`` is the
code of the leaf's generalization at that level, and ``code_map(a, b)`` maps level-``a`` codes to
level-``b`` codes, so a class table can be rolled up with one array look-up per column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write_text
from ..errors import HierarchyError, ParameterError

__all__ = [
    "Hierarchy",
    "MISSING_LEAVES",
    "interval_hierarchy",
    "date_hierarchy",
    "masking_hierarchy",
    "grouping_hierarchy",
    "identity_hierarchy",
    "auto_hierarchy",
    "detect_date_format",
    "looks_like_code",
    "value_strings",
]

#: Leaf spellings that stand for a missing value, tried in this order when the data has NaN.
MISSING_LEAVES = ("", "NA", "NaN", "nan", "NULL", "null", "?", "*")


def value_strings(values: Any) -> pd.Series:
    """Spell data values the way hierarchy leaves are spelled (integers without ``.0``).

    Missing values stay missing. Used by every look-up so that an ``int64`` age column and a
    string column ``"39"`` both match the leaf ``39``.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
    if pd.api.types.is_integer_dtype(s.dtype):
        out = s.astype("Int64").astype(str).astype(object)
        return out.where(s.notna(), None)
    if pd.api.types.is_float_dtype(s.dtype):

        def fmt(v: float) -> str | None:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return None
            return str(int(v)) if float(v).is_integer() else repr(float(v))

        return s.astype(object).map(fmt)
    out = s.astype(object)
    return out.map(
        lambda v: (
            None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else str(v)
        )
    )


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """A value generalization hierarchy (one row per leaf, one column per level).

    Attributes
    ----------
    rows : tuple of tuple of str
        ``rows[r][j]`` is leaf ``r``'s value at level ``j``; ``rows[r][0]`` is the leaf.
    name : str or None
        Column or file name, used in error messages.
    source : str or None
        File the hierarchy was read from, if any.

    Notes
    -----
    Validated on construction: rectangular, unique leaves, and every level a *function* of the
    previous one (a value at level ``i`` maps to exactly one value at level ``i + 1``), which is
    what makes full-domain generalization well defined and class tables roll up.
    """

    rows: tuple[tuple[str, ...], ...]
    name: str | None = None
    source: str | None = None
    _codes: tuple[np.ndarray, ...] = field(init=False, repr=False)
    _values: tuple[tuple[str, ...], ...] = field(init=False, repr=False)
    _leaf_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rows = tuple(tuple(str(v) for v in r) for r in self.rows)
        where = self._where()
        if not rows:
            raise HierarchyError(f"hierarchy{where} has no rows")
        width = len(rows[0])
        for i, r in enumerate(rows):
            if len(r) != width:
                raise HierarchyError(
                    f"hierarchy{where}: row {i + 1} (leaf {r[0]!r}) has {len(r)} "
                    f"levels, expected {width} like row 1"
                )
        leaf_index: dict[str, int] = {}
        for i, r in enumerate(rows):
            if r[0] in leaf_index:
                raise HierarchyError(
                    f"hierarchy{where}: leaf {r[0]!r} appears twice "
                    f"(rows {leaf_index[r[0]] + 1} and {i + 1})"
                )
            leaf_index[r[0]] = i
        codes, values = [], []
        for j in range(width):
            lookup: dict[str, int] = {}
            col = np.empty(len(rows), dtype=np.int64)
            for i, r in enumerate(rows):
                col[i] = lookup.setdefault(r[j], len(lookup))
            col.setflags(write=False)
            codes.append(col)
            values.append(tuple(lookup))
        for j in range(width - 1):
            parent: dict[int, int] = {}
            first_row: dict[int, int] = {}
            for i in range(len(rows)):
                a, b = int(codes[j][i]), int(codes[j + 1][i])
                if parent.setdefault(a, b) != b:
                    r0 = first_row[a]
                    raise HierarchyError(
                        f"hierarchy{where}: value {rows[i][j]!r} at level {j} maps to both "
                        f"{rows[r0][j + 1]!r} (row {r0 + 1}) and {rows[i][j + 1]!r} (row {i + 1}) "
                        f"at level {j + 1}; each level must be a function of the previous one"
                    )
                first_row.setdefault(a, i)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "_codes", tuple(codes))
        object.__setattr__(self, "_values", tuple(values))
        object.__setattr__(self, "_leaf_index", leaf_index)

    def _where(self) -> str:
        label = self.source or self.name
        return f" {label}" if label else ""

    # -- shape --------------------------------------------------------------------------------
    @property
    def levels(self) -> int:
        """Number of levels including the leaves (ARX's "height"); valid levels are 0..levels-1."""
        return len(self.rows[0])

    @property
    def max_level(self) -> int:
        """Highest generalization level (``levels - 1``)."""
        return self.levels - 1

    @property
    def leaves(self) -> tuple[str, ...]:
        """Leaf values in file order (this order is also Mondrian's order for categories)."""
        return tuple(r[0] for r in self.rows)

    @property
    def n_leaves(self) -> int:
        """Number of leaves = rows of the hierarchy file (the ``|D_i|`` of the Loss metric)."""
        return len(self.rows)

    @property
    def has_single_top(self) -> bool:
        """True when the last level is one value (ideally ``*``), so full suppression is a level."""
        return len(self._values[-1]) == 1

    def values(self, level: int) -> tuple[str, ...]:
        """Distinct values at ``level``; position = integer code at that level."""
        return self._values[self._check_level(level)]

    def codes(self, level: int) -> np.ndarray:
        """``codes(level)[leaf_code]`` = code of the leaf's generalization at ``level``."""
        return self._codes[self._check_level(level)]

    def code_map(self, from_level: int, to_level: int) -> np.ndarray:
        """Array mapping codes at ``from_level`` to codes at ``to_level`` (``from <= to``)."""
        a, b = self._check_level(from_level), self._check_level(to_level)
        if a > b:
            raise ParameterError("to_level", to_level, f"a level >= from_level={from_level}")
        out = np.empty(len(self._values[a]), dtype=np.int64)
        out[self._codes[a]] = self._codes[b]
        return out

    def leaf_counts(self, level: int) -> np.ndarray:
        """Number of leaves under each level-``level`` value (for the Loss metric's shares)."""
        lev = self._check_level(level)
        return np.bincount(self._codes[lev], minlength=len(self._values[lev]))

    def _check_level(self, level: int) -> int:
        if not isinstance(level, (int, np.integer)) or not 0 <= level < self.levels:
            raise ParameterError(
                "level",
                level,
                f"an integer in 0..{self.max_level}"
                f"{' for hierarchy' + self._where() if self._where() else ''}",
            )
        return int(level)

    # -- look-ups -----------------------------------------------------------------------------
    def leaf_codes(self, values: Any, column: str | None = None) -> np.ndarray:
        """Leaf code of every data value; raises :class:`HierarchyError` naming a missing value.

        Values are factorized first, so only the distinct values are spelled and looked up.
        """
        raw = values if isinstance(values, pd.Series) else pd.Series(values)
        ucodes, uniques = pd.factorize(raw, use_na_sentinel=True)
        spelled = value_strings(pd.Series(uniques))
        idx = self._leaf_index
        lut = np.asarray([idx.get(v, -1) if v is not None else -2 for v in spelled], dtype=np.int64)
        missing = ucodes < 0
        if missing.any() or (lut == -2).any():
            leaf = self.missing_leaf()
            if leaf is None:
                n_missing = int(missing.sum()) + int(
                    np.isin(ucodes, np.flatnonzero(lut == -2)).sum()
                )
                col = f" of column {column!r}" if column else ""
                raise HierarchyError(
                    f"missing values{col} ({n_missing} records) have no leaf in hierarchy"
                    f"{self._where()}; add a row whose leaf is one of {list(MISSING_LEAVES[:5])}"
                )
            lut[lut == -2] = idx[leaf]
        lut = np.append(lut, idx[self.missing_leaf()] if missing.any() else -1)
        codes = lut[ucodes]  # code -1 (missing) picks the appended entry
        bad_u = np.flatnonzero(lut[:-1] < 0)
        if len(bad_u):
            # name the position, never the value: cells may hold identifiers
            rows = np.flatnonzero(np.isin(ucodes, bad_u))
            col = f" of column {column!r}" if column else ""
            more = (
                f" ({len(bad_u)} values, {len(rows)} records, have no leaf)"
                if len(bad_u) > 1
                else f" ({len(rows)} records)"
            )
            raise HierarchyError(
                f"the value in row {int(rows[0]) + 1}{col} has no leaf in hierarchy"
                f"{self._where()}{more}"
            )
        return codes

    def missing_leaf(self) -> str | None:
        """The leaf that stands for missing values, if the hierarchy has one."""
        for cand in MISSING_LEAVES:
            if cand in self._leaf_index:
                return cand
        return None

    def check_covers(self, values: Any, column: str | None = None) -> None:
        """Raise :class:`HierarchyError` if a data value has no leaf (names value and file)."""
        self.leaf_codes(values, column)

    def generalize(self, values: Any, level: int) -> pd.Series:
        """Each value's ancestor at ``level`` (strings; raises for values without a leaf)."""
        lev = self._check_level(level)
        s = values if isinstance(values, pd.Series) else pd.Series(values)
        codes = self.leaf_codes(s)
        table = np.asarray(self._values[lev], dtype=object)
        return pd.Series(table[self._codes[lev][codes]], index=s.index, name=s.name, dtype=object)

    # -- construction and files ---------------------------------------------------------------
    @classmethod
    def from_rows(
        cls, rows: Iterable[Sequence[Any]], name: str | None = None, source: str | None = None
    ) -> Hierarchy:
        """Build from an iterable of rows (leaf first)."""
        return cls(rows=tuple(tuple(str(v) for v in r) for r in rows), name=name, source=source)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str | None = None) -> Hierarchy:
        """Build from a DataFrame whose columns are the levels."""
        return cls.from_rows(frame.astype(str).itertuples(index=False, name=None), name=name)

    def to_frame(self) -> pd.DataFrame:
        """The hierarchy as a DataFrame with columns ``level_0..level_h``."""
        return pd.DataFrame(list(self.rows), columns=[f"level_{j}" for j in range(self.levels)])

    @classmethod
    def from_csv(cls, path: str | Path, delimiter: str = ";", name: str | None = None) -> Hierarchy:
        """Read an ARX hierarchy file (``;``-separated, no header, one row per leaf)."""
        p = Path(path)
        if not p.exists():
            raise HierarchyError(f"hierarchy file {str(p)!r} does not exist")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HierarchyError(f"hierarchy file {str(p)!r} is not UTF-8 text: {exc}") from exc
        rows = [
            r
            for r in csv.reader(io.StringIO(text), delimiter=delimiter)
            if r and any(c.strip() for c in r)
        ]
        if not rows:
            raise HierarchyError(f"hierarchy file {str(p)!r} is empty")
        return cls.from_rows(rows, name=name or p.stem, source=str(p))

    def to_csv_text(self, delimiter: str = ";") -> str:
        """The ARX CSV text of this hierarchy."""
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        writer.writerows(self.rows)
        return buf.getvalue()

    def to_csv(
        self, path: str | Path, delimiter: str = ";", sources: Iterable[str | Path] = ()
    ) -> Path:
        """Write the ARX CSV file atomically (never over one of ``sources``)."""
        return atomic_write_text(path, self.to_csv_text(delimiter), sources=sources)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (rows plus name), used by transform pipelines and provenance."""
        return {"name": self.name, "source": self.source, "rows": [list(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hierarchy:
        """Inverse of :meth:`to_dict`."""
        if "rows" not in d:
            raise HierarchyError("hierarchy dict has no 'rows' entry")
        return cls.from_rows(d["rows"], name=d.get("name"), source=d.get("source"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hierarchy) and self.rows == other.rows

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"Hierarchy({label}leaves={self.n_leaves}, levels={self.levels})"


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------


def _add_top(columns: list[list[str]], top: str = "*") -> list[list[str]]:
    if len(set(columns[-1])) != 1 or columns[-1][0] != top:
        columns.append([top] * len(columns[0]))
    return columns


def _rows(columns: list[list[str]]) -> list[tuple[str, ...]]:
    return list(zip(*columns, strict=True))


def _distinct(values: Any) -> list[str]:
    s = value_strings(pd.Series(values) if not isinstance(values, pd.Series) else values)
    return sorted(set(s.dropna()))


def _value_at(values: Any, bad: str, name: str | None) -> str:
    """Where a bad value sits ("row 3 of column 'age'"), never the value itself.

    Cell values may be identifiers, so error messages name the position only.
    """
    s = value_strings(pd.Series(values) if not isinstance(values, pd.Series) else values)
    hits = np.flatnonzero((s == bad).to_numpy(dtype=bool, na_value=False))
    row = f"row {int(hits[0]) + 1}" if len(hits) else "a value"
    return f"{row}{' of column ' + repr(name) if name else ''}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def interval_hierarchy(
    values: Iterable[Any],
    width: float,
    start: float | None = None,
    stop: float | None = None,
    fanouts: Sequence[int] = (2, 2),
    name: str | None = None,
) -> Hierarchy:
    """Numeric intervals with top and bottom coding, coarsened level by level by ``fanouts``.

    Level 1 cuts ``[start, stop)`` into intervals of ``width``; values below ``start`` go to the
    bin ``"<start"`` and values at or above ``stop`` to ``">=stop"`` (bottom and top coding).
    Level ``i + 1`` merges ``fanouts[i]`` neighbouring intervals; the last level is ``*``.
    Integer data gets inclusive labels like ARX's files (``15-19``), other data ``[a, b)``.
    """
    if not width or width <= 0:
        raise ParameterError("width", width, "a positive number")
    if any(int(f) < 2 for f in fanouts):
        raise ParameterError("fanouts", list(fanouts), "integers >= 2")
    leaves = _distinct(values)
    nums = []
    for v in leaves:
        try:
            nums.append(float(v))
        except ValueError:
            raise HierarchyError(
                f"{_value_at(values, v, name)} is not numeric; interval hierarchies need numbers"
            ) from None
    if not nums:
        raise HierarchyError(
            f"no values to build an interval hierarchy{' for ' + name if name else ''}"
        )
    order = np.argsort(nums, kind="stable")
    leaves = [leaves[i] for i in order]
    x = np.asarray([nums[i] for i in order])
    lo = float(np.floor(x.min() / width) * width) if start is None else float(start)
    hi = float(x.max() + width if stop is None else stop)
    n_bins = max(1, math.ceil((hi - lo) / width - 1e-9))
    hi = lo + n_bins * width
    integer = bool(
        np.all(np.equal(np.mod(x, 1), 0)) and float(width).is_integer() and float(lo).is_integer()
    )

    def label(a: float, b: float) -> str:
        if integer:
            return f"{_num(a)}-{_num(b - 1)}" if b - 1 > a else _num(a)
        return f"[{_num(a)}, {_num(b)})"

    bins = np.floor((x - lo) / width).astype(np.int64)
    columns = [leaves]
    group = 1
    for f in [1, *fanouts]:
        group *= int(f)
        col = []
        for v, b in zip(x, bins, strict=True):
            if v < lo:
                col.append(f"<{_num(lo)}")
            elif v >= hi:
                col.append(f">={_num(hi)}")
            else:
                g = int(b) // group
                a = lo + g * group * width
                col.append(label(a, min(a + group * width, hi)))
        columns.append(col)
        if group >= n_bins:
            break
    return Hierarchy.from_rows(_rows(_add_top(columns)), name=name)


_DATE_LEVELS = ("day", "month", "year", "decade")


def date_hierarchy(
    values: Iterable[Any],
    levels: Sequence[str] = _DATE_LEVELS,
    date_format: str | None = None,
    name: str | None = None,
) -> Hierarchy:
    """Dates generalized day -> month (``YYYY-MM``) -> year -> decade (``1990s``) -> ``*``.

    ``levels`` picks a subset in that order (``("day", "year")`` skips months). ``date_format``
    is passed to :func:`pandas.to_datetime`; by default ISO-8601 is expected.
    """
    unknown = [lv for lv in levels if lv not in _DATE_LEVELS]
    if unknown or list(levels) != [lv for lv in _DATE_LEVELS if lv in levels]:
        raise ParameterError("levels", list(levels), f"an ordered subset of {list(_DATE_LEVELS)}")
    leaves = _distinct(values)
    parsed = pd.to_datetime(
        pd.Series(leaves, dtype=object), format=date_format or "ISO8601", errors="coerce"
    )
    if parsed.isna().any():
        bad = leaves[int(np.flatnonzero(parsed.isna().to_numpy())[0])]
        raise HierarchyError(
            f"{_value_at(values, bad, name)} is not a date in format {date_format or 'ISO-8601'}"
        )
    columns = [leaves]
    for lv in levels[1:] if levels and levels[0] == "day" else levels:
        if lv == "day":
            continue
        if lv == "month":
            columns.append([d.strftime("%Y-%m") for d in parsed])
        elif lv == "year":
            columns.append([d.strftime("%Y") for d in parsed])
        elif lv == "decade":
            columns.append([f"{d.year // 10 * 10}s" for d in parsed])
    return Hierarchy.from_rows(_rows(_add_top(columns)), name=name)


def masking_hierarchy(
    values: Iterable[Any],
    mask_char: str = "*",
    max_masked: int | None = None,
    name: str | None = None,
) -> Hierarchy:
    """Mask characters from the right, one per level: ``02138 -> 0213* -> 021** -> ...``.

    ``max_masked`` stops after that many characters (default: the longest value's length); a
    final ``*`` level is added when the last level is not already one value.
    """
    leaves = _distinct(values)
    longest = max((len(v) for v in leaves), default=0)
    n = longest if max_masked is None else min(int(max_masked), longest)
    columns = [leaves]
    for m in range(1, n + 1):
        columns.append([v[: max(len(v) - m, 0)] + mask_char * min(m, len(v)) for v in leaves])
    return Hierarchy.from_rows(_rows(_add_top(columns)), name=name)


def grouping_hierarchy(
    values: Iterable[Any], groups: Sequence[Mapping[str, str]], name: str | None = None
) -> Hierarchy:
    """Group categories level by level from mappings (level ``i`` value -> level ``i+1`` group).

    ``groups[0]`` maps every leaf to a group, ``groups[1]`` maps those groups, and so on; a final
    ``*`` level is added. A value missing from a mapping raises :class:`HierarchyError`.
    """
    leaves = _distinct(values)
    columns = [leaves]
    for i, mapping in enumerate(groups):
        prev = columns[-1]
        missing = [v for v in prev if v not in mapping]
        if missing:
            where = _value_at(values, missing[0], name) if i == 0 else f"a level-{i} group"
            raise HierarchyError(
                f"{where} has no group in mapping {i} (level {i} -> {i + 1}; "
                f"{len(missing)} value(s) missing)"
            )
        columns.append([str(mapping[v]) for v in prev])
    return Hierarchy.from_rows(_rows(_add_top(columns)), name=name)


def identity_hierarchy(values: Iterable[Any], name: str | None = None) -> Hierarchy:
    """Two levels: the value itself, then ``*`` (for categories without a known grouping)."""
    return grouping_hierarchy(values, (), name=name)


def _nice_width(span: float, target_bins: int) -> float:
    raw = max(span / target_bins, 1e-12)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover


#: Text date formats recognised automatically (strptime format, label), tried in this order.
DATE_FORMATS = (
    ("%Y-%m-%d", "YYYY-MM-DD"),
    ("%d/%m/%Y", "DD/MM/YYYY"),
    ("%m/%d/%Y", "MM/DD/YYYY"),
    ("%d.%m.%Y", "DD.MM.YYYY"),
    ("%Y/%m/%d", "YYYY/MM/DD"),
    ("%d-%m-%Y", "DD-MM-YYYY"),
)
_DETECT_SAMPLE = 2000  # distinct values tried first, so a non-date column is rejected quickly


def _distinct_text(values: Any) -> pd.Series | None:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    s = s.dropna()
    if not len(s) or pd.api.types.is_numeric_dtype(s.dtype):
        return None
    return pd.Series(pd.unique(s.astype(str).str.strip()))


def detect_date_format(values: Any) -> str | None:
    """The first of :data:`DATE_FORMATS` that parses every distinct present value, else ``None``.

    The one date detection of the workbench: the tuner's default hierarchy and the automatic
    hierarchy of ``anonymize`` both call it, so the same column gets the same hierarchy.
    """
    distinct = _distinct_text(values)
    if distinct is None or not distinct.str.contains(r"[-/.]", regex=True).all():
        return None
    head = (
        distinct
        if len(distinct) <= _DETECT_SAMPLE
        else distinct.sample(_DETECT_SAMPLE, random_state=0)
    )
    for fmt, _ in DATE_FORMATS:
        if pd.to_datetime(head, format=fmt, errors="coerce").notna().all() and (
            head is distinct or pd.to_datetime(distinct, format=fmt, errors="coerce").notna().all()
        ):
            return fmt
    return None


def looks_like_code(values: Any) -> bool:
    """Fixed-width digit codes stored as text (postal codes, ``"101"``): at least 3 digits."""
    distinct = _distinct_text(values)
    if distinct is None:
        return False
    lengths = distinct.str.len()
    return bool(distinct.str.fullmatch(r"[0-9]+").all() and lengths.min() == lengths.max() >= 3)


def _auto_date_or_code(observed: pd.Series, name: str | None) -> tuple[Hierarchy, str] | None:
    """Date or fixed-width code hierarchy for a text column, or ``None``."""
    fmt = detect_date_format(observed)
    if fmt is not None:
        label = dict(DATE_FORMATS)[fmt]
        text = observed.astype(str).str.strip()
        h = date_hierarchy(text, date_format=fmt, name=name)
        return h, f"automatic date hierarchy ({label}: day -> month -> year -> decade)"
    if looks_like_code(observed):
        h = masking_hierarchy(observed.astype(str).str.strip(), name=name)
        return h, "automatic masking hierarchy (fixed-width code, one digit masked per level)"
    return None


def _distinct_values(values: pd.Series) -> pd.Series:
    """The distinct values of a column, dtype kept (a missing one kept if any was missing)."""
    return values.drop_duplicates().reset_index(drop=True)


def auto_hierarchy(values: Any, name: str | None = None) -> tuple[Hierarchy, str]:
    """A default hierarchy and a sentence saying what it is.

    Text columns of dates (ISO, day-first, month-first or dotted, every value parsing) get day ->
    month -> year -> decade; fixed-width digit codes stored as text (postal codes, zips) get
    masking from the right; numeric columns get intervals (about 20 bins, merged by 2 per level);
    anything else gets identity + ``*``. Missing values get a leaf ``NA``.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    # A hierarchy depends only on the set of distinct values (and whether one is missing), so
    # one hash pass reduces the column first: the per-value work below then runs once per
    # distinct value, not once per record (318 s -> seconds for 10M records).
    s = _distinct_values(s)
    has_missing = bool(s.isna().any())
    observed = s.dropna()
    special = _auto_date_or_code(observed, name)
    if special is not None:
        h, what = special
        if has_missing and h.missing_leaf() is None:
            top = ["NA"] + ["NA"] * (h.levels - 2) + ["*"] if h.levels > 1 else ["NA"]
            h = Hierarchy.from_rows([*h.rows, tuple(top)], name=name)
        return h, what
    numeric = pd.api.types.is_numeric_dtype(observed.dtype) and not pd.api.types.is_bool_dtype(
        observed.dtype
    )
    if not numeric and len(observed):
        conv = pd.to_numeric(observed.astype(str), errors="coerce")
        numeric = bool(conv.notna().all()) and observed.astype(str).nunique() > 10
        if numeric:
            observed = conv
    if numeric and observed.nunique() > 10:
        x = observed.astype(float)
        width = _nice_width(float(x.max() - x.min()) or 1.0, 20)
        if float(x.max() - x.min()) >= 20 and width < 1:
            width = 1.0
        h = interval_hierarchy(value_strings(s.dropna()), width=width, fanouts=(2, 2, 2), name=name)
        what = f"automatic interval hierarchy (width {_num(width)}, merged by 2 per level)"
    else:
        h = identity_hierarchy(s.dropna(), name=name)
        what = "automatic categorical hierarchy (value -> *)"
    if has_missing and h.missing_leaf() is None:
        top = ["NA"] + ["NA"] * (h.levels - 2) + ["*"] if h.levels > 1 else ["NA"]
        h = Hierarchy.from_rows([*h.rows, tuple(top)], name=name)
    return h, what
