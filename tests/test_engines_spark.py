"""Every engine gives the same results on the city samples: DuckDB, pandas, polars, a local
Spark session and a local Spark Connect server (exact on counts, classes and levels; floats
within 1e-9 relative).

One Spark session per engine for the module (the ``spark`` fixture) and one Connect server for
the test session (``spark_connect_url``). Never skipped: a missing PySpark, Java or Connect
client is a failure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from test_engines import profile_facts

import workbench as wb
from workbench.cli import main
from workbench.errors import EngineError

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

CITY = Path(__file__).resolve().parents[1] / "data" / "samples" / "city"
# file, QIs, sensitive attribute: two departments, numeric and text-date QIs
CASES = {
    "housing": ("housing_assistance.csv", ["birth_year", "gender", "zip"], "income_band"),
    "clinic": ("clinic_visits.csv", ["patient_dob", "sex", "postal_code"], "diagnosis"),
}
VOLATILE = {"elapsed_seconds"}


def assert_same(got, want, where: str = "") -> None:
    """Equal structures; floats within 1e-9 relative, everything else exactly."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for k in want:
            if k not in VOLATILE:
                assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float), where
        assert (math.isnan(got) and math.isnan(want)) or math.isclose(
            got, want, rel_tol=1e-9, abs_tol=0.0
        ), (where, got, want)
    else:
        assert got == want, (where, got, want)


def _results(ds) -> dict:
    """assess on both files, anonymize (k and l-diversity) on the clinic file: each is one
    GROUP BY in the engine, so Spark runs few jobs."""
    out = {}
    for case, (_, qis, sens) in CASES.items():
        data = ds[case]
        out[case] = {
            "assess": wb.assess(data, qis, sensitive=[sens], population_size=900_000).to_dict()
        }
    _, qis, sens = CASES["clinic"]
    out["clinic"]["anonymize_l"] = wb.anonymize(
        ds["clinic"], qis, k=3, l=2, sensitive=[sens], suppression=0.02
    ).to_dict()
    return out


def _load_all(engine: str, spark=None) -> dict:
    return {c: wb.load(CITY / f, engine=engine, spark=spark) for c, (f, _, _) in CASES.items()}


@pytest.fixture(scope="module")
def reference() -> dict:
    return _results(_load_all("duckdb"))


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_in_memory_and_polars_engines_equal_duckdb(reference, engine) -> None:
    assert_same(_results(_load_all(engine)), reference, engine)


def test_local_spark_equals_duckdb(reference, spark) -> None:
    loaded = _load_all("spark", spark)
    duck = _load_all("duckdb")
    for case in CASES:  # the loader's typing rule holds in Spark: same numeric columns
        kinds = {c: ("Int" in t or "Float" in t) for c, t in loaded[case].column_types.items()}
        want = {c: t in ("BIGINT", "DOUBLE") for c, t in duck[case].column_types.items()}
        assert kinds == want and loaded[case].n_rows == duck[case].n_rows
    assert_same(_results(loaded), reference, "spark")


def test_spark_connect_equals_duckdb(reference, spark_connect) -> None:
    loaded = _load_all("spark", spark_connect)
    assert type(loaded["housing"].data).__module__.startswith("pyspark.sql.connect")
    assert_same(_results(loaded), reference, "spark connect")


@pytest.mark.parametrize("which", ["spark", "spark_connect"])
def test_profile_on_spark_equals_duckdb(request, which) -> None:
    session = request.getfixturevalue(which)
    f = CITY / CASES["housing"][0]
    want = profile_facts(wb.profile(wb.load(f, engine="duckdb")))
    got = profile_facts(wb.profile(wb.load(f, engine="spark", spark=session)))
    assert_same(got, want, which)


def test_link_combine_matrix_refuse_spark_naming_the_engines_that_can(spark) -> None:
    ds = _load_all("spark", spark)
    h, c = ds["housing"], ds["clinic"]
    with pytest.raises(EngineError, match="runs on duckdb, pandas"):
        wb.link_exact(h, c, on=["gender"])
    with pytest.raises(EngineError, match="runs on duckdb, pandas"):
        wb.combine({"h": h, "c": c}, key="zip", qis={"h": ["gender"], "c": ["sex"]})
    catalog = wb.Catalog.load(CITY / "catalog.yaml")
    with pytest.raises(EngineError, match="runs on duckdb, pandas"):
        wb.join_risk_matrix(catalog, frames={"housing": h.data}, datasets=["housing", "clinic"])


