"""Threat-scenario panel (notebook 02): edit scenarios, evaluate every release, see the matrix.

The panel is a thin layer over :mod:`workbench.scenarios`: it lists the scenarios kept beside the
catalog, lets the officer edit one as YAML (validated by the same :meth:`Scenario.from_dict` the
CLI uses; an edited scenario is saved as a copy in the output folder, never over the shipped
file), and evaluates the catalog's releases against them. The matrix, the worst scenario per
release in plain words and the per-cell summaries are aggregates only.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import yaml

from .._io import atomic_write_text
from ..errors import ConfigError
from ..governance.catalog import Catalog
from ..review import charts
from ..scenarios import Release, Scenario, ScenarioMatrix, evaluate_scenarios, load_scenarios
from ._charts_extra import FigureSlot
from ._common import ErrorBox, ProgressBar, guarded
from .state import Store, safe_name

__all__ = ["ScenarioPanel", "scenario_table_html"]

_MAX_YAML = 64 * 1024  # a scenario is a few lines; the widget refuses anything larger


def scenario_table_html(matrix: ScenarioMatrix) -> str:
    """Worst scenario per release, then every applicable cell's summary (escaped)."""
    rows = []
    for release, words in matrix.worst_in_words().items():
        rows.append(
            f"<li><b>{html.escape(release)}</b>: {html.escape(words.split(': ', 1)[1])}</li>"
        )
    cells = []
    for o in matrix.outcomes:
        risk = f"{100 * o.risk:.1f} %" if o.applicable else "does not apply"
        cells.append(
            f"<tr><td>{html.escape(o.release)}</td><td>{html.escape(o.scenario)}</td>"
            f"<td style='text-align:right'>{risk}</td><td>{html.escape(o.summary)}</td></tr>"
        )
    return (
        "<div class='wb-scenario-worst'><h4>Worst scenario per release</h4><ul>"
        + "".join(rows)
        + "</ul></div><table class='wb-scenario-table'><tr><th>release</th><th>scenario</th>"
        "<th>risk</th><th>what it means</th></tr>" + "".join(cells) + "</table>"
    )


