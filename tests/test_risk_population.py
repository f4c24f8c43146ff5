"""Population-uniqueness models: hand cases, the model equations themselves, and sanity checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from workbench.errors import ParameterError
from workbench.risk import PopulationEstimate, dankar, pitman, population_uniqueness, snb, zayatz
from workbench.risk.population import (
    _pitman_terms,
    _shlosser_classes,
    frequencies_of_frequencies,
    snb_moments,
)


def _crp(n: int, theta: float, alpha: float, seed: int) -> np.ndarray:
    """Class sizes of a sample drawn from Pitman's two-parameter (Chinese restaurant) process."""
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    for i in range(n):
        k = len(sizes)
        if rng.random() < (theta + k * alpha) / (theta + i):
            sizes.append(1)
        else:
            p = np.asarray(sizes, dtype=float) - alpha
            sizes[rng.choice(k, p=p / p.sum())] += 1
    return np.asarray(sizes)


@pytest.fixture(scope="module")
def py_sample() -> np.ndarray:
    return _crp(3000, theta=50.0, alpha=0.5, seed=7)


# ------------------------------------------------------------------------------ Zayatz
def test_zayatz_by_hand() -> None:
    # Sample classes of sizes 1, 1, 2 (n = 4) from N = 10: P_1 = 4/10,
    # P_2 = 2 C(8,3) / C(10,4) = 112/210; estimate c1^2 / sum c_j P_j = 4 / (0.8 + 112/210) = 3.
    est = zayatz(np.array([1, 1, 2]), 10)
    assert est.uniques == pytest.approx(3.0)
    assert est.available and est.reason is None


def test_zayatz_without_uniques_is_zero() -> None:
    assert zayatz(np.array([2, 3]), 100).uniques == 0.0


# ------------------------------------------------------------------------------ Pitman
def _pitman_loglik_direct(t, a, sizes):
    u, n = len(sizes), int(sum(sizes))
    ll = sum(math.log(t + i * a) for i in range(1, u))
    ll -= sum(math.log(t + i) for i in range(1, n))
    ll += sum(math.log(k - a) for s in sizes for k in range(1, s))
    return ll


@pytest.mark.parametrize("t, a", [(2.0, 0.3), (0.5, 0.7), (-0.2, 0.5), (40.0, 0.05)])
def test_pitman_closed_forms_match_sums_and_derivatives(t, a) -> None:
    sizes = [1, 1, 1, 2, 2, 3, 5, 8]
    j, cj = frequencies_of_frequencies(np.array(sizes))
    u, n = float(len(sizes)), float(sum(sizes))
    ll, g, h = _pitman_terms(t, a, j, cj, u, n)
    assert ll == pytest.approx(_pitman_loglik_direct(t, a, sizes), rel=1e-10)
    eps = 1e-6
    num_g = [
        (_pitman_loglik_direct(t + eps, a, sizes) - _pitman_loglik_direct(t - eps, a, sizes))
        / (2 * eps),
        (_pitman_loglik_direct(t, a + eps, sizes) - _pitman_loglik_direct(t, a - eps, sizes))
        / (2 * eps),
    ]
    np.testing.assert_allclose(g, num_g, rtol=1e-5, atol=1e-7)
    gt = _pitman_terms(t + eps, a, j, cj, u, n)[1] - _pitman_terms(t - eps, a, j, cj, u, n)[1]
    ga = _pitman_terms(t, a + eps, j, cj, u, n)[1] - _pitman_terms(t, a - eps, j, cj, u, n)[1]
    np.testing.assert_allclose(h, np.column_stack([gt, ga]) / (2 * eps), rtol=1e-3, atol=1e-6)


def test_pitman_mle_recovers_simulation_parameters(py_sample) -> None:
    est = pitman(py_sample, 30000)
    assert est.available
    assert est.parameters["alpha"] == pytest.approx(0.5, abs=0.1)
    assert est.parameters["theta"] == pytest.approx(50.0, rel=0.35)
    t, a = est.parameters["theta"], est.parameters["alpha"]
    j, cj = frequencies_of_frequencies(py_sample)
    g = _pitman_terms(t, a, j, cj, float(len(py_sample)), float(py_sample.sum()))[1]
    assert np.abs(g).max() < 1e-6  # the score equations hold at the answer
    expected = math.exp(special.gammaln(t + 1) - special.gammaln(t + a)) * 30000**a
    assert est.uniques == pytest.approx(expected)


