"""k-anonymity (Sweeney 2002, "k-anonymity: a model for protecting privacy", IJUFKS 10(5)).

Every released equivalence class holds at least ``k`` records. Monotone with and without
suppression: when classes merge, a record in a class of size >= k stays in one (ARX
``KAnonymity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError
from .base import Classes, PrivacyModel

__all__ = ["KAnonymity"]


@dataclass(frozen=True)
class KAnonymity(PrivacyModel):
    """Every released class has at least ``k`` records."""

    k: int

    key: ClassVar[str] = "k_anonymity"
    policy_key: ClassVar[str | None] = "min_k"
    direction: ClassVar[str] = "min"
    monotone_with_suppression: ClassVar[bool] = True
    reference: ClassVar[str] = "Sweeney 2002"
    title: ClassVar[str] = "minimum k"
    policy_schema: ClassVar[dict[str, Any] | None] = {"type": "integer", "minimum": 1}

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ParameterError("k", self.k, "an integer >= 1")

    @property
    def limit(self) -> int:
        return int(self.k)

    def class_pass(self, classes: Classes) -> np.ndarray:
        return (classes.sizes >= self.k) | classes.empty

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        kept = classes.sizes[released & ~classes.empty]
        return int(kept.min()) if len(kept) else None

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        if ok:
            return f"Every combination of {context} is shared by at least {measured} records."
        return (
            f"Some combination of {context} is shared by only {measured} record(s); the policy "
            f"requires at least {self.k}. Generalize or suppress these quasi-identifiers "
            f"(for example 'workbench anonymize --k {self.k}') before release."
        )

    def describe(self) -> str:
        return f"every combination of quasi-identifiers is shared by at least {self.k} records"
