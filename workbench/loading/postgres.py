"""PostgreSQL as a data source: the rows stay in the database, the GROUP BYs run there.

Departments keep their registers in databases; copying a table out to a CSV for every review is
the leak we want to avoid. ``load("postgresql://user@host:5432/db?table=schema.name")`` (or
``?query=SELECT ...``) returns a lazy :class:`~workbench.dataset.Dataset` backed by an Ibis table,
which narwhals drives like any other engine: the risk engine's class table, the profile's value
counts and the record count are computed by PostgreSQL and only those aggregates come back.

What is enforced, because everything read is hostile:

- the session is read-only (``default_transaction_read_only``) and bounded in time
  (``statement_timeout``, :data:`workbench.loading.limits.PG_STATEMENT_TIMEOUT_SECONDS`), set when the
  connection starts, before any statement runs;
- a ``query`` is one ``SELECT`` (parse-tree check) and may not call server functions that read
  files, large objects, settings or other servers (``pg_read_file``, ``lo_import``, ``dblink``,
  ``current_setting``, ...);
- a ``table`` is ``name`` or ``schema.name`` of plain identifiers, quoted when used;
- the password comes from ``PGPASSWORD`` or a password file (``PGPASSFILE``, ``~/.pgpass``) as
  libpq reads them; a URL that carries one is refused (argv is visible to every local user and
  lands in shell history and provenance), and no message echoes it or a cell value.

The content fingerprint (:attr:`Dataset.sha256`) is computed in the database: SHA-256 over the
sorted MD5s of every row's text form, so it does not depend on row order and changes whenever a
value does. It is not the hash of a file and is labelled ``fingerprint`` in the options.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .._extras import require
from .._redact import DATABASE_SCHEMES, is_database_url, redact_url
from ..dataset import Dataset
from ..errors import InputLimitError, LoadError, ParameterError, SqlSandboxError
from . import limits

__all__ = ["is_database_url", "load_postgres", "redact_url"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_$]{0,62}"
_TABLE = re.compile(rf"^{_IDENT}(\.{_IDENT})?$")
# server functions a read-only SELECT could still use to reach outside the table it names
_DENIED_PREFIXES = (
    "pg_read",
    "pg_ls_",
    "pg_stat_file",
    "pg_file",
    "lo_",
    "dblink",
    "pg_terminate",
    "pg_cancel",
    "pg_reload",
    "pg_rotate",
    "pg_advisory",
    "pg_sleep",
    "pg_promote",
    "pg_switch",
    "pg_create",
    "pg_drop",
    "pg_logical",
    "pg_replication",
    "set_config",
    "current_setting",
    "query_to_xml",
    "table_to_xml",
    "database_to_xml",
    "cursor_to_xml",
)


def _port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise LoadError(
            "the database URL has an invalid port", redact_url(parts.geturl())
        ) from None


def check_table_name(table: str) -> str:
    """``table`` if it is ``name`` or ``schema.name`` of plain identifiers, else an error.

    A table name is spliced into SQL; quoting would make any text safe, but a name that is not a
    plain identifier is a mistake or an attack, so it is refused rather than interpreted.
    """
    if not isinstance(table, str) or not _TABLE.match(table):
        raise ParameterError("table", "<table name>", "name or schema.name of plain identifiers")
    return table


def check_query(query: str) -> str:
    """``query`` if it is one read-only ``SELECT`` that calls no denied server function.

    The session is read-only anyway; this check refuses, before anything reaches the server,
    statements that are not queries and functions that read files, settings or other servers,
    which a superuser's read-only session could still call.
    """
    import sqlglot
    from sqlglot import exp

    if not isinstance(query, str) or not query.strip():
        raise SqlSandboxError("the database query is empty", None)
    if len(query) > limits.SQL_MAX_CHARS:
        raise SqlSandboxError(
            f"the database query is longer than {limits.SQL_MAX_CHARS} characters", None
        )
    try:
        trees = [t for t in sqlglot.parse(query, read="postgres") if t is not None]
    except sqlglot.errors.ParseError:
        raise SqlSandboxError("the database query could not be parsed as SQL", None) from None
    if len(trees) != 1:
        raise SqlSandboxError("the database query must be exactly one statement", None)
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise SqlSandboxError("the database query must be a SELECT", None)
    for node in tree.walk():
        if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create)):
            raise SqlSandboxError("the database query must only read (a SELECT)", None)
        if isinstance(node, exp.Into):
            raise SqlSandboxError("SELECT ... INTO writes a table; it is refused", None)
        if isinstance(node, exp.Lock):
            raise SqlSandboxError("SELECT ... FOR UPDATE/SHARE takes locks; it is refused", None)
        if isinstance(node, exp.Func):
            name = (node.sql_name() if not isinstance(node, exp.Anonymous) else node.name) or ""
            name = name.lower()
            if name.startswith(_DENIED_PREFIXES):
                raise SqlSandboxError(
                    f"the database query calls {name}(), which reaches outside the table", None
                )
    return query


def _connect_args(url: str) -> tuple[dict[str, Any], str | None, str | None]:
    """psycopg connection keywords, and the table or query named in ``url``."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in DATABASE_SCHEMES:
        raise ParameterError("source", redact_url(url), "a postgresql:// URL")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    table = params.pop("table", None)
    query = params.pop("query", None)
    if (table is None) == (query is None):
        raise ParameterError(
            "source", redact_url(url), "a URL with exactly one of ?table=schema.name or ?query="
        )
    if parts.password is not None or "password" in params:
        # argv is visible to every local user (ps) and lands in shell history and provenance
        raise ParameterError(
            "source",
            redact_url(url),
            "a URL without a password (set PGPASSWORD or use a password file: PGPASSFILE, "
            "~/.pgpass)",
        )
    database = unquote(parts.path.lstrip("/")) or None
    kwargs: dict[str, Any] = {
        "host": parts.hostname,
        "port": _port(parts),
        "user": unquote(parts.username) if parts.username else None,
        "database": database,
    }
    allowed = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "host", "port"}
    for key, value in params.items():
        if key not in allowed:
            raise ParameterError("source", redact_url(url), f"no URL parameter {key!r}")
        kwargs[key] = int(value) if key in ("port", "connect_timeout") else value
    timeout_ms = int(limits.PG_STATEMENT_TIMEOUT_SECONDS * 1000)
    kwargs["options"] = (
        f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
        f" -c idle_in_transaction_session_timeout={timeout_ms}"
    )
    kwargs.setdefault("connect_timeout", int(limits.PG_CONNECT_TIMEOUT_SECONDS))
    return {k: v for k, v in kwargs.items() if v is not None}, table, query


