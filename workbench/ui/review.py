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

__all__ = ["ReviewDashboard", "STATIC_OUTPUT", "load_bundle_from_env", "review_page"]


def load_bundle_from_env(default: str | Path | None = None) -> AssessmentBundle:
    """The bundle named by ``WORKBENCH_BUNDLE`` (set by ``workbench dashboard``) or ``default``."""
    path = os.environ.get("WORKBENCH_BUNDLE") or default
    if path is None:
        from ..samples.demo import sample_bundle_path

        path = sample_bundle_path()
    return AssessmentBundle.load(path)


#: Output metadata that marks the page's static HTML: the dashboard template writes such an
#: output into the page itself (see ``voila_template/index.html.j2``), so the verdict and tables
#: show before Voila's JavaScript or the kernel connection are ready.
STATIC_OUTPUT = {"workbench": {"static": True}}


def _plotlyjs() -> str:
    """plotly.js for the body: the server's cacheable copy when served, else inlined."""
    return os.environ.get("WORKBENCH_PLOTLYJS") or "inline"


class ReviewDashboard:
    """Title, then every section of the bundle in review order.

    ``html`` is the whole page as static HTML (charts drawn in the browser, lazily); ``body``
    wraps it in an Output widget for use inside a notebook.
    """

    def __init__(self, bundle: AssessmentBundle | dict[str, Any], plotlyjs: str | None = None):
        self.errors = ErrorBox()
        if not isinstance(bundle, AssessmentBundle):
            bundle = AssessmentBundle.from_dict(bundle)
        self.bundle = bundle
        self.sections = sections(bundle)
        self.header_html = (
            f"<h1 class='wb-title'>{html.escape(bundle.title)}</h1>"
            f"<p>Created {html.escape(bundle.created)}"
            f"{' by ' + html.escape(bundle.author) if bundle.author else ''}. "
            "Read-only review: aggregates and charts only, no record-level data.</p>"
        )
        self.html = self.header_html + render_body(bundle, plotlyjs or _plotlyjs())
        self._ui: widgets.Widget | None = None

    @property
    def body(self) -> widgets.Output:
        """The page in an Output widget (built on first use: its state ships to every viewer)."""
        return self.ui.children[2]

    @property
    def ui(self) -> widgets.Widget:
        if self._ui is None:
            body = widgets.Output(layout=widgets.Layout(width="100%"))
            body.append_display_data(HTML(render_body(self.bundle, "inline")))
            header = widgets.HTML(value=self.header_html)
            self._ui = widgets.VBox([header, self.errors.widget, body])
        return self._ui


def review_page(path: str | Path | None = None) -> widgets.Widget:
    """Display the dashboard page for the bundle at ``path`` (see :func:`load_bundle_from_env`).

    The review is displayed as static HTML (marked :data:`STATIC_OUTPUT`); the returned widget
    is the page's message area, the only live part. A bundle that cannot be shown -- not a
    bundle, unreadable, or holding values shaped like direct identifiers -- gives a plain
    refusal that names the problem and never a value (the error messages of
    :mod:`workbench.errors` never hold one), instead of a traceback.
    """
    from IPython.display import display

    from ..errors import WorkbenchError

    try:
        dash = ReviewDashboard(load_bundle_from_env(path))
    except WorkbenchError as exc:
        box = widgets.HTML(
            "<div class='wb-refusal'><h1>This bundle cannot be reviewed</h1>"
            f"<p>{html.escape(str(exc))}</p></div>"
        )
        box.add_class("wb-refused")
        return box
    display(HTML(dash.html), metadata=STATIC_OUTPUT)
    return dash.errors.widget
