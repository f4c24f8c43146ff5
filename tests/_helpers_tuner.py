"""Helpers for the tuner tests: reports compared field by field (floats to 1e-9)."""

from __future__ import annotations

import math

import pytest


def assert_close(a, b, path="report"):
    """Equal dicts/lists, floats equal to a relative 1e-9 (NaN equals NaN)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        if math.isnan(a):
            assert math.isnan(b), path
        else:
            assert b == pytest.approx(a, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, (path, a, b)
