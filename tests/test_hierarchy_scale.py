"""Automatic hierarchies are built from distinct values, not per record (issue #12).

Oracle: the old path (every record handed to the builders) is the same code with the reduction
to distinct values switched off; both must give the same hierarchy on seeded random columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.deid import hierarchy as hmod
from workbench.deid.hierarchy import auto_hierarchy


def _columns(seed: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    n = 3000
    ints = rng.integers(0, 95, n)
    floats = rng.normal(50, 20, n).round(1)
    floats[rng.random(n) < 0.05] = np.nan
    days = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 30000, 200), unit="D")
    dates = pd.Series(days.strftime("%d/%m/%Y")).sample(n, replace=True, random_state=seed)
    codes = pd.Series([f"{z:05d}" for z in rng.integers(0, 99999, 300)]).sample(
        n, replace=True, random_state=seed + 1
    )
    cats = pd.Series(rng.choice(["a", "b", "c", "d", None], n), dtype=object)
    text_nums = pd.Series([str(v) for v in rng.integers(10, 60, n)], dtype=object)
    text_nums[rng.random(n) < 0.1] = None
    few = pd.Series(rng.integers(0, 5, n))
    flags = pd.Series(rng.random(n) < 0.3)
    return {
        "int": pd.Series(ints),
        "int_missing": pd.Series(ints, dtype="Int64").mask(rng.random(n) < 0.1),
        "float": pd.Series(floats),
        "date": dates.reset_index(drop=True),
        "code": codes.reset_index(drop=True),
        "category": cats,
        "numeric_text": text_nums,
        "few_ints": few,
        "bool": flags,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_hierarchy_from_distinct_values_equals_per_record_path(seed, monkeypatch) -> None:
    columns = _columns(seed)
    fast = {c: auto_hierarchy(s, name=c) for c, s in columns.items()}
    monkeypatch.setattr(hmod, "_distinct_values", lambda s: s)  # the old, per-record path
    slow = {c: auto_hierarchy(s, name=c) for c, s in columns.items()}
    for c in columns:
        assert fast[c][0] == slow[c][0], c
        assert fast[c][0].rows == slow[c][0].rows, c
        assert fast[c][1] == slow[c][1], c


def test_auto_hierarchy_never_formats_every_record(monkeypatch) -> None:
    """Regression: value strings were built for every record (a Python call per value)."""
    seen: list[int] = []
    real = hmod.value_strings

    def spy(values):
        seen.append(len(values))
        return real(values)

    monkeypatch.setattr(hmod, "value_strings", spy)
    rng = np.random.default_rng(7)
    for values in (
        pd.Series(rng.integers(0, 90, 50_000)),  # interval
        pd.Series(rng.choice(["x", "y", "z", None], 50_000), dtype=object),  # categorical
        pd.Series([f"{z:05d}" for z in rng.integers(0, 50, 50_000)]),  # masking
    ):
        seen.clear()
        auto_hierarchy(values, name="c")
        distinct = values.nunique(dropna=False)
        assert seen and max(seen) <= distinct, (max(seen), distinct)
