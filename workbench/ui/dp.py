"""Differential privacy panel: pick statistics, move epsilon, watch accuracy, spend, see the ledger.

Moving the epsilon slider or changing the statistics only recomputes the accuracy (from the noise
parameters: no data is read, nothing is spent). The "Spend and release" button calls
:func:`workbench.dp.dp_release`, which charges the population's ledger before any noise is drawn
and refuses a release that would exceed the budget. Every number shown is either public (noise
parameters, budget) or differentially private (released values and their intervals).
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..dp import Ledger, dp_accuracy, dp_release, error_curve, parse_bounds
from ..dp._api import _catalog_keys
from ..dp.charts import error_vs_epsilon, ledger_spending, release_error_bars
from ..errors import BudgetExceededError, ParameterError
from ..governance.catalog import Catalog
from ._charts_extra import FigureSlot
from ._common import ErrorBox, guarded

__all__ = ["DPPanel", "ledger_summary"]


def _default_catalog() -> Path:
    from ..samples import samples_dir

    return samples_dir() / "city" / "catalog.yaml"


class DPPanel:
    """The notebook ``05_differential_privacy``: one panel over one catalog dataset.

    Parameters
    ----------
    catalog_path : path, optional
        Catalog (default: the synthetic city).
    dataset : str
        Catalog dataset (or ``a+b`` joined on the privacy unit).
    privacy_unit : str
        Column identifying a person (the city's demo key ``person_key`` is attached in memory).
    ledger_path : path
        The population's ledger.
    """

    def __init__(
        self,
        catalog_path: str | os.PathLike | None = None,
        dataset: str = "clinic",
        privacy_unit: str = "person_key",
        max_contributions: int = 3,
        by: tuple[str, ...] | list[str] = ("sex",),
        mean: str | None = None,
        bounds: str = "",
        epsilon: float = 0.5,
        ledger_path: str | os.PathLike = "residents_ledger.jsonl",
    ) -> None:
        self.catalog = Catalog.load(catalog_path or _default_catalog())
        self.dataset = dataset
        self.ledger = Ledger(ledger_path)
        self.errors = ErrorBox()
        keys: dict[str, tuple[str, ...]] = {}
        for name in dataset.split("+"):
            keys.update(_catalog_keys(self.catalog.entry(name)))
        self.public_keys = keys
        self.last_release: Any = None

        self.unit = widgets.Text(value=privacy_unit, description="Privacy unit")
        self.n = widgets.IntSlider(
            value=max_contributions, min=1, max=20, description="Max rows/person"
        )
        self.count = widgets.Checkbox(value=True, description="Count")
        self.by = widgets.SelectMultiple(
            options=sorted(keys),
            value=tuple(c for c in by if c in keys),
            description="Group by",
            rows=min(4, max(1, len(keys))),
        )
        self.mean = widgets.Text(value=mean or "", description="Mean of", placeholder="column")
        self.bounds = widgets.Text(value=bounds, description="Bounds", placeholder="LOW:HIGH")
        self.epsilon = widgets.FloatLogSlider(
            value=epsilon, base=10, min=-2, max=0.7, step=0.05, description="epsilon",
            readout_format=".3g",
        )  # fmt: skip
        self.accuracy = widgets.HTML()
        self.accuracy.add_class("wb-dp-accuracy")
        self.curve = FigureSlot(placeholder="The error-against-epsilon chart appears here.")
        self.release_button = widgets.Button(
            description="Spend and release", button_style="warning", icon="lock"
        )
        self.release_out = widgets.HTML()
        self.release_out.add_class("wb-dp-release")
        self.release_chart = FigureSlot(placeholder="Released values with their 95 % intervals.")
        self.ledger_out = widgets.HTML()
        self.ledger_out.add_class("wb-dp-ledger")
        self.ledger_chart = FigureSlot(placeholder="No DP release charged yet.")

        on_change = guarded(self.errors)(self._refresh_accuracy)
        for w in (self.unit, self.n, self.count, self.by, self.mean, self.bounds, self.epsilon):
            w.observe(lambda _c: on_change(), names="value")
        self.release_button.on_click(guarded(self.errors)(self._on_release))

        controls = widgets.VBox(
            [self.unit, self.n, self.count, self.by, self.mean, self.bounds, self.epsilon]
        )
        self.ui = widgets.VBox(
            [
                widgets.HTML(
                    f"<h3>Differentially private release of <b>{html.escape(dataset)}</b></h3>"
                    "<p>Moving epsilon spends nothing: the accuracy comes from the noise "
                    "parameters alone. The button charges the population's ledger.</p>"
                ),
                self.errors.widget,
                controls,
                self.accuracy,
                self.curve.widget,
                self.release_button,
                self.release_out,
                self.release_chart.widget,
                self.ledger_out,
                self.ledger_chart.widget,
            ]
        )
        guarded(self.errors)(self._refresh_accuracy)()
        guarded(self.errors)(self._refresh_ledger)()

    # ------------------------------------------------------------------ spec
    def spec_args(self) -> dict[str, Any]:
        """The release the widgets describe (the same keywords as ``dp_release``)."""
        args: dict[str, Any] = {
            "privacy_unit": self.unit.value.strip(),
            "max_contributions": int(self.n.value),
            "epsilon": float(self.epsilon.value),
            "count": bool(self.count.value),
            "by": list(self.by.value),
        }
        mean = self.mean.value.strip()
        if mean:
            if not self.bounds.value.strip():
                raise ParameterError("bounds", "", "LOW:HIGH for the mean's column")
            args["means"] = [mean]
            args["bounds"] = parse_bounds([f"{mean}={self.bounds.value.strip()}"])
        return args

    def _refresh_accuracy(self) -> None:
        report = dp_accuracy(self.dataset, catalog=self.catalog, **self.spec_args())
        items = "".join(f"<li>{html.escape(w)}</li>" for w in report.words())
        charge = report.plan.charge
        self.accuracy.value = (
            f"<ul>{items}</ul><p>This release would spend epsilon <b>{charge.epsilon:.3g}</b> "
            f"(rho {charge.rho:.3g}). Nothing has been spent.</p>"
        )
        self.curve.show(error_vs_epsilon(error_curve(report.plan.spec), chosen=self.epsilon.value))

    def _on_release(self, _: Any = None) -> None:
        try:
            rel = dp_release(self.dataset, catalog=self.catalog, ledger=self.ledger,
                             **self.spec_args())  # fmt: skip
        except BudgetExceededError as exc:
            self.release_out.value = (
                "<p class='wb-dp-refused' style='color:#a00'><b>Refused</b>: "
                f"{html.escape(str(exc))} No noise was drawn; the ledger is unchanged.</p>"
            )
            self._refresh_ledger()
            return
        self.last_release = rel
        doc = rel.to_dict()
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(s.statistic + (f" of {s.column}" if s.column else "")),
                html.escape(", ".join(f"{k}={v}" for k, v in s.group.items()) or "all"),
                "-" if s.value is None else f"{s.value:,.4g}",
                "" if s.ci95 is None else f"[{s.ci95[0]:,.4g}, {s.ci95[1]:,.4g}]",
            )
            for s in rel.statistics
        )
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in doc["notes"])
        self.release_out.value = (
            f"<p>{html.escape(doc['contribution_bounding'])}</p>"
            f"<p>Spent epsilon <b>{doc['epsilon_spent']:.3g}</b> with {html.escape(doc['mechanism'])}"
            f"; keys: {html.escape(doc['keys'])}.</p>"
            "<table><tr><th>statistic</th><th>group</th><th>value</th><th>95 % interval</th></tr>"
            f"{rows}</table>{notes}"
        )
        self.release_chart.show(release_error_bars(doc))
        self._refresh_ledger()

    def _refresh_ledger(self) -> None:
        text, doc = ledger_summary(self.ledger)
        self.ledger_out.value = text
        if doc is not None:
            self.ledger_chart.show(ledger_spending(doc))


def ledger_summary(ledger: Ledger) -> tuple[str, dict[str, Any] | None]:
    """The ledger in words (HTML) and its state as a dict (``None`` before the first charge).

    Shared by every panel that spends the population's budget (DP releases, synthetic data).
    """
    if not ledger.exists():
        return (
            f"<p>Ledger <code>{html.escape(str(ledger.path))}</code> has no release "
            "yet; the first release creates it with the budget of the datasets' policies.</p>",
            None,
        )
    state = ledger.state()
    doc = state.to_dict()
    b = doc["budget"]
    exposures = "".join(
        f"<li>{html.escape(x['kind'])}: {html.escape(x['name'])} — "
        + html.escape(", ".join(f"{k}={v}" for k, v in x["risk"].items()))
        + "</li>"
        for x in doc["non_dp_releases"]
    )
    text = (
        f"<h4>Privacy-loss ledger of population {html.escape(state.population)!s}</h4>"
        f"<p>Budget epsilon {b['epsilon']:g} (delta {b['delta']:g}), from "
        f"{html.escape(b['source'] or 'the user')}; spent <b>{doc['epsilon_spent']:.3g}</b>"
        f" ({html.escape(doc['spent']['bound'])}), remaining <b>{b['remaining_epsilon']:.3g}"
        f"</b> across {len(doc['releases'])} release(s) by "
        f"{html.escape(', '.join(doc['departments']) or 'no department')}.</p>"
        + (f"<p>Non-DP releases of the same population:</p><ul>{exposures}</ul>"
           if exposures else "")
    )  # fmt: skip
    return text, doc
