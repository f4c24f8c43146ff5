"""Load the result of one read-only SQL query over data files, inside a sandbox.

``load("SELECT ... FROM 'clinic.csv' JOIN 'visits.parquet' ...")`` runs on an in-memory DuckDB
connection that may read only the files the query names (and ``allow_dirs``): external access is
locked after the named files are registered, raw readers (``read_text``, ``read_blob``) and
paths outside the sandbox are refused before the query runs, and DuckDB's error messages are
redacted of data values before they reach an error.
"""

from __future__ import annotations

import glob as globmod
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..dataset import Dataset
from ..errors import (
    LoadError,
    MissingFileError,
    ParameterError,
    SqlSandboxError,
)
from .readers import (
    SUPPORTED_EXTENSIONS,
    _arrow_to_pandas,
    _check_header,
    _connect,
    _load_file,
    _Options,
)

_QUOTED = re.compile(r"'((?:[^']|'')+)'|\"((?:[^\"]|\"\")+)\"")


def _redact_values(message: str, query: str, known: Iterable[str] = ()) -> str:
    """DuckDB's message without data values (they may be identifiers).

    DuckDB echoes the offending text in quotes: a value it failed to convert, or a double-quoted
    string it took for a column name (``WHERE email = "ann@example.org"``). A quoted token is kept
    only when it is a known column or file name, or is written *unquoted* in the query (so a
    misspelt column stays visible); everything else becomes ``<value>``. The ``LINE n:`` excerpt
    of the query is dropped for the same reason.
    """
    kept = []
    for line in message.splitlines():
        if line.startswith("LINE ") or (line.strip() == "^"):
            break
        kept.append(line)
    bare = set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", _QUOTED.sub(" ", query)))
    safe = set(known) | bare

    def repl(m: re.Match[str]) -> str:
        token = m.group(2)
        if token in safe or not re.search(r"\w", token):  # names, or operators like "="
            return m.group(0)
        return f"{m.group(1)}<value>{m.group(1)}"

    return re.sub(r"(['\"])([^'\"\n]*)\1", repl, "\n".join(kept))


#: Table functions that read files as raw text or bytes: never data, refused in SQL sources.
_RAW_READERS = re.compile(r"\b(read_text|read_blob)\s*\(", re.IGNORECASE)
_GLOB_CHARS = "*?[{"
_GLOB_HITS = 100_000  # files of one pattern checked before the query runs


def _sandbox_roots(base: Path, allow_dirs: Iterable[str | Path]) -> list[Path]:
    """The directories a SQL source may read: ``base`` (the working directory) and ``allow_dirs``."""
    if isinstance(allow_dirs, (str, Path)):
        allow_dirs = (allow_dirs,)
    roots = []
    for d in (base, *allow_dirs):
        p = Path(d).expanduser()
        if not p.is_dir():
            raise ParameterError("allow_dirs", str(d), "an existing directory")
        roots.append(p.resolve())
    return list(dict.fromkeys(roots))


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _check_sql_paths(query: str, base: Path, roots: Sequence[Path]) -> None:
    """Refuse a SQL source that names a file it may not read, before DuckDB runs it.

    DuckDB's own sandbox (``allowed_directories``, external access off) is the enforcement; this
    pass adds what it cannot express: only data files (by extension, after following symbolic
    links) and no raw ``read_text``/``read_blob``; and it gives a clear message.
    """
    where = "SQL query"
    shown = ", ".join(str(r) for r in roots)
    functions, names = _sql_tree_names(query)
    lexical = [
        (m.group(1) or "").replace("''", "'") or (m.group(2) or "").replace('""', '"')
        for m in _QUOTED.finditer(query)
    ]
    if m := _RAW_READERS.search(_QUOTED.sub("''", query)):
        functions.add(m.group(1).lower())
    raw_readers = sorted(functions & {"read_text", "read_blob"})
    if raw_readers:
        raise SqlSandboxError(
            f"{raw_readers[0]}() is not allowed in a SQL source; name data files "
            f"({', '.join(sorted(set(SUPPORTED_EXTENSIONS)))}) or use read_csv/read_parquet",
            where,
        )
    for literal in dict.fromkeys([*names, *lexical]):
        if not literal or "\0" in literal or len(literal) > 4096:
            continue
        raw = Path(literal).expanduser()
        full = raw if raw.is_absolute() else base / raw
        if any(ch in literal for ch in _GLOB_CHARS):
            static = []
            for part in full.parts:
                if any(ch in part for ch in _GLOB_CHARS):
                    break
                static.append(part)
            top = Path(*static).resolve() if static else base.resolve()
            if not _inside(top, roots) or ".." in full.parts:
                raise SqlSandboxError(
                    f"the pattern {literal!r} reaches outside the allowed directories "
                    f"({shown}); add one with --allow-dir / allow_dirs",
                    where,
                )
            for hit in itertools.islice(globmod.iglob(str(full), recursive=True), _GLOB_HITS):
                real = Path(hit).resolve()  # a link in an allowed directory may point anywhere
                if real.is_file() and (
                    not _inside(real, roots) or real.suffix.lower() not in SUPPORTED_EXTENSIONS
                ):
                    raise SqlSandboxError(
                        f"the pattern {literal!r} matches {Path(hit).name!r}, which is not a "
                        f"data file inside the allowed directories ({shown})",
                        where,
                    )
            continue
        try:
            if not full.is_file():
                continue  # a value, not a file; DuckDB's sandbox still refuses other paths
            real = full.resolve()
        except OSError:
            continue
        if not _inside(real, roots):
            raise SqlSandboxError(
                f"the file {literal!r} is outside the allowed directories ({shown}); "
                "add its directory with --allow-dir / allow_dirs",
                where,
            )
        if real.suffix.lower() not in SUPPORTED_EXTENSIONS:
            raise SqlSandboxError(
                f"the file {literal!r} is not a data file; a SQL source reads only "
                f"{', '.join(sorted(set(SUPPORTED_EXTENSIONS)))} files",
                where,
            )


