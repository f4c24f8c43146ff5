"""How faithful a synthetic table is to the real one.

Marginal distances and associations are those of :func:`workbench.deid.comparison.compare` (one
definition each: total variation for one-way marginals, total variation of two-way tables of
shares, Cramér's V / Pearson differences), applied to real versus synthetic over every pair of
columns. Machine-learning utility is measured as *train on synthetic, test on real* (TSTR;
Esteban, Hyland & Rätsch 2017; Jordon et al. 2022, "Synthetic Data -- what, why and how?"): a
simple classifier per target column is fitted on the synthetic table and scored on the real
holdout, next to the same classifier fitted on the real training table (the reference) and the
majority class (the floor).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..deid.comparison import UtilityReport, compare
from ..errors import ParameterError

__all__ = ["TstrResult", "FidelityReport", "fidelity", "train_synthetic_test_real"]


@dataclass(frozen=True)
class TstrResult:
    """Accuracy on the real holdout of a classifier trained on synthetic vs on real data."""

    target: str
    accuracy_synthetic: float
    accuracy_real: float
    accuracy_majority: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FidelityReport:
    """Marginals, associations and downstream statistics of real vs synthetic, and TSTR."""

    utility: UtilityReport
    tstr: tuple[TstrResult, ...] = ()

    @property
    def one_way_tv(self) -> dict[str, float | None]:
        return {a.column: a.total_variation for a in self.utility.attributes}

    @property
    def two_way_tv(self) -> dict[str, float]:
        return {" x ".join(c.columns): c.total_variation for c in self.utility.crosstabs}

    def to_dict(self) -> dict[str, Any]:
        one = [v for v in self.one_way_tv.values() if v is not None]
        two = list(self.two_way_tv.values())
        return {
            "one_way_tv": self.one_way_tv,
            "one_way_tv_mean": float(np.mean(one)) if one else None,
            "one_way_tv_max": float(np.max(one)) if one else None,
            "two_way_tv": self.two_way_tv,
            "two_way_tv_mean": float(np.mean(two)) if two else None,
            "two_way_tv_max": float(np.max(two)) if two else None,
            "mean_association_difference": self.utility.mean_correlation_difference,
            "compare": self.utility.to_dict(),
            "train_synthetic_test_real": [t.to_dict() for t in self.tstr],
        }


def train_synthetic_test_real(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    seed: int = 0,
    max_rows: int = 50_000,
) -> TstrResult:
    """TSTR accuracy of a one-hot logistic regression for ``target`` (scikit-learn).

    Features are treated as categories (the synthetic columns are binned); categories unseen in
    training are ignored at test time. Training tables larger than ``max_rows`` are subsampled.
    """
    from .._extras import require

    require("sklearn", "train-on-synthetic / test-on-real")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    feats = [f for f in features if f != target]
    if not feats:
        raise ParameterError("features", list(features), f"columns other than {target!r}")
    rng = np.random.default_rng(seed)

    def xy(df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        if len(df) > max_rows:
            df = df.iloc[np.sort(rng.choice(len(df), max_rows, replace=False))]
        x = df[feats].astype("string").fillna("<NA>").astype(object)
        return x, df[target].astype("string").fillna("<NA>").to_numpy(dtype=object)

    xh, yh = xy(holdout)

    def fit_score(df: pd.DataFrame) -> float:
        x, y = xy(df)
        if len(set(y)) < 2:  # one class: the model predicts it everywhere
            return float(np.mean(yh == y[0])) if len(y) else 0.0
        model = make_pipeline(
            OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=300)
        )
        model.fit(x, y)
        return float(np.mean(model.predict(xh) == yh))

    _, ytr = xy(train)
    values, counts = np.unique(ytr, return_counts=True)
    majority = values[np.argmax(counts)]
    return TstrResult(
        target, fit_score(synthetic), fit_score(train), float(np.mean(yh == majority))
    )


def fidelity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    holdout: pd.DataFrame | None = None,
    targets: Sequence[str] = (),
    seed: int = 0,
) -> FidelityReport:
    """Compare ``synthetic`` with the ``real`` table it was generated from.

    Every pair of ``columns`` gets a two-way table and an association; ``targets`` get a TSTR
    classifier (needs ``holdout``, real records the generator never saw).
    """
    cols = list(columns) if columns is not None else [c for c in real.columns if c in synthetic]
    report = compare(
        real,
        synthetic,
        cols,
        pairs=list(itertools.combinations(cols, 2)),
        information_loss=False,
    )
    tstr: list[TstrResult] = []
    if targets and holdout is None:
        raise ParameterError("holdout", None, "a holdout table to test the TSTR classifiers on")
    for t in targets:
        tstr.append(train_synthetic_test_real(real, synthetic, holdout, t, cols, seed=seed))
    return FidelityReport(report, tuple(tstr))
