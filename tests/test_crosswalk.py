"""Crosswalk detection and harmonization: forms, conversions, common forms, city facts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from _helpers_linkage import CITY, REF, load_city_catalog

from workbench.errors import ConfigError, ParameterError
from workbench.linkage import (
    Crosswalk,
    CrosswalkEntry,
    FieldForm,
    common_form,
    convert,
    detect_form,
    harmonize,
    propose_crosswalk,
)
from workbench.linkage.crosswalk import hints_from_metadata, is_identifier_column, parse_on
from workbench.linkage.forms import name_similarity, off_by_one_share, parse_bands

RNG = np.random.default_rng(7)
_DOB = pd.Series(pd.Timestamp("1940-01-01") + pd.to_timedelta(RNG.integers(0, 29000, 400), "D"))


@pytest.fixture(scope="module")
def city_catalog():
    return load_city_catalog()


@pytest.mark.parametrize(
    ("name", "values", "fact", "form", "params"),
    [
        ("patient_dob", _DOB.dt.strftime("%d/%m/%Y"), "birth", "date", {"format": "%d/%m/%Y"}),
        ("dob", _DOB.dt.strftime("%Y-%m-%d"), "birth", "date", {"format": "%Y-%m-%d"}),
        ("geburtsdatum_dob", _DOB.dt.strftime("%d.%m.%Y"), "birth", "date", {"format": "%d.%m.%Y"}),
        ("birth_year", _DOB.dt.year, "birth", "year", {}),
        ("age", pd.Series(RNG.integers(0, 99, 400)), "birth", "age", {}),
        (
            "age_band",
            pd.Series(RNG.choice(["0-17", "18-24", "25-64", "65+"], 400)),
            "birth",
            "age_band",
            {"cuts": (0, 18, 25, 65)},
        ),
        (
            "agegroup",
            pd.Series(RNG.choice(["18-24", "25-64"], 400)),
            "birth",
            "age_band",
            {"cuts": (18, 25, 65)},
        ),
        (
            "zip",
            pd.Series([f"{x:05d}" for x in RNG.integers(1000, 99999, 400)]),
            "postal",
            "postal5",
            {"digits": 5},
        ),
        ("zip", pd.Series(RNG.integers(10000, 99999, 400)), "postal", "postal5", {"digits": 5}),
        (
            "zip3",
            pd.Series(RNG.choice(["021", "462", "900"], 400)),
            "postal",
            "postal3",
            {"digits": 3},
        ),
        ("sex", pd.Series(RNG.choice([1, 2], 400)), "sex", "sex", {"codes": {"1": "M", "2": "F"}}),
        (
            "gender",
            pd.Series(RNG.choice(["female", "male"], 400)),
            "sex",
            "sex",
            {"codes": {"female": "F", "male": "M"}},
        ),
        (
            "visit_date",
            pd.Series(
                pd.Timestamp("2025-01-01") + pd.to_timedelta(RNG.integers(0, 300, 400), "D")
            ).dt.strftime("%Y-%m-%d"),
            None,
            "category",
            {},
        ),
        ("household_size", pd.Series(RNG.integers(1, 8, 400)), None, "category", {}),
        ("disability", pd.Series(RNG.choice(["Y", "N"], 400)), None, "category", {}),
        (
            "income_band",
            pd.Series(RNG.choice(["under 15k", "15k-30k", "100k+"], 400)),
            None,
            "category",
            {},
        ),
    ],
)
def test_detect_form_table(name, values, fact, form, params):
    f = detect_form(values, name, REF)
    assert (f.fact, f.form) == (fact, form)
    got = {k: (dict(v) if isinstance(v, dict) else v) for k, v in f.params.items()}
    assert got == params
    assert f.reason and 0 < f.confidence <= 1


def test_detect_form_uses_catalog_code_book():
    # without the code book 1/2 is read as ISO/IEC 5218 (1 male); a book can say otherwise
    values = pd.Series(["1", "2", "1"])
    f = detect_form(values, "sex", REF, {"codes": {1: "female", 2: "male"}})
    assert dict(f.params["codes"]) == {"1": "F", "2": "M"}
    g = detect_form(
        pd.Series(["F", "M", "X"]),
        "gender",
        REF,
        {"codes": {"F": "female", "M": "male", "X": "not specified"}},
    )
    assert dict(g.params["codes"]) == {"F": "F", "M": "M", "X": None}


def test_name_similarity_synonyms_and_unrelated():
    assert name_similarity("zip", "postal_code") == 1.0
    assert name_similarity("sex", "gender") == 1.0
    assert name_similarity("maritalStatus", "marital_status") == 1.0
    assert name_similarity("income_band", "household_size") < 0.5


@pytest.mark.parametrize(
    ("labels", "cuts"),
    [
        (["0-17", "18-24", "25-34", "65+"], (0, 18, 25, 35, 65)),  # the gap is a band
        (["18-24", "25-34"], (18, 25, 35)),  # ages above the last closed band
        (["0-17", "18-24", "25-64", "65+"], (0, 18, 25, 65)),
        (["<18", "18-64", "65+"], (0, 18, 65)),
        (["18-30", "25-40"], None),  # overlapping
        (["65+", "0-64"], (0, 65)),
        (["a", "b"], None),
    ],
)
def test_parse_bands(labels, cuts):
    assert parse_bands(labels) == cuts


def test_convert_hand_computed_birth_forms():
    date_f = FieldForm("birth", "date", {"format": "%d/%m/%Y"})
    year_f = FieldForm("birth", "year")
    age_f = FieldForm("birth", "age")
    band_f = FieldForm("birth", "age_band", {"cuts": (0, 18, 25, 35, 45, 55, 65)})
    dobs = pd.Series(["31/12/1980", "01/01/1980", "02/01/1980", None, "31/02/1980"])
    assert convert(dobs, date_f, year_f, REF).tolist()[:3] == [1980, 1980, 1980]
    # on 2026-01-01: born 31 Dec 1980 -> 45; born 1 Jan 1980 -> 46 (birthday today); 2 Jan -> 45
    ages = convert(dobs, date_f, age_f, REF)
    assert ages.tolist()[:3] == [45, 46, 45]
    assert ages.isna().tolist()[3:] == [True, True]  # missing and impossible date
    assert convert(dobs, date_f, band_f, REF).tolist()[:3] == [45, 45, 45]
    days = convert(pd.Series(["02/01/1970"]), date_f, FieldForm("birth", "date"), REF)
    assert days.tolist() == [1]
    # birth year -> the more probable age on 1 January: R.year - y - 1
    assert convert(pd.Series([1980, 2025]), year_f, age_f, REF).tolist() == [45, 0]
    assert convert(pd.Series([45]), age_f, year_f, REF).tolist() == [1980]
    assert convert(
        pd.Series(["65+", "18-24", "0-17"]),
        FieldForm("birth", "age_band", {"cuts": (0, 18, 25, 65)}),
        FieldForm("birth", "age_band", {"cuts": (0, 65)}),
        REF,
    ).tolist() == [65, 0, 0]


def test_date_parts_typed_dates_and_padding():
    import datetime as dt

    from workbench.linkage.forms import date_parts

    typed = pd.Series([dt.date(1980, 2, 29), None, dt.date(2001, 12, 31)], dtype=object)
    parts = date_parts(typed, FieldForm("birth", "date"))
    assert parts["year"].tolist()[::2] == [1980, 2001] and parts["year"].isna().tolist()[1]
    loose = pd.Series(["2/1/1980", "29/02/1981", " 03/04/1990 "] * 200)
    p = date_parts(loose, FieldForm("birth", "date", {"format": "%d/%m/%Y"}))
    assert p["month"].isna().tolist()[:3] == [False, True, False]  # 29 Feb 1981 is invalid
    assert (p["month"].iloc[0], p["month"].iloc[2]) == (1, 4)
    assert p["day"].tolist()[0] == 2 and p["day"].tolist()[2] == 3
    assert p["days"].tolist()[0] == (dt.date(1980, 1, 2) - dt.date(1970, 1, 1)).days


def test_year_to_age_is_off_by_one_only_for_the_documented_share():
    # uniform birthdays in 1980: only people born on 1 January are 46 on 2026-01-01
    days = pd.date_range("1980-01-01", "1980-12-31", freq="D")
    true_age = convert(
        pd.Series(days.strftime("%Y-%m-%d")),
        FieldForm("birth", "date", {"format": "%Y-%m-%d"}),
        FieldForm("birth", "age"),
        REF,
    )
    from_year = convert(
        pd.Series([1980] * len(days)), FieldForm("birth", "year"), FieldForm("birth", "age"), REF
    )
    wrong = float((true_age != from_year).mean())
    assert wrong == pytest.approx(1 / 366)
    assert off_by_one_share(REF) == pytest.approx(1 / 365)
    assert off_by_one_share(date(2026, 7, 2)) == pytest.approx(0.5, abs=0.01)


def test_convert_postal_and_sex():
    p5 = FieldForm("postal", "postal5", {"digits": 5})
    p3 = FieldForm("postal", "postal3", {"digits": 3})
    assert convert(pd.Series([2139, 46201]), p5, p3).tolist() == ["021", "462"]
    assert convert(pd.Series(["46201", None]), p5, p5).tolist()[0] == "46201"
    sex = FieldForm("sex", "sex", {"codes": {"1": "M", "2": "F", "9": None}})
    out = convert(pd.Series([1, 2, 9, 2]), sex, FieldForm("sex", "sex"))
    assert out.tolist()[:2] == ["M", "F"] and out.isna().tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("a", "b", "common"),
    [
        (FieldForm("birth", "date"), FieldForm("birth", "year"), "year"),
        (FieldForm("birth", "date"), FieldForm("birth", "age"), "age"),
        (FieldForm("birth", "year"), FieldForm("birth", "age"), "age"),
        (FieldForm("birth", "date"), FieldForm("birth", "date"), "date"),
        (FieldForm("birth", "date"), FieldForm("birth", "age_band", {"cuts": (0, 18)}), "age_band"),
        (
            FieldForm("postal", "postal5", {"digits": 5}),
            FieldForm("postal", "postal3", {"digits": 3}),
            "postal3",
        ),
        (FieldForm("sex", "sex"), FieldForm("sex", "sex"), "sex"),
    ],
)
def test_common_form_table(a, b, common):
    assert common_form(a, b, REF)[0].form == common
    assert common_form(b, a, REF)[0].form == common


def test_common_form_of_two_band_schemes_keeps_shared_boundaries():
    a = FieldForm("birth", "age_band", {"cuts": (0, 18, 25, 35, 45, 55, 65)})
    b = FieldForm("birth", "age_band", {"cuts": (0, 18, 30, 45, 65)})
    assert common_form(a, b)[0].params["cuts"] == (0, 18, 45, 65)


def test_common_form_rejects_different_facts():
    with pytest.raises(ParameterError):
        common_form(FieldForm("birth", "year"), FieldForm("sex", "sex"))


def test_identifier_columns_are_not_linkable():
    ids = pd.Series([f"V{i:06d}" for i in range(100)])
    assert is_identifier_column(ids, "visit_id")
    assert not is_identifier_column(pd.Series(["a"] * 100), "visit_id")
    assert not is_identifier_column(ids, "name")


def test_parse_on():
    assert parse_on("a, b=x ,c") == [("a", "a"), ("b", "x"), ("c", "c")]
    assert parse_on(["a", ("b", "y")]) == [("a", "a"), ("b", "y")]


# --------------------------------------------------------------------------- the city


@pytest.fixture(scope="module")
def city_crosswalk(city_catalog):
    frames = {n: city_catalog.load_dataset(n) for n in city_catalog.datasets}
    hints = {n: hints_from_metadata(e.metadata) for n, e in city_catalog.datasets.items()}
    return propose_crosswalk(frames, REF, hints=hints)


def test_city_crosswalk_finds_every_planted_fact(city_crosswalk):
    from workbench.samples.city import PLANTED_FACTS

    found: dict[tuple[str, str], tuple[str, str]] = {}
    for e in city_crosswalk:
        found[(e.left_dataset, e.left_column)] = (e.fact, e.left_form.form)
        found[(e.right_dataset, e.right_column)] = (e.fact, e.right_form.form)
    for p in PLANTED_FACTS:
        assert found.get((p.dataset, p.column)) == (p.fact, p.form), p


def test_city_crosswalk_pairs_only_planted_facts(city_crosswalk):
    from workbench.samples.city import PLANTED_FACTS

    planted = {(p.dataset, p.column, p.fact) for p in PLANTED_FACTS}
    assert city_crosswalk.facts() <= planted
    # every pair of datasets sharing a fact gets exactly one entry per fact
    by_fact = {}
    for p in PLANTED_FACTS:
        by_fact.setdefault(p.fact, []).append(p.dataset)
    expected = sum(len(ds) * (len(ds) - 1) // 2 for ds in by_fact.values())
    assert len(city_crosswalk) == expected
    for e in city_crosswalk:
        assert 0.5 <= e.confidence <= 1 and e.reason


def test_city_crosswalk_reasons_hold_no_values(city_crosswalk, city_catalog):
    voters = city_catalog.load_dataset("voters").to_pandas()
    text = " ".join(e.reason for e in city_crosswalk)
    for col in ("first_name", "last_name"):
        leaked = [v for v in voters[col].unique()[:300] if f" {v} " in f" {text} "]
        assert not leaked


def test_crosswalk_entry_round_trip_and_hand_written_entries():
    e = CrosswalkEntry(
        "birth",
        "clinic.patient_dob",
        "housing.birth_year",
        FieldForm("birth", "date", {"format": "%d/%m/%Y"}),
        FieldForm("birth", "year"),
        "year",
        0.9,
        "why",
    )
    again = CrosswalkEntry.from_dict(e.to_dict())
    assert again.to_dict() == e.to_dict()
    assert again.oriented("housing").left == "housing.birth_year"
    hand = CrosswalkEntry.from_dict(
        {"left": "a.dob", "left_form": "date", "right": "b.yob", "right_form": "year"}
    )
    assert (hand.fact, hand.common, hand.status) == ("birth", "year", "confirmed")
    cw = Crosswalk((hand, e.with_status("rejected")))
    assert len(cw.for_pair("b", "a")) == 1 and cw.for_pair("b", "a")[0].left == "b.yob"
    assert cw.confirmed().entries[1].status == "rejected"
    with pytest.raises(ConfigError):
        CrosswalkEntry.from_dict({"left": "a.dob"})
    with pytest.raises(ConfigError):
        CrosswalkEntry.from_dict({"left": "dob", "right": "b.x"})
    with pytest.raises(ConfigError):
        e.with_status("maybe")


def test_harmonize_clinic_housing_matches_plain_pandas(city_catalog, city_crosswalk):
    clinic = city_catalog.load_dataset("clinic")
    housing = city_catalog.load_dataset("housing")
    pair = harmonize(clinic, housing, city_crosswalk.for_pair("clinic", "housing"), REF)
    assert set(pair.names) == {"birth_year", "sex", "postal5"}
    raw = pd.read_csv(CITY / "clinic_visits.csv", dtype=str)
    year = pd.to_datetime(raw["patient_dob"], format="%d/%m/%Y", errors="coerce").dt.year
    assert pair.left["birth_year"].astype("Float64").tolist() == year.astype("Float64").tolist()
    assert pair.left["sex"].tolist() == raw["sex"].map({"female": "F", "male": "M"}).tolist()
    hraw = pd.read_csv(CITY / "housing_assistance.csv", dtype=str)
    assert pair.right["postal5"].tolist() == hraw["zip"].tolist()
    assert (
        pair.right["sex"].fillna("?").tolist()
        == hraw["gender"].map({"F": "F", "M": "M"}).fillna("?").tolist()
    )
    doc = pair.to_dict()
    assert [f["name"] for f in doc["fields"]] == list(pair.names)
