"""Transforms: hand-checked tables, properties, oracles, provenance round trips, secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.dataset import Dataset
from workbench.deid.transforms import (
    DEFAULT_KEY_ENV,
    SUPPRESSED,
    AdditiveNoise,
    DropColumns,
    FullDomainGeneralization,
    LocalSuppression,
    Microaggregation,
    MultiplicativeNoise,
    Pipeline,
    Pram,
    Pseudonymize,
    RecordSuppression,
    Rounding,
    TopBottomCoding,
    Transform,
    invariant_pram_matrix,
    is_k_anonymous_wildcard,
    load_pseudonym_key,
    mdav_groups,
    pseudonym_collision_probability,
    pseudonymize_values,
    wildcard_frequencies,
)
from workbench.deid.transforms.local_suppression import (
    _exact_local_suppression,
    _greedy_local_suppression,
)
from workbench.errors import (
    ColumnNotFoundError,
    HierarchyError,
    KeyMissingError,
    ParameterError,
)

KEY = "correct-horse-battery-staple-2026"
OTHER_KEY = "another-department-secret-key-99"


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Ann Lee", "Bob Ray", "Cy Dorn", "Di Fox", "Ed Hale", "Flo Ives"],
            "sex": ["F", "M", "M", "F", "M", "F"],
            "age": [34, 35, 35, 52, 61, 34],
            "zip": ["10001", "10001", "10002", "10002", "10002", "10001"],
            "income": [1000.0, 2500.0, 4000.0, 5200.0, 7000.0, 3100.0],
            "diagnosis": ["flu", "cold", "flu", "asthma", "cold", "flu"],
        }
    )


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(DEFAULT_KEY_ENV, KEY)
    return KEY


# ----------------------------------------------------------------------------------------------
# helpers: independent (slow, obvious) reference implementations
# ----------------------------------------------------------------------------------------------


def fk_bruteforce(df: pd.DataFrame, qis: list[str]) -> list[int]:
    """Wildcard frequencies with two plain loops: '*' and missing match anything."""
    rows = df[qis].astype(object).values.tolist()

    def wild(v: object) -> bool:
        return v == SUPPRESSED or v is None or (isinstance(v, float) and np.isnan(v))

    out = []
    for a in rows:
        out.append(
            sum(all(wild(x) or wild(y) or x == y for x, y in zip(a, b, strict=True)) for b in rows)
        )
    return out


def mdav_reference(x: np.ndarray, k: int) -> list[frozenset[int]]:
    """MDAV written directly from Domingo-Ferrer & Torra (2005), with Python lists."""
    remaining = list(range(len(x)))
    groups: list[frozenset[int]] = []

    def dist(i: int, p: np.ndarray) -> float:
        return float(((x[i] - p) ** 2).sum())

    def group_around(r: int) -> frozenset[int]:
        near = sorted(remaining, key=lambda j: (j != r, dist(j, x[r])))[:k]
        return frozenset(near)

    while len(remaining) >= 3 * k:
        c = x[remaining].mean(axis=0)
        r = max(remaining, key=lambda j: dist(j, c))
        s = max(remaining, key=lambda j: dist(j, x[r]))
        g = group_around(r)
        groups.append(g)
        remaining = [j for j in remaining if j not in g]
        g = group_around(s)
        groups.append(g)
        remaining = [j for j in remaining if j not in g]
    if len(remaining) >= 2 * k:
        c = x[remaining].mean(axis=0)
        r = max(remaining, key=lambda j: dist(j, c))
        g = group_around(r)
        groups.append(g)
        remaining = [j for j in remaining if j not in g]
    if remaining:
        groups.append(frozenset(remaining))
    return groups


class DictHierarchy:
    """A minimal hierarchy: level -> {value: generalized value}."""

    def __init__(self, table: dict[int, dict[str, str]]) -> None:
        self.table = table

    def generalize(self, values: pd.Series, level: int) -> pd.Series:
        if level == 0:
            return values.astype(str)
        return values.astype(str).map(self.table[level])


ZIP_H = DictHierarchy({1: {"10001": "1000*", "10002": "1000*"}, 2: {"10001": "*", "10002": "*"}})


def all_transforms() -> list[Transform]:
    return [
        DropColumns(("name",)),
        Pseudonymize(("name",)),
        FullDomainGeneralization({"zip": 1}, {"zip": ZIP_H}),
        RecordSuppression(("sex", "age"), k=2),
        LocalSuppression(("sex", "age", "zip"), k=2),
        TopBottomCoding("age", top=50),
        Rounding(("income",), base=1000),
        AdditiveNoise(("income",), noise=20, seed=1),
        MultiplicativeNoise(("income",), noise=5, seed=2),
        Microaggregation(("age", "income"), k=2),
        Pram("diagnosis", seed=3),
    ]


# ----------------------------------------------------------------------------------------------
# general contract
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", all_transforms(), ids=lambda t: t.kind)
def test_never_mutates_input_and_round_trips(transform, people, key_env) -> None:
    before = people.copy(deep=True)
    result = transform.apply(people)
    pd.testing.assert_frame_equal(people, before)
    assert result.data is not people
    assert len(result.data) == len(people)
    d = transform.to_dict()
    json.dumps(d)
    json.dumps(result.to_dict())
    rebuilt = Transform.from_dict(json.loads(json.dumps(d)), hierarchies={"zip": ZIP_H})
    assert rebuilt == transform
    assert "rows" not in repr(result) and "Ann" not in repr(result)


@pytest.mark.parametrize("transform", all_transforms(), ids=lambda t: t.kind)
def test_accepts_dataset_and_polars(transform, people, key_env) -> None:
    pl = pytest.importorskip("polars")
    a = transform.apply(people).data
    b = transform.apply(Dataset.from_frame(people, name="people")).data
    c = transform.apply(pl.from_pandas(people)).data
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), c.reset_index(drop=True), check_dtype=False
    )


def test_missing_column_names_column(people) -> None:
    with pytest.raises(ColumnNotFoundError, match="'postcode' not found.*available: name"):
        Rounding(("postcode",)).apply(people)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LocalSuppression(("a",), k=0),
        lambda: LocalSuppression(("a", "b"), importance=("a",)),
        lambda: LocalSuppression(("a",), method="magic"),
        lambda: Rounding(("a",), base=0),
        lambda: Rounding(("a",), mode="sideways"),
        lambda: TopBottomCoding("a"),
        lambda: TopBottomCoding("a", top=1, bottom=5),
        lambda: AdditiveNoise(("a",), noise=-1),
        lambda: Pram("a", pd=1.5),
        lambda: Pram("a", alpha=-0.1),
        lambda: Pram("a", transition={"x": {"x": 0.5}}),
        lambda: Microaggregation(("a",), k=0),
        lambda: Pseudonymize(("a",), length=0),
        lambda: DropColumns(()),
    ],
)
def test_bad_parameters(make) -> None:
    with pytest.raises(ParameterError):
        make()


def test_from_dict_unknown_type() -> None:
    with pytest.raises(ParameterError, match="one of"):
        Transform.from_dict({"type": "shred"})
    with pytest.raises(ParameterError, match="bogus"):
        Transform.from_dict({"type": "rounding", "columns": ["a"], "bogus": 1})


# ----------------------------------------------------------------------------------------------
# direct identifiers
# ----------------------------------------------------------------------------------------------


def test_drop_columns(people) -> None:
    r = DropColumns(("name",)).apply(people)
    assert list(r.data.columns) == ["sex", "age", "zip", "income", "diagnosis"]
    assert r.cells_changed == 6


def test_hmac_matches_rfc4231_vector() -> None:
    # RFC 4231 test case 1: key 0x0b * 20, data "Hi There" (test case 2's 4-byte key "Jefe" is
    # shorter than the 16 bytes a pseudonym key must have, so it is refused)
    key = b"\x0b" * 20
    expected = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    assert pseudonymize_values(["Hi There"], key, length=64) == [expected]
    assert pseudonymize_values(["  Hi There\n"], key, length=16) == [expected[:16]]
    with pytest.raises(ParameterError, match="16 bytes"):
        pseudonymize_values(["what do ya want for nothing?"], b"Jefe")


def test_pseudonyms_hand_checked(people, key_env) -> None:
    r = Pseudonymize(("name",)).apply(people)
    expected = [
        hmac.new(KEY.encode(), n.encode(), hashlib.sha256).hexdigest()[:16] for n in people["name"]
    ]
    assert r.data["name"].tolist() == expected
    assert r.cells_changed == 6
    assert r.details["key_source"] == f"env:{DEFAULT_KEY_ENV}"
    assert r.data["sex"].tolist() == people["sex"].tolist()


def test_pseudonyms_stable_and_key_dependent(people, monkeypatch) -> None:
    monkeypatch.setenv(DEFAULT_KEY_ENV, KEY)
    a = Pseudonymize(("name",)).apply(people).data["name"]
    b = Pseudonymize(("name",)).apply(people).data["name"]
    monkeypatch.setenv(DEFAULT_KEY_ENV, OTHER_KEY)
    c = Pseudonymize(("name",)).apply(people).data["name"]
    assert a.tolist() == b.tolist()
    assert all(x != y for x, y in zip(a, c, strict=True))


def test_pseudonyms_stable_across_processes(key_env) -> None:
    code = (
        "from workbench.deid.transforms import pseudonymize_values, load_pseudonym_key\n"
        "key, _ = load_pseudonym_key()\n"
        "print(pseudonymize_values(['R000042'], key)[0])\n"
    )
    env = {**os.environ, DEFAULT_KEY_ENV: KEY, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    here = pseudonymize_values(["R000042"], KEY.encode())[0]
    assert out.stdout.strip() == here


def test_same_pseudonym_in_every_department(key_env) -> None:
    clinic = pd.DataFrame({"resident_id": ["R001", "R002 "], "dx": ["a", "b"]})
    housing = pd.DataFrame({"rid": ["R002", "R003"], "band": ["x", "y"]})
    pc = Pseudonymize(("resident_id",)).apply(clinic).data
    ph = Pseudonymize(("rid",)).apply(housing).data
    joined = pc.merge(ph, left_on="resident_id", right_on="rid")
    assert joined["dx"].tolist() == ["b"] and joined["band"].tolist() == ["x"]


def test_pseudonym_normalisation_flags(key_env) -> None:
    key = KEY.encode()
    assert pseudonymize_values(["Ann"], key) != pseudonymize_values(["ann"], key)
    assert pseudonymize_values(["Ann"], key, casefold=True) == pseudonymize_values(
        ["ANN "], key, casefold=True
    )
    assert pseudonymize_values([" Ann"], key, strip=False) != pseudonymize_values(["Ann"], key)
    # composed and decomposed accents are the same name
    assert pseudonymize_values(["Zo\u00eb"], key) == pseudonymize_values(["Zoe\u0308"], key)
    assert pseudonymize_values([None, float("nan"), "", "  "], key) == [None] * 4
    assert len(pseudonymize_values(["x"], key, length=10)[0]) == 10


def test_key_never_in_repr_dict_or_result(people, key_env) -> None:
    t = Pseudonymize(("name",))
    r = t.apply(people)
    texts = [repr(t), json.dumps(t.to_dict()), repr(r), json.dumps(r.to_dict()), str(r.details)]
    for text in texts:
        assert KEY not in text
        assert hashlib.sha256(KEY.encode()).hexdigest()[:8] not in text
    assert t.to_dict()["key_source"] == f"env:{DEFAULT_KEY_ENV}"
    assert not any("Ann" in x for x in texts)


def test_missing_key_names_env_var_and_key_file(people, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(DEFAULT_KEY_ENV, raising=False)
    missing = tmp_path / "nope.key"
    with pytest.raises(KeyMissingError) as info:
        Pseudonymize(("name",), key_file=str(missing)).apply(people)
    assert DEFAULT_KEY_ENV in str(info.value) and "nope.key" in str(info.value)
    with pytest.raises(KeyMissingError, match="key file"):
        Pseudonymize(("name",)).apply(people)


def test_key_file_and_precedence(people, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(DEFAULT_KEY_ENV, raising=False)
    kf = tmp_path / "dept.key"
    kf.write_text(KEY + "\n")
    from_file = Pseudonymize(("name",), key_file=str(kf)).apply(people)
    assert from_file.details["key_source"] == f"file:{kf}"
    # the one rule (workbench.deid.pseudonym): a named key file wins over the environment
    monkeypatch.setenv(DEFAULT_KEY_ENV, OTHER_KEY)
    still_file = Pseudonymize(("name",), key_file=str(kf)).apply(people)
    assert still_file.details["key_source"] == f"file:{kf}"
    assert still_file.data["name"].tolist() == from_file.data["name"].tolist()
    monkeypatch.setenv(DEFAULT_KEY_ENV, KEY)
    from_env = Pseudonymize(("name",)).apply(people)
    assert from_env.details["key_source"] == f"env:{DEFAULT_KEY_ENV}"
    assert from_file.data["name"].tolist() == from_env.data["name"].tolist()
    monkeypatch.setenv("MY_KEY", OTHER_KEY)
    custom = Pseudonymize(("name",), key_env="MY_KEY").apply(people)
    assert custom.data["name"].tolist() != from_env.data["name"].tolist()


def test_short_key_refused_without_showing_it(monkeypatch) -> None:
    monkeypatch.setenv(DEFAULT_KEY_ENV, "hunter2")
    with pytest.raises(ParameterError) as info:
        load_pseudonym_key()
    assert "hunter2" not in str(info.value) and "16 bytes" in str(info.value)


def test_collision_probability() -> None:
    assert pseudonym_collision_probability(1, 16) == 0.0
    assert pseudonym_collision_probability(10**6, 16) == pytest.approx(2.71e-8, rel=0.01)
    # 2 ids, 1 hex char: probability 1/16
    assert pseudonym_collision_probability(2, 1) == pytest.approx(1 - np.exp(-1 / 16))


# ----------------------------------------------------------------------------------------------
# generalization and record suppression
# ----------------------------------------------------------------------------------------------


def test_full_domain_generalization_hand_checked() -> None:
    df = pd.DataFrame({"zip": ["10001", "10002", None, "*"], "x": [1, 2, 3, 4]})
    r = FullDomainGeneralization({"zip": 1}, {"zip": ZIP_H}).apply(df)
    assert r.data["zip"].tolist()[:2] == ["1000*", "1000*"]
    assert pd.isna(r.data["zip"].iloc[2]) and r.data["zip"].iloc[3] == "*"
    assert r.cells_changed == 2
    assert r.details["columns"]["zip"]["distinct_after"] == 2


def test_generalization_with_workbench_hierarchy(people) -> None:
    from workbench.deid.hierarchy import Hierarchy

    h = Hierarchy.from_rows(
        [["34", "30-39", "*"], ["35", "30-39", "*"], ["52", "50-59", "*"], ["61", "60-69", "*"]],
        name="age",
    )
    t = FullDomainGeneralization({"age": 1}, {"age": h})
    r = t.apply(people)
    assert r.data["age"].tolist() == ["30-39", "30-39", "30-39", "50-59", "60-69", "30-39"]
    rebuilt = Transform.from_dict(json.loads(json.dumps(t.to_dict())))  # hierarchy stored
    assert rebuilt.apply(people).data.equals(r.data)


def test_generalization_needs_hierarchy() -> None:
    with pytest.raises(HierarchyError, match="'zip'"):
        FullDomainGeneralization({"zip": 1}, {})
    with pytest.raises(ParameterError):
        FullDomainGeneralization({"zip": -1}, {"zip": ZIP_H})


def test_record_suppression_hand_checked(people) -> None:
    r = RecordSuppression(("sex", "age"), k=2).apply(people)
    # classes: (F,34) x2, (M,35) x2, (F,52), (M,61) -> rows 3 and 4 suppressed
    assert r.suppressed.tolist() == [False, False, False, True, True, False]
    assert r.records_suppressed == 2
    assert r.data.loc[3, ["sex", "age"]].tolist() == ["*", "*"]
    assert r.data.loc[3, "zip"] == "10002"  # non-QI columns are kept
    assert r.cells_suppressed == 4
    assert r.details["classes"] == 4


def test_record_suppression_missing_is_a_category() -> None:
    df = pd.DataFrame({"a": ["x", None, None, "y"]})
    r = RecordSuppression(("a",), k=2).apply(df)
    assert r.suppressed.tolist() == [True, False, False, True]


# ----------------------------------------------------------------------------------------------
# local suppression
# ----------------------------------------------------------------------------------------------


def test_wildcard_frequencies_hand_checked() -> None:
    codes = np.array([[0, 0], [0, -1], [1, 0], [-1, -1], [1, 1]])
    # row0 matches 0,1,3 ; row1 matches 0,1,3 ; row2 matches 2,3 ; row3 all 5 ; row4 matches 4,3
    assert wildcard_frequencies(codes).tolist() == [3, 3, 2, 5, 2]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(1, 4),
            st.lists(st.integers(-1, 2), min_size=n * 4, max_size=n * 4),
        )
    )
)
def test_wildcard_frequencies_match_bruteforce(args) -> None:
    n, m, flat = args
    codes = np.array(flat[: n * 4]).reshape(n, 4)[:, :m]
    df = pd.DataFrame(codes.astype(object)).map(lambda v: SUPPRESSED if v < 0 else v)
    df.columns = [f"c{j}" for j in range(m)]
    assert wildcard_frequencies(codes).tolist() == fk_bruteforce(df, list(df.columns))


def test_local_suppression_hand_checked() -> None:
    df = pd.DataFrame(
        {
            "sex": ["F", "F", "M", "M", "M", "F"],
            "age": [30, 30, 40, 40, 41, 52],
            "zip": ["a", "a", "b", "b", "b", "c"],
        }
    )
    r = LocalSuppression(("sex", "age", "zip"), k=2, importance=("sex", "zip", "age")).apply(df)
    # (M,41,b) needs its age suppressed; (F,52,c) needs age and zip to match (F,30,a)
    expected = pd.DataFrame(
        {
            "sex": ["F", "F", "M", "M", "M", "F"],
            "age": [30, 30, 40, 40, "*", "*"],
            "zip": ["a", "a", "b", "b", "b", "*"],
        }
    )
    assert r.data.astype(str).equals(expected.astype(str))
    assert r.cells_suppressed == 3 and r.records_suppressed == 0
    assert r.details["suppressed_per_column"] == {"sex": 0, "age": 2, "zip": 1}
    assert fk_bruteforce(r.data, ["sex", "age", "zip"]) == [3, 3, 3, 3, 3, 3]


def test_local_suppression_respects_importance() -> None:
    # the last record reaches k=2 by suppressing either a or b: the least important one goes
    df = pd.DataFrame({"a": ["x", "x", "y", "y", "x"], "b": ["p", "p", "q", "q", "q"]})
    ra = LocalSuppression(("a", "b"), k=2, importance=("a", "b")).apply(df)
    rb = LocalSuppression(("a", "b"), k=2, importance=("b", "a")).apply(df)
    assert ra.details["suppressed_per_column"] == {"a": 0, "b": 1}
    assert rb.details["suppressed_per_column"] == {"a": 1, "b": 0}
    for r in (ra, rb):
        assert min(fk_bruteforce(r.data, ["a", "b"])) >= 2


def test_local_suppression_default_importance_is_fewest_categories_first() -> None:
    df = pd.DataFrame({"few": ["x", "x", "y", "y"], "many": ["1", "2", "3", "4"]})
    t = LocalSuppression(("many", "few"), k=2)
    assert t.resolved_importance(df) == ("few", "many")
    r = t.apply(df)
    # one '*' per pair is enough: (*, x) matches (2, x) as a wildcard
    assert r.details["suppressed_per_column"] == {"many": 2, "few": 0}
    assert fk_bruteforce(r.data, ["many", "few"]) == [2, 2, 2, 2]


def test_local_suppression_existing_missing_is_wildcard() -> None:
    df = pd.DataFrame({"a": ["x", None, "y"], "b": ["p", "p", "q"]})
    r = LocalSuppression(("a", "b"), k=2).apply(df)
    assert min(fk_bruteforce(r.data, ["a", "b"])) >= 2
    assert pd.isna(r.data["a"].iloc[1])


def test_exact_local_suppression_hand_checked() -> None:
    # (0,0), (0,1), (1,0) with k=3: every record must match both others. One '*' leaves two
    # known records differing in both columns; two suffice: (0,*) and (*,0) match everything.
    codes = np.array([[0, 0], [0, 1], [1, 0]])
    out = _exact_local_suppression(codes, 3, np.array([0, 1]), 20)
    assert ((out < 0) & (codes >= 0)).sum() == 2
    assert wildcard_frequencies(out).min() >= 3


def test_exact_refuses_big_inputs(people) -> None:
    with pytest.raises(ParameterError, match="greedy"):
        LocalSuppression(("sex", "age", "zip"), k=3, method="exact", max_exact_cells=4).apply(
            people
        )


def test_k_larger_than_records_refused(people) -> None:
    with pytest.raises(ParameterError, match="number of records"):
        LocalSuppression(("sex",), k=7).apply(people)


def test_greedy_never_below_k_and_close_to_optimal() -> None:
    rng = np.random.default_rng(20260101)
    optimal = total = 0
    for _ in range(80):
        n, m, k = int(rng.integers(3, 7)), int(rng.integers(1, 4)), int(rng.integers(2, 4))
        if k > n:
            continue
        codes = rng.integers(0, int(rng.integers(1, 4)), size=(n, m))
        rank = rng.permutation(m)
        try:
            exact = _exact_local_suppression(codes, k, rank, 12)
        except ParameterError:
            continue
        greedy = _greedy_local_suppression(codes, k, rank)
        assert wildcard_frequencies(greedy).min() >= k
        ne = int(((exact < 0) & (codes >= 0)).sum())
        ng = int(((greedy < 0) & (codes >= 0)).sum())
        assert ng >= ne  # the exact search really is a minimum
        assert ng <= ne + 2
        total += 1
        optimal += ng == ne
    assert total >= 50
    assert optimal / total >= 0.75


def test_local_suppression_on_adult_reaches_k(adult_csv) -> None:
    adult = pd.read_csv(adult_csv, sep=";").head(4000)
    qis = ["sex", "age", "race", "marital-status", "education"]
    r = LocalSuppression(qis, k=3).apply(adult)
    assert is_k_anonymous_wildcard(r.data, qis, 3)
    assert not is_k_anonymous_wildcard(adult, qis, 3)
    # independent check on distinct patterns with numpy string comparisons
    patterns = r.data[qis].astype(str).value_counts()
    table = np.array([list(p) for p in patterns.index], dtype=object)
    counts = patterns.to_numpy()
    for row in table:
        ok = ((table == row) | (table == "*") | (row == "*")).all(axis=1)
        assert counts[ok].sum() >= 3
    # only records that violated 3-anonymity before were touched
    fk0 = wildcard_frequencies(np.column_stack([pd.factorize(adult[q])[0] for q in qis]))
    touched = (r.data[qis].astype(str) == "*").any(axis=1).to_numpy()
    assert not (touched & (fk0 >= 3)).any()


# ----------------------------------------------------------------------------------------------
# numeric recodings and noise
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "values", "expected"),
    [
        ({"top": 10}, [1, 5, 10, 20], [1, 5, 10, 10]),
        ({"top": 10, "top_replacement": 12}, [1, 5, 10, 20], [1, 5, 10, 12]),
        ({"bottom": 5}, [1, 5, 10, 20], [5, 5, 10, 20]),
        ({"bottom": 5, "top": 10}, [1, 5, 10, 20], [5, 5, 10, 10]),
        ({"bottom": 2.5, "bottom_replacement": 0}, [1.0, 3.0], [0.0, 3.0]),
    ],
)
def test_top_bottom_coding(kwargs, values, expected) -> None:
    df = pd.DataFrame({"v": values})
    r = TopBottomCoding("v", **kwargs).apply(df)
    assert r.data["v"].tolist() == expected
    assert r.cells_changed == sum(a != b for a, b in zip(values, expected, strict=True))


def test_coding_leaves_missing_and_stars() -> None:
    df = pd.DataFrame({"v": [1, "*", None, 99]}, dtype=object)
    r = TopBottomCoding("v", top=50).apply(df)
    assert r.data["v"].tolist()[:2] == [1, "*"] and pd.isna(r.data["v"].iloc[2])
    assert r.data["v"].iloc[3] == 50


@pytest.mark.parametrize(
    ("base", "mode", "values", "expected"),
    [
        (5, "nearest", [12.5, 12.4, 7, 0, 2.4, -2.5, -2.6], [15, 10, 5, 0, 0, 0, -5]),
        (5, "down", [12.5, 14.9, -0.1], [10, 10, -5]),
        (5, "up", [10.0, 10.1, -4.9], [10, 15, 0]),
        (0.1, "nearest", [0.26, 0.34, 1.05], [0.3, 0.3, 1.1]),
        (1000, "nearest", [1499, 1500, 250001], [1000, 2000, 250000]),
    ],
)
def test_rounding(base, mode, values, expected) -> None:
    r = Rounding(("v",), base=base, mode=mode).apply(pd.DataFrame({"v": values}))
    assert r.data["v"].tolist() == pytest.approx(expected)


def test_rounding_keeps_integer_dtype() -> None:
    r = Rounding(("v",), base=5).apply(pd.DataFrame({"v": [1, 3, 8]}))
    assert r.data["v"].dtype == np.int64 and r.data["v"].tolist() == [0, 5, 10]


def test_additive_noise_matches_sdcmicro_formula() -> None:
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    r = AdditiveNoise(("v",), noise=50, seed=7).apply(pd.DataFrame({"v": x}))
    z = np.random.default_rng(7).standard_normal(5)
    assert r.data["v"].to_numpy() == pytest.approx(x + z * 0.5 * np.std(x, ddof=1))


def test_noise_is_seeded_and_reproducible() -> None:
    df = pd.DataFrame({"v": np.arange(50, dtype=float)})
    for cls in (AdditiveNoise, MultiplicativeNoise):
        a = cls(("v",), seed=1).apply(df).data["v"]
        b = cls(("v",), seed=1).apply(df).data["v"]
        c = cls(("v",), seed=2).apply(df).data["v"]
        assert a.tolist() == b.tolist()
        assert a.tolist() != c.tolist()
        assert cls(("v",), noise=0, seed=3).apply(df).data["v"].tolist() == df["v"].tolist()


def test_noise_level_is_percent_of_sd() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(100, 20, size=20000)
    out = AdditiveNoise(("v",), noise=50, seed=5).apply(pd.DataFrame({"v": x})).data["v"]
    assert np.std(out - x) == pytest.approx(0.5 * np.std(x, ddof=1), rel=0.03)
    out = MultiplicativeNoise(("v",), noise=10, seed=5).apply(pd.DataFrame({"v": x})).data["v"]
    assert np.std(out / x - 1) == pytest.approx(0.10, rel=0.03)


def test_noise_keeps_missing() -> None:
    df = pd.DataFrame({"v": [1.0, np.nan, 3.0, 4.0]})
    out = AdditiveNoise(("v",), seed=1).apply(df).data["v"]
    assert pd.isna(out.iloc[1]) and out.notna().sum() == 3


def test_noise_refuses_text() -> None:
    with pytest.raises(ParameterError, match="numeric"):
        AdditiveNoise(("v",), seed=1).apply(pd.DataFrame({"v": ["a", "b"]}))


# ----------------------------------------------------------------------------------------------
# microaggregation
# ----------------------------------------------------------------------------------------------


def test_mdav_hand_checked() -> None:
    df = pd.DataFrame({"v": [0.0, 1, 2, 3, 10, 11, 12]})
    r = Microaggregation(("v",), k=3).apply(df)
    # centroid 5.57: farthest is 12 -> group {10, 11, 12}; the remaining 4 form the last group
    assert r.data["v"].tolist() == pytest.approx([1.5, 1.5, 1.5, 1.5, 11, 11, 11])
    assert r.details["groups"] == 2 and r.details["min_group_size"] == 3
    df = pd.DataFrame({"v": [1.0, 2, 3, 10, 11, 12]})
    assert Microaggregation(("v",), k=3).apply(df).data["v"].tolist() == pytest.approx(
        [2, 2, 2, 11, 11, 11]
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(0, 10**6))
def test_mdav_group_sizes(k, n, seed) -> None:
    if n < k:
        with pytest.raises(ParameterError):
            mdav_groups(np.zeros((n, 2)), k)
        return
    x = np.random.default_rng(seed).normal(size=(n, 2))
    sizes = np.bincount(mdav_groups(x, k))
    assert sizes.min() >= k
    assert sizes.max() <= max(2 * k - 1, k)


def test_mdav_matches_reference() -> None:
    rng = np.random.default_rng(11)
    for _ in range(15):
        n, k = int(rng.integers(5, 40)), int(rng.integers(2, 5))
        x = rng.normal(size=(n, 3))
        labels = mdav_groups(x, k)
        ours = {frozenset(np.flatnonzero(labels == g).tolist()) for g in np.unique(labels)}
        assert ours == set(mdav_reference(x, k))


def test_microaggregation_preserves_means_and_standardizes(people) -> None:
    r = Microaggregation(("age", "income"), k=3).apply(people)
    assert r.data[["age", "income"]].mean().tolist() == pytest.approx(
        people[["age", "income"]].mean().tolist()
    )
    # each group shares one value per column
    assert r.data.groupby(["age", "income"]).size().min() >= 3
    assert 0 <= r.details["sse_sst"] <= 1


def test_microaggregation_refuses_missing() -> None:
    with pytest.raises(ParameterError, match="complete"):
        Microaggregation(("v",), k=2).apply(pd.DataFrame({"v": [1.0, None, 3.0]}))


# ----------------------------------------------------------------------------------------------
# PRAM
# ----------------------------------------------------------------------------------------------


def test_invariant_matrix_hand_checked() -> None:
    p = np.array([[0.8, 0.2], [0.4, 0.6]])
    t = np.array([30.0, 10.0])
    # Q = [[6/7, 1/7], [1/2, 1/2]], R = PQ = [[11/14, 3/14], [9/14, 5/14]]
    assert invariant_pram_matrix(p, t, alpha=1.0) == pytest.approx(np.array([[11, 3], [9, 5]]) / 14)
    assert invariant_pram_matrix(p, t, alpha=0.5) == pytest.approx(
        np.array([[25, 3], [9, 19]]) / 28
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(0, 10**6))
def test_invariant_matrix_preserves_expected_frequencies(L, pd_min, alpha, seed) -> None:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 50, size=L).astype(float)
    t[0] += 1
    d = rng.uniform(pd_min, 1.0, size=L)
    p = np.repeat(((1 - d) / (L - 1))[:, None], L, axis=1)
    np.fill_diagonal(p, d)
    r = invariant_pram_matrix(p, t, alpha)
    assert r.sum(axis=1) == pytest.approx(np.ones(L))
    assert (r >= -1e-12).all()
    assert t @ r == pytest.approx(t)


def test_pram_frequencies_preserved_in_expectation() -> None:
    rng = np.random.default_rng(3)
    cats = rng.choice(["a", "b", "c", "d"], size=40000, p=[0.5, 0.3, 0.15, 0.05])
    df = pd.DataFrame({"x": cats})
    r = Pram("x", pd=0.5, alpha=1.0, seed=9).apply(df)
    before = df["x"].value_counts(normalize=True).sort_index()
    after = r.data["x"].value_counts(normalize=True).sort_index()
    assert r.details["changed"] > 2000  # the data really were perturbed
    assert after.to_numpy() == pytest.approx(before.to_numpy(), abs=0.01)
    rs = np.array(r.details["matrix"])
    assert np.array(r.details["frequencies"]) @ rs == pytest.approx(r.details["frequencies"])
    assert (np.diag(rs) > 0).all()


def test_pram_seeded_and_no_op_settings() -> None:
    df = pd.DataFrame({"x": list("aabbbcccdd") * 5, "y": range(50)})
    a = Pram("x", seed=1).apply(df).data["x"].tolist()
    assert a == Pram("x", seed=1).apply(df).data["x"].tolist()
    assert a != Pram("x", seed=2).apply(df).data["x"].tolist()
    assert Pram("x", pd=1.0, seed=1).apply(df).data["x"].tolist() == df["x"].tolist()
    assert Pram("x", alpha=0.0, seed=1).apply(df).data["x"].tolist() == df["x"].tolist()
    identity = {c: {d: float(c == d) for d in "abcd"} for c in "abcd"}
    r = Pram("x", transition=identity, seed=1).apply(df)
    assert r.data["x"].tolist() == df["x"].tolist() and r.cells_changed == 0


def test_pram_custom_matrix_not_invariant() -> None:
    swap = {"a": {"a": 0.0, "b": 1.0}, "b": {"a": 1.0, "b": 0.0}}
    df = pd.DataFrame({"x": ["a", "a", "b"]})
    r = Pram("x", transition=swap, invariant=False, seed=1).apply(df)
    assert r.data["x"].tolist() == ["b", "b", "a"]


def test_pram_leaves_missing_and_stars() -> None:
    df = pd.DataFrame({"x": ["a", None, "*", "b"] * 10})
    r = Pram("x", pd=0.0, alpha=1.0, seed=4).apply(df)
    assert r.data["x"].isna().sum() == 10
    assert (r.data["x"] == "*").sum() == 10
    assert r.details["levels"] == ["a", "b"]


# ----------------------------------------------------------------------------------------------
# pipeline
# ----------------------------------------------------------------------------------------------


def test_pipeline_applies_in_order_and_records_steps(people, key_env) -> None:
    pipe = Pipeline(
        (
            Pseudonymize(("name",)),
            FullDomainGeneralization({"zip": 1}, {"zip": ZIP_H}),
            RecordSuppression(("sex", "age"), k=2),
            Rounding(("income",), base=1000),
            LocalSuppression(("sex", "age", "zip"), k=2),
        )
    )
    before = people.copy(deep=True)
    res = pipe.apply(people)
    pd.testing.assert_frame_equal(people, before)
    assert [s.transform for s in res.steps] == [
        "pseudonymize",
        "generalize",
        "record_suppression",
        "rounding",
        "local_suppression",
    ]
    assert res.records_suppressed == 2
    assert res.suppressed.tolist() == [False, False, False, True, True, False]
    # suppressed records are left alone by later steps
    assert res.data.loc[3, ["sex", "age"]].tolist() == ["*", "*"]
    assert res.data["zip"].tolist() == ["1000*"] * 6
    assert res.data["income"].tolist() == [1000, 3000, 4000, 5000, 7000, 3000]  # 2500 rounds up
    d = json.loads(json.dumps(pipe.to_dict()))
    assert Pipeline.from_dict(d, hierarchies={"zip": ZIP_H}) == pipe
    assert KEY not in json.dumps(res.to_dict())


def test_empty_pipeline_copies(people) -> None:
    res = Pipeline().apply(people)
    assert res.data.equals(people) and res.data is not people and res.steps == ()
