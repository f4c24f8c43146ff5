"""Individual (per-record) re-identification risk for weighted survey samples.

The Benedetti-Franconi model treats the population frequency ``F_k`` of a record's class as
unknown given its sample frequency ``f_k`` and the weight sum ``\\hat F_k`` (Horvitz-Thompson
estimate); with a negative-binomial posterior the risk is ``E[1 / F_k | f_k]``. mu-Argus and
sdcMicro (``indivRisk(method="approx")``, used by ``measure_risk``) evaluate it with the
approximation, for ``p_k = f_k / \\hat F_k``:

* ``f_k = 1``: ``p/(1-p) log(1/p)``
* ``f_k = 2``: ``p/(1-p) - (p/(1-p))^2 log(1/p)``
* ``f_k > 2``: ``p / (f_k - (1-p))``
* ``f_k = \\hat F_k`` (the class is fully observed): ``1 / f_k``.

References: Benedetti & Franconi (1998), "Statistical and technological solutions for controlled
data dissemination", NTTS; Franconi & Polettini (2004), "Individual risk estimation in mu-Argus: a
review", PSD 2004, LNCS 3050:262-272; sdcMicro ``indivRisk.R`` and ``measure_risk.R``.

The global risk is the expected number of re-identifications, the sum of the individual risks
(sdcMicro ``global_risk_ER``), and its rate per record. Household risk is
``1 - prod_i (1 - r_i)`` over the members of a household (the chance at least one member is
re-identified); as in sdcMicro every member carries its household's risk and the household
expected re-identifications sum it over records.

Without weights the data are treated as the population (sdcMicro ``survey = FALSE``): risk
``1 / f_k``. A weight sum below the sample frequency (weights < 1) is impossible under the model;
``\\hat F_k`` is then raised to ``f_k`` (risk ``1 / f_k``); sdcMicro applies the formulas to
``p_k > 1`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GlobalRisk",
    "HouseholdRisk",
    "individual_risk",
    "global_risk",
    "household_risk",
]


@dataclass(frozen=True)
class GlobalRisk:
    """Expected number of re-identifications (sum of individual risks) and its rate.

    Attributes
    ----------
    expected_reidentifications : float
        Sum of the individual risks over all records.
    rate : float
        ``expected_reidentifications / records``.
    weighted : bool
        Whether sampling weights were used (else risk = 1 / fk).
    """

    expected_reidentifications: float
    rate: float
    weighted: bool

    def to_dict(self) -> dict:
        return {
            "expected_reidentifications": self.expected_reidentifications,
            "rate": self.rate,
            "weighted": self.weighted,
        }


@dataclass(frozen=True)
class HouseholdRisk:
    """Household-level risk: ``1 - prod(1 - r_i)`` per household, carried by every member."""

    households: int
    expected_reidentifications: float
    rate: float
    highest: float

    def to_dict(self) -> dict:
        return {
            "households": self.households,
            "expected_reidentifications": self.expected_reidentifications,
            "rate": self.rate,
            "highest": self.highest,
        }


def individual_risk(fk: np.ndarray, Fk: np.ndarray | None = None) -> np.ndarray:
    """Benedetti-Franconi individual risk, mu-Argus approximation (sdcMicro ``indivRisk``).

    Parameters
    ----------
    fk : array of int
        Sample frequency of each record's (or class's) key.
    Fk : array of float, optional
        Sum of sampling weights over the key; ``None`` = no weights (risk ``1 / fk``).
    """
    fk = np.asarray(fk, dtype=np.float64)
    if Fk is None:
        return 1.0 / fk
    Fk = np.maximum(np.asarray(Fk, dtype=np.float64), fk)
    p = fk / Fk
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = p / (1.0 - p)
        log_inv = np.log(1.0 / p)
        r1 = odds * log_inv
        r2 = odds - odds * odds * log_inv
        r3 = p / (fk - (1.0 - p))
    risk = np.where(fk == 1, r1, np.where(fk == 2, r2, r3))
    exact = fk == Fk
    risk[exact] = 1.0 / fk[exact]
    return risk


def global_risk(class_risk: np.ndarray, counts: np.ndarray, weighted: bool) -> GlobalRisk:
    """Expected re-identifications ``sum_records r`` (sdcMicro ``global_risk_ER``) and rate."""
    counts = np.asarray(counts, dtype=np.float64)
    n = float(counts.sum())
    er = float((np.asarray(class_risk, dtype=np.float64) * counts).sum())
    return GlobalRisk(er, er / n if n else 0.0, bool(weighted))


def household_risk(
    record_risk: np.ndarray, household: np.ndarray
) -> tuple[np.ndarray, HouseholdRisk]:
    """Per-record household risk ``1 - prod_{i in h} (1 - r_i)`` and its summary.

    Records with a missing household id form a household of their own each.
    """
    r = np.asarray(record_risk, dtype=np.float64)
    ids = np.asarray(household)
    import pandas as pd

    codes, uniq = pd.factorize(pd.Series(ids), use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    n_h = len(uniq)
    lone = codes < 0
    if lone.any():
        codes = codes.copy()
        codes[lone] = n_h + np.arange(int(lone.sum()))
        n_h += int(lone.sum())
    with np.errstate(divide="ignore"):
        log_safe = np.log1p(-np.minimum(r, 1.0))
    total = np.bincount(codes, weights=log_safe, minlength=n_h)
    h = -np.expm1(total)
    per_record = h[codes]
    n = r.shape[0]
    er = float(per_record.sum())
    return per_record, HouseholdRisk(
        households=n_h,
        expected_reidentifications=er,
        rate=er / n if n else 0.0,
        highest=float(h.max()) if n_h else 0.0,
    )
