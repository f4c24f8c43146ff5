"""Engines: where the rows are scanned, grouped and joined (DuckDB, polars, pandas, Spark).

The risk engine is written once against narwhals' lazy API, so the same ``GROUP BY`` over the
quasi-identifiers runs inside DuckDB, polars, pandas or Apache Spark (a local session, a cluster
through ``spark-submit``, or a remote cluster through Spark Connect) and only the grouped class
table reaches the driver. This module holds the one engine-selection rule:

* :data:`ENGINES` names the engines, :data:`RUNS_ON` which engines run which command;
* :func:`engine_of` says which engine a frame lives in, :func:`resolve_engine` validates a name
  (or infers it from the data) and :func:`require_engine` refuses, naming the engines that can,
  a command that does not run on an engine yet, instead of silently pulling every record into
  pandas;
* :func:`spark_session` opens (and always closes) a local, cluster or Spark Connect session;
* :func:`load` reads a file into the chosen engine with the loader's faithful typing (a column
  becomes numeric only when every present value is a plain decimal without a leading zero, so
  postal code ``"02138"`` stays text on every engine).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._extras import require
from ._lazy import is_pandas
from .dataset import Dataset
from .errors import EngineError, ParameterError, ParameterTypeError, UnsupportedFormatError

__all__ = [
    "ENGINES",
    "RUNS_ON",
    "engine_of",
    "resolve_engine",
    "require_engine",
    "spark_session",
    "load",
    "records_for_search",
    "DRIVER_CLASS_LIMIT",
]

#: Engine names accepted by ``--engine`` and ``engine=``.
ENGINES: tuple[str, ...] = ("duckdb", "polars", "pandas", "spark")

#: Command -> engines it runs on today. Every other combination is refused by
#: :func:`require_engine` with a message naming these engines (never a silent pandas fallback).
RUNS_ON: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "assess": ENGINES,
        "assess --suda/--per-record/--household": ("duckdb", "pandas", "polars"),
        "anonymize": ENGINES,
        "anonymize with record-level output or Mondrian": ("duckdb", "pandas"),
        "frontier": ("duckdb", "pandas"),
        "profile": ENGINES,
        "check": ("duckdb", "pandas"),
        "link": ("duckdb", "pandas"),
        "combine": ("duckdb", "pandas"),
        "matrix": ("duckdb", "pandas"),
        "dp": ("duckdb", "spark"),
    }
)

#: Largest class table (distinct QI combinations) brought to the driver for the lattice search
#: on a Spark or polars source. Above it the command stops and says so.
DRIVER_CLASS_LIMIT = 5_000_000


def engine_of(data: Any) -> str:
    """The engine ``data`` lives in: ``duckdb``, ``polars``, ``pandas`` or ``spark``.

    PySpark classic and Spark Connect frames are both ``spark``; a pyarrow table is in memory
    like pandas.
    """
    if isinstance(data, Dataset):
        data = data.data
    if is_pandas(data):
        return "pandas"
    import narwhals as nw

    try:
        impl = nw.from_native(data).implementation
    except TypeError:
        raise ParameterTypeError(
            "data", data, "a Dataset, a pandas/polars/PySpark frame or a DuckDB relation"
        ) from None
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return "spark"
    if impl.is_duckdb():
        return "duckdb"
    if impl.is_polars():
        return "polars"
    if impl.is_pandas() or impl.is_pyarrow():
        return "pandas"
    return str(impl.value)


def resolve_engine(engine: str | None = None, data: Any = None) -> str:
    """The engine to use: ``engine`` when given (validated), else the one ``data`` lives in,
    else DuckDB (the default: out of core on one machine)."""
    if engine is None:
        return engine_of(data) if data is not None else "duckdb"
    if engine not in ENGINES:
        raise ParameterError("engine", engine, "one of " + ", ".join(ENGINES))
    return engine


def require_engine(command: str, engine: str) -> None:
    """Refuse ``command`` on an engine it does not run on yet, naming the engines that can."""
    allowed = RUNS_ON.get(command, ENGINES)
    if engine not in allowed:
        raise EngineError(command, engine, allowed)


# --------------------------------------------------------------------------------------------
# Spark sessions


@contextmanager
def spark_session(
    master: str | None = None, remote: str | None = None, app_name: str = "workbench"
) -> Iterator[Any]:
    """A Spark session for one command, stopped when the command ends.

    ``remote`` (``sc://host:port``) connects to a Spark Connect server; ``master`` (``local[2]``,
    ``spark://host:7077``, ``yarn``) starts a classic driver; with neither, the session comes
    from the environment (``spark-submit --master ...`` or ``SPARK_REMOTE``), else ``local[*]``.
    """
    if master and remote:
        raise ParameterError(
            "spark-remote", remote, "either --spark-master or --spark-remote, not both"
        )
    if remote is not None and not str(remote).startswith("sc://"):
        raise ParameterError("spark-remote", remote, "a Spark Connect URL sc://host:port")
    require("pyspark", "the Spark engine")
    if remote is not None:
        require("grpc", "Spark Connect")
    from pyspark.sql import SparkSession

    before = _active_sessions()
    builder = SparkSession.builder.appName(app_name)
    if remote is not None:
        # the Connect builder itself: PySpark's generic one refuses a remote session next to
        # a classic one in the same process
        from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

        builder = RemoteSparkSession.builder.remote(remote).appName(app_name)
    elif master is not None:
        builder = builder.master(master).config("spark.ui.showConsoleProgress", "false")
    session = builder.getOrCreate()
    try:
        yield session
    finally:
        # stop what this command started; a session the caller already held stays theirs
        if not any(session is s for s in before):
            session.stop()


def _active_sessions() -> list[Any]:
    """The classic and Spark Connect sessions already active in this process."""
    found = []
    for module in ("pyspark.sql", "pyspark.sql.connect.session"):
        try:
            cls = importlib.import_module(module).SparkSession
            active = cls.getActiveSession()
        except ImportError:  # the Connect client deps are absent: no Connect session
            continue
        if active is not None:
            found.append(active)
    return found


# --------------------------------------------------------------------------------------------
# loading into an engine


def load(
    source: str | Path,
    *,
    engine: str = "duckdb",
    spark: Any = None,
    name: str | None = None,
    department: str | None = None,
    missing: Iterable[str] = ("",),
    allow_dirs: Iterable[str | Path] = (),
) -> Dataset:
    """Load ``source`` into ``engine`` as a lazy :class:`~workbench.dataset.Dataset`.

    ``duckdb`` keeps the rows in a DuckDB relation and ``pandas`` reads them into memory (both
    through :func:`workbench.loading.readers.load`); ``polars`` scans lazily and ``spark`` reads through
    the Spark session ``spark`` (a local file, or any path the cluster can read: ``hdfs://``,
    ``s3a://``). CSV columns are typed by the loader's rule in the engine, in the same scan that
    counts the rows.
    """
    from .loading import readers as loading

    engine = resolve_engine(engine)
    missing = tuple(missing)
    if engine in ("duckdb", "pandas"):
        return loading.load(
            source,
            name=name,
            department=department,
            missing=missing,
            lazy=engine == "duckdb",
            allow_dirs=allow_dirs,
        )
    if engine == "spark" and spark is None:
        raise ParameterError("spark", None, "a Spark session for engine='spark'")
    text = str(source)
    remote = "://" in text
    path = Path(text)
    if not remote:
        loading._check_exists(path)  # the loader's own message for a missing file
        # a cluster (or a Connect server) resolves a relative path against its own directory
        scan = str(path.resolve())
    else:
        scan = text
    fmt = loading.SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    dialect = None
    if fmt == "csv":
        dialect = None if remote else loading.sniff_csv(path)
        with _engine_read_errors(engine, text):
            native = _scan_csv(engine, scan, dialect, spark)
            native, n_rows = _typed(native, missing)
    elif fmt == "parquet":
        with _engine_read_errors(engine, text):
            native = _scan_parquet(engine, scan, spark)
            n_rows = _count(native)
    elif fmt is not None and not remote:  # Excel / JSON: bounded, read by our own loader
        ds = loading.load(path, name=name, department=department, missing=missing)
        native = _from_pandas(engine, ds.to_pandas(), spark)
        n_rows = ds.n_rows
    else:
        raise UnsupportedFormatError(
            f"the {engine} engine reads CSV/TSV and Parquet (local or cluster paths), and local "
            "Excel/JSON files",
            path,
        )
    import narwhals as nw

    schema = nw.from_native(native).lazy().collect_schema()
    return Dataset(
        data=native,
        name=name or path.stem,
        department=department,
        source=text,
        sha256=None if remote else _sha256(path),
        n_rows=n_rows,
        column_types=MappingProxyType({c: str(t) for c, t in schema.items()}),
        options=MappingProxyType(
            {
                "engine": engine,
                "format": fmt,
                "missing": list(missing),
                **(
                    {
                        "delimiter": dialect.delimiter,
                        "quotechar": dialect.quotechar,
                        "encoding": dialect.encoding,
                    }
                    if fmt == "csv" and dialect is not None
                    else {}
                ),
            }
        ),
    )


@contextmanager
def _engine_read_errors(engine: str, path: str) -> Iterator[None]:
    """An engine's read failure (a path the cluster cannot see, a malformed file) as a
    :class:`~workbench.errors.LoadError` naming the file and the engine's error class only:
    engine messages may quote the data."""
    from .errors import LoadError

    try:
        yield
    except Exception as exc:
        module = type(exc).__module__.split(".")[0]
        if module not in ("pyspark", "py4j", "polars", "grpc", "narwhals"):
            raise
        raise LoadError(
            f"the {engine} engine could not read it ({type(exc).__name__}); check that the "
            f"path exists where the {engine} engine runs",
            path,
        ) from None


def _scan_csv(engine: str, path: str, dialect: Any, spark: Any) -> Any:
    delimiter = dialect.delimiter if dialect else ","
    quote = dialect.quotechar if dialect else '"'
    if engine == "polars":
        pl = require("polars", "the polars engine")
        if dialect and dialect.encoding not in ("utf-8", "utf-8-sig", "ascii"):
            raise UnsupportedFormatError(
                f"the polars engine reads UTF-8 text only (this file is {dialect.encoding}); "
                "use --engine duckdb or pandas",
                path,
            )
        return pl.scan_csv(
            path, separator=delimiter, quote_char=quote, infer_schema=False, encoding="utf8"
        )
    reader = (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("sep", delimiter)
        .option("quote", quote)
        .option("escape", quote)
        .option("multiLine", True)
    )
    if dialect is not None:
        reader = reader.option("encoding", dialect.encoding.replace("-sig", ""))
    return reader.csv(path)


def _scan_parquet(engine: str, path: str, spark: Any) -> Any:
    if engine == "polars":
        return require("polars", "the polars engine").scan_parquet(path)
    return spark.read.parquet(path)


def _from_pandas(engine: str, frame: Any, spark: Any) -> Any:
    if engine == "polars":
        return require("polars", "the polars engine").from_pandas(frame).lazy()
    return spark.createDataFrame(frame)


def _count(native: Any) -> int:
    import narwhals as nw

    lf = nw.from_native(native).lazy()
    return int(lf.select(nw.len().alias("n")).collect().to_arrow().column("n")[0].as_py())


def _typed(native: Any, missing: tuple[str, ...]) -> tuple[Any, int]:
    """Apply the missing markers and the loader's numeric rule to every text column in the
    engine: one aggregation scan decides the types and counts the rows."""
    import narwhals as nw

    from .loading.readers import FLOAT_PATTERN, INT_PATTERN, _Options, numeric_kind

    opts = _Options.make(
        missing=missing,
        decimal=".",
        infer_types=True,
        string_columns=(),
        keep_codes=True,
        delimiter=None,
        encoding=None,
        quotechar=None,
        sheet=None,
        lazy_threshold=0,
    )
    lf = nw.from_native(native).lazy()
    names = list(lf.collect_schema().names())
    cleaned = [
        nw.when(~nw.col(c).is_in(list(missing))).then(nw.col(c)).alias(c) if missing else nw.col(c)
        for c in names
    ]
    lf = lf.select(cleaned)
    checks = [nw.len().alias("__rows")]
    for i, c in enumerate(names):
        col = nw.col(c)
        checks += [
            col.count().alias(f"p{i}"),
            col.str.contains(INT_PATTERN).cast(nw.Int64).sum().alias(f"i{i}"),
            col.str.contains(FLOAT_PATTERN).cast(nw.Int64).sum().alias(f"f{i}"),
            col.str.len_chars().max().alias(f"l{i}"),
        ]
    stats = lf.select(checks).collect().to_arrow().to_pylist()[0]
    exprs = []
    for i, c in enumerate(names):
        kind = numeric_kind(
            stats[f"p{i}"] or 0, stats[f"i{i}"] or 0, stats[f"f{i}"] or 0, stats[f"l{i}"] or 0
        )
        if not opts.numeric_allowed(c):  # code columns (postal code, ids) stay text
            kind = None
        if kind == "int":
            exprs.append(nw.col(c).cast(nw.Int64))
        elif kind == "float":
            exprs.append(nw.col(c).cast(nw.Float64))
        else:
            exprs.append(nw.col(c))
    return lf.select(exprs).to_native(), int(stats["__rows"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# the lattice search's input


def records_for_search(data: Any, columns: list[str], source: str | None = None) -> Any:
    """What the lattice search reads from a Spark or polars source: one ``GROUP BY`` over
    ``columns`` in the engine, the class table collected (at most :data:`DRIVER_CLASS_LIMIT`
    classes) and each class repeated by its count. Other sources pass through unchanged.

    The search only needs the class table; the repetition keeps today's search code unchanged
    (it reads one row per record) and holds only the QI and sensitive columns on the driver.
    """
    if isinstance(data, Dataset) and is_pandas(data.data):
        return data
    engine = engine_of(data)
    if engine not in ("spark", "polars"):
        return data
    import narwhals as nw
    import numpy as np

    from .dataset import as_narwhals
    from .errors import ColumnNotFoundError

    lf = as_narwhals(data)
    available = list(lf.collect_schema().names())
    for col in columns:
        if col not in available:
            raise ColumnNotFoundError(col, available, source or getattr(data, "source", None))
    grouped = (
        lf.group_by(columns, drop_null_keys=False)
        .agg(nw.len().alias("__n"))
        .head(DRIVER_CLASS_LIMIT + 1)
        .collect()
        .to_arrow()
    )
    if grouped.num_rows > DRIVER_CLASS_LIMIT:
        raise EngineError(
            "anonymize",
            engine,
            ("duckdb", "pandas"),
            why=f"the class table has more than {DRIVER_CLASS_LIMIT:,} classes, too many for "
            "the driver",
        )
    counts = np.asarray(grouped.column("__n").to_numpy(), dtype=np.int64)
    table = grouped.drop_columns(["__n"]).to_pandas()
    rows = np.repeat(np.arange(len(table)), counts)
    return table.iloc[rows].reset_index(drop=True)
