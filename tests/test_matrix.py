"""Join-risk matrix and advice on the city."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _helpers_linkage import CATALOG, CITY, REF, SEX_CODES, load_city_catalog

from workbench.cli import main
from workbench.errors import ParameterError
from workbench.linkage import RiskMatrix, join_risk_matrix, link_exact
from workbench.linkage.sensitivity import harm_category


@pytest.fixture(scope="module")
def city_catalog():
    return load_city_catalog()


@pytest.fixture(scope="module")
def matrix(city_catalog) -> RiskMatrix:
    return join_risk_matrix(city_catalog, triples=True)


def test_all_pairs_and_internal_triples(matrix):
    assert len(matrix.pairs) == 10
    assert {p.datasets for p in matrix.triples} == {
        ("clinic", "housing", "social"),
        ("clinic", "housing", "transit"),
        ("clinic", "social", "transit"),
        ("housing", "social", "transit"),
    }
    for p in (*matrix.pairs, *matrix.triples):
        assert p.score == pytest.approx(p.likelihood * p.harm)
        assert 0 <= p.likelihood <= 1 and 0 <= p.harm <= 1
        expected = "high" if p.score >= 0.2 else "medium" if p.score >= 0.05 else "low"
        assert p.level == expected
        assert p.advice.decision in {
            "permit",
            "permit_after_deidentification",
            "keep_isolated",
            "not_permitted_by_policy",
        }
        assert p.advice.reasons
        assert ("voters" in p.datasets) == (p.kind == "linkage")
        assert (p.combined is None) == ("voters" in p.datasets)


def test_clinic_voters_is_high_risk(matrix):
    p = matrix.get("voters", "clinic")
    assert p.level == "high" and p.advice.decision != "permit"
    assert p.harm == 1.0 and p.exposed[0].column == "diagnosis"
    assert p.exposed[0].category == "health"
    assert any("diagnosis" in r for r in p.advice.reasons)
    assert sorted(p.shared_qis) == ["birth_date", "postal5", "sex"]


def test_linkage_rates_equal_link_exact(matrix, city_catalog):
    for released in ("clinic", "housing", "social", "transit"):
        p = matrix.get(released, "voters")
        summary = next(s for s in p.linkage if s.released == released)
        res = link_exact(
            city_catalog.load_dataset(released),
            city_catalog.load_dataset("voters"),
            crosswalk=None,
            reference_date=REF,
        )
        assert summary.released_records == res.released_records
        assert summary.one_match == pytest.approx(res.one_match), released
        assert summary.expected_reidentifications == pytest.approx(
            res.expected_reidentifications
        ), released


def _coarse(
    df: pd.DataFrame, dob: pd.Series, postal: pd.Series, birth: str, digits: int
) -> pd.DataFrame:
    """Plain pandas coarsening: birth year or age band at REF, postal prefix."""
    out = pd.DataFrame({"sex": df["sex"]})
    if birth == "year":
        out["birth"] = dob.dt.year
    else:
        had = (dob.dt.month < REF.month) | ((dob.dt.month == REF.month) & (dob.dt.day <= 1))
        age = REF.year - dob.dt.year - (~had).astype(int)
        out["birth"] = pd.cut(age, [0, 18, 25, 35, 45, 55, 65, 75, 200], right=False, labels=False)
    out["postal"] = postal.astype(str).str[:digits]
    return out


def test_advice_risk_after_is_reproduced_with_pandas(matrix):
    p = matrix.get("clinic", "voters")
    assert p.advice.decision == "permit_after_deidentification"
    to = {c.column: c.to_form for c in p.advice.coarsen}
    assert all(c.dataset == "clinic" for c in p.advice.coarsen)  # public data is not coarsened
    birth = to.get("patient_dob", "date")
    digits = int(to.get("postal_code", "postal5")[-1])
    assert birth in {"year", "age_band"}
    clinic = pd.read_csv(CITY / "clinic_visits.csv", dtype=str)
    voters = pd.read_csv(CITY / "voter_roll.csv", dtype=str)
    clinic["sex"] = clinic["sex"].map(SEX_CODES["clinic"])
    c = _coarse(
        clinic,
        pd.to_datetime(clinic["patient_dob"], format="%d/%m/%Y", errors="coerce"),
        clinic["postal_code"],
        birth,
        digits,
    )
    v = _coarse(
        voters,
        pd.to_datetime(voters["dob"], format="%Y-%m-%d", errors="coerce"),
        voters["postal_code"],
        birth,
        digits,
    )
    rates = []
    for r, a in ((c, v), (v, c)):
        f = a.dropna().groupby(["sex", "birth", "postal"]).size().rename("f")
        fr = np.array(r.join(f, on=["sex", "birth", "postal"])["f"].fillna(0))
        fr[r.isna().any(axis=1).to_numpy()] = 0
        rates.append((1 / fr[fr > 0]).sum() / len(r))
    assert p.advice.likelihood_after == pytest.approx(max(rates))
    assert p.advice.score_after == pytest.approx(max(rates) * p.harm)
    assert p.advice.level_after == "low"


def test_weights_are_configurable(city_catalog):
    m = join_risk_matrix(city_catalog, datasets=["clinic", "voters"], weights={"health": 0.0})
    p = m.get("clinic", "voters")
    assert p.harm == 0.0 and p.level == "low" and p.advice.decision == "permit"
    m2 = join_risk_matrix(
        city_catalog, datasets=["clinic", "voters"], levels={"high": 0.9, "medium": 0.8}
    )
    assert m2.get("clinic", "voters").level == "low"
    with pytest.raises(ParameterError):
        join_risk_matrix(city_catalog, weights={"health": 2})
    with pytest.raises(ParameterError):
        join_risk_matrix(city_catalog, datasets=["clinic"])


@pytest.mark.parametrize(
    ("column", "metadata", "sensitive", "category"),
    [
        ("diagnosis", None, True, "health"),
        ("disability", None, True, "health"),
        ("benefit_type", None, True, "benefits"),
        ("income_band", None, True, "income"),
        ("immigration_status", None, True, "immigration"),
        ("prior_convictions", None, True, "criminal"),
        ("notes", None, True, "other"),
        ("notes", {"sensitivity": {"notes": "criminal"}}, True, "criminal"),
        ("postal_code", None, False, None),
    ],
)
def test_harm_categories(column, metadata, sensitive, category):
    assert harm_category(column, metadata, sensitive) == category


def test_matrix_cli(capsys):
    assert main(["matrix", str(CATALOG), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["pairs"]) == 10 and doc["triples"] == []
    pair = next(p for p in doc["pairs"] if set(p["datasets"]) == {"clinic", "voters"})
    assert pair["level"] == "high"
    text = json.dumps(doc)
    voters = pd.read_csv(CITY / "voter_roll.csv", dtype=str)
    assert not any(f'"{v}"' in text for v in voters["last_name"].head(300))
    assert main(["matrix", str(CATALOG), "--weights", "health=1,income=0.5"]) == 0
    out = capsys.readouterr().out
    assert "clinic + voters" in out
    assert main(["matrix", str(CATALOG), "--weights", "health"]) == 2
