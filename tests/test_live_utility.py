"""The class-table utility comparison equals compare() on the transformed records.

Oracle tests: seeded random tables (numeric and text QIs, missing values, a literal ``*`` in a
released column, numeric columns for Pearson), random levels and targets; the fast report must
equal the slow reference field by field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _helpers_tuner import assert_close

from workbench.deid import Criteria, SearchContext, auto_hierarchy, compare, live_utility
from workbench.deid.live_utility import LiveUtility
from workbench.errors import ParameterError


def _frame(n: int, seed: int, with_missing: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n).astype(float)
    zip_ = rng.choice([f"{z:05d}" for z in range(46200, 46240)], n).astype(object)
    diag = rng.choice(["flu", "cold", "asthma", "*", "back pain"], n).astype(object)
    income = rng.gamma(2.0, 20_000, n).round(-2)
    if with_missing:
        age[rng.random(n) < 0.05] = np.nan
        zip_[rng.random(n) < 0.05] = None
        diag[rng.random(n) < 0.05] = None
        income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "age": age if with_missing else age.astype(int),
            "sex": rng.choice(["F", "M"], n),
            "zip": zip_,
            "diagnosis": diag,
            "income": income,
            "hours": rng.integers(1, 60, n),
            "smoker": rng.random(n) < 0.3,
        }
    )


def _reference(ctx: SearchContext, levels: dict, crit: Criteria):
    out, sup = ctx.transform(levels, crit)
    ref = compare(
        ctx.frame,
        out,
        suppressed=sup,
        qis=list(ctx.qis),
        hierarchies=dict(ctx.hierarchies),
        levels=levels,
        information_loss=False,
    )
    rows = np.zeros(ctx.n_base, dtype=bool)
    rows[ctx.row_base[sup]] = True
    return ref, rows


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("with_missing", [False, True])
@pytest.mark.parametrize("dense", [True, False])
def test_live_report_equals_compare_on_records(seed, with_missing, dense, monkeypatch):
    if not dense:  # two-way tables of the pairs present only (large label sets)
        monkeypatch.setattr(live_utility, "_DENSE_SLACK", -(10**9))
    rng = np.random.default_rng(100 + seed)
    df = _frame(int(rng.integers(60, 400)), seed, with_missing)
    qis = ["age", "sex", "zip"]
    hier = {q: auto_hierarchy(df[q], name=q)[0] for q in qis}
    ctx = SearchContext(df, qis, hier)
    live = LiveUtility(ctx)
    for _ in range(4):
        levels = {q: int(rng.integers(0, hier[q].levels)) for q in qis}
        # two targets on the same levels: the cached cells of the levels are reused
        for k in rng.integers(2, 12, 2):
            crit = Criteria(k=int(k), suppression=float(rng.choice([0.0, 0.1, 1.0])))
            ref, rows = _reference(ctx, levels, crit)
            fast = live.compare(levels, rows)
            assert_close(ref.to_dict(), fast.to_dict())


def test_kinds_and_bases_cover_every_branch():
    """The oracle above exercises numeric QIs (midpoints), text QIs, missing originals, stars."""
    df = _frame(300, 3, True)
    hier = {q: auto_hierarchy(df[q], name=q)[0] for q in ("age", "zip")}
    ctx = SearchContext(df, ["age", "zip"], hier)
    levels = {"age": 1, "zip": 1}
    ref, rows = _reference(ctx, levels, Criteria(k=3, suppression=1.0))
    fast = LiveUtility(ctx).compare(levels, rows)
    kinds = {a.column: (a.kind, a.basis) for a in fast.attributes}
    assert kinds["income"] == ("numeric", "values")
    assert kinds["diagnosis"] == ("categorical", "values")
    assert kinds["smoker"] == ("categorical", "values")
    assert fast.attribute("diagnosis").suppressed_cells > 0  # the literal "*" value
    assert fast.records_suppressed == ref.records_suppressed > 0
    assert [c.measure for c in fast.correlations] == ["cramers_v", "pearson"]
    assert_close(ref.to_dict(), fast.to_dict())


def test_everything_suppressed_and_nothing_suppressed():
    df = _frame(120, 5, False)
    ctx = SearchContext(df, ["age", "sex"])
    live = LiveUtility(ctx)
    levels = {"age": 0, "sex": 0}
    for crit in (Criteria(k=1000, suppression=1.0), Criteria(k=2, suppression=1.0)):
        ref, rows = _reference(ctx, levels, crit)
        assert_close(ref.to_dict(), live.compare(levels, rows).to_dict())
    assert live.compare(levels, np.ones(ctx.n_base, bool)).records_suppressed == 120


def test_bad_mask_and_missing_qi_are_refused():
    df = _frame(50, 1, False)
    ctx = SearchContext(df, ["age", "sex"])
    with pytest.raises(ParameterError, match="suppressed_rows"):
        LiveUtility(ctx).compare({"age": 0, "sex": 0}, np.zeros(ctx.n_base + 1, bool))
    with pytest.raises(ParameterError, match="quasi-identifier"):
        LiveUtility(ctx, columns=["age", "income"])


@pytest.mark.parametrize("seed", range(4))
def test_cramers_v_equals_scipy_on_random_tables(seed):
    """The sparse chi-square identity against scipy's Cramér's V (an independent reference)."""
    from scipy.stats.contingency import association

    from workbench.deid.comparison import cramers_v

    rng = np.random.default_rng(seed)
    x = rng.choice(list("abcdefg"), 300)
    y = np.where(rng.random(300) < 0.5, x, rng.choice(list("uvwxyz"), 300))
    table = pd.crosstab(x, y).to_numpy()
    assert cramers_v(x, y) == pytest.approx(association(table, method="cramer"), rel=1e-9)
