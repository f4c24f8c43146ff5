"""Regressions from issue #13: stale frontier, busy state, natural order of distributions."""

from __future__ import annotations

import pandas as pd
import pytest
from _helpers_ui import random_frame, store_for

from workbench.dataset import Dataset
from workbench.roles import RoleMap
from workbench.ui._charts_extra import natural_order
from workbench.ui.tradeoff import TradeoffPanel
from workbench.ui.tuner import TunerPanel


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (
            ["20-29", "100-109", "*", "3-9", "other", "10-19"],
            ["3-9", "10-19", "20-29", "100-109", "*", "other"],
        ),
        (["02/01/1990", "31/12/1989", "01/02/1990"], ["31/12/1989", "02/01/1990", "01/02/1990"]),
        (["1990-02", "1989-12", "1990-01"], ["1989-12", "1990-01", "1990-02"]),
        (["[40, 50[", "[5, 10[", "[10, 20["], ["[5, 10[", "[10, 20[", "[40, 50["]),
        (["male", "female", "*"], ["female", "male", "*"]),
        (["1990s", "1980s", "2000s"], ["1980s", "1990s", "2000s"]),
        (["4621*", "462**", "4601*"], ["462**", "4601*", "4621*"]),
    ],
)
def test_natural_order(labels, expected) -> None:
    assert natural_order(labels) == expected


def _store():
    return store_for(random_frame(300), ["age", "sex", "zip"], ["diagnosis"], ["record_id"])


def test_switching_dataset_or_qis_clears_the_frontier_and_its_points() -> None:
    store = _store()
    tuner = TunerPanel(store, k=2, auto_search=False)
    trade = TradeoffPanel(store, tuner)
    trade.k_range.value = (2, 4)
    trade.suppressions.value = (0.0,)
    trade.compute.click()
    assert trade.result is not None and store.state.frontier is not None
    assert trade.points.value == 0 and not trade.use.disabled  # the list starts on a point
    roles = RoleMap.from_columns(
        random_frame(300).columns, direct_identifiers=["record_id"], quasi_identifiers=["age"]
    )
    store.set(roles=roles)  # the QIs change: the old frontier answers another question
    assert trade.result is None and trade.points.options == () and trade.table.value == ""
    assert trade.use.disabled and store.state.frontier is None and trade.slot.shown is None
    trade.compute.click()
    assert trade.result is not None
    other = random_frame(200, seed=9)
    store.load_dataset(Dataset.from_frame(other, name="other"), roles=roles)
    assert trade.result is None and trade.points.options == ()
    trade.use.click()  # nothing stale to apply
    assert tuner.k.value == 2


def test_work_shows_a_busy_state_while_it_runs() -> None:
    store = _store()
    tuner = TunerPanel(store, k=2, auto_search=False)
    seen = []
    real = tuner.ctx.search

    def spy(*a, **kw):
        seen.append(tuner.busy.value)
        return real(*a, **kw)

    tuner.ctx.search = spy
    tuner.search_button.click()
    assert seen and "searching" in seen[0]
    assert tuner.busy.value == ""  # cleared afterwards
    seen_eval = []
    real_eval = tuner._evaluate_now
    tuner._evaluate_now = lambda: (seen_eval.append(tuner.busy.value), real_eval())
    tuner.levels["age"].value = 1
    assert seen_eval and "updating" in seen_eval[0] and tuner.busy.value == ""


def test_original_distribution_is_drawn_at_the_original_granularity() -> None:
    store = _store()
    tuner = TunerPanel(store, k=2, auto_search=False)
    tuner.levels["age"].value = 2
    d = store.state.distributions["age"]
    assert all(lbl.isdigit() for lbl in d["before"] if lbl != "other")
    assert not all(lbl.isdigit() for lbl in d["after"] if lbl not in ("*", "other"))
    ages = [int(x) for x in tuner.dist_out.shown["data"][0]["x"] if x != "other"]
    assert ages == sorted(ages)
    assert pd.Series(ages).is_unique
