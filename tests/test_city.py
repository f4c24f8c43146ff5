"""The synthetic city: determinism, contract formats, realism and planted noise, export."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from workbench.cli import main
from workbench.errors import KeyMissingError, MissingFileError, ParameterError
from workbench.samples import city

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "data" / "samples" / "city"

# The contract (contracts.md), written out here so that a change in the generator's constants
# cannot silently change the files other modules rely on.
CONTRACT_COLUMNS = {
    "population.csv": [
        "resident_id", "first_name", "last_name", "date_of_birth", "sex", "race_ethnicity",
        "postal_code", "household_id", "household_size", "income_band", "marital_status",
    ],
    "clinic_visits.csv": ["visit_id", "patient_dob", "sex", "postal_code", "diagnosis", "visit_date"],
    "housing_assistance.csv": [
        "application_id", "birth_year", "gender", "zip", "household_size", "income_band",
    ],
    "social_services.csv": ["case_id", "age", "sex", "zip3", "marital_status", "benefit_type"],
    "transit_passes.csv": ["pass_id", "age_band", "postcode", "disability"],
    "voter_roll.csv": ["voter_id", "first_name", "last_name", "dob", "sex", "postal_code"],
    "ground_truth.csv": ["dataset", "record_id", "resident_id"],
}  # fmt: skip
DATA_FILES = tuple(CONTRACT_COLUMNS)
DEPT_FILES = {
    "clinic": "clinic_visits.csv",
    "housing": "housing_assistance.csv",
    "social": "social_services.csv",
    "transit": "transit_passes.csv",
    "voters": "voter_roll.csv",
}
RECORD_ID = {
    "clinic": "visit_id",
    "housing": "application_id",
    "social": "case_id",
    "transit": "pass_id",
    "voters": "voter_id",
}


def read(directory: Path, file: str) -> pd.DataFrame:
    return pd.read_csv(directory / file, dtype=str, keep_default_na=False, na_filter=False)


def true_age(dob: str, ref: dt.date = dt.date(2026, 1, 1)) -> int:
    """Obvious reference: whole years completed at ``ref``."""
    d = dt.date.fromisoformat(dob)
    return ref.year - d.year - ((ref.month, ref.day) < (d.month, d.day))


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks of distinct values (ties do not occur in ids)."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    return ranks


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits incl. adjacent transposition)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def without_governance(doc: dict) -> dict:
    """A catalog without the entries other modules add (policies, hosting, confirmed crosswalk)."""
    doc = json.loads(json.dumps(doc))
    for entry in doc.get("datasets", {}).values():
        entry.pop("policy", None)
        entry.pop("hosting", None)
    doc["crosswalk"] = []
    return doc


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city2000")
    city.generate(2000, 7, out)
    return out


@pytest.fixture(scope="module")
def committed() -> dict[str, pd.DataFrame]:
    return {f: read(CITY, f) for f in DATA_FILES}


@pytest.fixture(scope="module")
def joined(committed) -> dict[str, pd.DataFrame]:
    """Each department joined to its true resident through the ground truth."""
    pop = committed["population.csv"].add_prefix("true_")
    gt = committed["ground_truth.csv"]
    out = {}
    for name, file in DEPT_FILES.items():
        frame = committed[file].merge(
            gt[gt.dataset == name],
            left_on=RECORD_ID[name],
            right_on="record_id",
            how="left",
            validate="one_to_one",
        )
        frame = frame.merge(pop, left_on="resident_id", right_on="true_resident_id", how="left")
        assert len(frame) == len(committed[file])
        assert frame.true_resident_id.notna().all() and (frame.true_resident_id != "").all()
        frame["true_age"] = [true_age(d) for d in frame.true_date_of_birth]
        out[name] = frame
    return out


# --- determinism and reproducibility ------------------------------------------------------------


def test_same_seed_gives_same_bytes(small, tmp_path):
    again = city.generate(2000, 7, tmp_path / "again")
    for file in (*DATA_FILES, "catalog.yaml"):
        assert (small / file).read_bytes() == (again.out_dir / file).read_bytes(), file


def test_different_seed_gives_different_bytes(small, tmp_path):
    other = city.generate(2000, 8, tmp_path / "other")
    for file in DATA_FILES:
        assert (small / file).read_bytes() != (other.out_dir / file).read_bytes(), file


def test_committed_city_equals_a_fresh_default_generation(tmp_path):
    result = city.generate(out_dir=tmp_path / "fresh")
    assert result.n_residents == 20_000 and result.seed == 2026
    for file in DATA_FILES:
        assert (CITY / file).read_bytes() == (tmp_path / "fresh" / file).read_bytes(), (
            f"{file} differs from a fresh `workbench samples generate`: regenerate with "
            "`workbench samples generate --out data/samples/city --force`"
        )
    committed_doc = yaml.safe_load((CITY / "catalog.yaml").read_text())
    fresh_doc = yaml.safe_load((tmp_path / "fresh" / "catalog.yaml").read_text())
    assert without_governance(committed_doc) == without_governance(fresh_doc)


def test_several_chunks_give_consistent_ids(monkeypatch, tmp_path):
    monkeypatch.setattr(city, "CHUNK_RESIDENTS", 700)
    city.generate(2000, 7, tmp_path)
    pop = read(tmp_path, "population.csv")
    assert list(pop.resident_id) == [f"R{i:06d}" for i in range(1, 2001)]
    # households never span two chunks and ids keep increasing across chunks
    hh = pop.household_id.str[1:].astype(int)
    assert (np.diff(hh) >= 0).all() and (np.diff(hh) <= 1).all()
    assert (
        pop.groupby("household_id").size().astype(str)
        == pop.groupby("household_id").household_size.first()
    ).all()
    gt = read(tmp_path, "ground_truth.csv")
    assert not gt.duplicated(["dataset", "record_id"]).any()
    assert set(gt.resident_id) <= set(pop.resident_id)
    for name, file in DEPT_FILES.items():
        dept = read(tmp_path, file)
        assert dept[RECORD_ID[name]].is_unique
        assert set(dept[RECORD_ID[name]]) == set(gt.record_id[gt.dataset == name])


# --- the contract's files and formats ---------------------------------------------------------


def test_headers_follow_the_contract():
    for file, columns in CONTRACT_COLUMNS.items():
        with open(CITY / file, "rb") as fh:
            header = fh.readline()
        assert header == (",".join(columns) + "\n").encode(), file
    for name, file in {**DEPT_FILES, "population": "population.csv"}.items():
        assert city.COLUMNS[name] == tuple(CONTRACT_COLUMNS[file])


def test_value_formats(committed):
    pop = committed["population.csv"]
    assert pop.resident_id.str.fullmatch(r"R\d{6}").all()
    assert pop.date_of_birth.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(pop.sex) == {"F", "M"}
    assert pop.postal_code.str.fullmatch(r"\d{5}").all()
    assert set(pop.income_band) == set(city.INCOME_BANDS)
    assert set(pop.marital_status) == set(city.MARITAL_STATUSES)
    clinic = committed["clinic_visits.csv"]
    assert clinic.patient_dob.str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    pd.to_datetime(clinic.patient_dob, format="%d/%m/%Y")  # every value is a real date
    assert set(clinic.sex) == {"female", "male"}
    assert set(clinic.diagnosis) <= set(city.DIAGNOSES)
    assert clinic.visit_date.str.startswith("2025-").all()
    housing = committed["housing_assistance.csv"]
    assert set(housing.gender) == {"F", "M", "X"}
    assert housing.zip.str.fullmatch(r"\d{5}").all()
    assert housing.birth_year.str.fullmatch(r"\d{4}").all()
    social = committed["social_services.csv"]
    assert set(social.sex) == {"1", "2"}
    assert social.zip3.str.fullmatch(r"\d{3}").all()
    assert set(social.marital_status) <= set(city.SOCIAL_MARITAL_STATUSES)
    assert set(social.benefit_type) == set(city.BENEFIT_TYPES)
    transit = committed["transit_passes.csv"]
    assert set(transit.age_band) == {"0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert set(transit.disability) == {"Y", "N"}
    voters = committed["voter_roll.csv"]
    assert voters.dob.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(voters.sex) == {"F", "M"}


def test_age_at_hand_computed():
    dobs = np.array(["2000-01-01", "2000-01-02", "2025-12-31", "2004-02-29"], dtype="datetime64[D]")
    assert city.age_at(dobs).tolist() == [26, 25, 0, 21]
    assert city.age_at(dobs, dt.date(2026, 3, 1)).tolist() == [26, 26, 0, 22]
    assert city.age_at(dobs, dt.date(2026, 2, 28)).tolist() == [26, 26, 0, 21]


# --- realism -------------------------------------------------------------------------------------


def test_age_pyramid_and_sex_ratio(committed):
    pop = committed["population.csv"]
    age = np.array([true_age(d) for d in pop.date_of_birth])
    assert 0.18 <= (age < 18).mean() <= 0.28
    assert 0.12 <= (age >= 65).mean() <= 0.22
    assert 0.02 <= (age >= 80).mean() <= 0.09
    assert age.min() == 0 and age.max() <= 105
    decades = np.bincount(np.minimum(age // 10, 9), minlength=10) / len(age)
    assert decades[:6].min() > 0.08  # no hollow decade under 60
    assert decades[6] > decades[7] > decades[8] > decades[9]  # thinning after 60
    assert 0.47 <= (pop.sex == "F").mean() <= 0.55
    old = age >= 80
    assert (pop.sex[old] == "F").mean() > (pop.sex[~old] == "F").mean()  # women live longer


def test_postal_codes_are_skewed_and_share_prefixes(committed):
    share = committed["population.csv"].postal_code.value_counts(normalize=True)
    assert 40 <= len(share) <= 60
    assert share.iloc[0] >= 3 * share.median()  # Zipf-like head
    assert share.iloc[:5].sum() >= 0.3
    prefixes = {code[:3] for code in share.index}
    assert 2 <= len(prefixes) <= 6


def test_households_are_consistent(committed):
    pop = committed["population.csv"]
    groups = pop.groupby("household_id")
    assert (groups.size().astype(str) == groups.household_size.first()).all()
    assert (groups.postal_code.nunique() == 1).all()
    sizes = groups.size()
    assert 2.2 <= sizes.mean() <= 2.8
    assert (sizes == 1).mean() > 0.2


def test_marital_status_and_income_follow_age(committed):
    pop = committed["population.csv"].copy()
    pop["age"] = [true_age(d) for d in pop.date_of_birth]
    minors = pop[pop.age < 18]
    assert (minors.marital_status == "Never married").all()
    widowed = pop.marital_status == "Widowed"
    assert widowed[pop.age >= 75].mean() > 0.2 > widowed[pop.age.between(25, 44)].mean()
    married = pop.marital_status == "Married"
    assert married[pop.age.between(40, 59)].mean() > 2 * married[pop.age.between(18, 24)].mean()
    assert (pop.income_band[pop.age < 16] == "no income").all()
    rank = pop.income_band.map({b: i for i, b in enumerate(city.INCOME_BANDS)})
    assert rank[pop.age.between(45, 54)].mean() > rank[pop.age.between(18, 24)].mean() + 1
    assert rank[pop.age.between(45, 54)].mean() > rank[pop.age >= 75].mean() + 0.5


def test_department_coverage(committed, joined):
    n = len(committed["population.csv"])
    adults = sum(true_age(d) >= 18 for d in committed["population.csv"].date_of_birth)
    clinic = joined["clinic"]
    assert 0.25 <= clinic.resident_id.nunique() / n <= 0.30
    visits = clinic.resident_id.value_counts()
    assert (visits == 1).mean() > 0.7 and visits.max() > 1
    assert 0.08 <= len(joined["housing"]) / n <= 0.12
    assert 0.10 <= len(joined["social"]) / n <= 0.14
    assert 0.17 <= len(joined["transit"]) / n <= 0.23
    assert 0.65 <= len(joined["voters"]) / adults <= 0.75
    for name in ("housing", "social", "transit", "voters"):
        assert joined[name].resident_id.is_unique, name


def test_diagnoses_depend_on_age_and_sex(joined):
    clinic = joined["clinic"]
    child, old = clinic.true_age < 18, clinic.true_age >= 65
    hypertension = clinic.diagnosis == "Hypertension"
    assert hypertension[old].mean() > 5 * hypertension[child].mean()
    otitis = clinic.diagnosis == "Otitis media"
    assert otitis[child].mean() > 5 * otitis[old].mean()
    pregnancy = clinic[clinic.diagnosis == "Pregnancy supervision"]
    assert len(pregnancy) > 0 and (pregnancy.true_sex == "F").all()
    assert pregnancy.true_age.between(15, 50).all()
    assert {"Diabetes mellitus", "Depression", "Asthma", "HIV"} <= set(clinic.diagnosis)


# --- ground truth: every attribute derives from the resident, except planted noise ---------------


def test_clinic_derives_from_residents_with_dob_typos(joined):
    clinic = joined["clinic"]
    dob = pd.to_datetime(clinic.patient_dob, format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
    wrong = dob != clinic.true_date_of_birth
    assert wrong.sum() == round(city.NOISE_RATES["clinic.dob_typo"] * len(clinic))
    assert (clinic.patient_dob.str[-4:] == clinic.true_date_of_birth.str[:4]).all()  # year kept
    assert (clinic.sex.map({"female": "F", "male": "M"}) == clinic.true_sex).all()
    assert (clinic.postal_code == clinic.true_postal_code).all()


def test_housing_derives_from_residents_with_zip_typos(joined):
    housing = joined["housing"]
    assert (housing.birth_year == housing.true_date_of_birth.str[:4]).all()
    assert (housing.true_age >= 18).all()
    x = housing.gender == "X"
    assert x.sum() == round(city.NOISE_RATES["housing.gender_x"] * len(housing))
    assert (housing.gender[~x] == housing.true_sex[~x]).all()
    wrong = housing.zip != housing.true_postal_code
    assert wrong.sum() == round(city.NOISE_RATES["housing.zip_typo"] * len(housing))
    for typed, true in zip(housing.zip[wrong], housing.true_postal_code[wrong], strict=True):
        assert typed[0] == true[0] and sum(a != b for a, b in zip(typed, true, strict=True)) == 1
    assert (housing.household_size == housing.true_household_size).all()
    assert (housing.income_band == housing.true_income_band).all()


def test_social_derives_from_residents_with_age_off_by_one(joined):
    social = joined["social"]
    diff = social.age.astype(int) - social.true_age
    assert set(diff) <= {-1, 0, 1}
    assert (diff != 0).sum() == round(city.NOISE_RATES["social.age_off_by_one"] * len(social))
    assert (social.sex.map({"1": "M", "2": "F"}) == social.true_sex).all()
    assert (social.zip3 == social.true_postal_code.str[:3]).all()
    to_population = dict(zip(city.SOCIAL_MARITAL_STATUSES, city.MARITAL_STATUSES, strict=True))
    assert (social.marital_status.map(to_population) == social.true_marital_status).all()
    assert (social.true_age[social.benefit_type == "child"] < 18).all()
    assert (social.true_age[social.benefit_type == "pension"] >= 67).all()


def test_transit_derives_from_residents(joined):
    transit = joined["transit"]
    bands = pd.cut(
        transit.true_age,
        [0, 18, 25, 35, 45, 55, 65, 200],
        right=False,
        labels=["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"],
    )
    assert (transit.age_band == bands.astype(str)).all()
    assert (transit.postcode == transit.true_postal_code).all()
    # disability is more common among older pass holders
    yes = transit.disability == "Y"
    assert yes[transit.true_age >= 65].mean() > yes[transit.true_age < 45].mean()


def test_voters_derive_from_residents_with_name_typos(joined):
    voters = joined["voters"]
    assert (voters.true_age >= 18).all()
    assert (voters.dob == voters.true_date_of_birth).all()
    assert (voters.sex == voters.true_sex).all()
    assert (voters.postal_code == voters.true_postal_code).all()
    first_wrong = voters.first_name != voters.true_first_name
    last_wrong = voters.last_name != voters.true_last_name
    assert not (first_wrong & last_wrong).any()
    assert (first_wrong | last_wrong).sum() == round(
        city.NOISE_RATES["voters.name_typo"] * len(voters)
    )
    assert first_wrong.sum() > 0 and last_wrong.sum() > 0
    assert (
        voters.first_name.str[0].str.isupper().all() and voters.last_name.str[0].str.isupper().all()
    )
    for col in ("first_name", "last_name"):
        wrong = voters[col] != voters[f"true_{col}"]
        for typed, true in zip(voters[col][wrong], voters[f"true_{col}"][wrong], strict=True):
            assert osa_distance(typed.lower(), true.lower()) == 1, (typed, true)


# --- no shared person id -------------------------------------------------------------------------


def test_departments_share_no_person_id(committed):
    resident_ids = set(committed["population.csv"].resident_id)
    household_ids = set(committed["population.csv"].household_id)
    seen: set[str] = set()
    for name, file in DEPT_FILES.items():
        dept = committed[file]
        assert not {"resident_id", "household_id", "person_key"} & set(dept.columns)
        ids = dept[RECORD_ID[name]]
        assert ids.is_unique
        assert not (set(ids) & seen), f"{name} reuses another department's record id"
        seen |= set(ids)
        for col in dept.columns:
            values = set(dept[col])
            assert not values & resident_ids and not values & household_ids, (name, col)


def test_record_ids_and_order_do_not_follow_residents(committed):
    gt = committed["ground_truth.csv"]
    for name in DEPT_FILES:
        part = gt[gt.dataset == name]
        resident_no = part.resident_id.str[1:].astype(int).to_numpy()
        position = np.arange(len(part))
        id_no = part.record_id.str.extract(r"(\d+)$")[0].astype(int).to_numpy()
        for other in (position, id_no):
            rho = np.corrcoef(rankdata(resident_no), rankdata(other))[0, 1]  # Spearman
            assert abs(rho) < 0.1, (name, rho)
        # record ids are not in file order either
        assert not (np.diff(id_no) > 0).all()


# --- planted facts and catalog ------------------------------------------------------------------


def test_planted_facts_cover_every_shared_fact(committed):
    expected = {
        ("clinic", "patient_dob", "birth", "date"),
        ("housing", "birth_year", "birth", "year"),
        ("social", "age", "birth", "age"),
        ("transit", "age_band", "birth", "age_band"),
        ("voters", "dob", "birth", "date"),
        ("clinic", "postal_code", "postal", "postal5"),
        ("housing", "zip", "postal", "postal5"),
        ("social", "zip3", "postal", "postal3"),
        ("transit", "postcode", "postal", "postal5"),
        ("voters", "postal_code", "postal", "postal5"),
        ("clinic", "sex", "sex", "sex"),
        ("housing", "gender", "sex", "sex"),
        ("social", "sex", "sex", "sex"),
        ("voters", "sex", "sex", "sex"),
    }
    assert {tuple(f) for f in city.PLANTED_FACTS} == expected
    for fact in (*city.PLANTED_FACTS, *city.SINGLE_DATASET_FACTS):
        assert fact.column in committed[DEPT_FILES[fact.dataset]].columns, fact
    facts = pd.DataFrame(city.PLANTED_FACTS)
    assert (facts.groupby("fact").dataset.nunique() >= 2).all()
    single = pd.DataFrame(city.SINGLE_DATASET_FACTS)
    assert (single.groupby("fact").dataset.nunique() == 1).all()
    assert set(single.fact) == {"household_size", "income_band", "marital_status"}


def test_catalog_matches_files_and_contract():
    doc = yaml.safe_load((CITY / "catalog.yaml").read_text())
    assert doc["name"] == "city" and doc["reference_date"] == "2026-01-01"
    assert list(doc["datasets"]) == ["clinic", "housing", "social", "transit", "voters"]
    for name, entry in doc["datasets"].items():
        assert entry["file"] == DEPT_FILES[name]
        assert entry["department"] and entry["purpose"]
        assert entry["external"] is (name == "voters")
        header = CONTRACT_COLUMNS[entry["file"]]
        listed = [c for cols in entry["roles"].values() for c in cols]
        assert sorted(listed) == sorted(header), name  # every column has exactly one role
        assert entry["roles"]["direct_identifiers"][0] == RECORD_ID[name]
        assert entry["metadata"]["synthetic"] is True
    assert doc["datasets"]["social"]["metadata"]["codes"]["sex"] == {1: "male", 2: "female"}
    assert doc["datasets"]["clinic"]["roles"]["sensitive"] == ["diagnosis"]
    assert doc["datasets"]["voters"]["roles"]["direct_identifiers"] == [
        "voter_id",
        "first_name",
        "last_name",
    ]


def test_regeneration_keeps_policy_and_crosswalk_entries(tmp_path):
    city.generate(50, 1, tmp_path)
    doc = yaml.safe_load((tmp_path / "catalog.yaml").read_text())
    assert all("policy" not in e for e in doc["datasets"].values())
    doc["datasets"]["clinic"]["policy"] = "policies/clinic.yaml"
    doc["crosswalk"] = [{"fact": "birth", "columns": ["clinic.patient_dob", "voters.dob"]}]
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    city.generate(50, 1, tmp_path)
    again = yaml.safe_load((tmp_path / "catalog.yaml").read_text())
    assert again["datasets"]["clinic"]["policy"] == "policies/clinic.yaml"
    assert again["crosswalk"] == doc["crosswalk"]
    assert "policy" not in again["datasets"]["housing"]


# --- parameters, parquet -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"n_residents": 0}, "n_residents"),
        ({"n_residents": -5}, "n_residents"),
        ({"n_residents": True}, "n_residents"),
        ({"n_residents": "100"}, "n_residents"),
        ({"n_residents": city.MAX_RESIDENTS + 1}, "n_residents"),
        ({"seed": -1}, "seed"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_generate_rejects_bad_parameters(kwargs, parameter, tmp_path):
    with pytest.raises(ParameterError) as err:
        city.generate(**{"n_residents": 10, "out_dir": tmp_path, **kwargs})
    assert err.value.parameter == parameter
    assert not list(tmp_path.iterdir())


def test_generate_refuses_the_committed_samples_without_force(tmp_path):
    before = {p.name: p.read_bytes() for p in CITY.iterdir() if p.is_file()}
    with pytest.raises(ParameterError, match="force"):
        city.generate(10, 1, CITY)
    with pytest.raises(ParameterError, match="force"):
        city.generate(10, 1, CITY / "sub")
    after = {p.name: p.read_bytes() for p in CITY.iterdir() if p.is_file()}
    assert before == after


def test_parquet_has_the_same_content_as_csv(small, tmp_path):
    result = city.generate(2000, 7, tmp_path, format="parquet")
    assert result.files["clinic"].suffix == ".parquet"
    for name, file in {**DEPT_FILES, "population": "population.csv"}.items():
        parquet = pd.read_parquet(tmp_path / file.replace(".csv", ".parquet"))
        parquet = parquet.astype({c: "string" for c in parquet.columns}).astype(object)
        csv = read(small, file)
        pd.testing.assert_frame_equal(parquet, csv.astype(object), obj=name)
    doc = yaml.safe_load((tmp_path / "catalog.yaml").read_text())
    assert doc["datasets"]["voters"]["file"] == "voter_roll.parquet"
    truth = city.read_ground_truth("social", tmp_path)
    assert list(truth.columns) == ["dataset", "record_id", "resident_id"]
    assert (truth.dataset == "social").all() and len(truth) == result.rows["social"]


# --- export ------------------------------------------------------------------------------------


def test_export_truth_adds_the_true_resident(small, tmp_path):
    out = city.export("housing", tmp_path / "housing_truth.csv", truth=True, source_dir=small)
    exported = read(tmp_path, out.name)
    source = read(small, "housing_assistance.csv")
    assert list(exported.columns) == ["resident_id", *source.columns]
    pd.testing.assert_frame_equal(exported[source.columns], source)
    gt = read(small, "ground_truth.csv")
    truth = dict(zip(gt.record_id, gt.resident_id, strict=True))
    assert (exported.resident_id == exported.application_id.map(truth)).all()


def test_export_pseudonym_joins_departments_without_revealing_residents(
    small, tmp_path, monkeypatch
):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "correct horse battery staple")
    clinic = read(
        tmp_path, city.export("clinic", tmp_path / "c.csv", pseudonym=True, source_dir=small).name
    )
    voters = pd.read_parquet(
        city.export("voters", tmp_path / "v.parquet", pseudonym=True, source_dir=small)
    )
    assert "resident_id" not in clinic.columns and clinic.columns[0] == "person_key"
    # direct identifiers are dropped by default: record ids, and names on the voter roll
    assert "visit_id" not in clinic.columns
    assert not {"voter_id", "first_name", "last_name"} & set(voters.columns)
    gt = read(small, "ground_truth.csv")
    truth = dict(zip(gt.record_id, gt.resident_id, strict=True))
    visit_ids = read(small, "clinic_visits.csv").visit_id  # the export keeps the row order
    voter_ids = read(small, "voter_roll.csv").voter_id
    key = b"correct horse battery staple"
    expected = [
        hmac.new(key, truth[v].encode(), hashlib.sha256).hexdigest()[:16] for v in visit_ids
    ]
    assert list(clinic.person_key) == expected
    assert clinic.person_key.str.fullmatch(r"[0-9a-f]{16}").all()
    # the keyed join finds exactly the true clinic-voter pairs
    clinic["visit_id"], voters["voter_id"] = list(visit_ids), list(voter_ids)
    joined = clinic.merge(voters, on="person_key")
    true_pairs = {(v, r) for v, r in zip(visit_ids, visit_ids.map(truth), strict=True)}
    voter_res = set(voter_ids.map(truth))
    assert len(joined) == sum(r in voter_res for _, r in true_pairs)
    assert (joined.visit_id.map(truth) == joined.voter_id.map(truth)).all()


def test_export_key_file_overrides_the_environment(small, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "env-key-0123456789")
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(b"file-key-0123456789\n")
    a = read(
        tmp_path,
        city.export(
            "transit", tmp_path / "a.csv", pseudonym=True, key_file=key_file, source_dir=small
        ).name,
    )
    b = read(
        tmp_path, city.export("transit", tmp_path / "b.csv", pseudonym=True, source_dir=small).name
    )
    gt = read(small, "ground_truth.csv")
    pass_id = read(small, "transit_passes.csv").pass_id.iloc[0]
    rid = dict(zip(gt.record_id, gt.resident_id, strict=True))[pass_id]
    digest = hmac.new(b"file-key-0123456789", rid.encode(), "sha256").hexdigest()
    assert a.person_key.iloc[0] == digest[:16]
    assert (a.person_key != b.person_key).all()


def test_export_without_key_fails_clearly(small, tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_PSEUDONYM_KEY", raising=False)
    with pytest.raises(KeyMissingError, match="WORKBENCH_PSEUDONYM_KEY"):
        city.export("clinic", tmp_path / "x.csv", pseudonym=True, source_dir=small)
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    with pytest.raises(KeyMissingError, match="empty"):
        city.export("clinic", tmp_path / "x.csv", pseudonym=True, key_file=empty, source_dir=small)
    with pytest.raises(KeyMissingError, match="does not exist"):
        city.export(
            "clinic",
            tmp_path / "x.csv",
            pseudonym=True,
            key_file=tmp_path / "nope",
            source_dir=small,
        )
    assert not (tmp_path / "x.csv").exists()


def test_export_rejects_bad_requests(small, tmp_path):
    with pytest.raises(ParameterError, match="name"):
        city.export("population", tmp_path / "p.csv", truth=True, source_dir=small)
    with pytest.raises(ParameterError, match="output"):
        city.export("clinic", small / "clinic_visits.csv", truth=True, source_dir=small)
    with pytest.raises(ParameterError, match=r"\.csv or \.parquet"):
        city.export("clinic", tmp_path / "c.xlsx", truth=True, source_dir=small)
    with pytest.raises(MissingFileError):
        city.export("clinic", tmp_path / "c.csv", truth=True, source_dir=tmp_path / "missing")


def test_export_reads_the_format_the_catalog_names(tmp_path):
    city.generate(300, 2, tmp_path)
    first = city.export("voters", tmp_path / "a.csv", truth=True, source_dir=tmp_path)
    csv_export = read(tmp_path, first.name)
    # a stale CSV left next to the parquet files must not be read once the catalog says parquet
    (tmp_path / "voter_roll.csv").write_text("voter_id\nVR000000000\n")
    city.generate(300, 2, tmp_path, format="parquet")
    parquet_export = read(
        tmp_path, city.export("voters", tmp_path / "b.csv", truth=True, source_dir=tmp_path).name
    )
    pd.testing.assert_frame_equal(csv_export, parquet_export)


def test_export_from_the_committed_city(tmp_path, monkeypatch):
    # issue #17: social's policy says encryption_at_rest, so the export is encrypted and is
    # read back through load with the key (plaintext is refused without one)
    from workbench._crypto import ENCRYPTION_KEY_ENV, MAGIC, generate_key_text
    from workbench.errors import EncryptionRequiredError
    from workbench.loading.readers import load

    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    with pytest.raises(EncryptionRequiredError, match="policy 'social'"):
        city.export("social", tmp_path / "social.csv", truth=True)
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, generate_key_text())
    out = city.export("social", tmp_path / "social.csv", truth=True)
    assert out.read_bytes().startswith(MAGIC)
    frame = load(out, infer_types=False).data
    assert frame.resident_id.str.fullmatch(r"R\d{6}").all()
    assert len(frame) == len(read(CITY, "social_services.csv"))


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_generate_and_export(tmp_path, capsys, monkeypatch):
    out = tmp_path / "gen"
    assert (
        main(["samples", "generate", "--residents", "300", "--seed", "5", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "300 residents" in text and "voter_roll.csv" in text
    assert (out / "population.csv").exists() and (out / "catalog.yaml").exists()
    code = main(
        [
            "samples",
            "generate",
            "--residents",
            "300",
            "--seed",
            "5",
            "--out",
            str(tmp_path / "pq"),
            "--format",
            "parquet",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["population"] == 300 and summary["format"] == "parquet"

    secret = "do-not-print-this-key-7731"
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", secret)
    code = main(
        [
            "samples",
            "export",
            "clinic",
            "--out",
            str(tmp_path / "c.csv"),
            "--truth",
            "--pseudonym",
            "--source",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert "resident_id, person_key" in captured.out
    header = (tmp_path / "c.csv").read_text().splitlines()[0]
    assert header.startswith("resident_id,person_key,visit_id,")  # --truth: kept on purpose

    monkeypatch.delenv("WORKBENCH_PSEUDONYM_KEY")
    code = main(
        [
            "samples",
            "export",
            "clinic",
            "--out",
            str(tmp_path / "d.csv"),
            "--pseudonym",
            "--source",
            str(out),
        ]
    )
    assert code == 2
    assert "WORKBENCH_PSEUDONYM_KEY" in capsys.readouterr().err


def test_cli_generate_refuses_committed_samples(capsys):
    before = (CITY / "population.csv").read_bytes()
    assert main(["samples", "generate", "--residents", "10", "--out", str(CITY)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (CITY / "population.csv").read_bytes() == before


def test_generation_result_to_dict(tmp_path):
    result = city.generate(20, 3, tmp_path)
    doc = result.to_dict()
    json.dumps(doc)
    assert doc["rows"]["population"] == 20
    assert set(doc["files"]) == {*city.FILE_STEMS, "catalog"}
    assert re.fullmatch(r"\d+\.\d+|\d+", str(doc["seconds"]))
