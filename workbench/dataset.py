"""The :class:`Dataset` value: a loaded table plus where it came from.

Loading lives in :mod:`workbench.loading.readers`; every other module accepts a ``Dataset``, a pandas or
polars DataFrame, or a DuckDB relation, and turns it into what it needs with :func:`as_pandas` or
:func:`as_narwhals`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._lazy import is_pandas, lazy_module
from .errors import ColumnNotFoundError

pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["Dataset", "as_pandas", "as_narwhals", "check_columns"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A department's table and its provenance facts.

    Attributes
    ----------
    data : pandas.DataFrame or duckdb.DuckDBPyRelation
        The rows. A DuckDB relation is used for files too large to hold in memory.
    name : str
        Short name (file stem unless given).
    department : str or None
        Owning department, as declared by the caller or the catalog.
    source : str or None
        Path (or SQL text) the data was read from; ``None`` for in-memory frames.
    sha256 : str or None
        Content hash of the source file, recorded in provenance.
    n_rows : int
        Number of records.
    column_types : Mapping[str, str]
        Storage type of each column (pandas / DuckDB dtype names).
    """

    data: Any
    name: str
    department: str | None = None
    source: str | None = None
    sha256: str | None = None
    n_rows: int = 0
    column_types: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def columns(self) -> list[str]:
        """Column names in file order."""
        return list(self.column_types)

    @property
    def is_lazy(self) -> bool:
        """True when the rows stay in DuckDB rather than in a pandas frame."""
        return not is_pandas(self.data)

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (materialises a DuckDB relation)."""
        return as_pandas(self.data)

    def __repr__(self) -> str:  # never print rows: they may hold identifiers
        dept = f", department={self.department!r}" if self.department else ""
        return f"Dataset(name={self.name!r}{dept}, rows={self.n_rows}, columns={len(self.column_types)})"

    @classmethod
    def from_frame(cls, frame: Any, name: str = "data", department: str | None = None) -> Dataset:
        """Wrap an in-memory frame (pandas, polars, DuckDB relation) without copying."""
        if is_pandas(frame):
            types = {str(c): str(t) for c, t in frame.dtypes.items()}
            n = len(frame)
        elif hasattr(frame, "columns") and hasattr(frame, "types") and hasattr(frame, "aggregate"):
            types = {c: str(t) for c, t in zip(frame.columns, frame.types, strict=True)}
            n = int(frame.aggregate("count(*)").fetchall()[0][0])
        else:
            pdf = as_pandas(frame)
            return cls.from_frame(pdf, name=name, department=department)
        return cls(
            data=frame,
            name=name,
            department=department,
            n_rows=n,
            column_types=MappingProxyType(types),
        )


def as_pandas(obj: Any) -> pd.DataFrame:
    """Return ``obj`` (Dataset, pandas, polars, narwhals, DuckDB relation) as a pandas DataFrame."""
    if isinstance(obj, Dataset):
        obj = obj.data
    if is_pandas(obj):
        return obj
    if hasattr(obj, "df") and hasattr(obj, "aggregate"):  # duckdb relation
        return obj.df()
    if hasattr(obj, "to_native"):  # narwhals
        obj = obj.to_native()
        return as_pandas(obj)
    if hasattr(obj, "to_pandas"):  # polars, pyarrow
        return obj.to_pandas()
    lazy_engine = {"pyspark": "spark", "polars": "polars"}.get(type(obj).__module__.split(".")[0])
    if lazy_engine is not None:  # a PySpark frame or a polars LazyFrame
        from .errors import EngineError

        # every record on the driver is what a lazy engine is chosen to avoid: say where this
        # step runs instead of collecting
        raise EngineError(
            "this step", lazy_engine, ("duckdb", "pandas"), why="it needs every record in memory"
        )
    from .errors import ParameterTypeError

    raise ParameterTypeError(
        "data", obj, "a Dataset, a pandas/polars/pyarrow frame or a DuckDB relation"
    )


def as_narwhals(obj: Any) -> Any:
    """Return ``obj`` as a narwhals LazyFrame (pandas/polars/DuckDB/PySpark all accepted)."""
    import narwhals as nw

    if isinstance(obj, Dataset):
        obj = obj.data
    if isinstance(obj, nw.LazyFrame):
        return obj
    if isinstance(obj, nw.DataFrame):
        return obj.lazy()
    frame = nw.from_native(obj)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def check_columns(
    obj: Any, columns: list[str] | tuple[str, ...], source: str | None = None
) -> None:
    """Raise :class:`ColumnNotFoundError` naming the first missing column and what is available."""
    if isinstance(obj, Dataset):
        available = obj.columns
        source = source or obj.source or obj.name
    elif hasattr(obj, "collect_schema"):  # polars / narwhals: no schema warning on lazy frames
        available = [str(c) for c in obj.collect_schema().names()]
    elif hasattr(obj, "columns"):
        available = [str(c) for c in obj.columns]
    else:
        available = list(as_narwhals(obj).collect_schema().names())
    for col in columns:
        if col not in available:
            raise ColumnNotFoundError(col, available, source)
