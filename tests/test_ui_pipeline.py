"""Pipeline panel: steps, undo/redo/history, effects, and export = `workbench transform`."""

from __future__ import annotations

import pandas as pd
import pytest
from _helpers_ui import store_for, tiny_frame

from workbench.cli import main
from workbench.dataset import Dataset
from workbench.deid.recipe import Recipe
from workbench.deid.transforms import Rounding
from workbench.errors import ParameterError
from workbench.loading.readers import load
from workbench.profiling.roles import RoleMap
from workbench.ui.pipeline import PipelinePanel
from workbench.ui.tuner import TunerPanel


def _panel(tmp_path, frame=None):
    frame = tiny_frame() if frame is None else frame
    store = store_for(frame, ["age", "zip"], ["diagnosis"], direct=["record_id"])
    tuner = TunerPanel(store, tmp_path, k=2, suppression=0.5, auto_search=False)
    return store, tuner, PipelinePanel(store, tuner, tmp_path)


def test_steps_show_hand_checked_effects_and_undo_redo_walk_the_history(tmp_path) -> None:
    store, tuner, p = _panel(tmp_path)
    # tiny_frame: classes on (age, zip) of sizes 1, 2, 3, 4
    assert p.entry.effects[0].k == 1
    p.kind.value = "record_suppression"
    p.k.value = 2
    p.add_step(p.build_step())
    eff = p.entry.effects[-1]
    assert (eff.k, eff.records_suppressed, eff.records_released) == (2, 1, 9)
    p.kind.value = "record_suppression"
    p.k.value = 3  # exactly at the size of class C (3): kept; class B (2) goes
    p.add_step(p.build_step())
    eff = p.entry.effects[-1]
    assert (eff.k, eff.records_suppressed) == (3, 3)
    p.kind.value = "rounding"
    p.columns.value = ("age",)
    p.num_a.value = 25.0  # 30->25? no: 30/25=1.2 -> 25; 40->50 (1.6); 50->50; 60->50 (2.4)
    p.add_step(p.build_step())
    data = p.entry.results[-1].data
    kept = data[data["zip"] != "*"]
    assert sorted(set(kept["age"])) == [50]
    assert "k (smallest group)" in p.table.value and "rounding" not in p.table.value
    assert "round age to multiples of 25" in p.table.value
    assert len(p.recipe.steps) == 3
    p.undo()
    assert [s.kind for s in p.recipe.steps] == ["record_suppression", "record_suppression"]
    assert p.entry.effects[-1].k == 3 and not p.redo_button.disabled
    p.redo()
    assert len(p.recipe.steps) == 3 and p.redo_button.disabled
    p.undo()
    p.undo()
    p.kind.value = "drop_columns"
    p.columns.value = ("diagnosis",)
    p.add_step(p.build_step())  # a new step after undo drops what was undone
    assert [s.kind for s in p.recipe.steps] == ["record_suppression", "drop_columns"]
    assert p.redo_button.disabled
    assert p.history.value.count("<li") == 3
    p.undo()
    p.undo()
    assert p.undo_button.disabled and p.recipe.steps == ()


def test_a_new_dataset_or_new_qis_clears_the_steps(tmp_path) -> None:
    store, tuner, p = _panel(tmp_path)
    p.add_step(Rounding(("age",), base=10))
    assert len(p.recipe.steps) == 1
    roles = RoleMap.from_columns(
        tiny_frame().columns, direct_identifiers=["record_id"], quasi_identifiers=["age"]
    )
    store.set(roles=roles)
    assert p.recipe.steps == () and p.recipe.qis == ("age",)
    p.add_step(Rounding(("age",), base=10))
    store.load_dataset(Dataset.from_frame(tiny_frame(), name="other"), roles=roles)
    assert p.recipe.steps == ()


def test_form_errors_name_what_is_missing(tmp_path) -> None:
    _, _, p = _panel(tmp_path)
    p.kind.value = "rounding"
    p.columns.value = ()
    with pytest.raises(ParameterError, match="at least one column"):
        p.build_step()
    p.add_button.click()  # the button shows the error in the panel instead of raising
    assert "at least one column" in p.errors.widget.value


