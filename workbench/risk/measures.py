"""Class-size and re-identification risk measures on the equivalence-class table.

Each function takes per-class arrays: ``sizes`` (the frequency ``fk`` a record's risk is computed
from), ``counts`` (records in the class; equal to ``sizes`` unless missing values are wildcards)
and, for journalist and marketer risk, ``population_sizes`` (the population frequency ``Fk`` of the
class). Definitions follow El Emam, *Guide to the De-Identification of Personal Health
Information* (CRC Press 2013), chapter "Measuring the Probability of Re-Identification", as
implemented in ARX's ``RiskModelSampleSummary``; risk of a record = 1 / size of its class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..errors import ParameterError

__all__ = [
    "ClassSizeSummary",
    "RiskSummary",
    "class_size_summary",
    "prosecutor_risk",
    "journalist_risk",
    "marketer_risk",
    "check_threshold",
    "at_risk",
    "records_at_risk",
]


@dataclass(frozen=True)
class ClassSizeSummary:
    """Equivalence-class counts (k-anonymity facts).

    Attributes
    ----------
    records, classes : int
        Number of records and of equivalence classes.
    min_class_size, max_class_size : int
        Smallest class (the data set is k-anonymous for k = ``min_class_size``; Sweeney 2002)
        and largest class.
    mean_class_size : float
        Records per class (``records / classes``).
    sample_uniques : int
        Records alone in their class (fk = 1).
    sample_uniqueness : float
        ``sample_uniques / records``.
    histogram : Mapping[int, int]
        Class size -> number of classes of that size.
    """

    records: int
    classes: int
    min_class_size: int
    max_class_size: int
    mean_class_size: float
    sample_uniques: int
    sample_uniqueness: float
    histogram: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "classes": self.classes,
            "min_class_size": self.min_class_size,
            "max_class_size": self.max_class_size,
            "mean_class_size": self.mean_class_size,
            "sample_uniques": self.sample_uniques,
            "sample_uniqueness": self.sample_uniqueness,
            "class_size_histogram": {str(k): v for k, v in self.histogram.items()},
        }


@dataclass(frozen=True)
class RiskSummary:
    """Re-identification risk of one attacker model.

    Attributes
    ----------
    highest : float
        Highest probability of re-identification of any record (1 / smallest class).
    average : float
        Expected share of records re-identified (success rate).
    records_at_risk : float
        Share of records whose risk is strictly greater than ``threshold``.
    threshold : float
        Highest acceptable risk of a single record.
    highest_risk_records : float
        Share of records that carry the highest risk.
    """

    highest: float
    average: float
    records_at_risk: float
    threshold: float
    highest_risk_records: float

    def to_dict(self) -> dict:
        return {
            "highest": self.highest,
            "average": self.average,
            "records_at_risk": self.records_at_risk,
            "threshold": self.threshold,
            "highest_risk_records": self.highest_risk_records,
        }


def check_threshold(threshold: float) -> float:
    """Validate a risk threshold: a probability in [0, 1]."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ParameterError("threshold", threshold, "a number in [0, 1]") from None
    if not 0.0 <= t <= 1.0 or t != t:
        raise ParameterError("threshold", threshold, "a number in [0, 1]")
    return t


def at_risk(risk: np.ndarray | float, threshold: float) -> np.ndarray:
    """Which records (or classes) are at risk: risk *strictly* above ``threshold``.

    The single definition of the records-at-risk rule (El Emam 2013, ch. 8; ARX's
    ``RiskModelSampleSummary`` counts records with risk ``> threshold``), used by the risk
    measures, the frontier, the linkage headline and the charts. A record whose risk equals
    the threshold (class of exactly ``1 / threshold`` records) is acceptable.
    """
    return np.asarray(risk, dtype=np.float64) > threshold


def records_at_risk(
    risk: np.ndarray,
    counts: np.ndarray | None = None,
    threshold: float = 0.2,
    total: float | None = None,
) -> float:
    """Share of records at risk (:func:`at_risk`), weighting each risk by ``counts``.

    ``risk`` is per record (``counts`` omitted) or per class (``counts`` = records of each
    class); ``total`` is the denominator when it differs from ``counts.sum()`` (suppressed
    records count in the table but are not at risk).
    """
    risk = np.asarray(risk, dtype=np.float64)
    counts = np.ones_like(risk) if counts is None else np.asarray(counts, dtype=np.float64)
    n = float(counts.sum()) if total is None else float(total)
    if n <= 0 or risk.size == 0:
        return 0.0
    return float(counts[at_risk(risk, threshold)].sum() / n)


