"""Ed25519 keys and signatures: the one place the workbench loads, uses and publishes them.

Why Ed25519: a hash chain alone is unkeyed, so anyone who can write the log can edit a record and
re-hash everything after it. A signature made with a private key kept *outside* the log cannot be
redone without that key, and the matching public key can be published so that anyone can check.

The functions take keys explicitly so that several signers can coexist (the provenance log, a
differential-privacy ledger, each member of an oversight board with their own key); only
:func:`load_signing_key` looks at the environment.

Where a private key comes from (one precedence rule)
-----------------------------------------------------
1. an explicit ``key_file`` argument (``--key-file``), when given: it must be readable;
2. otherwise the environment variable (``WORKBENCH_PROVENANCE_KEY`` for provenance), whose value
   is either the PEM text itself (it starts with ``-----BEGIN``), or the base64 of the 32-byte raw
   private key, or else the path of a key file;
3. otherwise there is no key and the caller decides (the provenance log then writes unsigned
   records and says "unsigned" wherever it is verified or shown).

An explicit file wins over the environment so that a signer who names their own key is never
silently signed for by the ambient provenance key. A key file holds a PKCS#8 PEM private key (what
``workbench provenance keygen`` writes, mode 0600) or the base64 raw key. Key material is never
logged, printed or put in an error message; errors name only the variable or the file.

Public keys are published as the base64 of their 32 raw bytes; a *fingerprint*
(``ed25519:`` and the first 32 hex digits of its SHA-256) names a key in messages.

Examples
--------
>>> key = generate_signing_key()
>>> sig = key.sign(b"record")
>>> verify_signature(key.public_key, b"record", sig)
True
>>> verify_signature(key.public_key, b"edited", sig)
False
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._lazy import lazy_module
from ..errors import KeyMissingError, ParameterError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# imported when a key is used: most commands record provenance without signing
serialization = lazy_module("cryptography.hazmat.primitives.serialization")
_ed25519 = lazy_module("cryptography.hazmat.primitives.asymmetric.ed25519")
_crypto_exceptions = lazy_module("cryptography.exceptions")

__all__ = [
    "PROVENANCE_KEY_ENV",
    "SigningKey",
    "generate_signing_key",
    "is_inline_key",
    "load_signing_key",
    "parse_private_key",
    "load_public_key",
    "public_key_text",
    "fingerprint",
    "sign",
    "verify_signature",
    "write_private_key",
]

PROVENANCE_KEY_ENV = "WORKBENCH_PROVENANCE_KEY"
MAX_KEY_FILE_BYTES = 16_384
_RAW_B64_RE = re.compile(r"^[A-Za-z0-9+/]{43}=$")


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and where it came from (a name, never the key itself).

    ``repr`` shows only the source and the public fingerprint, so a key in a traceback or a log
    line does not leak.
    """

    private: Ed25519PrivateKey = field(repr=False)
    source: str = "generated"

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching public key (safe to publish)."""
        return self.private.public_key()

    @property
    def public_text(self) -> str:
        """Base64 of the 32 raw public-key bytes: the form the workbench publishes and records."""
        return public_key_text(self.public_key)

    @property
    def fingerprint(self) -> str:
        """Short name of the public key for messages."""
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> str:
        """Base64 Ed25519 signature of ``data``."""
        return sign(self.private, data)

    def __repr__(self) -> str:
        return f"SigningKey(source={self.source!r}, fingerprint={self.fingerprint!r})"


def generate_signing_key() -> SigningKey:
    """A fresh random key (``source='generated'``)."""
    return SigningKey(_ed25519.Ed25519PrivateKey.generate(), "generated")


def public_key_text(public: Ed25519PublicKey) -> str:
    """Base64 of the raw 32-byte public key."""
    return base64.b64encode(public.public_bytes_raw()).decode("ascii")


def fingerprint(public: Ed25519PublicKey | str) -> str:
    """``ed25519:`` + the first 32 hex digits of the SHA-256 of the raw public key."""
    if isinstance(public, str):
        public = load_public_key(public)
    return "ed25519:" + hashlib.sha256(public.public_bytes_raw()).hexdigest()[:32]


def sign(private: Ed25519PrivateKey | SigningKey, data: bytes) -> str:
    """Sign ``data``; the signature is returned as base64 text."""
    key = private.private if isinstance(private, SigningKey) else private
    return base64.b64encode(key.sign(data)).decode("ascii")


def verify_signature(public: Ed25519PublicKey | str, data: bytes, signature: object) -> bool:
    """``True`` when ``signature`` (base64 text) is ``public``'s signature of ``data``.

    Anything malformed (not text, not base64, wrong length, a bad public key) is simply an invalid
    signature: verification fails closed and never raises on hostile input.
    """
    if not isinstance(signature, str) or len(signature) > 200:
        return False
    try:
        pub = load_public_key(public) if isinstance(public, str) else public
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        pub.verify(raw, data)
    except (
        _crypto_exceptions.InvalidSignature,
        ValueError,
        UnicodeEncodeError,
        binascii.Error,
        KeyMissingError,
    ):
        return False
    return True


def parse_private_key(content: bytes, source: str) -> SigningKey:
    """Parse a PKCS#8 PEM Ed25519 private key or the base64 of its 32 raw bytes.

    ``source`` names where the bytes came from (``env:VAR`` or ``file:PATH``) for messages; the
    bytes themselves never appear in an error.
    """
    text = content.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError):
            raise ParameterError(
                "provenance key", f"<PEM from {source}>", "an unencrypted PKCS#8 PEM private key"
            ) from None
        if not isinstance(key, _ed25519.Ed25519PrivateKey):
            raise ParameterError(
                "provenance key", f"<{type(key).__name__} from {source}>", "an Ed25519 key"
            )
        return SigningKey(key, source)
    if _RAW_B64_RE.match(text.decode("ascii", errors="replace")):
        return SigningKey(
            _ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(text)), source
        )
    raise ParameterError(
        "provenance key",
        f"<{len(text)} bytes from {source}>",
        "a PKCS#8 PEM Ed25519 private key or the base64 of its 32 raw bytes",
    )


def _read_key_file(path: Path, what: str, *, private: bool = True) -> bytes:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise KeyMissingError(f"{what}: key file {str(path)!r} is not a regular file")
        if st.st_size > MAX_KEY_FILE_BYTES:
            raise KeyMissingError(
                f"{what}: key file {str(path)!r} is {st.st_size} bytes; a key file holds one "
                f"key (at most {MAX_KEY_FILE_BYTES} bytes)"
            )
        content = path.read_bytes()
    except OSError as exc:
        raise KeyMissingError(
            f"{what}: key file {str(path)!r} cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    if private and os.name == "posix" and st.st_mode & 0o077:
        warnings.warn(
            f"key file {str(path)!r} is readable by other users (mode {oct(st.st_mode & 0o777)}); "
            "anyone who can read it can sign as you: chmod 600 it",
            UserWarning,
            stacklevel=3,
        )
    return content


def is_inline_key(value: str) -> bool:
    """Whether an environment value holds key material itself (PEM or base64), not a path."""
    value = value.strip()
    return value.startswith("-----BEGIN") or bool(_RAW_B64_RE.match(value))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # too long for a file name, or a NUL byte: not a path
        return False


def load_signing_key(
    env_var: str = PROVENANCE_KEY_ENV,
    key_file: str | os.PathLike | None = None,
    *,
    required: bool = False,
) -> SigningKey | None:
    """Load a private key: explicit ``key_file`` first, else ``env_var`` (PEM, base64 or path).

    Returns ``None`` when neither is set (or raises :class:`KeyMissingError` if ``required``).
    Other signers (a DP ledger, an oversight member) pass their own variable name or file.
    """
    if key_file is not None:
        path = Path(key_file)
        return parse_private_key(_read_key_file(path, "signing key"), f"file:{path}")
    value = os.environ.get(env_var, "").strip()
    if not value:
        if required:
            raise KeyMissingError(
                f"signing key not found: environment variable {env_var} is not set and no key "
                f"file was given; create one with 'workbench provenance keygen --out KEYFILE' and "
                f"set {env_var}=KEYFILE"
            )
        return None
    if is_inline_key(value):
        return parse_private_key(value.encode("utf-8"), f"env:{env_var}")
    path = Path(value).expanduser()
    if not _exists(path):
        raise KeyMissingError(
            f"signing key not found: {env_var} holds neither a PEM key, nor a base64 raw key, "
            f"nor the path of an existing key file"
        )
    return parse_private_key(_read_key_file(path, env_var), f"file:{path}")


def load_public_key(value: str | os.PathLike | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from base64 raw text, PEM text, or the path of a file holding either.

    Raises :class:`KeyMissingError` when ``value`` is none of these.
    """
    if isinstance(value, _ed25519.Ed25519PublicKey):
        return value
    text = os.fspath(value).strip()
    if not text.startswith("-----BEGIN") and not _RAW_B64_RE.match(text):
        path = Path(text).expanduser()
        if not _exists(path) or not path.is_file():
            raise KeyMissingError(
                "public key is neither a base64 Ed25519 public key, a PEM public key, nor the "
                "path of an existing file"
            )
        text = (
            _read_key_file(path, "public key", private=False)
            .decode("utf-8", errors="replace")
            .strip()
        )
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(key, _ed25519.Ed25519PublicKey):
                raise ValueError("not Ed25519")
            return key
        if _RAW_B64_RE.match(text):
            return _ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
    except (ValueError, UnicodeEncodeError):
        pass
    raise KeyMissingError(
        "public key is not an Ed25519 public key (expected the base64 of 32 raw bytes, as printed "
        "by 'workbench provenance keygen', or a PEM public key)"
    )


def write_private_key(key: SigningKey, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``key`` as PKCS#8 PEM readable only by its owner (mode 0600).

    Refuses to replace an existing file unless ``overwrite``: losing a signing key means old
    signatures can no longer be extended.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise ParameterError("--out", str(target), "a path that does not exist yet (or --force)")
    target.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, pem)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
