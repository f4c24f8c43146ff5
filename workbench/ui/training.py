"""Training walk-through: how a "harmless" extract plus a voter roll re-identifies residents.

Each step is one button or dropdown; every number comes from the core (linkage and the
synthetic city's ground truth). Nothing on screen is a name or a record value: counts, shares
and the fact that a match was made.

1. the clinic extract: no names, only date of birth, sex, postal code, diagnosis;
2. the public voter roll: names with date of birth, sex and postal code;
3. the join: how many clinic visits match exactly one voter, and how many of those are the
   right person;
4. generalization (date of birth -> year, postal code -> 3 digits) and the join again.
"""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as widgets

from ..governance.catalog import Catalog
from ..linkage import harmonize, link_exact
from ..linkage.forms import BIRTH, POSTAL, FieldForm
from ..review import charts
from ..risk import assess
from ._charts_extra import FigureSlot, linkage_scenarios
from ._common import ErrorBox, guarded
from .linkage import TRUTH_COLUMN, CatalogFrames, propose

__all__ = ["TrainingWalkthrough", "SCENARIOS", "run_scenario"]

_YEAR = FieldForm(BIRTH, "year", {}, 1.0, "birth year instead of the date")
_POSTAL3 = FieldForm(POSTAL, "postal3", {"digits": 3}, 1.0, "3-digit postal prefix")

#: Release scenarios: label -> coarsening of the clinic extract before the attacker joins.
SCENARIOS: dict[str, dict[str, FieldForm]] = {
    "as released (full date of birth, 5-digit postal code)": {},
    "date of birth -> year of birth": {BIRTH: _YEAR},
    "postal code -> first 3 digits": {POSTAL: _POSTAL3},
    "both: year of birth and 3-digit postal code": {BIRTH: _YEAR, POSTAL: _POSTAL3},
}


def run_scenario(
    catalog: Catalog,
    frames: CatalogFrames,
    coarsen: dict[str, FieldForm],
    released: str = "clinic",
    attacker: str = "voters",
) -> dict[str, Any]:
    """Link the (coarsened) release with the attacker's data; the ``to_dict`` of the result."""
    entries = list(propose(catalog, frames, [released, attacker]).for_pair(released, attacker))
    r, a = frames.with_truth(released), frames.with_truth(attacker)
    truth = TRUTH_COLUMN if r is not None and a is not None else None
    if truth is None:
        r, a = frames.frame(released), frames.frame(attacker)
    pair = harmonize(r, a, entries, catalog.reference_date, coarsen=coarsen or None)
    result = link_exact(r, a, truth=truth, pair=pair)
    d = result.to_dict()
    # which released row first matched exactly one voter (a position, never a value)
    single = result.candidate_counts == 1
    d["example_row"] = int(single.argmax()) + 1 if single.any() else None
    return d


def _n(x: float) -> str:
    return f"{x:,.0f}"