def class_size_summary(
    sizes: np.ndarray, counts: np.ndarray | None = None, classes_per: np.ndarray | None = None
) -> ClassSizeSummary:
    """Class counts, extremes, sample uniques and the class-size histogram.

    Sample uniques are records with fk = 1 (Bethlehem, Keller & Pannekoek 1990, "Disclosure
    control of microdata", JASA 85(409)); sample uniqueness is their share of all records.
    ``classes_per`` says how many classes each entry stands for: a class-size histogram computed
    in the engine (``sizes`` its distinct sizes, ``counts`` the records of each bin) gives the
    same summary as the class table it came from.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = sizes if counts is None else np.asarray(counts, dtype=np.int64)
    per = np.ones_like(sizes) if classes_per is None else np.asarray(classes_per, dtype=np.int64)
    records = int(counts.sum())
    classes = int(per.sum())
    if classes == 0:
        return ClassSizeSummary(0, 0, 0, 0, 0.0, 0, 0.0, MappingProxyType({}))
    uniques = int(counts[sizes == 1].sum())
    freq = np.bincount(sizes, weights=per).astype(np.int64)
    values = np.flatnonzero(freq)
    histogram = MappingProxyType({int(v): int(freq[v]) for v in values})
    return ClassSizeSummary(
        records=records,
        classes=classes,
        min_class_size=int(sizes.min()),
        max_class_size=int(sizes.max()),
        mean_class_size=records / classes,
        sample_uniques=uniques,
        sample_uniqueness=uniques / records,
        histogram=histogram,
    )


def prosecutor_risk(
    sizes: np.ndarray, counts: np.ndarray | None = None, threshold: float = 0.2
) -> RiskSummary:
    """Prosecutor risk: the attacker knows the target is in the data (El Emam 2013, ch. 8).

    A record's risk is ``1 / fk``. Highest = ``1 / min fk``; average = mean record risk, which is
    ``classes / records`` when classes partition the records; records at risk = share of records
    with ``1 / fk > threshold`` (strictly greater, as in ARX).
    """
    t = check_threshold(threshold)
    sizes = np.asarray(sizes, dtype=np.float64)
    counts = sizes if counts is None else np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    if sizes.size == 0 or n == 0:
        return RiskSummary(0.0, 0.0, 0.0, t, 0.0)
    risk = 1.0 / sizes
    highest = float(risk.max())
    return RiskSummary(
        highest=highest,
        # counts / sizes, not counts * risk: f * (1/f) is not 1 for every f (49 * (1/49) < 1),
        # and a limit at exactly classes / records must compare with exactly that
        average=float((counts / sizes).sum() / n),
        records_at_risk=records_at_risk(risk, counts, t),
        threshold=t,
        highest_risk_records=float(counts[risk == highest].sum() / n),
    )


def journalist_risk(
    sizes: np.ndarray,
    population_sizes: np.ndarray,
    counts: np.ndarray | None = None,
    threshold: float = 0.2,
) -> RiskSummary:
    """Journalist risk: the attacker matches against a population register (k-map).

    A record's risk is ``1 / Fk`` with ``Fk`` the population size of its class (Sweeney's k-map;
    El Emam & Dankar 2008, "Protecting privacy using k-anonymity", JAMIA 15(5)). Highest =
    ``1 / min Fk``; records at risk = share of sample records with ``1 / Fk > threshold``; average =
    ``max(classes / sum Fk, sum(fk / Fk) / records)`` (El Emam 2013; ARX). With no population table,
    ``Fk = fk`` and this equals prosecutor risk.
    """
    t = check_threshold(threshold)
    sizes = np.asarray(sizes, dtype=np.float64)
    pop = np.asarray(population_sizes, dtype=np.float64)
    counts = sizes if counts is None else np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    if sizes.size == 0 or n == 0:
        return RiskSummary(0.0, 0.0, 0.0, t, 0.0)
    risk = 1.0 / pop
    highest = float(risk.max())
    # Classes per population record, and the marketer-style success rate; the larger is reported.
    # (counts / sizes).sum() is the number of classes when classes partition the records.
    rc1 = float((counts / sizes).sum() / pop.sum())
    rc2 = float((counts / pop).sum() / n)  # not counts * risk: see prosecutor_risk
    return RiskSummary(
        highest=highest,
        average=max(rc1, rc2),
        records_at_risk=records_at_risk(risk, counts, t),
        threshold=t,
        highest_risk_records=float(counts[risk == highest].sum() / n),
    )


def marketer_risk(population_sizes: np.ndarray, counts: np.ndarray) -> float:
    """Marketer risk: expected share of records correctly re-identified when all are matched.

    ``sum_k f_k / F_k / n`` over sample classes k (El Emam 2013; Dankar & El Emam 2010, "A method
    for evaluating marketer re-identification risk", PAIS). Equal to ``classes / records`` without a
    population table.
    """
    pop = np.asarray(population_sizes, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    if n == 0:
        return 0.0
    return float((counts / pop).sum() / n)
