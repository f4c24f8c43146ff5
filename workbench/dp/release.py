"""Differentially private releases: counts, histograms, sums, means and quantiles per person.

The privacy unit is a person, never a row. A release names the column that identifies the person
(or ``row`` when each row is a person) and a bound ``N`` on each person's rows; the engine keeps
at most ``N`` rows per person, chosen at random, *before* anything is aggregated. After that
bound, adding or removing one person changes

* each count vector by at most ``N`` in L1 (and L2) norm: ``sensitivity = N``;
* each sum vector of values clamped to ``[L, U]`` by at most ``N * max(|L|, |U|)``;
* the quantile score of OpenDP's ``make_private_quantile`` as for ``N`` inserted/deleted records
  (symmetric distance ``N``).

**Why aggregating first is the same mechanism.** OpenDP's record-level pipeline for a histogram is
``count_by_categories >> laplace``: a stable transformation followed by noise calibrated to its
stability (the change of the count vector when one person's ``N`` rows come or go). The engine
(DuckDB by default, Spark when asked) computes exactly that count vector with ``GROUP BY`` after
the same contribution bound, and OpenDP's ``make_laplace``/``make_gaussian`` add noise calibrated
to the same sensitivity. The output distribution is identical; only the place where the exact,
never-released vector is computed differs. Sums are computed as exact decimals (values clamped and
rounded to 1e-6 before adding), so floating-point rounding cannot enlarge the sensitivity.
Quantiles are the exception: OpenDP's score function needs the records, so the engine returns the
bounded, clamped values of that one column and OpenDP scores the candidates in memory (one float
per kept record).

Group keys are public (declared by the user, a hierarchy or the catalog: every key is released,
including empty ones) or selected privately with OpenDP's Gaussian stability threshold
(``select_keys=True``, which needs ``delta``). The set of keys present in the data is never
released by itself.

Every noise draw is OpenDP's; this module only decides scales (with OpenDP's binary search over
privacy maps) and post-processes noisy values (means, confidence intervals).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ColumnNotFoundError, ParameterError
from ._accounting import Charge, opendp, rho_for_epsilon, zcdp_epsilon

__all__ = [
    "ReleaseSpec",
    "Part",
    "Plan",
    "Statistic",
    "DPRelease",
    "plan_release",
    "bound_and_aggregate",
    "run_release",
    "parse_bounds",
    "parse_keys",
]

NOISES = ("laplace", "gaussian")
ALPHA95 = 0.05
_MAX_KEYS = 100_000  # public key domains larger than this are refused (memory, and error bars)
_MAX_QUANTILE_VALUES = 50_000_000
_SUM_DECIMALS = 6


# ------------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class ReleaseSpec:
    """What the user asks for (settings as written; :func:`plan_release` resolves them).

    Parameters
    ----------
    privacy_unit : str
        Column that identifies a person, or ``"row"`` when every row is a different person.
    max_contributions : int
        At most this many rows per person are kept (at random); sensitivity follows from it.
    count : bool
        Release the number of rows (per group with ``by``).
    by : tuple of str
        Group-by columns; their keys come from ``keys`` or private selection.
    sums, means : tuple of str
        Numeric columns to sum or average; each needs ``bounds`` (never taken from the data).
    bounds : mapping column -> (low, high)
        Clamping bounds given by the user.
    quantiles : tuple of (column, q)
        Quantiles over the whole data (not per group), on a grid of ``quantile_grid`` candidates
        between the column's bounds.
    keys : mapping column -> tuple of str
        Public keys of each ``by`` column (the release has a row for every combination).
    select_keys : bool
        Select group keys privately (Gaussian stability threshold; needs ``delta > 0``).
    epsilon, delta : float
        The release's total (epsilon, delta)-DP.
    noise : "laplace" or "gaussian"
        Laplace (pure epsilon, the default) or Gaussian (zCDP; needs ``delta > 0``).
    """

    privacy_unit: str
    max_contributions: int
    epsilon: float
    delta: float = 0.0
    count: bool = False
    by: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    means: tuple[str, ...] = ()
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    quantiles: tuple[tuple[str, float], ...] = ()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    select_keys: bool = False
    noise: str = "laplace"
    quantile_grid: int = 101

    def __post_init__(self) -> None:
        for name in ("by", "sums", "means"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "quantiles", tuple((c, float(q)) for c, q in self.quantiles))
        object.__setattr__(
            self,
            "bounds",
            MappingProxyType({k: (float(v[0]), float(v[1])) for k, v in self.bounds.items()}),
        )
        object.__setattr__(
            self, "keys", MappingProxyType({k: tuple(map(str, v)) for k, v in self.keys.items()})
        )
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ParameterError` for anything that would make the release unsafe."""
        if not self.privacy_unit or not isinstance(self.privacy_unit, str):
            raise ParameterError(
                "privacy_unit",
                self.privacy_unit,
                "the column that identifies a person, or 'row' when rows are people; a release "
                "without a privacy unit is refused",
            )
        if isinstance(self.max_contributions, bool) or not isinstance(self.max_contributions, int):
            raise ParameterError("max_contributions", self.max_contributions, "an integer >= 1")
        if self.max_contributions < 1:
            raise ParameterError("max_contributions", self.max_contributions, "an integer >= 1")
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ParameterError("epsilon", self.epsilon, "a finite number > 0")
        if not (0 <= self.delta < 1):
            raise ParameterError("delta", self.delta, "a number in [0, 1)")
        if self.noise not in NOISES:
            raise ParameterError("noise", self.noise, f"one of {', '.join(NOISES)}")
        if (self.noise == "gaussian" or self.select_keys) and self.delta <= 0:
            raise ParameterError(
                "delta",
                self.delta,
                "> 0: Gaussian noise and private key selection need a delta (e.g. 1e-7)",
            )
        if not (self.count or self.sums or self.means or self.quantiles):
            raise ParameterError(
                "statistics", "none", "at least one of count, sums, means, quantiles"
            )
        for col in (*self.sums, *self.means, *(c for c, _ in self.quantiles)):
            if col not in self.bounds:
                raise ParameterError(
                    f"bounds[{col!r}]",
                    None,
                    "clamping bounds LOW:HIGH given by you (never taken from the data)",
                )
        for col, (low, high) in self.bounds.items():
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ParameterError(f"bounds[{col!r}]", (low, high), "finite LOW < HIGH")
        for col, q in self.quantiles:
            if not 0 < q < 1:
                raise ParameterError(f"quantile {col!r}", q, "a number strictly between 0 and 1")
        if self.quantiles and self.by:
            raise ParameterError(
                "quantiles with by",
                list(self.by),
                "quantiles over the whole data (per-group quantiles are not supported: each "
                "group would spend the person's budget again)",
            )
        if not 3 <= self.quantile_grid <= 10_001:
            raise ParameterError("quantile_grid", self.quantile_grid, "between 3 and 10001")
        if self.by and not self.select_keys:
            missing = [c for c in self.by if not self.keys.get(c)]
            if missing:
                raise ParameterError(
                    "keys",
                    missing,
                    "public keys for every group-by column (--keys COL=a,b,c, a hierarchy "
                    "--keys COL=@hierarchy.csv, or the catalog's codes/order), or --select-keys "
                    "with --delta to select keys privately; the keys present in the data are "
                    "never released silently",
                )
        if self.select_keys and not self.by:
            raise ParameterError("select_keys", True, "group-by columns (--by) to select keys of")
        if self.max_contributions > 1 and self.privacy_unit == "row":
            warnings.warn(
                "privacy unit 'row' with max_contributions > 1 adds noise for contributions a "
                "row cannot make; use max_contributions = 1 when rows are people",
                UserWarning,
                stacklevel=3,
            )
        if self.epsilon > 10:
            warnings.warn(
                f"epsilon = {self.epsilon} protects almost nobody: the noise is tiny",
                UserWarning,
                stacklevel=3,
            )

    @property
    def count_needed(self) -> bool:
        """A count vector is released for ``count`` and as the denominator of every mean."""
        return self.count or bool(self.means)

    @property
    def sum_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.sums, *self.means)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "privacy_unit": self.privacy_unit,
            "max_contributions": self.max_contributions,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "count": self.count,
            "by": list(self.by),
            "sums": list(self.sums),
            "means": list(self.means),
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "quantiles": [[c, q] for c, q in self.quantiles],
            # named without "key": provenance redacts parameters whose name looks like a secret
            "public_values": {k: len(v) for k, v in self.keys.items()},  # counts, not values
            "private_selection": self.select_keys,
            "noise": self.noise,
            "quantile_grid": self.quantile_grid,
        }


