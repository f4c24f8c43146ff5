"""Privacy attacks on a synthetic table, with a holdout control set (the Anonymeter method).

The three attacks follow Giomi, Boenisch, Wehmeyer & Tasnádi, "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023(2) (the Anonymeter evaluators), which
operationalise the three criteria of the Article 29 Working Party's Opinion 05/2014 on
anonymisation techniques: **singling out**, **linkability** and **inference**.

Each attack is run three times:

* the **main attack** uses the synthetic table against records of the *training* table;
* the **control attack** is the same attack against records of a *holdout* table drawn from the
  same population but never shown to the generator. Whatever the attacker achieves on the
  holdout comes from what the synthetic data say about the population (utility), not from
  memorised people;
* the **baseline attack** guesses without the synthetic table (random values); if the main
  attack is no better than the baseline the attack is too weak to say anything.

The risk attributed to the synthetic data is the excess of the main success rate over the
control rate, normalised: ``risk = (r_main - r_control) / (1 - r_control)`` (Giomi et al.,
eq. 1). Rates are Wilson score estimates with their confidence interval, as Anonymeter does, and
the risk's interval propagates both rates' errors.

Choices, stated once
--------------------
* Distances are Gower-style: numeric columns contribute ``|x - y| / range`` (range over the
  tables compared), other columns 0 when equal and 1 otherwise; the distance is the sum.
  Nearest neighbours break ties by the lower row position (as an ``argmin`` does).
* Singling-out queries are evaluated on training and holdout tables of the same size (the larger
  one is subsampled with the seed): a query singles out more easily in a smaller table, so
  unequal sizes would bias the control.
* Distance to closest record (DCR) compares each synthetic row's distance to the nearest training
  row with its distance to the nearest holdout row (equal-sized samples). A synthetic table that
  does not memorise training rows is as close to the holdout as to the training data
  (``closer_to_training`` near 0.5) and has no more exact copies of training rows than of
  holdout rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = [
    "SuccessRate",
    "AttackResult",
    "DcrResult",
    "wilson",
    "attack_risk",
    "singling_out",
    "linkability",
    "inference",
    "distance_to_closest_record",
    "gower_encoder",
]

# --------------------------------------------------------------------------------------------
# Rates, risk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuccessRate:
    """A success rate as a Wilson score estimate: centre ``value`` and half-width ``error``."""

    successes: int
    trials: int
    value: float
    error: float

    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval, clipped to [0, 1]."""
        return (max(0.0, self.value - self.error), min(1.0, self.value + self.error))

    def to_dict(self) -> dict[str, Any]:
        return {
            "successes": self.successes,
            "trials": self.trials,
            "rate": self.value,
            "ci": list(self.ci),
        }


def wilson(successes: int, trials: int, confidence: float = 0.95) -> SuccessRate:
    """Wilson score interval for a binomial proportion (Wilson 1927), as Anonymeter reports rates.

    Returns the interval's centre and half-width; the centre is not ``successes / trials`` but is
    pulled towards 1/2, which keeps small counts honest.
    """
    if trials <= 0:
        raise ParameterError("trials", trials, "a positive number of attacks")
    if not 0 <= successes <= trials:
        raise ParameterError("successes", successes, f"an integer in [0, {trials}]")
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    n, p = trials, successes / trials
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return SuccessRate(successes, trials, centre, half)


def attack_risk(main: SuccessRate, control: SuccessRate) -> tuple[float, tuple[float, float]]:
    """``(r_main - r_control) / (1 - r_control)`` with its propagated error (Giomi et al. eq. 1).

    The point estimate is clipped at 0 as Anonymeter reports it; the interval is around the
    unclipped value.

    The error is first-order propagation of the two Wilson half-widths (as Anonymeter's
    ``residual_success``); the interval is clipped to [0, 1].
    """
    c = min(control.value, 1 - 1e-12)
    raw = (main.value - c) / (1 - c)
    risk = max(0.0, raw)  # a main attack worse than the control is no risk (as Anonymeter)
    d_main = 1 / (1 - c)
    d_control = (main.value - 1) / (1 - c) ** 2
    err = math.sqrt((d_main * main.error) ** 2 + (d_control * control.error) ** 2)
    return risk, (max(0.0, raw - err), min(1.0, raw + err))


@dataclass(frozen=True)
class AttackResult:
    """One attack's main, control and baseline success rates and the risk they imply."""

    attack: str
    main: SuccessRate
    control: SuccessRate
    baseline: SuccessRate
    parameters: dict[str, Any]

    @property
    def risk(self) -> float:
        return attack_risk(self.main, self.control)[0]

    @property
    def risk_ci(self) -> tuple[float, float]:
        return attack_risk(self.main, self.control)[1]

    @property
    def better_than_baseline(self) -> bool:
        """The attack beats random guessing beyond the intervals (else its risk says little)."""
        return self.main.ci[0] > self.baseline.ci[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "risk": self.risk,
            "risk_ci": list(self.risk_ci),
            "main": self.main.to_dict(),
            "control": self.control.to_dict(),
            "baseline": self.baseline.to_dict(),
            "better_than_baseline": self.better_than_baseline,
            "parameters": dict(self.parameters),
        }


