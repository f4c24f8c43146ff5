"""Synthetic data panel: pick columns and epsilon, spend and generate, judge it against k-anonymity.

Choosing columns, method or epsilon spends nothing. "Spend and generate" splits the dataset's
people into a training half (what the synthesizer reads) and a holdout half (people it never
sees, the attacks' control), charges the population's ledger through
:func:`workbench.synth.synth_release` (refused past the budget: no noise drawn, ledger
unchanged), then judges the synthetic table and the k-anonymous release of the same training
records with the same evaluation (:func:`workbench.synth.evaluate`), side by side. Every figure
shown is an aggregate; no record of either table is displayed.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..dp import Ledger, resolve_sources
from ..errors import BudgetExceededError, ParameterError
from ..governance.catalog import Catalog
from ._charts_extra import FigureSlot
from ._common import ErrorBox, guarded
from .dp import ledger_summary

__all__ = ["SynthPanel", "UNIQUES_MEANING"]

UNIQUES_MEANING = (
    "A synthetic record is drawn from a statistical model of the data, not copied from a "
    "person. A combination of values that occurs once in the synthetic table is unique in that "
    "draw, and nobody need have it: it points at a person only if a real person has the same "
    "combination and an attacker can tell that it is them. So the counts below set the "
    "synthetic uniques next to those that coincide with a combination unique among the real "
    "training records (the only ones that could be pinned on someone), and the linkage attack "
    "then checks whether joining the synthetic table to the voter roll names the right person "
    "more often for the training people than for people the generator never saw."
)


def _default_catalog() -> Path:
    from ..samples import samples_dir

    return samples_dir() / "city" / "catalog.yaml"


def _pct(x: Any) -> str:
    return "–" if x is None else f"{float(x):.3f}"


def _risk(a: Mapping[str, Any] | None) -> str:
    if not a:
        return "–"
    lo, hi = a.get("risk_ci") or (0.0, 0.0)
    return f"{a['risk']:.3f} [{lo:.3f}, {hi:.3f}]"


class SynthPanel:
    """The notebook ``06_synthetic_data``: one panel over one catalog dataset.

    Parameters
    ----------
    catalog_path : path, optional
        Catalog (default: the synthetic city).
    dataset : str
        Catalog dataset (or ``a+b`` joined on the privacy unit).
    columns : list of str
        Columns to synthesize; the last one is the target of the inference attack and of
        train-on-synthetic / test-on-real unless ``target`` says otherwise.
    keys, bins, hierarchies : mappings, optional
        Public domains of the columns (categories, bin edges, hierarchy and level), as for
        :func:`workbench.synth.synthesize`; the catalog's declared categories fill the rest.
    attacker, on : str, optional
        Catalog dataset of the attacker's register and the fields to join on, for the linkage
        attack (scored with the privacy unit, which both tables carry).
    ledger_path, output_dir : path
        The population's ledger; where the table, bundle and report are saved.
    """

    def __init__(
        self,
        catalog_path: str | os.PathLike | None = None,
        dataset: str = "housing",
        columns: Sequence[str] = ("birth_year", "gender", "zip", "household_size", "income_band"),
        *,
        target: str | None = None,
        privacy_unit: str = "person_key",
        contributions: int = 1,
        method: str = "mst",
        epsilon: float = 1.0,
        delta: float = 1e-6,
        keys: Mapping[str, Sequence[Any]] | None = None,
        bins: Mapping[str, Sequence[float]] | None = None,
        hierarchies: Mapping[str, Any] | None = None,
        rows: int | None = None,
        k: int = 5,
        attacker: str | None = "voters",
        on: str = "auto",
        n_attacks: int = 300,
        seed: int = 0,
        ledger_path: str | os.PathLike = "residents_ledger.jsonl",
        output_dir: str | os.PathLike | None = None,
    ) -> None:
        self.catalog = Catalog.load(catalog_path or _default_catalog())
        self.dataset = dataset
        self.ledger = Ledger(ledger_path)
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.keys = {c: [str(v) for v in vs] for c, vs in (keys or {}).items()}
        self.bins = {c: list(e) for c, e in (bins or {}).items()}
        self.hierarchies = dict(hierarchies or {})
        self.rows = rows
        self.attacker = attacker
        self.on = on
        self.n_attacks = int(n_attacks)
        self.seed = int(seed)
        self.errors = ErrorBox()
        self.result: Any = None  # SynthResult of the last generation
        self.evaluation: Any = None  # SynthEvaluation of the synthetic table
        self.alternative: Any = None  # KAnonAlternative
        self.alternative_evaluation: Any = None
        self._split: tuple[pd.DataFrame, pd.DataFrame] | None = None

        self.src = resolve_sources(dataset, privacy_unit=privacy_unit, catalog=self.catalog)
        frame = self.src.data
        direct = set(self.src.direct_identifiers) | {privacy_unit}
        options = [c for c in frame.columns if c not in direct]
        wide = {"description_width": "110px"}
        self.columns = widgets.SelectMultiple(
            options=options,
            value=tuple(c for c in columns if c in options),
            description="Columns",
            style=wide,
            rows=min(8, max(2, len(options))),
        )
        self.target = widgets.Dropdown(description="Target", style=wide)
        self.unit = widgets.Text(
            value=privacy_unit, description="Privacy unit", disabled=True, style=wide
        )
        self.contributions = widgets.IntSlider(
            value=contributions, min=1, max=10, description="Rows/person", style=wide
        )
        self.method = widgets.ToggleButtons(options=["mst", "aim"], value=method,
                                            description="Method", style=wide)  # fmt: skip
        self.epsilon = widgets.FloatLogSlider(
            value=epsilon, base=10, min=-1, max=0.7, step=0.05, description="epsilon",
            readout_format=".3g", style=wide,
        )  # fmt: skip
        self.delta = widgets.FloatText(value=delta, description="delta", style=wide)
        self.k = widgets.IntSlider(
            value=k, min=2, max=20, description="k (alternative)", style=wide
        )
        self.domains = widgets.HTML()
        self.domains.add_class("wb-synth-domains")
        self.generate_button = widgets.Button(
            description="Spend and generate", button_style="warning", icon="lock",
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.generate_button.add_class("wb-synth-generate")
        self.busy = widgets.HTML("")
        self.busy.add_class("wb-synth-busy")
        self.outcome = widgets.HTML()
        self.outcome.add_class("wb-synth-outcome")
        self.compare = widgets.HTML()
        self.compare.add_class("wb-synth-compare")
        self.chart = FigureSlot(placeholder="Attack risks appear here after generating.")
        self.uniques = widgets.HTML(f"<p><b>Why sample uniques here are not people.</b> "
                                    f"{html.escape(UNIQUES_MEANING)}</p>")  # fmt: skip
        self.uniques.add_class("wb-synth-uniques")
        self.save_button = widgets.Button(
            description="Save table, bundle and report", icon="save", disabled=True,
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.save_button.add_class("wb-synth-save")
        self.saved = widgets.HTML()
        self.saved.add_class("wb-synth-saved")
        self.ledger_out = widgets.HTML()
        self.ledger_out.add_class("wb-synth-ledger")

        self._sync_target(target)
        refresh = guarded(self.errors)(self._refresh_domains)
        self.columns.observe(lambda _c: (self._sync_target(None), refresh()), names="value")
        self.delta.observe(lambda _c: refresh(), names="value")
        self.generate_button.on_click(guarded(self.errors)(lambda _b: self.generate()))
        self.save_button.on_click(guarded(self.errors)(lambda _b: self.save()))

        controls = widgets.VBox(
            [
                self.columns,
                self.target,
                self.method,
                self.epsilon,
                self.delta,
                self.unit,
                self.contributions,
                self.k,
            ]
        )
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.src.notes)
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    f"<h3>Differentially private synthetic data from <b>{html.escape(dataset)}"
                    "</b></h3><p>Choosing spends nothing. <i>Spend and generate</i> charges the "
                    "population's ledger, synthesizes from half of the people (the other half "
                    "is the attacks' control) and judges the synthetic table and the "
                    "k-anonymous release of the same records with the same attacks.</p>" + notes
                ),
                self.errors.widget,
                controls,
                self.domains,
                widgets.HBox([self.generate_button, self.busy]),
                self.outcome,
                self.compare,
                self.chart.widget,
                self.uniques,
                widgets.HBox([self.save_button, self.saved]),
                self.ledger_out,
            ]
        )
        self.ui.add_class("wb-synth")
        guarded(self.errors)(self._refresh_domains)()
        self._refresh_ledger()

    # ------------------------------------------------------------------ spec
    def _sync_target(self, wanted: str | None) -> None:
        cols = list(self.columns.value)
        current = wanted or self.target.value
        self.target.options = cols
        if cols:
            self.target.value = current if current in cols else cols[-1]

    def domain_sources(self) -> dict[str, str]:
        """Where each chosen column's public domain comes from (words, no value)."""
        out = {}
        for c in self.columns.value:
            if c in self.bins:
                out[c] = f"bin edges given ({len(self.bins[c])} edges)"
            elif c in self.hierarchies:
                out[c] = "a published hierarchy"
            elif c in self.keys:
                out[c] = f"categories given ({len(self.keys[c])})"
            elif c in self.src.keys:
                out[c] = f"categories declared in the catalog ({len(self.src.keys[c])})"
            else:
                out[c] = "discovered under DP (needs delta > 0, spent from the budget)"
        return out

    def _refresh_domains(self) -> None:
        src = self.domain_sources()
        items = "".join(
            f"<li><b>{html.escape(c)}</b>: {html.escape(w)}</li>" for c, w in src.items()
        )
        warn = ""
        if any(w.startswith("discovered") for w in src.values()) and self.delta.value <= 0:
            warn = (
                "<p style='color:#a00'>Some columns have no public domain: give their "
                "categories, or a delta > 0 to discover them under DP. Reading them from the "
                "data would leak them.</p>"
            )
        self.domains.value = (
            "<p>Public domain of each column (never read from the data without budget):</p>"
            f"<ul>{items}</ul>{warn}"
        )

    def split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Training and holdout halves, split by person (seeded; computed once)."""
        if self._split is None:
            frame = pd.DataFrame(self.src.data).reset_index(drop=True)
            unit = self.unit.value
            rng = np.random.default_rng(self.seed)
            if unit == "row":
                take = rng.random(len(frame)) < 0.5
            else:
                people = frame[unit].dropna().unique()
                chosen = set(rng.permutation(people)[: len(people) // 2].tolist())
                take = frame[unit].isin(chosen).to_numpy()
            self._split = (
                frame[take].reset_index(drop=True),
                frame[~take].reset_index(drop=True),
            )
        return self._split

    # ------------------------------------------------------------------ actions
    def _step(self, text: str) -> None:
        self.busy.value = (
            f"<span class='wb-busy' style='color:#a60'>&#8987; {html.escape(text)}…</span>"
        )

    def generate(self) -> None:
        """Charge the ledger, synthesize, and judge the table and its k-anonymous alternative."""
        from ..synth import evaluate, synth_release
        from ..synth.alternative import k_anonymous_alternative
        from ..synth.charts import attack_risks

        cols = list(self.columns.value)
        if len(cols) < 2:
            raise ParameterError("columns", cols, "at least two columns to synthesize")
        target = self.target.value
        unit = self.unit.value
        train, holdout = self.split()
        self.generate_button.disabled = True
        self.save_button.disabled = True
        try:
            self._step(f"1/3 synthesizing with {self.method.value.upper()} (OpenDP)")
            try:
                res = synth_release(
                    train,
                    cols,
                    ledger=self.ledger,
                    population=self.src.population,
                    policies=[self.catalog.entry(n).policy for n in self.src.names
                              if self.catalog.entry(n).policy is not None],
                    method=self.method.value,
                    epsilon=float(self.epsilon.value),
                    delta=float(self.delta.value),
                    privacy_unit=unit,
                    contributions=int(self.contributions.value),
                    keys={c: v for c, v in self.keys.items() if c in cols},
                    bins={c: v for c, v in self.bins.items() if c in cols},
                    hierarchies={c: v for c, v in self.hierarchies.items() if c in cols},
                    rows=self.rows,
                    seed=self.seed,
                    datasets=self.src.names,
                    departments=self.src.departments,
                )  # fmt: skip
            except BudgetExceededError as exc:
                self.outcome.value = (
                    "<p class='wb-synth-refused' style='color:#a00'><b>Refused</b>: "
                    f"{html.escape(str(exc))} No noise was drawn, nothing was generated; the "
                    "ledger is unchanged.</p>"
                )
                return
            self.result = res
            self._refresh_ledger()
            self._step(f"2/3 the {int(self.k.value)}-anonymous alternative")
            qis = [c for c in cols if c != target]
            alt = k_anonymous_alternative(
                train, holdout, qis, k=int(self.k.value), columns=cols, keep=[unit]
            )
            self.alternative = alt
            self._step("3/3 attacks on both releases")
            attacker = None
            if self.attacker:
                attacker = self.catalog.load_dataset(self.attacker).to_pandas()
                if unit not in attacker.columns:
                    attacker = self.catalog.attach_join_key(self.attacker, attacker, unit)
            common = {"targets": [target], "n_attacks": self.n_attacks, "seed": self.seed}
            domains = res.domains()
            self.evaluation = evaluate(
                train,
                res.data,
                holdout,
                cols,
                **domains,
                attacker=attacker,
                truth=unit if attacker is not None else None,
                release=alt.release if attacker is not None else None,
                on=self.on,
                **common,
            )
            self.alternative_evaluation = evaluate(
                alt.training, alt.release.drop(columns=[unit]), alt.holdout, cols, **common
            )
        finally:
            self.busy.value = ""
            self.generate_button.disabled = False
        self.outcome.value = (
            f"<p class='wb-synth-done'>Generated <b>{len(res.data):,}</b> synthetic records "
            f"with {res.method.upper()} at epsilon <b>{res.epsilon:g}</b> (delta {res.delta:g}),"
            f" one unit = {html.escape(res.privacy_unit)} (at most {res.contributions} row(s) "
            f"each), from {len(train):,} training records; {len(holdout):,} holdout records "
            "kept apart as the attacks' control.</p>"
        )
        self._show_comparison()
        label_s = f"synthetic ({res.method.upper()}, epsilon {res.epsilon:g})"
        label_k = f"{alt.k}-anonymous release"
        self.chart.show(
            attack_risks(
                {label_s: self.evaluation.to_dict(), label_k: self.alternative_evaluation.to_dict()}
            )
        )
        self.save_button.disabled = self.output_dir is None

    def _show_comparison(self) -> None:
        s, a, alt = (
            self.evaluation.to_dict(),
            self.alternative_evaluation.to_dict(),
            self.alternative,
        )
        fs, fa = s["fidelity"], a["fidelity"]
        att_s = {x["attack"]: x for x in s["privacy"]["attacks"]}
        att_a = {x["attack"]: x for x in a["privacy"]["attacks"]}
        ts = (fs["train_synthetic_test_real"] or [{}])[0]
        ta = (fa["train_synthetic_test_real"] or [{}])[0]
        ds, da = (
            s["privacy"]["distance_to_closest_record"],
            a["privacy"]["distance_to_closest_record"],
        )
        us, ua = s["privacy"]["sample_uniques"], a["privacy"]["sample_uniques"]
        rows = [
            ("records", f"{s['records']['synthetic']:,}",
             f"{a['records']['synthetic']:,} ({alt.suppressed:,} suppressed)"),
            ("one-way total variation (mean; 0 = same marginals)",
             _pct(fs["one_way_tv_mean"]), _pct(fa["one_way_tv_mean"])),
            ("two-way total variation (mean)", _pct(fs["two_way_tv_mean"]),
             _pct(fa["two_way_tv_mean"])),
            (f"accuracy predicting {ts.get('target', '')} (trained on real: "
             f"{_pct(ts.get('accuracy_real'))})",
             _pct(ts.get("accuracy_synthetic")), _pct(ta.get("accuracy_synthetic"))),
        ]  # fmt: skip
        for name in att_s:
            rows.append((f"{name.replace('_', ' ')} risk [95 % interval]",
                         _risk(att_s.get(name)), _risk(att_a.get(name))))  # fmt: skip
        rows += [
            ("records closer to a training than a holdout record (0.5 = no memorising)",
             _pct(ds["share_closer_to_training"]), _pct(da["share_closer_to_training"])),
            ("exact copies of a training record",
             _pct(ds["share_dcr_zero_training"]), _pct(da["share_dcr_zero_training"])),
            ("sample uniques (of them, unique among the real training records too)",
             f"{us['synthetic_sample_uniques']:,} ({us['coinciding_with_a_training_unique']:,})",
             f"{ua['synthetic_sample_uniques']:,} ({ua['coinciding_with_a_training_unique']:,})"),
        ]  # fmt: skip
        link = s["privacy"]["linkage"]
        if link:
            rel = link.get("k_anonymous_release") or {}
            control = link.get("holdout_control_correct")
            rows.append((
                "voter-roll linkage: people named correctly (synthetic: training people, "
                "and holdout people as the control)",
                f"{link['correct_reidentifications']:,}"
                + ("" if control is None else f" (control {control:,})"),
                f"{rel.get('correct_unique_matches', 0):,}",
            ))  # fmt: skip
        body = "".join(
            f"<tr><td>{html.escape(r[0])}</td><td>{html.escape(r[1])}</td>"
            f"<td>{html.escape(r[2])}</td></tr>"
            for r in rows
        )
        levels = ", ".join(f"{q} level {lv}" for q, lv in alt.levels.items())
        self.compare.value = (
            "<style>.wb-synth-compare td, .wb-synth-compare th {padding: 2px 14px 2px 0; "
            "text-align: left}</style><table class='wb-table'><tr><th></th><th>synthetic</th>"
            f"<th>{alt.k}-anonymous release</th></tr>{body}</table>"
            f"<p><i>The {alt.k}-anonymous release generalizes {html.escape(levels)}; it is "
            "judged at its own granularity (the real records generalized the same way), so "
            "its fidelity figures count what it keeps, not the detail it drops. Risk is "
            "(training - holdout) / (1 - holdout): 0 means the release teaches no more about "
            "the training people than about anyone.</i></p>"
        )
        if link:
            self.uniques.value = (
                f"<p><b>Why sample uniques here are not people.</b> "
                f"{html.escape(UNIQUES_MEANING)}</p><p>Here: "
                f"{us['synthetic_sample_uniques']:,} synthetic uniques; "
                f"{us['coinciding_with_a_training_unique']:,} coincide with a real training "
                f"unique (of {us['training_sample_uniques']:,}); the voter-roll join names "
                f"{link['correct_reidentifications']:,} training people correctly against "
                f"{link.get('holdout_control_correct') or 0:,} holdout people it never saw.</p>"
            )

    def save(self) -> dict[str, Path]:
        """Write the synthetic table (with its spec and provenance), the bundle and the report."""
        import json

        from .._io import atomic_write_text, write_table
        from ..governance import record_operation
        from ..review.report import write_report
        from ..synth.evaluate import write_bundle

        if self.result is None or self.evaluation is None:
            raise ParameterError("generate", "not yet", "a generated table (press Generate)")
        if self.output_dir is None:
            raise ParameterError("output_dir", None, "an output folder given by the notebook")
        stem = "+".join(self.src.names).replace("+", "_")
        table = self.output_dir / f"{stem}.synth.csv"
        spec = Path(str(table) + ".synth.json")
        bundle = self.output_dir / f"{stem}.synth-bundle.json"
        report = self.output_dir / f"{stem}.synth-report.html"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        doc = self.result.to_dict()
        write_table(table, self.result.data, sources=[])
        atomic_write_text(spec, json.dumps(doc, indent=2) + "\n")
        record_operation("synthesize", inputs=list(self.src.inputs), outputs=[table, spec],
                         parameters=doc)  # fmt: skip
        evaluation = {
            **self.evaluation.to_dict(),
            "k_anonymous_alternative": {
                **self.alternative.to_dict(),
                **self.alternative_evaluation.to_dict(),
            },
        }
        train, _ = self.split()
        write_bundle(bundle, evaluation, train, f"Synthetic data review: {self.dataset}")
        write_report(bundle, report)
        record_operation("synthetic-review", inputs=[table], outputs=[bundle, report],
                         parameters={"columns": list(self.result.columns)})  # fmt: skip
        paths = {"table": table, "spec": spec, "bundle": bundle, "report": report}
        self.saved.value = (
            "<span class='wb-saved'>Saved "
            + ", ".join(html.escape(p.name) for p in paths.values())
            + f". Open the review with <code>workbench dashboard {html.escape(bundle.name)}"
            "</code>.</span>"
        )
        return paths

    def _refresh_ledger(self) -> None:
        self.ledger_out.value = ledger_summary(self.ledger)[0]
