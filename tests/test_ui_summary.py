"""Summary panel: the bundle holds the state's aggregates, is leak-checked and saved safely."""

from __future__ import annotations

import json

import pytest
from _helpers_ui import random_frame, store_for

from workbench.review.bundle import AssessmentBundle, LeakError, check_no_leak, split_forbidden
from workbench.review.report import render_html
from workbench.ui.risk import RiskPanel
from workbench.ui.summary import SummaryPanel, build_bundle
from workbench.ui.tuner import TunerPanel


@pytest.fixture
def assessed(tmp_path):
    df = random_frame(400)
    store = store_for(df, ["age", "sex", "zip"], sensitive=["diagnosis"], direct=["record_id"])
    RiskPanel(store)
    TunerPanel(store)
    return store, df


def test_bundle_holds_the_state(assessed) -> None:
    store, df = assessed
    st = store.state
    b = build_bundle(st, "Test", rationale="because", author="officer")
    assert b.risk_before == json.loads(json.dumps(st.risk.to_dict()))
    assert b.risk_after["min_class_size"] == st.risk_after["min_class_size"]
    assert b.transformation["levels"] == st.transform_config["levels"]
    assert b.utility["records_original"] == 400
    assert set(b.distributions) == {"age", "sex", "zip"}
    assert b.datasets[0]["roles"]["record_id"] == "direct_identifier"
    assert b.rationale == "because" and b.author == "officer"
    html = render_html(b)  # the report renders it (the dashboard uses the same sections)
    assert "Re-identification risk" in html and "because" in html


def test_save_writes_a_loadable_bundle_named_from_the_title(assessed, tmp_path) -> None:
    store, df = assessed
    panel = SummaryPanel(store, tmp_path / "out", title="../../Risk: tiny")
    panel.rationale.value = "Research use under a data-sharing agreement."
    panel.save.click()
    assert panel.errors.last_error is None
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["Risk_tiny.bundle.json"]  # inside the output folder
    loaded = AssessmentBundle.load(files[0])
    assert loaded.rationale == "Research use under a data-sharing agreement."
    assert "Saved" in panel.status.value and "sha256" in panel.status.value
    text = files[0].read_text()
    assert not any(rid in text for rid in df["record_id"])  # aggregates only
    # the release is in provenance, with the bundle's hash
    import os

    from workbench._io import sha256_file
    from workbench.governance.provenance import ProvenanceLog

    last = ProvenanceLog(os.environ["WORKBENCH_PROVENANCE"]).records()[-1]
    assert last["operation"] == "release-bundle"
    assert last["outputs"][0]["sha256"] == sha256_file(files[0])


def test_an_identifier_in_the_rationale_blocks_saving(assessed, tmp_path) -> None:
    store, df = assessed
    panel = SummaryPanel(store, tmp_path, title="t")
    panel.rationale.value = f"checked record {df['record_id'].iloc[5]} by hand"
    panel.save.click()
    assert "identifier value(s) would be written" in panel.errors.last_error
    assert df["record_id"].iloc[5] not in panel.errors.widget.value  # the message never says which
    assert list(tmp_path.glob("*.json")) == []


def test_names_are_checked_as_whole_words() -> None:
    strict, words = split_forbidden(["V00012", "a.b@example.org", "Lin", "Mary Ann", "O'Neil"])
    assert strict == {"V00012", "a.b@example.org"}
    assert words == {"Lin", "Mary Ann", "O'Neil"}
    check_no_leak("Linking clinic to housing singles out 22%", words)  # no false alarm
    check_no_leak("Cross-department linkage", {"Cross"})
    for leak in ("patient Lin, 1962", "seen: Mary Ann.", "O'Neil"):
        with pytest.raises(LeakError):
            check_no_leak(leak, words)


def test_contents_line_follows_the_state(assessed) -> None:
    store, _ = assessed
    panel = SummaryPanel(store, None)
    assert "risk profile" in panel.contents.value
    assert "transformation" in panel.contents.value
    assert panel.save.layout.display == "none"  # no output folder: nothing to save to


def test_saved_bundle_holds_the_full_risk_after(assessed, tmp_path) -> None:
    """With the tuner's table the bundle's "after" has every measure the "before" has."""
    from workbench.review.figures import review_figures

    store, _ = assessed
    tuner = TunerPanel(store)
    panel = SummaryPanel(store, tmp_path, title="full", released=lambda: tuner.transformed()[0])
    panel.save.click()
    assert panel.errors.last_error is None
    b = AssessmentBundle.load(panel.path)
    figs = review_figures(b).figures
    assert [f.label for f in figs if not (f.has_before and f.has_after)] == []
    assert b.risk_after["min_class_size"] == store.state.risk_after["min_class_size"]
    assert b.risk_after["records"] == store.state.risk_after["records"]
    # without it, the live summary only: the review says which measures it lacks
    partial = review_figures(build_bundle(store.state, "partial")).figures
    assert "diagnosis: distinct l" in [f.label for f in partial if not f.has_after]
