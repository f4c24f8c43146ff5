"""Risk-utility trade-off explorer: optimal transformations over a grid of privacy targets.

For every target in the grid (k, suppression limit, with / without l-diversity) the optimal
full-domain generalization is searched on one shared :class:`~workbench.deid.search.lattice.SearchContext`
(the data is encoded once), and each result is placed on the (re-identification risk,
information loss) plane. The Pareto-optimal points -- no other point has both lower-or-equal
risk and lower-or-equal loss, one of them strictly -- form the frontier a privacy officer picks
from (Duncan, Keller-McNulty & Stokes 2001, "Disclosure risk vs. data utility: the R-U
confidentiality map").
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ParameterError
from ...risk.measures import records_at_risk
from ..hierarchy import Hierarchy
from .lattice import Criteria, Progress, SearchContext

__all__ = ["FrontierPoint", "FrontierResult", "frontier", "RISK_MEASURES"]

#: Risk axes: prosecutor average risk, share of records at risk, prosecutor highest risk.
RISK_MEASURES = ("average_risk", "records_at_risk", "highest_risk")


@dataclass(frozen=True)
class FrontierPoint:
    """One target of the grid and the optimal transformation found for it."""

    k: int
    suppression: float
    l: int | None  # noqa: E741
    found: bool
    levels: Mapping[str, int] | None
    score: float | None
    suppressed: int
    classes: int
    min_class_size: int
    average_risk: float
    highest_risk: float
    records_at_risk: float
    pareto: bool = False

    def risk(self, measure: str) -> float:
        return float(getattr(self, measure))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "suppression": self.suppression,
            "l": self.l,
            "found": self.found,
            "levels": None if self.levels is None else dict(self.levels),
            "score": self.score,
            "suppressed": self.suppressed,
            "classes": self.classes,
            "min_class_size": self.min_class_size,
            "average_risk": self.average_risk,
            "highest_risk": self.highest_risk,
            "records_at_risk": self.records_at_risk,
            "pareto": self.pareto,
        }


@dataclass(frozen=True)
class FrontierResult:
    """Every grid point plus which are Pareto-optimal on (``risk_measure``, ``metric`` loss)."""

    points: tuple[FrontierPoint, ...]
    metric: str
    risk_measure: str
    threshold: float
    qis: tuple[str, ...]
    transformations_checked: int
    elapsed_seconds: float

    @property
    def frontier(self) -> tuple[FrontierPoint, ...]:
        """Pareto-optimal points, by increasing risk (duplicates of one trade-off kept once)."""
        seen, out = set(), []
        pts = sorted(
            (p for p in self.points if p.pareto),
            key=lambda p: (p.risk(self.risk_measure), p.score, p.k, p.suppression),
        )
        for p in pts:
            key = (p.risk(self.risk_measure), p.score)
            if key not in seen:
                seen.add(key)
                out.append(p)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "risk_measure": self.risk_measure,
            "risk_threshold": self.threshold,
            "qis": list(self.qis),
            "frontier": [p.to_dict() for p in self.frontier],
            "points": [p.to_dict() for p in self.points],
            "transformations_checked": self.transformations_checked,
            "elapsed_seconds": self.elapsed_seconds,
        }


def _pareto(points: list[FrontierPoint], measure: str) -> list[FrontierPoint]:
    found = [p for p in points if p.found]
    out = []
    for p in points:
        dominated = not p.found or any(
            q.risk(measure) <= p.risk(measure)
            and q.score <= p.score
            and (q.risk(measure) < p.risk(measure) or q.score < p.score)
            for q in found
        )
        out.append(FrontierPoint(**{**p.__dict__, "pareto": not dominated}))
    return out


def frontier(
    data: Any,
    qis: Sequence[str] | None = None,
    hierarchies: Mapping[str, Hierarchy | str | Path] | None = None,
    *,
    k_values: Iterable[int] = range(2, 21),
    suppressions: Iterable[float] = (0.0, 0.05, 0.1),
    l: int | None = None,  # noqa: E741
    l_kind: str = "distinct",
    sensitive: Sequence[str] = (),
    metric: str = "loss",
    risk: str = "average_risk",
    threshold: float = 0.2,
    progress: Progress | None = None,
) -> FrontierResult:
    """Search the optimum for every (k, suppression, l) target and mark the Pareto frontier.

    Parameters
    ----------
    data : SearchContext, Dataset or frame
        A prepared context is reused as is (fastest when exploring repeatedly).
    l : int, optional
        When given (with ``sensitive``), every target is searched both without and with
        l-diversity of that ``l``.
    risk : {"average_risk", "records_at_risk", "highest_risk"}
        Risk axis. ``records_at_risk`` is the share of records in released classes whose
        prosecutor risk ``1 / size`` exceeds ``threshold`` (suppressed records are not at risk).
    """
    t0 = time.perf_counter()
    if risk not in RISK_MEASURES:
        raise ParameterError("risk", risk, f"one of {', '.join(RISK_MEASURES)}")
    if not 0 < threshold <= 1:
        raise ParameterError("threshold", threshold, "a number in (0, 1]")
    if isinstance(data, SearchContext):
        ctx = data
    else:
        if qis is None:
            raise ParameterError("qis", None, "the quasi-identifiers")
        ctx = SearchContext(data, qis, hierarchies, sensitive)
    ks = sorted({int(k) for k in k_values})
    sups = sorted({float(s) for s in suppressions})
    if not ks or not sups:
        raise ParameterError("grid", (ks, sups), "at least one k and one suppression limit")
    if l is not None and not ctx.sensitive:
        raise ParameterError("sensitive", [], "a sensitive column for l-diversity")
    ls: list[int | None] = [None] if l is None else [None, int(l)]
    grid = [(k, s, lv) for lv in ls for s in sups for k in ks]
    points: list[FrontierPoint] = []
    checked = 0
    for i, (k, s, lv) in enumerate(grid):
        if progress is not None:
            progress(i, len(grid), f"k={k}, suppression={s:g}" + (f", l={lv}" if lv else ""))
        crit = Criteria(k=k, l=lv, l_kind=l_kind, suppression=s)
        res = ctx.search(crit, metric)
        checked += res.transformations_checked
        at_risk = 0.0
        if res.found:
            sizes = ctx.released_sizes(res.levels, crit)
            # suppressed records count in the denominator but are not at risk
            at_risk = records_at_risk(1.0 / sizes, sizes, threshold, total=ctx.n_records)
        points.append(
            FrontierPoint(
                k=k,
                suppression=s,
                l=lv,
                found=res.found,
                levels=res.levels,
                score=res.score,
                suppressed=res.suppressed,
                classes=res.classes,
                min_class_size=res.min_class_size,
                average_risk=res.average_risk,
                highest_risk=res.highest_risk,
                records_at_risk=at_risk,
            )
        )
    if progress is not None:
        progress(len(grid), len(grid), "done")
    return FrontierResult(
        points=tuple(_pareto(points, risk)),
        metric=metric,
        risk_measure=risk,
        threshold=threshold,
        qis=ctx.qis,
        transformations_checked=checked,
        elapsed_seconds=time.perf_counter() - t0,
    )
