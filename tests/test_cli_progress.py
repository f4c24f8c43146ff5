"""Progress of long commands on stderr: phases, silent with --json unless --progress (#12)."""

from __future__ import annotations

import io
import json
import re
import threading
import time

import pandas as pd
import pytest

from workbench.cli import main
from workbench.cli._progress import Progress


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "clinic.csv"
    pd.DataFrame(
        {
            "age": [30, 30, 30, 41, 41, 52, 52, 52],
            "sex": ["F", "F", "F", "M", "M", "F", "F", "F"],
            "diagnosis": ["SECRETVALUE", "cold", "flu", "flu", "flu", "asthma", "a", "b"],
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        ([], True),
        (["--json"], False),
        (["--json", "--progress"], True),
        (["--no-progress"], False),
        (["--json", "--no-progress"], False),
    ],
)
def test_assess_phases_on_stderr(small_csv, capsys, flags, shown) -> None:
    args = ["assess", str(small_csv), "--qi", "age,sex", "--sensitive", "diagnosis", *flags]
    assert main(args) == 0
    out, err = capsys.readouterr()
    if "--json" in flags:
        assert json.loads(out)["records"] == 8  # stdout stays one JSON document
    if shown:
        assert "workbench assess: scan clinic.csv ..." in err
        assert "workbench assess: scan done in " in err
        assert "workbench assess: measures done in " in err
    else:
        assert err == ""
    assert "SECRETVALUE" not in err


def test_anonymize_phases_on_stderr(small_csv, tmp_path, capsys) -> None:
    out_path = tmp_path / "out.csv"
    args = ["anonymize", str(small_csv), "--qi", "age,sex", "--k", "2", "--output", str(out_path)]
    main(args)
    err = capsys.readouterr().err
    for phase in ("scan clinic.csv ...", "search (lattice) ...", "write out.csv ..."):
        assert f"workbench anonymize: {phase}" in err
    assert "workbench anonymize: search done in " in err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_ticker_is_joined_when_the_phase_ends() -> None:
    stream = _Tty()
    before = threading.active_count()
    p = Progress("assess", True, stream=stream, tick=0.01)
    with p.phase("scan"):
        time.sleep(0.08)
        assert threading.active_count() == before + 1
    assert threading.active_count() == before
    text = stream.getvalue()
    assert "\r  scan " in text
    assert re.search(r"workbench assess: scan done in \d+\.\d s\n$", text)
    assert [name for name, _ in p.phases] == ["scan"]


def test_disabled_progress_writes_nothing_and_still_times() -> None:
    stream = _Tty()
    p = Progress("x", False, stream=stream, tick=0.01)
    with p.phase("scan"):
        time.sleep(0.03)
    assert stream.getvalue() == "" and p.phases[0][1] >= 0.03


def test_sql_text_is_never_echoed_in_progress(tmp_path, small_csv, monkeypatch, capsys) -> None:
    monkeypatch.chdir(small_csv.parent)
    query = "SELECT * FROM 'clinic.csv' WHERE diagnosis <> 'SECRETVALUE'"
    assert main(["assess", query, "--qi", "age,sex", "--progress", "--json"]) == 0
    err = capsys.readouterr().err
    assert "workbench assess: scan query ..." in err
    assert "SECRETVALUE" not in err and "clinic.csv" not in err
