"""Encryption at rest: AES-256-GCM in authenticated chunks, streamed (the one place it happens).

Why: a policy with ``encryption_at_rest: true`` covers data whose very existence can endanger
residents; a copy of a release left on a shared drive or a laptop must be unreadable without the
key. AES-GCM (NIST SP 800-38D) through ``cryptography`` authenticates as it encrypts, so an edited
byte is detected, not silently decrypted into a wrong table.

Container format (version 1; all integers big-endian)
-----------------------------------------------------
Header, 44 bytes::

    magic      8 bytes  b"WBENC\\x00\\x01\\n"
    version    1 byte   1
    chunk_size 4 bytes  plaintext bytes per chunk (the last chunk may be shorter, even empty)
    key_id    15 bytes  first 15 bytes of SHA-256(b"workbench-encryption-key-id\\0" + key):
                        names the key so a wrong key is told apart from damage; not the key
    file_id   16 bytes  random; binds every chunk to this file (no splicing between files)

Then chunks, each::

    nonce      12 bytes random (a fresh nonce per chunk)
    length      4 bytes length of the ciphertext that follows (plaintext + 16-byte tag)
    ciphertext

The associated data of chunk ``i`` is ``header + i (8 bytes) + final (1 byte)``, so chunks cannot
be reordered (the index would not match), dropped from the end (the last chunk read would not
carry the final flag) or moved between files (the header would not match). A file always ends
with exactly one final chunk; bytes after it are refused.

Where the key comes from (the rule of the pseudonym and provenance keys)
------------------------------------------------------------------------
1. an explicit key file (``key_file=``; the CLI's ``workbench --encryption-key-file PATH``) wins;
   a named file that is missing or empty is an error, never a silent fall-back;
2. otherwise ``WORKBENCH_ENCRYPTION_KEY``: the base64 of 32 random bytes, or the path of a key
   file holding that text.

A key file holds the base64 text of 32 random bytes (``workbench provenance keygen`` is for
signing keys; make this one with ``python -c "import os,base64;
print(base64.b64encode(os.urandom(32)).decode())" > key``). The key is never stored with the
data, on an object's ``repr``, in a log or in provenance: only its source name and key id are.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import hashlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import (
    DecryptionError,
    EncryptionRequiredError,
    InputLimitError,
    KeyMissingError,
    TamperedFileError,
    TruncatedFileError,
    WrongKeyError,
)

__all__ = [
    "ENCRYPTION_KEY_ENV",
    "ENCRYPTED_SUFFIX",
    "MAGIC",
    "EncryptionKey",
    "EncryptingWriter",
    "generate_key_text",
    "load_encryption_key",
    "is_encrypted",
    "decrypt_stream",
    "decrypt_file_bytes",
    "encrypt_file",
    "content_sha256",
    "encryption_required",
    "required_by",
    "encryption_key_file",
    "transient_key",
]

ENCRYPTION_KEY_ENV = "WORKBENCH_ENCRYPTION_KEY"
ENCRYPTED_SUFFIX = ".enc"
MAGIC = b"WBENC\x00\x01\n"
VERSION = 1
CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 1 << 26
_HEADER = struct.Struct(">8sBI15s16s")
_CHUNK_HEAD = struct.Struct(">12sI")
_TAG = 16
_KEY_ID_CONTEXT = b"workbench-encryption-key-id\0"
MAX_KEY_FILE_BYTES = 4096
MAX_DECRYPTED_BYTES = 2 << 30
"""An encrypted table is decrypted in memory to be loaded; larger ones are refused."""


@dataclass(frozen=True)
class EncryptionKey:
    """A 256-bit AES key and where it came from (``repr`` shows only the source and key id)."""

    key: bytes = field(repr=False)
    source: str = "given"

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise KeyMissingError(
                f"encryption key from {self.source} must be 32 bytes (256 bits), "
                f"got {len(self.key)}"
            )

    @property
    def key_id(self) -> bytes:
        """Names the key in file headers and messages; reveals nothing about it (a hash)."""
        return hashlib.sha256(_KEY_ID_CONTEXT + self.key).digest()[:15]

    @property
    def key_id_text(self) -> str:
        return self.key_id.hex()

    def __repr__(self) -> str:
        return f"EncryptionKey(source={self.source!r}, key_id={self.key_id_text!r})"


def generate_key_text() -> str:
    """A fresh key as the base64 text a key file or the environment variable holds."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def _parse_key_text(text: bytes, source: str) -> EncryptionKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyMissingError(
            f"encryption key from {source} is not base64 text (expected the base64 of 32 "
            "random bytes)"
        ) from None
    return EncryptionKey(raw, source)


def _read_key_file(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise KeyMissingError(
            f"encryption key file {str(path)!r} does not exist ({what}; a named key file must "
            "exist: it is never replaced by the environment)"
        )
    if path.stat().st_size > MAX_KEY_FILE_BYTES:
        raise KeyMissingError(f"encryption key file {str(path)!r} is too large to be a key")
    data = path.read_bytes().strip()
    if not data:
        raise KeyMissingError(f"encryption key file {str(path)!r} is empty")
    return data


_KEY_FILE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "workbench_encryption_key_file", default=None
)


