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

from ..errors import WorkbenchError
from ..figures import at_risk_meaning, k_meaning  # plain words: one definition, in the core

__all__ = ["ErrorBox", "ProgressBar", "html_block", "guarded", "k_meaning", "at_risk_meaning"]


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
