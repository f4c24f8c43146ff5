"""The risk measures that are aggregates over the class table, computed inside the engine.

A class table with one row per distinct QI combination is as large as the data when the QIs
are near-unique (a billion rows, a billion classes): it must not come to the driver. The
class-size histogram (how many classes have each size) is small whatever the data (at most
``sqrt(2 n)`` distinct sizes), and the measures that only depend on class sizes are exact
functions of it: number of classes, k (the smallest class), sample uniques, prosecutor risk
(highest, average, records at risk). Two ``GROUP BY`` s run in the engine (DuckDB, polars,
Spark); only the histogram is collected. The measures are the same definitions
(:func:`~workbench.risk.measures.class_size_summary`, :func:`~workbench.risk.measures.prosecutor_risk`)
applied to the histogram's bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dataset import as_narwhals, check_columns
from ..errors import ParameterError
from .measures import ClassSizeSummary, RiskSummary, class_size_summary, prosecutor_risk

__all__ = ["ClassSizeProfile", "class_size_profile"]


@dataclass(frozen=True)
class ClassSizeProfile:
    """Class sizes and prosecutor risk of a table whose class table stays in the engine.

    Attributes
    ----------
    qis : tuple of str
        The quasi-identifiers.
    summary : ClassSizeSummary
        Records, classes, k, sample uniques and the class-size histogram.
    prosecutor : RiskSummary
        Prosecutor risk (``1 / fk`` per record; El Emam 2013, ch. 8).
    """

    qis: tuple[str, ...]
    summary: ClassSizeSummary
    prosecutor: RiskSummary

    def to_dict(self) -> dict:
        return {
            "qis": list(self.qis),
            "computed": "in the engine, from the class-size histogram",
            **self.summary.to_dict(),
            "prosecutor": self.prosecutor.to_dict(),
        }


def class_size_profile(
    data: Any, qis: Sequence[str], threshold: float = 0.2, source: str | None = None
) -> ClassSizeProfile:
    """Class-size measures of ``data`` over ``qis`` with only the histogram on the driver.

    Missing QI values are a category of their own (``missing="category"``).
    """
    import narwhals as nw

    qis = tuple(qis)
    if not qis:
        raise ParameterError("qis", [], "at least one quasi-identifier")
    check_columns(data, list(qis), source)
    hist = (
        as_narwhals(data)
        .group_by(list(qis), drop_null_keys=False)
        .agg(nw.len().alias("__fk"))
        .group_by("__fk")
        .agg(nw.len().alias("__m"))
        .collect()
        .to_arrow()
    )
    sizes = np.asarray(hist.column("__fk").to_numpy(), dtype=np.int64)
    per = np.asarray(hist.column("__m").to_numpy(), dtype=np.int64)
    order = np.argsort(sizes)
    sizes, per = sizes[order], per[order]
    counts = sizes * per
    return ClassSizeProfile(
        qis=qis,
        summary=class_size_summary(sizes, counts, per),
        prosecutor=prosecutor_risk(sizes, counts, threshold),
    )