def parse_bounds(items: Iterable[str]) -> dict[str, tuple[float, float]]:
    """``["age=0:120", "income=-1e3:1e6"]`` -> ``{"age": (0, 120), ...}``."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        col, sep, rng = str(item).rpartition("=")
        m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*", rng)
        if not sep or not col or not m:
            raise ParameterError("--bounds", item, "COL=LOW:HIGH, e.g. age=0:120")
        try:
            out[col] = (float(m.group(1)), float(m.group(2)))
        except ValueError:
            raise ParameterError("--bounds", item, "COL=LOW:HIGH with numbers") from None
    return out


def parse_keys(items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``["sex=female,male", "zip=@zip_hierarchy.csv"]``: listed keys or a hierarchy's leaves."""
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        col, sep, spec = str(item).partition("=")
        if not sep or not col or not spec:
            raise ParameterError("--keys", item, "COL=a,b,c or COL=@hierarchy.csv")
        if spec.startswith("@"):
            from ..deid.hierarchy import Hierarchy

            out[col] = tuple(Hierarchy.from_csv(spec[1:]).leaves)
        else:
            out[col] = tuple(k for k in spec.split(",") if k != "")
        if not out[col]:
            raise ParameterError("--keys", item, "at least one key")
    return out


# ------------------------------------------------------------------------------------ planning
@dataclass(frozen=True)
class Part:
    """One noisy measurement of a release: what it measures and how much noise it adds.

    ``scale`` is OpenDP's noise scale; ``sensitivity`` the bound it is calibrated to;
    ``epsilon`` (pure parts) and ``rho``/``delta`` are read from OpenDP's privacy map.
    """

    name: str  # "count", "sum:COL", "quantile:COL:Q", "keys"
    kind: str  # count | sum | quantile
    column: str | None
    mechanism: str
    sensitivity: float
    scale: float
    rho: float
    delta: float
    epsilon: float | None
    threshold: int | None = None
    candidates: tuple[float, ...] = ()
    quantile: float | None = None
    measure: str = "zCDP"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "kind": self.kind,
            "column": self.column,
            "mechanism": self.mechanism,
            "sensitivity": self.sensitivity,
            "noise_scale": self.scale,
            "rho": self.rho,
            "delta": self.delta,
            "epsilon": self.epsilon,
        }
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.candidates:
            out["candidates"] = {
                "low": self.candidates[0],
                "high": self.candidates[-1],
                "count": len(self.candidates),
            }
        return out