def test_pitman_unavailable_with_reasons() -> None:
    all_unique = pitman(np.ones(10, dtype=int), 100)
    assert all_unique.uniques is None and "unique" in all_unique.reason


@pytest.mark.parametrize("sizes", [[7], [2, 3], [2, 2, 5, 9]])
def test_pitman_without_sample_uniques_is_zero(sizes) -> None:
    # Regression: Pitman was unavailable ("alpha is not identified", "did not converge") when
    # no class has size 1. Zayatz, SNB and ARX (RiskModelPopulationUniqueness: "Handle cases
    # where there are no sample uniques" sets every estimate to 0) all say 0: with no sample
    # unique there is nothing to extrapolate.
    est = pitman(np.array(sizes), 1000)
    assert est.available and est.uniques == 0.0 and est.reason == "no sample uniques"
    r = population_uniqueness(np.array(sizes), 1000)  # f <= 0.1: Dankar picks Pitman
    assert (r.pitman.uniques, r.zayatz.uniques, r.snb.uniques) == (0.0, 0.0, 0.0)
    assert r.dankar.model == "pitman" and r.dankar.uniques == 0.0


# --------------------------------------------------------------------------------- SNB
def _snb_series(alpha, beta, f, K, m_max=4000):
    m = np.arange(1, m_max + 1, dtype=float)
    log_pf = (
        special.gammaln(m - 1 + alpha)
        - special.gammaln(alpha)
        - special.gammaln(m)
        + alpha * math.log(beta)
        + (m - 1) * math.log1p(-beta)
    )
    pf = np.exp(log_pf)
    p1 = (pf * m * f * (1 - f) ** (m - 1)).sum()
    p2 = (pf * m * (m - 1) / 2 * f * f * (1 - f) ** (m - 2)).sum()
    return K * p1, K * p2


@pytest.mark.parametrize("alpha, beta, f", [(0.5, 0.3, 0.1), (2.0, 0.6, 0.5), (0.1, 0.05, 0.3)])
def test_snb_moment_equations_match_direct_series(alpha, beta, f) -> None:
    e1, e2 = snb_moments(alpha, beta, f, K=1000.0)
    s1, s2 = _snb_series(alpha, beta, f, K=1000.0)
    assert e1 == pytest.approx(s1, rel=1e-9)
    assert e2 == pytest.approx(s2, rel=1e-9)


def test_snb_solution_satisfies_its_equations(py_sample) -> None:
    est = snb(py_sample, 6000)
    assert est.available
    p = est.parameters
    j, cj = frequencies_of_frequencies(py_sample)
    e1, e2 = snb_moments(p["alpha"], p["beta"], 0.5, p["K"])
    assert e1 == pytest.approx(cj[j == 1][0], rel=1e-8)
    assert e2 == pytest.approx(cj[j == 2][0], rel=1e-8)
    assert est.uniques == pytest.approx(p["K"] * p["beta"] ** p["alpha"])


def test_shlosser_classes_by_hand() -> None:
    # sizes {1: 2, 2: 1}, f = 0.5
    j, cj = np.array([1.0, 2.0]), np.array([2.0, 1.0])
    v1 = 1 * 0.25 * 1 * 2 + 2 * 0.25 * 0.75 * 1
    v2 = 0.5 * 0.5 * 2 + 0.25 * (2.25 - 1) * 1
    v3 = 0.5 * 2 + 0.25 * 1
    v4 = 1 * 0.5 * 1 * 2 + 2 * 0.5 * 0.5 * 1
    assert _shlosser_classes(j, cj, 3.0, 2.0, 0.5) == pytest.approx(
        3 + 2 * v1 / v2 * (v3 / v4) ** 2
    )
    assert _shlosser_classes(j, cj, 3.0, 2.0, 1.0) == 3.0  # everything observed


def test_snb_needs_classes_of_size_two() -> None:
    est = snb(np.array([1, 1, 3]), 50)
    assert est.uniques is None and "size 2" in est.reason


# ------------------------------------------------------------------- sanity and Dankar
def test_population_equal_to_sample_gives_sample_uniques(py_sample) -> None:
    r = population_uniqueness(py_sample, int(py_sample.sum()))
    c1 = int((py_sample == 1).sum())
    assert r.sampling_fraction == 1.0
    assert r.pitman.uniques == r.zayatz.uniques == r.snb.uniques == r.dankar.uniques == c1


