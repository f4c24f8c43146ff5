"""Load a department's table faithfully into a :class:`~workbench.dataset.Dataset`.

Faithful means the codes a privacy officer reasons about survive loading unchanged: every CSV
field is read as a string first, and a column becomes numeric only when *every* present value is a
plain decimal number and none has a leading zero (so postal code ``"02138"`` stays ``"02138"``).
Dates are left as strings; :mod:`workbench.profiling.profiler` recognises their format without guessing
day/month order at load time.

Supported sources
-----------------
* CSV / TSV / TXT: delimiter (``, ; TAB |``), quote, newline (LF, CRLF, CR) and encoding (UTF-8,
  UTF-8 with BOM, UTF-16 with BOM, Windows-1252 / Latin-1 fallback) are detected.
* Parquet (types as stored), Excel ``.xlsx`` via openpyxl (first sheet unless ``sheet=``),
  JSON Lines (``.jsonl`` / ``.ndjson``; JSON types kept) and ``.json`` (an array of objects).
* A SQL ``SELECT`` over files through DuckDB: ``load("SELECT * FROM 'a.csv' WHERE age > 30")``.
  Every quoted file name in the query is first loaded with this module (so the same faithful
  typing applies) and registered under that name.

Missing values
--------------
``missing`` lists the strings that mean "no value" (default ``("",)``: an empty field, quoted or
not). ``"NA"``, ``"?"``, ``"-"`` and the like are kept as ordinary values unless listed, because in
some departments they are real codes. Markers apply to string columns of every format.

Hostile input
-------------
Every file is untrusted: an ``.xlsx`` is checked against the limits of :mod:`workbench.loading.limits`
(declared and read cells, zip member sizes and ratios, read time) before openpyxl parses it, and
a SQL query runs in a DuckDB sandbox that reads only data files under the working directory and
``allow_dirs``. Error messages name file, row and column, never a cell value.

Size
----
Files larger than ``lazy_threshold`` (1 GiB) are not read into memory: the dataset holds a DuckDB
relation with the same column types (CSV/TSV and Parquet). Excel and JSON are always read eagerly.

The source is only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pyarrow as pa

from .._lazy import lazy_module
from .._redact import is_database_url
from ..dataset import Dataset
from ..errors import (
    ColumnNameError,
    ColumnNotFoundError,
    DecodingError,
    EmptyFileError,
    HeaderOnlyError,
    InputLimitError,
    LoadError,
    MissingFileError,
    ParameterError,
    ParameterTypeError,
    RaggedRowsError,
    UnsupportedFormatError,
)

pd = lazy_module("pandas")
pc = lazy_module("pyarrow.compute")

__all__ = [
    "load",
    "load_grouped",
    "sniff_csv",
    "CsvDialect",
    "SUPPORTED_EXTENSIONS",
    "LAZY_THRESHOLD_BYTES",
    "DEFAULT_MISSING",
]

#: File extension -> format name understood by :func:`load`.
SUPPORTED_EXTENSIONS: MappingProxyType = MappingProxyType(
    {
        ".csv": "csv",
        ".tsv": "csv",
        ".tab": "csv",
        ".txt": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".xlsx": "excel",
        ".xlsm": "excel",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "json",
    }
)
#: Files above this size are loaded lazily as a DuckDB relation (when ``lazy=None``).
LAZY_THRESHOLD_BYTES = 1 << 30
#: Strings read as missing unless the caller says otherwise.
DEFAULT_MISSING: tuple[str, ...] = ("",)

_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 256 * 1024
_SNIFF_RECORDS = 500
_CHUNK = 16 << 20
_INT_RE = r"^-?(0|[1-9][0-9]*)$"
_FLOAT_RE = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
#: The numeric patterns of the typing rule, for engines that take a regular expression.
INT_PATTERN = _INT_RE
FLOAT_PATTERN = _FLOAT_RE
_MAX_INT_CHARS = 18  # 10**18 < 2**63: any 18-digit integer fits int64 exactly
_MAX_FLOAT_CHARS = 17  # at most ~15 significant digits: the float64 round-trips the text
_SQL_START = re.compile(r"^\s*(\(\s*)*(select|with|from|values|table)\b", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


@dataclass(frozen=True)
class CsvDialect:
    """What :func:`sniff_csv` found out about a delimited text file.

    Attributes
    ----------
    delimiter, quotechar : str
        Field separator and quote character.
    encoding : str
        Python codec name used to decode the file (``"utf-8"``, ``"utf-8-sig"`` when a BOM is
        present, ``"cp1252"``, ``"latin-1"``, ``"utf-16"``).
    bom : bool
        Whether the file starts with a byte-order mark.
    newline : str
        ``"\\r\\n"``, ``"\\n"`` or ``"\\r"`` (the first line ending seen).
    header : tuple of str
        The column names.
    header_line : int
        1-based physical line of the header.
    header_end_line : int
        Last physical line of the header (greater than ``header_line`` when a quoted column
        name contains a line break).
    """

    delimiter: str
    quotechar: str
    encoding: str
    bom: bool
    newline: str
    header: tuple[str, ...]
    header_line: int
    header_end_line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (recorded in :attr:`Dataset.options`)."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "encoding": self.encoding,
            "bom": self.bom,
            "newline": self.newline,
            "header_line": self.header_line,
        }


# --------------------------------------------------------------------------------------------
# public entry point


def load(
    source: str | Path | Any,
    *,
    name: str | None = None,
    department: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    quotechar: str | None = None,
    missing: Iterable[str] = DEFAULT_MISSING,
    decimal: str = ".",
    infer_types: bool = True,
    string_columns: Iterable[str] = (),
    keep_codes: bool = True,
    sheet: str | int | None = None,
    sql: bool | None = None,
    lazy: bool | None = None,
    lazy_threshold: int = LAZY_THRESHOLD_BYTES,
    base_dir: str | Path | None = None,
    allow_dirs: Iterable[str | Path] = (),
    engine: str | None = None,
    spark: Any = None,
) -> Dataset:
    """Load a file, or a SQL query over files, into a :class:`Dataset`.

    Parameters
    ----------
    source : str or Path or DataFrame
        Path to a CSV/TSV/Parquet/Excel/JSON Lines file, or a SQL ``SELECT`` (detected when the
        text starts with ``SELECT``/``WITH``/``FROM`` and is not an existing file). An in-memory
        frame is wrapped with :meth:`Dataset.from_frame`.
    name : str, optional
        Dataset name; defaults to the file stem (``"query"`` for SQL).
    department : str, optional
        Owning department, recorded for provenance and catalogs.
    delimiter, encoding, quotechar : str, optional
        Override detection for delimited text files.
    missing : iterable of str
        Strings that mean "no value" (default: empty string only).
    decimal : {".", ","}
        Decimal separator of numeric CSV columns (``","`` for many European exports).
    infer_types : bool
        ``False`` keeps every CSV/Excel column as strings.
    string_columns : iterable of str
        Columns always kept as strings (codes without leading zeros, e.g. ICD or NACE codes).
    keep_codes : bool
        Keep columns whose *name* says they hold codes (postal code, phone, person or household
        id; see :func:`workbench.profiling.roles.is_code_column`) as strings even when all values are
        digits. ``False`` applies the value rule alone.
    sheet : str or int, optional
        Excel sheet name or 0-based index (default: the first sheet).
    sql : bool, optional
        Force (``True``) or forbid (``False``) reading ``source`` as SQL; ``None`` detects.
    lazy : bool, optional
        Keep the rows in DuckDB instead of pandas; ``None`` decides by ``lazy_threshold``.
    lazy_threshold : int
        File size in bytes above which ``lazy=None`` means lazy.
    base_dir : str or Path, optional
        Directory against which relative file names in a SQL query are resolved (default: cwd).
    allow_dirs : iterable of str or Path
        Further directories a SQL query may read. A query reads only data files under
        ``base_dir`` and these directories (DuckDB sandbox: ``allowed_directories``, external
        access disabled, configuration locked); ``read_text``/``read_blob`` are refused.
    engine : {"duckdb", "polars", "pandas", "spark"}, optional
        Where the rows stay: ``duckdb`` means ``lazy=True``, ``pandas`` ``lazy=False``;
        ``polars`` and ``spark`` scan through :func:`workbench.engines.load` (``spark`` is the
        session to read with).

    Returns
    -------
    Dataset
        With ``data``, ``name``, ``department``, ``source``, ``sha256`` (of the file bytes; for
        SQL, of the query and every input file's hash), ``n_rows``, ``column_types`` and
        ``options`` (what was detected: format, delimiter, encoding, missing markers, ...).

    Raises
    ------
    MissingFileError, EmptyFileError, HeaderOnlyError, RaggedRowsError, DecodingError,
    ColumnNameError, UnsupportedFormatError, LoadError
        Each message names the file and, where it applies, the line and column.
    InputLimitError
        The file exceeds a limit of :mod:`workbench.loading.limits` (cells, zip size or ratio, time).
    SqlSandboxError
        The SQL query names a file outside the allowed directories, a non-data file, or uses
        ``read_text``/``read_blob``.
    ParameterTypeError
        ``source`` is neither a path, a query, a Dataset nor a frame.

    Examples
    --------
    >>> ds = load("data/samples/adult/adult.csv")            # doctest: +SKIP
    >>> ds.n_rows, ds.options["delimiter"]                    # doctest: +SKIP
    (30162, ';')
    """
    if engine is not None:
        from ..engines import load as engine_load
        from ..engines import resolve_engine

        if resolve_engine(engine) in ("polars", "spark"):
            unsupported = {
                "delimiter": delimiter,
                "encoding": encoding,
                "quotechar": quotechar,
                "sheet": sheet,
                "decimal": None if decimal == "." else decimal,
                "infer_types": None if infer_types else infer_types,
                "string_columns": tuple(string_columns) or None,
                "keep_codes": None if keep_codes else keep_codes,
            }
            given = [k for k, v in unsupported.items() if v is not None]
            if given:  # never ignore an option silently
                raise ParameterError(
                    given[0], unsupported[given[0]], f"engine 'duckdb' or 'pandas' with {given[0]}"
                )
            return engine_load(
                source,
                engine=engine,
                spark=spark,
                name=name,
                department=department,
                missing=missing,
                allow_dirs=allow_dirs,
            )
        lazy = engine == "duckdb"
    if not isinstance(source, (str, Path)):
        if isinstance(source, Dataset):
            return source
        try:
            return Dataset.from_frame(source, name=name or "data", department=department)
        except ParameterTypeError:
            raise ParameterTypeError(
                "source", source, "a file path, a SQL query, a Dataset or a data frame"
            ) from None
    opts = _Options.make(
        missing=missing,
        decimal=decimal,
        infer_types=infer_types,
        string_columns=string_columns,
        keep_codes=keep_codes,
        delimiter=delimiter,
        encoding=encoding,
        quotechar=quotechar,
        sheet=sheet,
        lazy_threshold=lazy_threshold,
    )
    if is_database_url(source):
        from .postgres import load_postgres

        return load_postgres(source, name=name, department=department)
    if _is_sql(source, sql):
        from .sql import _load_sql  # the sandbox imports the readers

        return _load_sql(
            str(source),
            opts,
            name=name,
            department=department,
            lazy=lazy,
            base_dir=base_dir,
            allow_dirs=allow_dirs,
        )
    path = Path(source)
    return _load_file(path, opts, name=name, department=department, lazy=lazy)


def load_grouped(
    source: str | Path,
    columns: Sequence[str],
    *,
    name: str | None = None,
    department: str | None = None,
    **options: Any,
) -> tuple[Dataset, Any]:
    """Load a file lazily and count its distinct ``columns`` combinations in the same read.

    A risk profile needs only the records per distinct combination of its columns. For a CSV
    file, typing the columns lazily (:func:`load` with ``lazy=True``) is a full scan of its own
    before the ``GROUP BY`` scans the file again; here one DuckDB scan groups the raw text, the
    types are decided on the distinct rows (same rule, same result: every check is true of all
    records exactly when it is true of all distinct rows) and the typed groups are re-counted.
    The file is also read once, sequentially, for its SHA-256 and encoding check. A Parquet
    file is typed already: its ``GROUP BY`` is the one scan.

    Parameters
    ----------
    source : str or Path
        A CSV/TSV or Parquet file (other formats and SQL are loaded by :func:`load`).
    columns : sequence of str
        The columns to group by.
    name, department, **options
        As for :func:`load` (``lazy`` and ``lazy_threshold`` are not accepted: this is lazy).

    Returns
    -------
    (Dataset, relation or None)
        The lazy dataset (for a CSV file, only ``columns``, typed) and a DuckDB relation with
        ``columns`` and ``__n`` (records per row; rows are not unique once typed, so group them
        again, e.g. ``build_class_table(..., counts="__n")``); ``None`` when one scan of the
        dataset is already the best (Parquet) or the file cannot be grouped in the engine
        (other formats, SQL, encodings DuckDB cannot read): then the dataset is what
        :func:`load` gives with ``lazy=True`` and the caller groups it as usual.
    """
    for bad in ("lazy", "lazy_threshold"):
        if bad in options:
            raise ParameterError(bad, options[bad], "no such option for load_grouped")
    columns = list(dict.fromkeys(columns))
    path = Path(source) if isinstance(source, (str, Path)) else None
    fmt = _format_of(path) if path is not None and path.is_file() else None
    if fmt not in ("csv", "parquet") or _is_sql(source, options.get("sql")):
        return load(source, name=name, department=department, lazy=True, **options), None
    opts = _Options.make(
        missing=options.pop("missing", DEFAULT_MISSING),
        decimal=options.pop("decimal", "."),
        infer_types=options.pop("infer_types", True),
        string_columns=options.pop("string_columns", ()),
        keep_codes=options.pop("keep_codes", True),
        delimiter=options.pop("delimiter", None),
        encoding=options.pop("encoding", None),
        quotechar=options.pop("quotechar", None),
        sheet=options.pop("sheet", None),
        lazy_threshold=LAZY_THRESHOLD_BYTES,
    )
    for extra in ("sql", "base_dir", "allow_dirs"):  # meaningful for SQL only
        options.pop(extra, None)
    if options:
        key = next(iter(options))
        raise ParameterError(key, options[key], "an option of workbench.loading.readers.load")
    if path.stat().st_size == 0:
        raise EmptyFileError("the file is empty (0 bytes)", path)
    con = _connect()
    keys = ", ".join(_sql_ident(c) for c in columns)
    if fmt == "parquet":  # typed already: grouping the lazy dataset is the one scan
        return _load_lazy(path, fmt, opts, name=name, department=department, con=con), None
    # The SHA-256 and encoding check is a sequential read of its own: it runs in a thread beside
    # DuckDB's scan (both release the GIL), which starts with the encoding the file's first
    # bytes give (the check's own first guess). The check's errors come first, as in load().
    check = _Background(_stream_check, path, opts.encoding)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_CHARS)
        guess = _detect_encoding_prefix(head, path, opts.encoding, complete=False)[0]
        scan = _scan_raw_csv(con, path, opts, columns, keys, guess)
    except Exception:
        check.result()  # raises the check's error, if it found one
        raise
    finally:
        check.join()
    enc, digest, _ = check.result()
    if enc != guess:  # a byte past the first ones was not UTF-8: the file is read as latin-1
        scan = _scan_raw_csv(con, path, opts, columns, keys, enc)
    dialect, duck_enc, read, failed = scan
    if duck_enc is None:  # DuckDB reads utf-8 and latin-1 only: the eager loader decodes
        ds = _load_file(path, opts, name=name, department=department, lazy=False)
        return ds, None
    if failed:
        _csv_failed(path, enc, dialect)
    raw = con.table("__workbench_raw")
    stats = raw.aggregate(", ".join(["sum(__n)", *_type_checks(columns, opts)])).fetchall()[0]
    n_rows = int(stats[0] or 0)
    if n_rows == 0:
        raise HeaderOnlyError(
            "the file has a header but no data rows", path, line=dialect.header_line
        )
    exprs = _typed_exprs(columns, stats[1:], opts)
    # typing may merge raw rows ("01" and "1" as BIGINT): the consumer's GROUP BY sums them
    groups = con.sql(f"SELECT {', '.join(exprs)}, __n FROM __workbench_raw")
    rel = con.sql(f"SELECT {', '.join(exprs)} FROM {read}")
    info = {**dialect.to_dict(), "encoding": enc, "decimal": opts.decimal, "columns": columns}
    ds = _lazy_dataset(rel, path, name, department, digest, n_rows, fmt, info, opts)
    return ds, groups


class _Background:
    """``func(*args)`` in a thread; :meth:`result` joins it and returns or raises its outcome.

    A plain thread (``concurrent.futures`` would import ``logging`` for every command)."""

    def __init__(self, func: Any, *args: Any) -> None:
        import threading

        self._outcome: tuple[bool, Any] = (False, None)
        self._thread = threading.Thread(target=self._run, args=(func, args), name="workbench")
        self._thread.start()

    def _run(self, func: Any, args: tuple) -> None:
        try:
            self._outcome = (True, func(*args))
        except BaseException as exc:  # handed to the caller by result()
            self._outcome = (False, exc)

    def join(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        ok, value = self._outcome
        if not ok:
            raise value
        return value


def _scan_raw_csv(
    con: Any, path: Path, opts: _Options, columns: list[str], keys: str, enc: str
) -> tuple[CsvDialect, str | None, str | None, bool]:
    """Sniff the file as ``enc``, check its header and group its raw text by ``keys`` into
    ``__workbench_raw``: (dialect, DuckDB encoding or None, the read_csv call, scan failed)."""
    import duckdb

    from ..dataset import check_columns

    dialect = sniff_csv(
        path, delimiter=opts.delimiter, encoding=opts.encoding or enc, quotechar=opts.quotechar
    )
    _check_string_columns(opts, dialect.header, path)
    check_columns(SimpleNamespace(columns=list(dialect.header)), columns, str(path))
    duck_enc = _DUCKDB_ENCODINGS.get(codecs.lookup(enc).name)
    if duck_enc is None:
        return dialect, None, None, False
    read = _csv_read(path, dialect, duck_enc)
    con.execute("DROP TABLE IF EXISTS __workbench_raw")
    try:  # the one scan: raw text grouped, kept in DuckDB (as large as the class table)
        con.execute(
            f"CREATE TEMP TABLE __workbench_raw AS SELECT {keys}, count(*) AS __n "
            f"FROM {read} GROUP BY ALL"
        )
    except duckdb.Error:
        return dialect, duck_enc, read, True
    return dialect, duck_enc, read, False


def sniff_csv(
    path: str | Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    quotechar: str | None = None,
) -> CsvDialect:
    """Detect delimiter, quote, encoding and header of a delimited text file (reads a prefix)."""
    path = Path(path)
    _check_exists(path)
    with open(path, "rb") as fh:
        raw = fh.read(_SNIFF_CHARS)
    if not raw or raw.isspace():
        raise EmptyFileError("the file is empty (no bytes or only whitespace)", path)
    enc, skip, bom = _detect_encoding_prefix(raw, path, encoding, complete=len(raw) < _SNIFF_CHARS)
    text = raw[skip:].decode(_codec_without_bom(enc), errors="replace").removeprefix("\ufeff")
    return _sniff_text(text, path, enc, bom, delimiter, quotechar)


# --------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class _Options:
    """Validated loader parameters."""

    missing: tuple[str, ...]
    decimal: str
    infer_types: bool
    string_columns: frozenset[str]
    keep_codes: bool
    delimiter: str | None
    encoding: str | None
    quotechar: str | None
    sheet: str | int | None
    lazy_threshold: int

    def numeric_allowed(self, column: str) -> bool:
        """May ``column`` become numeric if its values allow it?"""
        if not self.infer_types or column in self.string_columns:
            return False
        if self.keep_codes:
            from ..profiling.roles import is_code_column

            return not is_code_column(column)
        return True

    @classmethod
    def make(
        cls,
        *,
        missing,
        decimal,
        infer_types,
        string_columns,
        keep_codes,
        delimiter,
        encoding,
        quotechar,
        sheet,
        lazy_threshold,
    ) -> _Options:
        if isinstance(missing, str):
            missing = (missing,)
        missing = tuple(dict.fromkeys(str(m) for m in missing))
        if decimal not in (".", ","):
            raise ParameterError("decimal", decimal, "'.' or ','")
        if delimiter is not None:
            if delimiter in ("\\t", "tab", "TAB"):
                delimiter = "\t"
            if len(delimiter) != 1 or delimiter in "\r\n\"'":
                raise ParameterError("delimiter", delimiter, "one character such as ',' ';' or tab")
        if quotechar is not None and (len(quotechar) != 1 or quotechar == delimiter):
            raise ParameterError(
                "quotechar", quotechar, "one character different from the delimiter"
            )
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ParameterError(
                    "encoding", encoding, "a codec name such as 'utf-8', 'latin-1' or 'cp1252'"
                ) from None
        if isinstance(string_columns, str):
            string_columns = (string_columns,)
        if not isinstance(lazy_threshold, int) or lazy_threshold < 0:
            raise ParameterError("lazy_threshold", lazy_threshold, "a size in bytes >= 0")
        return cls(
            missing,
            decimal,
            bool(infer_types),
            frozenset(string_columns),
            bool(keep_codes),
            delimiter,
            encoding,
            quotechar,
            sheet,
            lazy_threshold,
        )


def _is_sql(source: str | Path, sql: bool | None) -> bool:
    if sql is not None:
        return bool(sql)
    if isinstance(source, Path):
        return False
    if not _SQL_START.match(source):
        return False
    try:
        return not Path(source).exists()
    except OSError:  # too long to be a path, or invalid characters
        return True


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    fmt = SUPPORTED_EXTENSIONS.get(suffix)
    if fmt is None:
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        known = ", ".join(SUPPORTED_EXTENSIONS)
        raise UnsupportedFormatError(
            f"unsupported file extension {suffix or '(none)'!r}{hint}; supported: {known}", path
        )
    return fmt


def _sha256_path(path: Path) -> str:
    from .._io import sha256_file

    return sha256_file(path)


def _check_exists(path: Path) -> None:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        hint = "" if parent.is_dir() else f" (directory {str(parent)!r} does not exist either)"
        raise MissingFileError(f"file not found{hint}", path)
    if path.is_dir():
        raise LoadError("is a directory, expected a data file", path)


# --------------------------------------------------------------------------------------------
# file dispatch


def _load_file(
    path: Path,
    opts: _Options,
    *,
    name: str | None,
    department: str | None,
    lazy: bool | None,
    con: Any = None,
) -> Dataset:
    from .._crypto import ENCRYPTED_SUFFIX, MAX_DECRYPTED_BYTES, decrypt_file_bytes, is_encrypted

    _check_exists(path)
    encrypted = is_encrypted(path)
    if path.suffix.lower() == ENCRYPTED_SUFFIX:
        fmt = _format_of(path.with_name(path.stem))
    else:
        fmt = _format_of(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError("the file is empty (0 bytes)", path)
    if encrypted:  # decrypted in memory, never to disk; the hash is of the file's bytes
        digest = _sha256_path(path)
        raw = decrypt_file_bytes(path, max_bytes=MAX_DECRYPTED_BYTES)
        lazy = False
        if not raw:
            raise EmptyFileError("the decrypted content is empty (0 bytes)", path)
    elif path.suffix.lower() == ENCRYPTED_SUFFIX:
        from ..errors import DecryptionError

        raise DecryptionError("named .enc but not a workbench encrypted file", path)
    if lazy is None:
        lazy = size > opts.lazy_threshold
    if lazy and fmt in ("csv", "parquet"):
        return _load_lazy(path, fmt, opts, name=name, department=department, con=con)
    if not encrypted:
        with open(path, "rb") as fh:
            raw = fh.read()
        digest = hashlib.sha256(raw).hexdigest()
    if fmt == "csv":
        frame, info = _read_csv(raw, path, opts)
    elif fmt == "parquet":
        frame, info = _read_parquet(raw, path, opts)
    elif fmt == "excel":
        frame, info = _read_excel(raw, path, opts)
    else:
        frame, info = _read_json(raw, path, opts, lines=(fmt == "jsonl"))
    options = {"format": fmt, **info, "missing": list(opts.missing), "lazy": False}
    return Dataset(
        data=frame,
        name=name or path.stem,
        department=department,
        source=str(path),
        sha256=digest,
        n_rows=len(frame),
        column_types=MappingProxyType({c: str(t) for c, t in frame.dtypes.items()}),
        options=MappingProxyType(options),
    )


# --------------------------------------------------------------------------------------------
# encoding


def _codec_without_bom(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and byte position within the line of ``offset``."""
    line = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def _decoding_error(
    buf: bytes,
    path: Path,
    pos: int,
    encoding: str,
    why: str,
    *,
    base_offset: int = 0,
    base_line: int = 0,
    head: bytes | None = None,
) -> DecodingError:
    """Error naming the byte offset, line and (best effort) column of an undecodable byte."""
    line, col = _line_col(buf, pos)
    column = _column_at(buf if head is None else head, buf, pos, path)
    byte = buf[pos] if pos < len(buf) else 0
    return DecodingError(
        f"cannot decode byte 0x{byte:02x} at byte offset {base_offset + pos} (byte {col} of "
        f"the line) as {encoding}: {why}; pass encoding='latin-1', 'cp1252' or the file's real "
        "encoding",
        path,
        line=base_line + line,
        column=column,
    )


def _column_at(head: bytes, buf: bytes, pos: int, path: Path) -> str | None:
    """Name of the column an offending byte falls in (best effort; None when unknown)."""
    try:
        text = head[:_SNIFF_CHARS].decode("utf-8", errors="replace").lstrip("\ufeff")
        dialect = _sniff_text(text, path, "utf-8", False, None, None)
    except LoadError:
        return None
    start = buf.rfind(b"\n", 0, pos) + 1
    prefix = buf[start:pos].decode("utf-8", errors="replace")
    fields, quoted = 0, False
    for ch in prefix:
        if ch == dialect.quotechar:
            quoted = not quoted
        elif ch == dialect.delimiter and not quoted:
            fields += 1
    return dialect.header[fields] if fields < len(dialect.header) else None


def _detect_encoding_prefix(
    raw: bytes, path: Path, requested: str | None, complete: bool
) -> tuple[str, int, bool]:
    """(codec, bytes to skip, has BOM); ``raw`` may be only a prefix (``complete=False``).

    UTF-16/32 keep their BOM in the byte stream because their codecs read the byte order from it.
    """
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            family = enc.removesuffix("-sig")
            if requested and not codecs.lookup(requested).name.startswith(family):
                raise DecodingError(
                    f"the file starts with a {family} byte-order mark but encoding="
                    f"{requested!r} was requested",
                    path,
                    line=1,
                )
            return enc, (len(bom) if enc == "utf-8-sig" else 0), True
    if requested:
        return requested, 0, False
    if b"\x00" in raw:
        even, odd = raw[0::2].count(0), raw[1::2].count(0)
        if odd > 0.4 * len(raw) / 2 and even == 0:
            return "utf-16-le", 0, False
        if even > 0.4 * len(raw) / 2 and odd == 0:
            return "utf-16-be", 0, False
        off = raw.index(b"\x00")
        line, _ = _line_col(raw, off)
        raise DecodingError(
            f"NUL byte at byte offset {off}: this looks like a binary file, not text",
            path,
            line=line,
        )
    try:
        raw.decode("utf-8")
        return "utf-8", 0, False
    except UnicodeDecodeError as exc:
        if not complete and exc.reason == "unexpected end of data":
            return "utf-8", 0, False  # a multi-byte character cut by the prefix
        return _fallback_encoding(raw, path, exc), 0, False


def _fallback_encoding(raw: bytes, path: Path, exc: UnicodeDecodeError) -> str:
    """Not UTF-8: a single-byte Western code page, unless the file mixes encodings."""
    if any(b >= 0x80 for b in raw[: exc.start]):
        raise _decoding_error(
            raw,
            path,
            exc.start,
            "utf-8",
            "the file mixes UTF-8 with another encoding (earlier non-ASCII "
            "characters are valid UTF-8)",
        )
    high = {b for b in raw if 0x80 <= b <= 0x9F}
    if high and not (high & _CP1252_UNDEFINED):
        return "cp1252"
    return "latin-1"


def _decode(raw: bytes, path: Path, requested: str | None) -> tuple[str, str, bool]:
    """Decode the whole file: (text without BOM, codec name, had BOM)."""
    enc, skip, bom = _detect_encoding_prefix(raw, path, requested, complete=True)
    codec = _codec_without_bom(enc)
    body = raw[skip:]
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise _decoding_error(body, path, exc.start, codec, exc.reason) from None
    return text.removeprefix("\ufeff"), enc, bom


# --------------------------------------------------------------------------------------------
# CSV


def _newline_of(text: str) -> str:
    i = text.find("\n")
    j = text.find("\r")
    if j != -1 and (i == -1 or j < i):
        return "\r\n" if text[j : j + 2] == "\r\n" else "\r"
    return "\n"


def _records(
    text_stream: io.TextIOBase | Iterable[str], delimiter: str, quotechar: str
) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of every record, blank lines skipped."""
    reader = csv.reader(
        text_stream,
        delimiter=delimiter,
        quotechar=quotechar,
        doublequote=True,
        strict=False,
        skipinitialspace=False,
    )
    last = 0
    with _big_fields():
        for row in reader:
            first = last + 1
            last = reader.line_num
            if not row:
                continue
            yield first, last, row


@contextmanager
def _big_fields() -> Iterator[None]:
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sniff_text(
    text: str, path: Path, encoding: str, bom: bool, delimiter: str | None, quotechar: str | None
) -> CsvDialect:
    """Pick delimiter and quote from a decoded prefix and parse the header."""
    if not text or text.isspace():
        raise EmptyFileError("the file is empty (no bytes or only whitespace)", path)
    quote = quotechar or '"'
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS:  # drop the cut-off last line
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        sample = sample[: cut + 1] if cut > 0 else sample
    if delimiter is None:
        delimiter = _guess_delimiter(sample, quote, path)
    first = next(_records(io.StringIO(sample, newline=""), delimiter, quote), None)
    if first is None:
        raise EmptyFileError("the file has no header line", path)
    line, end, header = first
    _check_header(header, path, line)
    return CsvDialect(
        delimiter, quote, encoding, bom, _newline_of(sample), tuple(header), line, end
    )


def _guess_delimiter(sample: str, quote: str, path: Path) -> str:
    """The candidate giving the most consistent field count > 1 across the first records."""
    prefer = {".tsv": "\t", ".tab": "\t"}.get(path.suffix.lower())
    best: tuple[float, int, int, str] | None = None
    for rank, cand in enumerate(_DELIMITERS):
        if cand not in sample:
            continue
        counts = []
        for _, _, row in _records(io.StringIO(sample, newline=""), cand, quote):
            counts.append(len(row))
            if len(counts) >= _SNIFF_RECORDS:
                break
        if not counts or counts[0] < 2:
            continue
        consistency = sum(c == counts[0] for c in counts) / len(counts)
        key = (consistency, int(cand == prefer), counts[0], -rank)
        if best is None or key > best[:4]:
            best = (*key, cand)  # type: ignore[assignment]
    if best is None:
        return prefer or ","
    return best[4]  # type: ignore[return-value]


def _check_header(header: Sequence[str], path: Path, line: int | None) -> None:
    seen: dict[str, int] = {}
    for pos, col in enumerate(header, start=1):
        if not col.strip():
            left = f" after {header[pos - 2]!r}" if pos > 1 else ""
            raise ColumnNameError(f"blank column name at position {pos}{left}", path, line=line)
        if col in seen:
            raise ColumnNameError(
                f"duplicate column name {col!r} at positions {seen[col]} and {pos}",
                path,
                line=line,
                column=col,
            )
        seen[col] = pos


def _read_csv(raw: bytes, path: Path, opts: _Options) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow.csv as pacsv

    text, enc, bom = _decode(raw, path, opts.encoding)
    if not text or text.isspace():
        raise EmptyFileError("the file is empty (only whitespace or a byte-order mark)", path)
    dialect = _sniff_text(text, path, enc, bom, opts.delimiter, opts.quotechar)
    _check_string_columns(opts, dialect.header, path)
    codec = _codec_without_bom(enc)
    start = _after_lines(text, dialect.header_end_line)  # data start right after the header
    if codec == "utf-8":
        skip = (3 if bom else 0) + len(text[:start].encode("utf-8"))
        body = raw[skip:]
    else:
        body = text[start:].encode("utf-8")
    header = list(dialect.header)
    bad: list[int] = []

    def on_invalid(row: Any) -> str:
        bad.append(row.actual_columns)
        return "error"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=header, encoding="utf8"),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError) as exc:
        rows = _diagnose_csv(io.StringIO(text, newline=""), dialect, path, _tail_of(text))
        if rows == 0:
            raise HeaderOnlyError(
                "the file has a header but no data rows", path, line=dialect.header_line
            ) from None
        raise LoadError(
            f"cannot parse the file as delimited text ({_first_line(exc)})", path
        ) from None
    if text.count(dialect.quotechar) % 2:  # odd quotes: stray quote, or one never closed
        _diagnose_csv(io.StringIO(text, newline=""), dialect, path, _tail_of(text))
    if table.num_rows == 0:
        raise HeaderOnlyError(
            "the file has a header but no data rows", path, line=dialect.header_line
        )
    columns = {}
    for col in header:
        arr = _apply_missing(table.column(col), opts.missing)
        if opts.numeric_allowed(col):
            arr = _infer_numeric(arr, opts.decimal)
        columns[col] = arr
    frame = _arrow_to_pandas(columns)
    info = {**dialect.to_dict(), "decimal": opts.decimal}
    return frame, info


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _after_lines(text: str, n: int) -> int:
    """Character offset just after the first ``n`` physical lines (LF, CRLF or CR endings)."""
    if n <= 0:
        return 0
    for k, m in enumerate(_NEWLINE.finditer(text), start=1):
        if k == n:
            return m.end()
    return len(text)


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    # pyarrow quotes the offending row after a colon; never echo row content (it may hold ids)
    return msg[0].split(":")[0] if msg else type(exc).__name__


def _unterminated(tail: str, dialect: CsvDialect) -> bool:
    """Does ``tail`` (the text of the last record) end inside a quoted field?"""
    reader = csv.reader(
        io.StringIO(tail, newline=""),
        delimiter=dialect.delimiter,
        quotechar=dialect.quotechar,
        doublequote=True,
        strict=True,
    )
    try:
        with _big_fields():
            for _ in reader:
                pass
    except csv.Error as exc:
        return "end of data" in str(exc) or "EOF" in str(exc)
    return False


def _diagnose_csv(stream: Iterable[str], dialect: CsvDialect, path: Path, tail_text: Any) -> None:
    """Find the first malformed record with exact physical line numbers, and raise for it.

    ``tail_text(line)`` returns the file's text from physical line ``line`` to the end.
    Returns the number of data records when nothing is wrong.
    """
    expected = len(dialect.header)
    ragged: list[tuple[int, int]] = []
    total = records = 0
    header_seen = False
    last_first = last_last = 0
    last_row: list[str] = []
    for first, last, row in _records(stream, dialect.delimiter, dialect.quotechar):
        last_first, last_last, last_row = first, last, row
        if not header_seen:
            header_seen = True
            continue
        records += 1
        if len(row) != expected:
            total += 1
            if len(ragged) < 5:
                ragged.append((first, len(row)))
    if last_last > last_first and any("\n" in f or "\r" in f for f in last_row):
        # the last record swallowed several lines: was an opening quote never closed?
        if _unterminated(tail_text(last_first), dialect):
            raise LoadError(
                f"unterminated quoted field: a {dialect.quotechar} opened on line {last_first} "
                "is never closed",
                path,
                line=last_first,
            )
    if ragged:
        line, found = ragged[0]
        more = ""
        if total > 1:
            lines = ", ".join(str(r[0]) for r in ragged)
            extra = ", ..." if total > len(ragged) else ""
            more = f"; {total} ragged rows in total (lines {lines}{extra})"
        raise RaggedRowsError(
            f"expected {expected} fields (as in the header on line {dialect.header_line}, "
            f"delimiter {dialect.delimiter!r}), found {found}{more}",
            path,
            line=line,
        )
    return records


def _tail_of(text: str) -> Any:
    def tail(line: int) -> str:
        lines = io.StringIO(text, newline="").readlines()
        return "".join(lines[line - 1 :])

    return tail


def _check_string_columns(opts: _Options, header: Sequence[str], path: Path) -> None:
    for col in opts.string_columns:
        if col not in header:
            raise ColumnNotFoundError(col, header, str(path))


# --------------------------------------------------------------------------------------------
# arrow helpers shared by every format


def _apply_missing(arr: pa.ChunkedArray, missing: tuple[str, ...]) -> pa.ChunkedArray:
    if not missing or not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        return arr
    mask = pc.is_in(arr, value_set=pa.array(missing, type=arr.type))
    if not pc.any(mask).as_py():
        return arr
    return pc.if_else(mask, pa.scalar(None, type=arr.type), arr)


def _infer_numeric(arr: pa.ChunkedArray, decimal: str) -> pa.ChunkedArray:
    """Cast a string column to int64/float64 only when every present value is a plain number."""
    present = arr.length() - arr.null_count
    if present == 0:
        return arr
    head = arr.slice(0, 4096)  # cheap rejection of text columns before the full scan
    if decimal == ",":
        head = pc.replace_substring(head, ",", ".")
    if pc.any(pc.invert(pc.match_substring_regex(head, _FLOAT_RE))).as_py():
        return arr
    values = pc.replace_substring(arr, ",", ".") if decimal == "," else arr
    if decimal == "," and pc.any(pc.match_substring(arr, ".")).as_py():
        return arr  # a '.' in a decimal-comma column is a code or a thousands mark: keep text
    longest = pc.max(pc.utf8_length(values)).as_py()
    if pc.all(pc.match_substring_regex(values, _INT_RE)).as_py():
        if longest <= _MAX_INT_CHARS + 1:
            return pc.cast(values, pa.int64())
        return arr
    if pc.all(pc.match_substring_regex(values, _FLOAT_RE)).as_py():
        has_exp = pc.any(pc.match_substring_regex(values, "[eE]")).as_py()
        if longest <= _MAX_FLOAT_CHARS or has_exp:
            out = pc.cast(values, pa.float64())
            if pc.any(pc.is_inf(out)).as_py():
                return arr
            return out
    return arr


def _arrow_to_pandas(columns: dict[str, pa.ChunkedArray | pa.Array]) -> pd.DataFrame:
    """pandas columns: ``str`` for text, int64 (Int64 when missing), float64, bool/boolean."""
    out: dict[str, Any] = {}
    for col, arr in columns.items():
        if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 0:
            arr = pa.chunked_array([pa.array([], type=arr.type)])
        typ = arr.type
        if pa.types.is_dictionary(typ):
            arr = arr.cast(typ.value_type)
            typ = arr.type
        if pa.types.is_integer(typ) and arr.null_count:
            out[col] = pd.array(arr.to_pylist(), dtype="Int64")
        elif pa.types.is_boolean(typ) and arr.null_count:
            out[col] = pd.array(arr.to_pylist(), dtype="boolean")
        elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
            out[col] = pd.Series(arr.to_pandas(), dtype="str").array
        else:
            out[col] = arr.to_pandas()
    frame = pd.DataFrame(out)
    frame.columns = list(columns)
    return frame


# --------------------------------------------------------------------------------------------
# Parquet, Excel, JSON


def _read_parquet(raw: bytes, path: Path, opts: _Options) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise LoadError(f"not a readable Parquet file ({_first_line(exc)})", path) from None
    names = table.column_names
    _check_header(names, path, line=None)
    _check_string_columns(opts, names, path)
    if table.num_columns == 0:
        raise EmptyFileError("the Parquet file has no columns", path)
    if table.num_rows == 0:
        raise HeaderOnlyError("the Parquet file has columns but no rows", path)
    columns = {c: _apply_missing(table.column(c), opts.missing) for c in names}
    return _arrow_to_pandas(columns), {}


def _excel_text(value: Any) -> str | None:
    """Excel cell -> the text a person sees (numbers without a spurious '.0', ISO dates)."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_excel(raw: bytes, path: Path, opts: _Options) -> tuple[pd.DataFrame, dict[str, Any]]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    _check_xlsx_archive(raw, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not support
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt archives
        raise LoadError(f"not a readable .xlsx workbook ({type(exc).__name__})", path) from None
    try:
        if opts.sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(opts.sheet, int):
            if not 0 <= opts.sheet < len(wb.worksheets):
                raise ParameterError(
                    "sheet",
                    opts.sheet,
                    f"an index below {len(wb.worksheets)} or one of {wb.sheetnames}",
                )
            ws = wb.worksheets[opts.sheet]
        else:
            if opts.sheet not in wb.sheetnames:
                raise ParameterError("sheet", opts.sheet, f"one of {wb.sheetnames}")
            ws = wb[opts.sheet]
        sheet_name = ws.title
        rows = _bounded_rows(ws, path)
    finally:
        wb.close()
    rows = [(i, r) for i, r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise EmptyFileError(f"sheet {sheet_name!r} has no cells with values", path)
    header_line, header_cells = rows[0]
    width = max(
        max((k + 1 for k, v in enumerate(r) if v not in (None, "")), default=0) for _, r in rows
    )
    header_cells = (header_cells + [None] * width)[:width]
    for k, cell in enumerate(header_cells):
        if cell is None or not str(cell).strip():
            letter = get_column_letter(k + 1)
            raise ColumnNameError(
                f"blank column name in cell {letter}{header_line} of sheet "
                f"{sheet_name!r}, but the column has values",
                path,
                line=header_line,
            )
    header = [str(c) for c in header_cells]
    _check_header(header, path, header_line)
    _check_string_columns(opts, header, path)
    data = rows[1:]
    if not data:
        raise HeaderOnlyError(
            f"sheet {sheet_name!r} has a header but no data rows", path, line=header_line
        )
    columns = {}
    for k, col in enumerate(header):
        arr = pa.chunked_array(
            [pa.array([r[k] if k < len(r) else None for _, r in data], type=pa.string())]
        )
        arr = _apply_missing(arr, opts.missing)
        if opts.numeric_allowed(col):
            arr = _infer_numeric(arr, opts.decimal)
        columns[col] = arr
    return _arrow_to_pandas(columns), {"sheet": sheet_name, "header_line": header_line}


def _check_xlsx_archive(raw: bytes, path: Path) -> None:
    """Refuse a zip bomb before openpyxl inflates anything (limits in :mod:`workbench.loading.limits`).

    The sizes are those declared in the zip directory; Python's zipfile stops reading a member
    at its declared size, so a lying header cannot inflate more than it declares.
    """
    import zipfile

    from . import limits

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(f"not a readable .xlsx workbook ({type(exc).__name__})", path) from None
    if len(members) > limits.XLSX_MAX_MEMBERS:
        raise InputLimitError(
            f"the archive has {len(members)} members; the limit is {limits.XLSX_MAX_MEMBERS} "
            "(workbench.loading.limits.XLSX_MAX_MEMBERS)",
            path,
        )
    total = sum(m.file_size for m in members)
    if total > limits.XLSX_MAX_UNCOMPRESSED_BYTES:
        raise InputLimitError(
            f"the archive inflates to {total} bytes; the limit is "
            f"{limits.XLSX_MAX_UNCOMPRESSED_BYTES} bytes "
            "(workbench.loading.limits.XLSX_MAX_UNCOMPRESSED_BYTES)",
            path,
        )
    for m in members:
        if m.file_size > limits.XLSX_MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
            ratio = m.file_size / max(m.compress_size, 1)
            raise InputLimitError(
                f"archive member {m.filename!r} inflates {ratio:.0f}x ({m.compress_size} -> "
                f"{m.file_size} bytes), a zip bomb; the limit is "
                f"{limits.XLSX_MAX_COMPRESSION_RATIO:g}x "
                "(workbench.loading.limits.XLSX_MAX_COMPRESSION_RATIO)",
                path,
            )


def _bounded_rows(ws: Any, path: Path) -> list[tuple[int, list[Any]]]:
    """Read a worksheet's rows within the cell and time limits of :mod:`workbench.loading.limits`.

    openpyxl pads every row to the declared width and every gap up to the declared last row, so
    the declared ``<dimension>`` is checked first; cells actually read are counted as well
    (a row counts its width, an empty row one cell) because the declaration can lie.
    """
    import time

    from openpyxl.utils import get_column_letter

    from . import limits

    cap = limits.XLSX_MAX_CELLS
    where = f"sheet {ws.title!r}"
    if ws.max_row is not None and ws.max_column is not None:
        declared = ws.max_row * ws.max_column
        if declared > cap:
            ref = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
            raise InputLimitError(
                f"{where} declares the range {ref} ({declared} cells); the limit is {cap} "
                "cells (workbench.loading.limits.XLSX_MAX_CELLS)",
                path,
            )
    # the declaration may also be too small (openpyxl would then stop early and drop rows): read
    # the cells actually present, counted against the same limit
    ws.reset_dimensions()
    deadline = time.monotonic() + limits.XLSX_MAX_SECONDS
    rows: list[tuple[int, list[Any]]] = []
    cells = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells += max(len(row), 1)
            if cells > cap:
                raise InputLimitError(
                    f"{where} holds more than {cap} cells (by row {i}); "
                    "the limit is workbench.loading.limits.XLSX_MAX_CELLS",
                    path,
                )
            if time.monotonic() > deadline:
                raise InputLimitError(
                    f"reading {where} took more than {limits.XLSX_MAX_SECONDS:g} s (stopped at "
                    f"row {i}); the limit is workbench.loading.limits.XLSX_MAX_SECONDS",
                    path,
                )
            rows.append((i, [_excel_text(v) for v in row]))
    return rows


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _read_json(
    raw: bytes, path: Path, opts: _Options, lines: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    text, enc, _ = _decode(raw, path, opts.encoding or "utf-8")
    if not text or text.isspace():
        raise EmptyFileError("the file is empty (only whitespace)", path)
    records: list[tuple[int | None, dict[str, Any]]] = []

    def parse(chunk: str, line: int | None, where: str) -> Any:
        try:
            return json.loads(chunk, object_pairs_hook=_object_pairs)
        except _DuplicateKey as exc:
            raise ColumnNameError(
                f"duplicate key {exc.key!r}{where}", path, line=line, column=exc.key
            ) from None
        except json.JSONDecodeError as exc:
            at = exc.lineno + (line - 1 if line else 0)
            raise LoadError(
                f"invalid JSON at character {exc.colno}: {exc.msg}", path, line=at
            ) from None
        except RecursionError:  # "[[[[...]]]]": hostile nesting, not a table
            raise InputLimitError(
                "JSON nested deeper than Python's recursion limit; expected flat records",
                path,
                line=line,
            ) from None

    if lines:
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            obj = parse(line, lineno, "")
            if not isinstance(obj, dict):
                raise LoadError(
                    f"expected a JSON object, found {type(obj).__name__}", path, line=lineno
                )
            records.append((lineno, obj))
    else:
        doc = parse(text, None, "")
        if isinstance(doc, dict):
            doc = [doc]
        if not isinstance(doc, list):
            raise LoadError("expected an array of JSON objects", path)
        for i, obj in enumerate(doc, start=1):
            if not isinstance(obj, dict):
                raise LoadError(
                    f"record {i}: expected a JSON object, found {type(obj).__name__}", path
                )
            records.append((None, obj))
    if not records:
        raise HeaderOnlyError("the file has no records", path)
    names: dict[str, None] = {}
    for line, obj in records:
        for key in obj:
            if not str(key).strip():
                raise ColumnNameError("blank key", path, line=line)
            names.setdefault(key, None)
    _check_string_columns(opts, list(names), path)
    columns = {c: _json_column([obj.get(c) for _, obj in records], opts, c) for c in names}
    return _arrow_to_pandas(columns), {"encoding": enc}


def _json_column(values: list[Any], opts: _Options, col: str) -> pa.Array:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return pa.array(values, type=pa.bool_())
    if kinds and kinds <= {int} and col not in opts.string_columns:
        if all(-(2**63) <= v < 2**63 for v in values if v is not None):
            return pa.array(values, type=pa.int64())
    if kinds and kinds <= {int, float} and col not in opts.string_columns:
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    text = [
        None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for v in values
    ]
    return _apply_missing(pa.chunked_array([pa.array(text, type=pa.string())]), opts.missing)


# --------------------------------------------------------------------------------------------
# lazy (DuckDB) loading


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _connect() -> Any:
    import duckdb

    return duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )


def _stream_check(path: Path, requested: str | None) -> tuple[str, str, bool]:
    """One streaming pass: SHA-256 and encoding validation with exact offsets."""
    from .._io import file_version, remember_sha256

    version = file_version(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_CHARS)
        enc, skip, bom = _detect_encoding_prefix(head, path, requested, complete=False)
        codec = _codec_without_bom(enc)
        decoder = codecs.getincrementaldecoder(codec)()
        digest.update(head)
        # ASCII is valid UTF-8 whatever came before, unless a multi-byte character is pending
        ascii_ok = codec == "utf-8"
        offset, chunk, tail = 0, head, b""
        while chunk:
            part = chunk[skip:] if offset == 0 else chunk
            try:
                if not (ascii_ok and part.isascii() and not decoder.getstate()[0]):
                    decoder.decode(part)
            except UnicodeDecodeError as exc:
                if requested is None and codec == "utf-8":
                    if offset == 0 and any(b >= 0x80 for b in part[: exc.start]):
                        _fallback_encoding(part, path, exc)  # raises: mixed encodings
                    hexdigest = _finish_hash(fh, digest)
                    remember_sha256(path, version, hexdigest)
                    return "latin-1", hexdigest, False
                buf = tail + part
                raise _decoding_error(
                    buf,
                    path,
                    exc.start + len(tail),
                    codec,
                    exc.reason,
                    base_offset=offset + (skip if offset == 0 else 0) - len(tail),
                    base_line=_count_newlines(path, offset),  # error path only: read again
                    head=head,
                ) from None
            offset += len(chunk)
            nl = chunk.rfind(b"\n")
            tail = chunk[nl + 1 :] if nl >= 0 else tail + chunk
            chunk = fh.read(_CHUNK)
            digest.update(chunk)
        decoder.decode(b"", final=True)
    remember_sha256(path, version, digest.hexdigest())
    return enc, digest.hexdigest(), bom


def _count_newlines(path: Path, end: int) -> int:
    """Line breaks in the first ``end`` bytes of ``path`` (to name the line of an error)."""
    n = 0
    with open(path, "rb") as fh:
        while end > 0 and (chunk := fh.read(min(_CHUNK, end))):
            n += chunk.count(b"\n")
            end -= len(chunk)
    return n


def _finish_hash(fh: Any, digest: Any) -> str:
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


_DUCKDB_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "iso8859-1": "latin-1",
}


def _load_lazy(
    path: Path,
    fmt: str,
    opts: _Options,
    *,
    name: str | None,
    department: str | None,
    con: Any = None,
) -> Dataset:
    import duckdb

    con = con if con is not None else _connect()
    if fmt == "parquet":
        from .._io import sha256_file

        digest = sha256_file(path)
        try:
            rel = con.sql(f"SELECT * FROM read_parquet({_sql_literal(str(path))})")
            names = list(rel.columns)
        except duckdb.Error as exc:
            raise LoadError(f"not a readable Parquet file ({_first_line(exc)})", path) from None
        _check_header(names, path, line=None)
        _check_string_columns(opts, names, path)
        exprs = [
            (
                f"{_missing_expr(c, opts.missing)} AS {_sql_ident(c)}"
                if t == "VARCHAR"
                else _sql_ident(c)
            )
            for c, t in zip(names, map(str, rel.types), strict=True)
        ]
        info: dict[str, Any] = {}
    else:
        enc, digest, bom = _stream_check(path, opts.encoding)
        dialect = sniff_csv(
            path, delimiter=opts.delimiter, encoding=opts.encoding or enc, quotechar=opts.quotechar
        )
        _check_string_columns(opts, dialect.header, path)
        duck_enc = _DUCKDB_ENCODINGS.get(codecs.lookup(enc).name)
        if duck_enc is None:  # DuckDB reads utf-8, utf-16 and latin-1 only: go eager
            return _load_file(path, opts, name=name, department=department, lazy=False)
        read = _csv_read(path, dialect, duck_enc)
        base = con.sql(f"SELECT * FROM {read}")
        names = list(dialect.header)
        try:
            stats = base.aggregate(", ".join(["count(*)", *_type_checks(names, opts)]))
            stats = stats.fetchall()[0]
        except duckdb.Error:
            _csv_failed(path, enc, dialect)
        if stats[0] == 0:
            raise HeaderOnlyError(
                "the file has a header but no data rows", path, line=dialect.header_line
            )
        exprs = _typed_exprs(names, stats[1:], opts)
        rel = con.sql(f"SELECT {', '.join(exprs)} FROM {read}")
        info = {**dialect.to_dict(), "encoding": enc, "decimal": opts.decimal}
        n_rows = int(stats[0])
        return _lazy_dataset(rel, path, name, department, digest, n_rows, fmt, info, opts)
    rel = con.sql(f"SELECT {', '.join(exprs)} FROM read_parquet({_sql_literal(str(path))})")
    n_rows = int(rel.aggregate("count(*)").fetchall()[0][0])
    if n_rows == 0:
        raise HeaderOnlyError("the Parquet file has columns but no rows", path)
    return _lazy_dataset(rel, path, name, department, digest, n_rows, fmt, info, opts)


def _csv_read(path: Path, dialect: CsvDialect, duck_enc: str) -> str:
    """DuckDB ``read_csv`` of a sniffed file: every column as text, strict, no auto-detection."""
    cols = "{" + ", ".join(f"{_sql_literal(c)}: 'VARCHAR'" for c in dialect.header) + "}"
    q = _sql_literal(dialect.quotechar)
    return (
        f"read_csv({_sql_literal(str(path))}, delim={_sql_literal(dialect.delimiter)}, "
        f"quote={q}, escape={q}, header=true, skip={dialect.header_line - 1}, "
        f"auto_detect=false, columns={cols}, strict_mode=true, null_padding=false, "
        f"nullstr={_sql_literal(chr(1) + 'workbench-no-null' + chr(1))}, "
        f"allow_quoted_nulls=false, encoding={_sql_literal(duck_enc)})"
    )


def _csv_failed(path: Path, enc: str, dialect: CsvDialect) -> None:
    """DuckDB could not parse the file: raise the error naming line and column."""

    def tail(line: int) -> str:
        with open(path, encoding=enc, newline="") as fh:
            for _ in range(line - 1):
                fh.readline()
            return fh.read()

    with open(path, encoding=enc, newline="") as fh:
        _diagnose_csv(fh, dialect, path, tail)
    raise LoadError("cannot parse the file as delimited text", path) from None


def _type_checks(names: Sequence[str], opts: _Options) -> list[str]:
    """Five aggregates per text column that decide its type (see :func:`_typed_exprs`).

    Each is true of every row exactly when it is true of every distinct row, so they give the
    same types over the records and over a table of their distinct combinations.
    """
    checks = []
    for c in names:
        e = _missing_expr(c, opts.missing)
        checks += [
            f"count({e})",
            f"count_if(regexp_full_match({_dec(e, opts)}, '{_INT_RE[1:-1]}'))",
            f"count_if(regexp_full_match({_dec(e, opts)}, '{_FLOAT_RE[1:-1]}'))",
            f"max(length({e}))",
            f"count_if(contains({e}, '.'))",
        ]
    return checks


def numeric_kind(present: int, n_int: int, n_float: int, longest: int) -> str | None:
    """``"int"``, ``"float"`` or ``None`` (text) for a text column, from how many of its
    ``present`` values match :data:`INT_PATTERN` / :data:`FLOAT_PATTERN` and its longest value.

    The one typing rule of the lazy scans (DuckDB here, polars and Spark in
    :mod:`workbench.engines`): numeric only when every present value is a plain number short
    enough to round-trip.
    """
    if not present:
        return None
    if n_int == present and longest <= _MAX_INT_CHARS + 1:
        return "int"
    if n_float == present and longest <= _MAX_FLOAT_CHARS:
        return "float"
    return None


def _typed_exprs(names: Sequence[str], stats: Sequence[Any], opts: _Options) -> list[str]:
    """Typed select expressions from :func:`_type_checks`' results (same rule as eager)."""
    exprs = []
    for k, c in enumerate(names):
        e = _missing_expr(c, opts.missing)
        present, n_int, n_float, longest, dots = stats[5 * k : 5 * k + 5]
        kind = "VARCHAR"
        if opts.numeric_allowed(c) and not (opts.decimal == "," and dots):
            kind = {"int": "BIGINT", "float": "DOUBLE", None: "VARCHAR"}[
                numeric_kind(present, n_int, n_float, longest)
            ]
        if kind == "VARCHAR":
            exprs.append(f"{e} AS {_sql_ident(c)}")
        else:
            exprs.append(f"CAST({_dec(e, opts)} AS {kind}) AS {_sql_ident(c)}")
    return exprs


def _dec(expr: str, opts: _Options) -> str:
    return f"replace({expr}, ',', '.')" if opts.decimal == "," else expr


def _missing_expr(col: str, missing: tuple[str, ...]) -> str:
    ident = _sql_ident(col)
    if not missing:
        return ident
    listed = ", ".join(_sql_literal(m) for m in missing)
    return f"(CASE WHEN {ident} IN ({listed}) THEN NULL ELSE {ident} END)"


def _lazy_dataset(
    rel: Any,
    path: Path,
    name: str | None,
    department: str | None,
    digest: str,
    n_rows: int,
    fmt: str,
    info: dict[str, Any],
    opts: _Options,
) -> Dataset:
    options = {"format": fmt, **info, "missing": list(opts.missing), "lazy": True}
    return Dataset(
        data=rel,
        name=name or path.stem,
        department=department,
        source=str(path),
        sha256=digest,
        n_rows=n_rows,
        column_types=MappingProxyType(
            {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
        ),
        options=MappingProxyType(options),
    )


# --------------------------------------------------------------------------------------------
# SQL over files
