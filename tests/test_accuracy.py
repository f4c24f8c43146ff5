"""Classification accuracy (ARX's utility view): tiny hand-checkable and seeded tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.deid.accuracy import classification_accuracy
from workbench.errors import ParameterError, WorkbenchError


def _table(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    noise = rng.random(n) < 0.1
    y = np.where(noise, rng.choice(["yes", "no"], n), np.where(np.isin(x, ["a", "c"]), "yes", "no"))
    return pd.DataFrame({"x": x, "z": rng.integers(0, 3, n), "y": y})


def test_identical_release_gives_equal_accuracy() -> None:
    df = _table()
    res = classification_accuracy(df, df.copy(), ["y"], seed=3)
    t = res.target("y")
    assert t.original == t.released
    assert t.original >= 0.85 > t.baseline  # y follows x: the model learns it
    assert t.relative == pytest.approx(1.0)
    assert res.records_train + res.records_test == 400 and res.records_test == 120


def test_fully_suppressed_target_gives_the_baseline() -> None:
    df = _table()
    rel = df.copy()
    rel["y"] = "*"
    t = classification_accuracy(df, rel, ["y"], seed=3).target("y")
    assert t.released == t.baseline and t.released_labelled == 0
    assert t.relative == pytest.approx(0.0)


def test_suppressed_features_give_the_baseline() -> None:
    df = _table()
    rel = df.copy()
    rel[["x", "z"]] = "*"
    t = classification_accuracy(df, rel, ["y"], seed=3).target("y")
    assert t.released == t.baseline < t.original


def test_hand_checked_tiny_table() -> None:
    """y = x exactly; test records are 3 of 10 (seeded split): every model is exact except the
    baseline, which is the share of test records of the most common training class."""
    df = pd.DataFrame({"x": list("aaaaaabbbb"), "y": list("ppppppqqqq")})
    res = classification_accuracy(df, df, ["y"], seed=0, test_share=0.3)
    t = res.target("y")
    assert (t.original, t.released, t.classes) == (1.0, 1.0, 2)
    # reproduce the split: the same seeded draws as the function
    rng = np.random.default_rng(0)
    perm = rng.permutation(10)
    test, train = np.sort(perm[:3]), np.sort(perm[3:])
    majority = pd.Series(df["y"].to_numpy()[train]).value_counts().idxmax()
    assert t.baseline == pytest.approx(float(np.mean(df["y"].to_numpy()[test] == majority)))


def test_generalized_target_counts_as_wrong() -> None:
    df = _table()
    rel = df.copy()
    rel["y"] = np.where(rel["y"] == "yes", "yes-or-no", "yes-or-no")
    t = classification_accuracy(df, rel, ["y"], seed=3).target("y")
    assert t.released == 0.0


def test_seeded_and_bounded() -> None:
    df = _table(3000, seed=5)
    a = classification_accuracy(df, df, ["y", "x"], seed=9, max_records=500)
    b = classification_accuracy(df, df, ["y", "x"], seed=9, max_records=500)
    assert a.to_dict() == b.to_dict()
    assert a.records_train + a.records_test == 500
    assert [t.target for t in a.targets] == ["y", "x"]
    assert classification_accuracy(df, df, ["y"], max_records=3000).records_test == 900


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": []}, "target"),
        ({"targets": ["nope"]}, "nope"),
        ({"targets": ["y"], "max_records": 9}, "max_records"),
        ({"targets": ["y"], "test_share": 0.0}, "test_share"),
        ({"targets": ["y"], "test_share": 1.0}, "test_share"),
        ({"targets": ["y"], "features": ["y"]}, "features"),
    ],
)
def test_bad_parameters(kwargs, match) -> None:
    df = _table(50)
    with pytest.raises(WorkbenchError, match=match):
        classification_accuracy(df, df, **kwargs)


def test_rows_must_align() -> None:
    df = _table(50)
    with pytest.raises(ParameterError, match="row for row"):
        classification_accuracy(df, df.iloc[:40], ["y"])


def test_max_records_limit_exactly() -> None:
    df = _table(200)
    assert classification_accuracy(df, df, ["y"], max_records=200).records_test == 60
    assert classification_accuracy(df, df, ["y"], max_records=199).records_test == 60  # 59.7
    assert classification_accuracy(df, df, ["y"], max_records=10).records_test == 3
