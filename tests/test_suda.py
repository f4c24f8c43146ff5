"""SUDA2: hand-computed tables, sdcMicro's published expectations, and the brute-force oracle."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError
from workbench.risk.subsets import _regroup
from workbench.risk.suda import suda2, suda2_reference


def factorize(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([pd.factorize(frame[c])[0] for c in frame.columns]).astype(np.int64)


# Rows (a, b, c): r1 = (2, 0, 0), r2 = (1, 3, 6), r3 = (1, 0, 0); M = 3.
# Size 1: r1 a=2 unique -> {a}; r2 b=3 and c=6 unique -> {b}, {c}; r3 has no unique value.
# Size 2: r3 (a,b) = (1,0) and (a,c) = (1,0) are unique, (b,c) = (0,0) is shared with r1.
# Weights (M-k)!: size 1 -> 2, size 2 -> 1. Scores: r1 2, r2 2+2 = 4, r3 1+1 = 2; total 8.
# Contributions: a: 2 (r1) + 1 + 1 (r3) = 4 -> 50 %; b: 2 (r2) + 1 (r3) = 3 -> 37.5 %; c: 37.5 %.
# (The same 50 / 37.5 / 37.5 is asserted by sdcMicro's tests/testthat/test_suda2.R.)
ABC = np.array([[2, 0, 0], [1, 3, 6], [1, 0, 0]])


def test_hand_table_msus_scores_contributions():
    r = suda2(ABC, ["a", "b", "c"])
    assert r.msu_counts.tolist() == [[1, 0, 0], [2, 0, 0], [0, 2, 0]]
    assert r.scores.tolist() == [2.0, 4.0, 2.0]
    assert r.attribute_contributions == {"a": 50.0, "b": 37.5, "c": 37.5}
    assert r.msu_by_subset == {("a",): 1, ("b",): 1, ("c",): 1, ("a", "b"): 1, ("a", "c"): 1}
    # r3: both MSUs contain a (share 2/2), one contains b (1/2), one c (1/2)
    assert r.record_contributions[2].tolist() == [1.0, 0.5, 0.5]


@pytest.mark.parametrize(
    "order, expected",
    [
        (["a", "c", "b"], [50, 37.5, 37.5]),
        (["c", "a", "b"], [37.5, 50, 37.5]),
        (["c", "b", "a"], [37.5, 37.5, 50]),
    ],
)
def test_contributions_follow_column_order(order, expected):
    frame = pd.DataFrame(ABC, columns=["a", "b", "c"])[order]
    r = suda2(frame.to_numpy(), order)
    assert [r.attribute_contributions[c] for c in order] == expected


def test_ihsn_weights_hand_computed():
    # (2^(M-k) - 1) k! (M-k)! / M! with M = 3: k=1 -> 3*1*2/6 = 1, k=2 -> 1*2*1/6 = 1/3
    r = suda2(ABC, ["a", "b", "c"], score_weights="ihsn")
    assert r.scores == pytest.approx([1.0, 2.0, 2 / 3])


def test_sdcmicro_book_example():
    # sdcMicro tests/testthat/test_suda2.R "suda2 book example": scores[5:8] == c(4, 2, 6, 8)
    tab = pd.DataFrame(
        {
            "age": ["20s"] * 7 + ["60s"],
            "gender": ["male"] * 4 + ["female"] * 3 + ["male"],
            "income": ["50k+", "50k+"] + ["50k-"] * 6,
            "education": ["highschool"] * 4
            + ["university", "highschool", "middleschool", "university"],
        }
    )
    r = suda2(factorize(tab), list(tab))
    assert r.scores.tolist() == [0, 0, 0, 0, 4, 2, 6, 8]


GUIDELINE = pd.DataFrame(
    {
        "Residence": ["Urban"] * 4 + ["Rural"] + ["Urban"] * 5,
        "Gender": ["F", "F", "F", "M", "F", "M", "F", "M", "F", "F"],
        "Education": ["SI", "SI", "PI", "SC", "SC", "SC", "PC", "PS", "SI", "SI"],
        "Labor": ["E", "E", "N", "E", "U", "E", "N", "U", "N", "N"],
    }
)


def test_sdcmicro_guideline_example_scores_and_dis():
    # sdcMicro "suda2 sdc guideline": scores c(0,0,6,0,12,0,6,10,0,0).
    # By hand for record 5 (Rural, F, SC, U): {Residence} is unique (3! = 6); (F,SC), (F,U),
    # (SC,U) are unique while F, SC, U alone are shared: 3 MSUs of size 2 (2! each) -> 12.
    r = suda2(factorize(GUIDELINE), list(GUIDELINE))
    assert r.scores.tolist() == [0, 0, 6, 0, 12, 0, 6, 10, 0, 0]
    assert r.msu_counts[4].tolist() == [1, 3, 0, 0]
    # Full keys: records 3, 5, 7, 8 are unique (U = 4); (1,2), (4,6), (9,10) are pairs (P = 6).
    assert (r.sample_uniques, r.records_in_pairs) == (4, 6)
    # DIS-SUDA with f = 0.01, M = 4: Q = 1 + (8 - 4)/20 = 1.2,
    # Dis = U f / (U f + P (1 - f)); dis_i = 1 / (1 + (U/Dis - U) / (s_i^Q * sum_j s_j^-Q))
    q, f, u, p = 1.2, 0.01, 4, 6
    dis = u * f / (u * f + p * (1 - f))
    adj = 2 * 6**-q + 12**-q + 10**-q
    expected = [0.0 if s == 0 else 1 / (1 + (u / dis - u) / (s**q * adj)) for s in r.scores]
    assert r.dis_scores == pytest.approx(expected, rel=1e-12)
    assert r.dis_scores[4] == pytest.approx(0.0113830, abs=1e-7)


def test_dis_is_one_when_no_pairs():
    # P = 0: U / Dis - U = 0, so every record with a score gets DIS 1 (sdcMicro's formula)
    # rows (0,0), (0,1), 3 x (1,1): MSUs {y}; {x,y}; none. No full key occurs exactly twice.
    r = suda2(np.array([[0, 0], [0, 1], [1, 1], [1, 1], [1, 1]]), ["x", "y"])
    assert r.records_in_pairs == 0
    assert r.msu_counts.tolist() == [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]]
    assert r.dis_scores.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_max_size_truncates():
    r = suda2(factorize(GUIDELINE), list(GUIDELINE), max_size=1)
    assert r.msu_counts.shape == (10, 1)
    assert r.scores.tolist() == [0, 0, 6, 0, 6, 0, 6, 6, 0, 0]  # only size-1 MSUs, weight 3!


def test_missing_code_never_in_msu():
    # value 9 is unique in column x but is "missing": sdcMicro ignores such items
    codes = np.array([[9, 0], [1, 0], [1, 1]])
    plain = suda2(codes, ["x", "y"])
    ignored = suda2(codes, ["x", "y"], missing_code=9)
    assert plain.msu_counts[0].tolist() == [1, 0]
    assert ignored.msu_counts[0].tolist() == [0, 0]
    assert ignored.msu_counts[2].tolist() == [1, 0]  # y = 1 is still unique


def test_edge_cases():
    one = suda2(np.array([[3, 4, 5]]), ["a", "b", "c"])
    assert one.msu_counts.tolist() == [[3, 0, 0]]  # every single value is unique
    assert one.scores.tolist() == [3 * math.factorial(2)]
    same = suda2(np.zeros((5, 3), dtype=int), ["a", "b", "c"])
    assert same.scores.tolist() == [0] * 5 and same.dis_scores.tolist() == [0] * 5
    assert same.attribute_contributions == {"a": 0.0, "b": 0.0, "c": 0.0}
    empty = suda2(np.zeros((0, 2), dtype=int), ["a", "b"])
    assert empty.scores.shape == (0,) and empty.msu_counts.shape == (0, 2)
    json.dumps(empty.to_dict(), allow_nan=False)
    single = suda2(np.array([0, 0, 1]), ["a"])
    assert single.scores.tolist() == [0.0, 0.0, 1.0]


def test_to_dict_is_json_and_has_dis_table():
    r = suda2(factorize(GUIDELINE), list(GUIDELINE))
    d = json.loads(json.dumps(r.to_dict(per_record=True), allow_nan=False))
    # records 3 and 7: one MSU each; 5: four (see above); 8: {PS} plus two pairs (6 + 2 + 2)
    assert d["msus"] == 9 and d["records_with_msu"] == 4
    assert d["msus_by_size"] == [4, 5, 0, 0]
    assert d["dis_table"]["== 0"] == 6 and sum(d["dis_table"].values()) == 10
    assert d["top_msu_subsets"][0]["records"] >= d["top_msu_subsets"][-1]["records"]
    assert len(d["scores"]) == 10


@pytest.mark.parametrize(
    "kwargs",
    [{"dis_fraction": 0}, {"dis_fraction": 1.5}, {"max_size": 0}, {"score_weights": "x"}],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        suda2(ABC, ["a", "b", "c"], **kwargs)


def test_column_names_must_match():
    with pytest.raises(ParameterError, match="columns"):
        suda2(ABC, ["a", "b"])


def test_regroup_sort_path_matches_bincount_path():
    rng = np.random.default_rng(0)
    gid = rng.integers(0, 50_000, size=300)  # span 50_000 * 97 forces np.unique
    col = rng.integers(0, 97, size=300)
    w = rng.integers(1, 4, size=300).astype(float)
    new, n_new, sizes = _regroup(gid, 50_000, col, 97, weights=w)
    keys = list(zip(gid.tolist(), col.tolist(), strict=True))
    expected = {}
    for k, wi in zip(keys, w.tolist(), strict=True):
        expected[k] = expected.get(k, 0) + wi
    assert n_new == len(expected)
    assert [sizes[g] for g in new] == [expected[k] for k in keys]


@st.composite
def tables(draw, max_rows=40, max_cols=6):
    n = draw(st.integers(1, max_rows))
    m = draw(st.integers(1, max_cols))
    alphabet = draw(st.integers(1, 4))
    cell = st.integers(0, alphabet - 1)
    rows = draw(st.lists(st.lists(cell, min_size=m, max_size=m), min_size=n, max_size=n))
    dups = draw(st.lists(st.integers(0, n - 1), max_size=6))
    rows += [rows[i] for i in dups]
    return np.array(rows, dtype=np.int64).reshape(-1, m)


@settings(max_examples=120, deadline=None)
@given(tables(), st.sampled_from([None, 1, 2, 3]), st.sampled_from([None, 0]))
def test_matches_bruteforce_reference(codes, max_size, missing_code):
    names = [f"c{i}" for i in range(codes.shape[1])]
    fast = suda2(codes, names, max_size=max_size, missing_code=missing_code)
    slow = suda2_reference(codes, names, max_size=max_size, missing_code=missing_code)
    assert np.array_equal(fast.msu_counts, slow.msu_counts)
    assert fast.msu_by_subset == slow.msu_by_subset
    assert (fast.sample_uniques, fast.records_in_pairs) == (
        slow.sample_uniques,
        slow.records_in_pairs,
    )
    np.testing.assert_allclose(fast.scores, slow.scores)
    np.testing.assert_allclose(fast.dis_scores, slow.dis_scores)
    np.testing.assert_allclose(fast.record_contributions, slow.record_contributions)
    assert fast.attribute_contributions == pytest.approx(slow.attribute_contributions)


@settings(max_examples=40, deadline=None)
@given(tables(), st.randoms(use_true_random=False))
def test_invariant_under_row_and_column_permutation(codes, rnd):
    names = [f"c{i}" for i in range(codes.shape[1])]
    base = suda2(codes, names)
    rows = list(range(codes.shape[0]))
    cols = list(range(codes.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    shuffled = suda2(codes[np.ix_(rows, cols)], [names[c] for c in cols])
    np.testing.assert_allclose(shuffled.scores, base.scores[rows])
    np.testing.assert_allclose(shuffled.dis_scores, base.dis_scores[rows])
    assert shuffled.attribute_contributions == pytest.approx(base.attribute_contributions)


def test_msus_only_for_full_key_uniques_on_adult_sample(adult_csv):
    # a record with an MSU is unique on all keys, and every full-key unique has an MSU
    df = pd.read_csv(adult_csv, sep=";", nrows=3000)
    cols = ["sex", "age", "race", "marital-status", "education", "native-country"]
    codes = factorize(df[cols])
    r = suda2(codes, cols)
    keys = pd.Series([tuple(row) for row in codes.tolist()])
    sizes = keys.map(keys.value_counts()).to_numpy()
    assert np.array_equal(r.msu_counts.sum(axis=1) > 0, sizes == 1)
    assert r.sample_uniques == int((sizes == 1).sum())


def test_memory_guard_names_max_size(monkeypatch):
    import workbench.risk.suda as suda_module

    monkeypatch.setattr(suda_module, "_MEMORY_BUDGET", 10)
    with pytest.raises(ParameterError, match="max_size"):
        suda2(factorize(GUIDELINE), list(GUIDELINE))
    # searching only size-1 MSUs keeps nothing for a next level
    assert suda2(factorize(GUIDELINE), list(GUIDELINE), max_size=1).n_msus == 4
