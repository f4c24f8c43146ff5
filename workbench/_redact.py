"""How a data source is named in messages: never a password, never a query's literals.

A source is a file path, SQL text or a database URL. SQL text (and a URL's ``query``) may carry
literal values (``WHERE name = '...'``) and a URL may carry a password, so every error message
and progress line names a source through :func:`display_source`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["DATABASE_SCHEMES", "display_source", "is_database_url", "redact_url"]

#: URL schemes read as a database source (one rule for the loader, the gate and messages)
DATABASE_SCHEMES = ("postgresql", "postgres")
_SQL_STARTS = ("select", "with", "from", "(")


def redact_url(url: str) -> str:
    """``url`` without its password and without a ``query`` parameter's text."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    if parts.username:
        netloc = f"{unquote(parts.username)}@{netloc}"
    params = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password":
            continue
        params.append(f"{key}=<query>" if key == "query" else f"{key}={value}")
    query = ("?" + "&".join(params)) if params else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def is_database_url(source: object) -> bool:
    """True when ``source`` is a ``postgresql://`` (or ``postgres://``) URL."""
    if not isinstance(source, str) or "://" not in source:
        return False
    return source.strip().split("://", 1)[0].lower() in DATABASE_SCHEMES


def display_source(source: object) -> str:
    """The name of ``source`` safe to print: a path as is, a URL redacted, SQL as ``query``."""
    text = str(source)
    low = text.lstrip().lower()
    if is_database_url(text):
        return redact_url(text.strip())
    if low.startswith(_SQL_STARTS) and any(ch.isspace() for ch in text.strip()):
        return "query"
    return text
