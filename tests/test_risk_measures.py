"""k-anonymity facts and prosecutor / journalist / marketer risk on hand-computed tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError
from workbench.risk import (
    class_size_summary,
    journalist_risk,
    marketer_risk,
    prosecutor_risk,
)

# Classes of sizes 1, 2, 2, 5: ten records.
SIZES = np.array([1, 2, 2, 5])


def test_class_size_summary_by_hand() -> None:
    s = class_size_summary(SIZES)
    assert (s.records, s.classes, s.min_class_size, s.max_class_size) == (10, 4, 1, 5)
    assert s.mean_class_size == 2.5
    assert s.sample_uniques == 1 and s.sample_uniqueness == 0.1
    assert dict(s.histogram) == {1: 1, 2: 2, 5: 1}
    assert s.to_dict()["class_size_histogram"] == {"1": 1, "2": 2, "5": 1}


def test_prosecutor_by_hand() -> None:
    r = prosecutor_risk(SIZES, threshold=0.2)
    assert r.highest == 1.0
    assert r.average == pytest.approx(4 / 10)  # classes / records
    # risks 1, 1/2, 1/2, 1/5: strictly above 0.2 -> the 1 + 2 + 2 records outside the 5-class
    assert r.records_at_risk == pytest.approx(5 / 10)
    assert r.highest_risk_records == pytest.approx(1 / 10)
    assert r.threshold == 0.2


def test_records_at_risk_is_strictly_greater() -> None:
    # risk 1/5 = 0.2 is not above threshold 0.2; with 0.19 it is.
    assert prosecutor_risk(np.array([5, 5]), threshold=0.2).records_at_risk == 0.0
    assert prosecutor_risk(np.array([5, 5]), threshold=0.19).records_at_risk == 1.0
    assert prosecutor_risk(np.array([1]), threshold=1.0).records_at_risk == 0.0
    assert prosecutor_risk(np.array([4]), threshold=0.0).records_at_risk == 1.0


@pytest.mark.parametrize("t", [-0.1, 1.5, float("nan"), "x"])
def test_threshold_outside_unit_interval(t) -> None:
    with pytest.raises(ParameterError, match="threshold"):
        prosecutor_risk(SIZES, threshold=t)


def test_journalist_without_population_equals_prosecutor() -> None:
    assert journalist_risk(SIZES, SIZES) == prosecutor_risk(SIZES)
    assert marketer_risk(SIZES, SIZES) == pytest.approx(prosecutor_risk(SIZES).average)


def test_journalist_and_marketer_with_population_by_hand() -> None:
    pop = np.array([4, 2, 10, 20])  # population sizes F_k of the four sample classes
    j = journalist_risk(SIZES, pop, threshold=0.2)
    assert j.highest == 0.5  # 1 / min F_k
    # 1/F = .25, .5, .1, .05 -> above 0.2: the classes with f = 1 and 2 -> 3 of 10 records
    assert j.records_at_risk == pytest.approx(3 / 10)
    rc1 = 4 / 36  # classes / sum F_k
    rc2 = (1 / 4 + 2 / 2 + 2 / 10 + 5 / 20) / 10  # sum f/F / n
    assert j.average == pytest.approx(max(rc1, rc2))
    assert j.highest_risk_records == pytest.approx(2 / 10)
    assert marketer_risk(pop, SIZES) == pytest.approx(rc2)


def test_wildcard_sizes_with_counts() -> None:
    # Two groups of 2 identical records each whose wildcard fk is 3: record risk 1/3.
    r = prosecutor_risk(np.array([3, 3]), counts=np.array([2, 2]))
    assert r.average == pytest.approx(1 / 3)
    assert r.highest == pytest.approx(1 / 3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=40), st.floats(0, 1))
def test_prosecutor_equals_per_record_reference(sizes, t) -> None:
    records = [s for s in sizes for _ in range(s)]  # fk of every record
    risk = [1 / s for s in records]
    r = prosecutor_risk(np.array(sizes), threshold=t)
    assert r.highest == pytest.approx(max(risk))
    assert r.average == pytest.approx(sum(risk) / len(risk))
    assert r.average == pytest.approx(len(sizes) / len(records))
    assert r.records_at_risk == pytest.approx(sum(x > t for x in risk) / len(risk))


@pytest.mark.parametrize(
    ("sizes", "pop", "average", "which"),
    [
        # classes / sum Fk = 2/5 = 0.4 beats sum(fk/Fk)/n = (1/2 + 3/3)/4 = 0.375
        ([1, 3], [2, 3], 0.4, "classes_per_population_record"),
        # sum(fk/Fk)/n = (1/1 + 1/100)/2 = 0.505 beats 2/101
        ([1, 1], [1, 100], 0.505, "success_rate"),
    ],
)
def test_journalist_average_takes_the_larger_term(sizes, pop, average, which) -> None:
    """El Emam 2013 / ARX: journalist average risk = max(classes / sum Fk, sum(fk/Fk) / n)."""
    r = journalist_risk(np.array(sizes), np.array(pop), threshold=0.3)
    assert r.average == pytest.approx(average), which
    # records at risk with 0.3: risks 1/Fk; only Fk <= 3 classes qualify (1/2 > 0.3, 1/3 > 0.3)
    expected = sum(f for f, p in zip(sizes, pop, strict=True) if 1 / p > 0.3) / sum(sizes)
    assert r.records_at_risk == pytest.approx(expected)