@dataclass(frozen=True)
class Plan:
    """The resolved release: parts with scales, and the charge it will make. Touches no data."""

    spec: ReleaseSpec
    parts: tuple[Part, ...]
    charge: Charge

    @property
    def mechanism(self) -> str:
        return ", ".join(dict.fromkeys(p.mechanism for p in self.parts))

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)


def _space_vector(dp: Any, integer: bool, l2: bool) -> tuple[Any, Any]:
    if integer:
        dom = dp.vector_domain(dp.atom_domain(T=int))
        met = dp.l2_distance(T=float) if l2 else dp.l1_distance(T=int)
    else:
        dom = dp.vector_domain(dp.atom_domain(T=float, nan=False))
        met = dp.l2_distance(T=float) if l2 else dp.l1_distance(T=float)
    return dom, met


def _noise_measurement(dp: Any, noise: str, integer: bool, scale: float) -> Any:
    if noise == "laplace":
        return dp.m.make_laplace(*_space_vector(dp, integer, l2=False), scale=scale)
    return dp.m.make_gaussian(*_space_vector(dp, integer, l2=True), scale=scale)


def _d_in(sensitivity: float, integer: bool, noise: str) -> Any:
    if noise == "laplace" and integer:
        return int(math.ceil(sensitivity))
    return float(sensitivity)


def _calibrate(dp: Any, make: Any, d_in: Any, d_out: float, guess: float) -> float:
    """Smallest scale whose OpenDP privacy map is at most ``d_out``, starting from ``guess``.

    ``guess`` is the textbook scale; OpenDP's map (which rounds conservatively) is the judge: the
    scale is nudged up until the map passes, falling back to OpenDP's ``binary_search_param``.
    """
    scale = guess
    for i in range(40):
        if make(scale).map(d_in) <= d_out:
            return scale
        scale = guess * (1 + 1e-12 * 4**i)
    return float(dp.binary_search_param(make, d_in=d_in, d_out=d_out))


