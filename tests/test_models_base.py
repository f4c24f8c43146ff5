"""Privacy models as plug-ins: registry, protocol and the existing models on hand-computed tables.

The per-class math of every model is the one definition used by the risk engine and the search;
these tests check it by hand and check that both consumers agree with it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from workbench.deid import Criteria, Hierarchy, SearchContext
from workbench.errors import ParameterError
from workbench.models import (
    MODELS,
    AverageRisk,
    BetaLikeness,
    Classes,
    DeltaDisclosure,
    HighestRisk,
    KAnonymity,
    LDiversity,
    PrivacyModel,
    SensitivePairs,
    TCloseness,
    model_from_dict,
    models_for_policy,
)
from workbench.risk import sensitive as risk_sensitive


def _classes(per_class: list[list[str]], n_records: int | None = None) -> Classes:
    """Classes from the sensitive values of each class (values are single letters)."""
    values = sorted({v for c in per_class for v in c})
    code = {v: i for i, v in enumerate(values)}
    allv = [v for c in per_class for v in c]
    p = np.array([allv.count(v) / len(allv) for v in values])
    pc, pv, cnt = [], [], []
    for i, c in enumerate(per_class):
        for v in sorted(set(c)):
            pc.append(i)
            pv.append(code[v])
            cnt.append(c.count(v))
    pairs = SensitivePairs(np.array(pc), np.array(pv), np.array(cnt, float), p, len(values))
    sizes = np.array([len(c) for c in per_class])
    return Classes(sizes, n_records or int(sizes.sum()), {"s": pairs})


# classes: {a,a,b} {a,b,c,c} {c}; table p = (a 3/8, b 2/8, c 3/8)
TABLE = [["a", "a", "b"], ["a", "b", "c", "c"], ["c"]]


def test_registry_holds_every_model_once() -> None:
    assert set(MODELS) == {
        "k_anonymity",
        "l_diversity",
        "t_closeness",
        "delta_disclosure",
        "beta_likeness",
        "k_map",
        "delta_presence",
        "average_risk",
        "highest_risk",
        "records_at_risk",
        "population_uniqueness",
    }
    keys = [m.policy_key for m in MODELS.values() if m.policy_key]
    assert len(keys) == len(set(keys))


def test_a_new_model_registers_by_subclassing() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class EvenSizes(PrivacyModel):
        key = "test_even_sizes"

        def class_pass(self, classes):
            return classes.sizes % 2 == 0

    try:
        assert MODELS["test_even_sizes"] is EvenSizes
        t = _classes(TABLE)
        assert EvenSizes().class_pass(t).tolist() == [False, True, False]
    finally:
        del MODELS["test_even_sizes"]


def test_k_anonymity_and_highest_risk_by_hand() -> None:
    t = _classes(TABLE)
    assert KAnonymity(3).class_pass(t).tolist() == [True, True, False]
    # 1/3 <= 1/3 exactly at the limit passes; 1/3 > 0.3 fails
    assert HighestRisk(1 / 3).class_pass(t).tolist() == [True, True, False]
    assert HighestRisk(0.3).class_pass(t).tolist() == [False, True, False]
    assert HighestRisk(0.25).class_pass(t).tolist() == [False, True, False]
    assert HighestRisk(0.2499).class_pass(t).tolist() == [False, False, False]


def test_l_diversity_by_hand() -> None:
    t = _classes(TABLE)
    assert LDiversity(2).class_pass(t).tolist() == [True, True, False]
    assert LDiversity(3).class_pass(t).tolist() == [False, True, False]
    # entropy: class 0 H = -(2/3 ln 2/3 + 1/3 ln 1/3) = 0.6365 < ln 2 = 0.6931
    assert LDiversity(2, "entropy").class_pass(t).tolist() == [False, True, False]
    # recursive (c=2, l=2): class 0 r1=2 < 2*1 false; class 1 r1=2 < 2*(1+1) true
    assert LDiversity(2, "recursive", 2.0).class_pass(t).tolist() == [False, True, False]
    assert LDiversity(2, "recursive", 2.01).class_pass(t).tolist() == [True, True, False]


def test_t_closeness_by_hand() -> None:
    t = _classes(TABLE)
    # class 0: q=(2/3,1/3,0), p=(3/8,2/8,3/8): 0.5*(7/24 + 1/12 + 3/8) = 0.375
    # class 1: q=(1/4,1/4,1/2): 0.5*(1/8+0+1/8) = 0.125; class 2: q=(0,0,1): 0.5*(3/8+2/8+5/8)
    equal = np.array([0.375, 0.125, 0.625])
    assert TCloseness(0.375).class_pass(t).tolist() == [True, True, False]
    assert TCloseness(0.3749).class_pass(t).tolist() == [False, True, False]
    from workbench.models.t_closeness import emd_equal, emd_ordered

    assert np.allclose(emd_equal(t.sensitive["s"], t.sizes), equal)
    # ordered: cumulative q - p over a<b<c, / (m-1)=2: class 0: (7/24 + 9/24)/2 = 1/3
    assert emd_ordered(t.sensitive["s"], t.sizes)[0] == pytest.approx(1 / 3)


def test_delta_disclosure_and_beta_likeness_by_hand() -> None:
    t = _classes(TABLE)
    # class 2 = {c}: ln(1 / (3/8)) = 0.98083; class 0 value a: ln((2/3)/(3/8)) = 0.57536
    d = math.log(8 / 3)
    assert DeltaDisclosure(d).class_pass(t).tolist() == [True, True, False]  # strict <
    assert DeltaDisclosure(d + 1e-9).class_pass(t).tolist() == [True, True, True]
    # basic beta: class 2: (1 - 3/8)/(3/8) = 5/3; class 0: a (2/3-3/8)/(3/8) = 7/9
    assert BetaLikeness(5 / 3).class_pass(t).tolist() == [True, True, True]
    assert BetaLikeness(1.6).class_pass(t).tolist() == [True, True, False]
    # enhanced cap -ln(3/8) = 0.98 < 5/3: class 2 can never pass
    assert BetaLikeness(5.0, enhanced=True).class_pass(t).tolist() == [True, True, False]


def test_average_risk_is_dataset_level() -> None:
    t = _classes(TABLE)
    released = np.array([True, True, False])
    m = AverageRisk(2 / 7)
    assert m.dataset_level and m.class_pass(t) is None
    assert m.measure(t, released) == pytest.approx(2 / 7)  # 2 classes, 7 records
    assert m.dataset_pass(t, released)
    assert not AverageRisk(0.2857).dataset_pass(t, released)


@pytest.mark.parametrize(
    "model",
    [
        KAnonymity(3),
        LDiversity(2, "recursive", 2.5, "s"),
        TCloseness(0.2, "ordered"),
        DeltaDisclosure(1.5),
        BetaLikeness(1.0, True),
        AverageRisk(0.1),
        HighestRisk(0.3),
    ],
)
def test_to_dict_round_trips(model) -> None:
    assert model_from_dict(model.to_dict()) == model
    assert model.describe()
    assert Criteria.from_dict(Criteria(models=(model,)).to_dict()).models == (model,)


def test_monotonicity_flags_are_pinned() -> None:
    """The search prunes only with models that declare it safe (see lattice module docstring)."""
    flags = {
        "k": (KAnonymity(2).monotone(1), KAnonymity(2).monotone(0)),
        "distinct": (LDiversity(2).monotone(1), LDiversity(2).monotone(0)),
        "entropy": (LDiversity(2, "entropy").monotone(1), LDiversity(2, "entropy").monotone(0)),
        "t": (TCloseness(0.2).monotone(1), TCloseness(0.2).monotone(0)),
        "delta": (DeltaDisclosure(1.0).monotone(1), DeltaDisclosure(1.0).monotone(0)),
        "avg": (AverageRisk(0.2).monotone(1), AverageRisk(0.2).monotone(0)),
        "highest": (HighestRisk(0.2).monotone(1), HighestRisk(0.2).monotone(0)),
    }
    assert flags == {
        "k": (True, True),
        "distinct": (True, True),
        "entropy": (False, True),
        "t": (False, True),
        "delta": (False, False),
        "avg": (False, True),
        "highest": (True, True),
    }


def test_policy_thresholds_map_to_models() -> None:
    ms = models_for_policy(
        {"min_k": 5, "min_l": {"diagnosis": 2}, "max_highest_risk": 0.3, "min_k_map": 10}
    )
    assert {type(m).__name__ for m in ms} == {"KAnonymity", "LDiversity", "HighestRisk", "KMap"}
    assert LDiversity(2, attribute="diagnosis") in ms


def test_bad_parameters_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match="'k'"):
        KAnonymity(0)
    with pytest.raises(ParameterError, match="max_highest_risk"):
        HighestRisk(1.5)
    with pytest.raises(ParameterError, match="model"):
        model_from_dict({"model": "nope"})


# ----------------------------------------------------------------- one definition, two consumers
def test_risk_engine_and_search_agree_with_the_models() -> None:
    rng = np.random.default_rng(5)
    for _ in range(10):
        n = int(rng.integers(30, 200))
        df = pd.DataFrame(
            {"a": rng.integers(0, 5, n).astype(str), "s": rng.integers(0, 4, n).astype(str)}
        )
        h = Hierarchy.from_rows([(v, "*") for v in sorted(df["a"].unique())])
        ctx = SearchContext(df, ["a"], {"a": h}, ["s"])
        cid, sizes = ctx.classes((0,))
        view = ctx.class_view(cid, sizes)
        per_record = cid[ctx.row_base]
        dd = risk_sensitive.delta_disclosure(per_record, df["s"].to_numpy(), len(sizes))
        assert np.array_equal(DeltaDisclosure(0.4).class_pass(view), dd.satisfies(0.4))
        bl = risk_sensitive.beta_likeness(per_record, df["s"].to_numpy(), len(sizes))
        assert np.array_equal(BetaLikeness(0.5).class_pass(view), bl.satisfies(0.5, False))


# --------------------------------------------------- max_highest_risk against a plain reference
def _reference_nodes(df, hs, max_risk, suppression):
    """Plain Python, per node: (acceptable, suppressed, released sizes); 1/size <= max_risk."""
    n = len(df)
    limit = math.floor(suppression * n + 1e-9)
    out = {}
    for node in itertools.product(*[range(hs[q].levels) for q in ("a", "b")]):
        maps = [{r[0]: r[lev] for r in hs[q].rows} for q, lev in zip(("a", "b"), node, strict=True)]
        keys = [(maps[0][a], maps[1][b]) for a, b in zip(df["a"], df["b"], strict=True)]
        sizes = pd.Series(keys).value_counts()
        bad = [1.0 / s > max_risk for s in sizes]  # never through a derived k
        suppressed = int(sum(s for s, x in zip(sizes, bad, strict=True) if x))
        kept = sorted(int(s) for s, x in zip(sizes, bad, strict=True) if not x)
        out[node] = (suppressed <= limit, suppressed, kept)
    return out


@pytest.mark.parametrize("max_risk", [0.3, 0.25, 1 / 3, 0.5])
@pytest.mark.parametrize("suppression", [0.0, 0.1, 0.3])
def test_search_max_highest_risk_against_reference(max_risk, suppression) -> None:
    rng = np.random.default_rng(int(max_risk * 1000) + int(suppression * 10))
    n = 60
    df = pd.DataFrame(
        {"a": rng.integers(0, 4, n).astype(str), "b": rng.integers(0, 3, n).astype(str)}
    )
    hs = {q: Hierarchy.from_rows([(v, "*") for v in sorted(df[q].unique())]) for q in ("a", "b")}
    ctx = SearchContext(df, ["a", "b"], hs)
    crit = Criteria(k=1, max_highest_risk=max_risk, suppression=suppression)
    ref = _reference_nodes(df, hs, max_risk, suppression)
    for node, (ok, suppressed, kept) in ref.items():
        ev = ctx.evaluate(node, crit)
        assert (ev.acceptable, ev.suppressed) == (ok, suppressed), node
        assert sorted(ctx.released_sizes(node, crit).tolist()) == kept
    res = ctx.search(crit, "loss")
    assert res.found == any(ok for ok, _, _ in ref.values())
    if res.found:
        assert ref[tuple(res.levels.values())][0]
        assert res.highest_risk <= max_risk + 1e-12
