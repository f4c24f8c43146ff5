"""A risk profile does not carry the assessed data (issue #11): a weak reference only."""

from __future__ import annotations

import gc
import weakref

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.risk import assess


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"zip": ["a", "a", "b", "c", "c", "c"], "sex": list("ffmmmm")})


def test_profile_does_not_keep_the_data_alive() -> None:
    df = _frame()
    probe = weakref.ref(df)
    profile = assess(df, ["zip", "sex"])
    assert profile.source is df
    del df
    gc.collect()
    assert probe() is None  # the profile did not keep the table alive
    assert profile.source is None
    # records were assigned during the pandas scan: per-record results still work
    assert profile.class_sizes_per_record().tolist() == [2, 2, 1, 3, 3, 3]
    assert not any(isinstance(v, pd.DataFrame) for v in vars(profile).values())


def test_lazy_profile_assigns_records_from_the_data_it_is_given() -> None:
    con = duckdb.connect()
    con.register("t", _frame())
    rel = con.sql("SELECT * FROM t")
    profile = assess(rel, ["zip", "sex"])
    assert profile.table.record_class is None  # the grouped scan keeps no record ids
    expected = np.array([2, 2, 1, 3, 3, 3])
    # while the caller holds the relation, the weak reference finds it
    assert sorted(profile.class_sizes_per_record().tolist()) == sorted(expected.tolist())

    again = assess(con.sql("SELECT * FROM t"), ["zip", "sex"])
    gc.collect()
    assert again.source is None
    with pytest.raises(ParameterError, match="assign_records"):
        _ = again.record_class
    again.assign_records(rel)
    assert sorted(again.per_record()["fk"].tolist()) == sorted(expected.tolist())