def _vector_part(
    dp: Any,
    name: str,
    kind: str,
    column: str | None,
    sensitivity: float,
    spec: ReleaseSpec,
    eps_i: float,
    rho_i: float,
) -> Part:
    integer = kind == "count"
    d_in = _d_in(sensitivity, integer, spec.noise)
    if spec.noise == "laplace":
        scale = _calibrate(
            dp,
            lambda s: _noise_measurement(dp, "laplace", integer, s),
            d_in,
            eps_i,
            float(d_in) / eps_i,
        )
        meas = _noise_measurement(dp, "laplace", integer, scale)
        eps = float(meas.map(d_in))
        rho = float(dp.c.make_pureDP_to_zCDP(meas).map(d_in))
        mech = "discrete Laplace" if integer else "Laplace"
        return Part(
            name,
            kind,
            column,
            mech,
            float(sensitivity),
            float(scale),
            rho,
            0.0,
            eps,
            measure="pure",
        )
    scale = _calibrate(
        dp,
        lambda s: _noise_measurement(dp, "gaussian", integer, s),
        d_in,
        rho_i,
        float(d_in) / math.sqrt(2 * rho_i),
    )
    meas = _noise_measurement(dp, "gaussian", integer, scale)
    rho = float(meas.map(d_in))
    mech = "discrete Gaussian" if integer else "Gaussian"
    return Part(name, kind, column, mech, float(sensitivity), float(scale), rho, 0.0, None)


def _threshold_measurement(dp: Any, scale: float, threshold: int) -> Any:
    dom = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    met = dp.l02inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_gaussian_threshold(dom, met, scale=scale, threshold=threshold)


def _keys_part(dp: Any, spec: ReleaseSpec, rho_i: float, delta_i: float) -> Part:
    n = spec.max_contributions
    d_in = (n, n, n)  # keys touched, L2 and L-inf change of one person's counts

    def meas(s: float, t: int = 10**9) -> Any:
        return _threshold_measurement(dp, s, t)

    guess = n / math.sqrt(2 * rho_i)
    scale = guess
    for i in range(40):
        if meas(scale).map(d_in)[0] <= rho_i:
            break
        scale = guess * (1 + 1e-12 * 4**i)
    else:
        scale = dp.binary_search(lambda s: meas(s).map(d_in)[0] <= rho_i, bounds=(1e-6, 1e9))
    threshold = dp.binary_search(
        lambda t: meas(scale, t).map(d_in)[1] <= delta_i, bounds=(n, 2**30), T=int
    )
    rho, delta = meas(scale, threshold).map(d_in)
    return Part(
        "count",
        "count",
        None,
        "Gaussian stability threshold (private key selection)",
        float(n),
        float(scale),
        float(rho),
        float(delta),
        None,
        threshold=int(threshold),
    )


def _quantile_candidates(spec: ReleaseSpec, col: str) -> tuple[float, ...]:
    low, high = spec.bounds[col]
    grid = np.linspace(low, high, spec.quantile_grid)
    return tuple(float(v) for v in grid)


def _quantile_measurement(dp: Any, candidates: Sequence[float], q: float, scale: float) -> Any:
    dom = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    return dp.m.make_private_quantile(
        dom,
        dp.symmetric_distance(),
        dp.max_divergence(),
        candidates=list(candidates),
        alpha=q,
        scale=scale,
    )


def _quantile_part(dp: Any, spec: ReleaseSpec, col: str, q: float, eps_i: float) -> Part:
    cands = _quantile_candidates(spec, col)
    d_in = spec.max_contributions
    scale = dp.binary_search_param(
        lambda s: _quantile_measurement(dp, cands, q, s), d_in=d_in, d_out=eps_i
    )
    meas = _quantile_measurement(dp, cands, q, scale)
    eps = float(meas.map(d_in))
    rho = float(dp.c.make_pureDP_to_zCDP(meas).map(d_in))
    return Part(
        f"quantile:{col}:{q:g}",
        "quantile",
        col,
        "exponential mechanism (OpenDP noisy max)",
        float(d_in),
        float(scale),
        rho,
        0.0,
        eps,
        candidates=cands,
        quantile=q,
        measure="pure",
    )


def _count_sensitivity(spec: ReleaseSpec) -> int:
    """OpenDP's stability of a record-level count for one person's ``N`` rows (``N``)."""
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    t_count = space >> dp.t.then_count_by_categories(categories=["_"], null_category=True)
    return int(t_count.map(spec.max_contributions))


def _sum_sensitivity(spec: ReleaseSpec, col: str) -> float:
    """OpenDP's stability of a clamped record-level sum for one person's ``N`` rows.

    At least ``N * max(|L|, |U|)``; OpenDP bounds the positive and negative parts separately and
    adds a floating-point allowance, so it can be larger (``N * (U - L)`` for mixed signs).
    """
    dp = opendp()
    low, high = spec.bounds[col]
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    t_sum = space >> dp.t.then_clamp((low, high)) >> dp.t.then_sum()
    return float(t_sum.map(spec.max_contributions))


