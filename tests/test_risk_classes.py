"""The equivalence-class table: hand-computed tables, engines agree, fast path = slow reference."""

from __future__ import annotations

from collections import Counter, defaultdict

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.dataset import Dataset
from workbench.errors import ColumnNotFoundError, ParameterError
from workbench.risk import ClassTable, build_class_table
from workbench.risk.classes import _build_lazy, encode_column, wildcard_frequencies


def _duck(df: pd.DataFrame):
    con = duckdb.connect()
    return con.from_df(df)


def _same(a: ClassTable, b: ClassTable) -> None:
    assert a.columns == b.columns
    assert a.dictionaries == b.dictionaries
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    if a.weight_sums is None:
        assert b.weight_sums is None
    else:
        np.testing.assert_allclose(a.weight_sums, b.weight_sums)
    np.testing.assert_allclose(a.population_sizes, b.population_sizes)


# ----------------------------------------------------------------------------- hand tables
def test_hand_table_codes_dictionaries_counts() -> None:
    df = pd.DataFrame(
        {
            "sex": ["F", "M", "F", "F", None],
            "age": [30, 30, 30, 41, 30],
            "w": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    t = build_class_table(df, ["sex", "age"], weights="w")
    assert t.dictionaries == (("F", "M", None), (30, 41))
    # Classes sorted by codes: (F,30) (F,41) (M,30) (None,30)
    assert t.codes.tolist() == [[0, 0], [0, 1], [1, 0], [2, 0]]
    assert t.counts.tolist() == [2, 1, 1, 1]
    assert t.weight_sums.tolist() == [40.0, 40.0, 20.0, 50.0]
    assert t.record_class.tolist() == [0, 2, 0, 1, 3]
    assert t.record_sizes().tolist() == [2, 1, 2, 1, 1]
    assert t.n_records == 5 and t.n_classes == 4
    assert t.missing_codes == (2, -1)
    frame = t.to_frame()
    assert frame["count"].tolist() == [2, 1, 1, 1]
    assert frame["sex"].tolist() == ["F", "F", "M", None]


def test_missing_is_its_own_category_by_default() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan, np.nan, 2.0]})
    t = build_class_table(df, ["a"])
    assert t.dictionaries == ((1.0, 2.0, None),)
    assert t.counts.tolist() == [1, 1, 2]
    assert t.sizes.tolist() == [1, 1, 2]


def test_one_row_and_one_class_tables() -> None:
    t = build_class_table(pd.DataFrame({"a": ["x"], "b": [1]}), ["a", "b"])
    assert t.n_classes == 1 and t.counts.tolist() == [1]
    t = build_class_table(pd.DataFrame({"a": ["x"] * 4, "b": [1] * 4}), ["a", "b"])
    assert t.n_classes == 1 and t.counts.tolist() == [4]


def test_encode_column_sorted_with_missing_last() -> None:
    codes, d = encode_column(pd.Series(["b", None, "a", "b"]))
    assert d == ("a", "b", None)
    assert codes.tolist() == [1, 2, 0, 1]


# ------------------------------------------------------------------- wildcard (sdcMicro)
FRANCDAT_NA = pd.DataFrame(
    {
        # sdcMicro's freqCalc example: francdat keys with x[3,5], x[4,2], x[4,4], x[5,6], x[6,2] NA
        "Key1": [1, 1, 1, None, 4, None, 6, 1],
        "Key2": [2, 2, 2, None, 3, 3, 2, 2],
        "Key3": [5, 1, None, 1, 1, 1, 1, 5],
        "Key4": [1, 1, 1, 5, None, 1, 5, 1],
        "w": [18, 45.5, 39, 17, 541, 8, 5, 92],
    }
).astype({"Key1": "Float64", "Key2": "Float64", "Key3": "Float64", "Key4": "Float64"})


