"""Privacy Risk Workbench.

One visible flow: Dataset -> roles -> risk profile -> transforms -> comparison -> report and
provenance. The core never imports ipywidgets or IPython; ``workbench.ui`` does.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all

__all__ = ["__version__", *_errors_all]
