"""The ethics-review dashboard: a read-only view of an assessment bundle.

Renders the same sections as the HTML report (``workbench.review.report.sections``) as widgets. It runs
as the *reviewer* role: it only ever receives the bundle's aggregates, never a dataset. Loading
re-runs the leak check (:func:`workbench.review.bundle.check_bundle`); :func:`review_page` shows a plain
refusal instead of the review when it fails.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML

from ..review.bundle import AssessmentBundle
from ..review.report import render_body, sections
from ._common import ErrorBox

__all__ = ["ReviewDashboard", "load_bundle_from_env", "review_page"]


def load_bundle_from_env(default: str | Path | None = None) -> AssessmentBundle:
    """The bundle named by ``WORKBENCH_BUNDLE`` (set by ``workbench dashboard``) or ``default``."""
    path = os.environ.get("WORKBENCH_BUNDLE") or default
    if path is None:
        from ..samples.demo import sample_bundle_path

        path = sample_bundle_path()
    return AssessmentBundle.load(path)


class ReviewDashboard:
    """Title, then every section of the bundle in review order."""

    def __init__(self, bundle: AssessmentBundle | dict[str, Any]) -> None:
        self.errors = ErrorBox()
        if not isinstance(bundle, AssessmentBundle):
            bundle = AssessmentBundle.from_dict(bundle)
        self.bundle = bundle
        self.sections = sections(bundle)
        header = widgets.HTML(
            value=(
                f"<h1 class='wb-title'>{html.escape(bundle.title)}</h1>"
                f"<p>Created {html.escape(bundle.created)}"
                f"{' by ' + html.escape(bundle.author) if bundle.author else ''}. "
                "Read-only review: aggregates and charts only, no record-level data.</p>"
            )
        )
        # The report body (tables + plotly.js inlined once) in one Output: plotly's mime renderer
        # raises "setData is not a function" inside Voila Output widgets, and one FigureWidget
        # per chart would ship ~5 MB each.
        self.body = widgets.Output(layout=widgets.Layout(width="100%"))
        self.body.append_display_data(HTML(render_body(bundle)))
        self.ui = widgets.VBox([header, self.errors.widget, self.body])


def review_page(path: str | Path | None = None) -> widgets.Widget:
    """The dashboard page for the bundle at ``path`` (see :func:`load_bundle_from_env`).

    A bundle that cannot be shown -- not a bundle, unreadable, or holding values shaped like
    direct identifiers -- gives a plain refusal that names the problem and never a value (the
    error messages of :mod:`workbench.errors` never hold one), instead of a traceback.
    """
    from ..errors import WorkbenchError

    try:
        return ReviewDashboard(load_bundle_from_env(path)).ui
    except WorkbenchError as exc:
        box = widgets.HTML(
            "<div class='wb-refusal'><h1>This bundle cannot be reviewed</h1>"
            f"<p>{html.escape(str(exc))}</p></div>"
        )
        box.add_class("wb-refused")
        return box