def _cli_json(capsys, *argv: str) -> dict:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_cli_on_spark_connect_and_local_spark_equals_duckdb(
    capsys, spark, spark_connect_url, monkeypatch
):
    f, qis, sens = CASES["clinic"]
    monkeypatch.chdir(CITY)  # a relative path: the Connect server runs in another directory
    base = ["assess", f, "--qi", ",".join(qis), "--sensitive", sens]
    want = _cli_json(capsys, *base)
    got = _cli_json(capsys, *base, "--engine", "spark", "--spark-remote", spark_connect_url)
    assert_same(got, want, "cli connect")
    got = _cli_json(capsys, *base, "--spark-master", "local[1]")  # implies --engine spark
    assert_same(got, want, "cli local")
    assert spark.range(1).count() == 1  # the command left the caller's session running
    anon = ["anonymize", str(CITY / f), "--qi", ",".join(qis), "--k", "5"]
    want = _cli_json(capsys, *anon)
    got = _cli_json(capsys, *anon, "--engine", "spark", "--spark-remote", spark_connect_url)
    for key in ("levels", "classes", "suppressed", "min_class_size", "records"):
        assert got[key] == want[key], key


def test_cli_record_level_output_on_spark_exits_2(capsys, spark, tmp_path) -> None:
    f, qis, _ = CASES["housing"]
    code = main(
        ["assess", str(CITY / f), "--qi", ",".join(qis), "--engine", "spark"]
        + ["--per-record", str(tmp_path / "r.csv")]
    )
    _, err = capsys.readouterr()
    assert code == 2 and "runs on duckdb, pandas, polars" in err
    assert not (tmp_path / "r.csv").exists()
    code = main(
        ["anonymize", str(CITY / f), "--qi", ",".join(qis), "--engine", "spark"]
        + ["--output", str(tmp_path / "o.csv")]
    )
    _, err = capsys.readouterr()
    assert code == 2 and "record-level output" in err and "runs on duckdb, pandas" in err
    assert not (tmp_path / "o.csv").exists()


def test_records_for_search_limit_is_a_refusal_not_a_collect(spark, monkeypatch) -> None:
    """Above the driver limit the class table is not collected; the refusal names the limit."""
    from workbench import engines

    df = spark.createDataFrame(pd.DataFrame({"a": list(range(6)), "b": ["x"] * 6}))
    monkeypatch.setattr(engines, "DRIVER_CLASS_LIMIT", 6)
    assert len(engines.records_for_search(df, ["a", "b"])) == 6  # exactly at the limit: runs
    monkeypatch.setattr(engines, "DRIVER_CLASS_LIMIT", 5)
    with pytest.raises(EngineError, match="more than 5 classes"):
        engines.records_for_search(df, ["a", "b"])


SIZE_KEYS = (
    "records",
    "classes",
    "min_class_size",
    "max_class_size",
    "mean_class_size",
    "sample_uniques",
    "sample_uniqueness",
    "class_size_histogram",
    "prosecutor",
)


def test_a_class_table_too_large_for_the_driver_stays_in_spark(
    capsys, spark, monkeypatch, reference
) -> None:
    """At the driver limit the class table is collected; one class above it, assess refuses and
    the CLI reports the class-size measures computed in Spark, equal to DuckDB's."""
    from workbench import engines
    from workbench.errors import ResourceLimitError
    from workbench.risk import assess

    f, qis, _ = CASES["clinic"]
    want = reference["clinic"]["assess"]
    data = wb.load(CITY / f, engine="spark", spark=spark)
    monkeypatch.setattr(engines, "DRIVER_CLASS_LIMIT", want["classes"])
    assert assess(data, qis).classes == want["classes"]  # exactly at the limit
    monkeypatch.setattr(engines, "DRIVER_CLASS_LIMIT", want["classes"] - 1)
    with pytest.raises(ResourceLimitError, match="class-size measures"):
        assess(data, qis)
    code = main(["assess", str(CITY / f), "--qi", ",".join(qis), "--engine", "spark", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "left out" in err
    got = json.loads(out)
    assert got["computed"] == "in the engine, from the class-size histogram"
    assert_same({k: got[k] for k in SIZE_KEYS}, {k: want[k] for k in SIZE_KEYS}, "histogram")


def test_a_path_spark_cannot_read_is_a_load_error(spark) -> None:
    from workbench.errors import LoadError

    with pytest.raises(LoadError, match="could not read it .*where the spark engine runs"):
        wb.load("file:///nonexistent-dir/x.parquet", engine="spark", spark=spark)
