"""Category shares from counts with rare values pooled (no widgets: the tuner's controller and
the chart helpers both use it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["shares_from_counts"]


def shares_from_counts(
    labels: Sequence[str], counts: Sequence[float] | np.ndarray, top: int = 15, min_count: int = 5
) -> dict[str, float]:
    """Share per label, the ``top`` largest with at least ``min_count`` records, rest "other".

    Same pooling rule as :func:`workbench.review.bundle.category_shares` (rare values can single
    people out, so they never reach a chart), but from pre-aggregated counts.
    """
    c = np.asarray(counts, dtype=np.float64)
    n = float(c.sum())
    if n <= 0:
        return {}
    # only labels with min_count records can be drawn: sort those (a million-value column
    # costs its frequent labels, not a Python sort of every label)
    big = np.flatnonzero(c >= min_count)
    names = np.asarray([str(labels[i]) for i in big], dtype=str)
    order = big[np.lexsort((names, -c[big]))] if len(big) else big  # ties: by label
    out: dict[str, float] = {}
    kept = 0.0
    for i in order[:top]:
        out[str(labels[i])] = float(c[i]) / n
        kept += float(c[i])
    if n - kept > 0:
        out["other"] = out.get("other", 0.0) + (n - kept) / n
    return out