def plan_release(spec: ReleaseSpec) -> Plan:
    """Resolve the spec into noisy parts whose total privacy loss is the spec's (epsilon, delta).

    The budget is split evenly over the parts. Laplace releases: each part gets ``epsilon / k``
    (basic composition, a pure ``epsilon``-DP release). Gaussian releases and private key
    selection: a total ``rho`` whose OpenDP conversion gives ``epsilon`` at ``delta`` (at
    ``delta / 2`` with key selection, whose threshold uses the other half) is split evenly.
    Nothing here reads data: the plan (and its accuracy) is public.
    """
    dp = opendp()
    n_parts = int(spec.count_needed) + len(spec.sum_columns) + len(spec.quantiles)
    zcdp = spec.noise == "gaussian" or spec.select_keys
    eps_i = spec.epsilon / n_parts
    rho_i = 0.0
    delta_keys = spec.delta / 2 if spec.select_keys else 0.0
    if zcdp:
        rho_total = rho_for_epsilon(spec.epsilon, spec.delta - delta_keys)
        rho_i = rho_total / n_parts
        if spec.select_keys and spec.noise == "laplace":
            spec = replace(spec, noise="gaussian")  # key selection is Gaussian (zCDP) anyway
    parts: list[Part] = []
    if spec.count_needed:
        if spec.select_keys:
            parts.append(_keys_part(dp, spec, rho_i, delta_keys))
        else:
            parts.append(
                _vector_part(
                    dp, "count", "count", None, _count_sensitivity(spec), spec, eps_i, rho_i
                )
            )
    for col in spec.sum_columns:
        parts.append(
            _vector_part(
                dp, f"sum:{col}", "sum", col, _sum_sensitivity(spec, col), spec, eps_i, rho_i
            )
        )
    for col, q in spec.quantiles:
        q_eps = eps_i if not zcdp else math.sqrt(2 * rho_i)  # rho = eps^2 / 2 exactly
        parts.append(_quantile_part(dp, spec, col, q, q_eps))
    rho = math.fsum(p.rho for p in parts)
    delta = math.fsum(p.delta for p in parts)
    if all(p.measure == "pure" for p in parts):
        charge = Charge(rho, 0.0, math.fsum(p.epsilon or 0.0 for p in parts), 0.0)
    else:
        own = zcdp_epsilon(rho, spec.delta - delta)
        charge = Charge(rho, delta, own, spec.delta)
    return Plan(spec, tuple(parts), charge)


# --------------------------------------------------------------------------- bounding (engine)
def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _dialect(engine: str) -> dict[str, str]:
    if engine == "spark":
        return {"random": "rand()", "text": "STRING", "q": "`"}
    return {"random": "random()", "text": "VARCHAR", "q": '"'}


def _q(name: str, engine: str) -> str:
    if engine == "spark":
        return "`" + str(name).replace("`", "``") + "`"
    return _quote(name)


_ROWS = "__WB_ROWS__"


def _bounded_sql(spec: ReleaseSpec, source: str, engine: str, select: str) -> str:
    """``select`` over the rows kept by the contribution bound (its ``__WB_ROWS__`` token).

    At most ``N`` random rows per person (``row``: every row is a person). People with at most
    ``N`` rows keep them all, so only the others (and rows without a person key, which count as
    one person) go through the window that ranks rows at random: the same outcome as ranking
    everyone, without sorting every row of a large table. Each person's row count is computed
    once (a common table expression).
    """
    d = _dialect(engine)
    if spec.privacy_unit == "row":
        return select.replace(_ROWS, f"(SELECT * FROM {source}) AS __wb_b", 1)
    unit = _q(spec.privacy_unit, engine)
    n = spec.max_contributions
    materialized = "MATERIALIZED " if engine == "duckdb" else ""
    per_person = f"SELECT {unit} AS __wb_u, count(*) AS __wb_k FROM {source} GROUP BY {unit}"
    light = (
        f"SELECT *, 0.0 AS __wb_r, 0 AS __wb_rank FROM {source} "
        f"WHERE {unit} IN (SELECT __wb_u FROM __wb_pp WHERE __wb_k <= {n})"
    )
    heavy_rows = (
        f"SELECT *, {d['random']} AS __wb_r FROM {source} "
        f"WHERE {unit} IN (SELECT __wb_u FROM __wb_pp WHERE __wb_k > {n}) OR {unit} IS NULL"
    )
    heavy = (
        f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {unit} ORDER BY __wb_r)"
        f" AS __wb_rank FROM ({heavy_rows}) AS __wb_h) AS __wb_t WHERE __wb_rank <= {n}"
    )
    body = select.replace(_ROWS, f"({light} UNION ALL {heavy}) AS __wb_b", 1)
    return f"WITH __wb_pp AS {materialized}({per_person}) {body}"


