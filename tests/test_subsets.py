"""QI subset uniqueness: a hand table, the cap, and an exhaustive pure-python reference."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError
from workbench.risk.subsets import qi_subsets

# sex zip age
#  F   1   30
#  F   1   30
#  F   2   30
#  M   2   40
#  M   2   41          n = 5, n (n - 1) = 20 ordered pairs
# subset      class sizes   unique  distinction  separation = 1 - sum f(f-1) / 20
# sex         3 2           0       2/5          1 - 8/20 = 0.6
# zip         2 3           0       2/5          0.6
# age         3 1 1         2       3/5          1 - 6/20 = 0.7
# sex,zip     2 1 2         1       3/5          1 - 4/20 = 0.8
# sex,age     3 1 1         2       3/5          0.7
# zip,age     2 1 1 1       3       4/5          1 - 2/20 = 0.9
# all         2 1 1 1       3       4/5          0.9
HAND = np.array([[0, 1, 30], [0, 1, 30], [0, 2, 30], [1, 2, 40], [1, 2, 41]])
COLS = ["sex", "zip", "age"]
COLS_T = tuple(COLS)
EXPECTED = {
    ("sex",): (0, 0.4, 0.6),
    ("zip",): (0, 0.4, 0.6),
    ("age",): (2, 0.6, 0.7),
    ("sex", "zip"): (1, 0.6, 0.8),
    ("sex", "age"): (2, 0.6, 0.7),
    ("zip", "age"): (3, 0.8, 0.9),
    ("sex", "zip", "age"): (3, 0.8, 0.9),
}


def test_hand_table_measures_and_ranking():
    r = qi_subsets(HAND, COLS, target=0.5)
    assert not r.capped and r.reason is None and r.max_size_evaluated == 3
    got = {s.columns: (s.n_unique, s.distinction, s.separation) for s in r.subsets}
    assert got.keys() == EXPECTED.keys()
    for key, (u, d, sep) in EXPECTED.items():
        assert got[key][0] == u
        assert got[key][1:] == pytest.approx((d, sep))
    assert r.get(["age", "zip"]).uniqueness == pytest.approx(0.6)
    # uniqueness desc, then smaller first, then separation, then column order
    assert [s.columns for s in r.subsets] == [
        ("zip", "age"),
        ("sex", "zip", "age"),
        ("age",),
        ("sex", "age"),
        ("sex", "zip"),
        ("sex",),
        ("zip",),
    ]
    assert [s.columns for s in r.best_by_size] == [("age",), ("zip", "age"), COLS_T]
    assert r.smallest_size_reaching_target == 2
    assert [s.columns for s in r.minimal_subsets] == [("zip", "age")]


def test_lower_target_picks_the_single_attribute():
    r = qi_subsets(HAND, COLS, target=0.4)
    assert r.smallest_size_reaching_target == 1
    assert [s.columns for s in r.minimal_subsets] == [("age",)]


def test_unreachable_target():
    r = qi_subsets(HAND, COLS, target=1.0)
    assert r.smallest_size_reaching_target is None and r.minimal_subsets == ()


def test_cap_keeps_small_subsets_and_the_full_set():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=(200, 11))
    names = [f"q{i}" for i in range(11)]
    r = qi_subsets(codes, names, max_subsets=100)
    # 11 singles + 55 pairs + full set = 67 <= 100; adding the 165 triples would exceed it
    assert r.capped and r.max_size_evaluated == 2 and len(r.subsets) == 67
    assert "size <= 2" in r.reason and "2047" in r.reason
    assert r.get(names) is not None
    d = json.loads(json.dumps(r.to_dict(top=5), allow_nan=False))
    assert d["capped"] and len(d["subsets"]) == 5 and d["evaluated"] == 67


def test_cap_smaller_than_single_attributes():
    codes = np.arange(40).reshape(4, 10) % 3
    r = qi_subsets(codes, [f"q{i}" for i in range(10)], max_subsets=5)
    assert r.capped and len(r.subsets) == 11 and "exceed" in r.reason


def test_exact_fit_is_not_capped():
    r = qi_subsets(HAND, COLS, max_subsets=7)
    assert not r.capped and len(r.subsets) == 7


def test_edge_cases():
    one = qi_subsets(np.array([[1, 2]]), ["a", "b"])
    assert all(s.uniqueness == 1.0 and s.separation == 1.0 for s in one.subsets)
    assert [s.columns for s in one.minimal_subsets] == [("a",), ("b",)]
    empty = qi_subsets(np.zeros((0, 2), dtype=int), ["a", "b"])
    assert all(s.uniqueness == 0.0 and s.n_classes == 0 for s in empty.subsets)
    none = qi_subsets(np.zeros((3, 0), dtype=int), [])
    assert none.subsets == () and none.max_size_evaluated == 0
    same = qi_subsets(np.zeros((4, 2), dtype=int), ["a", "b"])
    assert all(s.uniqueness == 0.0 and s.separation == 0.0 for s in same.subsets)


@pytest.mark.parametrize(
    "kwargs", [{"target": 0}, {"target": 1.5}, {"max_subsets": 0}, {"max_subsets": 2.5}]
)
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        qi_subsets(HAND, COLS, **kwargs)


def test_bad_columns():
    with pytest.raises(ParameterError, match="columns"):
        qi_subsets(HAND, ["a", "b"])
    with pytest.raises(ParameterError, match="distinct"):
        qi_subsets(HAND, ["a", "a", "b"])


def test_string_values():
    codes = np.array([["F", "x"], ["F", "y"], ["M", "y"]], dtype=object)
    r = qi_subsets(codes, ["sex", "zip"])
    assert r.get(["sex", "zip"]).n_unique == 3 and r.get(["sex"]).n_unique == 1


@st.composite
def tables(draw):
    n = draw(st.integers(0, 30))
    m = draw(st.integers(1, 5))
    alphabet = draw(st.integers(1, 4))
    rows = draw(
        st.lists(
            st.lists(st.integers(0, alphabet - 1), min_size=m, max_size=m), min_size=n, max_size=n
        )
    )
    return np.array(rows, dtype=np.int64).reshape(n, m)


@settings(max_examples=80, deadline=None)
@given(tables(), st.sampled_from([0.2, 0.5, 0.9, 1.0]))
def test_matches_exhaustive_reference(codes, target):
    n, m = codes.shape
    names = [f"c{i}" for i in range(m)]
    r = qi_subsets(codes, names, target=target)
    rows = [tuple(x) for x in codes.tolist()]
    share = {}
    for k in range(1, m + 1):
        for sub in combinations(range(m), k):
            sizes = Counter(tuple(row[c] for c in sub) for row in rows)
            uniq = sum(1 for f in sizes.values() if f == 1)
            pairs = sum(f * (f - 1) for f in sizes.values())
            got = r.get([names[c] for c in sub])
            assert got.n_unique == uniq and got.n_classes == len(sizes)
            assert got.distinction == pytest.approx(len(sizes) / n if n else 0.0)
            assert got.separation == pytest.approx(1 - pairs / (n * (n - 1)) if n > 1 else 1.0)
            share[sub] = uniq / n if n else 0.0
    hits = {s for s, u in share.items() if u >= target}
    minimal = {s for s in hits if not any(set(h) < set(s) for h in hits)}
    assert {tuple(names.index(c) for c in s.columns) for s in r.minimal_subsets} == minimal
    smallest = min((len(s) for s in hits), default=None)
    assert r.smallest_size_reaching_target == smallest
    ranked = [s.uniqueness for s in r.subsets]
    assert ranked == sorted(ranked, reverse=True)


@settings(max_examples=30, deadline=None)
@given(tables(), st.data())
def test_counts_equal_repeated_rows(codes, data):
    n, m = codes.shape
    counts = np.array(data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)), dtype=int)
    names = [f"c{i}" for i in range(m)]
    weighted = qi_subsets(codes, names, counts=counts, max_subsets=7)
    expanded = qi_subsets(np.repeat(codes, counts, axis=0), names, max_subsets=7)
    assert weighted.subsets == expanded.subsets
    assert weighted.n_records == expanded.n_records == int(counts.sum())


def test_bad_counts():
    with pytest.raises(ParameterError, match="counts"):
        qi_subsets(HAND, COLS, counts=[1, 2])
    with pytest.raises(ParameterError, match="counts"):
        qi_subsets(HAND, COLS, counts=[1, 1, 1, 1, 0])


def test_object_values_with_missing():
    codes = np.array([["a", None], ["a", None], ["b", "x"]], dtype=object)
    r = qi_subsets(codes, ["p", "q"])
    assert r.get(["p"]).n_unique == 1 and r.get(["q"]).n_classes == 2
