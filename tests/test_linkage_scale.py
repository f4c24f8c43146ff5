"""Probabilistic linkage never reports "no risk" silently when exact linkage matches (#12)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.errors import LinkageWarning, PrivacyWarning
from workbench.linkage import link_exact, link_probabilistic

pytest.importorskip("splink", reason="probabilistic linkage needs the [linkage] extra")


def _weak(n: int, seed: int) -> pd.DataFrame:
    """Two weak fields: many records agree exactly, none is identifying enough for p >= 0.9."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "income_band": rng.choice(["a", "b", "c", "d", "e"], n),
        }
    )


def test_zero_scored_pairs_with_exact_matches_warn_loudly() -> None:
    r, a = _weak(3000, 1), _weak(3000, 2)
    assert link_exact(r, a, on="sex,income_band").one_match == 0.0  # exact agreement: many
    with pytest.warns(LinkageWarning, match=r"scored no record pair .* agree exactly") as rec:
        res = link_probabilistic(r, a, on="sex,income_band", threshold=0.9)
    assert res.scored_pairs == 0 and res.no_match == 1.0
    assert issubclass(LinkageWarning, PrivacyWarning)
    message = str(rec[0].message)
    assert "3,000 x 3,000" in message and "understates the risk" in message


def test_no_warning_when_pairs_are_scored() -> None:
    rng = np.random.default_rng(3)
    r = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 400),
            "birth_year": rng.integers(1930, 2010, 400),
            "postal_code": [f"{z:05d}" for z in rng.integers(10000, 99999, 400)],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinkageWarning)
        res = link_probabilistic(r, r.copy(), on="sex,birth_year,postal_code", threshold=0.5)
    assert res.scored_pairs > 0