def _clamped(col: str, spec: ReleaseSpec, engine: str) -> str:
    low, high = spec.bounds[col]
    value = f"TRY_CAST({_q(col, engine)} AS DOUBLE)"
    # missing or non-numeric values are imputed with the lower bound (a public constant)
    return f"least(greatest(coalesce({value}, {low!r}), {low!r}), {high!r})"


def _aggregate_sql(spec: ReleaseSpec, source: str, engine: str) -> str:
    d = _dialect(engine)
    groups = [
        f"CAST({_q(c, engine)} AS {d['text']}) AS {_q('g_' + str(i), engine)}"
        for i, c in enumerate(spec.by)
    ]
    aggs = ["count(*) AS __wb_n"]
    for i, col in enumerate(spec.sum_columns):
        aggs.append(
            f"CAST(sum(CAST({_clamped(col, spec, engine)} AS DECIMAL(38, {_SUM_DECIMALS}))) "
            f"AS DOUBLE) AS __wb_s{i}"
        )
    select = ", ".join([*groups, *aggs])
    group = (
        " GROUP BY " + ", ".join(f"CAST({_q(c, engine)} AS {d['text']})" for c in spec.by)
        if spec.by
        else ""
    )
    return _bounded_sql(spec, source, engine, f"SELECT {select} FROM {_ROWS}{group}")


def _check_columns(spec: ReleaseSpec, columns: Sequence[str], where: str) -> None:
    needed = [*spec.by, *spec.sum_columns, *(c for c, _ in spec.quantiles)]
    if spec.privacy_unit != "row":
        needed.insert(0, spec.privacy_unit)
    for col in needed:
        if col not in columns:
            raise ColumnNotFoundError(col, columns, where)