def _database_error(exc: BaseException, where: str) -> LoadError:
    """A typed error naming the source, without a password, SQL text or cell value."""
    from .sql import _redact_values

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    sqlstate = getattr(getattr(exc, "diag", None), "sqlstate", None) or getattr(
        exc, "sqlstate", None
    )
    if sqlstate == "57014":  # query_canceled: the statement timeout fired
        return InputLimitError(
            f"the database read took longer than {limits.PG_STATEMENT_TIMEOUT_SECONDS:g} s "
            "(workbench.loading.limits.PG_STATEMENT_TIMEOUT_SECONDS)",
            where,
        )
    # server messages can quote a value ("invalid input syntax for type integer: \"...\"")
    message = _redact_values(first, "")
    message = re.sub(r'"[^"]*"', '"..."', message)
    return LoadError(f"the database refused the read: {message}", where)


def load_postgres(url: str, *, name: str | None = None, department: str | None = None) -> Dataset:
    """A lazy :class:`Dataset` over a PostgreSQL table or query (see the module docstring).

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/database?table=schema.name`` or ``...?query=SELECT ...``
        (URL-encoded). Further libpq parameters: ``sslmode``, ``sslrootcert``, ``sslcert``,
        ``sslkey``, ``connect_timeout``; ``host`` may name a Unix socket directory.
    name, department : str, optional
        As for :func:`workbench.loading.readers.load`; the name defaults to the table name.

    Returns
    -------
    Dataset
        ``data`` is an Ibis table (narwhals runs GROUP BYs in PostgreSQL); ``n_rows`` and the
        fingerprint come from one aggregate query.
    """
    ibis = require("ibis", "a PostgreSQL source")
    require("psycopg", "a PostgreSQL source")
    where = redact_url(url)
    kwargs, table, query = _connect_args(url)
    if table is not None:
        check_table_name(table)
    else:
        check_query(query or "")
    try:
        con = ibis.postgres.connect(**kwargs)
    except Exception as exc:  # psycopg.OperationalError, DNS, auth: one typed error
        raise _database_error(exc, where) from None
    try:
        if table is not None:
            schema, _, tname = table.rpartition(".")
            tab = con.table(tname, database=schema or None)
            relation = _quote_table(table)
        else:
            # Ibis infers a query's schema through a temporary view, which a read-only
            # session may not create: ask the server for the result's column types instead
            tab = con.sql(query, schema=_query_schema(con, query), dialect="postgres")
            relation = f"({query})"
        n_rows, fingerprint = _count_and_fingerprint(con, relation)
        schema_map = tab.schema()
    except LoadError:
        raise
    except Exception as exc:  # every driver error becomes one typed error
        raise _database_error(exc, where) from None
    types = {str(c): str(t) for c, t in schema_map.items()}
    info = {
        "format": "postgresql",
        "fingerprint": "sha256 over the sorted md5 of each row's text, computed in PostgreSQL",
        "table": table,
        "query": None if query is None else "<query>",
    }
    return Dataset(
        data=tab,
        name=name or (table.rpartition(".")[2] if table else "query"),
        department=department,
        source=where,
        sha256=fingerprint,
        n_rows=n_rows,
        column_types=MappingProxyType(types),
        options=MappingProxyType(info),
    )


def _quote_table(table: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in table.split("."))


def _count_and_fingerprint(con: Any, relation: str) -> tuple[int, str]:
    """Record count and order-independent content fingerprint, in one scan in the database."""
    sql = (
        "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg(h, '' ORDER BY h), ''),"
        " 'UTF8')), 'hex') FROM (SELECT md5(__r::text) AS h FROM "
        f"{relation} AS __r) AS __h"
    )
    with con.raw_sql(sql) as cur:
        n, digest = cur.fetchone()
    return int(n), str(digest)


def _query_schema(con: Any, query: str) -> dict[str, Any]:
    """Column name -> Ibis type of ``query``'s result, from a zero-row execution."""
    from ibis.backends.sql.datatypes import PostgresType

    with con.raw_sql(f"SELECT * FROM ({query}) AS __q LIMIT 0") as cur:
        described = [(d.name, d.type_code) for d in cur.description]
    oids = [int(oid) for _, oid in described]
    with con.raw_sql(
        "SELECT format_type(o, NULL) FROM unnest(%s::oid[]) WITH ORDINALITY AS u(o, i) ORDER BY i",
        params=(oids,),
    ) as cur:
        names = [row[0] for row in cur.fetchall()]
    return {col: PostgresType.from_string(t) for (col, _), t in zip(described, names, strict=True)}
