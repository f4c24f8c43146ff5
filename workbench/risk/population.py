"""Estimates of the number of population uniques from a sample's class-size histogram.

A record unique in the sample may or may not be unique in the population it was drawn from; these
superpopulation models estimate how many population classes of size 1 there are, given the
sample's frequencies of frequencies ``c_j`` (number of sample classes of size ``j``), the sample
size ``n`` and the population size ``N`` (sampling fraction ``f = n / N``).

* Pitman (1996) two-parameter sampling formula, applied to disclosure risk by Hoshino (2001),
  parameters by maximum likelihood;
* Zayatz (1991), conditional probability that a sample unique is a population unique;
* SNB: shifted negative binomial superpopulation model of Chen & Keller-McNulty (1998);
* the decision rule of Dankar, El Emam, Neisa & Roffey (2012), "Estimating the re-identification
  risk of clinical data sets", BMC Med. Inform. Decis. Mak. 12:66: Pitman when ``f <= 0.1``,
  otherwise the smaller of Zayatz and SNB.

An estimator whose equations have no solution inside the parameter space, or whose solver does not
converge, is reported as unavailable with the reason, never as a number.

Differences from ARX (``ModelPitman``, ``ModelZayatz``, ``ModelSNB``), whose structure is followed:

* SNB's second moment equation divides by ``(1 - d)^(alpha + 2)`` (derived from the model and
  verified against a direct series sum in the tests); ARX 3.x multiplies by it (its earlier
  ``NewtonSNB`` divided).
* The number of non-empty population classes ``K`` for SNB uses the Shlosser-type estimator
  (Haas & Stokes 1998) with ``(1-f)^j ((1+f)^j - 1)`` in the denominator, as in ARX's first
  ``SNBModel``; ARX 3.x computes ``(1-f)^j (1+f)^j c_j - 1`` per histogram entry.
* When the population is the sample (``N == n``) every model returns the sample uniques: the
  population is observed, nothing is left to estimate.
* ARX falls back to Zayatz when the chosen model fails; so does :func:`dankar`, and it says so.
  For ``f > 0.1`` with only one of Zayatz and SNB available, the note names the model whose
  number is reported.
* With no sample uniques every model (Pitman included) returns 0, as ARX does
  (``RiskModelPopulationUniqueness``) and as Zayatz's and SNB's formulas give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import ParameterError


class _LazySpecial:
    """``scipy.special``, imported on first use: a profile without a population size (most CLI
    runs) then never pays its start-up cost (over a second on a loaded machine)."""

    def __getattr__(self, name: str) -> Any:
        from scipy import special as module

        return getattr(module, name)


special = _LazySpecial()

__all__ = [
    "PopulationEstimate",
    "PopulationUniqueness",
    "frequencies_of_frequencies",
    "hypergeometric_one",
    "pitman",
    "zayatz",
    "snb",
    "dankar",
    "population_uniqueness",
]


@dataclass(frozen=True)
class PopulationEstimate:
    """One model's estimate of the number of population uniques.

    Attributes
    ----------
    model : str
        ``"pitman"``, ``"zayatz"``, ``"snb"`` (for Dankar's rule: the model it chose).
    uniques : float or None
        Estimated number of population uniques; ``None`` when unavailable.
    reason : str or None
        Why the estimate is unavailable, or a note on how it was obtained.
    parameters : Mapping[str, float]
        Fitted model parameters (for example ``theta``, ``alpha``).
    """

    model: str
    uniques: float | None
    reason: str | None = None
    parameters: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def available(self) -> bool:
        return self.uniques is not None

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "uniques": self.uniques,
            "reason": self.reason,
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True)
class PopulationUniqueness:
    """All population-uniqueness estimates for one sample and population size."""

    size: int
    sample_size: int
    sampling_fraction: float
    pitman: PopulationEstimate
    zayatz: PopulationEstimate
    snb: PopulationEstimate
    dankar: PopulationEstimate

    def to_dict(self) -> dict:
        """The ``population`` block of ``workbench assess --json``."""
        notes = {
            m.model if name != "dankar" else "dankar": m.reason
            for name, m in (
                ("pitman", self.pitman),
                ("zayatz", self.zayatz),
                ("snb", self.snb),
                ("dankar", self.dankar),
            )
            if m.reason
        }
        return {
            "size": self.size,
            "sampling_fraction": self.sampling_fraction,
            "pitman": self.pitman.uniques,
            "zayatz": self.zayatz.uniques,
            "snb": self.snb.uniques,
            "dankar": {"model": self.dankar.model, "uniques": self.dankar.uniques},
            "notes": notes,
        }


def frequencies_of_frequencies(class_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(j, c_j)``: the distinct class sizes and how many classes have each size."""
    sizes = np.asarray(class_sizes, dtype=np.int64)
    sizes = sizes[sizes > 0]
    if sizes.size == 0:
        return np.zeros(0), np.zeros(0)
    freq = np.bincount(sizes)  # O(classes): sizes are small integers
    j = np.flatnonzero(freq)
    return j.astype(np.float64), freq[j].astype(np.float64)


def _check(j: np.ndarray, cj: np.ndarray, population_size: float) -> tuple[float, float, float]:
    n = float((j * cj).sum())
    u = float(cj.sum())
    N = float(population_size)
    if not math.isfinite(N) or N < n:
        raise ParameterError(
            "population_size", population_size, f"at least the number of records ({int(n)})"
        )
    return n, u, N


def _c(j: np.ndarray, cj: np.ndarray, size: int) -> float:
    hit = cj[j == size]
    return float(hit[0]) if hit.size else 0.0


# ---------------------------------------------------------------------- Pitman
def _pitman_terms(t: float, a: float, j: np.ndarray, cj: np.ndarray, u: float, n: float):
    """Log-likelihood, gradient and Hessian of Pitman's sampling formula in (theta, alpha).

    L = sum_{i<u} log(theta + i alpha) - sum_{i<n} log(theta + i)
        + sum_j c_j sum_{k<j} log(k - alpha), with the sums in closed form (digamma/trigamma).
    """
    z = t / a
    s0 = special.digamma(z + u) - special.digamma(z + 1.0)
    s1 = special.polygamma(1, z + 1.0) - special.polygamma(1, z + u)
    a1 = s0 / a  # sum 1/(t + i a)
    a2 = s1 / (a * a)  # sum 1/(t + i a)^2
    b1 = (u - 1.0) / a - t * a1 / a  # sum i/(t + i a)
    b2 = (a1 - t * a2) / a  # sum i/(t + i a)^2
    c2 = ((u - 1.0) - 2.0 * t * a1 + t * t * a2) / (a * a)  # sum i^2/(t + i a)^2
    d1 = special.digamma(t + n) - special.digamma(t + 1.0)
    d2 = special.polygamma(1, t + 1.0) - special.polygamma(1, t + n)
    e1 = float((cj * (special.digamma(j - a) - special.digamma(1.0 - a))).sum())
    e2 = float((cj * (special.polygamma(1, 1.0 - a) - special.polygamma(1, j - a))).sum())
    loglik = (
        (u - 1.0) * math.log(a)
        + special.gammaln(z + u)
        - special.gammaln(z + 1.0)
        - (special.gammaln(t + n) - special.gammaln(t + 1.0))
        + float((cj * (special.gammaln(j - a) - special.gammaln(1.0 - a))).sum())
    )
    grad = np.array([a1 - d1, b1 - e1])
    hess = np.array([[-a2 + d2, -b2], [-b2, -c2 - e2]])
    return float(loglik), grad, hess


def _pitman_fit(j: np.ndarray, cj: np.ndarray, n: float, u: float) -> tuple[float, float] | str:
    """Maximum-likelihood (theta, alpha) with alpha in (0, 1), theta > -alpha; or a reason."""
    c1, c2 = _c(j, cj, 1), _c(j, cj, 2)
    # Initial guess as in ARX (moment-type start from c1, c2).
    cc = c1 * (c1 - 1.0) / (c2 if c2 else 1.0)
    den = 2.0 * c1 * u + c1 * cc - n * cc
    t0 = (n * u * cc - c1 * (n - 1.0) * (2.0 * u + cc)) / den if den else float("nan")
    a0 = (t0 * (c1 - n) + (n - 1.0) * c1) / (n * u) if math.isfinite(t0) else float("nan")
    starts = [(t0, a0), (1.0, 0.5), (max(u, 1.0), 0.1), (10.0, 0.9)]

    def inside(t: float, a: float) -> bool:
        return math.isfinite(t) and math.isfinite(a) and 0.0 < a < 1.0 and t > -a

    best: tuple[float, float] | None = None
    for t, a in starts:
        if not inside(t, a):
            continue
        x = np.array([t, a])
        for _ in range(200):
            ll, g, h = _pitman_terms(x[0], x[1], j, cj, u, n)
            try:
                step = -np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                step = g
            if not np.all(np.linalg.eigvalsh(h) < 0) or step @ g <= 0:
                step = g / max(np.abs(g).max(), 1.0)  # not concave here: gradient ascent
            lam = 1.0
            moved = False
            while lam > 1e-12:
                cand = x + lam * step
                if inside(cand[0], cand[1]):
                    ll2 = _pitman_terms(cand[0], cand[1], j, cj, u, n)[0]
                    if ll2 >= ll - 1e-12 * abs(ll):
                        moved = True
                        break
                lam /= 2.0
            if not moved:
                break
            done = np.all(np.abs(cand - x) <= 1e-12 * (1.0 + np.abs(x)))
            x = cand
            if done:
                break
        _, g, h = _pitman_terms(x[0], x[1], j, cj, u, n)
        scale = np.array([max(1.0, abs(x[0])), 1.0])
        if np.all(np.abs(g * scale) < 1e-6 * max(1.0, u)) and np.all(np.linalg.eigvalsh(h) < 0):
            best = (float(x[0]), float(x[1]))
            break
        if x[1] < 1e-6 or x[1] > 1 - 1e-6:
            return (
                f"the likelihood is maximised at the edge of the parameter space "
                f"(alpha -> {x[1]:.3g}); Pitman's model does not fit this histogram"
            )
    if best is None:
        return "maximum-likelihood equations did not converge"
    return best


def pitman(class_sizes: np.ndarray, population_size: float) -> PopulationEstimate:
    """Pitman's model: expected population uniques ``Gamma(theta+1) / Gamma(theta+alpha) N^alpha``.

    Parameters ``theta, alpha`` are the maximum-likelihood estimates under Pitman's (1996)
    two-parameter sampling formula ("Some developments of the Blackwell-MacQueen urn scheme");
    the population-uniques formula is Hoshino (2001), "Applying Pitman's sampling formula to
    microdata disclosure risk assessment", J. Official Statistics 17(4):499-520.
    """
    j, cj = frequencies_of_frequencies(class_sizes)
    n, u, N = _check(j, cj, population_size)
    if u == 0:
        return PopulationEstimate("pitman", 0.0, "no records")
    if _c(j, cj, 1) == 0:  # as Zayatz, SNB and ARX: no sample unique, nothing to extrapolate
        return PopulationEstimate("pitman", 0.0, "no sample uniques")
    if N == n:
        return PopulationEstimate("pitman", _c(j, cj, 1), "the sample is the population")
    if u == n:
        return PopulationEstimate(
            "pitman", None, "every sample class is unique; the likelihood has no finite maximum"
        )
    fit = _pitman_fit(j, cj, n, u)
    if isinstance(fit, str):
        return PopulationEstimate("pitman", None, fit)
    t, a = fit
    try:
        value = math.exp(special.gammaln(t + 1.0) - special.gammaln(t + a) + a * math.log(N))
    except OverflowError:
        value = float("inf")
    params = MappingProxyType({"theta": t, "alpha": a})
    if not (math.isfinite(value) and 0.0 <= value <= N):
        return PopulationEstimate("pitman", None, f"estimate {value:.3g} outside [0, N]", params)
    return PopulationEstimate("pitman", value, None, params)


# ---------------------------------------------------------------------- Zayatz
def hypergeometric_one(sizes: np.ndarray, n: float, N: float) -> np.ndarray:
    """``P(X = 1)`` for ``X`` ~ Hypergeometric(N, K=size, n): a population class of that size
    has exactly one record in a sample of ``n`` drawn without replacement from ``N``.

    ``P = j (n/N) prod_{i=1}^{j-1} (1 - (n-1)/(N-i))``, summed in log space with ``log1p`` so it
    stays exact for populations of any size (scipy's generic pmf is slower and loses digits).
    """
    j = np.asarray(sizes, dtype=np.float64)
    if j.size == 0:
        return np.zeros(0)
    top = int(j.max())
    i = np.arange(1, max(top, 1), dtype=np.float64)
    ratio = (n - 1.0) / (N - i)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ratio < 1.0, np.log1p(-np.minimum(ratio, 1.0)), -np.inf)
    cum = np.concatenate([[0.0], np.cumsum(terms)])  # cum[k] = sum over i = 1..k
    logp = np.log(j) + math.log(n / N) + cum[j.astype(np.int64) - 1]
    return np.where(j > N, 0.0, np.exp(logp))


