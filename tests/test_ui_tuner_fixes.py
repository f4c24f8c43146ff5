"""Regressions from issue #13: stale frontier, busy state, natural order of distributions."""

from __future__ import annotations

import pytest
from _helpers_ui import random_frame, store_for

from workbench.dataset import Dataset
from workbench.profiling.roles import RoleMap
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
    # 3,000 records, 30 postal codes: every single code has enough records to be drawn
    store = store_for(random_frame(3000), ["age", "sex", "zip"], ["diagnosis"], ["record_id"])
    tuner = TunerPanel(store, k=2, auto_search=False)
    tuner.levels["zip"].value = 1
    tuner.dist_column.value = "zip"
    d = store.state.distributions["zip"]
    assert len(d["before"]) == 30 and all(len(lbl) == 5 for lbl in d["before"])
    assert all("*" in lbl for lbl in d["after"] if lbl != "other")  # released: masked
    codes = list(tuner.dist_out.shown["data"][0]["x"])
    assert codes == sorted(codes)  # natural order, not by frequency
    by_freq = sorted(d["before"], key=lambda c: -d["before"][c])
    assert by_freq != codes


# ------------------------------------------------------------------ every number explained
def test_k_meaning_in_plain_words_at_one_and_two() -> None:
    from workbench.ui._common import k_meaning

    one = k_meaning(1, ["age", "sex", "zip", "dob"])
    assert one.startswith("k = 1: at least one person is alone in their group")
    assert "knows these 4 attributes (age, sex, zip, dob)" in one
    two = k_meaning(2, ["age"])
    assert "at least 1 other person" in two and "1 in 2" in two
    assert "No records are released" in k_meaning(None, ["age"])


@pytest.mark.parametrize(
    ("threshold", "largest"), [(0.2, 4), (0.25, 3), (0.3, 3), (0.5, 1), (0.51, 1), (1.0, 0)]
)
def test_at_risk_words_agree_with_the_prosecutor_rule(threshold, largest) -> None:
    import numpy as np

    from workbench.risk import prosecutor_risk
    from workbench.ui._common import at_risk_meaning

    sizes = np.arange(1, 8)
    pros = prosecutor_risk(sizes, threshold=threshold)
    at_risk = int(round(pros.records_at_risk * sizes.sum()))
    assert at_risk == int(sizes[sizes <= largest].sum())  # the words describe the same rule
    text = at_risk_meaning(at_risk, int(sizes.sum()), threshold)
    if largest:
        assert f"groups of {largest} or fewer" in text
    else:
        assert "No group" in text


def test_summaries_carry_their_meaning_and_unavailable_estimators_say_why() -> None:
    from workbench.risk import assess
    from workbench.ui.risk import population_html, risk_summary_html

    df = random_frame(300)
    p = assess(df, ["age", "sex", "zip"], population_size=310)
    text = risk_summary_html(p)
    assert "k = 1: at least one person is alone" in text
    assert "sample uniques" in text and "are above the risk threshold" in text
    pop = p.population.to_dict()
    missing = [m for m in ("pitman", "zayatz", "snb") if pop[m] is None]
    assert missing == ["pitman", "snb"]  # this table: two estimators cannot be fitted
    shown = population_html(p)
    for m in missing:
        assert pop["notes"][m] and html_escape(pop["notes"][m]) in shown
    store = _store()
    tuner = TunerPanel(store, k=3, auto_search=True)
    assert "k = " in tuner.summary.value and "wb-meaning" in tuner.summary.value


def html_escape(s: str) -> str:
    import html

    return html.escape(s)


def test_sample_picker_and_upload_agree() -> None:
    from workbench.ui.loader import LoaderPanel
    from workbench.ui.state import Store

    store = Store()
    loader = LoaderPanel(store, sample="city.clinic")
    loader.load_initial()
    assert loader.sample.value == "city.clinic" and store.state.dataset.name != "people"
    content = random_frame(50).to_csv(index=False).encode()
    loader._on_upload({"new": ({"name": "people.csv", "content": content},)})
    assert store.state.dataset.name == "people"
    assert loader.sample.value is None  # no longer says "city.clinic"
    loader.sample.value = "city.clinic"  # choosing the sample again loads it
    assert store.state.dataset.name != "people"


