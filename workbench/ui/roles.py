"""Role picker: one dropdown per column, pre-filled from the suggestions, with their reasons.

The officer confirms or overrides each suggested role; every change replaces ``state.roles``
(a new :class:`~workbench.profiling.roles.RoleMap`), and the risk and tuner panels follow.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..profiling.roles import Role, RoleMap
from ._common import ErrorBox, guarded
from .state import AppState, Store, reacting, safe_name

__all__ = ["RolesPanel", "ROLE_LABELS", "with_quasi_identifiers"]

#: Dropdown labels for the roles, in plain words.
ROLE_LABELS: tuple[tuple[str, Role], ...] = (
    ("direct identifier", Role.DIRECT_IDENTIFIER),
    ("quasi-identifier", Role.QUASI_IDENTIFIER),
    ("sensitive", Role.SENSITIVE),
    ("other", Role.OTHER),
)


def with_quasi_identifiers(roles: RoleMap, qis: Iterable[str]) -> RoleMap:
    """``roles`` with exactly ``qis`` as quasi-identifiers (dropped QIs become ``other``)."""
    wanted = set(qis)
    overrides: dict[str, Role] = {}
    for col in roles.columns:
        current = roles.role_of(col)
        if col in wanted and current != Role.QUASI_IDENTIFIER:
            overrides[col] = Role.QUASI_IDENTIFIER
        elif col not in wanted and current == Role.QUASI_IDENTIFIER:
            overrides[col] = Role.OTHER
    return roles.with_roles(overrides) if overrides else roles


class RolesPanel:
    """Per-column role dropdowns (``description`` = column name) and a role summary."""

    def __init__(self, store: Store, output_dir: str | Path | None = None) -> None:
        self.store = store
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.errors = ErrorBox()
        self.dropdowns: dict[str, widgets.Dropdown] = {}
        self._syncing = False
        self.rows = widgets.VBox([])
        self.summary = widgets.HTML(value="")
        self.summary.add_class("wb-roles-summary")
        self.reset = widgets.Button(
            description="Reset to suggestions", icon="undo", layout=widgets.Layout(width="auto")
        )
        self.reset.on_click(guarded(self.errors)(self._on_reset))
        self.save = widgets.Button(
            description="Save roles (JSON)", icon="save", layout=widgets.Layout(width="auto")
        )
        self.save.on_click(guarded(self.errors)(self._on_save))
        self.save.layout.display = "" if self.output_dir is not None else "none"
        self.saved = widgets.HTML(value="")
        store.subscribe(reacting(self.errors)(self._on_state))
        self._build(store.state)
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>2. Roles</h3><p>Confirm or change the suggested role of each column. "
                    "Quasi-identifiers are what an attacker may know from elsewhere; direct "
                    "identifiers are removed before any release.</p>"
                ),
                self.rows,
                self.summary,
                widgets.HBox([self.reset, self.save]),
                self.saved,
                self.errors.widget,
            ]
        )

    # ------------------------------------------------------------------ building
    def _build(self, state: AppState) -> None:
        self.dropdowns = {}
        rows = []
        if state.dataset is None or state.roles is None:
            self.rows.children = ()
            self.summary.value = ""
            return
        reasons = {}
        if state.suggestions is not None:
            reasons = {s.column: s for s in state.suggestions.suggestions}
        for col in state.dataset.columns:
            role = state.roles.role_of(col) if col in state.roles else Role.OTHER
            dd = widgets.Dropdown(
                options=list(ROLE_LABELS),
                value=role,
                description=col,
                style={"description_width": "180px"},
                layout=widgets.Layout(width="360px", flex="0 0 auto"),
            )
            dd.add_class("wb-role")
            dd.observe(guarded(self.errors)(self._on_role), names="value")
            self.dropdowns[col] = dd
            s = reasons.get(col)
            why = (
                f"suggested {s.role.value.replace('_', ' ')} ({s.confidence:.0%}): {s.reason}"
                if s is not None
                else ""
            )
            rows.append(
                widgets.HBox(
                    [dd, widgets.HTML(f"<span style='color:#555'>{html.escape(why)}</span>")]
                )
            )
        self.rows.children = tuple(rows)
        self._summarize(state.roles)

    def _summarize(self, roles: RoleMap) -> None:
        def names(cols: Iterable[str]) -> str:
            cols = list(cols)
            return html.escape(", ".join(cols)) if cols else "none"

        self.summary.value = (
            f"<div class='wb-roles-numbers'>Quasi-identifiers: <b>{names(roles.quasi_identifiers)}"
            f"</b>; sensitive: {names(roles.sensitive)}; direct identifiers: "
            f"{names(roles.direct_identifiers)}</div>"
        )

    # ------------------------------------------------------------------ events
    def _on_role(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        col = change["owner"].description
        roles = self.store.state.roles
        if roles is None or roles.role_of(col) == change["new"]:
            return
        self.store.set(roles=roles.with_role(col, change["new"]))

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if "dataset" in changed or "suggestions" in changed:
            self._build(state)
        elif "roles" in changed and state.roles is not None:
            self._syncing = True
            try:
                for col, dd in self.dropdowns.items():
                    if col in state.roles and dd.value != state.roles.role_of(col):
                        dd.value = state.roles.role_of(col)
            finally:
                self._syncing = False
            self._summarize(state.roles)

    def _on_reset(self, _: Any = None) -> None:
        st = self.store.state
        if st.suggestions is not None:
            self.store.set(roles=st.suggestions.role_map)

    def _on_save(self, _: Any = None) -> None:
        st = self.store.state
        if st.roles is None or st.dataset is None or self.output_dir is None:
            return
        path = self.output_dir / f"{safe_name(st.dataset.name)}.roles.json"
        sources = [st.dataset.source] if st.dataset.source else []
        st.roles.save(path, sources=[s for s in sources if not s.startswith("upload:")])
        self.saved.value = f"<span class='wb-saved'>Saved roles to {html.escape(path.name)}</span>"