def zayatz(class_sizes: np.ndarray, population_size: float) -> PopulationEstimate:
    """Zayatz (1991): sample uniques that are population uniques, scaled by the sampling fraction.

    With ``P_j = P(a population class of size j has exactly one record in the sample)``
    (hypergeometric) and the sample's class-size distribution as prior,
    ``P(pop. unique | sample unique) = c_1 P_1 / sum_j c_j P_j`` and the estimate is
    ``c_1 P(pop. unique | sample unique) / f``; as ``P_1 = f`` this is
    ``c_1^2 / sum_j c_j P_j``. Zayatz, "Estimation of the percent of unique population elements on
    a microdata file using the sample", US Census Bureau SRD Report RR-91/08 (1991).
    """
    j, cj = frequencies_of_frequencies(class_sizes)
    n, u, N = _check(j, cj, population_size)
    c1 = _c(j, cj, 1)
    if u == 0 or c1 == 0:
        return PopulationEstimate("zayatz", 0.0, "no sample uniques" if u else "no records")
    if N == n:
        return PopulationEstimate("zayatz", c1, "the sample is the population")
    p = hypergeometric_one(j, n, N)
    denom = float((cj * p).sum())
    if not denom > 0:
        return PopulationEstimate("zayatz", None, "hypergeometric probabilities underflowed")
    return PopulationEstimate("zayatz", c1 * c1 / denom)