def test_wildcard_matches_sdcmicro_freqcalc_semantics_by_hand() -> None:
    # fk = records agreeing on every key where both are non-missing (worked out by hand).
    t = build_class_table(
        FRANCDAT_NA, ["Key1", "Key2", "Key3", "Key4"], weights="w", missing="wildcard"
    )
    fk = t.record_sizes().tolist()
    assert fk == [3, 2, 4, 3, 3, 2, 2, 3]
    Fk = t.population_sizes[t.record_class].tolist()
    assert Fk == pytest.approx([149, 84.5, 194.5, 563, 566, 549, 22, 149])
    # As a category, missing values only match missing values.
    c = build_class_table(FRANCDAT_NA, ["Key1", "Key2", "Key3", "Key4"], missing="category")
    assert c.record_sizes().tolist() == [2, 1, 1, 1, 1, 1, 1, 2]


def test_wildcard_all_missing_record_matches_everyone() -> None:
    # Symmetric definition: an all-missing record is in every record's fk (sdcMicro 5.x leaves
    # it out of complete records' fk; documented in the module docstring).
    df = pd.DataFrame({"a": [1.0, 1.0, 2.0, np.nan], "b": [1.0, 1.0, 3.0, np.nan]})
    t = build_class_table(df, ["a", "b"], missing="wildcard")
    assert t.record_sizes().tolist() == [3, 3, 2, 4]


def _wildcard_reference(rows: list[tuple], weights: list[float]) -> tuple[list[int], list[float]]:
    fk, Fk = [], []
    for r in rows:
        n, w = 0, 0.0
        for s, ws in zip(rows, weights, strict=True):
            if all(a is None or b is None or a == b for a, b in zip(r, s, strict=True)):
                n += 1
                w += ws
        fk.append(n)
        Fk.append(w)
    return fk, Fk


# ----------------------------------------------------------------------- random tables
def _cell(draw_missing: bool):
    values = st.sampled_from([0, 1, 2, 3])
    return st.one_of(values, st.none()) if draw_missing else values


@st.composite
def tables(draw, max_rows: int = 25):
    d = draw(st.integers(1, 3))
    n = draw(st.integers(1, max_rows))
    with_missing = draw(st.booleans())
    cols = {}
    for j in range(d):
        kind = draw(st.sampled_from(["str", "int"]))
        raw = draw(st.lists(_cell(with_missing), min_size=n, max_size=n))
        if kind == "str":
            cols[f"q{j}"] = pd.Series([None if v is None else f"v{v}" for v in raw], dtype=object)
        else:
            cols[f"q{j}"] = pd.Series([np.nan if v is None else float(v) for v in raw])
    cols["w"] = pd.Series(draw(st.lists(st.sampled_from([1.0, 2.5, 10.0]), min_size=n, max_size=n)))
    return pd.DataFrame(cols), [f"q{j}" for j in range(d)]


