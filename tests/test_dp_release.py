"""DP releases: the noise has the claimed law and scale, contributions are bounded per person,
sensitivities agree with OpenDP's own record-level stability maps, and unsafe requests are refused.

OpenDP cannot be seeded, so the statistical tests state their false-failure rate (each at most
1e-6, chosen through the critical value) instead of fixing a seed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.dp import (
    Ledger,
    accuracy_report,
    bound_and_aggregate,
    dp_accuracy,
    dp_release,
    make_spec,
    plan_release,
)
from workbench.dp._accounting import opendp
from workbench.errors import BudgetExceededError, ColumnNotFoundError, ParameterError

FALSE_FAILURE = 1e-7  # per statistical assertion below


@pytest.fixture(autouse=True)
def _no_provenance(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))


def _noise_of_counts(tmp_path, noise: str, epsilon: float, m: int = 4000, delta: float = 0.0):
    """One release over ``m`` public keys whose exact counts are known; return released - exact."""
    keys = [f"k{i}" for i in range(m)]
    exact = np.arange(m) % 7  # 0..6 rows per key, one person per row
    rows = np.repeat(keys, exact)
    df = pd.DataFrame({"g": rows})
    rel = dp_release(
        df,
        ledger=tmp_path / "l.jsonl",
        population="test",
        budget="10,1e-3",
        privacy_unit="row",
        max_contributions=1,
        epsilon=epsilon,
        delta=delta,
        noise=noise,
        count=True,
        by=["g"],
        keys={"g": keys},
    )
    released = {s.group["g"]: s.value for s in rel.statistics}
    assert len(released) == m  # every public key, including empty ones (key k0 has 0 rows)
    noise_ = np.array([released[k] for k in keys]) - exact
    # the stated 95 % intervals cover the truth at least 95 % of the time (one-sided binomial)
    ci = {s.group["g"]: s.ci95 for s in rel.statistics}
    covered = np.mean([ci[k][0] <= e <= ci[k][1] for k, e in zip(keys, exact, strict=True)])
    z = stats.norm.ppf(1 - FALSE_FAILURE)
    assert covered >= 0.95 - z * math.sqrt(0.95 * 0.05 / m)
    return noise_, rel.plan.part("count").scale


def _chi2_gof(noise: np.ndarray, pmf, support: range) -> None:
    """Pearson chi-square over the bins of ``support`` plus one pooled bin per tail."""
    lo, hi = support[0], support[-1]
    observed = [np.sum(noise == k) for k in support]
    observed += [np.sum(noise < lo), np.sum(noise > hi)]
    lower = sum(pmf(k) for k in range(-400, lo))
    upper = sum(pmf(k) for k in range(hi + 1, 401))
    probs = [pmf(k) for k in support] + [lower, upper]
    expected = [p * len(noise) for p in probs]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    critical = stats.chi2.ppf(1 - FALSE_FAILURE, len(observed) - 1)
    assert chi2 < critical, (chi2, critical)


def test_count_noise_is_discrete_laplace_of_the_claimed_scale(tmp_path):
    noise, scale = _noise_of_counts(tmp_path, "laplace", epsilon=1.0)
    assert scale == pytest.approx(1.0, rel=1e-9)  # sensitivity 1 / epsilon 1
    assert np.all(noise == np.round(noise))
    z = sum(math.exp(-abs(k) / scale) for k in range(-400, 401))

    def pmf(k: int) -> float:
        return math.exp(-abs(k) / scale) / z

    _chi2_gof(noise, pmf, range(-6, 7))
    # never smaller than claimed: mean |noise| is not significantly below E|X| (one-sided z)
    e_abs = sum(abs(k) * pmf(k) for k in range(-400, 401))
    sd_abs = math.sqrt(sum(k * k * pmf(k) for k in range(-400, 401)) - e_abs**2)
    z_crit = stats.norm.ppf(1 - FALSE_FAILURE)
    assert noise.__abs__().mean() > e_abs - z_crit * sd_abs / math.sqrt(len(noise))


def test_count_noise_is_discrete_gaussian_of_the_claimed_scale(tmp_path):
    noise, scale = _noise_of_counts(tmp_path, "gaussian", epsilon=1.0, delta=1e-6)
    z = sum(math.exp(-(k * k) / (2 * scale * scale)) for k in range(-400, 401))

    def pmf(k: int) -> float:
        return math.exp(-(k * k) / (2 * scale * scale)) / z

    width = int(math.ceil(2.5 * scale))
    _chi2_gof(noise, pmf, range(-width, width + 1))
    var = sum(k * k * pmf(k) for k in range(-400, 401))
    # sample variance not significantly below the claimed one (chi-square lower quantile)
    n = len(noise)
    lower = var * stats.chi2.ppf(FALSE_FAILURE, n - 1) / (n - 1)
    assert noise.var(ddof=1) > lower


def test_sum_noise_is_laplace_of_the_claimed_scale(tmp_path):
    m = 3000
    keys = [f"k{i}" for i in range(m)]
    df = pd.DataFrame({"g": keys, "x": np.full(m, 2.0)})
    rel = dp_release(
        df,
        ledger=tmp_path / "l.jsonl",
        population="t",
        budget="10",
        privacy_unit="row",
        max_contributions=1,
        epsilon=2.0,
        sums=["x"],
        by=["g"],
        keys={"g": keys},
        bounds={"x": (-5, 5)},
    )
    part = rel.plan.part("sum:x")
    scale = part.scale
    assert scale == pytest.approx(part.sensitivity / 2.0, rel=1e-9)  # sensitivity / epsilon
    assert part.sensitivity >= 5
    noise = np.array([s.value for s in rel.statistics]) - 2.0
    ks = stats.kstest(noise, stats.laplace(scale=scale).cdf)
    assert ks.pvalue > FALSE_FAILURE


# ------------------------------------------------------------------------ contribution bounding
def _visits(n_heavy: int, groups: int = 5) -> pd.DataFrame:
    """Person 'heavy' has ``n_heavy`` visits spread over groups; 30 others one visit each."""
    heavy = pd.DataFrame(
        {"pid": ["heavy"] * n_heavy, "g": [f"g{i % groups}" for i in range(n_heavy)]}
    )
    others = pd.DataFrame({"pid": [f"p{i}" for i in range(30)], "g": ["g0"] * 30})
    return pd.concat([heavy, others], ignore_index=True)


def _exact_counts(df: pd.DataFrame, n: int) -> dict[str, int]:
    spec = make_spec(
        privacy_unit="pid",
        max_contributions=n,
        epsilon=1.0,
        count=True,
        by=["g"],
        keys={"g": [f"g{i}" for i in range(5)]},
    )
    agg, _ = bound_and_aggregate(spec, df)
    return dict(zip(agg["g_0"], agg["__wb_n"].astype(int), strict=True))


@pytest.mark.parametrize("n", [1, 3, 7])
def test_a_person_with_50_visits_moves_counts_by_at_most_n(n):
    with_heavy = _exact_counts(_visits(50), n)
    without = _exact_counts(_visits(0), n)
    l1 = sum(abs(with_heavy.get(g, 0) - without.get(g, 0)) for g in set(with_heavy) | set(without))
    assert l1 == n  # exactly N rows kept, never more


@pytest.mark.parametrize("rows,n,kept", [(3, 3, 3), (2, 3, 2), (4, 3, 3)])
def test_bound_at_the_limit(rows, n, kept):
    with_heavy = _exact_counts(_visits(rows), n)
    without = _exact_counts(_visits(0), n)
    assert sum(with_heavy.values()) - sum(without.values()) == kept


def test_truncation_is_random_not_first_rows():
    df = pd.DataFrame({"pid": ["heavy"] * 50, "g": [f"g{i}" for i in range(50)]})
    spec = make_spec(
        privacy_unit="pid",
        max_contributions=3,
        epsilon=1.0,
        count=True,
        by=["g"],
        keys={"g": [f"g{i}" for i in range(50)]},
    )
    kept = set()
    for _ in range(10):
        agg, _ = bound_and_aggregate(spec, df)
        kept.add(tuple(sorted(agg["g_0"])))
    # ten identical random 3-subsets of 50 has probability C(50,3)^-9 (about 1e-37)
    assert len(kept) > 1


def test_sensitivities_agree_with_opendps_record_level_maps():
    dp = opendp()
    n, low, high = 4, -3.0, 10.0
    spec = make_spec(
        privacy_unit="pid",
        max_contributions=n,
        epsilon=1.0,
        count=True,
        by=["g"],
        keys={"g": ["a", "b"]},
        sums=["x"],
        bounds={"x": (low, high)},
    )
    plan = plan_release(spec)
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    t_count = space >> dp.t.then_count_by_categories(categories=["a", "b"], null_category=False)
    assert plan.part("count").sensitivity == t_count.map(n) == n
    # the sum's sensitivity is OpenDP's (conservative: it bounds positive and negative parts
    # separately, N * (U - L) here) and never below the add/remove bound N * max(|L|, |U|)
    fspace = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    t_sum = fspace >> dp.t.then_clamp((low, high)) >> dp.t.then_sum()
    assert plan.part("sum:x").sensitivity == t_sum.map(n)
    assert plan.part("sum:x").sensitivity >= n * max(abs(low), abs(high))


# ------------------------------------------------------------------------ refusals and words
def test_release_without_privacy_unit_is_refused():
    with pytest.raises(ParameterError, match="privacy unit"):
        make_spec(privacy_unit="", max_contributions=1, epsilon=1.0, count=True)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"by": ["g"]}, "never released silently"),
        ({"noise": "gaussian"}, "need a delta"),
        ({"by": ["g"], "select_keys": True}, "need a delta"),
        ({"max_contributions": 0}, ">= 1"),
        ({"sums": ["x"]}, "never taken from the data"),
        ({"by": ["pid"], "keys": {"pid": ["1"]}}, "other than the privacy unit"),
    ],
)
def test_unsafe_requests_are_refused(kwargs, match):
    args = {"privacy_unit": "pid", "max_contributions": 2, "epsilon": 1.0, "count": True}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        make_spec(**args)


def test_refused_release_draws_nothing_and_writes_nothing(tmp_path):
    df = pd.DataFrame({"pid": [1, 2, 3], "g": ["a", "b", "a"]})
    out = tmp_path / "release.csv"
    args = dict(
        ledger=tmp_path / "l.jsonl",
        population="t",
        budget="1.0",
        privacy_unit="pid",
        max_contributions=1,
        count=True,
        by=["g"],
        keys={"g": ["a", "b"]},
    )
    dp_release(df, epsilon=0.7, **args)
    before = (tmp_path / "l.jsonl").read_bytes()
    with pytest.raises(BudgetExceededError):
        dp_release(df, epsilon=0.7, output=out, **args)
    assert not out.exists()
    assert (tmp_path / "l.jsonl").read_bytes() == before


def test_missing_column_is_named_before_spending(tmp_path):
    df = pd.DataFrame({"pid": [1], "g": ["a"]})
    with pytest.raises(ColumnNotFoundError, match="'h'"):
        dp_release(
            df,
            ledger=tmp_path / "l.jsonl",
            population="t",
            budget="1.0",
            privacy_unit="pid",
            max_contributions=1,
            epsilon=0.5,
            count=True,
            by=["h"],
            keys={"h": ["a"]},
        )
    assert not (tmp_path / "l.jsonl").exists()


def test_accuracy_words_use_opendps_accuracy_and_no_data():
    dp = opendp()
    report = dp_accuracy(
        privacy_unit="pid",
        max_contributions=3,
        epsilon=0.5,
        count=True,
        by=["g"],
        keys={"g": ["a", "b"]},
        means=["x"],
        bounds={"x": (0, 100)},
    )
    count = report.statistics[0]
    expected = dp.discrete_laplacian_scale_to_accuracy(3 / (0.5 / 2), 0.05)
    assert count.ci95 == pytest.approx(expected)
    assert f"±{expected:,.0f}" in count.words and "95 %" in count.words
    mean = report.statistics[1]
    assert mean.data_dependent and "depend on the data" in mean.words
    assert report.to_dict()["spends"].startswith("nothing")


def test_smaller_epsilon_gives_wider_intervals():
    spec = make_spec(privacy_unit="row", max_contributions=1, epsilon=1.0, count=True)
    wide = accuracy_report(plan_release(spec.__class__(**{**spec.__dict__, "epsilon": 0.1})))
    narrow = accuracy_report(spec)
    assert wide.statistics[0].ci95 > narrow.statistics[0].ci95


def test_quantile_release_is_a_candidate_and_charged(tmp_path):
    values = np.linspace(0, 100, 2001)
    df = pd.DataFrame({"pid": range(len(values)), "x": values})
    led = Ledger(tmp_path / "l.jsonl")
    rel = dp_release(
        df,
        ledger=led,
        population="t",
        budget="5",
        privacy_unit="pid",
        max_contributions=1,
        epsilon=2.0,
        quantiles=[("x", 0.5)],
        bounds={"x": (0, 100)},
    )
    q = rel.statistics[0]
    assert q.value in rel.plan.part("quantile:x:0.5").candidates
    # rank bound at epsilon 2, 101 candidates: 2/2 (ln 101 + ln 20) = 7.6 records ~ 0.4 in value;
    # allow 10 (a miss has probability < 1e-12 for this dense uniform data)
    assert abs(q.value - 50) <= 10
    assert led.state().spent.epsilon == pytest.approx(2.0)


def test_quantile_accuracy_is_a_data_independent_rank_bound():
    report = dp_accuracy(
        privacy_unit="pid", max_contributions=2, epsilon=1.0, quantiles=[("x", 0.5)],
        bounds={"x": (0, 100)}, quantile_grid=51,
    )  # fmt: skip
    q = report.statistics[0]
    assert q.data_dependent and q.ci95 is None
    # (2 * N / epsilon) * (ln |C| + ln 20) with N = 2, epsilon = 1, |C| = 51
    assert q.detail["rank_bound_95"] == pytest.approx(4 * (math.log(51) + math.log(20)))
    assert q.detail["grid_step"] == pytest.approx(2.0)
    assert "depends on the data" in q.words


def test_rows_without_a_person_key_count_as_one_person():
    df = pd.DataFrame({"pid": [None] * 5 + ["a", "b"], "g": ["g0"] * 7})
    spec = make_spec(
        privacy_unit="pid", max_contributions=2, epsilon=1.0, count=True, by=["g"],
        keys={"g": ["g0"]},
    )  # fmt: skip
    agg, _ = bound_and_aggregate(spec, df)
    assert int(agg["__wb_n"].sum()) == 2 + 1 + 1


def test_mean_bound_is_capped_by_the_range():
    report = dp_accuracy(
        privacy_unit="row", max_contributions=1, epsilon=0.01, means=["x"], bounds={"x": (0, 10)}
    )
    bounds = report.statistics[0].detail["bound_by_group_size"]
    assert bounds["10000"] is not None and bounds["10000"] <= 10
    assert all(v is None or v <= 10 for v in bounds.values())