def _sql_tree_names(query: str) -> tuple[set[str], list[str]]:
    """Function names and string/table names in DuckDB's own parse tree of ``query``.

    The parse tree sees what a regular expression cannot: ``"read_text"(...)``,
    ``read_text/**/(...)``, ``$$dollar-quoted$$`` paths. A query DuckDB cannot serialize is
    refused (fail closed).
    """
    import duckdb

    con = duckdb.connect(config={"enable_external_access": False})
    try:
        doc = json.loads(con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])
    except (duckdb.Error, ValueError, TypeError):
        doc = {"error": True}
    finally:
        con.close()
    if doc.get("error"):
        raise SqlSandboxError("the query cannot be analysed for the files it reads", "SQL query")
    functions: set[str] = set()
    names: list[str] = []
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "function_name" and isinstance(value, str):
                    functions.add(value.lower())
                elif key in ("table_name", "text") and isinstance(value, str):
                    names.append(value)
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return functions, names


def _sandbox(con: Any, roots: Sequence[Path]) -> None:
    """Lock a DuckDB connection to reading ``roots``: no other file, no network, no extension.

    ``allowed_directories`` are matched as string prefixes, hence the trailing separator
    (``/data`` must not allow ``/data-secret``); the configuration is then locked so the query
    itself cannot ``SET`` its way out.
    """
    import os

    dirs = [str(r).rstrip(os.sep) + os.sep for r in roots]
    con.execute("SET allowed_directories = ?", [dirs])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _load_sql(
    query: str,
    opts: _Options,
    *,
    name: str | None,
    department: str | None,
    lazy: bool | None,
    base_dir: str | Path | None,
    allow_dirs: Iterable[str | Path] = (),
) -> Dataset:
    import duckdb

    where = "SQL query"
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise LoadError(f"SQL error: {_redact_values(str(exc), query)}", where) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "none"
        raise LoadError(f"expected exactly one SELECT statement, found: {kinds}", where)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    roots = _sandbox_roots(base, allow_dirs)
    _check_sql_paths(query, base, roots)
    try:
        tables = set(duckdb.get_table_names(query))
    except duckdb.Error:
        tables = set()
    con = _connect()
    _sandbox(con, roots)
    sources: dict[str, str] = {}
    known: set[str] = set()
    for m in _QUOTED.finditer(query):
        literal = (m.group(1) or "").replace("''", "'") or (m.group(2) or "").replace('""', '"')
        if not literal or literal in sources or any(ch in literal for ch in "*?["):
            continue
        if Path(literal).suffix.lower() not in SUPPORTED_EXTENSIONS:
            continue
        file = Path(literal) if Path(literal).is_absolute() else base / literal
        if not file.exists():
            if literal in tables:
                raise MissingFileError("file named in the SQL query not found", literal)
            continue
        ds = _load_file(file, opts, name=None, department=None, lazy=lazy, con=con)
        known.update([literal, *map(str, ds.columns)])
        if ds.is_lazy:
            ds.data.create_view(literal, replace=True)
        else:
            con.register(literal, ds.data)
        sources[literal] = ds.sha256 or ""
    where = "SQL query over " + ", ".join(sources) if sources else where
    try:
        rel = con.sql(query)
        if rel is None:
            raise LoadError("the query returned no result", where)
        if lazy:
            n_rows = int(rel.aggregate("count(*)").fetchall()[0][0])
            data: Any = rel
            types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
        else:
            table = rel.to_arrow_table()
            _check_header(table.column_names, Path(where), line=None)
            data = _arrow_to_pandas({c: table.column(i) for i, c in enumerate(table.column_names)})
            n_rows = len(data)
            types = {c: str(t) for c, t in data.dtypes.items()}
    except duckdb.Error as exc:
        raise LoadError(f"SQL error: {_redact_values(str(exc), query, known)}", where) from None
    h = hashlib.sha256(query.encode("utf-8"))
    for lit, sha in sorted(sources.items()):
        h.update(f"\0{lit}\0{sha}".encode())
    options = {
        "format": "sql",
        "query": query,
        "sources": dict(sources),
        "missing": list(opts.missing),
        "lazy": bool(lazy),
    }
    return Dataset(
        data=data,
        name=name or "query",
        department=department,
        source=query,
        sha256=h.hexdigest(),
        n_rows=n_rows,
        column_types=MappingProxyType(types),
        options=MappingProxyType(options),
    )
