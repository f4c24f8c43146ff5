"""Re-identification risk limits as privacy models: average, highest, records at risk, and
population uniqueness.

* Average risk (El Emam 2013; ARX ``AverageReidentificationRisk``): the prosecutor average risk
  of the released records, ``classes / records`` (``1 / average class size``), at most the
  limit. Dataset-level; we prune with it only without suppression (ARX also prunes with
  suppression; we keep the conservative choice the search has always made).
* Highest risk: every released record's risk ``1 / f_k`` at most the limit -- a per-class check
  made directly on ``1 / size``, not through a derived ``k``; monotone like k-anonymity.
* Records at risk: at most ``share`` of all records have risk strictly above ``threshold``
  (the one rule of :func:`workbench.risk.measures.at_risk`, as ARX's
  ``RiskModelSampleSummary``). Dataset-level, not monotone with suppression. (ARX's relaxed
  ``AverageReidentificationRisk(avg, highest, records)`` instead counts records in classes of
  size up to ``1 / highest``, i.e. a class exactly at the limit counts as at risk there.)
* Population uniqueness (ARX ``PopulationUniqueness``): the estimated share of the population
  that is unique on the released quasi-identifiers, ``uniques / N`` with Dankar et al.'s (2012)
  choice of estimator (:mod:`workbench.risk.population`), at most the limit. As in ARX a table
  without sample uniques passes, and (failing closed) an unavailable estimate fails. Not
  monotone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import Classes, PrivacyModel

__all__ = ["AverageRisk", "HighestRisk", "RecordsAtRisk", "PopulationUniqueness"]

_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


def _check_share(name: str, v: Any) -> None:
    # 0 is a valid (if unsatisfiable) policy limit; the search itself asks for (0, 1]
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ParameterError(name, v, "a number in [0, 1]")


def _kept(classes: Classes, released: np.ndarray) -> np.ndarray:
    return classes.sizes[released & ~classes.empty]


@dataclass(frozen=True)
class AverageRisk(PrivacyModel):
    """Prosecutor average risk of the released records at most ``limit``."""

    max_risk: float

    # an exact ratio of counts: a value one bit past the limit fails (no slack)
    tolerance: ClassVar[float] = 0.0
    key: ClassVar[str] = "average_risk"
    policy_key: ClassVar[str | None] = "max_average_risk"
    direction: ClassVar[str] = "max"
    reference: ClassVar[str] = "El Emam 2013; ARX AverageReidentificationRisk"
    title: ClassVar[str] = "maximum average risk"
    policy_schema: ClassVar[dict[str, Any] | None] = _SHARE

    def __post_init__(self) -> None:
        _check_share("max_average_risk", self.max_risk)

    @property
    def limit(self) -> float:
        return float(self.max_risk)

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        kept = _kept(classes, released)
        return float(len(kept) / kept.sum()) if len(kept) else 0.0

    def dataset_pass(self, classes: Classes, released: np.ndarray) -> bool:
        return self.satisfied_by(self.measure(classes, released))

    def describe(self) -> str:
        return f"on average a record is re-identified with probability at most {self.max_risk:g}"

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        if ok:
            return f"Average re-identification risk {measured:.4g} is within the limit."
        return (
            f"On average a record can be re-identified with probability {measured:.4g}; the "
            f"limit is {self.max_risk:.4g}. Generalize quasi-identifiers so that groups "
            "of identical records become larger."
        )


@dataclass(frozen=True)
class HighestRisk(PrivacyModel):
    """Every released record's prosecutor risk ``1 / f_k`` at most ``limit``."""

    max_risk: float

    # an exact ratio of counts: a value one bit past the limit fails (no slack)
    tolerance: ClassVar[float] = 0.0
    key: ClassVar[str] = "highest_risk"
    policy_key: ClassVar[str | None] = "max_highest_risk"
    direction: ClassVar[str] = "max"
    monotone_with_suppression: ClassVar[bool] = True
    reference: ClassVar[str] = "El Emam 2013"
    title: ClassVar[str] = "maximum highest risk"
    policy_schema: ClassVar[dict[str, Any] | None] = _SHARE

    def __post_init__(self) -> None:
        _check_share("max_highest_risk", self.max_risk)

    @property
    def limit(self) -> float:
        return float(self.max_risk)

    def class_pass(self, classes: Classes) -> np.ndarray:
        sizes = classes.sizes
        with np.errstate(divide="ignore"):
            risk = 1.0 / np.where(sizes > 0, sizes, 1)
        return (risk <= self.max_risk) | classes.empty  # 1 / size is exact: no slack

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        kept = _kept(classes, released)
        return float(1.0 / kept.min()) if len(kept) else 0.0

    def describe(self) -> str:
        return f"no record is re-identified with probability above {self.max_risk:g}"

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        if ok:
            return f"The most exposed record has risk {measured:.4g}, within the limit."
        return (
            f"The most exposed record can be re-identified with probability {measured:.4g}; "
            f"the limit is {self.max_risk:.4g}. Suppress or generalize the rarest "
            "combinations of quasi-identifiers."
        )


