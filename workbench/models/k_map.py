"""k-map (Sweeney 2002; El Emam & Dankar 2008, "Protecting privacy using k-anonymity", JAMIA
15(5)).

k-anonymity counts look-alikes in the released sample; k-map counts them in the *population* an
attacker can match against: every released class must correspond to at least ``k`` people of the
population. As in ARX's ``KMap``:

* with a population table, a class passes when its population frequency ``F_k >= k``
  (``entry.pcount >= k``);
* without one, ``F_k`` is estimated from the sampling fraction ``pi = n / N`` and the class must
  hold at least ``k'`` sample records, ``k'`` derived from the Poisson (Pannekoek 1999, "D3") or
  zero-truncated Poisson ("D4") distribution with mean ``lambda = pi * k`` at significance level
  ``alpha``. ARX's derivation, followed exactly: Poisson -- the smallest ``c`` with
  ``P(X <= c) >= 1 - alpha``, then ``k' = c + 2``; zero-truncated -- the smallest ``c >= 1``
  with ``sum_{i=1..c} P(X = i) / (1 - P(X = 0)) >= 1 - alpha``, then ``k' = c + 1``; finally
  ``k' = min(k, k', n)``.

Monotone with and without suppression (a merged class has at least the population of each part).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import Classes, PrivacyModel

__all__ = ["KMap", "ESTIMATORS", "derived_k"]

ESTIMATORS = ("poisson", "zero_truncated_poisson")
_MAX_TERMS = 100_000


def _pmf(lam: float, i: int) -> float:
    return math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1)) if lam > 0 else float(i == 0)


def derived_k(k: int, sampling_fraction: float, estimator: str, significance: float, n: int) -> int:
    """ARX's ``k'``: sample class size that gives population size >= ``k`` with confidence
    ``1 - significance`` (see the module docstring)."""
    if estimator not in ESTIMATORS:
        raise ParameterError("estimator", estimator, f"one of {', '.join(ESTIMATORS)}")
    lam = sampling_fraction * k
    target = 1.0 - significance
    if estimator == "poisson":
        c, value = 0, _pmf(lam, 0)
        while value < target and c < _MAX_TERMS:
            c += 1
            value += _pmf(lam, c)
        kk = c + 2
    else:
        norm = 1.0 - _pmf(lam, 0)
        if norm <= 0:
            raise ParameterError("k_map", k, "a sampling fraction and k with pi * k > 0")
        c, value = 1, _pmf(lam, 1) / norm
        while value < target and c < _MAX_TERMS:
            c += 1
            value += _pmf(lam, c) / norm
        kk = c + 1
    return int(min(k, kk, n))


@dataclass(frozen=True)
class KMap(PrivacyModel):
    """Every released class matches at least ``k`` people of the population.

    Parameters
    ----------
    k : int
    estimator : {"poisson", "zero_truncated_poisson"} or None
        ``None``: population frequencies come from a population table (``Classes.population``).
    significance : float
        ``alpha`` of the estimators.
    population_size : float, optional
        ``N`` for the estimators (else ``Classes.population_size``).
    """

    k: int
    estimator: str | None = None
    significance: float = 0.05
    population_size: float | None = None

    key: ClassVar[str] = "k_map"
    policy_key: ClassVar[str | None] = "min_k_map"
    direction: ClassVar[str] = "min"
    monotone_with_suppression: ClassVar[bool] = True
    reference: ClassVar[str] = "Sweeney 2002; El Emam & Dankar 2008; ARX KMap"
    title: ClassVar[str] = "minimum k-map"
    policy_schema: ClassVar[dict[str, Any] | None] = {"type": "integer", "minimum": 1}

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ParameterError("k_map", self.k, "an integer >= 1")
        if self.estimator is not None and self.estimator not in ESTIMATORS:
            raise ParameterError("estimator", self.estimator, f"one of {', '.join(ESTIMATORS)}")
        if not 0 <= self.significance <= 1:
            raise ParameterError("significance", self.significance, "a number in [0, 1]")

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        if self.estimator is None:
            return frozenset({"population"})
        return frozenset() if self.population_size else frozenset({"population_size"})

    @property
    def limit(self) -> int:
        return int(self.k)

    def sample_k(self, classes: Classes) -> int:
        """``k'`` of the estimators for this table."""
        big_n = self.population_size or classes.population_size
        if not big_n:
            raise ParameterError(
                "population_size", None, f"the population size for k-map ({self.estimator})"
            )
        n = int(classes.sizes.sum())
        return derived_k(int(self.k), n / float(big_n), str(self.estimator), self.significance, n)

    def population_sizes(self, classes: Classes) -> np.ndarray:
        if classes.population is None:
            raise ParameterError(
                "population_table", None, "a population table for k-map (or an estimator)"
            )
        return classes.population

    def class_pass(self, classes: Classes) -> np.ndarray:
        if self.estimator is None:
            ok = self.population_sizes(classes) >= self.k
        else:
            ok = classes.sizes >= self.sample_k(classes)
        return ok | classes.empty

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        keep = released & ~classes.empty
        if not keep.any():
            return None
        if self.estimator is None:
            return float(self.population_sizes(classes)[keep].min())
        return None  # estimated k-map has no measured population size

    def describe(self) -> str:
        how = (
            "in the population table"
            if self.estimator is None
            else f"in the population (estimated, {self.estimator.replace('_', '-')} model)"
        )
        return f"every released combination of quasi-identifiers matches at least {self.k} people {how}"

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(int(value))]
