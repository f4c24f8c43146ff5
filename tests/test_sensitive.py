"""Attribute disclosure measures: hand-computed tables, pure-python and LP references."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from workbench.errors import HierarchyError, ParameterError
from workbench.risk.sensitive import beta_likeness, delta_disclosure, l_diversity, t_closeness

# --------------------------------------------------------------------------------------------
# l-diversity
# --------------------------------------------------------------------------------------------

# class 0: a a a b   -> distinct 2, q = (3/4, 1/4), recursive (l=2): r1 / r2 = 3 / 1 = 3
# class 1: a b c c   -> distinct 3, counts sorted (2, 1, 1): l=2 -> 2 / (1 + 1) = 1; l=3 -> 2 / 1
# class 2: d         -> distinct 1, H = 0, exp(H) = 1, no r_2: infinite
L_CLASSES = [0, 0, 0, 0, 1, 1, 1, 1, 2]
L_VALUES = ["a", "a", "a", "b", "a", "b", "c", "c", "d"]


def test_l_diversity_hand_table():
    r = l_diversity(L_CLASSES, L_VALUES, 3, l=2)
    assert r.distinct.tolist() == [2, 3, 1]
    # exp(H) = prod q^-q: class 0 = (3/4)^-(3/4) (1/4)^-(1/4); class 1 = 2^(1/2) 4^(1/4) 4^(1/4)
    assert r.exp_entropy == pytest.approx([0.75**-0.75 * 0.25**-0.25, 2**1.5, 1.0])
    assert r.recursive_ratio.tolist() == [3.0, 1.0, math.inf]
    assert r.distinct_l == 1 and r.entropy_l == pytest.approx(1.0)
    assert r.recursive_c is None and "1 class(es)" in r.recursive_reason
    assert r.recursive_ratios(3).tolist() == [math.inf, 2.0, math.inf]
    assert r.satisfies("distinct", 2).tolist() == [True, True, False]
    assert r.satisfies("entropy", 2).tolist() == [False, True, False]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["records_below_l_distinct"] == 1 and d["classes_below_l_distinct"] == 1


def test_recursive_c_is_the_largest_ratio():
    r = l_diversity(L_CLASSES[:8], L_VALUES[:8], 2, l=2)
    assert r.recursive_c == 3.0 and r.recursive_reason is None
    assert r.distinct_l == 2 and r.entropy_l == pytest.approx(0.75**-0.75 * 0.25**-0.25)
    # r1 < c (r_l + ... + r_m) is strict: c = 3 fails class 0 (3 < 3), any c > 3 passes
    assert r.satisfies("recursive", 2, c=3).tolist() == [False, True]
    assert r.satisfies("recursive", 2, c=3.01).tolist() == [True, True]
    assert r.satisfies("recursive", 3, c=2.5).tolist() == [False, True]


def test_entropy_uniform_class_passes_exactly():
    r = l_diversity([0, 0, 0], [1, 2, 3], 1, l=3)
    assert r.satisfies("entropy", 3).tolist() == [True]
    assert r.entropy_l == pytest.approx(3.0)


def test_l_diversity_edge_cases():
    one = l_diversity([0], [5], 1, l=1)
    assert one.distinct.tolist() == [1] and one.entropy_l == 1.0 and one.recursive_c == 1.0
    same = l_diversity([0, 0, 1], [7, 7, 7], 2, l=2)
    assert same.distinct_l == 1 and same.recursive_c is None
    big_l = l_diversity(L_CLASSES, L_VALUES, 3, l=5)
    assert big_l.recursive_c is None and not big_l.satisfies("distinct", 5).any()
    gap = l_diversity([0, 0, 2], [1, 2, 1], 3)  # class 1 has no records
    assert gap.distinct.tolist() == [2, 0, 1]
    assert gap.satisfies("distinct", 2).tolist() == [True, True, False]
    assert gap.to_dict()["classes"] == 2
    empty = l_diversity([], [], 0)
    assert empty.distinct_l == 0 and empty.recursive_c == 0.0


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (([0, 1], [1, 2], 1), {}),  # class id out of range
        (([0, 0], [1], 1), {}),  # length mismatch
        (([0], [1], 1), {"l": 0}),
        (([0.5], [1], 1), {}),
    ],
)
def test_l_diversity_bad_input(args, kwargs):
    with pytest.raises(ParameterError):
        l_diversity(*args, **kwargs)


def test_satisfies_bad_kind_and_c():
    r = l_diversity([0, 0], [1, 2], 1)
    with pytest.raises(ParameterError):
        r.satisfies("recursive", 2)
    with pytest.raises(ParameterError):
        r.satisfies("nonsense", 2)


# --------------------------------------------------------------------------------------------
# t-closeness
# --------------------------------------------------------------------------------------------

# Li, Li & Venkatasubramanian (2007), salary example: 9 records 3k..11k, classes
# {3k,4k,5k}, {6k,8k,11k}, {7k,9k,10k}. Ordered EMD with p_i = 1/9, m = 9:
#   class 0: cumulative (p - q) = -2,-4,-6,-5,-4,-3,-2,-1,0 (/9) -> 27/9 / 8 = 0.375 (paper)
#   class 1: 1,2,3,1,2,0,1,2,0 (/9) -> 12/9 / 8 = 0.1667 (paper: 0.167)
#   class 2: 1,2,3,4,2,3,1,-1,0 (/9) -> 17/9 / 8 = 17/72
# Equal distance: 0.5 * (3 * (1/3 - 1/9) + 6 * 1/9) = 2/3 for every class.
SALARY = [3, 4, 5, 6, 8, 11, 7, 9, 10]
SALARY_CLASSES = [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_t_closeness_ordered_paper_example():
    r = t_closeness(SALARY_CLASSES, SALARY, 3, kind="ordered")
    assert r.distances == pytest.approx([0.375, 12 / 72, 17 / 72])
    assert r.t == pytest.approx(0.375) and r.worst_class == 0
    assert r.satisfies(0.3).tolist() == [False, True, True]


def test_t_closeness_equal_hand():
    r = t_closeness(SALARY_CLASSES, SALARY, 3)
    assert r.distances == pytest.approx([2 / 3] * 3)
    assert json.loads(json.dumps(r.to_dict()))["distance"] == "equal"


# Disease example (records and classes of Li et al.'s Table 3/5). Hierarchy of height 2:
# Stomach {gastric ulcer, gastritis, stomach cancer}, Respiratory {flu, bronchitis, pneumonia},
# Vascular {edema, embolism} (no records), all under "*". p (/9): gu 1, gastritis 2, sc 2,
# flu 1, bronchitis 2, pneumonia 1.
#   class 0 {gu, gastritis, sc}: extras p - q = -2,-1,-1 | 1,2,1 (/9); inner nodes one-signed
#       (cost 0), root moves 4/9 at distance 2/2 -> 4/9.
#   class 1 {gastritis, flu, bronchitis}: Stomach pos 3/9 neg 1/9 -> 1/2 * 1/9;
#       Respiratory pos 1/9 neg 3/9 -> 1/2 * 1/9; root 2/9 -> total 1/3.
#   class 2 {bronchitis, pneumonia, sc}: symmetric to class 1 -> 1/3.
DISEASE = [
    "gu",
    "gastritis",
    "sc",
    "gastritis",
    "flu",
    "bronchitis",
    "bronchitis",
    "pneumonia",
    "sc",
]
DISEASE_CLASSES = [0, 0, 0, 1, 1, 1, 2, 2, 2]
DISEASE_TREE = [
    ["gu", "Stomach", "*"],
    ["gastritis", "Stomach", "*"],
    ["sc", "Stomach", "*"],
    ["flu", "Respiratory", "*"],
    ["bronchitis", "Respiratory", "*"],
    ["pneumonia", "Respiratory", "*"],
    ["edema", "Vascular", "*"],
    ["embolism", "Vascular", "*"],
]


def test_t_closeness_hierarchical_hand():
    r = t_closeness(DISEASE_CLASSES, DISEASE, 3, kind="hierarchical", hierarchy=DISEASE_TREE)
    assert r.distances == pytest.approx([4 / 9, 1 / 3, 1 / 3])
    assert r.height == 2 and r.t == pytest.approx(4 / 9)


def test_hierarchical_codes_with_labels_match_strings():
    codes, labels = pd.factorize(pd.Series(DISEASE))
    r = t_closeness(
        DISEASE_CLASSES, codes, 3, kind="hierarchical", hierarchy=DISEASE_TREE, labels=list(labels)
    )
    assert r.distances == pytest.approx([4 / 9, 1 / 3, 1 / 3])
    with pytest.raises(ParameterError, match="labels"):
        t_closeness(
            DISEASE_CLASSES, codes, 3, kind="hierarchical", hierarchy=DISEASE_TREE, labels=["gu"]
        )


def test_hierarchy_with_several_tops_gets_a_root():
    # without "*" the two groups get an implicit root: same distances as with it
    tree = [row[:2] for row in DISEASE_TREE]
    r = t_closeness(DISEASE_CLASSES, DISEASE, 3, kind="hierarchical", hierarchy=tree)
    assert r.distances == pytest.approx([4 / 9, 1 / 3, 1 / 3])


def test_flat_hierarchy_equals_equal_distance():
    flat = [[v, "*"] for v in set(DISEASE)]
    h = t_closeness(DISEASE_CLASSES, DISEASE, 3, kind="hierarchical", hierarchy=flat)
    e = t_closeness(DISEASE_CLASSES, DISEASE, 3)
    np.testing.assert_allclose(h.distances, e.distances)


def test_hierarchy_errors():
    with pytest.raises(HierarchyError, match="does not cover 1"):
        t_closeness([0, 0], ["gu", "x"], 1, kind="hierarchical", hierarchy=DISEASE_TREE)
    with pytest.raises(HierarchyError, match="lengths"):
        t_closeness([0], ["gu"], 1, kind="hierarchical", hierarchy=[["gu", "*"], ["a", "b", "*"]])
    with pytest.raises(HierarchyError, match="empty"):
        t_closeness([0], ["gu"], 1, kind="hierarchical", hierarchy=[])
    with pytest.raises(ParameterError):
        t_closeness([0], ["gu"], 1, kind="hierarchical")
    with pytest.raises(ParameterError):
        t_closeness([0], ["gu"], 1, kind="manhattan")


def test_t_closeness_edge_cases():
    for kind in ("equal", "ordered"):
        same = t_closeness([0, 1, 1], [4, 4, 4], 2, kind=kind)
        assert same.distances.tolist() == [0.0, 0.0] and same.t == 0.0
        one = t_closeness([0], [1], 1, kind=kind)
        assert one.t == 0.0
    gap = t_closeness([0, 2], [1, 2], 3)
    assert np.isnan(gap.distances[1]) and gap.satisfies(0.1).tolist() == [False, True, False]


def test_ordered_chunks_agree(monkeypatch):
    rng = np.random.default_rng(3)
    cls = rng.integers(0, 40, 500)
    vals = rng.integers(0, 12, 500)
    whole = t_closeness(cls, vals, 40, kind="ordered").distances
    import workbench.models.t_closeness as tc

    monkeypatch.setattr(tc, "_CHUNK_CELLS", 30)
    np.testing.assert_allclose(t_closeness(cls, vals, 40, kind="ordered").distances, whole)


def test_many_classes_use_sparse_counts():
    r = l_diversity([5, 5, 999_999], [1, 2, 1], 1_000_000)
    assert r.distinct[[5, 999_999]].tolist() == [2, 1]
    assert t_closeness([5, 5, 999_999], [1, 2, 1], 1_000_000).t == pytest.approx(1 / 3)


def test_adult_education_hierarchy(adult_csv):
    df = pd.read_csv(adult_csv, sep=";")
    hier_path = Path(adult_csv).with_name("adult_hierarchy_education.csv")
    rows = [line.split(";") for line in hier_path.read_text().splitlines() if line.strip()]
    classes, n_classes = pd.factorize(df["sex"] + "|" + df["race"])
    classes = classes.astype(np.int64)
    hier = t_closeness(
        classes, df["education"].to_numpy(), len(n_classes), kind="hierarchical", hierarchy=rows
    )
    equal = t_closeness(classes, df["education"].to_numpy(), len(n_classes))
    # hierarchical ground distances are <= 1, so the EMD can only shrink
    assert np.all(hier.distances <= equal.distances + 1e-12)
    assert 0 < hier.t < equal.t <= 1


# LP oracle: the EMD as a transportation problem with an explicit ground-distance matrix.
def emd_lp(p: np.ndarray, q: np.ndarray, dist: np.ndarray) -> float:
    m = p.size
    a_eq = np.zeros((2 * m, m * m))
    for i in range(m):
        a_eq[i, i * m : (i + 1) * m] = 1  # mass leaving value i
        a_eq[m + i, i::m] = 1  # mass arriving at value i
    res = linprog(
        dist.reshape(-1), A_eq=a_eq, b_eq=np.concatenate([p, q]), bounds=(0, None), method="highs"
    )
    assert res.status == 0
    return float(res.fun)


@st.composite
def class_tables(draw, max_rows=30, max_values=5, max_classes=4):
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(1, max_classes))
    m = draw(st.integers(1, max_values))
    cls = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    vals = draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n))
    return np.array(cls), np.array(vals), k


def distributions(cls, vals, k):
    domain = sorted(set(vals.tolist()))
    p = np.array([np.mean(vals == v) for v in domain])
    qs = {}
    for c in range(k):
        sel = vals[cls == c]
        if sel.size:
            qs[c] = np.array([np.mean(sel == v) for v in domain])
    return domain, p, qs


@settings(max_examples=40, deadline=None)
@given(class_tables(), st.integers(1, 3), st.randoms(use_true_random=False))
def test_emd_matches_linear_program(table, n_groups, rnd):
    cls, vals, k = table
    domain, p, qs = distributions(cls, vals, k)
    m = len(domain)
    # a random two-level hierarchy: value -> group -> "*"
    group = {v: rnd.randrange(n_groups) for v in domain}
    tree = [[str(v), f"g{group[v]}", "*"] for v in domain]
    equal_d = 1.0 - np.eye(m)
    rank = np.arange(m)
    ordered_d = np.abs(rank[:, None] - rank[None, :]) / max(m - 1, 1)
    hier_d = np.array(
        [
            [0.0 if a == b else (0.5 if group[a] == group[b] else 1.0) for b in domain]
            for a in domain
        ]
    )
    for kind, dist, hierarchy in (
        ("equal", equal_d, None),
        ("ordered", ordered_d, None),
        ("hierarchical", hier_d, tree),
    ):
        r = t_closeness(cls, vals, k, kind=kind, hierarchy=hierarchy)
        for c, q in qs.items():
            assert r.distances[c] == pytest.approx(emd_lp(p, q, dist), abs=1e-9), kind


# --------------------------------------------------------------------------------------------
# delta-disclosure and beta-likeness
# --------------------------------------------------------------------------------------------

# n = 9, p = (5/9, 2/9, 2/9) for values 0, 1, 2.
# class 0: 0 0 1 1   -> q = (1/2, 1/2): |ln(q/p)| = ln(9/10) -> 0.105, ln(9/4) -> 0.811; value 2
#                       absent (strict: infinite). beta: value 1 (1/2 - 2/9)/(2/9) = 5/4, cap
#                       -ln(2/9) = 1.504 is not exceeded.
#                       (Both classes miss a value: class 1 has no 1.)
# class 1: 0 0 0 2 2 -> q = (3/5, 0, 2/5): ln(27/25) -> 0.077, ln(9/5) -> 0.588. beta: value 0
#                       (3/5 - 5/9)/(5/9) = 2/25, value 2 (2/5 - 2/9)/(2/9) = 4/5.
DB_CLASSES = [0, 0, 0, 0, 1, 1, 1, 1, 1]
DB_VALUES = [0, 0, 1, 1, 0, 0, 0, 2, 2]


def test_delta_disclosure_hand():
    r = delta_disclosure(DB_CLASSES, DB_VALUES, 2)
    assert r.deltas == pytest.approx([math.log(9 / 4), math.log(9 / 5)])
    assert r.delta == pytest.approx(math.log(9 / 4)) and r.worst_class == 0
    assert r.delta_strict is None and "2 class(es)" in r.strict_reason
    assert r.satisfies(0.7).tolist() == [False, True]
    assert r.satisfies(0.9).tolist() == [True, True]
    assert r.satisfies(0.9, strict=True).tolist() == [False, False]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["classes_missing_values"] == 2


def test_delta_strict_when_every_class_has_every_value():
    r = delta_disclosure([0, 0, 1, 1, 1, 1], [0, 1, 0, 1, 1, 1], 2)
    # p = (1/3, 2/3); class 0 q = (1/2, 1/2): ln(3/2), ln(3/4); class 1 q = (1/4, 3/4)
    assert r.delta_strict == pytest.approx(math.log(3 / 2)) == pytest.approx(r.delta)


def test_beta_likeness_hand():
    r = beta_likeness(DB_CLASSES, DB_VALUES, 2)
    assert r.basic == pytest.approx([5 / 4, 4 / 5])
    assert r.enhanced == pytest.approx([5 / 4, 4 / 5])
    assert r.beta == pytest.approx(5 / 4) and r.beta_enhanced == pytest.approx(5 / 4)
    assert r.satisfies(1.0).tolist() == [False, True]


def test_enhanced_beta_impossible_above_cap():
    # p(1) = 3/4; class 1 = {1, 1}: (1 - 3/4)/(3/4) = 1/3 > -ln(3/4) = 0.288: no beta works
    r = beta_likeness([0, 0, 1, 1], [0, 1, 1, 1], 2, enhanced=True)
    assert r.basic == pytest.approx([1.0, 1 / 3])
    assert r.enhanced[1] == math.inf and r.beta is None and "cap" in r.reason
    assert r.beta_basic == 1.0
    assert r.satisfies(5.0).tolist() == [True, False]
    assert r.satisfies(5.0, enhanced=False).tolist() == [True, True]
    json.dumps(r.to_dict(), allow_nan=False)


def test_delta_beta_edge_cases():
    same = delta_disclosure([0, 0, 1], [3, 3, 3], 2)
    assert same.delta == 0.0 and same.delta_strict == 0.0
    b = beta_likeness([0, 0, 1], [3, 3, 3], 2)
    assert b.beta == 0.0 and b.beta_enhanced == 0.0
    one = beta_likeness([0], [1], 1)
    assert one.beta == 0.0
    with pytest.raises(ParameterError):
        b.satisfies(0)
    with pytest.raises(ParameterError):
        same.satisfies(-1)


def slow_measures(cls, vals, k, l):  # noqa: E741
    """Obvious per-class loops over Counters."""
    n = len(vals)
    p = {v: c / n for v, c in Counter(vals.tolist()).items()}
    out = defaultdict(dict)
    for c in range(k):
        sel = vals[cls == c].tolist()
        if not sel:
            continue
        counts = Counter(sel)
        q = {v: x / len(sel) for v, x in counts.items()}
        ranked = sorted(counts.values(), reverse=True)
        tail = sum(ranked[l - 1 :])
        out[c]["distinct"] = len(counts)
        out[c]["entropy"] = -sum(x * math.log(x) for x in q.values())
        out[c]["ratio"] = ranked[0] / tail if tail else math.inf
        out[c]["equal"] = 0.5 * sum(abs(q.get(v, 0) - p[v]) for v in p)
        out[c]["delta"] = max(abs(math.log(q[v] / p[v])) for v in q)
        gains = [(q[v] - p[v]) / p[v] for v in q if q[v] > p[v]]
        out[c]["beta"] = max(gains, default=0.0)
        capped = any((q[v] - p[v]) / p[v] > -math.log(p[v]) + 1e-12 for v in q if q[v] > p[v])
        out[c]["enhanced"] = math.inf if capped else out[c]["beta"]
    return out


@settings(max_examples=60, deadline=None)
@given(class_tables(max_rows=40, max_values=6, max_classes=6), st.integers(1, 4))
def test_measures_match_slow_reference(table, l):  # noqa: E741
    cls, vals, k = table
    ref = slow_measures(cls, vals, k, l)
    ld = l_diversity(cls, vals, k, l=l)
    tc = t_closeness(cls, vals, k)
    dd = delta_disclosure(cls, vals, k)
    bl = beta_likeness(cls, vals, k, enhanced=True)
    for c, exp in ref.items():
        assert ld.distinct[c] == exp["distinct"]
        assert ld.entropy[c] == pytest.approx(exp["entropy"], abs=1e-12)
        assert ld.recursive_ratio[c] == pytest.approx(exp["ratio"])
        assert tc.distances[c] == pytest.approx(exp["equal"], abs=1e-12)
        assert dd.deltas[c] == pytest.approx(exp["delta"], abs=1e-12)
        assert bl.basic[c] == pytest.approx(exp["beta"], abs=1e-12)
        assert bl.enhanced[c] == pytest.approx(exp["enhanced"], abs=1e-12)
    worst = max(e["ratio"] for e in ref.values())
    assert ld.recursive_c == (None if math.isinf(worst) else pytest.approx(worst))
    assert ld.distinct_l == min(e["distinct"] for e in ref.values())


def test_string_and_integer_values_agree():
    as_int = l_diversity(L_CLASSES, pd.factorize(pd.Series(L_VALUES))[0], 3)
    as_str = l_diversity(L_CLASSES, np.array(L_VALUES, dtype=object), 3)
    np.testing.assert_allclose(as_int.entropy, as_str.entropy)


def test_missing_values_as_their_own_category():
    values = np.array(["a", None, "b", None, np.nan], dtype=object)
    r = l_diversity([0, 0, 1, 1, 1], values, 2)
    assert r.distinct.tolist() == [2, 2]  # None and NaN are one missing category
    assert t_closeness([0, 0, 1, 1, 1], values, 2).t == pytest.approx(0.3)
    with pytest.raises(ParameterError, match="comparable"):
        t_closeness([0, 0, 1, 1, 1], values, 2, kind="ordered")


def test_basic_selection_still_explains_enhanced():
    r = beta_likeness([0, 0, 1, 1], [0, 1, 1, 1], 2)
    assert r.beta == 1.0 and r.beta_enhanced is None and "cap" in r.reason