def test_utility_table_speaks_in_percentages_and_words() -> None:
    import re

    store = _store()
    tuner = TunerPanel(store, k=3, auto_search=True)
    text = tuner.utility.value
    rep = store.state.utility.to_dict()
    assert f"{rep['records_suppressed']:,} of {rep['records_original']:,} people" in text
    assert "of the detail removed" in text and "% of people in a different category" in text
    assert "original mapped to the released level" in text
    for raw in (
        "wasserstein_normalized",
        "total_variation",
        "generalized level)",
        "records_original",
    ):
        assert raw not in text
    # every figure is a percentage or a count of people, never a bare fraction like 0.0172
    cells = re.findall(r"<td>([^<]*)</td>", text)
    assert not any(re.fullmatch(r"0\.\d+", c.strip()) for c in cells)


def test_suda_chart_says_its_shares_do_not_sum_to_100() -> None:
    from workbench.risk import assess
    from workbench.ui.risk import RiskPanel

    df = random_frame(300)
    store = store_for(df, ["age", "sex", "zip"], direct=["record_id"])
    panel = RiskPanel(store)
    panel.suda_max.value = 2
    panel.suda_button.click()
    ref = assess(df, ["age", "sex", "zip"], suda_max_size=2).suda
    total = sum(ref.attribute_contributions.values())
    assert total > 100.5  # this table's MSUs combine attributes
    notes = [a.text for a in panel.suda.figure.layout.annotations]
    assert any(f"add up to {total:.0f} %, not 100 %" in n for n in notes)
    assert panel.suda.figure.data[0].name == "share of the SUDA score"


def test_join_risk_matrix_shows_likelihood_and_harm_and_why() -> None:
    from workbench.ui.linkage import matrix_table_html

    pair = {
        "datasets": ["clinic", "voters"],
        "shared_qis": ["birth_date", "postal_code"],
        "likelihood": 0.25,
        "harm": 0.8,
        "score": 0.2,
        "exposed": [
            {"dataset": "clinic", "column": "visit_date", "category": "other", "weight": 0.3},
            {"dataset": "clinic", "column": "diagnosis", "category": "health", "weight": 0.8},
        ],
        "level": "high",
        "advice": "keep isolated",
    }
    text = matrix_table_html(
        {"pairs": [pair, {**pair, "exposed": [], "harm": 0.1, "score": 0.025}]}
    )
    assert "<td>25.0%</td><td>0.80</td><td>0.200</td>" in text
    assert "matching on birth_date, postal_code" in text
    assert "harm 0.80 because clinic.diagnosis (health) would be exposed" in text
    assert "score 25.0% x 0.80 = 0.200" in text
    assert "harm 0.10: no sensitive attribute is exposed" in text


def test_original_numbers_too_rare_to_draw_one_by_one_are_binned() -> None:
    from workbench.ui.tuner import binned_original_shares

    store = _store()  # 300 records, ages 18-89: most single ages have fewer than 5 records
    tuner = TunerPanel(store, k=2, auto_search=False)
    before = store.state.distributions["age"]["before"]
    assert before.get("other", 0.0) < 0.2 and len(before) > 5
    assert sum(before.values()) == pytest.approx(1.0)
    df = random_frame(300)
    shares = binned_original_shares(tuner.ctx, "age")
    first = next(iter(natural_order(list(shares))))
    lo, hi = (float(x) for x in first.split("-"))
    assert shares[first] == pytest.approx(((df["age"] >= lo) & (df["age"] < hi)).mean())
    assert binned_original_shares(tuner.ctx, "sex") == {}  # not numbers: no bins