class ScenarioPanel:
    """Scenario list, YAML editor and the scenario matrix for a catalog's releases."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        output_dir: str | os.PathLike | None = None,
        scenarios_dir: str | os.PathLike | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.output_dir = Path(output_dir) if output_dir is not None else None
        base = Path(catalog.path).parent if getattr(catalog, "path", None) else Path.cwd()
        self.scenarios_dir = Path(scenarios_dir) if scenarios_dir else base / "scenarios"
        self.errors = ErrorBox()
        g = guarded(self.errors)
        self.scenarios: dict[str, Scenario] = {}
        if self.scenarios_dir.is_dir():
            self.scenarios = {s.name: s for s in load_scenarios([self.scenarios_dir])}
        internal = [n for n, e in catalog.datasets.items() if not e.external]
        self.releases = widgets.SelectMultiple(
            options=internal,
            value=tuple(internal),
            description="Releases",
            rows=min(max(len(internal), 2), 8),
        )
        self.releases.add_class("wb-scenario-releases")
        self.chosen = widgets.SelectMultiple(
            options=list(self.scenarios),
            value=tuple(self.scenarios),
            description="Scenarios",
            rows=min(max(len(self.scenarios), 2), 8),
        )
        self.chosen.add_class("wb-scenario-picker")
        self.editing = widgets.Dropdown(
            options=list(self.scenarios),
            description="Edit",
            value=next(iter(self.scenarios), None),
        )
        self.editor = widgets.Textarea(
            value=self._yaml_of(self.editing.value),
            layout=widgets.Layout(width="100%", height="220px"),
        )
        self.editor.add_class("wb-scenario-editor")
        self.apply_button = widgets.Button(
            description="Apply edit", icon="check", layout=widgets.Layout(width="auto")
        )
        self.apply_button.add_class("wb-scenario-apply")
        self.evaluate_button = widgets.Button(
            description="Evaluate scenarios",
            icon="user-secret",
            button_style="warning",
            layout=widgets.Layout(width="auto"),
        )
        self.evaluate_button.add_class("wb-scenario-evaluate")
        self.progress = ProgressBar("releases")
        self.status = widgets.HTML("")
        self.slot = FigureSlot(None, "", css_class="wb-scenario-heatmap")
        self.table = widgets.HTML("")
        self.matrix: ScenarioMatrix | None = None
        self.editing.observe(g(self._on_pick), names="value")
        self.apply_button.on_click(g(self._on_apply))
        self.evaluate_button.on_click(g(self._on_evaluate))
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<h3>5. Threat scenarios</h3><p>Who attacks, holding what, knowing what, "
                    "wanting what. Each release is evaluated against each scenario; the worst "
                    "is named per release.</p>"
                ),
                widgets.HBox([self.releases, self.chosen]),
                widgets.HBox([self.editing, self.apply_button]),
                self.editor,
                widgets.HBox([self.evaluate_button, self.progress.widget]),
                self.errors.widget,
                self.status,
                self.slot.widget,
                self.table,
            ]
        )

    def _yaml_of(self, name: str | None) -> str:
        if not name or name not in self.scenarios:
            return ""
        return yaml.safe_dump(self.scenarios[name].to_dict(), sort_keys=False)

    def _on_pick(self, change: dict[str, Any]) -> None:
        self.editor.value = self._yaml_of(change.get("new"))

    def apply_edit(self, text: str) -> Scenario:
        """Validate edited YAML and keep it (as a copy in the output folder when there is one)."""
        if len(text.encode("utf-8")) > _MAX_YAML:
            raise ConfigError(f"a scenario may hold at most {_MAX_YAML} bytes")
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError("the edited scenario is not valid YAML") from None
        old = self.scenarios.get(self.editing.value)
        s = Scenario.from_dict(doc, base_dir=self.scenarios_dir, source="edited in the notebook")
        if (
            old is not None
            and old.ground_truth is not None
            and s.ground_truth is not None
            and s.ground_truth.file.name == old.ground_truth.file.name
        ):  # to_dict() keeps only the file name: point back at the file the original named
            from dataclasses import replace

            s = replace(s, ground_truth=replace(s.ground_truth, file=old.ground_truth.file))
        self.scenarios[s.name] = s
        names = list(self.scenarios)
        self.chosen.options = names
        self.chosen.value = tuple(n for n in names if n in (*self.chosen.value, s.name))
        self.editing.options = names
        self.editing.value = s.name
        if self.output_dir is not None:
            out = self.output_dir / "scenarios" / f"{safe_name(s.name)}.yaml"
            atomic_write_text(out, yaml.safe_dump(s.to_dict(), sort_keys=False))
            self.status.value = (
                f"<p>Scenario {html.escape(s.name)} saved as a copy in the output folder.</p>"
            )
        return s

    def _on_apply(self, _: Any = None) -> None:
        self.apply_edit(self.editor.value)

    def evaluate(self) -> ScenarioMatrix:
        chosen = [self.scenarios[n] for n in self.chosen.value]
        names = list(self.releases.value)
        if not chosen or not names:
            raise ConfigError("pick at least one release and one scenario")
        releases = []
        for i, n in enumerate(names):
            releases.append(
                Release(n, self.catalog.load_dataset(n, operation="scenarios"), dataset=n)
            )
            self.progress(i + 1, len(names), f"loaded {n}")
        matrix = evaluate_scenarios(releases, chosen, self.catalog)
        self.matrix = matrix
        self.slot.show(charts.scenario_matrix_heatmap(matrix))
        self.table.value = scenario_table_html(matrix)
        self.store.set(scenarios=matrix.to_dict())
        return matrix

    def _on_evaluate(self, _: Any = None) -> None:
        self.evaluate_button.disabled = True
        self.status.value = "<p class='wb-busy'>Evaluating scenarios...</p>"
        try:
            self.evaluate()
        finally:
            self.evaluate_button.disabled = False
            self.status.value = ""
        self.progress.finish("done")
