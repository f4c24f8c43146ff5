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


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_heartbeat_is_silent_for_a_run_shorter_than_its_delay():
    out = _Pipe()
    with Progress("matrix", True, stream=out).heartbeat(after=0.5, every=0.05):
        time.sleep(0.1)
    assert out.getvalue() == ""


def test_heartbeat_speaks_once_the_delay_passes_and_gives_the_total():
    out = _Pipe()
    with Progress("matrix", True, stream=out).heartbeat(after=0.05, every=0.05):
        time.sleep(0.4)
    lines = out.getvalue().splitlines()
    assert lines[0] == "workbench matrix: working ..."
    assert any(line.startswith("workbench matrix: still working (") for line in lines[1:-1])
    assert re.fullmatch(
        r"workbench matrix: done in 0\.[3-9] s|workbench matrix: done in \d+\.\d s", lines[-1]
    )
    assert not any(t.name == "progress-heartbeat" for t in threading.enumerate())


def test_disabled_heartbeat_never_speaks():
    out = _Pipe()
    with Progress("matrix", False, stream=out).heartbeat(after=0.0, every=0.01):
        time.sleep(0.1)
    assert out.getvalue() == ""


@pytest.mark.parametrize(("flags", "shown"), [([], True), (["--json"], False)])
def test_a_command_without_phases_gets_the_heartbeat(monkeypatch, capsys, flags, shown):
    """Commands without --progress (matrix, link, combine, ...) are not silent when slow."""
    import workbench.cli as cli
    from workbench.cli import _progress

    real = _progress.Progress.heartbeat
    monkeypatch.setattr(
        _progress.Progress, "heartbeat", lambda self, after=2.0, every=10.0: real(self, 0.05, 10)
    )
    parser = cli.build_parser()
    args = parser.parse_args(["samples", "list", *flags])
    assert not hasattr(args, "progress")

    def slow(_args):
        time.sleep(0.3)
        return 0

    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser, slow))
    assert main(["samples", "list", *flags]) == 0
    err = capsys.readouterr().err
    assert ("workbench samples: working ..." in err) == shown
    assert ("workbench samples: done in" in err) == shown


def _with_func(parser, func):
    real_parse = parser.parse_args

    def parse(argv=None):
        ns = real_parse(argv)
        ns.func = func
        return ns

    parser.parse_args = parse
    return parser
