"""The shared state: a frozen value replaced by the store, subscribers told what changed."""

from __future__ import annotations

import dataclasses

import pytest
from _helpers_ui import store_for, tiny_frame

from workbench.errors import ParameterError
from workbench.ui.state import DATASET_FIELDS, AppState, Store, safe_name


def test_state_is_frozen_and_replaced_not_mutated() -> None:
    store = Store()
    before = store.state
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.threshold = 0.5  # type: ignore[misc]
    after = store.set(threshold=0.5)
    assert before.threshold == 0.2 and after.threshold == 0.5
    assert after is store.state and after is not before
    assert after.revision == before.revision + 1


def test_subscribers_get_changed_fields() -> None:
    store = Store()
    seen: list[tuple[float, frozenset]] = []
    unsubscribe = store.subscribe(lambda s, changed: seen.append((s.threshold, changed)))
    store.set(threshold=0.3, population_size=1000.0)
    assert seen == [(0.3, frozenset({"threshold", "population_size"}))]
    unsubscribe()
    store.set(threshold=0.4)
    assert len(seen) == 1


def test_nested_changes_are_queued_and_everyone_sees_the_latest_state() -> None:
    store = Store()
    log: list[str] = []

    def derive(state: AppState, changed: frozenset) -> None:
        if "threshold" in changed:  # a panel reacting by changing the state itself
            store.set(population_size=state.threshold * 1000)

    def watch(state: AppState, changed: frozenset) -> None:
        log.append(f"{sorted(changed)} t={state.threshold} n={state.population_size}")

    store.subscribe(derive)
    store.subscribe(watch)
    store.set(threshold=0.5)
    # the watcher sees the first round with the latest state, then the derived change
    assert log == ["['threshold'] t=0.5 n=500.0", "['population_size'] t=0.5 n=500.0"]


def test_unknown_field_is_a_clear_error() -> None:
    with pytest.raises(ParameterError, match="fields of AppState"):
        Store().set(nonsense=1)


def test_loading_a_dataset_drops_the_previous_results() -> None:
    store = store_for(tiny_frame(), ["age", "zip"])
    store.set(risk="old profile", frontier={"points": []}, population_size=50.0, threshold=0.3)
    store.load_dataset(store.state.dataset)
    st = store.state
    for name in DATASET_FIELDS:
        assert getattr(st, name) == getattr(AppState(), name), name
    assert st.threshold == 0.3  # a setting, not a result of the old dataset


def test_repr_never_shows_data() -> None:
    store = store_for(tiny_frame(), ["age", "zip"])
    text = repr(store.state)
    assert "11111" not in text and "r01" not in text
    assert "qis=['age', 'zip']" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clinic_visits", "clinic_visits"),
        ("../../etc/passwd", "etc_passwd"),
        ("/abs/path name.csv", "abs_path_name.csv"),
        ("..", "data"),
        ("", "data"),
        (None, "data"),
        ("Risk assessment: clinic", "Risk_assessment_clinic"),
    ],
)
def test_safe_name_never_makes_a_path(text, expected) -> None:
    out = safe_name(text)
    assert out == expected
    assert "/" not in out and "\\" not in out and not out.startswith(".")
