"""Shared helpers for the UI tests: tiny tables, stores built from them, chart data access."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.dataset import Dataset
from workbench.profiling.roles import RoleMap
from workbench.ui._charts_extra import PLOTLY_MIME
from workbench.ui.state import Store


def tiny_frame() -> pd.DataFrame:
    """Hand-checkable: classes on (age, zip) of sizes 1, 2, 3, 4 (10 records)."""
    rows = [
        ("r01", 30, "11111", "flu"),  # class A: size 1
        ("r02", 40, "22222", "flu"),  # class B: size 2
        ("r03", 40, "22222", "cold"),
        ("r04", 50, "33333", "flu"),  # class C: size 3
        ("r05", 50, "33333", "cold"),
        ("r06", 50, "33333", "asthma"),
        ("r07", 60, "44444", "flu"),  # class D: size 4
        ("r08", 60, "44444", "flu"),
        ("r09", 60, "44444", "cold"),
        ("r10", 60, "44444", "cold"),
    ]
    return pd.DataFrame(rows, columns=["record_id", "age", "zip", "diagnosis"])


def random_frame(n: int = 600, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "record_id": [f"ID{i:06d}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["F", "M"], n),
            "zip": rng.choice([f"{z:05d}" for z in range(46200, 46230)], n),
            "diagnosis": rng.choice(["flu", "cold", "asthma", "back pain"], n),
        }
    )


def store_for(frame: pd.DataFrame, qis: list[str], sensitive: list[str] = (), direct=()) -> Store:
    ds = Dataset.from_frame(frame, name="tiny")
    roles = RoleMap.from_columns(
        frame.columns, direct_identifiers=direct, quasi_identifiers=qis, sensitive=sensitive
    )
    store = Store()
    store.load_dataset(ds, roles=roles)
    return store


def shown(slot: Any) -> dict:
    """The plotly JSON a FigureSlot currently sends to the browser."""
    assert slot.output.outputs, "nothing shown"
    return slot.output.outputs[0]["data"][PLOTLY_MIME]


def trace(slot: Any, i: int = 0) -> dict:
    return shown(slot)["data"][i]
