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

* Or **a published hierarchy** (``hierarchies``: an ARX hierarchy file or
  :class:`~workbench.deid.Hierarchy`, at a level): the column is generalized to that level and
  the level's values are its domain. This is how a code list (postal codes, occupations) or an
  interval hierarchy of ages becomes public: a value of the data that is not a leaf becomes
  missing, exactly as a value outside ``keys`` does, so a category that is only in the data
  never appears in the synthetic table. A hierarchy built in memory (not read from a file) may
  have been built from the data (:func:`~workbench.deid.hierarchy.auto_hierarchy` does that);
  it is accepted with a :class:`~workbench.errors.PrivacyWarning`.

Numeric columns are binned by the caller's edges into labels ``<e0``, ``[e0, e1[``, ...,
``>=ek`` before synthesis; the synthetic table holds those labels (the real table binned by
:func:`bin_columns` is what fidelity and attacks compare against). OpenDP draws its noise from a
cryptographically secure source, so a synthesis cannot be seeded; only the truncation is.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError, PrivacyWarning

__all__ = [
    "METHODS",
    "apply_domains",
    "resolve_hierarchies",
    "SynthResult",
    "bin_columns",
    "bin_labels",
    "plan_charge",
    "synthesize",
    "synth_release",
]

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
    charge: Mapping[str, float] = field(default_factory=dict)
    ledger: Mapping[str, Any] | None = None
    hierarchies: Mapping[str, tuple[Any, int]] = field(default_factory=dict)

    def domains(self) -> dict[str, Any]:
        """The ``bins`` and ``hierarchies`` keywords that bin real tables the same way."""
        return {"bins": dict(self.bins), "hierarchies": dict(self.hierarchies)}

    def to_dict(self) -> dict[str, Any]:
        """Parameters and budget (never a value of the data)."""
        return {
            "charge": dict(self.charge),
            "ledger": None if self.ledger is None else dict(self.ledger),
            "method": self.method,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "privacy_unit": self.privacy_unit,
            "contributions": self.contributions,
            "columns": list(self.columns),
            "bins": {c: list(b) for c, b in self.bins.items()},
            "hierarchies": {
                c: {"source": h.source, "level": lv, "values": len(h.values(lv))}
                for c, (h, lv) in self.hierarchies.items()
            },
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


def resolve_hierarchies(
    hierarchies: Mapping[str, Any] | None, *, warn: bool = True
) -> dict[str, tuple[Any, int]]:
    """``{column: (Hierarchy, level)}`` from hierarchies, ``(hierarchy, level)`` pairs or paths.

    A path is read as an ARX hierarchy file (level 0: the leaves). A hierarchy that was not read
    from a file may have been built from the data, which would make its leaves the data's own
    categories: that gets a :class:`~workbench.errors.PrivacyWarning` (``warn=False`` for a
    hierarchy the caller already vouched for, e.g. re-applied at evaluation).
    """
    from ..deid.hierarchy import Hierarchy

    out: dict[str, tuple[Any, int]] = {}
    for col, spec in (hierarchies or {}).items():
        h, level = spec if isinstance(spec, tuple) else (spec, 0)
        if isinstance(h, str | Path):
            h = Hierarchy.from_csv(h, name=str(col))
        if not isinstance(h, Hierarchy):
            raise ParameterError(
                f"hierarchies[{col}]", type(h).__name__, "a Hierarchy, a hierarchy file or a pair"
            )
        if not isinstance(level, int) or not 0 <= level < h.max_level + (h.levels == 1):
            raise ParameterError(
                f"hierarchies[{col}] level",
                level,
                f"an integer in 0..{max(h.max_level - 1, 0)} (the top level releases nothing)",
            )
        if warn and h.source is None:
            warnings.warn(
                f"the hierarchy of column {col!r} was not read from a file: if it was built from "
                "the data (auto_hierarchy does that), its values are the data's own categories "
                "and synthesizing over them leaks which exist; use a published code list",
                PrivacyWarning,
                stacklevel=3,
            )
        out[str(col)] = (h, int(level))
    return out


def apply_domains(
    frame: Any,
    bins: Mapping[str, Sequence[float]] | None = None,
    hierarchies: Mapping[str, tuple[Any, int]] | None = None,
) -> pd.DataFrame:
    """Put columns into their public domain: bin numeric ones, generalize hierarchical ones.

    The one transformation the synthesizer's input and the evaluation's real tables share. A
    value that is not a leaf of its column's hierarchy becomes missing (as a value outside a
    column's ``keys`` does in OpenDP), and nothing says which value it was.
    """
    from ..deid.hierarchy import value_strings

    df = bin_columns(frame, bins or {})
    for col, (h, level) in (hierarchies or {}).items():
        check_columns(df, [col], "the table to generalize")
        spelled = value_strings(df[col])
        known = spelled.isin(set(h.leaves)).to_numpy()
        out = pd.Series(pd.NA, index=df.index, dtype="string")
        if known.any():
            out[known] = h.generalize(spelled[known], level).astype("string").to_numpy()
        df[col] = out
    return df


def plan_charge(epsilon: float, delta: float) -> tuple[dict[str, float], Any]:
    """OpenDP privacy loss to ask for, and the ledger :class:`~workbench.dp.Charge` it costs.

    Pure DP (``delta == 0``, every category public): OpenDP runs MST/AIM under
    ``epsilon``-DP; the ledger converts it as every pure-epsilon release, ``rho = epsilon^2/2``.
    With ``delta > 0`` (categories discovered): half of ``delta`` goes to the stable-key
    threshold, and the synthesis runs under ``rho``-zCDP with the largest ``rho`` that converts
    to (``epsilon``, ``delta``)-DP with the other half, as :mod:`workbench.dp` releases do.
    """
    from ..dp import Charge, rho_for_epsilon, zcdp_epsilon

    if delta == 0:
        return {"epsilon": float(epsilon)}, Charge(epsilon**2 / 2, 0.0, float(epsilon), 0.0)
    delta_keys = delta / 2
    rho = rho_for_epsilon(epsilon, delta - delta_keys)
    own = zcdp_epsilon(rho, delta - delta_keys)
    return {"rho": rho, "delta": delta_keys}, Charge(rho, delta_keys, own, float(delta))


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
    hierarchies: Mapping[str, Any] | None = None,
    rows: int | None = None,
    seed: int = 0,
    before_noise: Callable[[Any], Mapping[str, Any] | None] | None = None,
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
    hierarchies : mapping column -> Hierarchy, file, or (hierarchy, level)
        Published hierarchies: the column is generalized to the level (default 0, the leaves)
        and that level's values are its domain; values without a leaf become missing.
    rows : int, optional
        Rows to generate (default: about the DP estimate of the table's size).
    seed : int
        Seed of the per-unit truncation only (OpenDP's noise cannot be seeded).
    before_noise : callable, optional
        Called with the :class:`~workbench.dp.Charge` after every check and before OpenDP runs
        (:func:`synth_release` charges the ledger there); may raise to stop the synthesis.
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
    hiers = resolve_hierarchies(hierarchies)
    for c in [*keys, *bins, *hiers]:
        if c not in cols:
            raise ParameterError(
                "keys/bins/hierarchies", c, f"one of the synthesized columns {cols}"
            )
    both = sorted((set(keys) & set(bins)) | (set(keys) & set(hiers)) | (set(bins) & set(hiers)))
    if both:
        raise ParameterError(
            "keys/bins/hierarchies", both, "one public domain per column (categories, bins or "
            "a hierarchy), not two"
        )  # fmt: skip
    undiscovered = [c for c in cols if c not in keys and c not in bins and c not in hiers]
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
    df = apply_domains(df[cols], bins, hiers)
    for c in cols:  # every value as text: keys and values compare as strings
        df[c] = df[c].astype("string")
    all_keys = {
        **keys,
        **{c: bin_labels(e) for c, e in bins.items()},
        **{c: list(h.values(lv)) for c, (h, lv) in hiers.items()},
    }

    dp = require("opendp.prelude", "DP synthetic data")
    require("mbi", "DP synthetic data")
    import polars as pl

    dp.enable_features("contrib")
    loss, charge = plan_charge(float(epsilon), float(delta))
    ledger = before_noise(charge) if before_noise is not None else None
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
        charge.to_dict(),
        ledger,
        hiers,
    )


def synth_release(
    data: Any,
    columns: Sequence[str],
    *,
    ledger: Any,
    population: str | None = None,
    budget: Any = None,
    policies: Sequence[Any] = (),
    catalog: Any = None,
    user: str | None = None,
    datasets: Sequence[str] = (),
    departments: Sequence[str] = (),
    **synth_args: Any,
) -> SynthResult:
    """:func:`synthesize`, charged to the population's privacy-loss ledger before any noise.

    The ledger and its budget work as for DP releases (:func:`workbench.dp.dp_release`): a new
    ledger takes the policies' ``dp_budget`` or ``budget``; a charge past the budget raises
    :class:`~workbench.errors.BudgetExceededError` and nothing is synthesized or written.
    ``datasets`` and ``departments`` name, in the ledger, the source of a table passed in
    memory (e.g. the training half of a catalog dataset).
    """
    from ..dp import Budget, Ledger, resolve_sources

    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    if isinstance(budget, str):
        budget = Budget.parse(budget)
    src = resolve_sources(
        data,
        privacy_unit=synth_args.get("privacy_unit", "row"),
        catalog=catalog,
        population=population,
        policies=policies,
    )
    # public keys the catalog declares fill the columns the caller gave none for
    given = {
        **dict(synth_args.get("keys") or {}),
        **dict(synth_args.get("bins") or {}),
        **dict(synth_args.get("hierarchies") or {}),
    }
    declared = {c: list(v) for c, v in src.keys.items() if c in columns and c not in given}
    if declared:
        synth_args["keys"] = {**dict(synth_args.get("keys") or {}), **declared}
    pop = src.population
    if pop is None:
        if not led.exists():
            raise ParameterError(
                "population", None, "the population the data's people belong to (e.g. residents)"
            )
        pop = led.state().population
    new_budget, source, explicit = src.budget, src.budget_source, False
    if budget is not None:
        explicit = True
        new_budget = budget if new_budget is None else budget.min(new_budget)
        source = source or "--budget"

    def charge_ledger(charge: Any) -> dict[str, Any]:
        entry, state = led.charge(
            charge,
            population=pop,
            budget=new_budget,
            budget_source=source,
            explicit_budget=explicit,
            datasets=list(datasets) or list(src.names),
            departments=[d for d in (list(departments) or src.departments) if d],
            description=f"synthetic data ({synth_args.get('method', 'mst')}) of "
            f"{', '.join(columns)}",
            release={
                "kind": "synthetic data",
                "method": synth_args.get("method", "mst"),
                "columns": list(columns),
                "privacy_unit": synth_args.get("privacy_unit", "row"),
                "contributions": synth_args.get("contributions", 1),
            },
            inputs=[i for i in src.inputs if isinstance(i, str)],
            user=user,
        )
        return {
            "path": str(led.path),
            "population": pop,
            "entry": entry.seq,
            "entry_hash": entry.hash,
            "epsilon_spent_total": state.spent.epsilon,
            "budget": {**state.budget.to_dict(), "remaining_epsilon": state.remaining_epsilon},
        }

    return synthesize(src.data, columns, before_noise=charge_ledger, **synth_args)
