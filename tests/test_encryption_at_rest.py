"""Encryption at rest: the chunked AES-GCM container, the release writer, load and the CLI.

Every attack on the container (wrong key, an edited byte, a cut file, reordered or spliced
chunks, a missing key) must end in a typed error that names the file and never shows content.
"""

from __future__ import annotations

import base64
import io
import os
import struct
from pathlib import Path

import pandas as pd
import pytest

from workbench import _crypto
from workbench._crypto import (
    ENCRYPTION_KEY_ENV,
    EncryptingWriter,
    EncryptionKey,
    content_sha256,
    decrypt_file_bytes,
    encryption_required,
    generate_key_text,
    load_encryption_key,
)
from workbench._io import write_table
from workbench.errors import (
    DecryptionError,
    EncryptionRequiredError,
    KeyMissingError,
    TamperedFileError,
    TruncatedFileError,
    WrongKeyError,
)
from workbench.loading.readers import load

SECRET = "Zebra-Quokka-77"  # a cell value that must never appear in a message


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> EncryptionKey:
    text = generate_key_text()
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, text)
    return EncryptionKey(base64.b64decode(text), "test")


def _encrypt(data: bytes, key: EncryptionKey, chunk: int) -> bytes:
    buf = io.BytesIO()
    w = EncryptingWriter(buf, key, chunk)
    w.write(data)
    w.close()
    return buf.getvalue()


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Split a container into its header and its raw chunks (nonce + length + ciphertext)."""
    header, rest, out = blob[:44], blob[44:], []
    while rest:
        (length,) = struct.unpack(">I", rest[12:16])
        out.append(rest[: 16 + length])
        rest = rest[16 + length :]
    return header, out


def _read(blob: bytes, key: EncryptionKey) -> bytes:
    return b"".join(_crypto.decrypt_stream(io.BytesIO(blob), key, "t.csv.enc"))


@pytest.mark.parametrize(
    ("size", "chunk", "n_chunks"),
    # a chunk boundary exactly at the end keeps the last chunk non-empty (final carries data),
    # one byte more opens a new final chunk; empty content is one empty final chunk
    [(0, 4, 1), (1, 4, 1), (4, 4, 1), (5, 4, 2), (8, 4, 2), (9, 4, 3), (1000, 7, 143)],
)
def test_round_trip_at_chunk_edges(key: EncryptionKey, size: int, chunk: int, n_chunks: int):
    data = os.urandom(size)
    blob = _encrypt(data, key, chunk)
    assert blob.startswith(_crypto.MAGIC)
    assert len(_chunks(blob)[1]) == n_chunks
    assert _read(blob, key) == data


def test_nonces_differ_but_content_hash_is_equal(key: EncryptionKey, tmp_path: Path):
    a, b = _encrypt(b"same table", key, 4), _encrypt(b"same table", key, 4)
    assert a != b  # fresh file id and nonces
    (tmp_path / "a.enc").write_bytes(a)
    (tmp_path / "b.enc").write_bytes(b)
    assert content_sha256(tmp_path / "a.enc", key) == content_sha256(tmp_path / "b.enc", key)


def test_wrong_key(key: EncryptionKey):
    blob = _encrypt(SECRET.encode(), key, 4)
    other = EncryptionKey(os.urandom(32), "other")
    with pytest.raises(WrongKeyError) as err:
        _read(blob, other)
    assert "t.csv.enc" in str(err.value) and SECRET not in str(err.value)


def test_tampered_byte_in_every_chunk_is_detected(key: EncryptionKey):
    blob = _encrypt(SECRET.encode() * 3, key, 8)
    header, chunks = _chunks(blob)
    for i in range(len(chunks)):
        bad = bytearray(chunks[i])
        bad[-1] ^= 1
        edited = header + b"".join(chunks[:i]) + bytes(bad) + b"".join(chunks[i + 1 :])
        with pytest.raises(TamperedFileError, match=f"chunk {i} ") as err:
            _read(edited, key)
        assert SECRET not in str(err.value)


def test_edited_header_is_detected(key: EncryptionKey):
    blob = bytearray(_encrypt(b"abcdefgh", key, 4))
    blob[30] ^= 1  # inside the file id: authenticated as associated data of every chunk
    with pytest.raises(TamperedFileError):
        _read(bytes(blob), key)


@pytest.mark.parametrize("cut", ["at_chunk_boundary", "inside_chunk", "inside_chunk_head"])
def test_truncated_file(key: EncryptionKey, cut: str):
    blob = _encrypt(b"0123456789ab", key, 4)  # three chunks, the last one final
    header, chunks = _chunks(blob)
    two = header + chunks[0] + chunks[1]
    short = {
        "at_chunk_boundary": two,  # no final chunk: could be read as a complete shorter file
        "inside_chunk": two + chunks[2][:-3],
        "inside_chunk_head": two + chunks[2][:5],
    }[cut]
    with pytest.raises(TruncatedFileError):
        _read(short, key)


def test_reordered_and_duplicated_chunks(key: EncryptionKey):
    header, chunks = _chunks(_encrypt(b"0123456789ab", key, 4))
    with pytest.raises(TamperedFileError, match="chunk 0"):
        _read(header + chunks[1] + chunks[0] + chunks[2], key)
    with pytest.raises(TamperedFileError, match="chunk 1"):
        _read(header + chunks[0] + chunks[0] + chunks[2], key)


def test_final_chunk_moved_earlier_and_trailing_bytes(key: EncryptionKey):
    header, chunks = _chunks(_encrypt(b"0123456789ab", key, 4))
    with pytest.raises(TamperedFileError):  # final chunk at index 0 fails its index
        _read(header + chunks[2], key)
    with pytest.raises(TamperedFileError, match="follow the final chunk"):
        _read(header + b"".join(chunks) + b"x", key)


def test_chunks_spliced_from_another_file(key: EncryptionKey):
    h1, c1 = _chunks(_encrypt(b"01234567", key, 4))
    _, c2 = _chunks(_encrypt(b"abcdefgh", key, 4))
    with pytest.raises(TamperedFileError):
        _read(h1 + c1[0] + c2[1], key)


def test_not_an_encrypted_file(key: EncryptionKey):
    with pytest.raises(DecryptionError, match="bad header"):
        _read(b"a,b\n1,2\n", key)


# --- keys ------------------------------------------------------------------------------------


def test_key_file_wins_over_environment(key: EncryptionKey, tmp_path: Path):
    other = generate_key_text()
    (tmp_path / "k").write_text(other + "\n")
    got = load_encryption_key(tmp_path / "k")
    assert got.key == base64.b64decode(other) and got.source == f"file:{tmp_path / 'k'}"
    assert load_encryption_key().key == key.key  # the environment otherwise
    assert other not in repr(got) and base64.b64encode(got.key).decode() not in repr(got)


def test_environment_may_name_a_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    text = generate_key_text()
    (tmp_path / "k").write_text(text)
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, str(tmp_path / "k"))
    assert load_encryption_key().key == base64.b64decode(text)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("not base64 at all!", "not base64"),
        (base64.b64encode(b"x" * 31).decode(), "got 31"),  # one byte short
        (base64.b64encode(b"x" * 33).decode(), "got 33"),  # one byte long
    ],
)
def test_bad_key_files(tmp_path: Path, content: str | None, error: str):
    path = tmp_path / "k"
    if content is not None:
        path.write_text(content)
    with pytest.raises(KeyMissingError, match=error) as err:
        load_encryption_key(path)
    if content:
        assert content not in str(err.value)


def test_missing_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    with pytest.raises(KeyMissingError, match=ENCRYPTION_KEY_ENV):
        load_encryption_key()


# --- the release writer and load -------------------------------------------------------------

FRAME = pd.DataFrame({"age": [34, 51, 29], "note": [SECRET, "=1+1", "b"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".xlsx"])
def test_write_table_encrypts_and_load_reads_back(key: EncryptionKey, tmp_path: Path, suffix):
    out = tmp_path / f"out{suffix}.enc"
    write_table(out, FRAME)
    raw = out.read_bytes()
    assert raw.startswith(_crypto.MAGIC) and SECRET.encode() not in raw
    back = load(out).data
    assert back["age"].tolist() == [34, 51, 29]
    assert back["note"].tolist()[0] == SECRET
    assert sorted(os.listdir(tmp_path)) == [out.name]  # no temporary file, no plaintext


def test_policy_requires_encryption_even_without_the_suffix(key: EncryptionKey, tmp_path: Path):
    out = tmp_path / "out.csv"
    with encryption_required("policy 'clinic'"):
        write_table(out, FRAME)
    assert out.read_bytes().startswith(_crypto.MAGIC)
    assert load(out).data["note"].tolist()[0] == SECRET
    with encryption_required("policy 'clinic'"), pytest.raises(EncryptionRequiredError):
        write_table(tmp_path / "plain.csv", FRAME, encrypt=False)
    assert not (tmp_path / "plain.csv").exists()


def test_plaintext_refused_without_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    with encryption_required("policy 'clinic'"), pytest.raises(EncryptionRequiredError) as err:
        write_table(tmp_path / "out.csv", FRAME)
    assert "policy 'clinic'" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_a_write_failing_midway_leaves_nothing(key: EncryptionKey, tmp_path: Path):
    class Boom(pd.DataFrame):
        def to_parquet(self, *a, **k):  # type: ignore[override]
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_table(tmp_path / "out.parquet.enc", Boom(FRAME))
    assert os.listdir(tmp_path) == []


def test_load_errors_are_typed_and_name_the_file(key: EncryptionKey, tmp_path: Path, monkeypatch):
    out = tmp_path / "out.csv.enc"
    write_table(out, FRAME)
    blob = out.read_bytes()
    out.write_bytes(blob[:-20])
    with pytest.raises(TruncatedFileError) as err:
        load(out)
    assert str(out) in str(err.value) and SECRET not in str(err.value)
    out.write_bytes(blob)
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, generate_key_text())
    with pytest.raises(WrongKeyError):
        load(out)
    monkeypatch.delenv(ENCRYPTION_KEY_ENV)
    with pytest.raises(KeyMissingError, match="out.csv.enc is encrypted at rest"):
        load(out)
    plain = tmp_path / "fake.csv.enc"
    plain.write_text("a\n1\n")
    with pytest.raises(DecryptionError, match="not a workbench encrypted file"):
        load(plain)


def test_large_table_streams_in_chunks(key: EncryptionKey, tmp_path: Path, monkeypatch):
    """The writer holds at most one chunk: a 3-chunk table makes 3 chunks, read back equal."""
    monkeypatch.setattr(_crypto, "CHUNK_SIZE", 4096)
    big = pd.DataFrame({"x": range(3000), "y": ["v"] * 3000})
    out = tmp_path / "big.csv.enc"
    write_table(out, big)
    blob = out.read_bytes()
    assert len(_chunks(blob)[1]) == -(-len(decrypt_file_bytes(out)) // 4096)
    assert load(out).data["x"].tolist() == list(range(3000))


def test_transient_key_for_scratch_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A scratch extract written and read back inside the block; unreadable after it."""
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    out = tmp_path / "scratch.csv.enc"
    with _crypto.transient_key() as k:
        write_table(out, FRAME)
        assert load(out).data["note"].tolist()[0] == SECRET
        (tmp_path / "k").write_text(generate_key_text())
        assert load_encryption_key(tmp_path / "k").key != k.key  # an explicit file still wins
    with pytest.raises(KeyMissingError):
        load(out)