# ---------------------------------------------------------------------- SNB
def _shlosser_classes(j: np.ndarray, cj: np.ndarray, u: float, c1: float, f: float) -> float:
    """Estimated number of non-empty population classes ``K`` (Shlosser-type; Haas & Stokes 1998).

    ``K = u + c_1 [sum j f^2 (1-f^2)^(j-1) c_j] / [sum (1-f)^j ((1+f)^j - 1) c_j]
    [sum (1-f)^j c_j / sum j f (1-f)^(j-1) c_j]^2``.
    """
    q = f
    v3 = float(((1.0 - q) ** j * cj).sum())
    if v3 == 0.0:
        return u
    v1 = float((j * q * q * (1.0 - q * q) ** (j - 1.0) * cj).sum())
    # (1-q)^j ((1+q)^j - 1) written as (1-q^2)^j - (1-q)^j: (1+q)^j overflows for large j
    v2 = float((((1.0 - q * q) ** j - (1.0 - q) ** j) * cj).sum())
    v4 = float((j * q * (1.0 - q) ** (j - 1.0) * cj).sum())
    if v2 == 0.0 or v4 == 0.0:
        return u
    return u + c1 * (v1 / v2) * (v3 / v4) ** 2


def snb_moments(alpha: float, beta: float, f: float, K: float) -> tuple[float, float]:
    """Expected numbers of sample classes of size 1 and 2 under the SNB model.

    Population class sizes ``F = 1 + NB(alpha, beta)`` (``P(F = m) = C(m+alpha-2, m-1) beta^alpha
    (1-beta)^(m-1)``), Bernoulli sampling with fraction ``f``; ``d = (1-f)(1-beta)``:
    ``E c_1 = K f (beta/(1-d))^alpha (1 + alpha d/(1-d))`` and
    ``E c_2 = K alpha beta^alpha f^2 (1-beta) (2 - (1-alpha) d) / (2 (1-d)^(alpha+2))``
    (Chen & Keller-McNulty 1998, "Estimation of identification disclosure risk in microdata",
    J. Official Statistics 14(1):79-95).
    """
    d = (1.0 - f) * (1.0 - beta)
    e1 = K * f * (beta / (1.0 - d)) ** alpha * (1.0 + alpha * d / (1.0 - d))
    e2 = (
        K
        * alpha
        * beta**alpha
        * f
        * f
        * (1.0 - beta)
        * (2.0 - (1.0 - alpha) * d)
        / (2.0 * (1.0 - d) ** (alpha + 2.0))
    )
    return e1, e2


