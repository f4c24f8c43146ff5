"""Small pieces every panel shares: error display, progress bars, HTML blocks.

Patterns follow ``shared/guides/notebooks-and-voila.md``: Output widgets are filled with
``append_display_data`` (never ``with out:`` during a notebook's own execution, which can hang
Voila); charts are plotly MIME outputs (see ``_charts_extra``), not FigureWidgets.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import traitlets

from ..errors import WorkbenchError
from ..review.figures import at_risk_meaning, k_meaning  # plain words: one definition, in the core

__all__ = [
    "ErrorBox",
    "MultiCheck",
    "ProgressBar",
    "html_block",
    "guarded",
    "k_meaning",
    "at_risk_meaning",
]


class ErrorBox:
    """A panel's message area: readable errors, never a raw traceback."""

    def __init__(self) -> None:
        self.widget = widgets.HTML(value="", layout=widgets.Layout(margin="4px 0"))
        self.last_error: str | None = None

    def clear(self) -> None:
        self.widget.value = ""
        self.last_error = None

    def show(self, exc: BaseException) -> None:
        if isinstance(exc, WorkbenchError):
            msg = str(exc)
        else:  # unexpected: say what kind, keep the traceback out of the page
            msg = f"Unexpected {type(exc).__name__}: {exc}"
            traceback.print_exception(exc)  # goes to the server log, not the page
        self.last_error = msg
        self.widget.value = (
            f'<div class="wb-error" style="color:#a00;background:#fee;'
            f'padding:6px 10px;border-radius:4px">{html.escape(msg)}</div>'
        )

    def info(self, message: str) -> None:
        self.last_error = None
        self.widget.value = f'<div class="wb-info" style="color:#225">{html.escape(message)}</div>'


def guarded(errors: ErrorBox) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for widget callbacks: errors go to the panel, not into the void."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                errors.clear()
                return fn(*args, **kwargs)
            except Exception as exc:  # shown to the user, logged server-side
                errors.show(exc)
                return None

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return deco


class MultiCheck(widgets.VBox):
    """A multi-select a plain click cannot empty: one checkbox per option.

    A ``SelectMultiple`` is an HTML ``<select multiple>``: a plain click selects the clicked
    option *only*, so an officer who clicks one more quasi-identifier loses all the others
    (Ctrl/Shift-click is needed, and nobody knows it). A click on a checkbox toggles that
    option alone. Same interface as ``SelectMultiple`` for the panels: ``options`` (tuple of
    strings), ``value`` (tuple, in option order; unknown values are refused), observable
    ``value``.
    """

    value = traitlets.Tuple()
    options = traitlets.Tuple()
    description = traitlets.Unicode("")

    def __init__(
        self,
        options: Any = (),
        value: Any = (),
        description: str = "",
        width: str = "160px",
        **kwargs: Any,
    ) -> None:
        self._boxes: dict[str, widgets.Checkbox] = {}
        self._syncing = False
        self._width = width
        self._title = widgets.HTML("")
        self._grid = widgets.Box(layout=widgets.Layout(flex_flow="row wrap", max_width="100%"))
        super().__init__(children=[self._title, self._grid], **kwargs)
        self.description = description
        self.options = tuple(options)
        self.value = tuple(value)

    @traitlets.observe("description")
    def _on_description(self, change: dict[str, Any]) -> None:
        self._title.value = f"<b>{html.escape(change['new'])}</b>" if change["new"] else ""

    @traitlets.validate("value")
    def _valid_value(self, proposal: dict[str, Any]) -> tuple[str, ...]:
        wanted = tuple(proposal["value"])
        unknown = [v for v in wanted if v not in self.options]
        if unknown:
            raise traitlets.TraitError(f"{len(unknown)} value(s) not among the options")
        return tuple(o for o in self.options if o in wanted)

    @traitlets.observe("options")
    def _on_options(self, change: dict[str, Any]) -> None:
        boxes = {}
        for opt in change["new"]:
            cb = widgets.Checkbox(
                value=False,
                description=str(opt),
                indent=False,
                layout=widgets.Layout(width=self._width),
            )
            cb.add_class("wb-check")
            cb.observe(self._on_box, names="value")
            boxes[opt] = cb
        self._boxes = boxes
        self._grid.children = tuple(boxes.values())
        self.value = tuple(v for v in self.value if v in boxes)
        self._sync_boxes()

    @traitlets.observe("value")
    def _on_value(self, change: dict[str, Any]) -> None:
        self._sync_boxes()

    def _sync_boxes(self) -> None:
        self._syncing = True
        try:
            for opt, cb in self._boxes.items():
                cb.value = opt in self.value
        finally:
            self._syncing = False

    def _on_box(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self.value = tuple(o for o, cb in self._boxes.items() if cb.value)


class ProgressBar:
    """An IntProgress plus label, usable as the core's ``progress(done, total, message)``."""

    def __init__(self, description: str = "") -> None:
        self.bar = widgets.IntProgress(
            value=0, min=0, max=1, description=description, layout=widgets.Layout(width="60%")
        )
        self.label = widgets.Label(value="")
        self.widget = widgets.HBox([self.bar, self.label])
        self.widget.layout.display = "none"

    def __call__(self, done: int, total: int, message: str = "") -> None:
        self.widget.layout.display = ""
        self.bar.max = max(int(total), 1)
        self.bar.value = min(int(done), self.bar.max)
        self.label.value = message

    def finish(self, message: str = "done") -> None:
        self.bar.value = self.bar.max
        self.label.value = message


def html_block(content: str, title: str | None = None) -> widgets.HTML:
    head = f"<h3>{html.escape(title)}</h3>" if title else ""
    return widgets.HTML(value=head + content)
