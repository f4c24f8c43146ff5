"""The threat-scenario panel of notebook 02 against direct core calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.governance.catalog import Catalog
from workbench.review.charts import scenario_matrix_heatmap
from workbench.scenarios import Release, evaluate_scenarios, load_scenarios
from workbench.ui.scenarios import ScenarioPanel
from workbench.ui.state import Store

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(CITY / "catalog.yaml")


def test_panel_matrix_equals_the_core(catalog: Catalog, tmp_path: Path) -> None:
    panel = ScenarioPanel(Store(), catalog, tmp_path)
    assert {"neighbour", "journalist_voter_roll"} <= set(panel.scenarios)
    panel.releases.value = ("transit",)
    panel.chosen.value = ("neighbour", "nosy_colleague")
    panel.evaluate_button.click()
    assert panel.errors.last_error is None
    direct = evaluate_scenarios(
        [Release("transit", catalog.load_dataset("transit"), dataset="transit")],
        [s for s in load_scenarios([CITY / "scenarios"]) if s.name in panel.chosen.value],
        catalog,
    )
    assert [o.risk for o in panel.matrix.outcomes] == [o.risk for o in direct.outcomes]
    assert panel.store.state.scenarios["worst"] == direct.to_dict()["worst"]
    html = panel.table.value
    assert "Worst scenario per release" in html and "transit" in html
    fig = scenario_matrix_heatmap(panel.matrix)
    (trace,) = fig.data
    assert list(trace.y) == ["transit"] and list(trace.x) == list(panel.chosen.value)
    assert trace.z[0][0] == pytest.approx(direct.outcomes[0].risk)


def test_editing_a_scenario_validates_and_saves_a_copy(catalog: Catalog, tmp_path: Path) -> None:
    panel = ScenarioPanel(Store(), catalog, tmp_path)
    shipped = (CITY / "scenarios" / "neighbour.yaml").read_bytes()
    panel.editing.value = "neighbour"
    text = panel.editor.value.replace("risk_threshold: 0.2", "risk_threshold: 0.4")
    assert "risk_threshold: 0.4" in text
    panel.editor.value = text
    panel.apply_button.click()
    assert panel.errors.last_error is None
    assert panel.scenarios["neighbour"].risk_threshold == 0.4
    assert panel.scenarios["neighbour"].ground_truth.file.is_file()  # still the real truth file
    assert (tmp_path / "scenarios" / "neighbour.yaml").is_file()
    assert (CITY / "scenarios" / "neighbour.yaml").read_bytes() == shipped  # never overwritten
    panel.editor.value = "name: broken\nattacker: {model: hacker, knows: [x]}\n"
    panel.apply_button.click()  # a bad edit is shown in the panel, not raised
    assert "attacker.model" in (panel.errors.last_error or "")
    panel.editor.value = "x" * 70_000
    panel.apply_button.click()
    assert "at most" in (panel.errors.last_error or "")


def test_empty_selection_says_what_to_do(catalog: Catalog) -> None:
    panel = ScenarioPanel(Store(), catalog)
    panel.chosen.value = ()
    panel.evaluate_button.click()
    assert "at least one release and one scenario" in (panel.errors.last_error or "")


def test_dashboard_shows_the_scenario_matrix_and_a_stale_review() -> None:
    import pandas as pd

    from workbench.review.bundle import AssessmentBundle
    from workbench.scenarios import Scenario
    from workbench.ui.review import ReviewDashboard

    rel = Release("extract", pd.DataFrame({"zone": ["a", "a", "b"], "dx": ["x", "y", "x"]}))
    m = evaluate_scenarios([rel], [Scenario("nb", attacker_model="prosecutor", knows=("zone",))])
    doc = m.to_dict()
    doc["reassessment"] = {
        "releases": [
            {"release": "extract", "status": "stale", "words": "extract: stale, changed: voters"}
        ]
    }
    b = AssessmentBundle.build("Scenario review", scenarios=doc)
    shown = ReviewDashboard(b).body.outputs[0]["data"]["text/html"]
    assert "Threat scenarios" in shown and "worst is nb" in shown
    assert "stale" in shown and "changed: voters" in shown