def _key(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _slow_classes(df: pd.DataFrame, qis: list[str]) -> tuple[Counter, dict]:
    counts: Counter = Counter()
    wsum: dict = defaultdict(float)
    for _, row in df.iterrows():
        k = tuple(_key(row[q]) for q in qis)
        counts[k] += 1
        wsum[k] += row["w"]
    return counts, wsum


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_fast_path_equals_slow_dict_counting(case) -> None:
    df, qis = case
    t = build_class_table(df, qis, weights="w")
    counts, wsum = _slow_classes(df, qis)
    decoded = t.to_frame()
    got = {
        tuple(_key(v) for v in row): (c, w)
        for row, c, w in zip(
            decoded[qis].itertuples(index=False, name=None), t.counts, t.weight_sums, strict=True
        )
    }
    assert got.keys() == counts.keys()
    for k, (c, w) in got.items():
        assert c == counts[k]
        assert w == pytest.approx(wsum[k])
    # per-record class ids point at the record's own combination
    for i, cid in enumerate(t.record_class):
        assert tuple(_key(v) for v in decoded.loc[cid, qis]) == tuple(
            _key(df.loc[i, q]) for q in qis
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_narwhals_paths_match_fast_path(case) -> None:
    df, qis = case
    fast = build_class_table(df, qis, weights="w")
    _same(fast, _build_lazy(df, tuple(qis), "w", (), "category", None))  # narwhals on pandas
    _same(fast, build_class_table(_duck(df), qis, weights="w"))
    _same(fast, build_class_table(pl.from_pandas(df), qis, weights="w"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_rows=20))
def test_wildcard_equals_pairwise_reference(case) -> None:
    df, qis = case
    t = build_class_table(df, qis, weights="w", missing="wildcard")
    rows = [tuple(_key(df.loc[i, q]) for q in qis) for i in range(len(df))]
    fk, Fk = _wildcard_reference(rows, df["w"].tolist())
    assert t.record_sizes().tolist() == fk
    np.testing.assert_allclose(t.population_sizes[t.record_class], Fk)
    lazy = build_class_table(_duck(df), qis, weights="w", missing="wildcard")
    np.testing.assert_array_equal(lazy.sizes, t.sizes)


def test_wildcard_frequencies_without_missing_are_counts() -> None:
    codes = np.array([[0, 0], [0, 1], [1, 1]])
    fk, fw = wildcard_frequencies(codes, (-1, -1), np.array([2, 1, 3]))
    assert fk.tolist() == [2, 1, 3] and fw.tolist() == [2.0, 1.0, 3.0]


# ------------------------------------------------------------------------------- engines
def test_duckdb_polars_pandas_identical_on_adult(adult_csv) -> None:
    qis = ["sex", "age", "race", "marital-status", "education"]
    df = pd.read_csv(adult_csv, sep=";")
    fast = build_class_table(df, qis)
    rel = duckdb.connect().read_csv(str(adult_csv), sep=";")
    _same(fast, build_class_table(rel, qis))
    _same(fast, build_class_table(pl.read_csv(adult_csv, separator=";"), qis))
    _same(fast, build_class_table(nw.from_native(df), qis))
    assert fast.n_records == 30162


def test_assign_recovers_record_classes_from_lazy_table() -> None:
    df = pd.DataFrame({"a": ["x", "y", None, "x", "z"], "b": [1, 2, 3, 1, 2]})
    fast = build_class_table(df, ["a", "b"])
    lazy = build_class_table(_duck(df), ["a", "b"])
    assert lazy.record_class is None
    np.testing.assert_array_equal(lazy.assign(_duck(df)), fast.record_class)
    other = pd.DataFrame({"a": ["x", "q"], "b": [1, 1]})
    assert lazy.assign(other).tolist() == [int(fast.record_class[0]), -1]


def test_records_flag_collects_ids_on_lazy_engines() -> None:
    df = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 1]})
    t = build_class_table(_duck(df), ["a", "b"], records=True)
    assert t.record_class.tolist() == [0, 1, 0]


def test_dataset_input_and_error_names_source() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    ds = Dataset.from_frame(df, name="clinic")
    object.__setattr__(ds, "source", "clinic.csv")
    with pytest.raises(ColumnNotFoundError, match="'zip' not found in clinic.csv; available: a, b"):
        build_class_table(ds, ["a", "zip"])
    assert build_class_table(ds, ["a"]).n_classes == 2


@pytest.mark.parametrize("bad", [[], ["a", "a"]])
def test_bad_qi_lists(bad) -> None:
    with pytest.raises(ParameterError):
        build_class_table(pd.DataFrame({"a": [1]}), bad)


def test_bad_missing_mode() -> None:
    with pytest.raises(ParameterError, match="'category' or 'wildcard'"):
        build_class_table(pd.DataFrame({"a": [1]}), ["a"], missing="ignore")


# ------------------------------------------------------------------------------- weights
@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize(
    "values, row, what",
    [
        (["1", "2", "abc", "4"], 3, "is not a number"),
        ([1.0, -2.0, 3.0, 4.0], 2, "is negative"),
        ([1.0, 2.0, None, 4.0], 3, "is missing"),
        ([1.0, 2.0, 3.0, float("inf")], 4, "is infinite"),
    ],
)
def test_bad_weights_name_column_and_first_row(engine, values, row, what) -> None:
    df = pd.DataFrame({"a": ["x", "y", "x", "y"], "wt": values})
    data = df if engine == "pandas" else _duck(df)
    with pytest.raises(ParameterError) as err:
        build_class_table(data, ["a"], weights="wt", source="survey.csv")
    msg = str(err.value)
    assert "'wt'" in msg and f"row {row}" in msg and what in msg and "survey.csv" in msg


