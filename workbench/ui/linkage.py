"""Cross-department panel: catalog datasets, the reviewed crosswalk, linkage preview, matrix.

1. pick datasets from the catalog;
2. "Propose crosswalk" detects the fields that record the same fact in two datasets
   (:func:`workbench.linkage.propose_crosswalk`); the officer ticks the entries to confirm
   (unticked ones are rejected and never used);
3. "Preview linkage" simulates an attacker joining a released dataset with another one
   (:func:`workbench.linkage.link_exact`): records with no, one or several candidates, expected
   re-identifications and, for the synthetic city, the true re-identifications scored against
   the ground truth (attached in memory as a salted hash, never shown);
4. "Compute join-risk matrix" assesses every pair (:func:`workbench.linkage.join_risk_matrix`,
   one pair at a time so the progress bar moves) and shows the heatmap with the advice.
"""

from __future__ import annotations

import html
import itertools
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..governance.catalog import Catalog
from ..linkage import Crosswalk, join_risk_matrix, link_exact, propose_crosswalk
from ..linkage.crosswalk import hints_from_metadata
from ..review import charts
from ._charts_extra import FigureSlot, matrix_chart_dict
from ._common import ErrorBox, ProgressBar, guarded
from .state import Store, safe_name

__all__ = [
    "CrossDepartmentPanel",
    "CrossDepartmentApp",
    "CatalogFrames",
    "matrix_by_pairs",
    "TRUTH_COLUMN",
]

#: In-memory ground-truth column (salted hash of the resident) used only for scoring.
TRUTH_COLUMN = "_truth"


