"""Privacy-loss arithmetic, all of it delegated to OpenDP's privacy maps.

One accounting is used everywhere: *approximate zero-concentrated DP* (Bun & Steinke 2016). Every
release is charged a pair ``(rho, delta)``: pure-epsilon mechanisms (Laplace, noisy max) are
converted by OpenDP's ``make_pureDP_to_zCDP`` (``rho = epsilon**2 / 2``, ``delta = 0``); Gaussian
mechanisms are zCDP natively; the stability threshold that selects group keys is
``delta``-approximate zCDP. Charges add up (``rho`` and ``delta`` both compose by summation).

The total is reported as (epsilon, delta)-DP at the budget's delta by OpenDP's
``make_zCDP_to_approxDP`` (Canonne, Kamath & Steinke 2020's conversion) and, because a handful
of pure-epsilon releases is often cheaper under basic composition (the sum of epsilons), the
ledger also keeps each charge's own (epsilon, delta) and reports the smaller of the two bounds.
Both are valid guarantees for the same sequence of releases, so their minimum is too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import ParameterError

__all__ = ["Charge", "PrivacyTotal", "opendp", "zcdp_epsilon", "total", "rho_for_epsilon"]


def opendp() -> Any:
    """``opendp.prelude`` with the ``contrib`` features on (the measurements we use need it)."""
    try:
        import opendp.prelude as dp
    except ImportError as exc:  # pragma: no cover - opendp is a core dependency of this extra
        raise ParameterError(
            "opendp", "not installed", "OpenDP 0.16 (pip install 'privacy-risk-workbench[dp]')"
        ) from exc
    dp.enable_features("contrib")
    return dp


@lru_cache(maxsize=4096)
def zcdp_epsilon(rho: float, delta: float) -> float:
    """Smallest epsilon such that ``rho``-zCDP implies (epsilon, ``delta``)-DP, by OpenDP.

    The conversion runs OpenDP's ``make_zCDP_to_approxDP`` on a Gaussian measurement whose privacy
    map is exactly ``rho`` at distance 1 (scale ``1/sqrt(2 rho)``), so no conversion formula is
    written here. OpenDP rounds the map up, so the result is never smaller than the exact value.
    """
    if rho < 0 or not math.isfinite(rho):
        raise ParameterError("rho", rho, "a finite number >= 0")
    if rho == 0:
        return 0.0
    if delta <= 0:
        return math.inf
    if delta >= 1:
        return 0.0
    dp = opendp()
    scale = 1.0 / math.sqrt(2.0 * rho)
    space = dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)
    meas = dp.c.make_zCDP_to_approxDP(dp.m.make_gaussian(*space, scale=scale))
    return float(meas.map(1.0).epsilon(delta))


def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """Largest ``rho`` whose zCDP guarantee converts to at most (``epsilon``, ``delta``)-DP.

    Found with OpenDP's ``binary_search`` over :func:`zcdp_epsilon`.
    """
    if epsilon <= 0 or delta <= 0:
        raise ParameterError("epsilon, delta", (epsilon, delta), "epsilon > 0 and delta > 0")
    dp = opendp()
    rho = dp.binary_search(lambda r: zcdp_epsilon(r, delta) <= epsilon, bounds=(0.0, epsilon))
    # binary_search returns the boundary on the passing side of the predicate
    return float(rho)


@dataclass(frozen=True)
class Charge:
    """The privacy loss of one release.

    ``rho``/``delta`` is its approximate-zCDP charge; ``epsilon``/``epsilon_delta`` its own
    (epsilon, delta)-DP guarantee (``epsilon_delta = 0`` for pure-epsilon releases).
    """

    rho: float
    delta: float
    epsilon: float
    epsilon_delta: float

    def to_dict(self) -> dict[str, float]:
        return {
            "rho": self.rho,
            "delta": self.delta,
            "epsilon": self.epsilon,
            "epsilon_delta": self.epsilon_delta,
        }

    @classmethod
    def from_dict(cls, d: Any) -> Charge:
        try:
            vals = [float(d[k]) for k in ("rho", "delta", "epsilon", "epsilon_delta")]
        except (KeyError, TypeError, ValueError):
            raise ParameterError(
                "charge", "malformed", "a mapping with rho, delta, epsilon, epsilon_delta"
            ) from None
        if any(v < 0 or math.isnan(v) for v in vals):
            raise ParameterError("charge", "negative or NaN", "non-negative numbers")
        return cls(*vals)


@dataclass(frozen=True)
class PrivacyTotal:
    """Cumulative privacy loss of a sequence of charges, as (epsilon, delta)-DP at ``delta``."""

    rho: float
    rho_delta: float
    epsilon: float
    delta: float
    bound: str  # "zCDP conversion" | "basic composition" | "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "rho_delta": self.rho_delta,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "bound": self.bound,
        }


def total(charges: Iterable[Charge], delta: float) -> PrivacyTotal:
    """Compose ``charges`` and express the result as (epsilon, ``delta``)-DP.

    zCDP bound: ``rho = sum rho_i``, ``delta_0 = sum delta_i``, epsilon from OpenDP's conversion
    at ``delta - delta_0``. Basic composition: ``sum epsilon_i`` at ``sum epsilon_delta_i``, valid
    when that is at most ``delta``. The smaller epsilon is reported, and which bound gave it.
    """
    charges = list(charges)
    rho = math.fsum(c.rho for c in charges)
    rho_delta = math.fsum(c.delta for c in charges)
    if not charges:
        return PrivacyTotal(0.0, 0.0, 0.0, delta, "none")
    eps_z = zcdp_epsilon(rho, delta - rho_delta) if delta > rho_delta else math.inf
    if rho == 0 and rho_delta <= delta:
        eps_z = 0.0
    basic_delta = math.fsum(c.epsilon_delta for c in charges)
    eps_b = math.fsum(c.epsilon for c in charges) if basic_delta <= delta else math.inf
    if eps_b <= eps_z:
        return PrivacyTotal(rho, rho_delta, eps_b, delta, "basic composition")
    return PrivacyTotal(rho, rho_delta, eps_z, delta, "zCDP conversion")
