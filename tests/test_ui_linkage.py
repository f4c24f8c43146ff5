"""Cross-department panel and training walk-through: numbers equal the linkage core's."""

from __future__ import annotations

import re

import pytest
from _helpers_ui import trace

from workbench.governance.catalog import Catalog
from workbench.linkage import join_risk_matrix, link_exact
from workbench.samples import sample_path
from workbench.ui.linkage import TRUTH_COLUMN, CrossDepartmentApp, matrix_by_pairs, propose
from workbench.ui.training import SCENARIOS, TrainingWalkthrough


@pytest.fixture(scope="module")
def app() -> CrossDepartmentApp:
    return CrossDepartmentApp(output_dir=None)


def test_crosswalk_review_marks_unticked_entries_rejected(app) -> None:
    p = app.panel
    p.datasets.value = ("clinic", "voters")
    p.propose_button.click()
    assert p.errors.last_error is None
    facts = {e.fact for e, _ in p.entry_boxes}
    assert facts == {"birth", "sex", "postal"}
    for e, cb in p.entry_boxes:
        cb.value = e.fact != "birth"  # the officer rejects the birth-date pairing
    p.confirm_button.click()
    cw = app.store.state.crosswalk
    status = {e.fact: e.status for e in cw.entries}
    assert status == {"birth": "rejected", "sex": "confirmed", "postal": "confirmed"}
    assert "2 entries used, 1 rejected" in p.crosswalk_status.value
    result = p.preview("clinic", "voters")
    assert set(result.shared_qis) == {"sex", "postal5"}  # rejected entry never used


def test_reviewed_crosswalk_is_saved_with_a_copy_of_the_catalog(tmp_path) -> None:
    """The confirmed crosswalk is saved with the catalog (a copy in the output folder); the
    copy reloads with the same datasets and review statuses; the shipped catalog is untouched."""
    src = sample_path("city")
    before = src.read_bytes()
    app = CrossDepartmentApp(output_dir=tmp_path)
    p = app.panel
    p.save_crosswalk_button.click()  # nothing reviewed yet: explained, nothing written
    assert "first" in p.errors.widget.value and not list(tmp_path.iterdir())
    p.datasets.value = ("clinic", "voters")
    p.propose_button.click()
    for e, cb in p.entry_boxes:
        cb.value = e.fact != "sex"
    p.confirm_button.click()
    p.save_crosswalk_button.click()
    assert p.errors.last_error is None
    saved = tmp_path / "city.catalog.yaml"
    assert "saved as city.catalog.yaml" in p.crosswalk_status.value
    copy = Catalog.load(saved)
    assert {e.fact: e.status for e in copy.crosswalk.entries} == {
        "birth": "confirmed",
        "postal": "confirmed",
        "sex": "rejected",
    }
    original = Catalog.load(src)
    assert set(copy.datasets) == set(original.datasets)
    assert copy.entry("clinic").file.resolve() == original.entry("clinic").file.resolve()
    assert src.read_bytes() == before


def test_linkage_preview_equals_link_exact(app) -> None:
    p = app.panel
    p.datasets.value = ("clinic", "voters")
    p.propose_button.click()
    p.confirm_button.click()
    p.released.value, p.attacker.value = "clinic", "voters"
    p.link_button.click()
    assert p.errors.last_error is None
    got = app.store.state.linkage.to_dict()
    frames = p.frames
    entries = list(app.store.state.crosswalk.for_pair("clinic", "voters"))
    ref = link_exact(
        frames.with_truth("clinic"),
        frames.with_truth("voters"),
        crosswalk=entries,
        truth=TRUTH_COLUMN,
        reference_date=p.catalog.reference_date,
    ).to_dict()
    assert got == ref
    assert ref["correct_unique_matches"] > 1000  # the synthetic city is linkable as designed
    html = p.link_summary.value
    assert f"{ref['correct_unique_matches']:,}" in html and "true re-identifications" in html
    bars = trace(p.link_slot)
    assert bars["y"] == pytest.approx([ref["no_match"], ref["one_match"], ref["many_matches"]])
    # nothing on screen or in the result document is a person's name
    voters = frames.frame("voters")
    names = set(voters["last_name"].dropna()) | set(voters["first_name"].dropna())
    words = set(re.findall(r"[A-Za-z]+", html))
    assert not (words & {n for n in names if len(n) >= 3})


def test_matrix_pair_by_pair_equals_one_call() -> None:
    catalog = Catalog.load(sample_path("city"))
    from workbench.ui.linkage import CatalogFrames

    frames = CatalogFrames(catalog)
    names = ["clinic", "housing", "voters"]
    cw = propose(catalog, frames, names)
    steps: list[tuple[int, int]] = []
    d = matrix_by_pairs(
        catalog, names, cw, frames, progress=lambda a, b, m="": steps.append((a, b))
    )
    ref = join_risk_matrix(catalog, datasets=names, crosswalk=cw).to_dict()
    assert [p["datasets"] for p in d["pairs"]] == [p["datasets"] for p in ref["pairs"]]
    for got, want in zip(d["pairs"], ref["pairs"], strict=True):
        assert got["score"] == pytest.approx(want["score"])
        assert got["advice_detail"] == want["advice"]
        assert got["advice"] == want["advice"]["decision"].replace("_", " ")
    assert steps[0] == (0, 3) and steps[-1] == (3, 3)


def test_matrix_button_draws_the_heatmap(app) -> None:
    p = app.panel
    p.datasets.value = ("clinic", "social", "voters")
    p.matrix_button.click()
    assert p.errors.last_error is None
    heat = trace(p.matrix_slot)
    assert heat["type"] == "heatmap" and heat["x"] == ["clinic", "social", "voters"]
    assert "permit" in p.matrix_table.value or "isolated" in p.matrix_table.value
    assert p.matrix_progress.bar.value == p.matrix_progress.bar.max == 3


def test_fewer_than_two_datasets_is_explained(app) -> None:
    p = app.panel
    p.datasets.value = ("clinic",)
    p.matrix_button.click()
    assert "at least two" in p.errors.widget.value


# ------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def walk() -> TrainingWalkthrough:
    return TrainingWalkthrough()


def test_training_steps_show_counts_from_the_core(walk) -> None:
    walk.step1.click()
    walk.step2.click()
    walk.step3.click()
    assert walk.errors.last_error is None
    base = walk.results[next(iter(SCENARIOS))]
    assert f"{base['correct_unique_matches']:,}" in walk.out3.value
    assert "exactly one" in walk.out3.value and "withheld" in walk.out3.value
    assert "registered voters" in walk.out2.value
    texts = walk.out1.value + walk.out2.value + walk.out3.value
    voters = walk.frames.frame("voters")
    names = {n for n in set(voters["last_name"]) | set(voters["first_name"]) if len(n) >= 3}
    assert not (set(re.findall(r"[A-Za-z]+", texts)) & names)


def test_generalization_stops_the_attack(walk) -> None:
    walk.step3.click()
    walk.scenario.value = "both: year of birth and 3-digit postal code"
    base = walk.results[next(iter(SCENARIOS))]
    both = walk.results["both: year of birth and 3-digit postal code"]
    assert both["shared_qis"] == ["birth_year", "sex", "postal3"]
    assert both["correct_unique_matches"] < 0.05 * base["correct_unique_matches"]
    assert "the join stops working" in walk.out4.value
    chart = walk.slot.shown
    assert [t["name"] for t in chart["data"]][0] == "matched exactly one voter"
    assert chart["data"][1]["y"][-1] == both["correct_unique_matches"]
