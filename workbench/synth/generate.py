"""Differentially private synthetic data from noisy marginals (MST and AIM, through OpenDP).

Why these two: on census-like tables the marginal-based synthesizers MST (McKenna, Miklau &
Sheldon, "Winning the NIST Contest: A scalable and general approach to differentially private
synthetic data", JPC 2021) and AIM (McKenna, Mullins, Sheldon & Miklau, "AIM: An Adaptive and
Iterative Mechanism for Differentially Private Synthetic Data", VLDB 2022) are the state of the
art, and OpenDP 0.16 ships both (``dp.mbi.MST``, ``dp.mbi.AIM``, extra ``opendp[mbi]``) with its
own privacy accounting: one audited library spends the budget, we do not re-implement noise.

What the caller must give, and why
----------------------------------
* **Categories or bins for every column** (``keys``, ``bins``): reading a column's categories or
  its minimum and maximum from the data would leak them. A column with neither is allowed only
  with ``delta > 0``: OpenDP then discovers its categories under DP (stable-key thresholding),
  and categories seen too rarely become missing.
* **The privacy unit** and its **contribution bound**. ``"row"`` protects rows; a column name
  protects the people it identifies: each person's rows are cut to ``contributions`` at random
  (independently of anyone else's rows), so adding or removing a person changes at most
  ``contributions`` rows, and OpenDP is told exactly that bound.

Numeric columns are binned by the caller's edges into labels ``<e0``, ``[e0, e1[``, ...,
``>=ek`` before synthesis; the synthetic table holds those labels (the real table binned by
:func:`bin_columns` is what fidelity and attacks compare against). OpenDP draws its noise from a
cryptographically secure source, so a synthesis cannot be seeded; only the truncation is.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError, PrivacyWarning

__all__ = ["METHODS", "SynthResult", "bin_columns", "bin_labels", "synthesize"]

METHODS = ("mst", "aim")
_MISSING = "<missing>"


@dataclass(frozen=True, eq=False)
class SynthResult:
    """A synthetic table and what was spent to make it."""

    data: pd.DataFrame
    method: str
    epsilon: float
    delta: float
    privacy_unit: str
    contributions: int
    columns: tuple[str, ...]
    bins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    discovered: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Parameters and budget (never a value of the data)."""
        return {
            "method": self.method,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "privacy_unit": self.privacy_unit,
            "contributions": self.contributions,
            "columns": list(self.columns),
            "bins": {c: list(b) for c, b in self.bins.items()},
            "categories_discovered_under_dp": list(self.discovered),
            "rows": len(self.data),
        }


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bins cut by ``edges``: ``<e0``, ``[e0, e1[``, ..., ``>=ek``."""
    e = [_num(x) for x in edges]
    inner = [f"[{a}, {b}[" for a, b in zip(e[:-1], e[1:], strict=True)]
    return [f"<{e[0]}", *inner, f">={e[-1]}"]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def bin_columns(frame: Any, bins: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Replace each numeric column of ``bins`` by its bin label (missing stays missing).

    Edges must be strictly increasing; they come from the caller (or a published hierarchy),
    never from the data.
    """
    df = as_pandas(frame).copy()
    check_columns(df, list(bins), "the table to bin")
    for col, edges in bins.items():
        e = np.asarray([float(x) for x in edges])
        if len(e) == 0 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise ParameterError(f"bins[{col}]", list(edges), "strictly increasing finite edges")
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        if df[col].notna().sum() != (~np.isnan(values)).sum():
            raise ParameterError(
                f"bins[{col}]", f"column {col!r}", "a numeric column (some values are not numbers)"
            )
        idx = np.searchsorted(e, values, side="right")
        labels = np.asarray(bin_labels(edges), dtype=object)
        out = np.where(np.isnan(values), None, labels[np.minimum(idx, len(e))])
        df[col] = pd.Series(out, index=df.index, dtype="string")
    return df


def _truncate(df: pd.DataFrame, unit: str, k: int, seed: int) -> pd.DataFrame:
    """Keep at most ``k`` rows per unit, chosen at random per unit (data-independent)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(df))
    shuffled = df.iloc[order]
    rank = shuffled.groupby(unit, dropna=False, sort=False).cumcount().to_numpy()
    return shuffled.loc[shuffled.index[rank < k]].sort_index()


def synthesize(
    data: Any,
    columns: Sequence[str],
    *,
    method: str = "mst",
    epsilon: float,
    delta: float = 0.0,
    privacy_unit: str = "row",
    contributions: int = 1,
    keys: Mapping[str, Sequence[Any]] | None = None,
    bins: Mapping[str, Sequence[float]] | None = None,
    rows: int | None = None,
    seed: int = 0,
) -> SynthResult:
    """Generate a DP synthetic table of ``columns`` with OpenDP's MST or AIM.

    Parameters
    ----------
    data : table
        The real records (Dataset, pandas, polars, DuckDB).
    columns : list of str
        Columns to synthesize (the privacy unit column is never one of them).
    method : {"mst", "aim"}
    epsilon, delta : float
        Privacy loss of this synthesis (``delta`` > 0 only to discover categories under DP).
    privacy_unit : "row" or column name
        Who is protected; ``contributions`` bounds the rows one unit may have.
    keys : mapping column -> categories
        Public categories of categorical columns (values outside become missing).
    bins : mapping column -> edges
        Public bin edges of numeric columns.
    rows : int, optional
        Rows to generate (default: about the DP estimate of the table's size).
    seed : int
        Seed of the per-unit truncation only (OpenDP's noise cannot be seeded).
    """
    from .._extras import require

    if method not in METHODS:
        raise ParameterError("method", method, f"one of {', '.join(METHODS)}")
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise ParameterError("epsilon", epsilon, "a finite number > 0")
    if not (isinstance(delta, int | float) and 0 <= delta < 1):
        raise ParameterError("delta", delta, "a number in [0, 1)")
    if not (isinstance(contributions, int) and contributions >= 1):
        raise ParameterError("contributions", contributions, "an integer >= 1")
    if rows is not None and not (isinstance(rows, int) and rows >= 1):
        raise ParameterError("rows", rows, "an integer >= 1")
    cols = list(dict.fromkeys(columns))
    if len(cols) < 2:
        raise ParameterError("columns", cols, "at least two columns to synthesize")
    if privacy_unit in cols:
        raise ParameterError("privacy_unit", privacy_unit, "a column not among those synthesized")
    keys = {c: [str(v) for v in vs] for c, vs in (keys or {}).items()}
    bins = {c: [float(x) for x in e] for c, e in (bins or {}).items()}
    for c in [*keys, *bins]:
        if c not in cols:
            raise ParameterError("keys/bins", c, f"one of the synthesized columns {cols}")
    both = sorted(set(keys) & set(bins))
    if both:
        raise ParameterError("keys/bins", both, "either categories or bins for a column, not both")
    undiscovered = [c for c in cols if c not in keys and c not in bins]
    if undiscovered and delta == 0:
        raise ParameterError(
            "delta",
            0,
            f"> 0 to discover the categories of {undiscovered} under DP "
            "(or give their categories / bins: reading them from the data would leak them)",
        )
    if not undiscovered and delta > 0:
        warnings.warn(
            f"delta={delta} is not needed when every column has public categories or bins; "
            "it is not spent",
            PrivacyWarning,
            stacklevel=2,
        )
        delta = 0.0
    if contributions > 1 and privacy_unit == "row":
        warnings.warn(
            "contributions > 1 with privacy unit 'row' protects groups of rows, not people; "
            "name the person column as privacy unit instead",
            PrivacyWarning,
            stacklevel=2,
        )

    df = as_pandas(data)
    check_columns(df, [*cols, *([] if privacy_unit == "row" else [privacy_unit])], "the data")
    if privacy_unit != "row":
        df = _truncate(df[[*cols, privacy_unit]], privacy_unit, contributions, seed)
    df = bin_columns(df[cols], bins)
    for c in cols:  # every value as text: keys and values compare as strings
        df[c] = df[c].astype("string")
    all_keys = {**keys, **{c: bin_labels(e) for c, e in bins.items()}}

    dp = require("opendp.prelude", "DP synthetic data")
    require("mbi", "DP synthetic data")
    import polars as pl

    dp.enable_features("contrib")
    loss = {"epsilon": float(epsilon)} | ({"delta": float(delta)} if delta > 0 else {})
    lazy = pl.from_pandas(df).lazy()
    algorithm = dp.mbi.MST() if method == "mst" else dp.mbi.AIM()
    with warnings.catch_warnings():
        # OpenDP warns that the contrib features are enabled: we did that on purpose
        warnings.filterwarnings("ignore", category=UserWarning, module="opendp")
        ctx = dp.Context.compositor(
            data=lazy,
            privacy_unit=dp.unit_of(contributions=contributions),
            privacy_loss=dp.loss_of(**loss),
        )
        table = (
            ctx.query(**loss)
            .select(*cols)
            .contingency_table(keys=all_keys, algorithm=algorithm)
            .release()
        )
        out = table.synthesize(rows).to_pandas()
    # mbi writes rows grouped by value; shuffle so that row order carries nothing
    out = out.iloc[np.random.default_rng(seed).permutation(len(out))]
    for c in cols:
        out[c] = out[c].astype("string")
    return SynthResult(
        out[cols].reset_index(drop=True),
        method,
        float(epsilon),
        float(delta),
        privacy_unit,
        contributions,
        tuple(cols),
        {c: tuple(e) for c, e in bins.items()},
        tuple(undiscovered),
    )