class TrainingWalkthrough:
    """Notebook 04: four steps, each one widget interaction."""

    def __init__(
        self,
        catalog_path: str | os.PathLike | None = None,
        released: str = "clinic",
        attacker: str = "voters",
    ) -> None:
        if catalog_path is None:
            from ..samples import sample_path

            catalog_path = sample_path("city")
        self.catalog = Catalog.load(catalog_path)
        self.frames = CatalogFrames(self.catalog)
        self.released, self.attacker = released, attacker
        self.errors = ErrorBox()
        self.results: dict[str, dict[str, Any]] = {}
        g = guarded(self.errors)
        self.step1 = widgets.Button(
            description="1. Look at the clinic extract",
            icon="eye",
            layout=widgets.Layout(width="auto"),
        )
        self.step2 = widgets.Button(
            description="2. Look at the voter roll", icon="eye", layout=widgets.Layout(width="auto")
        )
        self.step3 = widgets.Button(
            description="3. Link the two",
            icon="link",
            button_style="danger",
            layout=widgets.Layout(width="auto"),
        )
        self.scenario = widgets.Dropdown(
            options=list(SCENARIOS),
            value=None,
            description="4. Generalize the extract:",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="620px"),
        )
        for i, w in enumerate((self.step1, self.step2, self.step3, self.scenario), start=1):
            w.add_class(f"wb-training-step{i}")
            if isinstance(w, widgets.Button):
                w.layout.width = "300px"
        self.out1, self.out2, self.out3, self.out4 = (widgets.HTML("") for _ in range(4))
        for i, o in enumerate((self.out1, self.out2, self.out3, self.out4), start=1):
            o.add_class(f"wb-training-out{i}")
        self.slot = FigureSlot(None, "", css_class="wb-training-chart")
        self.step1.on_click(g(self._on_step1))
        self.step2.on_click(g(self._on_step2))
        self.step3.on_click(g(self._on_step3))
        self.scenario.observe(g(self._on_scenario), names="value")
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    "<p>The Health department wants to share its clinic visits for research. "
                    "The file has no names. Anyone can obtain the city's voter roll, which has "
                    "names. Follow the steps; nothing on this page shows a name or a record, "
                    "only counts.</p>"
                ),
                self.step1,
                self.out1,
                self.step2,
                self.out2,
                self.step3,
                self.out3,
                self.scenario,
                self.out4,
                self.errors.widget,
                self.slot.widget,
            ]
        )

    # ------------------------------------------------------------------ steps
    def _on_step1(self, _: Any = None) -> None:
        entry = self.catalog.entry(self.released)
        df = self.frames.frame(self.released)
        qis = list(entry.quasi_identifiers)
        p = assess(df, qis)
        self.out1.value = (
            "<div class='wb-training-text'>"
            f"<p>The <b>{html.escape(self.released)}</b> extract ({html.escape(entry.department or '')}"
            f") has <b>{_n(p.records)}</b> visits and these columns: "
            f"{html.escape(', '.join(df.columns))}. No names, no addresses.</p>"
            f"<p>But {html.escape(' + '.join(qis))} are quasi-identifiers: together they are "
            f"unique for <b>{_n(p.sample_uniques)}</b> visits ({p.sample_uniqueness:.0%}). "
            "A unique combination points at one person - if someone else has it with a name."
            "</p></div>"
        )

    def _on_step2(self, _: Any = None) -> None:
        entry = self.catalog.entry(self.attacker)
        df = self.frames.frame(self.attacker)
        named = [c for c in entry.direct_identifiers if c in df.columns]
        self.out2.value = (
            "<div class='wb-training-text'>"
            f"<p>The <b>{html.escape(self.attacker)}</b> list is public: <b>{_n(len(df))}</b> "
            f"registered voters with {html.escape(', '.join(named))} (names, not shown here) "
            f"and {html.escape(', '.join(entry.quasi_identifiers))}.</p>"
            "<p>Date of birth, sex and postal code are in both files, written differently "
            "(25/12/1980 vs 1980-12-25, female vs F). An attacker just converts them.</p></div>"
        )

    def _run(self, label: str) -> dict[str, Any]:
        if label not in self.results:
            self.results[label] = run_scenario(
                self.catalog, self.frames, SCENARIOS[label], self.released, self.attacker
            )
        return self.results[label]

    def _chart(self) -> None:
        rows = [{"scenario": _short(k), **v} for k, v in self.results.items()]
        self.slot.show(
            linkage_scenarios(rows) if len(rows) > 1 else charts.linkage_outcome(rows[0])
        )

    def _on_step3(self, _: Any = None) -> None:
        d = self._run(next(iter(SCENARIOS)))
        n = d["released_records"]
        one = int(round(d["one_match"] * n))
        correct = d.get("correct_unique_matches")
        example = (
            f"<p>For example, the visit in row {d['example_row']:,} of the extract matched "
            "exactly one voter: the attacker now has a name (withheld here) for that "
            "diagnosis.</p>"
            if d.get("example_row")
            else ""
        )
        truth = (
            f" Checked against the city's records, <b>{_n(correct)}</b> of them are the right "
            f"person ({(d.get('precision') or 0):.1%} of the claimed matches)."
            if correct is not None
            else ""
        )
        self.out3.value = (
            "<div class='wb-training-text'>"
            f"<p>Joining on {html.escape(', '.join(d['shared_qis']))}: <b>{_n(one)}</b> of "
            f"{_n(n)} visits ({d['one_match']:.0%}) match <b>exactly one</b> voter.{truth}</p>"
            f"{example}<p>Every such match reveals a named person's diagnosis.</p></div>"
        )
        self._chart()

    def _on_scenario(self, change: dict[str, Any]) -> None:
        label = change["new"]
        if label is None:
            return
        base = self._run(next(iter(SCENARIOS)))
        d = self._run(label)
        n = d["released_records"]
        one = int(round(d["one_match"] * n))
        before = base.get("correct_unique_matches")
        after = d.get("correct_unique_matches")
        change_txt = ""
        if before is not None and after is not None:
            change_txt = (
                f" Correct re-identifications: <b>{_n(before)}</b> as released, "
                f"<b>{_n(after)}</b> now."
            )
        if before and after is not None and after <= 0.1 * before:
            verdict = (
                "Generalizing the quasi-identifiers before release keeps the data useful for "
                "research (age, area, diagnosis) while the join stops working."
            )
        else:
            verdict = (
                "This alone is not enough: the remaining details still single out many "
                "people. Try generalizing more."
            )
        self.out4.value = (
            "<div class='wb-training-text'>"
            f"<p>With <i>{html.escape(label)}</i> the attacker can only join on "
            f"{html.escape(', '.join(d['shared_qis']))}: <b>{_n(one)}</b> visits "
            f"({d['one_match']:.1%}) match exactly one voter; {d['many_matches']:.0%} match "
            f"several, so the attacker cannot tell who is who.{change_txt}</p>"
            f"<p>{verdict}</p></div>"
        )
        self._chart()


def _short(label: str) -> str:
    return label.split(" (")[0].split(":")[0]