def test_numeric_text_weights_are_parsed() -> None:
    df = pd.DataFrame({"a": ["x", "x", "y"], "wt": ["1.5", "2", "3"]})
    t = build_class_table(df, ["a"], weights="wt")
    assert t.weight_sums.tolist() == [3.5, 3.0]
    lazy = build_class_table(_duck(df), ["a"], weights="wt")
    assert lazy.weight_sums.tolist() == [3.5, 3.0]


# ------------------------------------------------------------------- roll-up and lookup
def test_rollup_equals_rebuilding_from_generalized_data() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "age": rng.integers(20, 60, 300),
            "sex": rng.choice(["F", "M"], 300),
            "w": rng.uniform(1, 5, 300),
        }
    )
    t = build_class_table(df, ["age", "sex"], weights="w")
    ages = np.asarray(t.dictionaries[0])
    decade = (ages // 10) * 10
    new_values = sorted(set(decade.tolist()))
    age_map = np.searchsorted(new_values, decade)
    rolled = t.rollup([age_map, None], dictionaries=[new_values, None])
    direct = build_class_table(df.assign(age=(df["age"] // 10) * 10), ["age", "sex"], weights="w")
    _same(rolled, direct)
    np.testing.assert_array_equal(rolled.record_class, direct.record_class)


def test_rollup_keeps_sensitive_histograms() -> None:
    df = pd.DataFrame({"a": [1, 2, 3, 4], "s": ["p", "q", "p", "p"]})
    t = build_class_table(df, ["a"], sensitive=["s"])
    rolled = t.rollup([np.array([0, 0, 1, 1])])
    st_ = rolled.sensitive["s"]
    assert sorted(
        zip(st_.class_ids.tolist(), st_.value_codes.tolist(), st_.counts.tolist(), strict=True)
    ) == [(0, 0, 1), (0, 1, 1), (1, 0, 2)]


def test_rollup_rejects_short_maps() -> None:
    t = build_class_table(pd.DataFrame({"a": [1, 2, 3]}), ["a"])
    with pytest.raises(ParameterError):
        t.rollup([np.array([0, 0])])


def test_lookup_population_counts_by_value() -> None:
    sample = pd.DataFrame({"zip": ["1000", "2000", "3000"], "sex": ["F", "M", None]})
    population = pd.DataFrame(
        {
            "sex": ["F", "F", "M", None, None, "F"],
            "zip": ["1000", "1000", "2000", "3000", "3000", "9999"],
        }
    )
    t = build_class_table(sample, ["zip", "sex"])
    pop = build_class_table(population, ["zip", "sex"])
    assert t.lookup(pop).tolist() == [2, 1, 2]
    # values of another type are compared as text (postal codes read as numbers)
    pop_num = build_class_table(
        population.assign(zip=population["zip"].astype(int)), ["zip", "sex"]
    )
    assert t.lookup(pop_num).tolist() == [2, 1, 2]


def test_sensitive_histograms() -> None:
    df = pd.DataFrame({"a": ["x", "x", "y", "x"], "s": ["p", "q", "p", "p"]})
    t = build_class_table(df, ["a"], sensitive=["s"])
    h = t.sensitive["s"]
    assert h.dictionary == ("p", "q")
    assert list(
        zip(h.class_ids.tolist(), h.value_codes.tolist(), h.counts.tolist(), strict=True)
    ) == [(0, 0, 2), (0, 1, 1), (1, 0, 1)]
    ids, codes = h.expand()
    assert ids.tolist() == [0, 0, 0, 1] and codes.tolist() == [0, 0, 1, 0]
    lazy = build_class_table(_duck(df), ["a"], sensitive=["s"]).sensitive["s"]
    assert lazy.counts.tolist() == h.counts.tolist()
    with pytest.raises(ParameterError):
        build_class_table(df, ["a"], sensitive=["a"])


def test_repr_shows_no_values() -> None:
    t = build_class_table(pd.DataFrame({"name": ["Alice Secret"]}), ["name"])
    assert "Alice" not in repr(t)


def test_categorical_columns_sort_by_value_like_other_engines() -> None:
    df = pd.DataFrame({"a": pd.Categorical(["z", "a", "z"], categories=["z", "a"])})
    t = build_class_table(df, ["a"])
    assert t.dictionaries == (("a", "z"),)
    _same(t, build_class_table(_duck(df), ["a"]))
