"""The k-anonymous alternative: a k-anonymous release, and the real records at its granularity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.deid.hierarchy import Hierarchy
from workbench.errors import ParameterError
from workbench.synth.alternative import k_anonymous_alternative

DECADES = Hierarchy.from_rows(
    [(str(y), f"{y // 10 * 10}s", "*") for y in range(1950, 1970)], name="year"
)
SEX = Hierarchy.from_rows([("F", "*"), ("M", "*")], name="sex")


def _people(n: int, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "year": r.integers(1950, 1970, n).astype(str),
            "sex": r.choice(["F", "M"], n),
            "inc": r.choice(["a", "b"], n),
            "pid": [f"p{seed}_{i}" for i in range(n)],
        }
    )


@pytest.mark.parametrize("k", [2, 3, 7])
def test_release_is_k_anonymous_and_the_real_tables_are_generalized_alike(k):
    train, hold = _people(60, 1), _people(60, 2)
    alt = k_anonymous_alternative(
        train, hold, ["year", "sex"], k=k, columns=["year", "sex", "inc"],
        hierarchies={"year": DECADES, "sex": SEX}, keep=["pid"],
    )  # fmt: skip
    rel = alt.release
    kept = rel[rel["year"] != "*"]
    assert kept.groupby(["year", "sex"]).size().min() >= k
    assert list(rel.columns) == ["year", "sex", "inc", "pid"]
    assert rel["pid"].tolist() == train["pid"].tolist()  # kept along, row for row
    # the training records at the release's levels equal the release wherever not suppressed
    same = alt.training.loc[kept.index, ["year", "sex"]].astype(str)
    assert same.equals(kept[["year", "sex"]].astype(str))
    level = alt.levels["year"]
    assert set(alt.holdout["year"]) <= set(DECADES.values(level))
    assert alt.to_dict()["records_suppressed"] == int((rel["year"] == "*").sum())


def test_k_below_two_protects_nobody_and_is_refused():
    train, hold = _people(20, 1), _people(20, 2)
    with pytest.raises(ParameterError, match="k = 1 protects nobody"):
        k_anonymous_alternative(train, hold, ["year"], k=1, hierarchies={"year": DECADES})
    alt = k_anonymous_alternative(train, hold, ["year"], k=2, hierarchies={"year": DECADES})
    assert alt.release.groupby("year").size().min() >= 2


def test_without_hierarchies_holdout_values_all_have_a_leaf():
    """Default hierarchies are built over training and holdout together."""
    train, hold = _people(40, 1), _people(40, 2)
    hold.loc[0, "year"] = "1999"  # only in the holdout
    alt = k_anonymous_alternative(train, hold, ["year", "sex"], k=3)
    assert alt.holdout["year"].notna().all()


def test_the_report_sets_the_alternative_beside_the_synthetic_table():
    from workbench.review.bundle import AssessmentBundle
    from workbench.review.report import render_html

    def doc(risk: float, tv: float) -> dict:
        attack = {"attack": "singling_out", "risk": risk, "risk_ci": [0.0, risk + 0.1]}
        return {"fidelity": {"two_way_tv_mean": tv}, "privacy": {"attacks": [attack]}}

    synthetic = {**doc(0.0123, 0.456), "k_anonymous_alternative": {"k": 5, **doc(0.789, 0.0321)}}
    page = render_html(AssessmentBundle.build("t", synthetic=synthetic), plotlyjs="cdn")
    side = page[page.index("side by side") :]
    assert "5-anonymous release" in side
    for figure in ("0.0123", "0.789", "0.456", "0.0321"):
        assert figure in side