# --------------------------------------------------------------------------------------------
# Encoding and distances
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Encoded:
    """Tables as float matrices: numeric columns scaled by range, others as category codes."""

    tables: tuple[np.ndarray, ...]
    numeric: np.ndarray  # bool per column


def gower_encoder(tables: Sequence[pd.DataFrame], columns: Sequence[str]) -> _Encoded:
    """Encode several tables on a shared scale (range and categories over all of them)."""
    cols = list(columns)
    out = [np.empty((len(t), len(cols)), dtype=np.float64) for t in tables]
    numeric = np.zeros(len(cols), dtype=bool)
    for j, c in enumerate(cols):
        series = [t[c] for t in tables]
        if all(
            pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) for s in series
        ):
            vals = [s.to_numpy(dtype=float, na_value=np.nan) for s in series]
            finite = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.array([])
            lo = float(finite.min()) if len(finite) else 0.0
            rng = float(finite.max()) - lo if len(finite) else 0.0
            for k, v in enumerate(vals):
                out[k][:, j] = (v - lo) / rng if rng > 0 else np.where(np.isnan(v), np.nan, 0.0)
            numeric[j] = True
        else:
            both = pd.concat([s.astype("string") for s in series], ignore_index=True)
            codes, _ = pd.factorize(both, use_na_sentinel=True)
            start = 0
            for k, s in enumerate(series):
                out[k][:, j] = codes[start : start + len(s)]
                start += len(s)
    return _Encoded(tuple(out), numeric)


