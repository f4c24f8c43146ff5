"""Risk panel: QI picker, threshold, population size, and the charts of the risk profile.

Design for latency: the data are scanned once per QI selection (:func:`workbench.risk.assess`
builds the equivalence-class table). A threshold or population-size change re-derives the
affected measures from that class table with the same published functions ``assess`` uses
(:func:`~workbench.risk.prosecutor_risk`, :func:`~workbench.risk.journalist_risk`,
:func:`~workbench.risk.population_uniqueness`) -- no re-scan -- and only the summary and the
records-at-risk curve are redrawn.

Browser selectors (Voila): the QI picker is a :class:`~workbench.ui._common.MultiCheck` with
CSS class ``wb-qi-picker``, one checkbox per column (``.wb-qi-picker .wb-check``, its label the
column name; a plain click toggles that column alone); the numbers are in
the HTML widget with class ``wb-risk-summary`` (``k = 3``, ``records at risk: ...``); the
class-size histogram is drawn inside the output with class ``wb-class-size-histogram``
(``.wb-class-size-histogram .js-plotly-plot``, title ``.gtitle`` "... (k = 3)").
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from ..errors import ParameterError
from ..review import charts
from ..risk import assess, journalist_risk, population_uniqueness, prosecutor_risk
from ..risk.measures import check_threshold
from ._charts_extra import FigureSlot
from ._common import ErrorBox, MultiCheck, ProgressBar, at_risk_meaning, guarded, k_meaning
from .roles import with_quasi_identifiers
from .state import AppState, Store, reacting

__all__ = [
    "RiskPanel",
    "ExploreRiskApp",
    "population_html",
    "with_threshold",
    "with_population_size",
    "risk_summary_html",
    "risk_is_current",
    "current_risk",
    "SUBSETS_AUTO_LIMIT",
]

#: Records x QI subsets up to which subset uniqueness is computed automatically.
SUBSETS_AUTO_LIMIT = 20_000_000
_CACHED = ("suda", "subsets")


def _carry_cache(old: Any, new: Any, names: tuple[str, ...] = _CACHED) -> Any:
    """Keep already computed lazy measures (cached properties) on the replaced profile."""
    for name in names:
        if name in old.__dict__:
            new.__dict__[name] = old.__dict__[name]
    return new


def with_threshold(profile: Any, threshold: float) -> Any:
    """The profile with ``threshold`` changed, re-derived from its class table (no re-scan).

    Equal to ``assess(..., threshold=threshold)`` on the same data; falls back to a new
    ``assess`` when a population table was used (its class sizes are not kept on the profile).
    """
    t = check_threshold(threshold)
    if t == profile.threshold:
        return profile
    if profile.population_table is not None:
        return _reassess(profile, threshold=t)
    table = profile.table
    new = replace(
        profile,
        threshold=t,
        prosecutor=prosecutor_risk(table.sizes, table.counts, t),
        journalist=journalist_risk(table.sizes, table.sizes, table.counts, t),
    )
    return _carry_cache(profile, new)


def with_population_size(profile: Any, population_size: float | None) -> Any:
    """The profile with a new population size (population-uniqueness models re-derived).

    Equal to ``assess(..., population_size=...)``. SUDA's DIS score depends on the sampling
    fraction, so a computed SUDA is dropped when the fraction changes.
    """
    if profile.weights is not None or profile.population_table is not None:
        return _reassess(profile, population_size=population_size)
    if profile.missing == "wildcard":
        return _reassess(profile, population_size=population_size)
    n = profile.records
    if population_size is None:
        population, note, dis = None, "no population size given", 0.01
    else:
        try:
            N = float(population_size)
        except (TypeError, ValueError):
            raise ParameterError("population_size", population_size, "a number of people") from None
        if not N >= n:
            raise ParameterError(
                "population_size",
                population_size,
                f"at least the number of records in the sample ({n})",
            )
        population, note, dis = population_uniqueness(profile.table.sizes, N), None, min(1.0, n / N)
    new = replace(profile, population=population, population_note=note, dis_fraction=float(dis))
    keep = _CACHED if dis == profile.dis_fraction else ("subsets",)
    return _carry_cache(profile, new, keep)


def _reassess(profile: Any, **changes: Any) -> Any:
    kwargs: dict[str, Any] = dict(
        sensitive=profile.sensitive,
        weights=profile.weights,
        household=profile.household_column,
        threshold=profile.threshold,
        missing=profile.missing,
        l=profile.l,
        suda_max_size=profile.suda_max_size,
    )
    if profile.population is not None:
        kwargs["population_size"] = profile.population.size
    kwargs.update(changes)
    return assess(profile.source, profile.qis, source=profile._source_name, **kwargs)


def risk_is_current(state: AppState) -> bool:
    """True when ``state.risk`` was assessed on this dataset with these roles."""
    p = state.risk
    return (
        p is not None
        and p.source is state.dataset
        and tuple(p.qis) == state.qis
        and tuple(p.sensitive) == state.sensitive
        and p.weights == state.weights
        and p.household_column == state.household
    )


def current_risk(state: AppState) -> Any:
    """``state.risk`` if it is current, else a fresh assessment (``None`` without QIs)."""
    if risk_is_current(state):
        return state.risk
    if state.dataset is None or not state.qis:
        return None
    return assess(
        state.dataset,
        state.qis,
        sensitive=state.sensitive,
        threshold=state.threshold,
        population_size=state.population_size,
        weights=state.weights,
        household=state.household,
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def risk_summary_html(profile: Any) -> str:
    """The headline numbers in plain words (class ``wb-risk-summary``)."""
    p = profile
    pros = p.prosecutor
    at_risk = int(round(pros.records_at_risk * p.records))
    parts = [
        f"<span class='wb-k'>k = {p.min_class_size}</span>",
        f"<span class='wb-classes'>{p.classes:,} equivalence classes</span>",
        f"<span class='wb-uniques'>{p.sample_uniques:,} sample uniques "
        f"({_pct(p.sample_uniqueness)})</span>",
    ]
    line2 = [
        f"<span class='wb-at-risk'>records at risk: {at_risk:,} of {p.records:,} "
        f"({_pct(pros.records_at_risk)}) above threshold {pros.threshold:g}</span>",
        f"highest risk {_pct(pros.highest)}",
        f"average risk {_pct(pros.average)}",
    ]
    line3 = []
    if p.population is not None:
        dk = p.population.to_dict().get("dankar") or {}
        if dk.get("uniques") is not None:
            line3.append(
                f"estimated population uniques: {dk['uniques']:,.0f} "
                f"(Dankar's rule picks {html.escape(str(dk.get('model')))}, "
                f"N = {p.population.size:,.0f})"
            )
    if p.weights:
        g = p.global_risk
        line3.append(
            f"<span class='wb-global-risk'>expected re-identifications (individual risk, "
            f"weights {html.escape(p.weights)}): {g.expected_reidentifications:,.1f} "
            f"({_pct(g.rate)})</span>"
        )
    if p.household is not None:
        hh = p.household.to_dict()
        line3.append(
            f"<span class='wb-household-risk'>household risk "
            f"({html.escape(str(p.household_column))}): "
            f"{hh.get('expected_reidentifications', 0):,.1f} expected "
            f"({_pct(hh.get('rate'))})</span>"
        )
    for s, r in p.l_diversity.items():
        line3.append(f"{html.escape(s)}: distinct l = {r.distinct_l}")
    qis = html.escape(", ".join(p.qis))
    body = (
        f"<div class='wb-risk-numbers'><div class='wb-qis'>Quasi-identifiers: {qis}</div>"
        f"<div style='font-size:1.15em'>{' &middot; '.join(parts)}</div>"
        f"<div>{' &middot; '.join(line2)}</div>"
    )
    if line3:
        body += f"<div>{' &middot; '.join(line3)}</div>"
    meaning = [
        k_meaning(p.min_class_size, p.qis),
        f"{p.sample_uniques:,} {'person is' if p.sample_uniques == 1 else 'people are'} the "
        "only one with their combination of these attributes in this data (sample uniques).",
        at_risk_meaning(at_risk, p.records, pros.threshold),
    ]
    body += "".join(
        f"<div class='wb-meaning' style='color:#444'>{html.escape(m)}</div>" for m in meaning
    )
    return body + "</div>"


def population_html(profile: Any) -> str:
    """Population-uniqueness estimates as a small table (class ``wb-population-estimates``).

    Pitman, Zayatz and SNB estimate how many sample uniques are unique in the population;
    Dankar et al. (2012) pick the model by sampling fraction and sample size.
    """
    if profile is None:
        return ""
    if profile.population is None:
        note = html.escape(profile.population_note or "no population size given")
        return (
            "<div class='wb-population-numbers'><b>Population uniques</b>: enter the "
            f"population size to estimate them ({note}).</div>"
        )
    d = profile.population.to_dict()
    dk = d.get("dankar") or {}
    rows = [("sample uniques", profile.sample_uniques)]
    for key, label in (("pitman", "Pitman"), ("zayatz", "Zayatz"), ("snb", "SNB")):
        v = d.get(key)
        if isinstance(v, dict):
            v = v.get("uniques", v.get("value"))
        rows.append((label, v))
    rows.append((f"Dankar's choice ({dk.get('model')})", dk.get("uniques")))
    notes = d.get("notes") or {}
    why = [notes.get(m) for m in ("", "pitman", "zayatz", "snb", "dankar")]

    def cell(v: Any, reason: str | None) -> str:
        if v is None:  # the estimator's own reason, never a bare "unavailable"
            return "unavailable" + (f": {html.escape(reason)}" if reason else "")
        note = f" <span style='color:#666'>({html.escape(reason)})</span>" if reason else ""
        return f"{float(v):,.0f} people{note}"

    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{cell(v, r)}</td></tr>"
        for (k, v), r in zip(rows, why, strict=True)
    )
    return (
        "<div class='wb-population-numbers'><b>Estimated population uniques</b> "
        f"(N = {float(d.get('size') or 0):,.0f})<table class='wb-table'><tbody>{body}</tbody>"
        "</table></div>"
    )


class RiskPanel:
    """QI picker + threshold slider + population size -> summary and charts.

    The panel assesses whenever the dataset or the QIs / sensitive attributes change and
    stores the :class:`~workbench.risk.RiskProfile` in ``state.risk``; threshold and population
    changes replace it with a re-derived profile.
    """

    def __init__(self, store: Store, *, subsets_auto_limit: int = SUBSETS_AUTO_LIMIT) -> None:
        self.store = store
        self.subsets_auto_limit = subsets_auto_limit
        self.errors = ErrorBox()
        self._syncing = False
        self._profile_dict: dict[str, Any] | None = None
        self.figures: dict[str, go.Figure] = {}
        st = store.state
        # checkboxes: a plain click on a <select multiple> kept only the clicked QI
        self.qi_picker = MultiCheck(
            options=self._qi_options(st),
            value=tuple(c for c in st.qis if c in self._qi_options(st)),
            description="Quasi-identifiers",
            layout=widgets.Layout(width="420px"),
        )
        self.qi_picker.add_class("wb-qi-picker")
        self.threshold = widgets.FloatSlider(
            value=st.threshold,
            min=0.01,
            max=1.0,
            step=0.01,
            description="Risk threshold",
            continuous_update=False,
            readout_format=".2f",
            style={"description_width": "130px"},
        )
        self.threshold.add_class("wb-threshold")
        self.population = widgets.IntText(
            value=int(st.population_size or 0),
            description="Population size",
            style={"description_width": "130px"},
        )
        self.population.add_class("wb-population")
        self.population_hint = widgets.HTML(
            "<span style='color:#666'>0 = unknown; the size of the population the data were "
            "drawn from (e.g. the city's residents)</span>"
        )
        self.weights = widgets.Dropdown(
            options=self._weight_options(st),
            value=st.weights or "",
            description="Sampling weights",
            style={"description_width": "130px"},
        )
        self.weights.add_class("wb-weights")
        self.household = widgets.Dropdown(
            options=self._household_options(st),
            value=st.household or "",
            description="Household id",
            style={"description_width": "130px"},
        )
        self.household.add_class("wb-household")
        self.summary = widgets.HTML(value="")
        self.summary.add_class("wb-risk-summary")
        self.suda_button = widgets.Button(
            description="Compute SUDA", icon="calculator", layout=widgets.Layout(width="auto")
        )
        self.suda_button.add_class("wb-suda-button")
        self.suda_max = widgets.IntSlider(
            value=4,
            min=1,
            max=8,
            description="largest attribute combination (MSU size)",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.suda_progress = ProgressBar("SUDA")
        self.subsets_button = widgets.Button(
            description="Compute QI subsets", icon="calculator", layout=widgets.Layout(width="auto")
        )
        g = guarded(self.errors)
        self.suda_button.on_click(g(self._on_suda))
        self.subsets_button.on_click(g(self._on_subsets))
        self.qi_picker.observe(g(self._on_qis), names="value")
        self.threshold.observe(g(self._on_threshold), names="value")
        self.population.observe(g(self._on_population), names="value")
        self.weights.observe(g(self._on_weights), names="value")
        self.household.observe(g(self._on_weights), names="value")
        store.subscribe(reacting(self.errors)(self._on_state))

        # First assessment, then the charts, shown with their data from the start.
        g(self._assess)(st)
        d = self._dict()
        self.hist = FigureSlot(self._fig("hist", d), css_class="wb-class-size-histogram")
        self.curve = FigureSlot(self._fig("curve", d), css_class="wb-risk-curve")
        self.dist = FigureSlot(self._fig("dist", d), css_class="wb-risk-distribution")
        self.population_table = widgets.HTML("")
        self.population_table.add_class("wb-population-estimates")
        self.subsets = FigureSlot(
            self._fig("subsets", d) if d.get("subsets") else None,
            "Press <i>Compute QI subsets</i> (large tables are not done automatically).",
            css_class="wb-subsets",
        )
        self.suda = FigureSlot(
            None,
            "Press <i>Compute SUDA</i> to find the minimal sample uniques.",
            css_class="wb-suda",
        )
        self._render_population()
        self._render_summary()
        self.ui = widgets.VBox(
            [
                widgets.HTML("<h3>3. Re-identification risk</h3>"),
                widgets.HBox(
                    [
                        self.qi_picker,
                        widgets.VBox(
                            [
                                self.threshold,
                                self.population,
                                self.population_hint,
                                self.weights,
                                self.household,
                            ]
                        ),
                    ]
                ),
                self.summary,
                self.errors.widget,
                widgets.HBox([self.hist.widget, self.curve.widget]),
                self.dist.widget,
                self.population_table,
                widgets.HTML(
                    "<h4>Which attributes single people out?</h4><p>Share of records that are "
                    "unique when an attacker knows only some of the quasi-identifiers.</p>"
                ),
                self.subsets_button,
                self.subsets.widget,
                widgets.HTML(
                    "<h4>SUDA: special uniques</h4><p>Minimal sets of attribute values that are "
                    "unique in the data, and how much each attribute contributes.</p>"
                ),
                widgets.HBox([self.suda_button, self.suda_max]),
                self.suda_progress.widget,
                self.suda.widget,
            ]
        )

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _qi_options(state: AppState) -> list[str]:
        if state.dataset is None:
            return []
        direct = set(state.direct_identifiers)
        return [c for c in state.dataset.columns if c not in direct]

    def _dict(self) -> dict[str, Any]:
        if self._profile_dict is None:
            p = self.store.state.risk
            self._profile_dict = p.to_dict() if p is not None else {}
        return self._profile_dict

    def _fig(self, name: str, d: dict[str, Any]) -> go.Figure:
        if not d:
            msg = "choose at least one quasi-identifier"
            fig = charts.empty_figure(msg, "")
        elif name == "hist":
            fig = charts.class_size_histogram(d)
        elif name == "curve":
            fig = charts.records_at_risk_curve(d, (d.get("prosecutor") or {}).get("threshold"))
        elif name == "dist":
            fig = charts.risk_distribution(d)
        elif name == "subsets":
            fig = charts.subset_uniqueness(d.get("subsets") or {})
        else:
            suda = d.get("suda") or {}
            fig = charts.suda_contributions(suda)
            contrib = (suda.get("attribute_contributions") or {}) if isinstance(suda, dict) else {}
            if contrib:
                total = sum(contrib.values())
                fig.add_annotation(
                    text=(
                        f"These shares add up to {total:.0f} %, not 100 %: a combination of "
                        "several attributes counts towards each of them."
                    ),
                    xref="paper",
                    yref="paper",
                    x=0,
                    y=1.08,
                    showarrow=False,
                    xanchor="left",
                    font={"size": 11, "color": "#555"},
                )
                fig.data[0].name = "share of the SUDA score"
        self.figures[name] = fig
        return fig

    def _render_population(self) -> None:
        p = self.store.state.risk
        self.population_table.value = population_html(p)

    def _render_summary(self) -> None:
        p = self.store.state.risk
        if p is None:
            self.summary.value = (
                "<div class='wb-risk-numbers'>Choose at least one quasi-identifier.</div>"
            )
        else:
            self.summary.value = risk_summary_html(p)

    # ------------------------------------------------------------------ computing
    def _assess(self, state: AppState) -> None:
        """Assess the current QIs (one scan) and store the profile."""
        qis = state.qis
        if state.dataset is None or not qis:
            if state.risk is not None:
                self.store.set(risk=None)
            else:
                self._show(None)
            return
        profile = current_risk(state)
        self.errors.clear()  # a successful assessment resolves earlier messages
        n = profile.records
        if n * (2 ** len(qis) - 1) <= self.subsets_auto_limit:
            _ = profile.subsets  # cheap here: computed now so the chart is there at once
        self.store.set(risk=profile)

    # ------------------------------------------------------------------ events
    def _on_qis(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        roles = self.store.state.roles
        if roles is None:
            return
        self.store.set(roles=with_quasi_identifiers(roles, change["new"]))

    def _on_threshold(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        st = self.store.state
        if st.risk is None:
            self.store.set(threshold=float(change["new"]))
            return
        self.store.set(threshold=float(change["new"]), risk=with_threshold(st.risk, change["new"]))

    def _on_population(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        value = change["new"]
        size = float(value) if value and value > 0 else None
        st = self.store.state
        if st.risk is None:
            self.store.set(population_size=size)
            return
        self.store.set(population_size=size, risk=with_population_size(st.risk, size))

    def _on_suda(self, _: Any = None) -> None:
        st = self.store.state
        if st.risk is None:
            return
        self.suda_button.disabled = True
        try:
            m = min(int(self.suda_max.value), len(st.risk.qis))
            self.suda_progress(0, 1, f"SUDA on {st.risk.records:,} records, MSUs up to size {m}...")
            # a new profile object (same class table), so the change is visible to subscribers
            profile = _carry_cache(st.risk, replace(st.risk, suda_max_size=m), ("subsets",))
            _ = profile.suda
            self.suda_progress.finish(f"done: {profile.suda.n_msus:,} minimal sample uniques")
            self.store.set(risk=profile)
        finally:
            self.suda_button.disabled = False

    def _on_subsets(self, _: Any = None) -> None:
        st = self.store.state
        if st.risk is None:
            return
        self.subsets_button.disabled = True
        try:
            profile = _carry_cache(st.risk, replace(st.risk), ("suda",))
            _ = profile.subsets
            self.store.set(risk=profile)
        finally:
            self.subsets_button.disabled = False

    def _on_state(self, state: AppState, changed: frozenset[str]) -> None:
        if changed & {"dataset", "roles"}:
            self._sync_picker(state)
        if "threshold" in changed and self.threshold.value != state.threshold:
            self._syncing = True
            try:
                self.threshold.value = state.threshold
            finally:
                self._syncing = False
        if "population_size" in changed:
            value = int(state.population_size or 0)
            if self.population.value != value:
                self._syncing = True
                try:
                    self.population.value = value
                finally:
                    self._syncing = False
        if changed & {"dataset", "roles", "weights", "household"} and hasattr(self, "weights"):
            self._sync_weights(state)
        if changed & {"dataset", "roles", "weights", "household"} and not risk_is_current(state):
            self._assess(state)  # stores the new profile: redrawn in the next round
            return
        if "risk" in changed:
            self._show(state.risk)

    def _show(self, new: Any) -> None:
        old = getattr(self, "_shown", None)
        old_dict = self._profile_dict
        self._profile_dict = None
        if old is not None and new is not None and old.table is new.table:
            # same class table: only threshold / population / lazy measures changed
            parts = ["summary"]
            if old.threshold != new.threshold:
                parts.append("curve")
            if old.population is not new.population:
                parts.append("pop")
            for lazy in _CACHED:
                if new.__dict__.get(lazy) is not old.__dict__.get(lazy):
                    parts.append(lazy)
            if parts == ["summary", "curve"] and old_dict is not None:
                # threshold only: patch the two blocks that depend on it, keep the rest
                self._profile_dict = {
                    **old_dict,
                    "prosecutor": new.prosecutor.to_dict(),
                    "journalist": new.journalist.to_dict(),
                }
            self._shown = new
            self._refresh(tuple(parts))
        else:
            self._shown = new
            self._refresh(("summary", "hist", "curve", "dist", "pop", "subsets", "suda"))

    @staticmethod
    def _weight_options(state: AppState) -> list[tuple[str, str]]:
        """Numeric columns that are not QIs: candidates for sampling weights."""
        opts: list[tuple[str, str]] = [("(none: every record weighs 1)", "")]
        ds = state.dataset
        if ds is not None:
            for col, kind in ds.column_types.items():
                if col not in state.qis and any(t in str(kind).lower() for t in ("int", "float")):
                    opts.append((col, col))
        return opts

    @staticmethod
    def _household_options(state: AppState) -> list[tuple[str, str]]:
        opts: list[tuple[str, str]] = [("(none)", "")]
        if state.dataset is not None:
            opts += [(c, c) for c in state.dataset.columns if c not in state.qis]
        return opts

    def _on_weights(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        # "" is the "(none)" option: ipywidgets shows no label for a None value
        self.store.set(weights=self.weights.value or None, household=self.household.value or None)

    def _sync_weights(self, state: AppState) -> None:
        self._syncing = True
        try:
            for widget, opts, value in (
                (self.weights, self._weight_options(state), state.weights),
                (self.household, self._household_options(state), state.household),
            ):
                if list(widget.options) != opts:
                    widget.options = opts
                if widget.value != (value or ""):
                    widget.value = value or ""
        finally:
            self._syncing = False

    def _sync_picker(self, state: AppState) -> None:
        self._syncing = True
        try:
            opts = self._qi_options(state)
            if list(self.qi_picker.options) != opts:
                self.qi_picker.value = ()
                self.qi_picker.options = opts
            value = tuple(c for c in state.qis if c in opts)
            if tuple(self.qi_picker.value) != value:
                self.qi_picker.value = value
        finally:
            self._syncing = False

    def _refresh(self, parts: tuple[str, ...]) -> None:
        """Redraw the named parts from the current profile."""
        if not hasattr(self, "hist"):  # still constructing: the charts are built afterwards
            return
        d = self._dict()
        if "summary" in parts:
            self._render_summary()
        if "pop" in parts:
            self._render_population()
        if "hist" in parts:
            self.hist.show(self._fig("hist", d))
        if "curve" in parts:
            self.curve.show(self._fig("curve", d))
        for name, slot in (
            ("dist", self.dist),
            ("subsets", self.subsets),
            ("suda", self.suda),
        ):
            if name not in parts:
                continue
            if name != "dist" and not d.get(name) and slot.figure is None:
                continue  # not computed yet: keep the note, no empty widget
            slot.show(self._fig(name, d))


class ExploreRiskApp:
    """Notebook 01: dataset -> roles -> risk (charts, SUDA, subsets) -> assessment bundle.

    Parameters come from the notebook's parameters cell: ``data_path`` (a server-side file)
    or ``sample``; ``qis`` overrides the suggested quasi-identifiers; ``population_size`` feeds
    the population-uniqueness models; ``output_dir`` receives the roles and the bundle.
    """

    def __init__(
        self,
        data_path: str | os.PathLike | None = None,
        sample: str = "city.clinic",
        qis: Sequence[str] | None = None,
        population_size: float | None = None,
        threshold: float = 0.2,
        output_dir: str | os.PathLike | None = ".workbench/output",
        title: str | None = None,
    ) -> None:
        from .loader import LoaderPanel
        from .roles import RolesPanel
        from .summary import SummaryPanel

        self.store = Store()
        self.loader = LoaderPanel(self.store, sample=sample, data_path=data_path)
        self.loader.load_initial()
        st = self.store.state
        changes: dict[str, Any] = {"threshold": float(threshold)}
        if population_size:
            changes["population_size"] = float(population_size)
        if qis is not None and st.roles is not None:
            changes["roles"] = with_quasi_identifiers(st.roles, list(qis))
        self.store.set(**changes)
        self.roles = RolesPanel(self.store, output_dir)
        self.risk = RiskPanel(self.store)
        self.summary = SummaryPanel(self.store, output_dir, title, kind="Risk assessment")
        self.ui = widgets.VBox(
            [
                self.loader.ui,
                self.roles.ui,
                self.risk.ui,
                self.summary.ui,
            ]
        )