def test_exported_recipe_run_by_the_cli_reproduces_the_saved_release(tmp_path, monkeypatch):
    csv = tmp_path / "people.csv"
    frame = tiny_frame()
    frame["income"] = [1000 * (i + 1) + 37 for i in range(len(frame))]
    frame.to_csv(csv, index=False)
    ds = load(csv)
    roles = RoleMap.from_columns(
        ds.columns,
        direct_identifiers=["record_id"],
        quasi_identifiers=["age", "zip"],
        sensitive=["diagnosis"],
    )
    from workbench.ui.state import Store

    store = Store()
    store.load_dataset(ds, roles=roles)
    tuner = TunerPanel(store, tmp_path, k=2, suppression=0.5, auto_search=False)
    tuner.set_levels({"age": 1, "zip": 0})
    p = PipelinePanel(store, tuner, tmp_path / "out")
    p.kind.value = "generalize"
    p.add_step(p.build_step())
    p.kind.value = "record_suppression"
    p.k.value = 2
    p.add_step(p.build_step())
    p.kind.value = "additive_noise"
    p.columns.value = ("income",)
    p.num_a.value = 10.0
    p.seed.value = 7
    p.add_step(p.build_step())
    recipe_path = p.export_recipe()
    release = p.save_release()
    bundle = p.save_bundle()
    assert Recipe.load(recipe_path).to_yaml() == p.recipe.to_yaml()
    out = pd.read_csv(release)
    assert "record_id" not in out.columns
    assert "R01" not in bundle.read_text()
    cli_out = tmp_path / "cli.csv"
    code = main(["transform", str(csv), "--recipe", str(recipe_path), "--output", str(cli_out)])
    assert code == 0
    assert cli_out.read_bytes() == release.read_bytes()
    ops = [r["operation"] for r in store.state.provenance]
    assert ops == ["export-recipe", "transform", "release-bundle"]


def test_utility_views_attribute_summary_and_contingency(tmp_path) -> None:
    from workbench.ui.pipeline import attribute_summary, contingency

    store, tuner, p = _panel(tmp_path)
    p.kind.value = "record_suppression"
    p.k.value = 2
    p.add_step(p.build_step())  # class A (age 30) suppressed
    p.kind.value = "drop_columns"
    p.columns.value = ("diagnosis",)
    p.add_step(p.build_step())
    e = p.entry
    s = attribute_summary(tiny_frame(), e.results[-1].data, e.results[-1].suppressed)
    age = s.set_index("attribute").loc["age"]
    assert (age["distinct before"], age["distinct after"]) == (4, 3)
    assert age["mean before"] == pytest.approx((30 + 80 + 150 + 240) / 10)
    assert age["mean after"] == pytest.approx((80 + 150 + 240) / 9)
    assert s.set_index("attribute").loc["diagnosis", "released"] == "dropped"
    t = contingency(tiny_frame(), "age", "zip")
    assert list(t.index) == ["30", "40", "50", "60"] and int(t.loc["60", "44444"]) == 4
    p.view_a.value, p.view_b.value = "age", "zip"
    p.view_button.click()
    assert p.errors.last_error is None
    v = p.views.value
    assert "original: age by zip" in v and "released: age by zip" in v
    cells = v[v.index("original: age by zip") :]
    assert "&lt;5" in cells and ">4<" not in cells  # cells under 5 never shown as counts
    assert "<td>4</td><td>3</td>" in v  # distinct before/after of age, whole numbers


def test_mondrian_is_a_step_too(tmp_path) -> None:
    from _helpers_ui import random_frame

    store, tuner, p = _panel(tmp_path, random_frame(200))
    p.kind.value = "mondrian"
    p.k.value = 6
    p.add_step(p.build_step())
    eff = p.entry.effects[-1]
    assert eff.k >= 6 and eff.records_suppressed == 0
    assert "Mondrian: ranges of age, zip with at least 6 records each" in p.table.value
    assert "type: mondrian" in p.recipe.to_yaml()


def test_classification_accuracy_view_calls_the_core(tmp_path) -> None:
    from _helpers_ui import random_frame

    from workbench.deid.accuracy import classification_accuracy

    frame = random_frame(300)
    store = store_for(frame, ["age", "zip"], ["diagnosis"], direct=["record_id"])
    tuner = TunerPanel(store, tmp_path, k=2, suppression=0.5, auto_search=False)
    p = PipelinePanel(store, tuner, tmp_path)
    assert p.target.value == "diagnosis" and "record_id" not in p.target.options
    p.kind.value = "generalize"
    p.add_step(p.build_step())
    p.accuracy_button.click()
    assert p.errors.last_error is None, p.errors.last_error
    res = p.accuracy_result
    assert "record_id" not in res.features and "diagnosis" not in res.features
    expected = classification_accuracy(
        frame, p.entry.results[-1].data, ["diagnosis"], res.features, seed=2026
    )
    assert res.to_dict() == expected.to_dict()
    t = res.target("diagnosis")
    assert f"{t.released:.1%}" in p.accuracy.value
    assert "predicts diagnosis correctly" in p.accuracy.value
    assert not p.accuracy_button.disabled and p.busy.value == ""
    # a threshold change does not touch the data: the result stays
    store.set(threshold=0.3)
    assert p.accuracy_result is res
