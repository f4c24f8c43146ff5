"""Replace direct identifiers by keyed HMAC pseudonyms (the one definition lives in
:mod:`workbench.deid.pseudonym`; the key is read at apply time and never recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ..pseudonym import (
    DEFAULT_KEY_ENV,
    PSEUDONYM_LENGTH,
    load_pseudonym_key,
    pseudonym_collision_probability,
    pseudonymize_values,
)
from .base import Transform, _as_columns

__all__ = ["Pseudonymize"]


@dataclass(frozen=True)
class Pseudonymize(Transform):
    """Replace direct identifiers by keyed HMAC-SHA256 pseudonyms (hex, truncated).

    The key comes from ``key_file`` when named, else from the environment variable ``key_env``,
    at apply time (:func:`~workbench.deid.pseudonym.load_pseudonym_key`); it is never an attribute, so neither ``repr`` nor ``to_dict`` (provenance) can show it, and
    no fingerprint of it is recorded: only the source name ("env:WORKBENCH_PSEUDONYM_KEY").
    Truncation to ``length`` hex characters gives ``4 * length`` bits; see
    :func:`pseudonym_collision_probability`.
    """

    columns: tuple[str, ...]
    key_env: str = DEFAULT_KEY_ENV
    key_file: str | None = None
    length: int = PSEUDONYM_LENGTH
    strip: bool = True
    casefold: bool = False
    kind: ClassVar[str] = "pseudonymize"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _as_columns(self.columns, "columns"))
        if self.key_file is not None:
            object.__setattr__(self, "key_file", str(self.key_file))
        if not isinstance(self.length, int) or not 1 <= self.length <= 64:
            raise ParameterError(
                "length", self.length, "an integer between 1 and 64 hex characters"
            )
        if not self.key_env:
            raise ParameterError("key_env", self.key_env, "an environment variable name")

    def columns_used(self) -> tuple[str, ...]:
        return self.columns

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        # the key rule of workbench.deid.pseudonym: a named key file wins over the environment
        d["key_source"] = f"file:{self.key_file}" if self.key_file else f"env:{self.key_env}"
        return d

    @classmethod
    def _from_params(cls, params, **context):
        params = {k: v for k, v in params.items() if k != "key_source"}
        return super()._from_params(params, **context)

    def _transform(self, df, suppressed):
        key, source = load_pseudonym_key(self.key_env, self.key_file)
        for col in self.columns:
            values = pseudonymize_values(
                df[col].tolist(), key, self.length, self.strip, self.casefold
            )
            df[col] = pd.Series(values, index=df.index, dtype="str")
        del key
        n_distinct = {c: int(df[c].nunique()) for c in self.columns}
        return (
            {
                "key_source": source,
                "distinct_pseudonyms": n_distinct,
                "collision_probability": {
                    c: pseudonym_collision_probability(v, self.length)
                    for c, v in n_distinct.items()
                },
            },
            np.zeros(len(df), dtype=bool),
        )
