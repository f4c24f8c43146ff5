"""The dictionary form of a result: one rule shared by bundles, charts and reports.

Kept free of plotly so that writing a bundle (``assess --bundle``) needs only the core install.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["as_dict"]


def as_dict(obj: Any) -> dict:
    """Return the dictionary form of a result (``to_dict()``) or the mapping itself."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"expected a result object or a dict, got {type(obj).__name__}")
