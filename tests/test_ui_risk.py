"""Risk panel: widget changes give the same numbers and charts as calling ``assess`` directly."""

from __future__ import annotations

import json
import re

import pytest
from _helpers_ui import random_frame, store_for, tiny_frame, trace
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.profiling.roles import Role
from workbench.risk import assess
from workbench.ui.risk import (
    ExploreRiskApp,
    RiskPanel,
    current_risk,
    with_population_size,
    with_threshold,
)
from workbench.ui.roles import RolesPanel, with_quasi_identifiers


def _at_risk(summary_html: str) -> int:
    m = re.search(r"records at risk: ([\d,]+) of", summary_html)
    assert m, summary_html
    return int(m.group(1).replace(",", ""))


# ------------------------------------------------------------------ hand-computed tiny table
def test_tiny_table_summary_and_histogram() -> None:
    store = store_for(tiny_frame(), ["age", "zip"], sensitive=["diagnosis"], direct=["record_id"])
    panel = RiskPanel(store)
    html = panel.summary.value
    # classes of sizes 1, 2, 3, 4: k = 1, one sample unique, every record above 0.2
    assert "k = 1" in html and "4 equivalence classes" in html
    assert "1 sample uniques" in html
    assert _at_risk(html) == 10
    hist = trace(panel.hist)
    assert hist["x"][:5] == ["1", "2", "3", "4", "5-9"]
    assert hist["y"][:5] == [1, 2, 3, 4, 0]  # records per class size
    assert "(k = 1)" in panel.hist.figure.layout.title.text


@pytest.mark.parametrize(("threshold", "expected"), [(0.2, 10), (0.3, 6), (0.4, 3), (0.5, 1)])
def test_threshold_slider_counts_records_strictly_above(threshold, expected) -> None:
    store = store_for(tiny_frame(), ["age", "zip"], direct=["record_id"])
    panel = RiskPanel(store)
    table = store.state.risk.table
    panel.threshold.value = threshold
    assert _at_risk(panel.summary.value) == expected
    assert store.state.risk.table is table  # re-derived from the class table, no re-scan
    marker = trace(panel.curve, 1)
    assert marker["x"] == [threshold]
    assert marker["y"][0] == pytest.approx(expected / 10)


def test_no_quasi_identifiers_says_so() -> None:
    store = store_for(tiny_frame(), [], direct=["record_id"])
    panel = RiskPanel(store)
    assert store.state.risk is None
    assert "Choose at least one quasi-identifier" in panel.summary.value
    panel.qi_picker.value = ("age",)
    assert "k = 1" in panel.summary.value  # age alone: 30 appears once
    panel.qi_picker.value = ()
    assert store.state.risk is None and "Choose at least one" in panel.summary.value


# ------------------------------------------------------------------ widget == direct call
def test_changing_qis_matches_assess_called_directly() -> None:
    df = random_frame()
    store = store_for(df, ["age", "sex", "zip"], sensitive=["diagnosis"], direct=["record_id"])
    panel = RiskPanel(store)
    assert "record_id" not in panel.qi_picker.options  # direct identifiers are not offered
    panel.qi_picker.value = ("sex", "zip")
    ref = assess(df, ["sex", "zip"], sensitive=["diagnosis"])
    assert store.state.roles.role_of("age") == Role.OTHER
    assert f"k = {ref.min_class_size}" in panel.summary.value
    assert _at_risk(panel.summary.value) == round(ref.prosecutor.records_at_risk * ref.records)
    got = store.state.risk.to_dict()
    want = ref.to_dict()
    for key in (
        "records",
        "classes",
        "min_class_size",
        "sample_uniques",
        "class_size_histogram",
        "prosecutor",
        "journalist",
        "l_diversity",
    ):
        assert got[key] == want[key], key
    hist_sizes = ref.class_size_histogram
    small = sum(size * n for size, n in hist_sizes.items() if size == 1)
    assert trace(panel.hist)["y"][0] == small
    assert trace(panel.subsets)["y"]  # subsets recomputed for the new QIs
    assert set(" + ".join(trace(panel.subsets)["y"]).replace(" + ", " ").split()) <= {"sex", "zip"}


def test_roles_panel_and_qi_picker_stay_in_sync() -> None:
    df = random_frame()
    store = store_for(df, ["age", "sex"], direct=["record_id"])
    roles = RolesPanel(store)
    panel = RiskPanel(store)
    roles.dropdowns["zip"].value = Role.QUASI_IDENTIFIER
    assert panel.qi_picker.value == ("age", "sex", "zip")
    assert store.state.risk.qis == ("age", "sex", "zip")
    panel.qi_picker.value = ("zip",)
    assert roles.dropdowns["age"].value == Role.OTHER
    assert roles.dropdowns["zip"].value == Role.QUASI_IDENTIFIER
    assert "Quasi-identifiers: <b>zip</b>" in roles.summary.value


