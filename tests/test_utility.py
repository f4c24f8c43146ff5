"""Utility comparison: hand-checked tiny tables, oracles, suppression handling, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.deid.comparison import (
    Statistic,
    _eigen_loss,
    compare,
    cramers_v,
    il1s,
    interval_midpoint,
    ks_statistic,
    total_variation,
    wasserstein,
)
from workbench.deid.hierarchy import Hierarchy
from workbench.deid.transforms import (
    AdditiveNoise,
    FullDomainGeneralization,
    LocalSuppression,
    Microaggregation,
    Pipeline,
    RecordSuppression,
)
from workbench.errors import ColumnNotFoundError, ParameterError


@pytest.fixture
def survey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["N", "N", "S", "S", "S", "E"],
            "sex": ["F", "M", "F", "M", "M", "F"],
            "diagnosis": ["flu", "flu", "cold", "cold", "flu", "asthma"],
            "age": [30, 31, 40, 40, 41, 52],
            "income": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )


# ----------------------------------------------------------------------------------------------
# pure measures
# ----------------------------------------------------------------------------------------------


def test_total_variation_hand_checked() -> None:
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 0.25, "b": 0.75}) == pytest.approx(0.25)
    assert total_variation({"a": 1.0}, {"b": 1.0}) == 1.0
    assert total_variation({"a": 0.3, "b": 0.7}, {"a": 0.3, "b": 0.7}) == 0.0


def test_wasserstein_and_ks_hand_checked() -> None:
    a, b = np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 8])
    assert wasserstein(a, b) == pytest.approx(1.0)  # only the largest value moves by 4, /4
    assert ks_statistic(a, b) == pytest.approx(0.25)  # F_a(4) = 1, F_b(4) = 0.75


def test_ks_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.normal(size=int(rng.integers(1, 60))).round(1)
        b = rng.normal(0.3, size=int(rng.integers(1, 60))).round(1)
        assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)


def test_cramers_v_hand_checked() -> None:
    assert cramers_v(["a", "a", "b", "b"], ["x", "x", "y", "y"]) == pytest.approx(1.0)
    assert cramers_v(["a", "a", "b", "b"], ["x", "y", "x", "y"]) == pytest.approx(0.0)
    assert cramers_v(["a", "a"], ["x", "y"]) is None
    # 2x2 table [[3, 1], [1, 3]]: chi2 = 2, n = 8 -> V = sqrt(2 / 8) = 0.5
    x = ["a"] * 4 + ["b"] * 4
    y = ["x", "x", "x", "y", "x", "y", "y", "y"]
    assert cramers_v(x, y) == pytest.approx(0.5)


def test_il1s_hand_checked() -> None:
    x = np.array([1.0, 2, 3, 4])
    xm = np.array([1.0, 2, 3, 8])
    value, per = il1s(x, xm)
    sd = np.std(x, ddof=1)  # 1.2910
    assert value == pytest.approx(4 / (math.sqrt(2) * sd) / 4)  # 0.5477
    assert value == pytest.approx(0.547723, abs=1e-6)
    assert per.tolist() == pytest.approx([value])
    assert il1s(x, x)[0] == 0.0


def test_il1s_matches_direct_formula() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 3)) * [1, 10, 100]
    xm = x + rng.normal(size=(30, 3))
    n, p = x.shape
    direct = sum(
        abs(x[i, j] - xm[i, j]) / (math.sqrt(2) * x[:, j].std(ddof=1))
        for i in range(n)
        for j in range(p)
    ) / (n * p)
    assert il1s(x, xm)[0] == pytest.approx(direct)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("[20, 30[", 25.0),
        ("[20, 30)", 25.0),
        ("[0.5; 1.5]", 1.0),
        ("20-29", 24.5),
        ("15 - 19", 17.0),
        ("65+", 65.0),
        (">=80", 80.0),
        ("<18", 18.0),
        ("42", 42.0),
        (42, 42.0),
        ("*", None),
        ("old", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_interval_midpoint(label, expected) -> None:
    assert interval_midpoint(label) == expected


# ----------------------------------------------------------------------------------------------
# compare()
# ----------------------------------------------------------------------------------------------


def test_identity_gives_zero_everywhere(survey) -> None:
    rep = compare(
        survey,
        survey.copy(),
        qis=["region", "sex"],
        statistics=[
            Statistic("mean", "income", by="region"),
            Statistic("count", by="diagnosis"),
            Statistic("share", by="sex"),
            Statistic("median", "age"),
            Statistic("sum", "income", by="sex"),
        ],
    )
    assert rep.records_suppressed == 0 and rep.records_compared == 6
    for a in rep.attributes:
        assert a.total_variation in (None, 0.0)
        assert a.wasserstein in (None, 0.0) and a.ks in (None, 0.0)
    assert rep.mean_crosstab_difference == 0.0
    assert rep.mean_correlation_difference == 0.0
    for sc in rep.statistics:
        assert all(g.absolute_error == 0.0 and g.relative_error == 0.0 for g in sc.groups)
    assert rep.information_loss.il1s == 0.0 and rep.information_loss.eigen == 0.0
    json.dumps(rep.to_dict())


def test_report_hand_checked(survey) -> None:
    changed = survey.copy()
    changed.loc[1, "sex"] = "F"  # sex F,F,F,M,M,F : shares 4/6 vs 3/6
    changed.loc[5, "income"] = 90.0
    rep = compare(
        survey,
        changed,
        qis=["region", "sex"],
        statistics=[Statistic("mean", "income", by="region"), Statistic("count", by="sex")],
    )
    assert rep.attribute("sex").total_variation == pytest.approx(1 / 6)
    assert rep.attribute("region").total_variation == 0.0
    inc = rep.attribute("income")
    assert inc.wasserstein == pytest.approx(30 / 6)
    assert inc.ks == pytest.approx(1 / 6)
    assert inc.mean_transformed - inc.mean_original == pytest.approx(5.0)
    # region x sex table: (N,M) 1/6 -> 0, (N,F) 1/6 -> 2/6; other cells equal; 5 cells
    ct = rep.crosstabs[0]
    assert ct.columns == ("region", "sex") and ct.cells == 5
    assert ct.mean_absolute_difference == pytest.approx((1 / 6 + 1 / 6) / 5)
    assert ct.total_variation == pytest.approx(1 / 6)
    mean_by_region = {g.group: g for g in rep.statistics[0].groups}
    assert mean_by_region[("E",)].original == 60.0
    assert mean_by_region[("E",)].transformed == 90.0
    assert mean_by_region[("E",)].absolute_error == 30.0
    assert mean_by_region[("E",)].relative_error == pytest.approx(0.5)
    assert mean_by_region[("N",)].absolute_error == 0.0
    counts = {g.group: (g.original, g.transformed) for g in rep.statistics[1].groups}
    assert counts == {("F",): (3.0, 4.0), ("M",): (3.0, 2.0)}
    il = rep.information_loss
    sd_income = np.std(survey["income"], ddof=1)
    assert il.columns == ("income",)  # only perturbed numeric columns by default
    assert il.il1s == pytest.approx(30 / (math.sqrt(2) * sd_income) / 6)
    # sdcMicro dUtility(method="IL1s") is the plain sum (n = 6, p = 1: 6 times the mean)
    assert il.il1s_sdcmicro == pytest.approx(30 / (math.sqrt(2) * sd_income))
    both = compare(survey, changed, perturbed=["age", "income"]).information_loss
    assert both.per_column == {"age": 0.0, "income": pytest.approx(il.il1s)}
    assert both.il1s == pytest.approx(il.il1s / 2)
    assert both.il1s_sdcmicro == pytest.approx(il.il1s_sdcmicro)  # the sum ignores p


def test_correlations(survey) -> None:
    changed = survey.copy()
    changed["income"] = changed["income"].iloc[::-1].to_numpy()
    rep = compare(survey, changed, columns=["age", "income"])
    (corr,) = rep.correlations
    assert corr.measure == "pearson"
    assert corr.original == pytest.approx(np.corrcoef(survey["age"], survey["income"])[0, 1])
    assert corr.transformed == pytest.approx(-corr.original)
    assert corr.difference == pytest.approx(-2 * corr.original)


def test_record_suppression_excluded_and_counted(survey) -> None:
    res = RecordSuppression(("region", "sex"), k=2).apply(survey)
    # classes (N,F) (N,M) (S,F) (E,F) are unique -> 4 records suppressed, (S,M) x2 kept
    rep = compare(survey, res, statistics=[Statistic("count", by="region")])
    assert rep.records_suppressed == 4 and rep.records_compared == 2
    assert rep.attribute("region").total_variation == pytest.approx(0.5)  # all S after
    counts = {g.group: (g.original, g.transformed) for g in rep.statistics[0].groups}
    assert counts == {("E",): (1.0, 0.0), ("N",): (2.0, 0.0), ("S",): (3.0, 2.0)}
    assert "*" not in {g.group[0] for g in rep.statistics[0].groups}
    # the same mask is found from the '*' pattern when only the frame is given
    rep2 = compare(survey, res.data, qis=["region", "sex"])
    assert rep2.records_suppressed == 4
    assert rep2.to_dict()["attributes"] == rep.to_dict()["attributes"]


def test_mean_groups_lost_after_suppression(survey) -> None:
    res = RecordSuppression(("region", "sex"), k=2).apply(survey)
    rep = compare(survey, res, statistics=[Statistic("mean", "income", by="region")])
    sc = rep.statistics[0]
    assert sc.groups_lost == 2  # E and N have no records left
    by = {g.group: g for g in sc.groups}
    assert by[("S",)].transformed == 45.0 and by[("S",)].original == 40.0
    assert by[("S",)].relative_error == pytest.approx(0.125)
    assert by[("N",)].transformed is None and by[("N",)].absolute_error is None


def test_suppressed_cells_are_a_category(survey) -> None:
    res = LocalSuppression(("region", "sex"), k=2, importance=("sex", "region")).apply(survey)
    rep = compare(survey, res)
    region = rep.attribute("region")
    n_star = int((res.data["region"] == "*").sum())
    assert n_star > 0 and region.suppressed_cells == n_star
    # every '*' moves mass from its region to the '*' category
    assert region.total_variation == pytest.approx(n_star / 6)


def test_generalized_numeric_uses_midpoints() -> None:
    orig = pd.DataFrame({"age": [21, 25, 33, 38]})
    gen = pd.DataFrame({"age": ["[20, 30[", "[20, 30[", "[30, 40[", "[30, 40["]})
    rep = compare(orig, gen)
    a = rep.attribute("age")
    assert a.basis == "interval midpoints" and a.kind == "numeric"
    assert a.wasserstein == pytest.approx((4 + 0 + 2 + 3) / 4)
    assert a.mean_transformed == 30.0 and a.mean_original == pytest.approx(29.25)
    assert rep.information_loss is None  # IL1s is for perturbed values only


def test_generalized_with_hierarchy_compares_at_level(survey) -> None:
    h = Hierarchy.from_rows([["N", "North", "*"], ["S", "South", "*"], ["E", "North", "*"]])
    res = FullDomainGeneralization({"region": 1}, {"region": h}).apply(survey)
    rep = compare(
        survey,
        res,
        hierarchies={"region": h},
        levels={"region": 1},
        statistics=[Statistic("mean", "income", by="region")],
    )
    region = rep.attribute("region")
    assert region.basis == "generalized level" and region.total_variation == 0.0
    assert all(g.absolute_error == 0.0 for g in rep.statistics[0].groups)
    assert {g.group for g in rep.statistics[0].groups} == {("North",), ("South",)}
    # without the hierarchy the labels differ completely
    assert compare(survey, res).attribute("region").total_variation == pytest.approx(1.0)


def test_interval_hierarchy_on_numeric_column(survey) -> None:
    from workbench.deid.hierarchy import interval_hierarchy

    h = interval_hierarchy(survey["age"], width=10)
    res = FullDomainGeneralization({"age": 1}, {"age": h}).apply(survey)
    rep = compare(survey, res, hierarchies={"age": h}, levels={"age": 1})
    a = rep.attribute("age")
    assert a.basis == "generalized level" and a.total_variation == 0.0
    assert a.wasserstein == 0.0  # both sides mapped to the same interval midpoints
    rep2 = compare(survey, res)  # without hierarchy: originals vs midpoints
    assert rep2.attribute("age").basis == "interval midpoints"
    assert rep2.attribute("age").wasserstein > 0


def test_perturbative_pipeline_information_loss(survey) -> None:
    res = Pipeline((Microaggregation(("age", "income"), k=3),)).apply(survey)
    rep = compare(survey, res)
    il = rep.information_loss
    assert il is not None and il.columns == ("age", "income") and il.il1s > 0
    direct, _ = il1s(
        survey[["age", "income"]].to_numpy(float), res.data[["age", "income"]].to_numpy(float)
    )
    assert il.il1s == pytest.approx(direct)
    noisy = AdditiveNoise(("income",), noise=150, seed=1).apply(survey)
    assert compare(survey, noisy).information_loss.il1s > 0


def test_il1s_of_additive_noise_matches_theory() -> None:
    # E|N(0, (c sd)^2)| / (sqrt(2) sd) = c sqrt(2 / pi) / sqrt(2) = c / sqrt(pi)
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"a": rng.normal(50, 10, 20000), "b": rng.lognormal(3, 1, 20000)})
    noisy = AdditiveNoise(("a", "b"), noise=50, seed=2).apply(df)
    il = compare(df, noisy).information_loss
    assert il.il1s == pytest.approx(0.5 / math.sqrt(math.pi), rel=0.02)
    assert il.eigen is not None and il.eigen >= 0


def test_il1s_sdcmicro_is_the_sum_as_in_dutility() -> None:
    # Regression: il1s_sdcmicro was 2 * IL1s (sdcMicro's pre-5.2 "IL1" multiplied by sqrt 2).
    # sdcMicro's dUtility(method="IL1s") (R/dUtility.R since 5.2.0) is
    #   a[[i]] <- abs(x[[i]] - xm[[i]]) / (sd(x[[i]], na.rm = TRUE) * sqrt(2))
    #   infLoss1 <- sum(a, na.rm = TRUE)
    # i.e. n * p times the published IL1s. Hand table: a = 1, 2, 3, 4 (sd sqrt(5/3)) with the
    # last value moved by 2; b = 0, 0, 10, 10 (sd sqrt(100/3)) with the first moved by 5.
    o = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.0, 0, 10, 10]})
    t = pd.DataFrame({"a": [1.0, 2, 3, 6], "b": [5.0, 0, 10, 10]})
    il = compare(o, t).information_loss
    total = 2 / (math.sqrt(2) * math.sqrt(5 / 3)) + 5 / (math.sqrt(2) * math.sqrt(100 / 3))
    assert il.il1s_sdcmicro == pytest.approx(total)  # 1.095445 + 0.612372 = 1.707818
    assert il.il1s_sdcmicro == pytest.approx(1.707818, abs=1e-6)
    assert il.il1s == pytest.approx(total / (4 * 2))


def _eigen_sdcmicro_reference(x: np.ndarray) -> np.ndarray:
    """Eigenvalues of R's ``var(scale(x), use = "pairwise.complete.obs")``, written out slowly.

    ``scale``: centre and divide by the sd of each column's non-missing values; ``var`` with
    pairwise-complete observations: for each pair, the rows where both are present, their own
    means, divided by (pairs - 1) (R src/library/stats/src/cov.c, COV_PAIRWISE_BODY).
    """
    n, p = x.shape
    z = np.empty_like(x)
    for j in range(p):
        v = [x[i, j] for i in range(n) if not math.isnan(x[i, j])]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1))
        z[:, j] = (x[:, j] - m) / sd
    c = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            rows = [r for r in range(n) if not (math.isnan(z[r, i]) or math.isnan(z[r, j]))]
            mi = sum(z[r, i] for r in rows) / len(rows)
            mj = sum(z[r, j] for r in rows) / len(rows)
            c[i, j] = sum((z[r, i] - mi) * (z[r, j] - mj) for r in rows) / (len(rows) - 1)
    return np.sort(np.linalg.eigvalsh(c))[::-1]


def test_eigen_with_missing_values_uses_each_tables_pairwise_covariance() -> None:
    # Regression: rows with a missing value in either table were dropped from both, so a
    # perturbation that blanks a cell was invisible. sdcMicro (R/dUtility.R):
    #   e1 <- eigen(var(scale(x), na.rm = TRUE, use = "pairwise.complete.obs"))$values
    # computed on each table separately. Hand table: original a = 1, 2, 3, 4, b = 1, 3, 2, 4
    # (correlation 4/5, eigenvalues 1.8, 0.2); perturbed b = 1, NA, 2, 4. Scaled over their own
    # non-missing values, a's deviations over rows 1, 3, 4 about their mean are
    # (-5/3, 1/3, 4/3) / sqrt(5/3) and b's are (-4/3, -1/3, 5/3) / sqrt(7/3): the covariance is
    # (13/3) / (sqrt(35)/3) / 2 = 13 / (2 sqrt 35) = 1.0987 (more than 1: it is not a
    # correlation), eigenvalues 1 + c, 1 - c.
    x = np.array([[1.0, 1], [2, 3], [3, 2], [4, 4]])
    xm = np.array([[1.0, 1], [2, np.nan], [3, 2], [4, 4]])
    c = 13 / (2 * math.sqrt(35))
    expected = abs(1.8 - (1 + c)) / 1.8 + abs(0.2 - (1 - c)) / 0.2
    assert _eigen_loss(x, xm) == pytest.approx(expected)  # (c - 0.8) (1/1.8 + 1/0.2) = 1.659447
    assert _eigen_loss(x, xm) == pytest.approx(1.659447, abs=1e-6)
    o = pd.DataFrame(x, columns=["a", "b"])
    t = pd.DataFrame(xm, columns=["a", "b"])
    assert compare(o, t, perturbed=["a", "b"]).information_loss.eigen == pytest.approx(expected)


def test_eigen_matches_slow_reference_on_random_tables_with_gaps() -> None:
    rng = np.random.default_rng(11)
    for _ in range(25):
        n, p = int(rng.integers(6, 30)), int(rng.integers(2, 5))
        x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p))
        xm = x + rng.normal(scale=0.5, size=(n, p))
        for a in (x, xm):
            a[rng.random((n, p)) < 0.15] = np.nan
        if (
            min(
                (~np.isnan(a[:, i]) & ~np.isnan(a[:, j])).sum()
                for a in (x, xm)
                for i in range(p)
                for j in range(p)
            )
            < 3
        ):
            continue
        e1, e2 = _eigen_sdcmicro_reference(x), _eigen_sdcmicro_reference(xm)
        assert _eigen_loss(x, xm) == pytest.approx(float(np.sum(np.abs(e1 - e2) / e1)))


def test_eigen_unavailable_when_a_pair_has_under_two_common_values() -> None:
    # R gives NA for such a covariance and eigen() fails: sdcMicro returns NA.
    x = np.array([[1.0, 1], [2, 3], [3, 2], [4, 4]])
    xm = np.array([[1.0, np.nan], [2, np.nan], [np.nan, 2], [np.nan, 4]])
    assert _eigen_loss(x, xm) is None


def test_errors(survey) -> None:
    with pytest.raises(ColumnNotFoundError, match="zip"):
        compare(survey, survey, columns=["zip"])
    with pytest.raises(ColumnNotFoundError, match="salary"):
        compare(survey, survey, statistics=[Statistic("mean", "salary")])
    with pytest.raises(ParameterError):
        Statistic("mode", "income")
    with pytest.raises(ParameterError):
        Statistic("mean")
    with pytest.raises(ParameterError, match="numeric"):
        compare(survey, survey, statistics=[Statistic("mean", "region")])
    with pytest.raises(ParameterError, match="shape"):
        compare(survey, survey, suppressed=np.zeros(3, bool))
    with pytest.raises(ParameterError, match="perturbed"):
        compare(survey, survey, perturbed=["region"])


def test_statistic_round_trip_and_label() -> None:
    s = Statistic("mean", column="income", by="region")
    assert s.by == ("region",) and s.label == "mean(income) by region"
    assert Statistic.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert Statistic("count").label == "count"


def test_report_has_no_record_values(survey) -> None:
    people = survey.assign(name=["Ann Lee", "Bob Ray", "Cy Dorn", "Di Fox", "Ed Hale", "Flo I"])
    rep = compare(people, people.drop(columns=["name"]))
    text = json.dumps(rep.to_dict())
    assert "Ann Lee" not in text and "name" not in text