@contextlib.contextmanager
def encryption_key_file(path: str | os.PathLike | None) -> Iterator[None]:
    """Use this key file for every read and write in the block (the CLI's global option)."""
    token = _KEY_FILE.set(None if path is None else str(path))
    try:
        yield
    finally:
        _KEY_FILE.reset(token)


_TRANSIENT: contextvars.ContextVar[EncryptionKey | None] = contextvars.ContextVar(
    "workbench_transient_key", default=None
)


@contextlib.contextmanager
def transient_key() -> Iterator[EncryptionKey]:
    """A fresh random key for scratch files written and read back inside this block.

    For internal extracts that never leave a call (the demo bundle's linkage scoring): they are
    still encrypted on disk, and the key dies with the block, so nothing can read them later.
    """
    key = EncryptionKey(os.urandom(32), "transient")
    token = _TRANSIENT.set(key)
    try:
        yield key
    finally:
        _TRANSIENT.reset(token)


def load_encryption_key(
    key_file: str | os.PathLike | None = None, env_var: str = ENCRYPTION_KEY_ENV
) -> EncryptionKey:
    """Read the key by the rule of the module docstring; raises :class:`KeyMissingError`.

    Inside :func:`transient_key` (and without an explicit ``key_file``) the transient key wins.
    """
    if key_file is None and _TRANSIENT.get() is not None:
        return _TRANSIENT.get()
    named = key_file if key_file is not None else _KEY_FILE.get()
    if named is not None:
        path = Path(named)
        return _parse_key_text(_read_key_file(path, "named key file"), f"file:{path}")
    value = os.environ.get(env_var, "").strip()
    if not value:
        raise KeyMissingError(
            f"encryption key not found: set the environment variable {env_var} (the base64 of "
            "32 random bytes, or the path of a file holding it) or name a key file "
            "(workbench --encryption-key-file PATH)"
        )
    try:
        return _parse_key_text(value.encode("ascii"), f"env:{env_var}")
    except (KeyMissingError, UnicodeEncodeError):
        path = Path(value)
        if len(value) < 4096 and path.is_file():
            return _parse_key_text(_read_key_file(path, env_var), f"file:{path}")
        raise KeyMissingError(
            f"the environment variable {env_var} holds neither the base64 of a 32-byte key "
            "nor the path of a key file"
        ) from None


# --- which outputs must be encrypted ---------------------------------------------------------

_REQUIRED: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "workbench_encryption_required", default=()
)


@contextlib.contextmanager
def encryption_required(*reasons: str) -> Iterator[None]:
    """Every table written in this block is encrypted; ``reasons`` say why (policy names).

    The CLI enters it when a policy in force has ``encryption_at_rest: true`` or an input is
    itself encrypted; :func:`workbench._io.write_table` then refuses to write plaintext.
    """
    token = _REQUIRED.set(_REQUIRED.get() + tuple(r for r in reasons if r))
    try:
        yield
    finally:
        _REQUIRED.reset(token)


def required_by() -> tuple[str, ...]:
    """Why outputs must be encrypted here (empty: they need not be)."""
    return _REQUIRED.get()


def key_for_output(path: str | os.PathLike, reasons: tuple[str, ...]) -> EncryptionKey:
    """The key an output that must be encrypted is written with; refuses plaintext without one."""
    try:
        return load_encryption_key()
    except KeyMissingError as exc:
        raise EncryptionRequiredError(
            f"{path}: refusing to write plaintext: {', '.join(reasons)} requires encryption at "
            f"rest, and {exc}"
        ) from None


# --- writing ---------------------------------------------------------------------------------


class EncryptingWriter(io.RawIOBase):
    """A binary, write-only file object that encrypts what is written, chunk by chunk.

    At most one chunk of plaintext is held in memory, so a large table streams through.
    :meth:`close` writes the final chunk; :meth:`abort` (on an exception) writes none, so the
    partial file can never be read as complete.
    """

    def __init__(self, raw: IO[bytes], key: EncryptionKey, chunk_size: int | None = None) -> None:
        super().__init__()
        chunk_size = CHUNK_SIZE if chunk_size is None else chunk_size
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError("chunk_size out of range")
        self._raw = raw
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key.key)
        self._chunk = chunk_size
        self._header = _HEADER.pack(MAGIC, VERSION, chunk_size, key.key_id, os.urandom(16))
        self._raw.write(self._header)
        self._buf = bytearray()
        self._index = 0
        self._count = 0
        self._digest = hashlib.sha256()
        self._finished = False

    def writable(self) -> bool:
        return True

    def tell(self) -> int:  # pyarrow asks where it is in the (plaintext) stream
        return self._count

    def write(self, data: Any) -> int:
        b = bytes(data)
        self._buf += b
        self._count += len(b)
        self._digest.update(b)
        while len(self._buf) > self._chunk:  # keep >= 1 byte back: the last chunk is final
            self._emit(bytes(self._buf[: self._chunk]), final=False)
            del self._buf[: self._chunk]
        return len(b)

    def _emit(self, plain: bytes, final: bool) -> None:
        nonce = os.urandom(12)
        aad = self._header + struct.pack(">QB", self._index, int(final))
        ct = self._aead.encrypt(nonce, plain, aad)
        self._raw.write(_CHUNK_HEAD.pack(nonce, len(ct)))
        self._raw.write(ct)
        self._index += 1

    @property
    def content_sha256(self) -> str:
        """SHA-256 of the plaintext written so far (what a replay compares)."""
        return self._digest.hexdigest()

    def abort(self) -> None:
        """Close without the final chunk: the partial file can never be read as complete."""
        self._finished = True
        self._buf.clear()
        super().close()

    def close(self) -> None:
        if not self.closed and not self._finished:
            self._finished = True
            self._emit(bytes(self._buf), final=True)
            self._buf.clear()
        super().close()


