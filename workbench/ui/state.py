"""The one application state the panels share, and the store that replaces it.

Panels never mutate results in place: :class:`AppState` is a frozen dataclass and every change
is a new value made with :func:`dataclasses.replace`. The :class:`Store` holds the current value
and tells subscribers which fields changed, so each panel refreshes only what it shows. A
subscriber may itself call :meth:`Store.set` (roles change -> the risk panel assesses -> the risk
changes); such nested changes are queued and delivered after the current round, so every
subscriber always sees the latest state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from ..dataset import Dataset
from ..errors import ParameterError

__all__ = ["AppState", "Store", "Subscriber", "safe_name", "DATASET_FIELDS", "reacting"]

Subscriber = Callable[["AppState", frozenset[str]], None]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_MAX_ROUNDS = 50


@dataclass(frozen=True, eq=False)
class AppState:
    """Everything the panels have computed so far, for one dataset (or one catalog).

    Attributes
    ----------
    dataset : Dataset or None
        The loaded data (never printed: its repr shows size only).
    suggestions : RoleSuggestions or None
        What :func:`workbench.profiling.roles.suggest_roles` proposed (reasons shown next to each role).
    roles : RoleMap or None
        The confirmed roles; QIs and sensitive attributes drive every measure.
    risk : RiskProfile or None
        Risk of the data as loaded, for ``roles.quasi_identifiers``.
    threshold : float
        Highest acceptable risk of a record (records at risk are above it).
    weights, household : str or None
        Sampling-weight and household-id columns (Benedetti-Franconi individual risk and
        household risk, as in sdcMicro).
    population_size : float or None
        Size of the population the data was drawn from (population-uniqueness models).
    transform : AnonymizationResult or None
        The chosen de-identification (levels, criteria), from the tuner.
    transform_config : Mapping
        The tuner's settings as saved to JSON (hierarchy kinds, levels, criteria).
    risk_after : Mapping or None
        Risk of the released records after the transformation (``to_dict`` shape).
    utility : UtilityReport or None
        Utility of the transformed data compared with the original.
    distributions : Mapping
        ``{column: {"before": shares, "after": shares}}`` (aggregates only).
    frontier : Mapping or None
        The risk-utility frontier in the chart/bundle shape.
    catalog : Catalog or None
        The department catalog (cross-department notebook).
    crosswalk : Crosswalk or None
        The reviewed crosswalk (entries confirmed or rejected by the officer).
    linkage : LinkageResult or None
        The latest linkage preview.
    matrix : Mapping or None
        The join-risk matrix (``to_dict`` shape with plain advice words).
    scenarios : Mapping or None
        The threat-scenario matrix (``ScenarioMatrix.to_dict`` shape; aggregates only).
    provenance : tuple of Mapping
        Provenance records of the outputs saved in this session.
    """

    dataset: Dataset | None = None
    suggestions: Any = None
    roles: Any = None
    risk: Any = None
    threshold: float = 0.2
    population_size: float | None = None
    weights: str | None = None
    household: str | None = None
    transform: Any = None
    transform_config: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    risk_after: Mapping[str, Any] | None = None
    utility: Any = None
    distributions: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    frontier: Mapping[str, Any] | None = None
    catalog: Any = None
    crosswalk: Any = None
    linkage: Any = None
    matrix: Mapping[str, Any] | None = None
    scenarios: Mapping[str, Any] | None = None
    provenance: tuple[Mapping[str, Any], ...] = ()
    revision: int = 0

    @property
    def qis(self) -> tuple[str, ...]:
        """The confirmed quasi-identifiers (empty without roles)."""
        return tuple(self.roles.quasi_identifiers) if self.roles is not None else ()

    @property
    def sensitive(self) -> tuple[str, ...]:
        return tuple(self.roles.sensitive) if self.roles is not None else ()

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        return tuple(self.roles.direct_identifiers) if self.roles is not None else ()

    def __repr__(self) -> str:  # never show data
        return (
            f"AppState(dataset={self.dataset!r}, qis={list(self.qis)}, "
            f"risk={'yes' if self.risk is not None else 'no'}, revision={self.revision})"
        )


#: Fields that describe results computed from the current dataset; reset when it changes.
DATASET_FIELDS = (
    "population_size",
    "weights",
    "household",
    "suggestions",
    "roles",
    "risk",
    "transform",
    "transform_config",
    "risk_after",
    "utility",
    "distributions",
    "frontier",
)

_FIELD_NAMES = frozenset(f.name for f in fields(AppState)) - {"revision"}


class Store:
    """Holds the current :class:`AppState`; panels subscribe to its changes.

    Examples
    --------
    >>> store = Store()
    >>> seen = []
    >>> _ = store.subscribe(lambda state, changed: seen.append(sorted(changed)))
    >>> _ = store.set(threshold=0.1)
    >>> seen, store.state.threshold
    ([['threshold']], 0.1)
    """

    def __init__(self, state: AppState | None = None) -> None:
        self._state = state or AppState()
        self._subscribers: list[Subscriber] = []
        self._pending: set[str] = set()
        self._notifying = False

    @property
    def state(self) -> AppState:
        return self._state

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(state, changed_fields)`` after every change; returns an unsubscribe function."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def set(self, **changes: Any) -> AppState:
        """Replace the state with ``changes`` applied and notify subscribers."""
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise ParameterError(
                "changes", sorted(unknown), f"fields of AppState: {sorted(_FIELD_NAMES)}"
            )
        self._state = replace(self._state, **changes, revision=self._state.revision + 1)
        self._pending |= set(changes)
        self._flush()
        return self._state

    def load_dataset(
        self, dataset: Dataset, suggestions: Any = None, roles: Any = None
    ) -> AppState:
        """Start over with a new dataset: every result of the previous one is dropped."""
        reset = {name: getattr(AppState(), name) for name in DATASET_FIELDS}
        reset.update(suggestions=suggestions, roles=roles)
        return self.set(dataset=dataset, **reset)

    def _flush(self) -> None:
        if self._notifying:
            return
        self._notifying = True
        try:
            rounds = 0
            while self._pending:
                rounds += 1
                if rounds > _MAX_ROUNDS:  # pragma: no cover - a subscriber loop is a bug
                    raise RuntimeError(
                        "state changes did not settle (subscribers keep changing it)"
                    )
                changed = frozenset(self._pending)
                self._pending = set()
                for fn in list(self._subscribers):
                    fn(self._state, changed)
        finally:
            self._notifying = False


def reacting(errors: Any) -> Callable[[Subscriber], Subscriber]:
    """Wrap a panel's state subscriber: errors go to the panel's ``ErrorBox``.

    Unlike :func:`workbench.ui._common.guarded` (for the user's own actions, which starts by
    clearing the box), a reaction to someone else's change leaves the panel's message alone:
    a state change elsewhere must not wipe the explanation of the panel's last action.
    """

    def deco(fn: Subscriber) -> Subscriber:
        def wrapper(state: AppState, changed: frozenset[str]) -> None:
            try:
                fn(state, changed)
            except Exception as exc:  # shown in the panel, logged server-side
                errors.show(exc)

        wrapper.__name__ = getattr(fn, "__name__", "subscriber")
        return wrapper

    return deco


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: Any, default: str = "data", max_len: int = 60) -> str:
    """A file-name stem made only of letters, digits, ``_ . -`` (never a path).

    Used for output names derived from dataset names, which may come from an uploaded file's
    name: untrusted text must not choose where files are written.
    """
    stem = _SAFE.sub("_", str(text or "")).strip("._-")[:max_len]
    return stem or default
