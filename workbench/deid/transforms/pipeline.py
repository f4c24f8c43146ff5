"""A pipeline: transforms applied in order, each step's result kept for provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...dataset import as_pandas
from ...errors import ParameterError
from ..pseudonym import (
    DEFAULT_KEY_ENV,
)
from .base import Transform, TransformResult
from .pseudonymize import Pseudonymize

__all__ = ["PipelineResult", "Pipeline"]


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """Output of a :class:`Pipeline`: final table, per-step results and suppressed records."""

    data: pd.DataFrame
    steps: tuple[TransformResult, ...]
    suppressed: np.ndarray

    @property
    def records_suppressed(self) -> int:
        """Records suppressed by any step."""
        return int(np.count_nonzero(self.suppressed))

    @property
    def cells_suppressed(self) -> int:
        """Cells set to ``"*"`` over all steps."""
        return int(sum(s.cells_suppressed for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (never the rows)."""
        return {
            "records": int(len(self.data)),
            "records_suppressed": self.records_suppressed,
            "cells_suppressed": self.cells_suppressed,
            "steps": [s.to_dict() for s in self.steps],
        }

    def write(
        self,
        path: str | Path,
        direct_identifiers: str = "drop",
        *,
        roles: Any = None,
        key_env: str = DEFAULT_KEY_ENV,
        key_file: str | Path | None = None,
        sources: Sequence[str | Path] = (),
        sep: str | None = None,
    ) -> Any:
        """Write the table as a release (:func:`workbench.deid.release.write_release`).

        Columns a :class:`Pseudonymize` step replaced are written as ``<column>_pseudonym`` (so
        neither a reader nor the gate takes them for the identifier); remaining direct
        identifiers are dropped, pseudonymized or (explicitly) kept. Returns the
        :class:`~workbench.deid.release.ReleaseReport` to record in provenance.
        """
        from ..release import PSEUDONYM_SUFFIX, write_release

        done = [
            c
            for s in self.steps
            if s.transform == Pseudonymize.kind
            for c in s.parameters.get("columns", ())
            if c in self.data.columns
        ]
        frame = self.data.rename(columns={c: f"{c}{PSEUDONYM_SUFFIX}" for c in done})
        if roles is not None and done:
            from ...profiling.roles import RoleMap

            rmap = roles if isinstance(roles, RoleMap) else RoleMap.from_dict(roles)
            kept = {c: r for c, r in rmap.roles.items() if c not in done}
            roles = RoleMap({**kept, **{f"{c}{PSEUDONYM_SUFFIX}": "other" for c in done}})
        return write_release(
            frame,
            path,
            direct_identifiers,
            roles=roles,
            key_env=key_env,
            key_file=key_file,
            sources=sources,
            sep=sep,
        )

    def __repr__(self) -> str:
        return (
            f"PipelineResult(records={len(self.data)}, steps={len(self.steps)}, "
            f"records_suppressed={self.records_suppressed})"
        )


@dataclass(frozen=True)
class Pipeline:
    """Transforms applied in order; each step's result is kept for the provenance record."""

    steps: tuple[Transform, ...] = ()

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for i, s in enumerate(steps):
            if not isinstance(s, Transform):
                raise ParameterError(f"steps[{i}]", type(s).__name__, "a Transform")
        object.__setattr__(self, "steps", steps)

    def apply(self, data: Any) -> PipelineResult:
        """Apply every step to the previous step's output; ``data`` is not changed."""
        current = data
        suppressed = None
        results = []
        for step in self.steps:
            res = step.apply(current, suppressed=suppressed)
            results.append(res)
            current, suppressed = res.data, res.suppressed
        if not results:
            df = as_pandas(data).copy(deep=True)
            return PipelineResult(df, (), np.zeros(len(df), dtype=bool))
        return PipelineResult(current, tuple(results), suppressed)

    def to_dict(self) -> dict[str, Any]:
        """``{"steps": [transform.to_dict(), ...]}``."""
        return {"steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], **context: Any) -> Pipeline:
        """Inverse of :meth:`to_dict` (``context`` is passed to each step, e.g. hierarchies)."""
        if not isinstance(d, Mapping) or not isinstance(d.get("steps"), list):
            raise ParameterError("pipeline", d, "a mapping with a list under 'steps'")
        return cls(tuple(Transform.from_dict(s, **context) for s in d["steps"]))
