"""Accuracy before spending: how wrong will each statistic be at a candidate epsilon?

Every figure comes from the public noise parameters (OpenDP's ``*_scale_to_accuracy`` utilities
on the scales of :func:`~workbench.dp.release.plan_release`), never from the data. Where the
error depends on the data (means divide by a count, quantiles depend on how many records sit near
the quantile), the report says so and gives the accuracy of each noisy part and a bound that holds
for a stated group size, not a figure computed from the true data.

This answers the question OpenDP's users ask most, "how do I choose epsilon?", with a curve of
error against epsilon (:func:`error_curve`) for the chosen statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ParameterError
from ._accounting import opendp
from .release import Part, Plan, ReleaseSpec, contribution_note, plan_release

__all__ = [
    "part_accuracy",
    "StatisticAccuracy",
    "AccuracyReport",
    "accuracy_report",
    "error_curve",
    "DEFAULT_EPSILONS",
    "EXAMPLE_GROUP_SIZES",
]

DEFAULT_EPSILONS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0)
EXAMPLE_GROUP_SIZES: tuple[int, ...] = (100, 1_000, 10_000)


def part_accuracy(part: Part, alpha: float) -> float:
    """Half-width ``a`` with P(|noise| >= a) <= ``alpha`` for a count or sum part, by OpenDP."""
    if not 0 < alpha <= 1:
        raise ParameterError("alpha", alpha, "a number in (0, 1]")
    if part.kind == "quantile":
        raise ParameterError("part", part.name, "a count or sum part (quantiles: rank_bound)")
    dp = opendp()
    scale = float(part.scale)
    if part.mechanism == "discrete Laplace":
        return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))
    if part.mechanism == "Laplace":
        return float(dp.laplacian_scale_to_accuracy(scale, alpha))
    if part.mechanism.startswith("discrete Gaussian") or part.mechanism.startswith(
        "Gaussian stability"
    ):
        return float(dp.discrete_gaussian_scale_to_accuracy(scale, alpha))
    if part.mechanism == "Gaussian":
        return float(dp.gaussian_scale_to_accuracy(scale, alpha))
    raise ParameterError("mechanism", part.mechanism, "a Laplace or Gaussian mechanism")


def rank_bound(part: Part, epsilon: float, alpha: float = 0.05) -> float:
    """Records between a released quantile and the true one, at confidence ``1 - alpha``.

    The exponential mechanism's utility theorem (McSherry & Talwar 2007): with probability at least
    ``1 - alpha`` the selected candidate's utility is within ``(2 d / epsilon) (ln |C| + ln(1 /
    alpha))`` of the best, where utility counts records and ``d`` is one person's contribution
    bound. It holds whatever the data; how far that is *in value* depends on the data's density.
    """
    n_cand = len(part.candidates)
    return 2 * part.sensitivity / epsilon * (math.log(n_cand) + math.log(1 / alpha))


@dataclass(frozen=True)
class StatisticAccuracy:
    """Expected error and 95 % interval of one statistic, in numbers and in words."""

    statistic: str
    column: str | None
    mechanism: str
    noise_scale: float
    typical_error: float | None  # half the time the error is smaller than this
    ci95: float | None  # 95 % of the time the error is smaller than this
    data_dependent: bool
    words: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "column": self.column,
            "mechanism": self.mechanism,
            "noise_scale": self.noise_scale,
            "typical_error": self.typical_error,
            "ci95": self.ci95,
            "data_dependent": self.data_dependent,
            "words": self.words,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AccuracyReport:
    """What a release at ``epsilon`` would look like; spends nothing and reads no data."""

    plan: Plan
    statistics: tuple[StatisticAccuracy, ...]

    def to_dict(self) -> dict[str, Any]:
        spec = self.plan.spec
        return {
            "epsilon": spec.epsilon,
            "delta": spec.delta,
            "epsilon_spent": self.plan.charge.epsilon,
            "rho_spent": self.plan.charge.rho,
            "privacy_unit": spec.privacy_unit,
            "max_contributions": spec.max_contributions,
            "contribution_bounding": contribution_note(spec),
            "mechanism": self.plan.mechanism,
            "noise_scale": {p.name: p.scale for p in self.plan.parts},
            "parts": [p.to_dict() for p in self.plan.parts],
            "statistics": [s.to_dict() for s in self.statistics],
            "spends": "nothing: accuracy comes from the noise parameters, not from the data",
        }

    def words(self) -> list[str]:
        return [s.words for s in self.statistics]


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _per_group(spec: ReleaseSpec) -> str:
    return " per group" if spec.by else ""


def accuracy_report(spec_or_plan: ReleaseSpec | Plan) -> AccuracyReport:
    """Accuracy of every statistic of a release, from the plan alone (no data, no spending)."""
    plan = spec_or_plan if isinstance(spec_or_plan, Plan) else plan_release(spec_or_plan)
    spec = plan.spec
    out: list[StatisticAccuracy] = []
    count_part = plan.part("count") if spec.count_needed else None
    if count_part is not None and spec.count:
        a95, a50 = part_accuracy(count_part, 0.05), part_accuracy(count_part, 0.5)
        words = (
            f"Counts{_per_group(spec)} will be within ±{_fmt(a95)} of the truth 95 % of the time "
            f"(half of the time within ±{_fmt(a50)})."
        )
        if spec.select_keys:
            words += (
                f" Groups with a noisy count below {count_part.threshold} are not released at all."
            )
        out.append(
            StatisticAccuracy(
                "count", None, count_part.mechanism, count_part.scale, a50, a95, False, words, {}
            )
        )
    for col in spec.sums:
        p = plan.part(f"sum:{col}")
        a95, a50 = part_accuracy(p, 0.05), part_accuracy(p, 0.5)
        words = (
            f"Sums of {col}{_per_group(spec)} will be within ±{_fmt(a95)} of the truth (after "
            f"clamping to {spec.bounds[col][0]:g}..{spec.bounds[col][1]:g}) 95 % of the time "
            f"(half of the time within ±{_fmt(a50)})."
        )
        out.append(StatisticAccuracy("sum", col, p.mechanism, p.scale, a50, a95, False, words, {}))
    for col in spec.means:
        p = plan.part(f"sum:{col}")
        assert count_part is not None
        a_s, a_c = part_accuracy(p, 0.025), part_accuracy(count_part, 0.025)
        low, high = spec.bounds[col]
        m = max(abs(low), abs(high))
        # the released mean is clamped to [low, high], so its error never exceeds the range
        by_n = {
            n: (min((a_s + m * a_c) / (n - a_c), high - low) if n > a_c else None)
            for n in EXAMPLE_GROUP_SIZES
        }
        shown = ", ".join(
            f"±{_fmt(v)} for {n:,} people" if v is not None else f"no useful bound for {n:,}"
            for n, v in by_n.items()
        )
        words = (
            f"Means of {col} depend on the data (they divide a noisy sum by a noisy count): the "
            f"sum is within ±{_fmt(a_s)} and the count within ±{_fmt(a_c)} 97.5 % of the time "
            f"each, so the mean is within {shown} 95 % of the time whatever the values."
        )
        out.append(
            StatisticAccuracy(
                "mean",
                col,
                p.mechanism,
                p.scale,
                None,
                None,
                True,
                words,
                {
                    "sum_ci975": a_s,
                    "count_ci975": a_c,
                    "bound_by_group_size": {str(n): v for n, v in by_n.items()},
                },
            )
        )
    for col, q in spec.quantiles:
        p = plan.part(f"quantile:{col}:{q:g}")
        eps = p.epsilon or math.sqrt(2 * p.rho)
        r = rank_bound(p, eps)
        step = (p.candidates[-1] - p.candidates[0]) / (len(p.candidates) - 1)
        words = (
            f"The {q:g}-quantile of {col} depends on the data: 95 % of the time at most "
            f"{_fmt(r)} records lie between the released value and the true quantile (plus the "
            f"candidate grid's step of {step:g}); how far that is in value depends on how "
            "densely the data sit around the quantile."
        )
        out.append(
            StatisticAccuracy(
                "quantile",
                col,
                p.mechanism,
                p.scale,
                None,
                None,
                True,
                words,
                {"rank_bound_95": r, "grid_step": step, "candidates": len(p.candidates)},
            )
        )
    return AccuracyReport(plan, tuple(out))


def error_curve(
    spec: ReleaseSpec, epsilons: Iterable[float] = DEFAULT_EPSILONS
) -> list[dict[str, Any]]:
    """95 % error of each statistic at each epsilon (rows for a chart or a table).

    Data-dependent statistics plot their data-independent figure: a mean's bound for
    1,000 people, a quantile's rank bound.
    """
    rows: list[dict[str, Any]] = []
    for eps in sorted(set(float(e) for e in epsilons)):
        report = accuracy_report(replace(spec, epsilon=eps))
        for s in report.statistics:
            if s.statistic == "mean":
                value = s.detail["bound_by_group_size"].get("1000")
                unit = "mean error for 1,000 people"
            elif s.statistic == "quantile":
                value = s.detail["rank_bound_95"]
                unit = "records between released and true quantile"
            else:
                value = s.ci95
                unit = s.statistic
            label = s.statistic if s.column is None else f"{s.statistic} of {s.column}"
            rows.append({"epsilon": eps, "statistic": label, "error95": value, "unit": unit})
    return rows
