"""The per-dataset cache (workbench._cache): warm results equal fresh ones, a changed dataset is
never served a stale entry, the cache keeps no dataset alive and stays within its bounds."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

from workbench import _cache
from workbench.dataset import Dataset
from workbench.deid import Hierarchy, anonymize
from workbench.risk import assess


@pytest.fixture(autouse=True)
def _fresh_cache():
    _cache.clear()
    yield
    _cache.clear()


def _random_table(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 30, size=n).astype(float)
    age[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "sex": rng.choice(["F", "M"], size=n),
            "zip": rng.choice([f"{z:05d}" for z in range(10100, 10108)], size=n),
            "dx": rng.choice(["flu", "asthma", "cancer", "none"], size=n, p=[0.4, 0.3, 0.1, 0.2]),
        }
    )


def _hierarchies(frame: pd.DataFrame) -> dict:
    zips = sorted(frame["zip"].unique())
    return {
        "zip": Hierarchy.from_rows([(z, z[:4] + "*", "*") for z in zips]),
        "sex": Hierarchy.from_rows([("F", "*"), ("M", "*")]),
    }


def _anon_dict(result) -> dict:
    d = result.to_dict()
    d.pop("elapsed_seconds", None)
    return d


def _fresh_assess(ds: Dataset, qis, **kw) -> dict:
    with _cache.disabled():
        return assess(ds, qis, **kw).to_dict()


@pytest.mark.parametrize("seed", range(6))
def test_warm_assess_equals_uncached_on_random_tables(seed):
    ds = Dataset.from_frame(_random_table(seed), name=f"t{seed}")
    for qis, sens in ((["age", "sex"], ["dx"]), (["age", "sex", "zip"], []), (["zip"], ["dx"])):
        first = assess(ds, qis, sensitive=sens).to_dict()
        warm = assess(ds, qis, sensitive=sens).to_dict()
        assert warm == first == _fresh_assess(ds, qis, sensitive=sens)
    assert _cache.stats()["hits"] == 3  # the second call of each QI set came from the cache


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("suppression", [0.0, 0.1])
def test_warm_anonymize_equals_uncached_on_random_tables(seed, suppression):
    frame = _random_table(seed)
    ds = Dataset.from_frame(frame, name="t")
    hs = _hierarchies(frame)
    kw = dict(k=4, suppression=suppression, sensitive=["dx"], l=2)
    first = _anon_dict(anonymize(ds, ["sex", "zip"], hs, **kw))
    warm = _anon_dict(anonymize(ds, ["sex", "zip"], hs, **kw))
    with _cache.disabled():
        fresh = _anon_dict(anonymize(ds, ["sex", "zip"], hs, **kw))
    assert warm == first == fresh
    # another criterion on the same warm context
    kw = dict(k=9, suppression=suppression, sensitive=["dx"], l=3)
    other = _anon_dict(anonymize(ds, ["sex", "zip"], hs, **kw))
    with _cache.disabled():
        assert other == _anon_dict(anonymize(ds, ["sex", "zip"], hs, **kw))
    assert _cache.stats()["hits"] >= 2


def test_written_dataset_is_not_served_a_stale_class_table():
    frame = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "z"]})
    ds = Dataset.from_frame(frame)
    before = assess(ds, ["a", "b"]).to_dict()
    assert before["sample_uniques"] == 2
    frame.loc[3, "a"] = 2  # row 3 joins no class: (2, z) is new...
    frame.loc[3, "b"] = "y"  # ...and now (2, y) has two records
    after = assess(ds, ["a", "b"]).to_dict()
    assert after["sample_uniques"] == 0
    assert after == _fresh_assess(ds, ["a", "b"])
    assert _cache.stats()["stale"] == 1


@pytest.mark.parametrize(
    "write",
    [
        lambda f: f.loc.__setitem__((0, "a"), 9),
        lambda f: f.iloc.__setitem__((1, 0), 9),
        lambda f: f.__setitem__("a", f["a"] * 0 + 5),
        lambda f: f.replace({"b": {"x": "w"}}, inplace=True),
        lambda f: setattr(f, "columns", ["b", "a"]),
        lambda f: f.__setitem__("extra", 1),
    ],
    ids=["loc", "iloc", "assign", "replace-inplace", "rename", "new-column"],
)
def test_every_kind_of_write_invalidates(write):
    frame = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "z"]})
    ds = Dataset.from_frame(frame)
    assess(ds, ["a", "b"])
    write(frame)
    assert assess(ds, ["a", "b"]).to_dict() == _fresh_assess(ds, ["a", "b"])
    assert _cache.stats()["hits"] == 0


def test_written_dataset_is_not_served_a_stale_search_context():
    # classes (F, 1) x2 and (M, 2) x3: 2-anonymous as it is
    frame = pd.DataFrame({"sex": ["F", "F", "M", "M", "M"], "zip": ["1", "1", "2", "2", "2"]})
    hs = {
        "sex": Hierarchy.from_rows([("F", "*"), ("M", "*")]),
        "zip": Hierarchy.from_rows([("1", "*"), ("2", "*")]),
    }
    ds = Dataset.from_frame(frame)
    assert dict(anonymize(ds, ["sex", "zip"], hs, k=2).levels) == {"sex": 0, "zip": 0}
    frame.loc[0, "sex"] = "M"  # (F, 1) x1 and (M, 1) x1: now k=2 needs generalization
    warm = _anon_dict(anonymize(ds, ["sex", "zip"], hs, k=2))
    with _cache.disabled():
        fresh = _anon_dict(anonymize(ds, ["sex", "zip"], hs, k=2))
    assert warm == fresh
    assert warm["levels"] != {"sex": 0, "zip": 0}


def test_changed_hierarchy_file_is_not_reused(tmp_path):
    frame = pd.DataFrame({"zip": ["10100", "10101", "10102", "10103"] * 3})
    ds = Dataset.from_frame(frame)
    path = tmp_path / "zip.csv"
    path.write_text("10100;1010*;*\n10101;1010*;*\n10102;1010*;*\n10103;1010*;*\n")
    assert dict(anonymize(ds, ["zip"], {"zip": str(path)}, k=6).levels) == {"zip": 1}
    # same leaves, a level that now splits them in two pairs: a different hierarchy
    path.write_text("10100;101a*;*\n10101;101a*;*\n10102;101b*;*\n10103;101b*;*\n")
    warm = _anon_dict(anonymize(ds, ["zip"], {"zip": str(path)}, k=6))
    with _cache.disabled():
        fresh = _anon_dict(anonymize(ds, ["zip"], {"zip": str(path)}, k=6))
    assert warm == fresh
    assert warm["levels"] == {"zip": 1}  # 6 records per pair: level 1 still suffices
    path.write_text("10100;101a*;*\n10101;101b*;*\n10102;101c*;*\n10103;101d*;*\n")
    assert dict(anonymize(ds, ["zip"], {"zip": str(path)}, k=6).levels) == {"zip": 2}


def test_cache_keeps_no_dataset_or_rows_alive():
    frame = _random_table(1)
    ds = Dataset.from_frame(frame)
    hs = _hierarchies(frame)
    assess(ds, ["sex", "zip"])
    anonymize(ds, ["sex", "zip"], hs, k=3)
    assert _cache.stats()["entries"] == 2
    ds_ref, frame_ref = weakref.ref(ds), weakref.ref(frame)
    del ds, frame
    gc.collect()
    assert ds_ref() is None
    assert frame_ref() is None
    assert _cache.stats()["entries"] == 0
    assert _cache.stats()["bytes"] == 0


def test_entries_are_bounded_in_number(monkeypatch):
    monkeypatch.setattr(_cache, "MAX_ENTRIES", 2)
    ds = Dataset.from_frame(_random_table(2))
    for qis in (["age"], ["sex"], ["zip"], ["age", "sex"]):
        assess(ds, qis)
    s = _cache.stats()
    assert s["entries"] == 2
    assert s["evicted"] == 2
    assess(ds, ["age", "sex"])  # the most recent one survived
    assert _cache.stats()["hits"] == 1


def test_entries_are_bounded_in_bytes(monkeypatch):
    ds = Dataset.from_frame(_random_table(3, n=2000))
    table_bytes = _cache.estimate_nbytes(assess(ds, ["age", "sex", "zip"]).table)
    _cache.clear()
    # room for exactly one class table of this size, not two
    monkeypatch.setenv("WORKBENCH_CACHE_MB", str(1.5 * table_bytes / 2**20))
    assess(ds, ["age", "sex", "zip"])
    assert _cache.stats()["entries"] == 1
    assess(ds, ["zip", "sex", "age"])
    s = _cache.stats()
    assert s["entries"] == 1 and s["evicted"] == 1
    assert s["bytes"] <= 1.5 * table_bytes
    monkeypatch.setenv("WORKBENCH_CACHE_MB", "0")  # off
    _cache.clear()
    assess(ds, ["age"])
    assert _cache.stats()["entries"] == 0


def test_lazy_and_raw_frames_are_not_cached():
    frame = _random_table(4)
    assess(frame, ["age", "sex"])  # a raw frame has no dataset identity to key on
    assert _cache.stats() == {
        "hits": 0,
        "misses": 0,
        "stale": 0,
        "evicted": 0,
        "entries": 0,
        "bytes": 0,
    }


def test_shared_class_table_cannot_be_written_in_place():
    ds = Dataset.from_frame(_random_table(5))
    table = assess(ds, ["age", "sex"], sensitive=["dx"]).table
    assert assess(ds, ["age", "sex"], sensitive=["dx"]).table is table  # shared by warm calls
    with pytest.raises(ValueError, match="read-only"):
        table.counts[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        table.sensitive["dx"].counts[0] = 0
