"""``workbench assess``: JSON contract, per-record file, text summary, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_risk_profile import CONTRACT_KEYS

from workbench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _survey() -> Path:
    path = ROOT / "data" / "samples" / "survey" / "testdata.csv"
    return path if path.exists() else ROOT.parent / "shared" / "data" / "sdcmicro" / "testdata.csv"


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "clinic.csv"
    pd.DataFrame(
        {
            "age": [30, 30, 30, 41, 41, 52],
            "sex": ["F", "F", "F", "M", "M", "F"],
            "diagnosis": ["flu", "cold", "flu", "flu", "flu", "asthma"],
            "w": [10, 10, 10, 20, 20, 50],
        }
    ).to_csv(path, index=False)
    return path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_json_document_has_the_contract_keys(small_csv, capsys) -> None:
    rc = main(
        [
            "assess",
            str(small_csv),
            "--qi",
            "age,sex",
            "--sensitive",
            "diagnosis",
            "--population",
            "600",
            "--json",
        ]
    )
    assert rc == 0
    doc = _json(capsys)
    for key in sorted(CONTRACT_KEYS):
        assert key in doc
    assert doc["records"] == 6 and doc["classes"] == 3
    assert doc["prosecutor"]["threshold"] == 0.2
    assert doc["population"]["size"] == 600
    assert set(doc["population"]["dankar"]) >= {"model", "uniques"}
    assert set(doc["l_diversity"]["diagnosis"]) >= {"distinct", "entropy", "recursive_c"}
    assert "suda" not in doc


def test_suda_per_record_and_weights(small_csv, tmp_path, capsys) -> None:
    out = tmp_path / "risk.csv"
    rc = main(
        [
            "assess",
            str(small_csv),
            "--qi",
            "age,sex",
            "--weights",
            "w",
            "--suda",
            "--per-record",
            str(out),
            "--json",
        ]
    )
    assert rc == 0
    doc = _json(capsys)
    assert "attribute_contributions" in doc["suda"]
    assert doc["global_risk"]["weighted"] is True
    per = pd.read_csv(out)
    assert per.columns.tolist() == ["row", "fk", "Fk", "risk", "suda_score", "dis_suda"]
    assert per["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert per["fk"].tolist() == [3, 3, 3, 2, 2, 1]
    assert not list(tmp_path.glob(".risk.csv.*"))  # no temporary file left behind


def test_per_record_never_overwrites_the_input(small_csv, capsys) -> None:
    before = small_csv.read_bytes()
    rc = main(["assess", str(small_csv), "--qi", "age", "--per-record", str(small_csv)])
    assert rc == 2
    assert small_csv.read_bytes() == before
    assert "output" in capsys.readouterr().err


def test_text_summary(small_csv, capsys) -> None:
    rc = main(
        [
            "assess",
            str(small_csv),
            "--qi",
            "age,sex",
            "--population",
            "600",
            "--sensitive",
            "diagnosis",
            "--subsets",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "prosecutor" in text and "dankar" in text and "records 6" in text
    assert "flu" not in text and "asthma" not in text  # no data values printed


def test_survey_household_and_population_table(tmp_path, capsys) -> None:
    survey = _survey()
    rc = main(
        [
            "assess",
            str(survey),
            "--qi",
            "urbrur,water,sex,age",
            "--weights",
            "sampling_weight",
            "--household",
            "ori_hid",
            "--json",
        ]
    )
    assert rc == 0
    doc = _json(capsys)
    assert doc["global_risk"]["expected_reidentifications"] == pytest.approx(24.78, abs=0.005)
    assert doc["household_risk"]["households"] == 1000
    pop = tmp_path / "population.csv"
    df = pd.read_csv(survey)
    pd.concat([df] * 3).to_csv(pop, index=False)
    rc = main(
        [
            "assess",
            str(survey),
            "--qi",
            "urbrur,water,sex",
            "--population-table",
            str(pop),
            "--json",
        ]
    )
    doc = _json(capsys)
    assert rc == 0
    assert doc["population_table"]["records"] == 3 * len(df)
    assert doc["marketer"] == pytest.approx(1 / 3 * doc["classes"] / doc["records"] * 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--qi", "age,zip"], "column 'zip' not found in"),
        (["--qi", "age", "--weights", "diagnosis"], "row 1"),
        (["--qi", "age", "--threshold", "1.5"], "threshold"),
        (["--qi", "age", "--population", "3"], "population_size"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(small_csv, capsys, args, message) -> None:
    rc = main(["assess", str(small_csv), *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err
    if "zip" in message:
        assert "clinic.csv" in err and "available: age, sex, diagnosis, w" in err


def test_missing_file_exits_2(tmp_path, capsys) -> None:
    rc = main(["assess", str(tmp_path / "nope.csv"), "--qi", "a"])
    assert rc == 2
    assert "nope.csv" in capsys.readouterr().err


def test_suda_max_size_option_matches_direct_call(tmp_path, capsys) -> None:
    """--suda-max-size limits the MSU search exactly as suda2(max_size=...) does."""
    import json

    import numpy as np
    import pandas as pd

    from workbench.cli import main
    from workbench.risk.suda import suda2

    rng = np.random.default_rng(5)
    df = pd.DataFrame({c: rng.choice(list("abcd"), 60) for c in ("q1", "q2", "q3", "q4")})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    assert (
        main(
            ["assess", str(path), "--qi", "q1,q2,q3,q4", "--suda", "--suda-max-size", "2", "--json"]
        )
        == 0
    )
    got = json.loads(capsys.readouterr().out)["suda"]["attribute_contributions"]
    codes = np.column_stack([pd.factorize(df[c], sort=True)[0] for c in df.columns])
    want = suda2(codes, list(df.columns), max_size=2).attribute_contributions
    assert got == pytest.approx(dict(want))
    full = suda2(codes, list(df.columns)).attribute_contributions
    assert dict(full) != pytest.approx(dict(want))  # the option really changed the search
    assert main(["assess", str(path), "--qi", "q1", "--suda", "--suda-max-size", "0"]) == 2
