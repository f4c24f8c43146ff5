"""Review summary: build the assessment bundle from the state and save it with the rationale.

The bundle holds aggregates only. Before it is written, :meth:`AssessmentBundle.save` scans it
for every value of the datasets' direct identifiers (``identifier_values``) and refuses to
save if one appears. The file goes into the output folder the notebook names, under a name
derived from the notebook's title (sanitised): never a path typed into a widget.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .._io import sha256_file
from ..review.bundle import AssessmentBundle, identifier_values
from ._common import ErrorBox, guarded
from .state import AppState, Store, reacting, safe_name

__all__ = ["SummaryPanel", "build_bundle", "forbidden_values", "risk_after"]


def risk_after(state: AppState, released: Any = None) -> Any:
    """The risk after de-identification the bundle shows.

    With the transformed table (``released``: suppressed records' QIs are ``*``) it is the full
    profile of the released records, assessed like ``state.risk`` (same threshold, sensitive
    attributes and population), so every measure has a before and an after. Without it, the
    tuner's live summary (k, class sizes, prosecutor risk only; the rest shows "not computed").
    """
    if not state.transform_config:
        return None
    if released is None or state.dataset is None or not state.qis:
        return state.risk_after
    from ..review.assessment import released_rows
    from ..risk import assess

    kept = released_rows(released, state.qis)
    if not len(kept):
        return state.risk_after
    weights = state.weights if state.weights in kept.columns else None
    return assess(
        kept,
        list(state.qis),
        sensitive=[c for c in state.sensitive if c in kept.columns],
        threshold=state.threshold,
        population_size=state.population_size,
        weights=weights,
    )


def build_bundle(
    state: AppState,
    title: str,
    rationale: str = "",
    author: str | None = None,
    released: Any = None,
) -> AssessmentBundle:
    """An :class:`AssessmentBundle` of everything the state holds (aggregates only).

    ``released`` is the transformed table (from the tuner), for the full risk profile after.
    """
    datasets: list[Any] = []
    roles: dict[str, Any] = {}
    if state.dataset is not None:
        datasets.append(state.dataset)
        if state.roles is not None:
            roles[state.dataset.name] = state.roles
    if state.catalog is not None and (
        state.linkage is not None or state.matrix is not None or state.scenarios is not None
    ):
        names = list((state.matrix or {}).get("datasets") or [])
        for n in names or list(state.catalog.datasets):
            entry = state.catalog.entry(n)
            datasets.append(
                {
                    "name": n,
                    "department": entry.department,
                    "file": Path(entry.file).name,
                    "roles": {
                        c: getattr(r, "value", r)
                        for c, r in (entry.roles.roles.items() if entry.roles else ())
                    },
                }
            )
    risk_before = state.risk.to_dict() if state.risk is not None else None
    return AssessmentBundle.build(
        title,
        datasets=datasets,
        roles=roles,
        risk_before=risk_before,
        risk_after=risk_after(state, released),
        transformation=dict(state.transform_config) if state.transform_config else None,
        rationale=rationale,
        utility=state.utility,
        distributions=state.distributions if state.transform_config else None,
        frontier=state.frontier,
        linkage=state.linkage,
        matrix=state.matrix,
        scenarios=state.scenarios,
        provenance=state.provenance,
        author=author or None,
    )


def forbidden_values(state: AppState, extra: Iterable[Any] = ()) -> set[str]:
    """Values that must never be written: the direct identifiers of every dataset in play."""
    out = {str(v) for v in extra}
    if state.dataset is not None and state.roles is not None:
        out |= identifier_values(state.dataset, state.direct_identifiers)
    return out


class SummaryPanel:
    """Rationale + author, "Save assessment bundle", and a short preview of what it holds.

    Parameters
    ----------
    store : Store
    output_dir : path, optional
        Folder the bundle is written to (from the notebook's parameters).
    title : str, optional
        Bundle title; also the file name stem (sanitised). Default: ``"<kind>: <dataset>"``
        for the dataset current when saving.
    kind : str
        What was assessed, for the default title.
    forbidden : callable, optional
        ``state -> values`` checked in addition to the loaded dataset's direct identifiers
        (the cross-department notebook adds every catalog dataset's).
    released : callable, optional
        ``() -> table``: the transformed table (the tuner's), so the bundle holds the full risk
        profile after de-identification.
    """

    def __init__(
        self,
        store: Store,
        output_dir: str | Path | None = None,
        title: str | None = None,
        forbidden: Any = None,
        kind: str = "Privacy assessment",
        released: Any = None,
    ) -> None:
        self.store = store
        self.released = released
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self._title = title
        self.kind = kind
        self.extra_forbidden = forbidden
        self.errors = ErrorBox()
        self.path: Path | None = None
        self.rationale = widgets.Textarea(
            value="",
            placeholder="Why this release is acceptable: purpose, recipients, safeguards, "
            "residual risk.",
            description="Rationale",
            layout=widgets.Layout(width="720px", height="110px"),
        )
        self.rationale.add_class("wb-rationale")
        self.author = widgets.Text(value="", description="Officer")
        self.save = widgets.Button(
            description="Save assessment bundle",
            icon="save",
            button_style="success",
            layout=widgets.Layout(width="auto"),
        )
        self.save.add_class("wb-save-bundle")
        self.save.layout.display = "" if self.output_dir is not None else "none"
        self.contents = widgets.HTML("")
        self.status = widgets.HTML("")
        self.status.add_class("wb-bundle-status")
        self.save.on_click(guarded(self.errors)(self._on_save))
        store.subscribe(reacting(self.errors)(self._on_state))
        self._on_state(store.state, frozenset())
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>Assessment bundle for the ethics review</h3><p>Aggregates only: "
                    "numbers and charts, never records. Saving checks that no value of a "
                    "direct identifier is in it.</p>"
                ),
                self.contents,
                self.author,
                self.rationale,
                self.save,
                self.status,
                self.errors.widget,
            ]
        )

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        parts = []
        if state.dataset is not None:
            parts.append(f"dataset {html.escape(state.dataset.name)}")
        if state.risk is not None:
            parts.append("risk profile")
        if state.transform_config:
            parts.append("transformation, risk after, utility and distributions")
        if state.frontier:
            parts.append("risk-utility frontier")
        if state.linkage is not None:
            parts.append("linkage preview")
        if state.matrix:
            parts.append("join-risk matrix")
        if state.provenance:
            parts.append(f"{len(state.provenance)} provenance record(s)")
        self.contents.value = (
            "<div class='wb-bundle-contents'>The bundle will hold: "
            + (", ".join(parts) if parts else "nothing yet")
            + ".</div>"
        )

    @property
    def title(self) -> str:
        if self._title:
            return self._title
        ds = self.store.state.dataset
        return f"{self.kind}: {ds.name}" if ds is not None else self.kind

    def bundle(self) -> AssessmentBundle:
        st = self.store.state
        table = self.released() if self.released is not None and st.transform_config else None
        return build_bundle(
            st, self.title, self.rationale.value.strip(), self.author.value.strip(), table
        )

    def save_bundle(self) -> Path:
        """Build, leak-check and write the bundle; returns its path."""
        if self.output_dir is None:
            from ..errors import ParameterError

            raise ParameterError("output_dir", None, "an output folder given by the notebook")
        state = self.store.state
        extra = self.extra_forbidden(state) if self.extra_forbidden is not None else ()
        path = self.output_dir / f"{safe_name(self.title, default='assessment')}.bundle.json"
        bundle = self.bundle()
        bundle.save(path, forbidden=forbidden_values(state, extra))
        from ..governance import record_operation

        record_operation(
            "release-bundle",
            inputs=[state.dataset] if state.dataset is not None else [],
            outputs=[path],
            parameters={
                "title": self.title,
                "rationale": self.rationale.value.strip(),
                "source": "notebook",
            },
        )
        self.path = path
        return path

    def _on_save(self, _: Any = None) -> None:
        path = self.save_bundle()
        self.status.value = (
            f"<div class='wb-bundle-saved'>Saved <b>{html.escape(path.name)}</b> "
            f"(sha256 {sha256_file(path)[:12]}). Open it with <code>workbench dashboard "
            f"{html.escape(path.name)}</code> or <code>workbench report</code>.</div>"
        )
