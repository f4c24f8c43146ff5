"""Candidate explorer: every lattice node, sortable/filterable, two side by side."""

from __future__ import annotations

import numpy as np
from _helpers_ui import random_frame, store_for

from workbench.dataset import Dataset
from workbench.deid import exhaustive_search
from workbench.ui.candidates import CandidatePanel
from workbench.ui.tuner import TunerPanel


def _setup():
    store = store_for(random_frame(400), ["age", "sex", "zip"], ["diagnosis"], ["record_id"])
    tuner = TunerPanel(store, k=5, suppression=0.02, auto_search=False)
    return store, tuner, CandidatePanel(store, tuner)


def test_every_node_is_listed_and_the_best_acceptable_one_is_the_optimum() -> None:
    store, tuner, panel = _setup()
    panel.list_button.click()
    assert panel.errors.last_error is None
    ctx = tuner.ctx
    assert len(panel.rows) == int(np.prod(ctx.heights)) and len(panel.rows) > 4
    ok = [r for r in panel.rows if r["acceptable"]]
    assert ok and len(ok) < len(panel.rows)  # some pass, some fail: the filter matters
    ref = exhaustive_search(ctx, tuner.criteria(), "loss")
    best = panel.visible()[0]  # default: only acceptable, least loss first
    assert best["loss"] == min(r["loss"] for r in ok)
    assert best["loss"] == ref.score
    # each row agrees with the tuner's own view of the same levels (released records)
    for r in (panel.rows[0], panel.rows[len(panel.rows) // 2], ok[0]):
        tuner.set_levels(r["levels"])
        after = store.state.risk_after
        assert (r["k"], r["suppressed"]) == (after["min_class_size"], after["suppressed"])
    panel.only_ok.value = False
    assert len(panel.visible()) == len(panel.rows)
    panel.sort.value = "suppressed"
    sup = [r["suppressed"] for r in panel.visible()]
    assert sup == sorted(sup)
    panel.sort.value = "k"
    ks = [r["k"] for r in panel.visible()]
    assert ks == sorted(ks, reverse=True)


def test_two_candidates_side_by_side_and_lattice_drawn() -> None:
    store, tuner, panel = _setup()
    panel.list_button.click()
    a, b = panel.rows[1], panel.rows[-1]
    panel.pick_a.value, panel.pick_b.value = a["id"], b["id"]
    text = panel.side.value
    assert "level of age" in text and f"<td>{a['levels']['age']}</td>" in text
    assert f"{b['suppressed']:,}" in text
    fig = panel.lattice.figure
    assert fig is not None
    assert sum(len(t.x) for t in fig.data) == len(panel.rows)
    assert {t.name for t in fig.data} == {"meets the targets", "fails"}


def test_candidates_are_cleared_when_the_dataset_changes() -> None:
    store, tuner, panel = _setup()
    panel.list_button.click()
    assert panel.rows
    store.load_dataset(
        Dataset.from_frame(random_frame(100, seed=3), name="x"), roles=store.state.roles
    )
    assert panel.rows == [] and panel.table.value == "" and panel.pick_a.options == ()