def snb(class_sizes: np.ndarray, population_size: float) -> PopulationEstimate:
    """SNB model: population uniques ``K beta^alpha`` with ``alpha, beta`` solving the moment
    equations ``E c_1 = c_1``, ``E c_2 = c_2`` (see :func:`snb_moments`); ``K`` from
    :func:`_shlosser_classes`. Chen & Keller-McNulty (1998).
    """
    j, cj = frequencies_of_frequencies(class_sizes)
    n, u, N = _check(j, cj, population_size)
    c1, c2 = _c(j, cj, 1), _c(j, cj, 2)
    if u == 0 or c1 == 0:
        return PopulationEstimate("snb", 0.0, "no sample uniques" if u else "no records")
    if N == n:
        return PopulationEstimate("snb", c1, "the sample is the population")
    if c2 == 0:
        return PopulationEstimate(
            "snb",
            None,
            "no sample classes of size 2; the SNB equations have no solution with 0 < beta < 1",
        )
    f = n / N
    K = _shlosser_classes(j, cj, u, c1, f)

    def residuals(p: np.ndarray) -> np.ndarray:
        alpha, beta = math.exp(p[0]), float(special.expit(p[1]))
        # far from the solution beta^alpha and (1-d)^(alpha+2) underflow to 0 (0/0): report a
        # large finite residual so the solver steers away instead of warning or stopping
        try:
            with np.errstate(all="ignore"):
                e1, e2 = snb_moments(alpha, beta, f, K)
                r = np.array([e1 / c1 - 1.0, e2 / c2 - 1.0], dtype=float)
        except (ZeroDivisionError, OverflowError):
            return np.full(2, 1e12)
        return r if np.all(np.isfinite(r)) else np.full(2, 1e12)

    from scipy import optimize  # imported here: it pulls in scipy.linalg (seconds at start-up)

    best = None
    for la in (0.0, -2.0, 2.0, -5.0):
        for lb in (0.0, -4.0, 4.0, -8.0):
            try:
                sol = optimize.least_squares(
                    residuals, x0=[la, lb], xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=2000
                )
            except (ValueError, FloatingPointError, OverflowError):
                continue
            if np.all(np.isfinite(sol.fun)) and np.max(np.abs(sol.fun)) < 1e-9:
                best = sol.x
                break
        if best is not None:
            break
    if best is None:
        return PopulationEstimate(
            "snb",
            None,
            "the SNB moment equations have no solution with alpha > 0, 0 < beta < 1",
            MappingProxyType({"K": K}),
        )
    alpha, beta = math.exp(best[0]), float(special.expit(best[1]))
    value = K * beta**alpha
    params = MappingProxyType({"alpha": alpha, "beta": beta, "K": K})
    if not (math.isfinite(value) and 0.0 <= value <= N):
        return PopulationEstimate("snb", None, f"estimate {value:.3g} outside [0, N]", params)
    return PopulationEstimate("snb", value, None, params)


