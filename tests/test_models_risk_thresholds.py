"""Average / highest risk, records at risk and population uniqueness as search criteria."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.deid import Criteria, Hierarchy, SearchContext
from workbench.errors import ParameterError, PrivacyWarning
from workbench.models import AverageRisk, Classes, HighestRisk, PopulationUniqueness, RecordsAtRisk
from workbench.risk.population import population_uniqueness

ALL = None


def _released(n):
    return np.ones(n, dtype=bool)


def test_records_at_risk_model_by_hand() -> None:
    # classes 2, 4, 5 of 11 records; threshold 0.25: the class of 2 is at risk -> 2/11
    t = Classes(np.array([2, 4, 5]), 11)
    assert RecordsAtRisk(2 / 11, 0.25).dataset_pass(t, _released(3))
    assert not RecordsAtRisk(0.18, 0.25).dataset_pass(t, _released(3))
    # the class of 4 sits exactly at 0.25: not at risk (the one rule, strictly above)
    assert RecordsAtRisk(0.0, 0.5).dataset_pass(t, _released(3))
    # suppressed records count in the denominator but are not at risk
    assert RecordsAtRisk(0.0, 0.25).measure(t, np.array([False, True, True])) == 0.0


def test_average_and_highest_risk_exact_limits() -> None:
    t = Classes(np.array([2, 4, 5]), 11)
    assert AverageRisk(3 / 11).dataset_pass(t, _released(3))
    assert not AverageRisk(0.27).dataset_pass(t, _released(3))
    assert HighestRisk(0.5).class_pass(t).all()
    assert HighestRisk(0.3).class_pass(t).tolist() == [False, True, True]


def test_population_uniqueness_by_reference() -> None:
    sizes = np.array([1, 1, 1, 2, 3, 5, 8, 1, 2, 2])
    t = Classes(sizes, int(sizes.sum()), population_size=1000)
    est = population_uniqueness(sizes, 1000).dankar.uniques
    m = PopulationUniqueness(0.5)
    assert m.measure(t, _released(10)) == pytest.approx(est / 1000)
    share = est / 1000
    assert PopulationUniqueness(share).dataset_pass(t, _released(10))
    assert not PopulationUniqueness(share * 0.999).dataset_pass(t, _released(10))
    # no sample uniques: no population uniques (ARX), whatever the population
    t2 = Classes(np.array([2, 3]), 5, population_size=10**6)
    assert m.measure(t2, _released(2)) == 0.0
    with pytest.raises(ParameterError, match="population_size"):
        m.measure(Classes(sizes, int(sizes.sum())), _released(10))


def test_population_uniqueness_as_search_criterion() -> None:
    rng = np.random.default_rng(2)
    n = 300
    df = pd.DataFrame(
        {"a": rng.integers(0, 30, n).astype(str), "b": rng.integers(0, 4, n).astype(str)}
    )
    hs = {
        "a": Hierarchy.from_rows(
            [(v, f"g{int(v) // 10}", "*") for v in sorted(df["a"].unique(), key=int)]
        ),
        "b": Hierarchy.from_rows([(v, "*") for v in sorted(df["b"].unique())]),
    }
    ctx = SearchContext(df, ["a", "b"], hs, population_size=3000)
    for limit in (0.001, 0.01):
        crit = Criteria(k=1, models=(PopulationUniqueness(limit),))
        res = ctx.search(crit, exhaustive=True)
        assert res.found
        sizes = ctx.released_sizes(res.levels, crit)
        uniques = population_uniqueness(sizes, 3000).dankar.uniques if (sizes == 1).any() else 0
        assert uniques / 3000 <= limit
        # the original table: acceptable exactly when its own estimate is within the limit
        with pytest.warns(PrivacyWarning):  # k = 1 alone protects nobody: only for the sizes
            plain = Criteria(k=1)
        orig = ctx.released_sizes((0, 0), plain)
        share = population_uniqueness(orig, 3000).dankar.uniques / 3000
        assert ctx.evaluate((0, 0), crit).acceptable == (share <= limit)
    assert not ctx.evaluate((0, 0), Criteria(k=1, models=(PopulationUniqueness(0.001),))).acceptable


def test_cli_risk_criteria(tmp_path, capsys) -> None:
    rng = np.random.default_rng(4)
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": rng.integers(0, 40, 400).astype(str)}).to_csv(path, index=False)
    base = ["anonymize", str(path), "--qi", "a", "--k", "1"]
    assert main([*base, "--max-highest-risk", "0.3"]) == 0
    assert main([*base, "--max-average-risk", "0.05"]) == 0
    assert main([*base, "--max-population-uniqueness", "0.001", "--population-size", "4000"]) == 0
    assert main([*base, "--max-population-uniqueness", "0.001"]) == 2  # needs the size
