"""Tuner and trade-off explorer: live numbers equal the core's on the transformed table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _helpers_ui import random_frame, store_for, tiny_frame, trace

from workbench.deid import Criteria, anonymize, frontier, prepare
from workbench.errors import HierarchyError, ParameterError
from workbench.review.bundle import category_shares
from workbench.risk import assess
from workbench.ui.tradeoff import TradeoffPanel
from workbench.ui.tuner import (
    TunerPanel,
    build_hierarchy,
    default_hierarchy_kind,
    detect_date_format,
    evaluate_node,
    original_shares,
    released_shares,
)


def _dated(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 25_000, n), unit="D")
    return pd.DataFrame(
        {
            "id": [f"V{i:05d}" for i in range(n)],
            "dob": days.strftime("%d/%m/%Y"),
            "sex": rng.choice(["female", "male"], n),
            "postal": rng.choice(["46201", "46202", "46211", "46212", "46301"], n),
            "diagnosis": rng.choice(["flu", "cold", "asthma"], n),
        }
    )


# ------------------------------------------------------------------ hierarchies
def test_hierarchy_kinds_are_detected_from_values() -> None:
    df = _dated()
    assert detect_date_format(df["dob"]) == "%d/%m/%Y"
    assert default_hierarchy_kind(df["dob"]) == "date"
    assert default_hierarchy_kind(df["postal"]) == "mask"
    assert default_hierarchy_kind(df["sex"]) == "auto"
    assert default_hierarchy_kind(df["sex"], has_file=True) == "arx"
    h, _ = build_hierarchy("date", df["dob"], "dob")
    assert h.levels == 5 and h.values(4) == ("*",)
    assert all(len(v) == 4 for v in h.values(2))  # years
    m, _ = build_hierarchy("mask", df["postal"], "postal")
    assert "462**" in m.values(2)
    with pytest.raises(HierarchyError, match="no ARX hierarchy file"):
        build_hierarchy("arx", df["postal"], "postal")
    with pytest.raises(HierarchyError, match="does not hold dates"):
        build_hierarchy("date", df["postal"], "postal")


def test_missing_values_get_a_leaf() -> None:
    s = pd.Series(["46201", None, "46202"], dtype="string")
    h, _ = build_hierarchy("mask", s, "postal")
    assert h.missing_leaf() is not None
    assert len(h.leaf_codes(s, "postal")) == 3


# ------------------------------------------------------------------ one node == the core
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("k", [2, 5])
def test_node_risk_equals_assess_on_the_released_records(seed, k) -> None:
    df = _dated(seed=seed)
    hs = {
        "dob": build_hierarchy("date", df["dob"], "dob")[0],
        "postal": build_hierarchy("mask", df["postal"], "postal")[0],
        "sex": build_hierarchy("identity", df["sex"], "sex")[0],
    }
    ctx = prepare(df, ["dob", "sex", "postal"], hs)
    crit = Criteria(k=k, suppression=0.1)
    levels = {"dob": 2, "sex": 0, "postal": 3}
    view = evaluate_node(ctx, levels, crit, threshold=0.2)
    out, sup = ctx.transform(levels, crit)
    released = out[~sup]
    assert view.risk["suppressed"] == int(sup.sum())
    if len(released):
        ref = assess(released, ["dob", "sex", "postal"]).to_dict()
        for key in (
            "records",
            "classes",
            "min_class_size",
            "sample_uniques",
            "class_size_histogram",
            "prosecutor",
        ):
            assert view.risk[key] == ref[key], key
    for q in ("dob", "postal"):  # every category of >= 5 records, rarer ones pooled
        want = category_shares(out, q, top=10_000, min_count=5)
        assert released_shares(ctx, view, q, top=10_000) == pytest.approx(want)
    assert original_shares(ctx, "postal", top=10_000) == pytest.approx(
        category_shares(df, "postal", top=10_000, min_count=5)
    )
    # "before" at the level shown "after": the original records generalized by the hierarchy
    for q in ("dob", "postal"):
        lv = levels[q]
        before = pd.DataFrame({q: hs[q].generalize(df[q].astype("string"), lv)})
        assert original_shares(ctx, q, top=10_000, level=lv) == pytest.approx(
            category_shares(before, q, top=10_000, min_count=5)
        )
    top3 = released_shares(ctx, view, "dob", top=3)
    assert len(top3) <= 4 and sum(top3.values()) == pytest.approx(1.0)


# ------------------------------------------------------------------ the panel
def _panel(df=None, **kw):
    df = _dated() if df is None else df
    store = store_for(df, ["dob", "sex", "postal"], sensitive=["diagnosis"], direct=["id"])
    return store, TunerPanel(store, **kw)


def test_panel_starts_at_the_optimum_of_the_core(tmp_path) -> None:
    store, panel = _panel(k=5, suppression=0.05)
    assert panel.errors.last_error is None
    ref = anonymize(
        store.state.dataset,
        ["dob", "sex", "postal"],
        dict(panel._hierarchies),
        k=5,
        suppression=0.05,
    )
    assert panel.current_levels() == dict(ref.levels)
    assert "meets the targets" in panel.summary.value
    assert f"k = {ref.min_class_size}" in panel.summary.value
    assert store.state.risk_after["suppressed"] == ref.suppressed
    assert store.state.transform.levels == ref.levels
    assert store.state.risk is not None  # "before" assessed for the comparison chart
    names = [t["name"] for t in panel.compare_fig.shown["data"]]
    assert names == ["before", "after"]
    assert store.state.utility is not None  # small table: utility compared live
    assert "information loss" in panel.utility.value


def test_k_slider_reoptimises_or_keeps_levels() -> None:
    store, panel = _panel(k=2, suppression=0.0)
    panel.k.value = 10
    ref = anonymize(
        store.state.dataset,
        ["dob", "sex", "postal"],
        dict(panel._hierarchies),
        k=10,
        suppression=0.0,
    )
    assert panel.current_levels() == dict(ref.levels)
    assert store.state.risk_after["min_class_size"] >= 10
    panel.auto.value = False
    before = panel.current_levels()
    panel.k.value = 50
    assert panel.current_levels() == before  # levels kept: the summary says what fails
    assert "does not meet the targets" in panel.summary.value


def test_level_sliders_and_distribution_chart() -> None:
    store, panel = _panel()
    panel.auto.value = False
    panel.levels["dob"].value = 2  # years
    assert panel.level_labels["dob"].value == "year"
    panel.dist_column.value = "dob"
    after = store.state.distributions["dob"]["after"]
    assert all(len(label) == 4 or label in ("*", "other") for label in after)
    before = store.state.distributions["dob"]["before"]  # the original granularity (days)
    assert all(len(label) == 10 or label == "other" for label in before)
    shown = panel.dist_out.shown["data"]
    assert [t["name"] for t in shown] == ["original", "released (level 2)"]
    # natural order (time), not frequency: days chronologically, years ascending, pooled last
    days = [x for x in shown[0]["x"] if x != "other"]
    assert days == sorted(days, key=lambda d: pd.to_datetime(d, format="%d/%m/%Y"))
    years = [x for x in shown[1]["x"] if x not in ("*", "other")]
    assert years == sorted(years) and len(years) > 1
    assert shown[1]["x"][-1] in ("*", "other")
    assert trace(panel.hist_fig)["y"]  # histogram of the released classes


def test_hierarchy_dropdown_rebuilds_the_context() -> None:
    store, panel = _panel()
    panel.kinds["postal"].value = "identity"
    assert panel.levels["postal"].max == 1
    assert panel.ctx.hierarchies["postal"].levels == 2
    assert store.state.transform_config["hierarchies"]["postal"]["kind"] == "identity"


def test_save_configuration_and_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    src = tmp_path / "in.csv"
    _dated().to_csv(src, index=False)
    from workbench.loading.readers import load

    ds = load(src)
    from workbench.profiling.roles import RoleMap
    from workbench.ui.state import Store

    store = Store()
    store.load_dataset(
        ds,
        roles=RoleMap.from_columns(
            ds.columns, direct_identifiers=["id"], quasi_identifiers=["dob", "sex", "postal"]
        ),
    )
    out_dir = tmp_path / "out"
    panel = TunerPanel(store, output_dir=out_dir)
    panel.save_config.click()
    panel.save_data.click()
    assert panel.errors.last_error is None
    cfg = json.loads((out_dir / "in.deid-config.json").read_text())
    assert cfg["levels"] == panel.current_levels()
    assert cfg["criteria"] == {"k": 5, "suppression": 0.05}
    assert cfg["dataset"]["sha256"] == ds.sha256
    saved = pd.read_csv(out_dir / "in.deidentified.csv", dtype=str)
    assert "id" not in saved.columns  # direct identifiers dropped
    assert len(saved) == ds.n_rows
    ref_out, sup = panel.ctx.transform(panel.current_levels(), panel.criteria())
    assert (saved["postal"] == "*").sum() == int(sup.sum())
    assert src.read_bytes() == _dated().to_csv(index=False).encode()  # input untouched
    assert len(store.state.provenance) == 2
    assert not list(out_dir.glob(".*.tmp"))  # atomic writes leave no temp files


def test_saving_over_the_input_is_refused(tmp_path) -> None:
    src = tmp_path / "in.deidentified.csv"
    _dated().to_csv(src, index=False)
    from workbench.loading.readers import load
    from workbench.profiling.roles import RoleMap
    from workbench.ui.state import Store

    ds = load(src, name="in")
    store = Store()
    store.load_dataset(
        ds, roles=RoleMap.from_columns(ds.columns, quasi_identifiers=["dob", "sex", "postal"])
    )
    panel = TunerPanel(store, output_dir=tmp_path)
    before = src.read_bytes()
    panel.save_data.click()
    assert "different from the input" in panel.errors.last_error
    assert src.read_bytes() == before


def test_without_output_folder_nothing_is_written() -> None:
    _, panel = _panel()
    with pytest.raises(ParameterError, match="output folder"):
        panel._outputs(".x")
    assert panel.save_data.layout.display == "none"


def test_large_tables_compare_utility_on_demand() -> None:
    store, panel = _panel(live_utility_limit=10)
    assert store.state.utility is None and panel.utility_button.layout.display != "none"
    panel.utility_button.click()
    assert store.state.utility is not None
    assert "records suppressed" in panel.utility.value


def test_compare_utility_is_offered_below_the_live_limit_too() -> None:
    store, panel = _panel()  # 400 records: utility is live, the button stays to refresh it
    assert store.state.utility is not None
    assert panel.utility_button.layout.display != "none"


def test_tiny_table_with_impossible_targets() -> None:
    store = store_for(tiny_frame(), ["age", "zip"], direct=["record_id"])
    panel = TunerPanel(store, k=20, suppression=0.0)
    assert "No combination of levels" in panel.errors.widget.value
    assert "does not meet the targets" in panel.summary.value


# ------------------------------------------------------------------ trade-off
def test_frontier_points_equal_the_core_and_can_be_used() -> None:
    store, panel = _panel()
    trade = TradeoffPanel(store, panel)
    trade.k_range.value = (2, 6)
    trade.suppressions.value = (0.0, 0.05)
    trade.compute.click()
    assert trade.errors.last_error is None
    ref = frontier(panel.ctx, k_values=range(2, 7), suppressions=(0.0, 0.05))
    assert [p.to_dict() for p in trade.result.points] == [p.to_dict() for p in ref.points]
    chart = trade.slot.shown
    assert chart["layout"]["title"]["text"] == "Risk-utility frontier"
    assert len(store.state.frontier["points"]) == sum(p.found for p in ref.points)
    best = ref.frontier[-1]
    trade.points.value = len(ref.frontier) - 1
    trade.use.click()
    assert panel.current_levels() == dict(best.levels)
    assert panel.k.value == best.k and panel.suppression.value == best.suppression
    assert panel.auto.value is True  # restored after using the point


def test_random_table_auto_hierarchies() -> None:
    df = random_frame(300)
    store = store_for(df, ["age", "sex", "zip"], direct=["record_id"])
    panel = TunerPanel(store)
    assert panel.kinds["age"].value == "auto" and panel.kinds["zip"].value == "mask"
    assert panel.errors.last_error is None


def test_save_data_drops_identifier_values_the_roles_missed(tmp_path, monkeypatch) -> None:
    """Regression: the tuner dropped only the confirmed direct identifiers; e-mail addresses in
    a column confirmed as "other" were written as they were."""
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    frame = _dated(60)
    frame["contact"] = [f"person{i}@mail.example.org" for i in range(60)]
    frame["note"] = ["=HYPERLINK(1)", "ok", "@x"] * 20
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    from workbench.loading.readers import load
    from workbench.profiling.roles import RoleMap
    from workbench.ui.state import Store

    ds = load(src)
    store = Store()
    roles = RoleMap.from_columns(
        ds.columns, direct_identifiers=["id"], quasi_identifiers=["dob", "sex", "postal"]
    )
    assert roles.role_of("contact").value == "other"
    store.load_dataset(ds, roles=roles)
    panel = TunerPanel(store, output_dir=tmp_path / "out")
    panel.save_data.click()
    assert panel.errors.last_error is None
    text = (tmp_path / "out" / "in.deidentified.csv").read_text()
    assert not [v for v in frame["contact"].tolist() + frame["id"].tolist() if v in text]
    saved = pd.read_csv(tmp_path / "out" / "in.deidentified.csv", dtype=str)
    assert list(saved.columns) == ["dob", "sex", "postal", "diagnosis", "note"]
    assert saved["note"].tolist()[:3] == ["'=HYPERLINK(1)", "ok", "'@x"]
    assert "id, contact" in panel.saved.value
    rec = json.loads((tmp_path / "prov.jsonl").read_text().splitlines()[-1])
    assert rec["parameters"]["release"]["dropped"] == ["id", "contact"]


def test_summary_lists_every_model_in_force() -> None:
    """The tuner names no model: it shows whatever the criteria's registered models say."""
    from workbench.ui.tuner import tuner_summary_html

    df = _dated()
    ctx = prepare(df, ["sex", "postal"])
    view = evaluate_node(ctx, {"sex": 0, "postal": 0}, Criteria(k=3, max_highest_risk=0.3))
    html_text = tuner_summary_html(view)
    assert "at least 3 records" in html_text
    assert "probability above 0.3" in html_text