def test_population_size_adds_estimates_and_bad_values_are_shown() -> None:
    df = random_frame()
    store = store_for(df, ["age", "sex"], direct=["record_id"])
    panel = RiskPanel(store)
    assert "enter the population size" in panel.population_table.value
    # (N = 5,000: larger N makes the SNB fit warn on this table, an issue of the core model)
    panel.population.value = 5_000
    ref = assess(df, ["age", "sex"], population_size=5_000)
    dankar = ref.population.to_dict()["dankar"]
    assert f"{dankar['uniques']:,.0f}" in panel.population_table.value
    assert dankar["model"] in panel.population_table.value
    panel.population.value = 5  # fewer people than records
    assert "population_size" in panel.errors.last_error
    assert "Traceback" not in panel.errors.widget.value


def test_suda_button_matches_the_core() -> None:
    df = random_frame(300)
    store = store_for(df, ["age", "sex", "zip"], direct=["record_id"])
    panel = RiskPanel(store)
    assert panel.suda.figure is None  # behind the button
    panel.suda_max.value = 2
    panel.suda_button.click()
    assert panel.errors.last_error is None
    ref = assess(df, ["age", "sex", "zip"], suda_max_size=2).suda
    t = trace(panel.suda)
    assert dict(zip(t["y"], t["x"], strict=True)) == pytest.approx(
        dict(ref.attribute_contributions)
    )
    assert "minimal sample uniques" in panel.suda_progress.label.value
    assert store.state.risk.suda_max_size == 2


# ------------------------------------------------------------------ fast paths == reference
# The SNB population model of the core warns (0/0) on some small tables; that is not what this
# test is about, and NaN == NaN is compared through JSON below.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    threshold=st.floats(0.0, 1.0),
    population=st.one_of(st.none(), st.integers(0, 50_000)),
)
def test_rederived_profile_equals_a_fresh_assessment(seed, threshold, population) -> None:
    df = random_frame(200, seed)
    qis = ["age", "sex", "zip"][: 1 + seed % 3]
    base = assess(df, qis, sensitive=["diagnosis"])
    n_pop = None if population is None else 200 + population
    fast = with_population_size(with_threshold(base, threshold), n_pop)
    ref = assess(df, qis, sensitive=["diagnosis"], threshold=threshold, population_size=n_pop)
    assert fast.table is base.table
    assert json.dumps(fast.to_dict(), sort_keys=True) == json.dumps(ref.to_dict(), sort_keys=True)


def test_rederiving_keeps_computed_suda_unless_the_fraction_changes() -> None:
    df = random_frame(200)
    p = assess(df, ["age", "sex"])
    _ = p.suda
    q = with_threshold(p, 0.5)
    assert q.__dict__["suda"] is p.__dict__["suda"]
    r = with_population_size(q, 10_000)
    assert "suda" not in r.__dict__  # DIS-SUDA depends on the sampling fraction


def test_current_risk_reuses_a_matching_profile() -> None:
    store = store_for(random_frame(), ["age", "sex"], direct=["record_id"])
    first = current_risk(store.state)
    store.set(risk=first)
    assert current_risk(store.state) is first
    store.set(roles=with_quasi_identifiers(store.state.roles, ["age"]))
    assert current_risk(store.state).qis == ("age",)


def test_explore_app_parameters() -> None:
    app = ExploreRiskApp(
        sample="city.clinic",
        qis=["sex", "postal_code"],
        threshold=0.05,
        population_size=20_000,
        output_dir=None,
    )
    st = app.store.state
    assert st.qis == ("sex", "postal_code")
    assert st.risk.threshold == 0.05 and st.risk.population is not None
    assert app.risk.threshold.value == 0.05 and app.risk.population.value == 20_000
    assert "above threshold 0.05" in app.risk.summary.value


def test_weights_and_household_give_sdcmicro_individual_risk() -> None:
    """Survey data: choosing sampling weights and a household id in the panel shows the
    Benedetti-Franconi expected re-identifications and household risk of `assess`."""
    from workbench.loading.readers import load
    from workbench.profiling.roles import RoleMap
    from workbench.samples import sample_path
    from workbench.ui.state import Store

    ds = load(sample_path("survey"))
    qis = ["urbrur", "water", "sex", "age"]
    roles = RoleMap.from_columns(ds.columns, quasi_identifiers=qis)
    store = Store()
    store.load_dataset(ds, roles=roles)
    panel = RiskPanel(store)
    assert panel.weights.label.startswith("(none")  # a visible label, not a blank box
    assert "sampling_weight" in [v for _, v in panel.weights.options]
    assert "urbrur" not in [v for _, v in panel.weights.options]  # QIs are not weights
    assert "wb-global-risk" not in panel.summary.value  # unweighted: no individual-risk line
    panel.weights.value = "sampling_weight"
    panel.household.value = "ori_hid"
    ref = assess(ds, qis, weights="sampling_weight", household="ori_hid")
    risk = store.state.risk
    assert risk.weights == "sampling_weight" and risk.household_column == "ori_hid"
    assert risk.global_risk.expected_reidentifications == pytest.approx(
        ref.global_risk.expected_reidentifications
    )
    text = panel.summary.value
    assert f"{ref.global_risk.expected_reidentifications:,.1f}" in text
    assert f"{ref.household.to_dict()['expected_reidentifications']:,.1f}" in text
    panel.weights.value = ""  # the "(none)" option: back to unweighted
    assert store.state.risk.weights is None
    assert "wb-global-risk" not in panel.summary.value