def bound_and_aggregate(
    spec: ReleaseSpec, data: Any, *, engine: str = "duckdb", where: str = "data"
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Bound contributions and aggregate where the data is; return exact (never released) values.

    Returns the grouped frame (``g_i`` group columns, ``__wb_n`` counts, ``__wb_s{i}`` sums) and,
    for quantiles, the bounded clamped values of each quantile column.
    """
    if engine == "spark":
        return _aggregate_spark(spec, data, where)
    if engine != "duckdb":
        raise ParameterError("engine", engine, "duckdb or spark")
    import duckdb

    from ..dataset import Dataset

    frame = data.data if isinstance(data, Dataset) else data
    con = duckdb.connect()
    try:
        if isinstance(frame, str | Path):
            rel = con.sql(f"SELECT * FROM {_file_reader(frame)}")
        elif isinstance(frame, pd.DataFrame):
            rel = con.from_df(frame)
        elif hasattr(frame, "aggregate") and hasattr(frame, "columns"):
            rel = frame  # a DuckDB relation (large files stay out of memory)
            con.close()
            con = None
        else:
            raise ParameterError("data", type(frame).__name__, "a Dataset, DataFrame or path")
        _check_columns(spec, list(rel.columns), where)
        agg = rel.query("__wb_src", _aggregate_sql(spec, "__wb_src", "duckdb")).df()
        values: dict[str, np.ndarray] = {}
        for col in dict.fromkeys(c for c, _ in spec.quantiles):
            if col in values:
                continue
            sql = _bounded_sql(
                spec,
                "__wb_src",
                "duckdb",
                f"SELECT {_clamped(col, spec, 'duckdb')} AS v FROM {_ROWS}",
            )
            arr = rel.query("__wb_src", sql).fetchnumpy()["v"]
            if len(arr) > _MAX_QUANTILE_VALUES:
                raise ParameterError(
                    "quantile", col, f"at most {_MAX_QUANTILE_VALUES:,} bounded records in memory"
                )
            values[col] = np.asarray(arr, dtype=float)
        return agg, values
    finally:
        if con is not None:
            con.close()


def _file_reader(path: str | Path) -> str:
    p = str(path).replace("'", "''")
    if str(path).lower().endswith(".parquet"):
        return f"read_parquet('{p}')"
    return f"read_csv('{p}', all_varchar=true, header=true)"


def _aggregate_spark(spec: ReleaseSpec, data: Any, where: str) -> tuple[pd.DataFrame, dict]:
    """The same SQL on a Spark DataFrame (``data`` is a ``pyspark.sql.DataFrame``)."""
    if not (hasattr(data, "sparkSession") and hasattr(data, "createOrReplaceTempView")):
        raise ParameterError("data", type(data).__name__, "a pyspark DataFrame for engine=spark")
    _check_columns(spec, list(data.columns), where)
    view = "__wb_src_" + format(abs(hash(id(data))), "x")
    data.createOrReplaceTempView(view)
    spark = data.sparkSession
    try:
        sdf = spark.sql(_aggregate_sql(spec, view, "spark"))
        # collect(): the aggregate is small, and toPandas' Arrow path warns under pandas 3
        agg = pd.DataFrame([r.asDict() for r in sdf.collect()], columns=sdf.columns)
        values = {}
        for col in dict.fromkeys(c for c, _ in spec.quantiles):
            sql = _bounded_sql(
                spec, view, "spark", f"SELECT {_clamped(col, spec, 'spark')} AS v FROM {_ROWS}"
            )
            values[col] = np.array([r[0] for r in spark.sql(sql).collect()], dtype=float)
        return agg, values
    finally:
        spark.catalog.dropTempView(view)


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Statistic:
    """One released number with its 95 % interval (from public noise parameters and noisy values).

    ``group`` maps each group-by column to its key (empty for an ungrouped release).
    """

    statistic: str  # count | sum | mean | quantile
    column: str | None
    group: Mapping[str, str]
    value: float | None
    ci95: tuple[float, float] | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "column": self.column,
            "group": dict(self.group),
            "value": self.value,
            "ci95": None if self.ci95 is None else list(self.ci95),
            "note": self.note,
        }


@dataclass(frozen=True)
class DPRelease:
    """A differentially private release: the statistics, how they were made, what it cost."""

    plan: Plan
    statistics: tuple[Statistic, ...]
    key_source: str
    datasets: tuple[str, ...] = ()
    ledger: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def spec(self) -> ReleaseSpec:
        return self.plan.spec

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``workbench dp release --json``."""
        spec = self.spec
        budget = self.ledger.get("budget") or {}
        parts = [p.to_dict() for p in self.plan.parts]
        return {
            "epsilon_spent": self.plan.charge.epsilon,
            "delta_spent": self.plan.charge.epsilon_delta,
            "rho_spent": self.plan.charge.rho,
            "budget": {
                "epsilon": budget.get("epsilon"),
                "delta": budget.get("delta"),
                "remaining_epsilon": budget.get("remaining_epsilon"),
            },
            "ledger": dict(self.ledger),
            "privacy_unit": spec.privacy_unit,
            "max_contributions": spec.max_contributions,
            "sensitivity": {p.name: p.sensitivity for p in self.plan.parts},
            "contribution_bounding": contribution_note(spec),
            "mechanism": self.plan.mechanism,
            "noise_scale": {p.name: p.scale for p in self.plan.parts},
            "parts": parts,
            "keys": self.key_source,
            "datasets": list(self.datasets),
            "statistics": [s.to_dict() for s in self.statistics],
            "notes": list(self.notes),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: statistic, column, group columns, value, ci95_low, ci95_high."""
        rows = []
        for s in self.statistics:
            row: dict[str, Any] = {"statistic": s.statistic, "column": s.column or ""}
            row.update({f"{k}": v for k, v in s.group.items()})
            row["value"] = s.value
            row["ci95_low"] = None if s.ci95 is None else s.ci95[0]
            row["ci95_high"] = None if s.ci95 is None else s.ci95[1]
            rows.append(row)
        cols = ["statistic", "column", *self.spec.by, "value", "ci95_low", "ci95_high"]
        return pd.DataFrame(rows, columns=cols)


def contribution_note(spec: ReleaseSpec) -> str:
    """The sentence every release carries about its privacy unit and sensitivity."""
    n = spec.max_contributions
    if spec.privacy_unit == "row":
        who = "each row is one person"
    else:
        who = (
            f"each person ({spec.privacy_unit!r}) contributes at most {n} row(s), kept at random "
            "before aggregation; rows with a missing person key count as one person"
        )
    parts = [f"count changes by at most {_count_sensitivity(spec)}"] if spec.count_needed else []
    for col in spec.sum_columns:
        parts.append(f"sum of {col} by at most {_sum_sensitivity(spec, col):g}")
    sens = "; ".join(parts) if parts else "quantile scores change as for that many records"
    return f"Privacy unit: {who}. Adding or removing one person: {sens}."


# ---------------------------------------------------------------------------------- execution
def _accuracy(part: Part, alpha: float) -> float:
    from .accuracy import part_accuracy

    return part_accuracy(part, alpha)


def _group_keys(spec: ReleaseSpec) -> list[tuple[str, ...]]:
    domain = [spec.keys[c] for c in spec.by]
    size = math.prod(len(k) for k in domain) if domain else 1
    if size > _MAX_KEYS:
        raise ParameterError(
            "keys", size, f"at most {_MAX_KEYS:,} combinations of public keys (coarsen the keys)"
        )
    return list(itertools.product(*domain)) if domain else [()]


def run_release(
    plan: Plan, agg: pd.DataFrame, values: Mapping[str, np.ndarray]
) -> tuple[list[Statistic], str]:
    """Privatize the exact aggregates with OpenDP; return statistics and where keys came from.

    Call only after the ledger has accepted ``plan.charge``.
    """
    dp = opendp()
    spec = plan.spec
    gcols = [f"g_{i}" for i in range(len(spec.by))]
    stats: list[Statistic] = []
    noisy_count: dict[tuple[str, ...], float] = {}
    noisy_sum: dict[str, dict[tuple[str, ...], float]] = {}

    def key_of(row: Any) -> tuple[str, ...]:
        return tuple("" if pd.isna(row[g]) else str(row[g]) for g in gcols)

    exact_n = {key_of(r): int(r["__wb_n"]) for _, r in agg.iterrows()}
    exact_s = {
        col: {key_of(r): float(r[f"__wb_s{i}"] or 0.0) for _, r in agg.iterrows()}
        for i, col in enumerate(spec.sum_columns)
    }
    if spec.select_keys:
        part = plan.part("count")
        counts = {"\x1f".join(k): int(v) for k, v in exact_n.items()}
        released = _threshold_measurement(dp, part.scale, part.threshold or 0)(counts)
        keys = sorted(tuple(k.split("\x1f")) if spec.by else () for k in released)
        noisy_count = {tuple(k.split("\x1f")): float(v) for k, v in released.items()}
        key_source = (
            f"selected privately: only groups whose noisy count reached the threshold "
            f"{part.threshold} are released ({len(keys)} groups)"
        )
    else:
        keys = _group_keys(spec)
        key_source = "public keys (every declared key is released, including empty ones)"
        if spec.count_needed:
            part = plan.part("count")
            meas = _noise_measurement(dp, spec.noise, True, part.scale)
            vec = [exact_n.get(k, 0) for k in keys]
            noisy = meas(vec) if vec else []
            noisy_count = {k: float(v) for k, v in zip(keys, noisy, strict=True)}
    if spec.count_needed:
        acc = _accuracy(plan.part("count"), ALPHA95)
        for k in keys:
            v = noisy_count[k]
            stats.append(
                Statistic("count", None, dict(zip(spec.by, k, strict=True)), v, (v - acc, v + acc))
            )
    for col in spec.sum_columns:
        part = plan.part(f"sum:{col}")
        meas = _noise_measurement(dp, spec.noise, False, part.scale)
        vec = [exact_s[col].get(k, 0.0) for k in keys]
        noisy = meas(vec) if vec else []
        noisy_sum[col] = {k: float(v) for k, v in zip(keys, noisy, strict=True)}
        if col in spec.sums:
            acc = _accuracy(part, ALPHA95)
            for k in keys:
                v = noisy_sum[col][k]
                stats.append(
                    Statistic("sum", col, dict(zip(spec.by, k, strict=True)), v, (v - acc, v + acc))
                )
    for col in spec.means:
        low, high = spec.bounds[col]
        a_s = _accuracy(plan.part(f"sum:{col}"), ALPHA95 / 2)
        a_c = _accuracy(plan.part("count"), ALPHA95 / 2)
        for k in keys:
            s, c = noisy_sum[col][k], noisy_count[k]
            value = min(max(s / c, low), high) if c >= 1 else None
            ci = _ratio_interval(s, a_s, c, a_c, low, high)
            note = "" if value is not None else "noisy count below 1: no mean released"
            stats.append(
                Statistic("mean", col, dict(zip(spec.by, k, strict=True)), value, ci, note)
            )
    for col, q in spec.quantiles:
        part = plan.part(f"quantile:{col}:{q:g}")
        meas = _quantile_measurement(dp, part.candidates, q, part.scale)
        value = float(meas(values[col].tolist()))
        stats.append(
            Statistic(
                "quantile",
                col,
                {},
                value,
                None,
                f"q = {q:g}; one of {len(part.candidates)} candidates between the bounds "
                "(accuracy depends on the data: see the rank bound in the accuracy report)",
            )
        )
    return stats, key_source


def _ratio_interval(
    s: float, a_s: float, c: float, a_c: float, low: float, high: float
) -> tuple[float, float]:
    """95 % interval of sum/count from the noisy parts (each at 97.5 %; a union bound)."""
    if c - a_c <= 0:
        return (low, high)
    corners = [(s + ds) / (c + dc) for ds in (-a_s, a_s) for dc in (-a_c, a_c)]
    return (max(low, min(corners)), min(high, max(corners)))