@dataclass(frozen=True)
class RecordsAtRisk(PrivacyModel):
    """At most ``share`` of the records have a risk strictly above ``threshold``."""

    share: float
    threshold: float = 0.2

    # an exact ratio of counts: a value one bit past the limit fails (no slack)
    tolerance: ClassVar[float] = 0.0
    key: ClassVar[str] = "records_at_risk"
    policy_key: ClassVar[str | None] = "max_records_at_risk"
    direction: ClassVar[str] = "max"
    monotone_without_suppression: ClassVar[bool] = True
    reference: ClassVar[str] = "El Emam 2013; ARX RiskModelSampleSummary"
    title: ClassVar[str] = "maximum records at risk"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["share", "threshold"],
        "properties": {
            "share": {"type": "number", "minimum": 0, "maximum": 1},
            "threshold": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }

    def __post_init__(self) -> None:
        for name, v in (("share", self.share), ("threshold", self.threshold)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise ParameterError(name, v, "a number in [0, 1]")

    @property
    def limit(self) -> float:
        return float(self.share)

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        from ..risk.measures import records_at_risk

        kept = _kept(classes, released).astype(np.float64)
        if not len(kept):
            return 0.0
        return records_at_risk(1.0 / kept, kept, self.threshold, total=classes.n_records)

    def dataset_pass(self, classes: Classes, released: np.ndarray) -> bool:
        return self.satisfied_by(self.measure(classes, released))

    def describe(self) -> str:
        return (
            f"at most {self.share:.2%} of records are re-identified with probability above "
            f"{self.threshold:g}"
        )

    @property
    def policy_limit(self) -> dict[str, float]:
        return {"share": self.share, "threshold": self.threshold}

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        if ok:
            return (
                f"{measured:.2%} of records have a risk above {self.threshold:.4g}, within the "
                f"limit of {self.share:.2%}."
            )
        return (
            f"{measured:.2%} of records have a re-identification risk above "
            f"{self.threshold:.4g}; at most {self.share:.2%} may. Generalize or suppress the "
            "records in small groups."
        )

    @classmethod
    def combine_policy(cls, values: list[Any]) -> Any:
        return {
            "share": min(v["share"] for v in values),
            "threshold": min(v["threshold"] for v in values),
        }

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(value["share"]), float(value["threshold"]))]


@dataclass(frozen=True)
class PopulationUniqueness(PrivacyModel):
    """Estimated share of population uniques at most ``max_share`` (needs the population size)."""

    max_share: float
    population_size: float | None = None

    # an exact ratio of counts: a value one bit past the limit fails (no slack)
    tolerance: ClassVar[float] = 0.0
    key: ClassVar[str] = "population_uniqueness"
    policy_key: ClassVar[str | None] = "max_population_uniqueness"
    direction: ClassVar[str] = "max"
    monotone_without_suppression: ClassVar[bool] = False
    reference: ClassVar[str] = "Dankar et al. 2012; ARX PopulationUniqueness"
    title: ClassVar[str] = "maximum population uniqueness"
    policy_schema: ClassVar[dict[str, Any] | None] = _SHARE

    def __post_init__(self) -> None:
        _check_share("max_population_uniqueness", self.max_share)
        if self.population_size is not None and not self.population_size > 0:
            raise ParameterError("population_size", self.population_size, "a positive number")

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset() if self.population_size else frozenset({"population_size"})

    @property
    def limit(self) -> float:
        return float(self.max_share)

    def _population(self, classes: Classes) -> float:
        n = self.population_size if self.population_size is not None else classes.population_size
        if n is None:
            raise ParameterError(
                "population_size", None, "the population size for population uniqueness"
            )
        return float(n)

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        """Estimated population uniques / population size; ``None`` when unavailable."""
        from ..risk.population import population_uniqueness

        kept = _kept(classes, released)
        if not len(kept) or not (kept == 1).any():
            return 0.0  # ARX: no sample uniques, no population uniques
        big_n = self._population(classes)
        est = population_uniqueness(kept, max(big_n, float(kept.sum()))).dankar
        return None if est.uniques is None else float(est.uniques) / big_n

    def dataset_pass(self, classes: Classes, released: np.ndarray) -> bool:
        return self.satisfied_by(self.measure(classes, released))

    def describe(self) -> str:
        return (
            f"at most {self.max_share:.2%} of the population is estimated to be unique on the "
            "released quasi-identifiers"
        )

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(value))]
