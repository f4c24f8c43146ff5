"""Every notebook runs headless against the sample data (nbclient, real python3 kernel).

The parameters cell (tagged ``parameters``) is followed by an injected cell, as papermill
does, so each run can point its outputs at a temporary folder. The saved widget state is
checked for the numbers each notebook must show.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.slow


def run(name: str, **parameters) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert tagged, f"{name} has no cell tagged 'parameters'"
    if parameters:
        src = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
        cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
        cell["id"] = "injected-parameters"
        nb.cells.insert(tagged[0] + 1, cell)
    env_before = os.environ.get("WORKBENCH_PROVENANCE")
    os.environ["WORKBENCH_PROVENANCE"] = "off"
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
    finally:
        if env_before is None:
            os.environ.pop("WORKBENCH_PROVENANCE", None)
        else:
            os.environ["WORKBENCH_PROVENANCE"] = env_before
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    return nb


def widget_text(nb: nbformat.NotebookNode) -> str:
    """HTML values, Output contents, descriptions and CSS classes of the saved widgets."""
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    parts = []
    for model in state.values():
        st = model.get("state", {})
        if isinstance(st.get("value"), str):
            parts.append(st["value"])
        for out in st.get("outputs", []) or []:
            parts.append(json.dumps(out.get("data", {})))
        if isinstance(st.get("description"), str):
            parts.append(st["description"])
        parts.extend(st.get("_dom_classes") or [])
    return "\n".join(parts)


def shows_a_widget(nb: nbformat.NotebookNode) -> bool:
    last = nb.cells[-1]
    return any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for o in last.get("outputs", [])
    )


def test_all_notebooks_are_thin_and_parameterised() -> None:
    for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        assert len(code) <= 3, path.name
        assert sum(len(c.source.splitlines()) for c in code) < 40, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert all(not c.get("outputs") for c in code), f"{path.name} has saved outputs"


def test_01_explore_risk(tmp_path) -> None:
    nb = run("01_explore_risk.ipynb", output_dir=str(tmp_path), population_size=20000)
    assert shows_a_widget(nb)
    text = widget_text(nb)
    assert "wb-risk-summary" in text and "k = 1" in text and "records at risk" in text
    assert "Records by equivalence-class size" in text
    assert "Estimated population uniques" in text
    assert "Quasi-identifiers" in text  # the QI picker's description
    assert list(tmp_path.iterdir()) == []  # nothing is written until a button is pressed


def test_01_with_a_server_file_and_chosen_qis(tmp_path, adult_csv) -> None:
    nb = run(
        "01_explore_risk.ipynb",
        data_path=str(adult_csv),
        qis=["age", "sex", "race"],
        output_dir=str(tmp_path),
    )
    text = widget_text(nb)
    assert "30,162" in text
    assert "Quasi-identifiers: sex, age, race" in text  # file order


def test_02_cross_department(tmp_path) -> None:
    nb = run("02_cross_department.ipynb", output_dir=str(tmp_path))
    assert shows_a_widget(nb)
    text = widget_text(nb)
    for name in ("clinic", "housing", "social", "transit", "voters"):
        assert name in text
    assert "Propose crosswalk" in text and "Compute join-risk matrix" in text


def test_03_tune_deidentification(tmp_path) -> None:
    nb = run("03_tune_deidentification.ipynb", output_dir=str(tmp_path), k=10)
    text = widget_text(nb)
    assert "wb-tuner-summary" in text and "meets the targets" in text
    assert "Risk before and after de-identification" in text
    assert "information loss" in text


def test_04_training(tmp_path) -> None:
    nb = run("04_training_linkage_attack.ipynb")
    text = widget_text(nb)
    assert "1. Look at the clinic extract" in text and "3. Link the two" in text


def test_ethics_review_dashboard_verdict_and_leak_refusal(tmp_path) -> None:
    """The dashboard notebook shows the verdict box first; a hand-edited bundle is refused."""
    from test_review_consistency import PLANTED, planted_bundle

    from workbench.review.bundle import AssessmentBundle

    clean = json.loads(planted_bundle(tmp_path, "none").read_text())
    clean_path = AssessmentBundle.from_dict(clean).save(tmp_path / "clean.json")
    nb = run("dashboard/ethics_review.ipynb", bundle_path=str(clean_path))
    # the review is a static output (written into the Voila page), not widget state
    static = [
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if (o.get("metadata") or {}).get("workbench", {}).get("static")
    ]
    assert len(static) == 1
    text = static[0]
    assert "wb-verdict" in text and "No policy was checked" in text
    assert "wb-verdict" not in widget_text(nb)  # no copy in the widget state
    assert text.index("wb-verdict") < text.index("Re-identification risk")

    nb = run("dashboard/ethics_review.ipynb", bundle_path=str(planted_bundle(tmp_path)))
    text = widget_text(nb) + json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "cannot be reviewed" in text and "wb-verdict" not in text
    for value in PLANTED.values():
        for part in value.split():
            assert part not in text


def test_05_differential_privacy(tmp_path) -> None:
    ledger = tmp_path / "residents.jsonl"
    nb = run("05_differential_privacy.ipynb", ledger_path=str(ledger), epsilon=0.25)
    assert shows_a_widget(nb)
    text = widget_text(nb)
    assert "wb-dp-accuracy" in text and "95 % of the time" in text
    assert "Nothing has been spent" in text
    assert "How wrong will the statistics be?" in text  # the error-against-epsilon chart
    assert not ledger.exists()  # moving sliders and showing accuracy spends nothing


def test_06_synthetic_data(tmp_path) -> None:
    """Generated once while the notebook runs: the ledger is charged, both releases judged."""
    from workbench.dp import Ledger

    ledger = tmp_path / "residents.jsonl"
    nb = run(
        "06_synthetic_data.ipynb",
        ledger_path=str(ledger),
        output_dir=str(tmp_path / "out"),
        generate_now=True,
    )
    assert shows_a_widget(nb)
    text = widget_text(nb)
    assert "wb-synth-compare" in text and "5-anonymous release" in text
    assert "singling out risk" in text and "voter-roll linkage" in text
    assert "Why sample uniques here are not people" in text
    assert "wb-synth-done" in text and "wb-synth-refused" not in text
    assert Ledger(ledger).state().spent.epsilon == pytest.approx(1.0)
    assert not (tmp_path / "out").exists()  # nothing is saved until the button is pressed
