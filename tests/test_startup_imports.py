"""A small command imports only what it uses (issue 11: ``workbench assess`` of a tiny file in
under 0.5 s), and the deferred imports behave like the eager ones."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from workbench.risk.classes import _arrow_numbers, _encode_arrow, _primitive_numpy, encode_column

# imported by a small assess, they cost more than the rest of the command together
HEAVY = ("pandas", "cryptography", "yaml", "jsonschema", "scipy")


def _modules_after(code: str, cwd: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "WORKBENCH_PROVENANCE": "off", "WORKBENCH_USE_LOG": "off"},
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_small_assess_imports_no_heavy_library(tmp_path):
    rows = ["age,sex,zip,diagnosis"] + [
        f"{20 + i % 7},{'MF'[i % 2]},{1000 + i % 3},{'abc'[i % 3]}" for i in range(20)
    ]
    (tmp_path / "small.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code = (
        "import contextlib, io\n"
        "from workbench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['assess', 'small.csv', '--qi', 'age,sex,zip', "
        "'--sensitive', 'diagnosis', '--json']) == 0\n"
        "assert json.loads(out.getvalue())['records'] == 20\n"
    )
    code = "import json\n" + code
    loaded = _modules_after(code, str(tmp_path))
    assert "duckdb" in loaded  # the scan did run
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)
    assert heavy == []


def test_provenance_module_does_not_import_policies_or_numpy(tmp_path):
    loaded = _modules_after("import workbench.governance.provenance", str(tmp_path))
    assert not {"numpy", "yaml", "cryptography", "workbench.governance.policy"} & loaded


@pytest.mark.parametrize("name", ["gate", "harmonize", "minimize"])
def test_governance_function_keeps_its_name_after_its_submodule_is_imported(name):
    import importlib

    import workbench.governance as governance

    sub = importlib.import_module(f"workbench.governance.{name}")
    assert getattr(governance, name) is getattr(sub, name)
    assert callable(getattr(governance, name))


def test_governance_exports_every_public_name():
    import workbench.governance as governance

    for name in governance.__all__:
        assert getattr(governance, name) is not None
    with pytest.raises(AttributeError):
        _ = governance.no_such_name


@pytest.mark.parametrize("offset", [0, 3])
@pytest.mark.parametrize("with_nulls", [False, True])
def test_primitive_numpy_equals_to_numpy_with_nulls_and_offsets(offset, with_nulls):
    rng = np.random.default_rng(7)
    values = rng.normal(size=40)
    mask = rng.random(40) < 0.3 if with_nulls else np.zeros(40, dtype=bool)
    arr = pa.array(values, mask=mask)[offset:]
    got = _arrow_numbers(arr)
    expected = np.where(mask[offset:], np.nan, values[offset:])
    np.testing.assert_array_equal(got, expected)
    ints = pa.array(np.arange(40), type=pa.int64(), mask=mask)[offset:]
    got_ints = _primitive_numpy(ints, np.int64, -9)
    np.testing.assert_array_equal(got_ints, np.where(mask[offset:], -9, np.arange(40)[offset:]))
    assert _primitive_numpy(pa.array([], type=pa.int64()), np.int64, 0).shape == (0,)


def test_arrow_encoding_equals_pandas_encoding_on_random_columns():
    rng = np.random.default_rng(11)
    for trial in range(20):
        n = int(rng.integers(1, 60))
        vals = rng.integers(0, 6, size=n).astype(float)
        vals[rng.random(n) < 0.2] = np.nan
        col = pa.array(vals, from_pandas=True)[trial % 3 :]
        codes, dictionary = _encode_arrow(col)
        ref_codes, ref_dict = encode_column(np.asarray(vals[trial % 3 :], dtype=object))
        assert [None if d is None else float(d) for d in dictionary] == [
            None if d is None or d != d else float(d) for d in ref_dict
        ]
        np.testing.assert_array_equal(codes, ref_codes)


# --- a command reads its input file for hashing once (loader and provenance share the digest)


def _no_open(*args, **kwargs):
    raise AssertionError("the file was read again")


def test_unchanged_file_is_hashed_once(tmp_path, monkeypatch):
    import builtins
    import hashlib

    from workbench import _io

    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n")
    first = _io.sha256_file(path)
    assert first == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    monkeypatch.setattr(builtins, "open", _no_open)
    assert _io.sha256_file(path) == first


def test_rewritten_file_is_hashed_again_even_with_the_same_size_and_mtime(tmp_path):
    import hashlib
    import os

    from workbench import _io

    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n")
    st = os.stat(path)
    first = _io.sha256_file(path)
    path.write_bytes(b"a,b\n1,3\n")  # same size; modification time put back
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _io.sha256_file(path) == hashlib.sha256(b"a,b\n1,3\n").hexdigest() != first


def test_loader_digest_is_reused_by_provenance(tmp_path, monkeypatch):
    import builtins

    from workbench import _io
    from workbench.loading.readers import load_grouped

    path = tmp_path / "d.csv"
    path.write_text("age,sex\n" + "".join(f"{20 + i % 5},{'MF'[i % 2]}\n" for i in range(50)))
    ds, groups = load_grouped(path, ["age", "sex"])
    assert groups is not None
    monkeypatch.setattr(builtins, "open", _no_open)
    assert _io.sha256_file(path) == ds.sha256


@pytest.mark.parametrize("prefix_lines", [3, 40_000])  # in the first read, and far past it
def test_decoding_error_names_the_line_after_a_long_ascii_prefix(tmp_path, prefix_lines):
    """The streaming check skips decoding ASCII chunks and counts lines only on error."""
    from workbench.errors import DecodingError
    from workbench.loading.readers import load

    path = tmp_path / "bad.csv"
    body = "id,name\n" + "".join(f"{i},plain ascii name {i}\n" for i in range(prefix_lines))
    path.write_bytes(body.encode() + b"99,J\xf6rg\n1,ok\n")
    with pytest.raises(DecodingError, match=r"cannot decode byte 0xf6") as info:
        load(path, encoding="utf-8", lazy=True)
    assert info.value.line == prefix_lines + 2


def test_multibyte_character_split_between_chunks_is_valid(tmp_path, monkeypatch):
    from workbench.loading import readers as loading

    monkeypatch.setattr(loading, "_CHUNK", 7)  # every multi-byte character straddles reads
    path = tmp_path / "u.csv"
    text = "id,name\n" + "".join(f"{i},Jörg Ærø {i}\n" for i in range(200))
    path.write_text(text, encoding="utf-8")
    enc, digest, _ = loading._stream_check(path, "utf-8")
    assert enc == "utf-8"
    path.write_bytes(text.encode("utf-8")[:-3] + b"\xc3\n")  # a lone lead byte at the end
    with pytest.raises(Exception, match="decode"):
        loading._stream_check(path, "utf-8")


def test_small_assess_process_prints_nothing_on_stderr(tmp_path):
    """DuckDB 2.0 prints "nanobind: leaked ..." at exit after narwhals' DuckDB backend ran with
    pyarrow and without pandas; the class table is grouped in DuckDB's own API instead."""
    (tmp_path / "s.csv").write_text("age,sex,dx\n" + "".join(f"{i % 4},F,x\n" for i in range(9)))
    env = {"PATH": "/usr/bin:/bin", "WORKBENCH_PROVENANCE": "off", "WORKBENCH_USE_LOG": "off"}
    for qis in (["age", "sex"], ["age"]):
        args = ["assess", "s.csv", "--qi", ",".join(qis), "--sensitive", "dx", "--json"]
        out = subprocess.run(
            [sys.executable, "-m", "workbench", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        assert out.returncode == 0
        assert out.stderr == ""
        assert json.loads(out.stdout)["records"] == 9


def test_risk_package_imports_measures_on_demand(tmp_path):
    loaded = _modules_after("from workbench.risk import assess, build_class_table", str(tmp_path))
    assert not {"workbench.risk.sensitive", "workbench.risk.suda", "workbench.models"} & loaded
    import workbench.risk as risk

    for name in risk.__all__:
        assert getattr(risk, name) is not None
    with pytest.raises(AttributeError):
        _ = risk.no_such_measure


def test_grouped_scan_beside_the_check_rescans_when_latin1_shows_up_late(tmp_path):
    """The scan starts with the encoding of the first bytes; a latin-1 byte far past them makes
    the check settle on latin-1 and the file is scanned again, as the sequential code did."""
    import threading

    from workbench.loading.readers import load, load_grouped
    from workbench.risk import build_class_table

    path = tmp_path / "late.csv"
    ascii_rows = "".join(f"{i % 7},plain\n" for i in range(60_000))  # ~480 KB of ASCII
    path.write_bytes(b"k,name\n" + ascii_rows.encode() + b"3,Ren\xe9\n")
    before = threading.active_count()
    ds, groups = load_grouped(path, ["k", "name"])
    assert threading.active_count() == before  # the check's thread is gone
    assert ds.options["encoding"] == "latin-1"
    got = build_class_table(groups, ["k", "name"], counts="__n")
    ref = build_class_table(load(path, lazy=False), ["k", "name"])
    assert got.dictionaries == ref.dictionaries
    assert got.counts.tolist() == ref.counts.tolist()
    assert "René" in got.dictionaries[1]
    assert ds.sha256 == load(path, lazy=False).sha256
