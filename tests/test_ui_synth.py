"""The synthetic-data panel: choosing spends nothing; generating charges the ledger or is refused;
the synthetic table and its k-anonymous alternative are judged side by side; save writes the
table, the bundle and the report."""

from __future__ import annotations

import json

import pytest

from workbench.dp import Ledger

pytest.importorskip("ipywidgets")

from workbench.ui.synth import UNIQUES_MEANING, SynthPanel

KEYS = {
    "birth_year": [str(y) for y in range(1900, 2027)],
    "household_size": [str(n) for n in range(1, 11)],
}
ON = "birth_year=dob,gender=sex,zip=postal_code"


def test_choosing_spends_nothing_and_says_where_each_domain_comes_from(tmp_path):
    panel = SynthPanel(keys=KEYS, ledger_path=tmp_path / "l.jsonl", delta=1e-6)
    text = panel.domains.value
    assert "birth_year</b>: categories given (127)" in text
    assert "gender</b>: categories declared in the catalog (3)" in text
    assert "zip</b>: discovered under DP" in text
    assert "Reading them from the data" not in text
    panel.delta.value = 0.0  # zip has no public domain and no budget to discover it
    assert "Reading them from the data would leak them" in panel.domains.value
    panel.epsilon.value = 0.3
    assert not (tmp_path / "l.jsonl").exists()
    assert panel.target.value == "income_band"
    assert "application_id" not in panel.columns.options  # a direct identifier
    assert "person_key" not in panel.columns.options  # the privacy unit


def test_past_the_budget_generation_is_refused_and_the_ledger_untouched(tmp_path):
    panel = SynthPanel(keys=KEYS, ledger_path=tmp_path / "l.jsonl", epsilon=2.5)
    panel.generate_button.click()
    assert panel.errors.last_error is None
    assert "Refused" in panel.outcome.value and "wb-synth-refused" in panel.outcome.value
    assert panel.result is None and panel.busy.value == ""
    assert not panel.generate_button.disabled
    assert not (tmp_path / "l.jsonl").exists()


def test_too_few_columns_is_shown_in_the_panel(tmp_path):
    panel = SynthPanel(keys=KEYS, ledger_path=tmp_path / "l.jsonl")
    panel.columns.value = ("gender",)
    panel.generate_button.click()
    assert "at least two columns" in (panel.errors.last_error or "")


@pytest.mark.slow
def test_generate_compare_save_then_refuse(tmp_path):
    ledger = tmp_path / "l.jsonl"
    panel = SynthPanel(
        keys=KEYS, on=ON, ledger_path=ledger, output_dir=tmp_path / "out", epsilon=1.0, k=4
    )
    assert panel.save_button.disabled
    panel.generate_button.click()
    assert panel.errors.last_error is None, panel.errors.last_error
    state = Ledger(ledger).state()
    assert state.spent.epsilon == pytest.approx(1.0) and state.budget.epsilon == 2.0
    train, hold = panel.split()
    assert set(train["person_key"]).isdisjoint(set(hold["person_key"]))
    assert len(train) + len(hold) == len(panel.src.data)
    compare = panel.compare.value
    assert "<th>synthetic</th><th>4-anonymous release</th>" in compare
    for row in ("singling out risk", "linkability risk", "inference risk", "exact copies",
                "voter-roll linkage", "two-way total variation"):  # fmt: skip
        assert row in compare
    assert UNIQUES_MEANING in panel.uniques.value and "synthetic uniques" in panel.uniques.value
    assert panel.chart.figure is not None and len(panel.chart.figure.data) == 2
    assert "spent <b>1</b>" in panel.ledger_out.value and "by Housing" in panel.ledger_out.value
    # every attack ran on both releases, with the same targets
    names = [a.attack for a in panel.evaluation.attacks]
    assert names == [a.attack for a in panel.alternative_evaluation.attacks]

    paths = panel.save()
    for p in paths.values():
        assert p.exists()
    bundle = json.loads(paths["bundle"].read_text())
    alt = bundle["synthetic"]["k_anonymous_alternative"]
    assert alt["k"] == 4 and "privacy" in alt and "fidelity" in alt
    text = paths["bundle"].read_text() + paths["report"].read_text()
    for value in panel.src.data["application_id"].astype(str).head(50):
        assert value not in text
    assert "Synthetic data" in paths["report"].read_text()

    panel.epsilon.value = 1.5  # 1 + 1.5 > 2
    panel.generate_button.click()
    assert "Refused" in panel.outcome.value
    assert Ledger(ledger).state().spent.epsilon == pytest.approx(1.0)
