"""Keyed pseudonyms: the one key rule and the one HMAC every caller uses.

A pseudonym is the hex HMAC-SHA256 of a normalised value under a secret key (Krawczyk, Bellare &
Canetti 1997, RFC 2104; SHA-256, FIPS 180-4), truncated to 16 hex characters (64 bits) by
default. Without the key nobody can recompute it from a guessed name or id (an unkeyed hash of
an e-mail can be reversed by hashing a list of e-mails); with the same key two departments get
the same pseudonym for the same person, so authorised joins work.

The key rule, the same for the transform, ``anonymize``, ``samples export`` and the tuner:

* an explicitly named key file wins (the explicit argument beats the ambient environment);
  a named file that is missing or empty is an error, never a silent fall-back;
* otherwise the environment variable (``WORKBENCH_PSEUDONYM_KEY`` unless told otherwise);
* surrounding whitespace is stripped, so ``echo key > file`` and ``export VAR=key`` agree;
* keys shorter than :data:`MIN_KEY_BYTES` bytes are refused (their value is never shown).

The key is never stored on an object, logged or written to provenance: only its source name
(``env:WORKBENCH_PSEUDONYM_KEY`` or ``file:PATH``) is.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import KeyMissingError, ParameterError

__all__ = [
    "DEFAULT_KEY_ENV",
    "MIN_KEY_BYTES",
    "PSEUDONYM_LENGTH",
    "load_pseudonym_key",
    "pseudonymize_values",
    "pseudonym_collision_probability",
]

DEFAULT_KEY_ENV = "WORKBENCH_PSEUDONYM_KEY"
"""Environment variable holding the shared pseudonymization key."""

MIN_KEY_BYTES = 16
"""Shortest accepted key (128 bits); shorter keys make the pseudonyms guessable by brute force."""

PSEUDONYM_LENGTH = 16
"""Default pseudonym length in hex characters (64 bits; see pseudonym_collision_probability)."""


def load_pseudonym_key(
    env_var: str = DEFAULT_KEY_ENV, key_file: str | Path | None = None
) -> tuple[bytes, str]:
    """Read the pseudonymization key; return ``(key, source)`` where source is only a name.

    A named ``key_file`` wins over the environment variable ``env_var`` (see the module
    docstring for why); the key must hold at least :data:`MIN_KEY_BYTES` bytes.

    Raises
    ------
    KeyMissingError
        The named key file does not exist or is empty, or (no key file) the environment
        variable is unset; the message names both sources.
    ParameterError
        The key is shorter than :data:`MIN_KEY_BYTES` bytes (its value is not shown).
    """
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise KeyMissingError(
                f"pseudonymization key file {str(path)!r} does not exist (a named key file wins "
                f"over the environment variable {env_var}, so it must exist)"
            )
        key = path.read_bytes().strip()
        if not key:
            raise KeyMissingError(f"pseudonymization key file {str(path)!r} is empty")
        source = f"file:{path}"
    else:
        value = os.environ.get(env_var, "")
        if not value.strip():
            raise KeyMissingError(
                f"pseudonymization key not found: set the environment variable {env_var} or "
                f"name a key file (--key-file) holding at least {MIN_KEY_BYTES} bytes"
            )
        key, source = value.strip().encode("utf-8"), f"env:{env_var}"
    if len(key) < MIN_KEY_BYTES:
        raise ParameterError(
            "pseudonymization key",
            f"<{len(key)} bytes from {source}>",
            f"at least {MIN_KEY_BYTES} bytes",
        )
    return key, source


def _normalise(value: Any, strip: bool, casefold: bool) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFC", str(value))
    if strip:
        text = text.strip()
    if casefold:
        text = text.casefold()
    return text or None


def pseudonymize_values(
    values: Iterable[Any],
    key: bytes,
    length: int = PSEUDONYM_LENGTH,
    strip: bool = True,
    casefold: bool = False,
) -> list[str | None]:
    """Keyed pseudonyms: hex of HMAC-SHA256(key, normalised value), truncated to ``length``.

    Values are turned into text (``str``), Unicode NFC-normalised, optionally stripped and
    casefolded; missing or empty values stay missing (hashing them would join every blank).

    Examples
    --------
    >>> pseudonymize_values(["R000042", None], b"0123456789abcdef")[1] is None
    True
    """
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 64:
        raise ParameterError("length", length, "an integer between 1 and 64 hex characters")
    if len(key) < MIN_KEY_BYTES:
        raise ParameterError(
            "pseudonymization key", f"<{len(key)} bytes>", f"at least {MIN_KEY_BYTES} bytes"
        )
    out: list[str | None] = []
    cache: dict[str, str] = {}
    for v in values:
        text = _normalise(v, strip, casefold)
        if text is None:
            out.append(None)
            continue
        p = cache.get(text)
        if p is None:
            p = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
            cache[text] = p
        out.append(p)
    return out


def pseudonym_collision_probability(n: int, length: int = PSEUDONYM_LENGTH) -> float:
    """Probability that some two of ``n`` distinct identifiers share a truncated pseudonym.

    Birthday bound for ``4 * length`` random bits: ``1 - exp(-n (n - 1) / 2^(4 length + 1))``.
    For the default 16 hex characters (64 bits) and one million identifiers this is about
    2.7e-8; for ten million about 2.7e-6.
    """
    bits = 4 * int(length)
    return float(-math.expm1(-(n * (n - 1) / 2.0) / 2.0**bits))
