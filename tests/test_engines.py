"""Engine selection (duckdb, polars, pandas, spark): one rule, faithful typing on every engine,
and refusals that name the engines that can run a command.

The cross-engine results on the city samples (local Spark and Spark Connect included) are in
``test_engines_spark.py``; this file needs neither Java nor a Spark session.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench.cli import main
from workbench.dataset import as_pandas
from workbench.engines import (
    ENGINES,
    RUNS_ON,
    engine_of,
    records_for_search,
    require_engine,
    resolve_engine,
)
from workbench.errors import EngineError, MissingExtraError, ParameterError
from workbench.loading.readers import numeric_kind

HOUSING = "data/samples/city/housing_assistance.csv"


def test_engine_of_names_the_engine_each_frame_lives_in() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    assert engine_of(df) == "pandas"
    assert engine_of(pl.DataFrame(df)) == "polars"
    assert engine_of(pl.DataFrame(df).lazy()) == "polars"
    con = duckdb.connect()
    assert engine_of(con.from_df(df)) == "duckdb"
    assert engine_of(wb.Dataset.from_frame(df)) == "pandas"


def test_resolve_engine_validates_or_infers() -> None:
    assert resolve_engine() == "duckdb"
    assert resolve_engine(None, pl.DataFrame({"a": [1]})) == "polars"
    for name in ENGINES:
        assert resolve_engine(name) == name
    with pytest.raises(ParameterError, match="one of duckdb, polars, pandas, spark"):
        resolve_engine("dask")


@pytest.mark.parametrize("command", sorted(RUNS_ON))
def test_require_engine_refuses_naming_the_engines_that_can(command: str) -> None:
    allowed = RUNS_ON[command]
    for engine in ENGINES:
        if engine in allowed:
            require_engine(command, engine)
        else:
            with pytest.raises(EngineError) as err:
                require_engine(command, engine)
            msg = str(err.value)
            assert f"{command} cannot run on the {engine} engine" in msg
            assert all(e in msg for e in allowed) and f"--engine {allowed[0]}" in msg


@pytest.mark.parametrize(
    ("present", "n_int", "n_float", "longest", "kind"),
    [
        (0, 0, 0, 0, None),  # no value: stays text
        (5, 5, 5, 19, "int"),  # 18 digits and a minus sign: the longest exact int64
        (5, 5, 5, 20, None),  # one character more: text, never a rounded number
        (5, 4, 5, 17, "float"),  # one non-integer: float, 17 characters round-trip
        (5, 4, 5, 18, None),  # 18 characters: text
        (5, 4, 4, 3, None),  # one value is not a number
    ],
)
def test_numeric_kind_at_its_limits(present, n_int, n_float, longest, kind) -> None:
    assert numeric_kind(present, n_int, n_float, longest) == kind


def test_polars_loads_with_the_loaders_typing(tmp_path) -> None:
    """Leading zeros, code-named columns, missing markers and long digit strings are typed the
    same as the DuckDB and pandas loaders type them."""
    csv = tmp_path / "t.csv"
    csv.write_text(
        "id,postal_code,age,code,score,note,big\n"
        "1,46201,30,007,1.5,NA,12345678901234567890\n"
        '2,46202,,12,2,"",12\n'
        "3,46203,41,5,-3e2,x,7\n",
        encoding="utf-8",
    )
    frames = {
        e: wb.load(csv, engine=e, missing=("", "NA")).to_pandas()
        if e != "polars"
        else wb.load(csv, engine=e, missing=("", "NA")).data.collect().to_pandas()
        for e in ("duckdb", "pandas", "polars")
    }
    kinds = {
        e: {c: ("num" if pd.api.types.is_numeric_dtype(t) else "text") for c, t in f.dtypes.items()}
        for e, f in frames.items()
    }
    assert kinds["polars"] == kinds["duckdb"] == kinds["pandas"]
    assert kinds["polars"] == {
        "id": "num",
        "postal_code": "text",  # a code column by name keeps its text
        "age": "num",
        "code": "text",  # leading zero
        "score": "num",
        "note": "text",
        "big": "text",  # 20 digits do not fit int64 exactly
    }
    for e, f in frames.items():
        assert f["note"].isna().tolist() == [True, True, False], e
        assert f["age"].isna().tolist() == [False, True, False], e


def test_a_lazy_frame_never_falls_back_to_pandas() -> None:
    lf = pl.DataFrame({"a": [1, 2]}).lazy()
    with pytest.raises(EngineError, match="on the polars engine: it needs every record"):
        as_pandas(lf)
    with pytest.raises(EngineError, match="runs on duckdb, pandas"):
        wb.link_exact(lf, lf, on=["a"])


def test_records_for_search_repeats_each_class_by_its_count() -> None:
    df = pd.DataFrame({"a": [1, 1, 2, None, 1], "b": ["x", "x", "y", "y", None]})
    out = records_for_search(pl.DataFrame(df).lazy(), ["a", "b"])
    key = lambda f: sorted(map(str, f.itertuples(index=False, name=None)))  # noqa: E731
    assert key(out) == key(df)
    assert records_for_search(df, ["a"]) is df  # in-memory frames pass through


def test_anonymize_on_polars_equals_pandas_and_refuses_record_output() -> None:
    ds = wb.load(HOUSING)
    lf = wb.load(HOUSING, engine="polars")
    qis = ["birth_year", "gender", "zip"]
    a = wb.anonymize(ds, qis, k=5, suppression=0.05)
    b = wb.anonymize(lf, qis, k=5, suppression=0.05)
    assert dict(a.levels) == dict(b.levels) and a.classes == b.classes
    with pytest.raises(EngineError, match="record-level output"):
        wb.anonymize(lf, qis, k=5, return_data=True)


def test_missing_polars_names_its_extra(monkeypatch) -> None:
    from workbench import engines

    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(MissingExtraError, match=r"privacy-risk-workbench\[polars\]"):
        engines.load(HOUSING, engine="polars")


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["link", "combine", "matrix", "check"])
def test_cli_refuses_an_engine_a_command_does_not_run_on(capsys, command) -> None:
    args = {
        "link": ["link", HOUSING, HOUSING],
        "combine": ["combine", "data/samples/city/catalog.yaml", "--datasets", "a,b"],
        "matrix": ["matrix", "data/samples/city/catalog.yaml"],
        "check": ["check", HOUSING],
    }[command]
    code, out, err = _cli(capsys, *args, "--engine", "polars")
    assert code == 2 and out == ""
    assert f"{command} cannot run on the polars engine" in err
    assert "runs on duckdb, pandas (--engine duckdb)" in err


def test_cli_spark_flags_need_the_spark_engine(capsys) -> None:
    code, _, err = _cli(
        capsys, "assess", HOUSING, "--qi", "zip", "--engine", "polars", "--spark-remote", "sc://h:1"
    )
    assert code == 2 and "--spark-remote" in err and "--engine spark" in err
    code, _, err = _cli(
        capsys, "assess", HOUSING, "--qi", "zip", "--engine", "spark", "--spark-remote", "h:1"
    )
    assert code == 2 and "a Spark Connect URL sc://host:port" in err


def test_cli_rejects_an_unknown_engine() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "assess", HOUSING, "--qi", "zip", "--engine", "dask"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "invalid choice: 'dask'" in proc.stderr


@pytest.mark.parametrize("engine", ["duckdb", "pandas", "polars"])
def test_cli_assess_and_anonymize_agree_on_every_local_engine(capsys, engine) -> None:
    import json

    base = ["assess", HOUSING, "--qi", "birth_year,gender,zip", "--sensitive", "income_band"]
    code, out, _ = _cli(capsys, *base, "--json")
    assert code == 0
    code, got, _ = _cli(capsys, *base, "--json", "--engine", engine)
    assert code == 0 and json.loads(got) == json.loads(out)
    anon = ["anonymize", HOUSING, "--qi", "birth_year,gender,zip", "--k", "5", "--json"]
    code, out, _ = _cli(capsys, *anon)
    assert code == 0
    code, got, _ = _cli(capsys, *anon, "--engine", engine)
    assert code == 0
    a, b = json.loads(out), json.loads(got)
    assert a["levels"] == b["levels"] and a["classes"] == b["classes"]


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


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("engine", ["duckdb", "pandas", "polars"])
def test_class_size_profile_in_the_engine_equals_the_class_table(seed, engine) -> None:
    """Seeded random tables (with missing values): the histogram-only measures computed in the
    engine equal those from the full class table, at a threshold other than the default."""
    import numpy as np

    from workbench.risk import assess, class_size_profile

    rng = np.random.default_rng(seed)
    n = 2000
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 30, n).astype(float),
            "b": rng.choice(["x", "y", "z", None], n),
            "c": rng.integers(0, 4, n),
        }
    )
    df.loc[rng.random(n) < 0.05, "a"] = np.nan
    data = {
        "pandas": df,
        "polars": pl.DataFrame(df, nan_to_null=True).lazy(),
        "duckdb": duckdb.connect().from_df(df),
    }[engine]
    want = assess(df, ["a", "b", "c"], threshold=0.34).to_dict()
    got = class_size_profile(data, ["a", "b", "c"], threshold=0.34).to_dict()
    assert {k: got[k] for k in SIZE_KEYS} == {k: want[k] for k in SIZE_KEYS}


def test_class_size_summary_of_a_histogram_equals_the_expanded_table() -> None:
    from workbench.risk import class_size_summary

    sizes = [1, 1, 1, 2, 2, 5]  # six classes
    want = class_size_summary(sizes)
    got = class_size_summary([1, 2, 5], [3, 4, 5], [3, 2, 1])
    assert got == want and got.classes == 6 and dict(got.histogram) == {1: 3, 2: 2, 5: 1}


def profile_facts(p) -> dict:
    """A profile without what names the engine (storage type names, load options)."""
    d = p.to_dict()
    d["dataset"] = {k: v for k, v in d["dataset"].items() if k != "load_options"}
    for c in d["columns"]:
        c.pop("storage_type")
    return d


def test_profile_on_polars_equals_duckdb_and_pandas() -> None:
    want = profile_facts(wb.profile(wb.load(HOUSING, engine="duckdb")))
    assert profile_facts(wb.profile(wb.load(HOUSING, engine="pandas"))) == want
    assert profile_facts(wb.profile(wb.load(HOUSING, engine="polars"))) == want
    assert want["columns"][0]["redacted"]  # application_id: a direct identifier, on every engine


def test_a_load_option_the_engine_loader_lacks_is_refused_not_ignored() -> None:
    with pytest.raises(ParameterError, match="'delimiter'.*engine 'duckdb' or 'pandas'"):
        wb.load(HOUSING, engine="polars", delimiter=";")
    with pytest.raises(ParameterError, match="'string_columns'"):
        wb.load(HOUSING, engine="polars", string_columns=["zip"])


def test_an_engine_read_failure_names_the_file_not_the_engine_message(tmp_path) -> None:
    """polars fails on a ragged CSV at scan time: a LoadError naming the file and the engine's
    error class, without the engine's message (which may quote cell values)."""
    from workbench.errors import LoadError

    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,SECRET_VALUE,3,4\n2,"x\n', encoding="utf-8")
    with pytest.raises(LoadError) as err:
        wb.load(bad, engine="polars")
    assert str(bad) in str(err.value) and "SECRET_VALUE" not in str(err.value)
