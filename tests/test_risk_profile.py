"""``assess``: the whole profile from one class table, across engines, and its JSON document."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest

from workbench.dataset import Dataset
from workbench.errors import ColumnNotFoundError, ParameterError
from workbench.risk import RiskProfile, assess, build_class_table

CONTRACT_KEYS = {
    "records",
    "classes",
    "min_class_size",
    "max_class_size",
    "sample_uniques",
    "sample_uniqueness",
    "prosecutor",
    "journalist",
    "marketer",
    "population",
    "global_risk",
    "l_diversity",
    "t_closeness",
    "delta_disclosure",
    "beta_likeness",
}
RISK_KEYS = {"highest", "average", "records_at_risk", "threshold"}

TINY = pd.DataFrame(
    {
        "age": [30, 30, 30, 41, 41, 52],
        "sex": ["F", "F", "F", "M", "M", "F"],
        "diagnosis": ["flu", "cold", "flu", "flu", "flu", "asthma"],
        "w": [10.0, 10.0, 10.0, 20.0, 20.0, 50.0],
        "hh": [1, 1, 2, 2, 3, 3],
    }
)


def _duck(df: pd.DataFrame):
    return duckdb.connect().from_df(df)


def test_tiny_profile_by_hand() -> None:
    p = assess(TINY, ["age", "sex"], sensitive=["diagnosis"])
    assert isinstance(p, RiskProfile)
    assert (p.records, p.classes, p.min_class_size, p.max_class_size) == (6, 3, 1, 3)
    assert p.sample_uniques == 1 and p.sample_uniqueness == pytest.approx(1 / 6)
    assert p.prosecutor.highest == 1.0
    assert p.prosecutor.average == pytest.approx(3 / 6)
    assert p.prosecutor.records_at_risk == 1.0  # risks 1/3, 1/2, 1 are all > 0.2
    assert assess(TINY, ["age", "sex"], threshold=0.4).prosecutor.records_at_risk == 0.5
    assert p.journalist == p.prosecutor
    assert p.marketer == pytest.approx(0.5)
    assert p.population is None
    assert p.global_risk.expected_reidentifications == pytest.approx(3.0)
    assert p.class_sizes_per_record().tolist() == [3, 3, 3, 2, 2, 1]
    ld = p.l_diversity["diagnosis"]
    assert ld.distinct_l == 1  # the (41, M) and (52, F) classes
    assert p.t_closeness["diagnosis"].kind == "equal"


def test_to_dict_contract_and_strict_json() -> None:
    p = assess(TINY, ["age", "sex"], sensitive=["diagnosis"], population_size=60)
    doc = p.to_dict()
    assert CONTRACT_KEYS <= doc.keys()
    assert RISK_KEYS <= doc["prosecutor"].keys() and RISK_KEYS <= doc["journalist"].keys()
    assert {"size", "pitman", "zayatz", "snb", "dankar"} <= doc["population"].keys()
    assert {"model", "uniques"} <= doc["population"]["dankar"].keys()
    assert {"expected_reidentifications", "rate"} <= doc["global_risk"].keys()
    assert {"distinct", "entropy", "recursive_c"} <= doc["l_diversity"]["diagnosis"].keys()
    assert set(doc["t_closeness"]) == {"diagnosis"}
    assert "suda" not in doc
    json.dumps(doc, allow_nan=False)
    for s in ("F", "M", "flu", "asthma"):  # no data values in the document
        assert f'"{s}"' not in json.dumps(doc)


def test_population_block_without_size() -> None:
    doc = assess(TINY, ["age"]).to_dict()
    assert doc["population"]["size"] is None
    assert doc["population"]["dankar"] == {"model": None, "uniques": None}


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_lazy_engines_give_the_same_profile(adult_csv, engine) -> None:
    qis = ["sex", "age", "race", "marital-status", "education"]
    df = pd.read_csv(adult_csv, sep=";")
    data = (
        duckdb.connect().read_csv(str(adult_csv), sep=";")
        if engine == "duckdb"
        else pl.read_csv(adult_csv, separator=";")
    )
    a = assess(df, qis, sensitive=["salary-class"], population_size=300_000)
    b = assess(data, qis, sensitive=["salary-class"], population_size=300_000)
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.class_sizes_per_record(), b.class_sizes_per_record())


def test_per_record_on_lazy_input_is_in_input_order() -> None:
    rel = _duck(TINY)  # the profile keeps only a weak reference: the caller holds the data
    p = assess(rel, ["age", "sex"], weights="w")
    per = p.per_record()
    assert per.columns.tolist() == ["row", "fk", "Fk", "risk"]
    assert per["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert per["fk"].tolist() == [3, 3, 3, 2, 2, 1]
    assert per["Fk"].tolist() == [30.0, 30.0, 30.0, 40.0, 40.0, 50.0]


def test_weights_give_population_size_and_individual_risk() -> None:
    p = assess(TINY, ["age", "sex"], weights="w")
    assert p.population.size == 120
    assert "sum of the sampling weights" in p.population_note
    assert p.global_risk.weighted
    assert p.global_risk.expected_reidentifications < 3.0  # below the unweighted 1/fk sum


def test_household_risk_on_duckdb_input() -> None:
    a = assess(TINY, ["age", "sex"], household="hh")
    b = assess(_duck(TINY), ["age", "sex"], household="hh")
    assert a.household == b.household
    assert a.household.households == 3
    # risks 1/3,1/3 | 1/3,1/2 | 1/2,1 -> households 5/9, 2/3, 1
    assert a.per_record()["household_risk"].tolist() == pytest.approx(
        [5 / 9, 5 / 9, 2 / 3, 2 / 3, 1.0, 1.0]
    )


def test_population_table_journalist_and_marketer() -> None:
    population = pd.DataFrame(
        {
            "age": [30] * 10 + [41] * 4 + [52] * 1 + [60] * 3,
            "sex": ["F"] * 10 + ["M"] * 4 + ["F"] * 1 + ["M"] * 3,
        }
    )
    p = assess(TINY, ["age", "sex"], population_table=population)
    assert p.population_table.records == 18
    assert p.population_table.classes_not_found == 0
    assert p.journalist.highest == 1.0  # (52, F) is unique in the population
    assert p.marketer == pytest.approx((3 / 10 + 2 / 4 + 1 / 1) / 6)
    assert p.population.size == 18  # defaults to the table's size
    # a ClassTable of the population works too
    q = assess(TINY, ["age", "sex"], population_table=build_class_table(population, ["age", "sex"]))
    assert q.marketer == p.marketer


def test_population_table_missing_class_is_clamped_and_counted() -> None:
    population = pd.DataFrame({"age": [30] * 5, "sex": ["F"] * 5})
    p = assess(TINY, ["age", "sex"], population_table=population, population_size=100)
    assert p.population_table.classes_not_found == 2
    # the two classes not found get F = f, so they keep their prosecutor risk
    assert p.journalist.highest == 1.0


def test_population_table_needs_the_qis() -> None:
    with pytest.raises(ColumnNotFoundError, match="population table"):
        assess(TINY, ["age", "sex"], population_table=pd.DataFrame({"age": [30]}))


def test_wildcard_profile_reports_why_no_population_estimates() -> None:
    df = pd.DataFrame({"a": [1, 1, None, 2], "b": ["x", "x", "x", None]})
    p = assess(df, ["a", "b"], missing="wildcard", population_size=100)
    assert p.population is None and "partition" in p.population_note
    assert p.class_sizes_per_record().tolist() == [3, 3, 4, 2]
    assert p.to_dict()["missing"] == "wildcard"


def test_suda_and_subsets_are_lazy_and_per_record() -> None:
    p = assess(TINY, ["age", "sex"])
    assert "suda" not in p.__dict__
    s = p.suda
    assert s.scores.shape == (6,)
    assert s.scores[-1] > 0 and s.scores[0] == 0  # (52, F) is the only sample unique
    per = p.per_record(suda=True)
    assert {"suda_score", "dis_suda"} <= set(per.columns)
    doc = p.to_dict()
    assert "attribute_contributions" in doc["suda"]
    assert "subsets" not in doc
    assert p.subsets.columns == ("age", "sex")
    assert "subsets" in p.to_dict()


def test_dataset_input_names_the_file_in_errors() -> None:
    ds = Dataset.from_frame(TINY, name="clinic")
    object.__setattr__(ds, "source", "clinic.csv")
    with pytest.raises(ColumnNotFoundError, match="'zip' not found in clinic.csv"):
        assess(ds, ["age", "zip"])
    assert assess(ds, ["age"]).records == 6


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"threshold": 1.2}, "threshold"),
        ({"population_size": 3}, "population_size"),
        ({"l": 0}, "l"),
        ({"weights": "age"}, "weights"),
        ({"missing": "drop"}, "missing"),
    ],
)
def test_impossible_parameters(kwargs, parameter) -> None:
    with pytest.raises(ParameterError, match=f"'{parameter}'"):
        assess(TINY, ["age", "sex"], **kwargs)


def test_repr_never_shows_values() -> None:
    p = assess(pd.DataFrame({"name": ["Alice Secret", "Bob Hidden"]}), ["name"])
    assert "Alice" not in repr(p) and "Bob" not in repr(p)


def test_profile_from_rolled_up_table_equals_assess_on_generalized_data() -> None:
    from workbench.risk import profile_from_table

    t = build_class_table(TINY, ["age", "sex"], weights="w", sensitive=["diagnosis"])
    ages = np.asarray(t.dictionaries[0])
    decades = sorted({int(a) // 20 * 20 for a in ages})
    age_map = np.searchsorted(decades, ages // 20 * 20)
    rolled = profile_from_table(t.rollup([age_map, None], [decades, None]), population_size=600)
    direct = assess(
        TINY.assign(age=TINY["age"] // 20 * 20),
        ["age", "sex"],
        weights="w",
        sensitive=["diagnosis"],
        population_size=600,
    )
    assert rolled.to_dict() == direct.to_dict()


def test_population_table_with_float_codes_matches_int_codes() -> None:
    population = pd.DataFrame(
        {"age": [30.0] * 5 + [41.0] * 2 + [52.0], "sex": ["F"] * 5 + ["M"] * 2 + ["F"]}
    )
    p = assess(TINY, ["age", "sex"], population_table=population)
    assert p.population_table.classes_not_found == 0
    assert p.marketer == pytest.approx((3 / 5 + 2 / 2 + 1 / 1) / 6)
