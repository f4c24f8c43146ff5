"""The DP panel: the slider only recomputes accuracy; the button charges the ledger or refuses."""

from __future__ import annotations

import pytest

from workbench.dp import Ledger

pytest.importorskip("ipywidgets")

from workbench.ui.dp import DPPanel  # noqa: E402


@pytest.fixture(autouse=True)
def _provenance(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))


def test_slider_changes_accuracy_without_spending(tmp_path):
    panel = DPPanel(ledger_path=tmp_path / "l.jsonl", epsilon=0.5)
    before = panel.accuracy.value
    panel.epsilon.value = 0.1
    assert panel.accuracy.value != before and "within ±" in panel.accuracy.value
    assert panel.curve.figure is not None
    assert not (tmp_path / "l.jsonl").exists()


def test_release_charges_then_refuses_past_the_budget(tmp_path):
    panel = DPPanel(ledger_path=tmp_path / "l.jsonl", epsilon=0.6)
    panel.release_button.click()
    assert panel.errors.last_error is None
    assert "Spent epsilon" in panel.release_out.value
    assert "female" in panel.release_out.value and "95 % interval" in panel.release_out.value
    state = Ledger(tmp_path / "l.jsonl").state()
    assert state.budget.epsilon == 1.0  # the clinic policy's dp_budget
    assert state.spent.epsilon == pytest.approx(0.6)
    assert panel.release_chart.figure is not None and panel.ledger_chart.figure is not None
    panel.release_button.click()  # 0.6 + 0.6 > 1.0
    assert "Refused" in panel.release_out.value
    assert Ledger(tmp_path / "l.jsonl").state().spent.epsilon == pytest.approx(0.6)


def test_bad_input_is_shown_in_the_panel(tmp_path):
    panel = DPPanel(ledger_path=tmp_path / "l.jsonl")
    panel.mean.value = "household_size"  # no bounds given
    assert "LOW:HIGH" in (panel.errors.last_error or "")
