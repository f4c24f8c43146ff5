"""The records-at-risk rule: one definition (risk strictly above the threshold), pinned at the limit.

Every consumer (the risk measures, the frontier, the linkage headline, the charts) is checked on a
table where some class's risk equals the threshold exactly, with thresholds other than the default
0.2, so turning ``>`` into ``>=`` in :func:`workbench.risk.measures.at_risk` fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.deid import Criteria, Hierarchy, SearchContext, frontier
from workbench.linkage._codes import headline
from workbench.review.charts import records_at_risk_by_threshold
from workbench.risk import assess
from workbench.risk.measures import at_risk, journalist_risk, prosecutor_risk, records_at_risk

# class sizes 2, 4, 5 (11 records): risks 1/2, 1/4, 1/5 -- all exact in binary floating point
# for 1/4 and 1/2; 1/5 == 0.2 as a double as well (correctly rounded division).
SIZES = np.array([2, 4, 5])


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (0.25, 2 / 11),  # the class of 4 sits exactly at the limit: not at risk
        (0.2499, 6 / 11),  # just below the limit: now at risk
        (0.5, 0.0),  # the class of 2 sits exactly at the limit
        (0.4999, 2 / 11),
        (0.2, 6 / 11),  # default threshold, class of 5 at the limit
    ],
)
def test_rule_is_strictly_greater_at_the_limit(threshold, expected) -> None:
    assert records_at_risk(1.0 / SIZES, SIZES, threshold) == pytest.approx(expected)
    assert at_risk(1.0 / SIZES, threshold).tolist() == [1 / s > threshold for s in SIZES.tolist()]
    assert prosecutor_risk(SIZES, threshold=threshold).records_at_risk == pytest.approx(expected)
    # journalist: population sizes equal to the sample ones give the same shares
    assert journalist_risk(SIZES, SIZES, threshold=threshold).records_at_risk == pytest.approx(
        expected
    )


def test_at_risk_limit_is_exact() -> None:
    assert not at_risk(0.25, 0.25)
    assert at_risk(0.25, 0.2499999)


def _frame() -> pd.DataFrame:
    zips = ["a"] * 2 + ["b"] * 4 + ["c"] * 5
    return pd.DataFrame({"zip": zips})


@pytest.mark.parametrize(("threshold", "expected"), [(0.25, 2 / 11), (0.5, 0.0), (0.3, 2 / 11)])
def test_linkage_headline_uses_the_rule(threshold, expected) -> None:
    h = headline(_frame(), ["zip"], threshold)
    assert h.records_at_risk == pytest.approx(expected)


@pytest.mark.parametrize(("threshold", "expected"), [(0.25, 2 / 11), (0.5, 0.0), (0.2, 6 / 11)])
def test_chart_curve_uses_the_rule(threshold, expected) -> None:
    hist = {"class_size_histogram": {"2": 1, "4": 1, "5": 1}}
    (share,) = records_at_risk_by_threshold(hist, [threshold])
    assert share == pytest.approx(expected)


def test_chart_curve_matches_assess_on_the_same_table() -> None:
    prof = assess(_frame(), ["zip"], threshold=0.25).to_dict()
    (share,) = records_at_risk_by_threshold(prof, [0.25])
    assert share == pytest.approx(prof["prosecutor"]["records_at_risk"]) == pytest.approx(2 / 11)


def _tiny_ctx() -> tuple[pd.DataFrame, SearchContext]:
    # zip codes 1..4 with 1, 3, 4, 4 records; level 1 merges {1,2} and {3,4}; level 2 is "*".
    df = pd.DataFrame({"zip": ["1"] + ["2"] * 3 + ["3"] * 4 + ["4"] * 4})
    h = Hierarchy.from_rows(
        [("1", "1-2", "*"), ("2", "1-2", "*"), ("3", "3-4", "*"), ("4", "3-4", "*")]
    )
    return df, SearchContext(df, ["zip"], {"zip": h})


@pytest.mark.parametrize("threshold", [0.25, 0.3, 1 / 3])
def test_frontier_records_at_risk_equal_assess_on_released_data(threshold) -> None:
    """Frontier's records at risk = assess() of the released (non-suppressed) rows, rescaled."""
    df, ctx = _tiny_ctx()
    res = frontier(ctx, k_values=[2, 3, 4], suppressions=[0.0, 0.1], threshold=threshold)
    checked = 0
    for p in res.points:
        if not p.found:
            continue
        crit = Criteria(k=p.k, suppression=p.suppression)
        released, sup = ctx.transform(p.levels, crit)
        kept = released[~sup]
        expected = 0.0
        if len(kept):
            prof = assess(kept, ["zip"], threshold=threshold)
            expected = prof.prosecutor.records_at_risk * len(kept) / len(df)
        assert p.records_at_risk == pytest.approx(expected), (p.k, p.suppression, threshold)
        checked += 1
    assert checked >= 4
    # k=3, suppression 0.1 suppresses the lone "1": classes 3, 4, 4 of 12 records; at 1/3 the
    # class of 3 is exactly at the limit
    pt = next(p for p in res.points if p.k == 3 and p.suppression == 0.1)
    assert pt.found and dict(pt.levels) == {"zip": 0} and pt.suppressed == 1
    assert pt.records_at_risk == pytest.approx({0.25: 3 / 12, 0.3: 3 / 12, 1 / 3: 0.0}[threshold])
