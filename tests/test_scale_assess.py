"""``assess`` at scale: one grouped scan of a CSV file, no pandas records (issue #12).

Oracle: the grouped scan (:func:`workbench.loading.readers.load_grouped` + ``build_class_table(...,
counts=...)``) gives the same class table and the same profile as the eager pandas path on
seeded random files with the cases that decide types (leading zeros, decimals, missing markers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ColumnNotFoundError, ParameterError
from workbench.loading import readers as loading
from workbench.loading.readers import load, load_grouped
from workbench.risk import assess, build_class_table

DATA = Path(__file__).parent / "data" / "loading"


def _random_csv(path: Path, seed: int, n: int = 2000) -> Path:
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 40, n).astype(str).astype(object)
    age[rng.random(n) < 0.05] = "07"  # leading zero: still an integer column? (no: text)
    frame = pd.DataFrame(
        {
            "age": age,
            "height": rng.normal(170, 10, n).round(1).astype(str),
            "sex": rng.choice(["F", "M", ""], n),
            "code": [f"{z:03d}" for z in rng.integers(0, 30, n)],
            "count": rng.integers(0, 5, n).astype(str),
            "diagnosis": rng.choice(["flu", "cold", "", "NA"], n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "count"] = ""
    frame.to_csv(path, index=False)
    return path


QIS = ["age", "height", "sex", "code", "count"]


def _same_tables(a, b) -> None:
    assert a.columns == b.columns
    assert a.dictionaries == b.dictionaries
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    assert set(a.sensitive) == set(b.sensitive)
    for s in a.sensitive:
        x, y = a.sensitive[s], b.sensitive[s]
        assert x.dictionary == y.dictionary
        for f in ("class_ids", "value_codes", "counts"):
            np.testing.assert_array_equal(getattr(x, f), getattr(y, f))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("missing", [("",), ("", "NA")])
@pytest.mark.parametrize("mode", ["category", "wildcard"])
def test_grouped_scan_equals_eager_class_table(tmp_path, seed, missing, mode) -> None:
    path = _random_csv(tmp_path / "r.csv", seed)
    eager = load(path, lazy=False, missing=missing)
    ds, groups = load_grouped(path, [*QIS, "diagnosis"], missing=missing)
    assert groups is not None and ds.is_lazy
    assert ds.n_rows == eager.n_rows == 2000
    assert ds.sha256 == eager.sha256
    typed = load(path, lazy=True, missing=missing)  # the type rule over every record
    for c in [*QIS, "diagnosis"]:  # ... gives the same types over the distinct rows
        assert ds.column_types[c] == typed.column_types[c], c
    assert {ds.column_types[c] for c in QIS} >= {"VARCHAR", "BIGINT", "DOUBLE"}
    fast = build_class_table(groups, QIS, sensitive=["diagnosis"], counts="__n", missing=mode)
    slow = build_class_table(eager, QIS, sensitive=["diagnosis"], missing=mode)
    _same_tables(fast, slow)


def test_grouped_class_table_does_not_read_the_file_again(tmp_path) -> None:
    path = _random_csv(tmp_path / "r.csv", 5)
    expected = build_class_table(load(path), QIS)
    _, groups = load_grouped(path, QIS)
    path.unlink()  # the one scan is done: the groups live in DuckDB
    _same_tables(build_class_table(groups, QIS, counts="__n"), expected)


def test_parquet_and_other_formats_group_through_the_lazy_dataset(tmp_path) -> None:
    pq = tmp_path / "r.parquet"
    load(_random_csv(tmp_path / "r.csv", 3), lazy=False).data.to_parquet(pq)
    ds, groups = load_grouped(pq, QIS)
    assert groups is None and ds.is_lazy
    jl = tmp_path / "r.jsonl"
    jl.write_text('{"a": 1}\n{"a": 2}\n')
    ds, groups = load_grouped(jl, ["a"])
    assert groups is None and not ds.is_lazy and ds.n_rows == 2


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("empty.csv", "x"),
        ("header_only.csv", "zip"),
        ("ragged.csv", "a"),
        ("unterminated.csv", "a"),
        ("mixed_encoding.csv", "id"),
    ],
)
def test_grouped_scan_raises_what_load_raises(name, column) -> None:
    path = DATA / name
    with pytest.raises(Exception) as want:
        load(path, lazy=True)
    with pytest.raises(type(want.value)) as got:
        load_grouped(path, [column])
    assert str(got.value) == str(want.value)


def test_unknown_column_names_the_header(tmp_path) -> None:
    path = _random_csv(tmp_path / "r.csv", 0)
    with pytest.raises(ColumnNotFoundError, match="'zip' not found.*available: age, height"):
        load_grouped(path, ["age", "zip"])


def test_counts_are_summed_over_duplicate_rows() -> None:
    """Hand-computed: rows (a,1)x2 + (a,1)x3 form one class of 5; (b,2)x1 one of 1."""
    frame = pd.DataFrame({"q": ["a", "a", "b"], "r": [1, 1, 2], "n": [2, 3, 1]})
    t = build_class_table(frame, ["q", "r"], counts="n")
    assert t.counts.tolist() == [5, 1] and t.n_records == 6
    assert t.dictionaries == (("a", "b"), (1, 2))


@pytest.mark.parametrize(
    ("n", "ok"), [([1, 1, 1], True), ([0, 1, 1], False), ([1, None, 1], False)]
)
def test_counts_must_be_whole_numbers_at_least_one(n, ok) -> None:
    frame = pd.DataFrame({"q": ["a", "b", "c"], "n": pd.array(n, dtype="Int64")})
    if ok:
        assert build_class_table(frame, ["q"], counts="n").n_records == 3
    else:
        with pytest.raises(ParameterError, match="counts"):
            build_class_table(frame, ["q"], counts="n")


def test_counts_refuse_weights_and_records() -> None:
    frame = pd.DataFrame({"q": ["a"], "w": [1.0], "n": [1]})
    with pytest.raises(ParameterError, match="weights"):
        build_class_table(frame, ["q"], weights="w", counts="n")
    with pytest.raises(ParameterError, match="records"):
        build_class_table(frame, ["q"], records=True, counts="n")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_cli_assess_never_reads_records_into_pandas(tmp_path, monkeypatch, capsys, suffix):
    """Regression: files under 1 GiB were loaded into pandas in full."""
    path = _random_csv(tmp_path / "r.csv", 4)
    expected = assess(load(path), QIS, sensitive=["diagnosis"], population_size=20000).to_dict()
    if suffix == "parquet":
        load(path, lazy=False).data.to_parquet(tmp_path / "r.parquet")
        path = tmp_path / "r.parquet"

    def eager(*_a, **_k):
        raise AssertionError("records read into pandas")

    monkeypatch.setattr(loading, "_read_csv", eager)
    monkeypatch.setattr(loading, "_read_parquet", eager)
    args = ["assess", str(path), "--qi", ",".join(QIS), "--sensitive", "diagnosis"]
    assert main([*args, "--population", "20000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    doc.pop("source", None), expected.pop("source", None)
    assert doc == expected