class CatalogFrames:
    """Loads each catalog dataset once; adds the demo ground truth for the synthetic city."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._frames: dict[str, pd.DataFrame] = {}
        self._truth: dict[str, pd.DataFrame | None] = {}

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = self.catalog.load_dataset(name).to_pandas()
        return self._frames[name]

    def with_truth(self, name: str) -> pd.DataFrame | None:
        """The frame plus :data:`TRUTH_COLUMN` (city only; ``None`` elsewhere)."""
        if name not in self._truth:
            from ..linkage.combine import attach_demo_key

            try:
                self._truth[name] = attach_demo_key(
                    self.catalog, name, self.frame(name), TRUTH_COLUMN
                )
            except Exception:  # no ground truth outside the synthetic city
                self._truth[name] = None
        return self._truth[name]

    def identifier_values(self, names: Any) -> set[str]:
        from ..review.bundle import identifier_values

        out: set[str] = set()
        for n in names:
            out |= identifier_values(self.frame(n), self.catalog.entry(n).direct_identifiers)
        return out


def propose(catalog: Catalog, frames: CatalogFrames, names: list[str]) -> Crosswalk:
    """Crosswalk proposal between the named datasets (direct identifiers never paired)."""
    exclude = {n: list(catalog.entry(n).direct_identifiers) for n in names}
    hints = {n: hints_from_metadata(catalog.entry(n).metadata) for n in names}
    return propose_crosswalk(
        {n: frames.frame(n) for n in names}, catalog.reference_date, exclude=exclude, hints=hints
    )


def matrix_by_pairs(
    catalog: Catalog,
    names: list[str],
    crosswalk: Crosswalk | None,
    frames: CatalogFrames,
    progress: Any = None,
) -> dict[str, Any]:
    """The join-risk matrix of ``names`` assessed pair by pair (``to_dict`` shape).

    Each pair is assessed from its two datasets only, so this equals one
    :func:`join_risk_matrix` call over all of them; going pair by pair lets the progress bar
    move and reuses the loaded frames.
    """
    pairs = list(itertools.combinations(names, 2))
    out_pairs = []
    doc: dict[str, Any] = {}
    for i, (a, b) in enumerate(pairs):
        if progress is not None:
            progress(i, len(pairs), f"{a} + {b}")
        m = join_risk_matrix(
            catalog,
            datasets=[a, b],
            crosswalk=crosswalk,
            frames={a: frames.frame(a), b: frames.frame(b)},
        )
        d = m.to_dict()
        out_pairs.extend(d["pairs"])
        doc = d
    if progress is not None:
        progress(len(pairs), len(pairs), "done")
    doc = {**doc, "datasets": list(names), "pairs": out_pairs, "triples": []}
    return matrix_chart_dict(doc)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def linkage_html(d: dict[str, Any], released: str, attacker: str) -> str:
    """Linkage preview numbers in plain words (class ``wb-linkage-summary``)."""
    n = d["released_records"]
    one = int(round(d["one_match"] * n))
    rows = [
        ("released records", f"{n:,} ({html.escape(released)})"),
        ("attacker's records", f"{d['attacker_records']:,} ({html.escape(attacker)})"),
        ("joined on", html.escape(", ".join(d.get("shared_qis") or []))),
        ("no match", f"{_pct(d['no_match'])}"),
        ("exactly one match", f"{_pct(d['one_match'])} ({one:,} records)"),
        ("several matches", f"{_pct(d['many_matches'])}"),
        (
            "expected re-identifications",
            f"{d['expected_reidentifications']:,.0f} "
            f"({_pct(d.get('expected_reidentification_rate'))})",
        ),
    ]
    if d.get("truth") is not None:
        rows.append(
            (
                "true re-identifications (ground truth)",
                f"{d['correct_unique_matches']:,} (precision {_pct(d.get('precision'))}, "
                f"recall {_pct(d.get('recall'))})",
            )
        )
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        "<div class='wb-linkage-summary'><table class='wb-table'><tbody>"
        f"{body}</tbody></table></div>"
    )


def pair_explanation(p: dict[str, Any]) -> str:
    """Why a pair scores as it does: what makes the likelihood and what makes the harm."""
    shared = ", ".join(p.get("shared_qis") or []) or "no shared facts"
    lik = float(p.get("likelihood") or 0)
    exposed = sorted(p.get("exposed") or [], key=lambda e: -float(e.get("weight") or 0))
    if exposed:
        top = exposed[0]
        harm = (
            f"harm {float(p.get('harm') or 0):.2f} because {top.get('dataset')}.{top.get('column')} "
            f"({str(top.get('category', '')).replace('_', ' ')}) would be exposed"
        )
    else:
        harm = f"harm {float(p.get('harm') or 0):.2f}: no sensitive attribute is exposed"
    return (
        f"likelihood {lik:.1%}: expected share of records re-identified by matching on "
        f"{shared}; {harm}; score {lik:.1%} x {float(p.get('harm') or 0):.2f} = "
        f"{float(p.get('score') or 0):.3f}"
    )


def matrix_table_html(d: dict[str, Any]) -> str:
    """One row per pair: score, level, decision, what to coarsen, first reasons."""
    rows = []
    for p in d.get("pairs") or []:
        adv = p.get("advice_detail") or {}
        coarsen = "; ".join(
            f"{c['dataset']}.{c['column']}: {c['from']} -> {c['to']}"
            for c in (adv.get("coarsen") or [])
        )
        rows.append(
            "<tr>"
            f"<td>{html.escape(' + '.join(p.get('datasets') or []))}</td>"
            f"<td>{float(p.get('likelihood') or 0):.1%}</td>"
            f"<td>{float(p.get('harm') or 0):.2f}</td>"
            f"<td>{float(p.get('score') or 0):.3f}</td>"
            f"<td class='wb-matrix-why'>{html.escape(pair_explanation(p))}</td>"
            f"<td>{html.escape(str(p.get('level', '')))}</td>"
            f"<td><b>{html.escape(str(p.get('advice', '')))}</b></td>"
            f"<td>{html.escape(coarsen)}</td>"
            f"<td>{html.escape('; '.join((p.get('reasons') or [])[:2]))}</td>"
            "</tr>"
        )
    return (
        "<table class='wb-table wb-matrix-table'><thead><tr><th>pair</th>"
        "<th>likelihood (re-identification rate)</th><th>harm (0-1)</th>"
        "<th>score = likelihood x harm</th><th>why it scores so</th>"
        "<th>level</th><th>advice</th><th>coarsen</th><th>reasons</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


class CrossDepartmentPanel:
    """Catalog picker, crosswalk review, linkage preview and join-risk matrix."""

    def __init__(
        self, store: Store, catalog: Catalog, output_dir: str | os.PathLike | None = None
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.frames = CatalogFrames(catalog)
        self.errors = ErrorBox()
        self.entry_boxes: list[tuple[Any, widgets.Checkbox]] = []
        g = guarded(self.errors)
        names = list(catalog.datasets)
        internal = [n for n in names if not catalog.entry(n).external]
        external = [n for n in names if catalog.entry(n).external]
        self.datasets = widgets.SelectMultiple(
            options=names, value=tuple(names), description="Datasets", rows=min(len(names), 8)
        )
        self.datasets.add_class("wb-catalog-picker")
        self.catalog_info = widgets.HTML(self._catalog_html())
        self.propose_button = widgets.Button(
            description="Propose crosswalk", icon="exchange", layout=widgets.Layout(width="auto")
        )
        self.propose_button.add_class("wb-propose-crosswalk")
        self.entries = widgets.VBox([])
        self.confirm_button = widgets.Button(
            description="Confirm crosswalk",
            icon="check",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        self.confirm_button.add_class("wb-confirm-crosswalk")
        self.save_crosswalk_button = widgets.Button(
            description="Save crosswalk with the catalog",
            icon="save",
            layout=widgets.Layout(width="auto"),
        )
        self.save_crosswalk_button.add_class("wb-save-crosswalk")
        self.crosswalk_status = widgets.HTML("")
        self.released = widgets.Dropdown(
            options=internal, value=internal[0] if internal else None, description="released"
        )
        self.attacker = widgets.Dropdown(
            options=names,
            value=(external or [n for n in names if n != self.released.value] or [None])[0],
            description="attacker",
        )
        self.link_button = widgets.Button(
            description="Preview linkage", icon="link", layout=widgets.Layout(width="auto")
        )
        self.link_button.add_class("wb-preview-linkage")
        self.link_summary = widgets.HTML("")
        self.link_slot = FigureSlot(None, "", css_class="wb-linkage-outcome")
        self.matrix_button = widgets.Button(
            description="Compute join-risk matrix",
            icon="th",
            button_style="warning",
            layout=widgets.Layout(width="auto"),
        )
        self.matrix_button.add_class("wb-matrix-button")
        self.matrix_progress = ProgressBar("pairs")
        self.matrix_slot = FigureSlot(None, "", css_class="wb-matrix-heatmap")
        self.matrix_table = widgets.HTML("")
        self.propose_button.on_click(g(self._on_propose))
        self.confirm_button.on_click(g(self._on_confirm))
        self.save_crosswalk_button.on_click(g(self._on_save_crosswalk))
        self.link_button.on_click(g(self._on_link))
        self.matrix_button.on_click(g(self._on_matrix))
        self.datasets.observe(g(self._on_datasets), names="value")
        if len(catalog.crosswalk):
            self._show_entries(catalog.crosswalk)
            self.store.set(crosswalk=catalog.crosswalk)
        self.ui = widgets.VBox(
            [
                widgets.HTML(f"<h3>1. Catalog: {html.escape(catalog.name)}</h3>"),
                self.catalog_info,
                self.datasets,
                widgets.HTML(
                    "<h3>2. Crosswalk</h3><p>Fields of two departments that record the same "
                    "fact (birth, postal code, sex...). Tick the entries you confirm; unticked "
                    "entries are rejected.</p>"
                ),
                self.propose_button,
                self.entries,
                widgets.HBox([self.confirm_button, self.save_crosswalk_button]),
                self.crosswalk_status,
                widgets.HTML(
                    "<h3>3. Linkage preview</h3><p>What an attacker holding the second dataset "
                    "learns by joining it with the first on the shared facts.</p>"
                ),
                widgets.HBox([self.released, self.attacker, self.link_button]),
                self.link_summary,
                self.link_slot.widget,
                widgets.HTML(
                    "<h3>4. Join-risk matrix</h3><p>Every pair: likelihood of re-identification "
                    "x harm of what is exposed, and the advice.</p>"
                ),
                widgets.HBox([self.matrix_button, self.matrix_progress.widget]),
                self.errors.widget,
                self.matrix_slot.widget,
                self.matrix_table,
            ]
        )

    # ------------------------------------------------------------------ views
    def _catalog_html(self) -> str:
        rows = []
        for n, e in self.catalog.datasets.items():
            rows.append(
                f"<tr><td>{html.escape(n)}</td><td>{html.escape(e.department or '')}</td>"
                f"<td>{html.escape(e.purpose or '')}</td>"
                f"<td>{html.escape(', '.join(e.quasi_identifiers))}</td>"
                f"<td>{'yes' if e.external else ''}</td></tr>"
            )
        return (
            "<table class='wb-table wb-catalog'><thead><tr><th>dataset</th><th>department</th>"
            "<th>purpose</th><th>quasi-identifiers</th><th>external</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def _show_entries(self, cw: Crosswalk) -> None:
        self.entry_boxes = []
        rows = []
        for e in cw.entries:
            cb = widgets.Checkbox(
                value=e.status != "rejected" and (e.status == "confirmed" or e.confidence >= 0.6),
                description=f"{e.left} ~ {e.right}",
                indent=False,
                layout=widgets.Layout(width="380px"),
            )
            cb.add_class("wb-crosswalk-entry")
            self.entry_boxes.append((e, cb))
            why = f"{e.fact}: common form {e.common}, confidence {e.confidence:.0%}. {e.reason}"
            rows.append(widgets.HBox([cb, widgets.HTML(f"<small>{html.escape(why)}</small>")]))
        self.entries.children = tuple(rows)

    # ------------------------------------------------------------------ crosswalk
    def selected(self) -> list[str]:
        return [n for n in self.catalog.datasets if n in set(self.datasets.value)]

    def _on_datasets(self, change: dict[str, Any]) -> None:
        self.crosswalk_status.value = (
            "<span style='color:#666'>Datasets changed: propose the crosswalk again.</span>"
            if self.entry_boxes
            else ""
        )

    def _on_propose(self, _: Any = None) -> None:
        names = self.selected()
        if len(names) < 2:
            self.errors.info("Pick at least two datasets.")
            return
        cw = propose(self.catalog, self.frames, names)
        self._show_entries(cw)
        self.crosswalk_status.value = (
            f"<span class='wb-crosswalk-status'>{len(cw)} entries proposed; review and "
            "confirm.</span>"
        )

    def confirmed_crosswalk(self) -> Crosswalk:
        """The entries with their review status from the checkboxes."""
        return Crosswalk(
            tuple(
                e.with_status("confirmed" if cb.value else "rejected") for e, cb in self.entry_boxes
            )
        )

    def _on_confirm(self, _: Any = None) -> None:
        cw = self.confirmed_crosswalk()
        n_ok = sum(1 for e in cw.entries if e.status == "confirmed")
        self.store.set(crosswalk=cw)
        self.crosswalk_status.value = (
            f"<span class='wb-crosswalk-status'>Crosswalk confirmed: {n_ok} entries used, "
            f"{len(cw) - n_ok} rejected.</span>"
        )

    def save_crosswalk(self) -> Path:
        """Write a copy of the catalog holding the reviewed crosswalk into the output folder.

        The shipped catalog is never rewritten (a YAML dump would drop its comments); the copy's
        dataset paths are made relative to its new place, so it loads like the original.
        """
        if self.output_dir is None:
            from ..errors import ParameterError

            raise ParameterError("output_dir", None, "an output folder given by the notebook")
        cw = self.store.state.crosswalk or self.confirmed_crosswalk()
        name = safe_name(self.catalog.name, default="catalog")
        path = self.catalog.with_crosswalk(cw).save(self.output_dir / f"{name}.catalog.yaml")
        from ..governance import record_operation

        record_operation(
            "crosswalk-review",
            inputs=[self.catalog.path],
            outputs=[path],
            parameters={
                "entries": len(cw),
                "confirmed": sum(1 for e in cw.entries if e.status == "confirmed"),
            },
        )
        return path

    def _on_save_crosswalk(self, _: Any = None) -> None:
        if not self.entry_boxes and self.store.state.crosswalk is None:
            self.errors.info("Propose and review the crosswalk first.")
            return
        path = self.save_crosswalk()
        self.crosswalk_status.value = (
            f"<span class='wb-crosswalk-status'>Catalog with the reviewed crosswalk saved as "
            f"{html.escape(path.name)}.</span>"
        )

    def _crosswalk(self) -> Crosswalk | None:
        cw = self.store.state.crosswalk
        if cw is None and self.entry_boxes:
            cw = self.confirmed_crosswalk()
        return cw

    # ------------------------------------------------------------------ linkage
    def _on_link(self, _: Any = None) -> None:
        released, attacker = self.released.value, self.attacker.value
        if released is None or attacker is None or released == attacker:
            self.errors.info("Pick two different datasets.")
            return
        self.link_button.disabled = True
        try:
            result = self.preview(released, attacker)
        finally:
            self.link_button.disabled = False
        d = result.to_dict()
        self.link_summary.value = linkage_html(d, released, attacker)
        self.link_slot.show(charts.linkage_outcome(d))
        self.store.set(linkage=result)

    def preview(self, released: str, attacker: str) -> Any:
        """Exact linkage of ``released`` against ``attacker`` with the reviewed crosswalk."""
        cw = self._crosswalk()
        entries = None
        if cw is not None:
            entries = list(cw.for_pair(released, attacker))
        if not entries:
            cw_pair = propose(self.catalog, self.frames, [released, attacker])
            entries = list(cw_pair.for_pair(released, attacker))
        r, a = self.frames.with_truth(released), self.frames.with_truth(attacker)
        truth = TRUTH_COLUMN if r is not None and a is not None else None
        if truth is None:
            r, a = self.frames.frame(released), self.frames.frame(attacker)
        return link_exact(
            r, a, crosswalk=entries, truth=truth, reference_date=self.catalog.reference_date
        )

    # ------------------------------------------------------------------ matrix
    def _on_matrix(self, _: Any = None) -> None:
        names = self.selected()
        if len(names) < 2:
            self.errors.info("Pick at least two datasets.")
            return
        self.matrix_button.disabled = True
        try:
            d = matrix_by_pairs(
                self.catalog, names, self._crosswalk(), self.frames, self.matrix_progress
            )
        finally:
            self.matrix_button.disabled = False
        self.matrix_progress.finish(f"done: {len(d['pairs'])} pairs")
        self.matrix_slot.show(charts.join_risk_heatmap(d))
        self.matrix_table.value = matrix_table_html(d)
        self.store.set(matrix=d)


class CrossDepartmentApp:
    """Notebook 02: catalog -> crosswalk -> linkage preview -> matrix -> bundle."""

    def __init__(
        self,
        catalog_path: str | os.PathLike | None = None,
        output_dir: str | os.PathLike | None = ".workbench/output",
        title: str = "Cross-department linkage assessment",
    ) -> None:
        from .summary import SummaryPanel

        if catalog_path is None:
            from ..samples import sample_path

            catalog_path = sample_path("city")
        catalog = Catalog.load(catalog_path)
        self.store = Store()
        self.store.set(catalog=catalog)
        self.panel = CrossDepartmentPanel(self.store, catalog, output_dir)
        from .scenarios import ScenarioPanel

        self.scenarios = ScenarioPanel(self.store, catalog, output_dir)
        self.summary = SummaryPanel(
            self.store,
            output_dir,
            title,
            forbidden=lambda st: self.panel.frames.identifier_values(self.panel.selected()),
        )
        self.ui = widgets.VBox(
            [
                self.panel.ui,
                self.scenarios.ui,
                self.summary.ui,
            ]
        )
