"""Memory estimate before SUDA2: refused up front with what would fit (issue #12)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import workbench._memory as memory
from workbench.cli import main
from workbench.errors import ResourceLimitError
from workbench.risk import assess
from workbench.risk.suda import suda2_memory


def test_check_memory_limit_is_inclusive() -> None:
    memory.check_memory(1000, "x", "y", available=1000)
    with pytest.raises(ResourceLimitError, match=r"^SUDA2 over 9 records needs about .*; try b$"):
        memory.check_memory(1001, "SUDA2 over 9 records", "try b", available=1000)
    with pytest.raises(ResourceLimitError, match=r"about 1\.5 GiB .* has 512\.0 MiB available"):
        memory.check_memory(3 * 2**29, "x", "y", available=2**29)


def test_suda_estimate_by_hand() -> None:
    # 6 QIs, all sizes: arrays 8 * (6*6 + 2*6 + 6) = 432 bytes; widest two levels C(6,2) +
    # C(6,3) = 35 subsets x 5 bytes = 175 bytes: 607 bytes per record
    assert suda2_memory(1, 6) == 607
    assert suda2_memory(50_000_000, 6) == 607 * 50_000_000  # ~30 GB: over a 24 GB machine
    # max size 1: arrays 8 * (36 + 2 + 6) = 352; level 1 alone: C(6,1) = 6 x 5 = 30
    assert suda2_memory(10, 6, 1) == 3820
    assert suda2_memory(10, 6, 2) < suda2_memory(10, 6, 3) < suda2_memory(10, 6)


def test_suda_estimate_bounds_the_measured_peak() -> None:
    rng = np.random.default_rng(0)
    n, qis = 20_000, [f"q{i}" for i in range(6)]
    frame = pd.DataFrame({q: rng.integers(0, 12, n) for q in qis})
    profile = assess(frame, qis)
    tracemalloc.start()
    try:
        _ = profile.suda
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = suda2_memory(n, 6)
    assert 0.3 * estimate <= peak <= estimate, (peak, estimate)


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "clinic.csv"
    pd.DataFrame({"age": [30, 30, 41, 52], "sex": ["F", "F", "M", "F"]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("spare", "ok"), [(0, True), (-1, False)])
def test_assess_suda_refused_before_it_starts(small_csv, monkeypatch, capsys, spare, ok) -> None:
    need = suda2_memory(4, 2)
    monkeypatch.setattr(memory, "available_memory", lambda: need + spare)
    rc = main(["assess", str(small_csv), "--qi", "age,sex", "--suda", "--json"])
    err = capsys.readouterr().err
    if ok:
        assert rc == 0 and err == ""
    else:
        assert rc == 2
        assert "SUDA2 over 4 records and 2 QIs needs about" in err
        assert "--suda-max-size 1 fits" in err
