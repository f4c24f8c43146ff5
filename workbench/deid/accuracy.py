"""Classification accuracy: does a model learned from the release still predict what matters?

ARX's utility view of the same name, for a simple model: for each target attribute a one-hot
logistic regression (scikit-learn) is trained on the original records and on the released
ones, and both predict the *original* target of the same held-out records. Three figures per
target (Iyengar 2002, "Transforming data to satisfy privacy constraints", classification
metric; ARX's "relative accuracy" = (released - baseline) / (original - baseline)):

* ``original``: accuracy of the model trained on the original features and target;
* ``released``: accuracy of the model trained on the released features and target, predicting
  from the released features of the test records (what an analyst holding the release gets);
* ``baseline``: always guessing the most common class of the original training records.

Choices, stated once:

* Records are sampled (seeded, at most ``max_records``) and split into training and test
  records once, so every model sees the same records; results repeat exactly for a seed.
* Every feature is treated as categories (released values are labels: intervals, ``*``), so
  the original and released models are the same model on different inputs.
* A released target value ``*`` teaches nothing: those training records are left out. When no
  labelled record is left the released accuracy is the baseline (a guess of the most common
  class), never more.
* A released prediction counts as correct only when it equals the original value: a
  generalized target (an age band) is counted wrong, because the detail is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from .transforms import SUPPRESSED

__all__ = ["TargetAccuracy", "ClassificationAccuracy", "classification_accuracy"]

_NA = "<NA>"


@dataclass(frozen=True)
class TargetAccuracy:
    """Accuracy of predicting one target from the original and from the released records."""

    target: str
    classes: int
    original: float
    released: float
    baseline: float
    released_labelled: int  # training records whose released target is not suppressed

    @property
    def relative(self) -> float | None:
        """ARX's relative accuracy ``(released - baseline) / (original - baseline)``; ``None``
        when the original model is no better than the baseline (nothing to keep)."""
        gain = self.original - self.baseline
        return None if gain <= 0 else (self.released - self.baseline) / gain

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "classes": self.classes,
            "original": self.original,
            "released": self.released,
            "baseline": self.baseline,
            "relative": self.relative,
            "released_labelled": self.released_labelled,
        }


@dataclass(frozen=True)
class ClassificationAccuracy:
    """:func:`classification_accuracy` for several targets (render it via :meth:`to_dict`)."""

    targets: tuple[TargetAccuracy, ...]
    features: tuple[str, ...]
    records_train: int
    records_test: int
    seed: int
    model: str
    notes: tuple[str, ...] = ()

    def target(self, name: str) -> TargetAccuracy:
        for t in self.targets:
            if t.target == name:
                return t
        raise ParameterError("target", name, f"one of {[t.target for t in self.targets]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [t.to_dict() for t in self.targets],
            "features": list(self.features),
            "records_train": self.records_train,
            "records_test": self.records_test,
            "seed": self.seed,
            "model": self.model,
            "notes": list(self.notes),
        }


_MODEL = "logistic regression on one-hot categories (scikit-learn, max_iter=300)"


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("string").fillna(_NA).astype(object)


def _fit_predict(x_train: pd.DataFrame, y_train: np.ndarray, x_test: pd.DataFrame) -> np.ndarray:
    """Predictions of the simple model (one class in training: that class everywhere)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    classes = np.unique(y_train)
    if len(classes) == 1:
        return np.full(len(x_test), classes[0], dtype=object)
    model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=300))
    model.fit(x_train, y_train)
    return model.predict(x_test)


def classification_accuracy(
    original: Any,
    released: Any,
    targets: Sequence[str],
    features: Sequence[str] | None = None,
    *,
    seed: int = 0,
    max_records: int = 10_000,
    test_share: float = 0.3,
    progress: Callable[[int, int, str], None] | None = None,
) -> ClassificationAccuracy:
    """Accuracy per target of a model trained on ``released`` vs on ``original`` (see module).

    Parameters
    ----------
    original, released
        The same records, row for row (a release keeps suppressed records as ``*`` rows).
    targets
        Attributes to predict, each from the ``features``.
    features
        Predictors (default: every column of ``released`` present in ``original``). A target
        is never its own feature. Leave direct identifiers out: they predict nothing.
    seed, max_records, test_share
        The seeded sample (bounded, so the view stays seconds on any table) and its split.
    progress
        ``progress(done, total, message)`` per target (the panel's progress bar).
    """
    from .._extras import require

    require("sklearn", "classification accuracy")
    o, r = as_pandas(original), as_pandas(released)
    if len(o) != len(r):
        raise ParameterError(
            "released", f"{len(r)} rows", f"the {len(o)} rows of the original, row for row"
        )
    targets = list(targets)
    if not targets:
        raise ParameterError("targets", [], "at least one target attribute")
    check_columns(o, targets, "original")
    check_columns(r, targets, "released")
    feats = [c for c in r.columns if c in o.columns] if features is None else list(features)
    check_columns(o, feats, "original")
    check_columns(r, feats, "released")
    if not isinstance(max_records, int) or max_records < 10:
        raise ParameterError("max_records", max_records, "an integer of at least 10")
    if not 0 < test_share < 1:
        raise ParameterError("test_share", test_share, "a share strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    n = len(o)
    rows = np.sort(rng.choice(n, max_records, replace=False)) if n > max_records else np.arange(n)
    perm = rng.permutation(len(rows))
    n_test = max(1, int(round(len(rows) * test_share)))
    if len(rows) - n_test < 1:
        raise ParameterError("original", f"{n} records", "at least 2 records to train and test")
    test, train = np.sort(rows[perm[:n_test]]), np.sort(rows[perm[n_test:]])
    results, notes = [], []
    for i, target in enumerate(targets):
        if progress is not None:
            progress(i, len(targets), f"training models for {target}")
        fs = [f for f in feats if f != target]
        if not fs:
            raise ParameterError("features", feats, f"columns other than the target {target!r}")
        xo, xr = _labels(o[fs]), _labels(r[fs])
        yo = _labels(o[[target]])[target].to_numpy(dtype=object)
        yr = _labels(r[[target]])[target].to_numpy(dtype=object)
        truth = yo[test]
        values, counts = np.unique(yo[train], return_counts=True)
        baseline = float(np.mean(truth == values[np.argmax(counts)]))
        acc_o = float(np.mean(_fit_predict(xo.iloc[train], yo[train], xo.iloc[test]) == truth))
        labelled = train[yr[train] != SUPPRESSED]
        if len(labelled):
            pred = _fit_predict(xr.iloc[labelled], yr[labelled], xr.iloc[test])
            acc_r = float(np.mean(pred == truth))
        else:
            acc_r = baseline
            notes.append(
                f"{target}: suppressed in every training record; the release teaches nothing "
                "about it, so its accuracy is the baseline guess"
            )
        results.append(
            TargetAccuracy(
                target, int(len(np.unique(yo))), acc_o, acc_r, baseline, int(len(labelled))
            )
        )
    if progress is not None:
        progress(len(targets), len(targets), "done")
    return ClassificationAccuracy(
        tuple(results), tuple(feats), int(len(train)), int(len(test)), seed, _MODEL, tuple(notes)
    )