def _nearest(
    queries: np.ndarray, pool: np.ndarray, numeric: np.ndarray, chunk: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Row position and distance of each query's nearest pool row (Gower-style sum, brute force).

    Missing values are at distance 1 from anything. O(n_queries * n_pool * columns), chunked to
    keep memory near ``chunk * n_pool`` floats.
    """
    idx = np.empty(len(queries), dtype=np.int64)
    dist = np.empty(len(queries), dtype=np.float64)
    if len(pool) == 0:
        raise ParameterError("pool", 0, "a non-empty table to search")
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        d = np.zeros((len(q), len(pool)), dtype=np.float64)
        for j in range(pool.shape[1]):
            a, b = q[:, j][:, None], pool[:, j][None, :]
            if numeric[j]:
                part = np.abs(a - b)
            else:
                part = np.where((a < 0) | (b < 0), 1.0, (a != b).astype(np.float64))
            d += np.where(np.isnan(part), 1.0, part)
        best = np.argmin(d, axis=1)
        idx[start : start + chunk] = best
        dist[start : start + chunk] = d[np.arange(len(q)), best]
    return idx, dist


def _equal_size(
    a: pd.DataFrame, b: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(len(a), len(b))
    if len(a) > n:
        a = a.iloc[np.sort(rng.choice(len(a), n, replace=False))]
    if len(b) > n:
        b = b.iloc[np.sort(rng.choice(len(b), n, replace=False))]
    return a.reset_index(drop=True), b.reset_index(drop=True)


def _check(frames: dict[str, pd.DataFrame], columns: Sequence[str]) -> None:
    from ..dataset import check_columns

    for name, f in frames.items():
        check_columns(f, list(columns), name)
        if len(f) == 0:
            raise ParameterError(name, "0 rows", "a table with at least one row")


# --------------------------------------------------------------------------------------------
# Singling out
# --------------------------------------------------------------------------------------------


def _singles_out(df: pd.DataFrame, queries: list[tuple[tuple[str, Any], ...]]) -> int:
    """Queries that match exactly one record of ``df`` (grouped: one pass per column set)."""
    hits = 0
    by_cols: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for q in queries:
        by_cols.setdefault(tuple(c for c, _ in q), []).append(tuple(v for _, v in q))
    for cols, values in by_cols.items():
        keys = df[list(cols)].astype("string").fillna("\x00<NA>")
        counts = keys.value_counts()
        lookup = dict(
            zip(map(tuple, counts.index.to_frame().to_numpy()), counts.to_numpy(), strict=True)
        )
        hits += sum(1 for v in values if lookup.get(v, 0) == 1)
    return hits


def singling_out(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    columns: Sequence[str],
    *,
    n_attacks: int = 500,
    n_cols: int = 3,
    seed: int = 0,
    confidence: float = 0.95,
) -> AttackResult:
    """Multivariate singling-out attack (Giomi et al. sec. 4.1).

    The attacker writes predicates from the synthetic table: a random synthetic record and
    ``n_cols`` of its columns, ``col1 == v1 and ...``, kept when they isolate exactly one synthetic
    record. A predicate succeeds when it isolates exactly one record of the training table
    (control: of the holdout). The baseline writes predicates from values drawn uniformly from
    each column's observed domain. All values are compared as text (columns are binned first).
    """
    _check({"training": train, "synthetic": synthetic, "holdout": holdout}, columns)
    cols = list(columns)
    if not 1 <= n_cols <= len(cols):
        raise ParameterError("n_cols", n_cols, f"an integer in [1, {len(cols)}]")
    rng = np.random.default_rng(seed)
    train_eq, hold_eq = _equal_size(train, holdout, rng)
    syn = synthetic[cols].astype("string").fillna("\x00<NA>")
    syn_counts: dict[tuple[str, ...], pd.Series] = {}
    queries: list[tuple[tuple[str, Any], ...]] = []
    tries = 0
    while len(queries) < n_attacks and tries < 20 * n_attacks:
        tries += 1
        row = syn.iloc[int(rng.integers(len(syn)))]
        chosen = tuple(sorted(rng.choice(len(cols), n_cols, replace=False).tolist()))
        qcols = tuple(cols[i] for i in chosen)
        if qcols not in syn_counts:
            syn_counts[qcols] = syn[list(qcols)].value_counts()
        vals = tuple(row[c] for c in qcols)
        if syn_counts[qcols].get(vals, 0) == 1:
            q = tuple(zip(qcols, vals, strict=True))
            if q not in queries:
                queries.append(q)
    n = len(queries)
    domains = {
        c: pd.concat([train[c], synthetic[c]]).astype("string").dropna().unique() for c in cols
    }
    baseline_q = []
    for _ in range(max(n, 1)):
        chosen = sorted(rng.choice(len(cols), n_cols, replace=False).tolist())
        baseline_q.append(tuple((cols[i], str(rng.choice(domains[cols[i]]))) for i in chosen))
    trials = max(n, 1)
    main = wilson(_singles_out(train_eq[cols], queries), trials, confidence)
    control = wilson(_singles_out(hold_eq[cols], queries), trials, confidence)
    baseline = wilson(_singles_out(train_eq[cols], baseline_q[:trials]), trials, confidence)
    return AttackResult(
        "singling_out",
        main,
        control,
        baseline,
        {"n_attacks": n, "n_cols": n_cols, "columns": cols, "records_compared": len(train_eq)},
    )


# --------------------------------------------------------------------------------------------
# Linkability and inference
# --------------------------------------------------------------------------------------------


def linkability(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    aux_a: Sequence[str],
    aux_b: Sequence[str],
    *,
    n_attacks: int = 500,
    seed: int = 0,
    confidence: float = 0.95,
) -> AttackResult:
    """Linkability attack (Giomi et al. sec. 4.2).

    Two parties hold different columns (``aux_a``, ``aux_b``) of the same people. For a target
    record the attacker finds the nearest synthetic record on ``aux_a`` and the nearest on
    ``aux_b``; the attack succeeds when they are the same synthetic record, linking the two
    halves. Targets are drawn from the training table (control: from the holdout); the baseline
    links two random synthetic records.
    """
    a, b = list(aux_a), list(aux_b)
    if not a or not b or set(a) & set(b):
        raise ParameterError("aux_a/aux_b", f"{a} / {b}", "two non-empty disjoint column sets")
    cols = a + b
    _check({"training": train, "synthetic": synthetic, "holdout": holdout}, cols)
    rng = np.random.default_rng(seed)
    n = min(n_attacks, len(train), len(holdout))
    t = train.iloc[np.sort(rng.choice(len(train), n, replace=False))]
    h = holdout.iloc[np.sort(rng.choice(len(holdout), n, replace=False))]
    enc = gower_encoder([synthetic[cols], t[cols], h[cols]], cols)
    syn, te, he = enc.tables
    ia, ib = np.arange(len(a)), np.arange(len(a), len(cols))

    def linked(targets: np.ndarray) -> int:
        na, _ = _nearest(targets[:, ia], syn[:, ia], enc.numeric[ia])
        nb, _ = _nearest(targets[:, ib], syn[:, ib], enc.numeric[ib])
        return int((na == nb).sum())

    base = int((rng.integers(len(syn), size=n) == rng.integers(len(syn), size=n)).sum())
    return AttackResult(
        "linkability",
        wilson(linked(te), n, confidence),
        wilson(linked(he), n, confidence),
        wilson(base, n, confidence),
        {"n_attacks": n, "aux_a": a, "aux_b": b},
    )


def _guess_correct(guess: pd.Series, truth: pd.Series, tolerance: float) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(truth) and pd.api.types.is_numeric_dtype(guess):
        g = guess.to_numpy(dtype=float, na_value=np.nan)
        t = truth.to_numpy(dtype=float, na_value=np.nan)
        return np.abs(g - t) <= tolerance * np.abs(t)
    # a missing secret is a value like any other: guessing "missing" right is a success
    g = guess.astype("string").fillna("\x00<NA>").to_numpy(dtype=object)
    t = truth.astype("string").fillna("\x00<NA>").to_numpy(dtype=object)
    return g == t


def inference(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    aux: Sequence[str],
    secret: str,
    *,
    n_attacks: int = 500,
    seed: int = 0,
    tolerance: float = 0.05,
    confidence: float = 0.95,
) -> AttackResult:
    """Attribute-inference attack (Giomi et al. sec. 4.3).

    The attacker knows ``aux`` of a target and guesses ``secret`` as the value of the nearest
    synthetic record on ``aux``. A guess is right when equal (categorical) or within
    ``tolerance`` relative error (numeric). The baseline guesses a random synthetic record's
    value. A high control rate means the secret is predictable in the population (utility),
    which is not a privacy leak of the training people.
    """
    cols = list(aux)
    if not cols or secret in cols:
        raise ParameterError("aux", cols, f"non-empty columns other than the secret {secret!r}")
    _check({"training": train, "synthetic": synthetic, "holdout": holdout}, [*cols, secret])
    rng = np.random.default_rng(seed)
    n = min(n_attacks, len(train), len(holdout))
    t = train.iloc[np.sort(rng.choice(len(train), n, replace=False))]
    h = holdout.iloc[np.sort(rng.choice(len(holdout), n, replace=False))]
    enc = gower_encoder([synthetic[cols], t[cols], h[cols]], cols)
    syn, te, he = enc.tables
    secret_syn = synthetic[secret].reset_index(drop=True)

    def hits(targets: np.ndarray, truth: pd.Series) -> int:
        idx, _ = _nearest(targets, syn, enc.numeric)
        guess = secret_syn.iloc[idx].reset_index(drop=True)
        return int(_guess_correct(guess, truth.reset_index(drop=True), tolerance).sum())

    base_guess = secret_syn.iloc[rng.integers(len(secret_syn), size=n)].reset_index(drop=True)
    base = int(_guess_correct(base_guess, t[secret].reset_index(drop=True), tolerance).sum())
    return AttackResult(
        "inference",
        wilson(hits(te, t[secret]), n, confidence),
        wilson(hits(he, h[secret]), n, confidence),
        wilson(base, n, confidence),
        {"n_attacks": n, "aux": cols, "secret": secret, "tolerance": tolerance},
    )


# --------------------------------------------------------------------------------------------
# Distance to closest record
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DcrResult:
    """Distance to closest record: synthetic-to-training against synthetic-to-holdout."""

    records: int
    median_to_training: float
    median_to_holdout: float
    exact_copies_of_training: float
    exact_copies_of_holdout: float
    closer_to_training: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "median_dcr_training": self.median_to_training,
            "median_dcr_holdout": self.median_to_holdout,
            "share_dcr_zero_training": self.exact_copies_of_training,
            "share_dcr_zero_holdout": self.exact_copies_of_holdout,
            "share_closer_to_training": self.closer_to_training,
        }


def distance_to_closest_record(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    columns: Sequence[str],
    *,
    n_records: int = 2000,
    seed: int = 0,
) -> DcrResult:
    """DCR of synthetic rows to the training table and to an equal-sized holdout.

    ``closer_to_training`` counts a tie as one half, so a generator that ignores who is in the
    training set scores 0.5 in expectation, and a copy of the training rows scores 1.
    """
    cols = list(columns)
    _check({"training": train, "synthetic": synthetic, "holdout": holdout}, cols)
    rng = np.random.default_rng(seed)
    tr, ho = _equal_size(train, holdout, rng)
    m = min(n_records, len(synthetic))
    syn = synthetic.iloc[np.sort(rng.choice(len(synthetic), m, replace=False))]
    enc = gower_encoder([syn[cols], tr[cols], ho[cols]], cols)
    s, te, he = enc.tables
    _, d_train = _nearest(s, te, enc.numeric)
    _, d_hold = _nearest(s, he, enc.numeric)
    closer = float(((d_train < d_hold) + 0.5 * (d_train == d_hold)).mean())
    return DcrResult(
        m,
        float(np.median(d_train)),
        float(np.median(d_hold)),
        float((d_train == 0).mean()),
        float((d_hold == 0).mean()),
        closer,
    )