def encrypt_file(
    plain: str | os.PathLike, out: str | os.PathLike, key: EncryptionKey, chunk: int = CHUNK_SIZE
) -> str:
    """Encrypt a file into ``out`` (streamed); returns the plaintext's SHA-256."""
    with open(out, "wb") as raw, open(plain, "rb") as src:
        w = EncryptingWriter(raw, key, chunk)
        while block := src.read(chunk):
            w.write(block)
        w.close()
        return w.content_sha256


# --- reading ---------------------------------------------------------------------------------


def is_encrypted(path: str | os.PathLike) -> bool:
    """Whether the file starts with the container's magic bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    return data if data is not None else b""


def decrypt_stream(
    src: IO[bytes], key: EncryptionKey, where: str, max_bytes: int | None = None
) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, after each chunk is authenticated.

    Raises :class:`WrongKeyError`, :class:`TamperedFileError` or :class:`TruncatedFileError`
    naming ``where`` (and a chunk index), never content.
    """
    header = _read_exact(src, _HEADER.size)
    if len(header) < _HEADER.size or not header.startswith(MAGIC):
        raise DecryptionError("not a workbench encrypted file (bad header)", where)
    _, version, chunk_size, key_id, _ = _HEADER.unpack(header)
    if version != VERSION:
        raise DecryptionError(f"encrypted-file version {version} is not supported (1)", where)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise TamperedFileError("the header's chunk size is out of range", where)
    if key_id != key.key_id:
        raise WrongKeyError(
            f"encrypted with key id {key_id.hex()}, but the key from {key.source} has key id "
            f"{key.key_id_text}",
            where,
        )
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key.key)
    index = 0
    total = 0
    while True:
        head = _read_exact(src, _CHUNK_HEAD.size)
        if not head:
            raise TruncatedFileError(f"ends after chunk {index - 1} without its final chunk", where)
        if len(head) < _CHUNK_HEAD.size:
            raise TruncatedFileError(f"chunk {index} is cut short", where)
        nonce, length = _CHUNK_HEAD.unpack(head)
        if not _TAG <= length <= chunk_size + _TAG:
            raise TamperedFileError(f"chunk {index} has an impossible length", where)
        ct = _read_exact(src, length)
        if len(ct) < length:
            raise TruncatedFileError(f"chunk {index} is cut short", where)
        plain = None
        for final in (False, True):
            aad = header + struct.pack(">QB", index, int(final))
            try:
                plain = aead.decrypt(nonce, ct, aad)
                break
            except InvalidTag:
                continue
        if plain is None:
            raise TamperedFileError(
                f"chunk {index} fails authentication (edited, reordered or from another file)",
                where,
            )
        total += len(plain)
        if max_bytes is not None and total > max_bytes:
            raise InputLimitError(
                f"the decrypted content exceeds {max_bytes} bytes (loaded in memory)", where
            )
        yield plain
        index += 1
        if final:
            if src.read(1):
                raise TamperedFileError(f"bytes follow the final chunk {index - 1}", where)
            return


def _key_to_read(path: str | os.PathLike) -> EncryptionKey:
    try:
        return load_encryption_key()
    except KeyMissingError as exc:
        raise KeyMissingError(f"{path} is encrypted at rest and needs its key: {exc}") from None


def decrypt_file_bytes(
    path: str | os.PathLike, key: EncryptionKey | None = None, max_bytes: int | None = None
) -> bytes:
    """The whole plaintext of an encrypted file (the loader parses it in memory)."""
    key = key or _key_to_read(path)
    with open(path, "rb") as fh:
        return b"".join(decrypt_stream(fh, key, str(path), max_bytes))


def content_sha256(path: str | os.PathLike, key: EncryptionKey | None = None) -> str:
    """SHA-256 of an encrypted file's plaintext: equal for two runs whose nonces differ."""
    key = key or _key_to_read(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in decrypt_stream(fh, key, str(path)):
            h.update(block)
    return h.hexdigest()


def inner_suffix(path: str | os.PathLike) -> str:
    """The data format's suffix of ``x.csv.enc`` (``.csv``); a name without ``.enc`` is kept."""
    p = Path(path)
    if p.suffix.lower() == ENCRYPTED_SUFFIX:
        return Path(p.stem).suffix.lower()
    return p.suffix.lower()