# ---------------------------------------------------------------------- Dankar
_NAMES = {"pitman": "Pitman", "zayatz": "Zayatz", "snb": "SNB"}


def dankar(
    pitman_est: PopulationEstimate,
    zayatz_est: PopulationEstimate,
    snb_est: PopulationEstimate,
    sampling_fraction: float,
) -> PopulationEstimate:
    """Dankar et al. (2012) decision rule: Pitman if ``f <= 0.1``, else min(Zayatz, SNB).

    If the chosen model is unavailable, Zayatz is used instead (as ARX does) and the reason says
    so; the result's ``model`` names the model whose number is reported.
    """
    if sampling_fraction <= 0.1:
        if pitman_est.available:
            return PopulationEstimate("pitman", pitman_est.uniques)
        if zayatz_est.available:
            return PopulationEstimate(
                "zayatz",
                zayatz_est.uniques,
                f"Pitman unavailable ({pitman_est.reason}); used Zayatz",
            )
        return PopulationEstimate("pitman", None, f"Pitman unavailable ({pitman_est.reason})")
    options = [e for e in (zayatz_est, snb_est) if e.available]
    if not options:
        return PopulationEstimate("zayatz", None, "neither Zayatz nor SNB is available")
    chosen = min(options, key=lambda e: e.uniques)
    note = None
    if len(options) == 1:
        missing = snb_est if chosen is zayatz_est else zayatz_est
        note = (
            f"{_NAMES[missing.model]} unavailable ({missing.reason}); used {_NAMES[chosen.model]}"
        )
    return PopulationEstimate(chosen.model, chosen.uniques, note)


def population_uniqueness(class_sizes: np.ndarray, population_size: float) -> PopulationUniqueness:
    """All three models and Dankar's choice for one sample (class sizes) and population size."""
    sizes = np.asarray(class_sizes, dtype=np.int64)
    n = int(sizes.sum())
    try:
        N = float(population_size)
    except (TypeError, ValueError):
        raise ParameterError("population_size", population_size, "a number of people") from None
    if not math.isfinite(N) or N < n or N <= 0:
        raise ParameterError(
            "population_size", population_size, f"at least the number of records ({n})"
        )
    f = n / N
    p, z, s = pitman(sizes, N), zayatz(sizes, N), snb(sizes, N)
    return PopulationUniqueness(
        size=int(N) if float(N).is_integer() else N,
        sample_size=n,
        sampling_fraction=f,
        pitman=p,
        zayatz=z,
        snb=s,
        dankar=dankar(p, z, s, f),
    )
