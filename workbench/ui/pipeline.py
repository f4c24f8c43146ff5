"""The tuner's pipeline: steps you can add, undo, redo and export as a recipe.

Each step is a registered transform of :mod:`workbench.deid.transforms` (generalization at the
tuner's levels, record and local suppression, top/bottom coding, rounding, additive and
multiplicative noise, MDAV microaggregation, PRAM, pseudonymization, dropping). The steps form
a :class:`~workbench.deid.recipe.Recipe`; "Export recipe" writes it as YAML and "Save release"
writes the data through :meth:`Recipe.write`, the same call ``workbench transform`` makes, so
the CLI reproduces the file byte for byte.

History works as in sdcApp: every change is an entry; undo and redo move between entries and a
new step after an undo drops the entries that were undone. Each entry keeps its step results,
so undo and redo cost nothing. Each step shows its effect on risk (smallest class ``k`` and
records at risk among the released records, the same measures as the risk panel) and on utility
(cells changed, records suppressed).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..dataset import as_pandas
from ..deid.recipe import Recipe, RecipeRun
from ..deid.transforms import (
    AdditiveNoise,
    DropColumns,
    FullDomainGeneralization,
    LocalSuppression,
    Microaggregation,
    MultiplicativeNoise,
    Pram,
    Pseudonymize,
    RecordSuppression,
    Rounding,
    TopBottomCoding,
    Transform,
    TransformResult,
)
from ..errors import ParameterError
from ..risk import class_size_summary, prosecutor_risk
from ._common import ErrorBox, ProgressBar, at_risk_meaning, guarded, k_meaning
from ._outputs import dataset_sources, output_path, record_output
from .state import AppState, Store, reacting

__all__ = [
    "PipelinePanel",
    "STEP_KINDS",
    "StepEffect",
    "accuracy_html",
    "describe_step",
    "step_effect",
]

#: (label shown, transform kind) in the order offered.
STEP_KINDS: tuple[tuple[str, str], ...] = (
    ("generalize (the levels chosen above)", "generalize"),
    ("record suppression (groups smaller than k)", "record_suppression"),
    ("local suppression (single cells, until k)", "local_suppression"),
    ("Mondrian (multidimensional ranges, k)", "mondrian"),
    ("top/bottom coding", "top_bottom_coding"),
    ("rounding", "rounding"),
    ("additive noise", "additive_noise"),
    ("multiplicative noise", "multiplicative_noise"),
    ("MDAV microaggregation", "microaggregation"),
    ("PRAM (random swaps of categories)", "pram"),
    ("pseudonymize (keyed HMAC)", "pseudonymize"),
    ("drop columns", "drop_columns"),
)

# labels of the two number fields per kind (None: hidden)
_NUMBERS: dict[str, tuple[str | None, str | None]] = {
    "generalize": (None, None),
    "record_suppression": (None, None),
    "local_suppression": (None, None),
    "mondrian": (None, None),
    "top_bottom_coding": ("top (above -> top)", "bottom (below -> bottom)"),
    "rounding": ("round to multiples of", None),
    "additive_noise": ("noise, % of std", None),
    "multiplicative_noise": ("noise, % of value", None),
    "microaggregation": (None, None),
    "pram": ("keep at least (pd)", "alpha"),
    "pseudonymize": (None, None),
    "drop_columns": (None, None),
}
_USES_K = {"record_suppression", "local_suppression", "microaggregation", "mondrian"}
_USES_SEED = {"additive_noise", "multiplicative_noise", "pram"}
_USES_COLUMNS = {
    "top_bottom_coding",
    "rounding",
    "additive_noise",
    "multiplicative_noise",
    "microaggregation",
    "pram",
    "pseudonymize",
    "drop_columns",
}
_DEFAULT_NUMBERS = {
    "top_bottom_coding": (0.0, 0.0),
    "rounding": (5.0, 0.0),
    "additive_noise": (20.0, 0.0),
    "multiplicative_noise": (10.0, 0.0),
    "pram": (0.8, 0.5),
}


def _cols(cols: Sequence[str]) -> str:
    return ", ".join(cols)


def describe_step(step: Transform) -> str:
    """One line in plain words saying what the step does."""
    k = step.kind
    if k == "generalize":
        return "generalize " + ", ".join(f"{c} to level {v}" for c, v in step.levels.items())
    if k == "record_suppression":
        return f"suppress records in groups smaller than {step.k} on {_cols(step.qis)}"
    if k == "local_suppression":
        return f"blank single cells of {_cols(step.qis)} until every group has {step.k} or more"
    if k == "top_bottom_coding":
        parts = []
        if step.top is not None:
            parts.append(f"values above {step.top:g} become {step.top:g}")
        if step.bottom is not None:
            parts.append(f"values below {step.bottom:g} become {step.bottom:g}")
        return f"{step.column}: " + " and ".join(parts)
    if k == "rounding":
        return f"round {_cols(step.columns)} to multiples of {step.base:g}"
    if k == "additive_noise":
        return (
            f"add random noise to {_cols(step.columns)} ({step.noise:g} % of its standard "
            f"deviation; seed {step.seed})"
        )
    if k == "multiplicative_noise":
        return f"multiply {_cols(step.columns)} by 1 ± {step.noise:g} % noise (seed {step.seed})"
    if k == "mondrian":
        return f"Mondrian: ranges of {_cols(step.qis)} with at least {step.k} records each"
    if k == "microaggregation":
        return f"replace {_cols(step.columns)} by means of groups of {step.k} or more (MDAV)"
    if k == "pram":
        return f"randomly swap some values of {step.column} (pd {step.pd:g}, seed {step.seed})"
    if k == "pseudonymize":
        return f"replace {_cols(step.columns)} by keyed pseudonyms"
    if k == "drop_columns":
        return f"drop {_cols(step.columns)}"
    return k.replace("_", " ")


@dataclass(frozen=True)
class StepEffect:
    """Risk and utility after one step (aggregates only)."""

    k: int | None
    records_released: int
    records_at_risk: int
    records_suppressed: int
    cells_changed: int
    cells_total: int

    @property
    def cells_changed_share(self) -> float:
        return self.cells_changed / self.cells_total if self.cells_total else 0.0


def step_effect(
    data: pd.DataFrame,
    suppressed: np.ndarray,
    qis: Sequence[str],
    threshold: float,
    cells_changed: int,
    cells_total: int,
) -> StepEffect:
    """Class sizes of the released records on the QIs, with the risk panel's measures.

    A suppressed cell (``"*"``) is counted as its own value, so ``k`` here never overstates
    protection (sdcMicro's wildcard matching would give the same or larger classes).
    """
    present = [q for q in qis if q in data.columns]
    kept = data.loc[~np.asarray(suppressed, bool), present]
    if not present or not len(kept):
        return StepEffect(
            None, len(kept), 0, int(np.count_nonzero(suppressed)), cells_changed, cells_total
        )
    sizes = kept.astype(object).groupby(present, dropna=False, sort=False).size().to_numpy()
    summary = class_size_summary(sizes)
    pros = prosecutor_risk(sizes, threshold=threshold)
    return StepEffect(
        k=summary.min_class_size,
        records_released=summary.records,
        records_at_risk=int(round(pros.records_at_risk * summary.records)),
        records_suppressed=int(np.count_nonzero(suppressed)),
        cells_changed=cells_changed,
        cells_total=cells_total,
    )


@dataclass(frozen=True, eq=False)
class _Entry:
    """One point in the history: the recipe and the results of its steps."""

    recipe: Recipe
    results: tuple[TransformResult, ...]
    effects: tuple[StepEffect, ...]
    action: str


class PipelinePanel:
    """Steps with undo/redo/history, their effects, and recipe/release/bundle export.

    Parameters
    ----------
    store : Store
    tuner : TunerPanel
        Gives the hierarchies and levels of a generalization step and the target ``k``.
    output_dir : path, optional
        Where exports go (named after the dataset; never over the input).
    """

    def __init__(self, store: Store, tuner: Any, output_dir: str | Path | None = None) -> None:
        self.store = store
        self.tuner = tuner
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.errors = ErrorBox()
        self._entries: list[_Entry] = []
        self._pos = -1
        self._key: Any = None
        self.last_run: RecipeRun | None = None
        g = guarded(self.errors)
        self.kind = widgets.Dropdown(
            options=list(STEP_KINDS),
            value="generalize",
            description="step",
            layout=widgets.Layout(width="360px"),
        )
        self.kind.add_class("wb-step-kind")
        self.columns = widgets.SelectMultiple(
            options=[], rows=4, description="columns", layout=widgets.Layout(width="300px")
        )
        self.columns.add_class("wb-step-columns")
        self.k = widgets.IntText(value=5, description="k", layout=widgets.Layout(width="140px"))
        self.k.add_class("wb-step-k")
        self.num_a = widgets.FloatText(
            value=0.0, style={"description_width": "150px"}, layout=widgets.Layout(width="260px")
        )
        self.num_a.add_class("wb-step-a")
        self.num_b = widgets.FloatText(
            value=0.0, style={"description_width": "150px"}, layout=widgets.Layout(width="260px")
        )
        self.num_b.add_class("wb-step-b")
        self.seed = widgets.IntText(
            value=2026, description="seed", layout=widgets.Layout(width="160px")
        )
        self.seed.add_class("wb-step-seed")
        self.hint = widgets.HTML("")
        self.add_button = widgets.Button(
            description="Add step", icon="plus", button_style="primary"
        )
        self.add_button.add_class("wb-add-step")
        self.undo_button = widgets.Button(description="Undo", icon="undo")
        self.undo_button.add_class("wb-undo")
        self.redo_button = widgets.Button(description="Redo", icon="repeat")
        self.redo_button.add_class("wb-redo")
        self.export_button = widgets.Button(description="Export recipe", icon="download")
        self.export_button.add_class("wb-export-recipe")
        self.release_button = widgets.Button(description="Save release", icon="save")
        self.release_button.add_class("wb-save-release")
        self.bundle_button = widgets.Button(description="Save bundle", icon="archive")
        self.bundle_button.add_class("wb-save-pipeline-bundle")
        self.busy = widgets.HTML("")
        self.busy.add_class("wb-pipeline-busy")
        self.statistics = widgets.Text(
            value="",
            placeholder="mean income by region; count by sex",
            description="statistics in the bundle",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="520px"),
        )
        self.statistics.add_class("wb-statistics")
        self.view_a = widgets.Dropdown(options=[], description="contingency of")
        self.view_a.style.description_width = "initial"
        self.view_b = widgets.Dropdown(options=[], description="by")
        self.view_button = widgets.Button(description="Show utility views", icon="table")
        self.view_button.add_class("wb-utility-views-button")
        self.views = widgets.HTML("")
        self.views.add_class("wb-utility-views")
        self.target = widgets.Dropdown(options=[], description="predict")
        self.target.add_class("wb-accuracy-target")
        self.accuracy_button = widgets.Button(
            description="Classification accuracy",
            icon="bullseye",
            layout=widgets.Layout(width="auto"),
        )
        self.accuracy_button.add_class("wb-accuracy-button")
        self.accuracy_progress = ProgressBar("models")
        self.accuracy_progress.bar.layout.width = "200px"
        self.accuracy = widgets.HTML("")
        self.accuracy.add_class("wb-accuracy")
        self.accuracy_result: Any = None
        self.table = widgets.HTML("")
        self.table.add_class("wb-pipeline-steps")
        self.history = widgets.HTML("")
        self.history.add_class("wb-pipeline-history")
        self.saved = widgets.HTML("")
        self.saved.add_class("wb-pipeline-saved")
        for b in (self.export_button, self.release_button, self.bundle_button):
            b.layout.display = "" if self.output_dir is not None else "none"
        self.kind.observe(g(self._on_kind), names="value")
        self.add_button.on_click(g(self._on_add))
        self.undo_button.on_click(g(self._on_undo))
        self.redo_button.on_click(g(self._on_redo))
        self.export_button.on_click(g(self._on_export))
        self.release_button.on_click(g(self._on_release))
        self.bundle_button.on_click(g(self._on_bundle))
        self.view_button.on_click(g(self._on_views))
        self.accuracy_button.on_click(g(self._on_accuracy))
        store.subscribe(reacting(self.errors)(self._on_state))
        wrap = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>5. Steps</h3><p>Build the de-identification step by step. Each row "
                    "shows what the step did to risk and to the data; <i>Undo</i> and "
                    "<i>Redo</i> move through the history. <i>Export recipe</i> writes the "
                    "steps as YAML: <code>workbench transform DATA --recipe FILE --output "
                    "OUT</code> reproduces the saved release byte for byte.</p>"
                ),
                widgets.Box(
                    [self.kind, self.columns, self.k, self.num_a, self.num_b, self.seed],
                    layout=wrap,
                ),
                self.hint,
                widgets.Box(
                    [
                        self.add_button,
                        self.undo_button,
                        self.redo_button,
                        self.export_button,
                        self.release_button,
                        self.bundle_button,
                        self.busy,
                    ],
                    layout=wrap,
                ),
                self.statistics,
                self.errors.widget,
                self.table,
                self.history,
                self.saved,
                widgets.Box([self.view_a, self.view_b, self.view_button], layout=wrap),
                self.views,
                widgets.HTML(
                    "<p>Does the release still predict what matters? A simple model (logistic "
                    "regression) is trained on the original records and on the released ones; "
                    "both predict the original value of the same held-out people.</p>"
                ),
                widgets.Box(
                    [self.target, self.accuracy_button, self.accuracy_progress.widget], layout=wrap
                ),
                self.accuracy,
            ],
            layout=widgets.Layout(max_width="100%"),
        )
        self.ui.add_class("wb-pipeline")
        g(self._reset)(store.state)
        self._on_kind({"new": self.kind.value})

    # ------------------------------------------------------------------ state
    @property
    def recipe(self) -> Recipe:
        """The recipe at the current history position."""
        return self._entries[self._pos].recipe

    @property
    def entry(self) -> _Entry:
        return self._entries[self._pos]

    def _reset(self, state: AppState) -> None:
        """New dataset or roles: the steps of the previous ones no longer apply."""
        self._key = (id(state.dataset), state.qis, state.sensitive, state.direct_identifiers)
        self.columns.options = list(state.dataset.columns) if state.dataset is not None else []
        cols = list(state.dataset.columns) if state.dataset is not None else []
        self.view_a.options, self.view_b.options = cols, cols
        if len(state.qis) >= 2:
            self.view_a.value, self.view_b.value = state.qis[0], state.qis[1]
        self.views.value = ""
        targets = [c for c in cols if c not in state.direct_identifiers]
        self.target.options = targets
        preferred = [c for c in state.sensitive if c in targets] or targets[-1:]
        self.target.value = preferred[0] if preferred else None
        self.accuracy.value, self.accuracy_result = "", None
        self.k.value = int(self.tuner.k.value)
        self.last_run = None
        self.saved.value = ""
        recipe = Recipe((), state.roles, "drop")
        effect = self._effect_of_original(state)
        self._entries = [_Entry(recipe, (), (effect,) if effect else (), "started")]
        self._pos = 0
        self._render()

    def _effect_of_original(self, state: AppState) -> StepEffect | None:
        if state.dataset is None:
            return None
        df = as_pandas(state.dataset)
        return step_effect(df, np.zeros(len(df), bool), state.qis, state.threshold, 0, df.size)

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if changed & {"dataset", "roles"}:
            key = (id(state.dataset), state.qis, state.sensitive, state.direct_identifiers)
            if key != self._key:
                self._reset(state)

    # ------------------------------------------------------------------ steps
    def _on_kind(self, change: dict[str, Any]) -> None:
        kind = change["new"]
        a, b = _NUMBERS[kind]
        self.num_a.description, self.num_b.description = a or "", b or ""
        self.num_a.layout.display = "" if a else "none"
        self.num_b.layout.display = "" if b else "none"
        if kind in _DEFAULT_NUMBERS:
            self.num_a.value, self.num_b.value = _DEFAULT_NUMBERS[kind]
        self.k.layout.display = "" if kind in _USES_K else "none"
        self.seed.layout.display = "" if kind in _USES_SEED else "none"
        self.columns.layout.display = "" if kind in _USES_COLUMNS else "none"
        hints = {
            "generalize": "Uses the hierarchy and level of each quasi-identifier set above.",
            "record_suppression": "On the quasi-identifiers; suppressed records keep their row "
            "with every quasi-identifier shown as *.",
            "local_suppression": "On the quasi-identifiers; a blanked cell (*) matches any value.",
            "mondrian": "On the quasi-identifiers: each group of k or more gets its own ranges.",
            "top_bottom_coding": "First selected column; 0 leaves that side alone.",
            "pram": "First selected column; the seed is kept in the recipe so the release can "
            "be reproduced (keep the recipe as protected as the data).",
            "pseudonymize": "The key is read from the environment or a key file, never stored.",
        }
        self.hint.value = f"<span style='color:#555'>{html.escape(hints.get(kind, ''))}</span>"

    def build_step(self) -> Transform:
        """The transform the form describes (validated by the transform itself)."""
        kind = self.kind.value
        st = self.store.state
        cols = tuple(self.columns.value)
        if kind in _USES_COLUMNS and not cols:
            raise ParameterError("columns", [], "at least one column selected for this step")
        if kind in ("generalize", "record_suppression", "local_suppression", "mondrian") and (
            not st.qis
        ):
            raise ParameterError("quasi-identifiers", [], "quasi-identifiers chosen in the roles")
        k, a, b, seed = (
            int(self.k.value),
            float(self.num_a.value),
            float(self.num_b.value),
            int(self.seed.value),
        )
        if kind == "generalize":
            return FullDomainGeneralization(
                self.tuner.current_levels(),
                {q: self.tuner._hierarchies[q] for q in self.tuner.current_levels()},
            )
        if kind == "record_suppression":
            return RecordSuppression(st.qis, k=k)
        if kind == "local_suppression":
            return LocalSuppression(st.qis, k=k)
        if kind == "mondrian":
            from ..deid.search.mondrian import MondrianRecoding

            return MondrianRecoding(st.qis, k=k)
        if kind == "top_bottom_coding":
            return TopBottomCoding(cols[0], top=a or None, bottom=b or None)
        if kind == "rounding":
            return Rounding(cols, base=a)
        if kind == "additive_noise":
            return AdditiveNoise(cols, noise=a, seed=seed)
        if kind == "multiplicative_noise":
            return MultiplicativeNoise(cols, noise=a, seed=seed)
        if kind == "microaggregation":
            return Microaggregation(cols, k=k)
        if kind == "pram":
            return Pram(cols[0], pd=a, alpha=b, seed=seed)
        if kind == "pseudonymize":
            return Pseudonymize(cols)
        return DropColumns(cols)

    def add_step(self, step: Transform) -> None:
        """Apply ``step`` after the current ones and make it the newest history entry."""
        st = self.store.state
        if st.dataset is None:
            raise ParameterError("dataset", None, "a loaded dataset")
        cur = self.entry
        prev_data = cur.results[-1].data if cur.results else st.dataset
        prev_sup = cur.results[-1].suppressed if cur.results else None
        self.busy.value = (
            f"<span class='wb-busy'>working: {html.escape(describe_step(step))}…</span>"
        )
        try:
            res = step.apply(prev_data, suppressed=prev_sup)
            total = as_pandas(st.dataset).size
            eff = step_effect(
                res.data, res.suppressed, st.qis, st.threshold, res.cells_changed, total
            )
        finally:
            self.busy.value = ""
        entry = _Entry(
            cur.recipe.add(step),
            (*cur.results, res),
            (*cur.effects, eff),
            f"added: {describe_step(step)}",
        )
        self._entries = [*self._entries[: self._pos + 1], entry]
        self._pos += 1
        self.last_run = None
        self._render()

    def undo(self) -> None:
        if self._pos > 0:
            self._pos -= 1
            self._render()

    def redo(self) -> None:
        if self._pos < len(self._entries) - 1:
            self._pos += 1
            self._render()

    def _on_add(self, _: Any = None) -> None:
        self.add_step(self.build_step())

    def _on_undo(self, _: Any = None) -> None:
        self.undo()

    def _on_redo(self, _: Any = None) -> None:
        self.redo()

    # ------------------------------------------------------------------ rendering
    def _render(self) -> None:
        self.undo_button.disabled = self._pos <= 0
        self.redo_button.disabled = self._pos >= len(self._entries) - 1
        e = self.entry
        rows = []
        names = ["original data", *(describe_step(s) for s in e.recipe.steps)]
        for i, (name, eff) in enumerate(zip(names, e.effects, strict=False)):
            k = "n/a" if eff.k is None else f"{eff.k:,}"
            changed = "" if i == 0 else f"{eff.cells_changed:,} ({eff.cells_changed_share:.1%})"
            rows.append(
                f"<tr><td>{i or ''}</td><td>{html.escape(name)}</td><td class='wb-step-k'>{k}"
                f"</td><td>{eff.records_at_risk:,}</td><td>{eff.records_suppressed:,}</td>"
                f"<td>{changed}</td></tr>"
            )
        last = e.effects[-1] if e.effects else None
        meaning = ""
        if last is not None:
            st = self.store.state
            words = [k_meaning(last.k if last.records_released else None, st.qis)]
            if last.records_released:
                words.append(
                    at_risk_meaning(last.records_at_risk, last.records_released, st.threshold)
                )
            meaning = "".join(f"<p class='wb-meaning'>{html.escape(w)}</p>" for w in words)
        self.table.value = (
            "<table class='wb-table'><thead><tr><th>#</th><th>step</th><th>k (smallest group)"
            "</th><th>people above the risk threshold</th><th>records suppressed (total)</th>"
            "<th>cells changed by the step</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
            + meaning
        )
        items = []
        for i, entry in enumerate(self._entries):
            mark = " <b>(current)</b>" if i == self._pos else ""
            style = " style='color:#999'" if i > self._pos else ""
            items.append(f"<li{style}>{html.escape(entry.action)}{mark}</li>")
        self.history.value = (
            "<details open><summary>History (greyed entries were undone; <i>Redo</i> brings "
            f"them back)</summary><ol>{''.join(items)}</ol></details>"
        )

    # ------------------------------------------------------------------ exports
    def _path(self, suffix: str) -> Path:
        return output_path(self.store, self.output_dir, suffix)

    def _sources(self) -> list[str]:
        return dataset_sources(self.store)

    def _record(self, operation: str, path: Path, parameters: dict[str, Any]) -> None:
        record_output(self.store, operation, path, parameters)

    def export_recipe(self) -> Path:
        """Write the current steps as a recipe (YAML) into the output folder."""
        path = self._path(".recipe.yaml")
        self.recipe.save(path, sources=self._sources())
        sha = hashlib.sha256(self.recipe.to_yaml().encode("utf-8")).hexdigest()
        self._record("export-recipe", path, {"recipe_sha256": sha, "steps": self.recipe.summary()})
        self.saved.value = (
            f"<span class='wb-saved'>Recipe with {len(self.recipe.steps)} step(s) saved to "
            f"{html.escape(path.name)}</span>"
        )
        return path

    def save_release(self) -> Path:
        """Write the release through :meth:`Recipe.write` (the CLI's path) and record it."""
        st = self.store.state
        path = self._path(".release.csv")
        self.busy.value = "<span class='wb-busy'>working: writing the release…</span>"
        try:
            run = self.recipe.write(st.dataset, path, sources=self._sources())
        finally:
            self.busy.value = ""
        self.last_run = run
        sha = hashlib.sha256(self.recipe.to_yaml().encode("utf-8")).hexdigest()
        self._record("transform", path, {"recipe_sha256": sha, **run.to_dict()})
        dropped = ", ".join(run.release.dropped) or "none found"
        self.saved.value = (
            f"<span class='wb-saved'>Saved {len(run.result.data):,} records to "
            f"{html.escape(path.name)} (direct identifiers dropped: {html.escape(dropped)})</span>"
        )
        return path

    def save_bundle(self, rationale: str = "") -> Path:
        """Bundle of risk before/after, the steps and utility, through the leak guard."""
        from ..deid.comparison import Statistic
        from ..review.assessment import anonymization_bundle, save_bundle

        statistics = [Statistic.parse(t) for t in self.statistics.value.split(";") if t.strip()]
        st = self.store.state
        if not st.qis:
            raise ParameterError("quasi-identifiers", [], "quasi-identifiers chosen in the roles")
        e = self.entry
        from ..deid.transforms import PipelineResult

        if e.results:
            res = PipelineResult(e.results[-1].data, e.results, e.results[-1].suppressed)
        else:
            res = self.recipe.apply(st.dataset)
        run = RecipeRun(self.recipe, res, self.last_run.release if self.last_run else None)
        bundle = anonymization_bundle(
            st.dataset,
            run,
            qis=st.qis,
            sensitive=st.sensitive,
            hierarchies=run.hierarchies,
            roles=st.roles,
            rationale=rationale,
            statistics=statistics,
        )
        path = self._path(".pipeline-bundle.json")
        save_bundle(bundle, path, st.dataset, st.roles)
        self._record("release-bundle", path, {"source": "pipeline", "steps": len(e.results)})
        self.saved.value = f"<span class='wb-saved'>Bundle saved to {html.escape(path.name)}</span>"
        return path

    def _on_export(self, _: Any = None) -> None:
        self.export_recipe()

    def _on_release(self, _: Any = None) -> None:
        self.save_release()

    def _on_bundle(self, _: Any = None) -> None:
        self.save_bundle()

    def _on_views(self, _: Any = None) -> None:
        self.show_views()

    def _on_accuracy(self, _: Any = None) -> None:
        self.show_accuracy()

    def show_accuracy(self, max_records: int = 10_000) -> Any:
        """Classification accuracy of the current steps' release for the chosen target.

        A heavier step (two models): the button is disabled and the progress shown while it
        runs. Direct identifiers are never features.
        """
        from ..deid.accuracy import classification_accuracy

        st = self.store.state
        if st.dataset is None or not self.target.value:
            return None
        original = as_pandas(st.dataset)
        e = self.entry
        data = e.results[-1].data if e.results else original
        feats = [
            c
            for c in data.columns
            if c in original.columns and c not in st.direct_identifiers and c != self.target.value
        ]
        self.accuracy_button.disabled = True
        self.busy.value = "<span class='wb-busy'>working: training the models…</span>"
        try:
            res = classification_accuracy(
                original,
                data,
                [self.target.value],
                feats,
                seed=2026,
                max_records=max_records,
                progress=self.accuracy_progress,
            )
        finally:
            self.accuracy_button.disabled = False
            self.busy.value = ""
        self.accuracy_progress.finish(
            f"done: {res.records_train:,} records to train, {res.records_test:,} to test"
        )
        self.accuracy_result = res
        self.accuracy.value = accuracy_html(res)
        return res

    def show_views(self) -> None:
        """Attribute summary and the contingency table, original next to released."""
        st = self.store.state
        if st.dataset is None:
            return
        original = as_pandas(st.dataset)
        e = self.entry
        data = e.results[-1].data if e.results else original
        sup = e.results[-1].suppressed if e.results else np.zeros(len(original), bool)
        parts = [summary_html(attribute_summary(original, data, sup))]
        a, b = self.view_a.value, self.view_b.value
        if a and b and a != b:
            parts.append(_table_html(contingency(original, a, b), f"original: {a} by {b}"))
            kept = data.loc[~np.asarray(sup, bool)]
            if a in kept.columns and b in kept.columns:
                parts.append(_table_html(contingency(kept, a, b), f"released: {a} by {b}"))
        self.views.value = "".join(parts)


# ------------------------------------------------------------------------------------------------
# Utility views (ARX's summary statistics and contingency table, original vs released)
# ------------------------------------------------------------------------------------------------

#: Cells with fewer records are shown as "<5": rare combinations single people out.
MIN_CELL = 5


def attribute_summary(
    original: pd.DataFrame, released: pd.DataFrame, suppressed: np.ndarray
) -> pd.DataFrame:
    """Per attribute, original vs released: distinct values, blanked cells, mean and std.

    Suppressed records are left out of the released side (ARX's convention); ``*`` cells count
    as blanked, not as a value. Means are over the numeric values present on each side.
    """
    kept = released.loc[~np.asarray(suppressed, bool)]
    rows = []
    for col in original.columns:
        if col not in released.columns:
            rows.append({"attribute": col, "released": "dropped"})
            continue
        o, r = original[col], kept[col]
        star = r.astype(object) == "*"
        row = {
            "attribute": col,
            "released": "kept",
            "distinct before": int(o.nunique()),
            "distinct after": int(r[~star].nunique()),
            "cells blanked (*)": int(star.sum()),
        }
        on = pd.to_numeric(o, errors="coerce")
        rn = pd.to_numeric(r[~star], errors="coerce")
        if on.notna().all() and len(on):
            row["mean before"], row["mean after"] = float(on.mean()), float(rn.mean())
            row["std before"], row["std after"] = float(on.std()), float(rn.std())
        rows.append(row)
    return pd.DataFrame(rows)


def contingency(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Counts of ``a`` by ``b`` (rows by columns), categories in natural order."""
    from ._charts_extra import natural_order

    t = pd.crosstab(frame[a].astype(str), frame[b].astype(str))
    return t.loc[natural_order(list(t.index)), natural_order(list(t.columns))]


def _table_html(t: pd.DataFrame, title: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join(
        f"<tr><th>{html.escape(str(i))}</th>"
        + "".join(
            f"<td>{'&lt;' + str(MIN_CELL) if 0 < int(v) < MIN_CELL else f'{int(v):,}'}</td>"
            for v in row
        )
        + "</tr>"
        for i, row in zip(t.index, t.to_numpy(), strict=True)
    )
    return (
        f"<div style='display:inline-block;vertical-align:top;margin-right:16px;max-width:100%;"
        f"overflow-x:auto'><b>{html.escape(title)}</b><table class='wb-table'><thead><tr><th>"
        f"</th>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def summary_html(s: pd.DataFrame) -> str:
    cols = list(s.columns)

    def fmt(v: Any, col: str = "") -> str:
        if col.startswith(("distinct", "cells")):
            return f"{int(v):,}"  # counts are whole numbers even in a float column
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:,.2f}"
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{fmt(r[c], c) if c in r and pd.notna(r[c]) else ''}</td>" for c in cols)
        + "</tr>"
        for r in s.to_dict("records")
    )
    return (
        "<div style='max-width:100%;overflow-x:auto'><b>Attributes, original vs released "
        "(suppressed records left out)</b><table class='wb-table'><thead><tr>"
        f"{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def accuracy_html(res: Any) -> str:
    """Classification accuracy per target in plain words (aggregates only)."""
    rows, words = [], []
    for t in res.targets:
        rel = "n/a" if t.relative is None else f"{t.relative:.0%}"
        rows.append(
            f"<tr><td>{html.escape(t.target)}</td><td>{t.classes:,}</td>"
            f"<td>{t.original:.1%}</td><td class='wb-accuracy-released'>{t.released:.1%}</td>"
            f"<td>{t.baseline:.1%}</td><td>{rel}</td></tr>"
        )
        words.append(
            f"A model trained on the release predicts {t.target} correctly for "
            f"{t.released:.0%} of people, against {t.original:.0%} when trained on the original "
            f"data and {t.baseline:.0%} by always guessing the most common value."
        )
    notes = "".join(f"<p class='wb-meaning'>{html.escape(n)}</p>" for n in res.notes)
    return (
        "<table class='wb-table'><thead><tr><th>target</th><th>values</th><th>trained on "
        "original</th><th>trained on release</th><th>guessing the most common</th>"
        "<th>accuracy kept (ARX relative)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + "".join(f"<p class='wb-meaning'>{html.escape(w)}</p>" for w in words)
        + notes
        + f"<p style='color:#666'>{html.escape(res.model)}; {res.records_train:,} records to "
        f"train, {res.records_test:,} to test (seed {res.seed}).</p>"
    )