def test_estimates_grow_with_population(py_sample) -> None:
    small = population_uniqueness(py_sample, 6000)
    large = population_uniqueness(py_sample, 60000)
    for model in ("pitman", "zayatz"):
        assert getattr(large, model).uniques > getattr(small, model).uniques


def test_population_smaller_than_sample_is_rejected() -> None:
    with pytest.raises(ParameterError, match="at least the number of records"):
        population_uniqueness(np.array([1, 2, 3]), 5)


def test_dankar_rule() -> None:
    p = PopulationEstimate("pitman", 10.0)
    z = PopulationEstimate("zayatz", 30.0)
    s = PopulationEstimate("snb", 20.0)
    none = PopulationEstimate("snb", None, "did not converge")
    assert dankar(p, z, s, 0.1).model == "pitman"  # f <= 0.1: Pitman
    assert dankar(p, z, s, 0.2).model == "snb"  # else the smaller of Zayatz, SNB
    assert dankar(p, z, s, 0.2).uniques == 20.0
    fb = dankar(p, z, none, 0.2)
    assert fb.model == "zayatz" and "SNB unavailable" in fb.reason
    fb = dankar(PopulationEstimate("pitman", None, "edge"), z, s, 0.05)
    assert fb.model == "zayatz" and "Pitman unavailable" in fb.reason


def test_dankar_note_names_the_model_it_used() -> None:
    # Regression: with Zayatz unavailable and SNB available the note said "SNB unavailable ...;
    # used Zayatz" although the number reported was SNB's.
    p = PopulationEstimate("pitman", 10.0)
    z_none = PopulationEstimate("zayatz", None, "hypergeometric probabilities underflowed")
    s = PopulationEstimate("snb", 20.0)
    got = dankar(p, z_none, s, 0.5)
    assert (got.model, got.uniques) == ("snb", 20.0)
    assert got.reason == "Zayatz unavailable (hypergeometric probabilities underflowed); used SNB"
    z = PopulationEstimate("zayatz", 30.0)
    s_none = PopulationEstimate("snb", None, "did not converge")
    got = dankar(p, z, s_none, 0.5)
    assert (got.model, got.uniques) == ("zayatz", 30.0)
    assert got.reason == "SNB unavailable (did not converge); used Zayatz"


def test_to_dict_has_contract_keys(py_sample) -> None:
    d = population_uniqueness(py_sample, 30000).to_dict()
    assert {"size", "pitman", "zayatz", "snb", "dankar"} <= d.keys()
    assert d["dankar"]["model"] == "pitman"
    assert d["size"] == 30000


def test_hypergeometric_one_is_exact() -> None:
    from fractions import Fraction

    from workbench.risk.population import hypergeometric_one

    sizes = [1, 2, 3, 10, 57, 400]
    for n, N in [(50, 500), (999, 1000), (1000, 10**7)]:
        ours = hypergeometric_one(np.array(sizes), n, N)
        exact = [float(Fraction(j * math.comb(N - j, n - 1), math.comb(N, n))) for j in sizes]
        np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=1e-300)
    assert hypergeometric_one(np.array([1]), 5, 10)[0] == pytest.approx(0.5)  # P_1 = n / N


def test_large_classes_do_not_overflow_the_class_estimate() -> None:
    # Classes of thousands of records: (1 + f)^j overflows; the estimate must stay finite.
    sizes = np.concatenate([np.ones(50, dtype=int), np.full(20, 2), [9000, 12000]])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = population_uniqueness(sizes, 10 * int(sizes.sum()))
    assert r.snb.available or r.snb.reason
    assert r.snb.parameters.get("K") is None or math.isfinite(r.snb.parameters["K"])


def test_snb_far_from_solution_does_not_warn() -> None:
    """Regression: the SNB solver used to raise "invalid value in scalar divide" (an error under
    -W error) where beta^alpha and (1-d)^(alpha+2) underflow; it must stay silent and finite."""
    import warnings

    from workbench.risk.population import snb

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # found by random search: many uniques, few pairs, tiny sampling fraction
        for sizes in (np.array([1] * 94 + [2] * 6), np.array([1] * 137 + [2] * 8)):
            for n_pop in (20_000, 10**6, 10**8):
                est = snb(sizes, n_pop)
                assert est.uniques is None or np.isfinite(est.uniques)
