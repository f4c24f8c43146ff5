"""Hostile input: bounded, sandboxed, never echoed, and every failure keeps the contract.

Each hostile file is built here, in the test: a 1.5 KB workbook declaring 17 billion cells, a zip
bomb, SQL that reaches for host files, cells holding planted e-mail addresses and names. Every
case must fail fast with a typed :class:`~workbench.errors.WorkbenchError`, exit 2 from the CLI,
and never print a cell value.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

import workbench.loading.limits as limits
from workbench.cli import main
from workbench.deid.hierarchy import Hierarchy
from workbench.errors import (
    HierarchyError,
    InputLimitError,
    LoadError,
    ParameterError,
    ParameterTypeError,
    SqlSandboxError,
)
from workbench.loading.readers import load
from workbench.risk import assess

PLANTED_EMAIL = "ann.planted@example.org"
PLANTED_NAME = "Zebulon Plantedname"


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CSV with planted identifiers, in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "people.csv"
    path.write_text(
        "name,email,age,w\n"
        f"Bob Jones,bob@example.org,30,1.5\n"
        f"{PLANTED_NAME},{PLANTED_EMAIL},40,{PLANTED_EMAIL}\n"
        f"Carl Doe,carl@example.org,50,2\n",
        encoding="utf-8",
    )
    return path


def _no_planted(text: str) -> None:
    assert PLANTED_EMAIL not in text
    assert "Plantedname" not in text
    assert "Traceback" not in text


# -- error messages name file, row and column, never a cell value -----------------------------


def test_non_numeric_weight_names_row_and_column_not_value(people: Path) -> None:
    with pytest.raises(ParameterError) as info:
        assess(load(people), ["age"], weights="w")
    msg = str(info.value)
    _no_planted(msg)
    assert "people.csv" in msg and "row 2" in msg and "column 'w'" in msg


def test_non_numeric_weight_cli_exit_2_without_value(
    people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", str(people), "--qi", "age", "--weights", "w"]) == 2
    err = capsys.readouterr().err
    _no_planted(err)
    assert "row 2" in err


def test_value_without_leaf_names_row_and_column_not_value(people: Path) -> None:
    h = Hierarchy.from_rows([("bob@example.org", "*"), ("carl@example.org", "*")], name="mail.csv")
    with pytest.raises(HierarchyError) as info:
        h.check_covers(load(people).data["email"], "email")
    msg = str(info.value)
    _no_planted(msg)
    assert "row 2 of column 'email'" in msg and "mail.csv" in msg


def test_hierarchy_without_leaf_cli_exit_2_without_value(
    people: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "name.csv").write_text("Bob Jones;*\nCarl Doe;*\n", encoding="utf-8")
    code = main(
        ["anonymize", str(people), "--qi", "name", "--hierarchy", "name=name.csv", "--k", "2"]
    )
    err = capsys.readouterr().err
    assert code == 2
    _no_planted(err)
    assert "row 2 of column 'name'" in err


def test_double_quoted_sql_literal_is_not_echoed(
    people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = f"SELECT * FROM 'people.csv' WHERE email = \"{PLANTED_EMAIL}\""
    with pytest.raises(LoadError) as info:
        load(query)
    _no_planted(str(info.value))
    assert "people.csv" in str(info.value)
    # a misspelt column written unquoted is still named, and so are the real columns
    with pytest.raises(LoadError, match=r'(?s)"agee" not found.*"age"'):
        load("SELECT agee FROM 'people.csv'")
    assert main(["profile", query]) == 2
    _no_planted(capsys.readouterr().err)


# -- xlsx: declared dimension, cell count, zip bomb, time ---------------------------------------

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def _row(i: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + k)}{i}" t="inlineStr"><is><t>{v}</t></is></c>'
        for k, v in enumerate(values)
    )
    return f'<row r="{i}">{cells}</row>'


def _xlsx(path: Path, rows: list[list[str]], dimension: str | None, padding: int = 0) -> Path:
    """A minimal workbook written by hand: one sheet, inline strings, an optional <dimension>.

    ``padding`` adds that many bytes of highly compressible XML whitespace (a zip bomb).
    """
    body = "".join(_row(i, r) for i, r in enumerate(rows, start=1))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        f'.org/spreadsheetml/2006/main">{dim}<sheetData>{body}</sheetData>{" " * padding}'
        "</worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    path.write_bytes(buf.getvalue())
    return path


def test_tiny_xlsx_declaring_the_whole_sheet_is_refused_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _xlsx(tmp_path / "huge.xlsx", [["a", "b"], ["1", "2"]], "A1:XFD1048576")
    assert path.stat().st_size < 2000
    start = time.monotonic()
    with pytest.raises(InputLimitError, match=r"A1:XFD1048576 \(17179869184 cells\)"):
        load(path)
    assert time.monotonic() - start < 5
    assert main(["profile", str(path)]) == 2
    assert "XLSX_MAX_CELLS" in capsys.readouterr().err


def test_declared_cells_limit_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _xlsx(tmp_path / "d.xlsx", [["a", "b", "c"], ["1", "2", "3"]], "A1:C4")  # 12 cells
    monkeypatch.setattr(limits, "XLSX_MAX_CELLS", 12)
    assert load(path).n_rows == 1
    monkeypatch.setattr(limits, "XLSX_MAX_CELLS", 11)
    with pytest.raises(InputLimitError, match=r"A1:C4 \(12 cells\); the limit is 11"):
        load(path)


@pytest.mark.parametrize("dimension", [None, "A1:A1"])
def test_cells_read_limit_exactly_when_the_dimension_lies_or_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dimension: str | None
) -> None:
    path = _xlsx(tmp_path / "l.xlsx", [["a", "b"], ["1", "2"], ["3", "4"]], dimension)  # 6 cells
    monkeypatch.setattr(limits, "XLSX_MAX_CELLS", 6)
    ds = load(path)  # a too-small declaration does not drop rows either
    assert ds.n_rows == 2 and list(ds.columns) == ["a", "b"]
    monkeypatch.setattr(limits, "XLSX_MAX_CELLS", 5)
    with pytest.raises(InputLimitError, match="more than 5 cells"):
        load(path)


def test_zip_bomb_xlsx_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _xlsx(tmp_path / "bomb.xlsx", [["a"], ["1"]], "A1:A2", padding=100_000_000)
    assert path.stat().st_size < 200_000
    start = time.monotonic()
    with pytest.raises(InputLimitError, match="zip bomb"):
        load(path)
    assert time.monotonic() - start < 5
    assert main(["profile", str(path)]) == 2
    assert "XLSX_MAX_COMPRESSION_RATIO" in capsys.readouterr().err


def _sheet_member(path: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path) as z:
        return z.getinfo("xl/worksheets/sheet1.xml")


def test_compression_ratio_and_size_limits_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [["a"], ["1"]], "A1:A2", padding=20_000)
    member = _sheet_member(path)
    ratio = member.file_size / member.compress_size
    monkeypatch.setattr(limits, "XLSX_MAX_COMPRESSION_RATIO", ratio)
    assert load(path).n_rows == 1
    monkeypatch.setattr(limits, "XLSX_MAX_COMPRESSION_RATIO", ratio * 0.999)
    with pytest.raises(InputLimitError, match="sheet1.xml' inflates"):
        load(path)
    monkeypatch.undo()
    with zipfile.ZipFile(path) as z:
        total = sum(m.file_size for m in z.infolist())
    monkeypatch.setattr(limits, "XLSX_MAX_UNCOMPRESSED_BYTES", total)
    assert load(path).n_rows == 1
    monkeypatch.setattr(limits, "XLSX_MAX_UNCOMPRESSED_BYTES", total - 1)
    with pytest.raises(InputLimitError, match=f"inflates to {total} bytes"):
        load(path)
    monkeypatch.setattr(limits, "XLSX_MAX_MEMBERS", 5)
    monkeypatch.setattr(limits, "XLSX_MAX_UNCOMPRESSED_BYTES", total)
    assert load(path).n_rows == 1
    monkeypatch.setattr(limits, "XLSX_MAX_MEMBERS", 4)
    with pytest.raises(InputLimitError, match="5 members"):
        load(path)


def test_reading_a_sheet_is_time_bounded_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake clock ticking one second per call: the deadline is taken at tick 0, then each of
    the 3 rows reads the clock once (ticks 1, 2, 3)."""
    path = _xlsx(tmp_path / "t.xlsx", [["a"], ["1"], ["2"]], "A1:A3")

    def run(limit: float) -> None:
        ticks = iter(range(1000))
        monkeypatch.setattr(limits, "XLSX_MAX_SECONDS", limit)
        with monkeypatch.context() as m:
            m.setattr(time, "monotonic", lambda: float(next(ticks)))
            load(path)

    run(3.0)  # the last row is read at exactly the deadline
    with pytest.raises(InputLimitError, match="took more than 2 s \\(stopped at row 3\\)"):
        run(2.0)


# -- SQL sandbox --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/hostname')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('people.csv')",
        "SELECT * FROM read_text('people.csv')",
        "SELECT * FROM \"read_text\"('people.csv')",
        "SELECT * FROM read_text/**/('people.csv')",
        "SELECT (SELECT content FROM READ_TEXT('people.csv')) AS x",
        "SELECT * FROM read_csv($$/etc/passwd$$)",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_csv('/etc/*.conf')",
        "SELECT * FROM read_csv('../outside/*.csv')",
        "SELECT * FROM '../outside/o.csv'",
    ],
)
def test_sql_cannot_read_host_files(
    people: Path,
    tmp_path: Path,
    query: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.csv").write_text("a\n1\n")
    (work / "people.csv").write_bytes(people.read_bytes())
    start = time.monotonic()
    with pytest.raises(SqlSandboxError):
        load(query, base_dir=work)
    assert time.monotonic() - start < 5
    monkeypatch.chdir(work)
    assert main(["profile", query]) == 2
    err = capsys.readouterr().err
    assert "root:" not in err and "Traceback" not in err


def test_duckdb_sandbox_blocks_what_the_pre_check_cannot_see(people: Path) -> None:
    """A path built inside SQL is invisible to the literal scan: DuckDB itself refuses it."""
    with pytest.raises(LoadError, match="Permission Error"):
        load("SELECT * FROM read_csv('/etc/' || 'passwd')")
    with pytest.raises(LoadError, match="exactly one SELECT"):
        load("SET enable_external_access = true; SELECT 1", sql=True)


def test_sandboxed_connection_is_locked(tmp_path: Path) -> None:
    import duckdb

    from workbench.loading.readers import _connect
    from workbench.loading.sql import _sandbox

    con = _connect()
    _sandbox(con, [tmp_path.resolve()])
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET allowed_directories = ['/']")
    with pytest.raises(duckdb.Error, match="Permission"):
        con.sql("SELECT * FROM read_text('/etc/passwd')").fetchall()


def test_sql_symlink_out_of_the_working_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "outside.csv").write_text("a\n1\n")
    (work / "inside.csv").write_text("a\n2\n")
    (work / "link.csv").symlink_to(tmp_path / "outside.csv")
    monkeypatch.chdir(work)
    assert load("SELECT * FROM 'inside.csv'").n_rows == 1
    with pytest.raises(SqlSandboxError, match="outside the allowed directories"):
        load("SELECT * FROM 'link.csv'")
    with pytest.raises(SqlSandboxError, match="matches 'link.csv'"):
        load("SELECT * FROM read_csv('*.csv')")


def test_sql_reads_only_data_files_and_still_reads_them(people: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("a\n1\n")
    with pytest.raises(SqlSandboxError, match="not a data file"):
        load("SELECT * FROM read_csv('secret.key')")
    with pytest.raises(SqlSandboxError, match="not a data file"):
        load("SELECT * FROM read_csv($$secret.key$$)")
    # data files under the working directory: relative, globbed, absolute, lazy
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.csv").write_text("a,b\n1,2\n3,4\n")
    assert load("SELECT * FROM 'sub/x.csv'").n_rows == 2
    assert load("SELECT * FROM read_csv('sub/*.csv')").n_rows == 2
    assert load(f"SELECT * FROM '{tmp_path / 'people.csv'}'").n_rows == 3
    assert load("SELECT * FROM 'sub/x.csv'", lazy=True).n_rows == 2


def test_allow_dir_opens_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work, other = tmp_path / "work", tmp_path / "other"
    sibling = tmp_path / "other2"  # its name starts with the allowed directory's name
    for d in (work, other, sibling):
        d.mkdir()
    (other / "o.csv").write_text("zip,age\n02138,30\n02139,40\n")
    (sibling / "s.csv").write_text("zip,age\n1,2\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("WORKBENCH_PROVENANCE", "off")
    query = f"SELECT * FROM '{other / 'o.csv'}'"
    with pytest.raises(SqlSandboxError, match="--allow-dir"):
        load(query)
    assert load(query, allow_dirs=[other]).n_rows == 2
    assert main(["profile", query]) == 2
    capsys.readouterr()
    assert main(["profile", query, "--allow-dir", str(other), "--json"]) == 0
    capsys.readouterr()
    # the allowed directory is not a string prefix: its sibling stays closed
    with pytest.raises(SqlSandboxError):
        load(f"SELECT * FROM '{sibling / 's.csv'}'", allow_dirs=[other])
    with pytest.raises(LoadError, match="Permission Error"):
        load(f"SELECT * FROM read_csv('{sibling}/' || 's.csv')", allow_dirs=[other])
    with pytest.raises(ParameterError, match="allow_dirs"):
        load(query, allow_dirs=[tmp_path / "missing"])


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith((".tmp", ".bak"))]


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "log" / "prov.jsonl"))
    path = tmp_path / "small.csv"
    path.write_text("age,sex\n30,F\n30,F\n40,M\n40,M\n", encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("command", ["anonymize", "assess"])
def test_output_path_that_is_a_directory(
    small: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"  # a directory with a table's name: only the OS can refuse it
    target.mkdir()
    flag = "--output" if command == "anonymize" else "--per-record"
    extra = ["--k", "2"] if command == "anonymize" else []
    code, err = _run([command, str(small), "--qi", "age", *extra, flag, str(target)], capsys)
    assert code == 2
    assert f"{target}: is a directory" in err
    assert list(target.iterdir()) == [] and _leftovers(tmp_path) == []


def test_output_path_under_a_regular_file(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x")
    out = blocker / "sub" / "out.csv"
    code, err = _run(
        ["anonymize", str(small), "--qi", "age", "--k", "2", "--output", str(out)], capsys
    )
    assert code == 2
    assert f"{blocker} is a file, not a directory" in err
    assert blocker.read_text() == "x" and _leftovers(tmp_path) == []


def test_provenance_log_under_a_file_fails_before_any_output(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(blocker / "prov.jsonl"))
    out = tmp_path / "anon.csv"
    cmd = ["anonymize", str(small), "--qi", "age", "--k", "2", "--output", str(out)]
    code, err = _run(cmd, capsys)
    assert code == 2
    assert "provenance log" in err and "is not a directory" in err
    assert not out.exists() and _leftovers(tmp_path) == []
    per = tmp_path / "per.csv"
    code, err = _run(["assess", str(small), "--qi", "age", "--per-record", str(per)], capsys)
    assert code == 2 and not per.exists()
    # with a writable log, or recording off, the same command writes its output
    log = tmp_path / "log" / "prov.jsonl"
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(log))
    code, _ = _run(cmd, capsys)
    assert code == 0 and out.is_file() and out.name in log.read_text()
    out.unlink()
    monkeypatch.setenv("WORKBENCH_PROVENANCE", "off")
    code, _ = _run(cmd, capsys)
    assert code == 0 and out.is_file()


def test_provenance_log_that_is_a_directory(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logdir"
    log.mkdir()
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(log))
    out = tmp_path / "anon.csv"
    code, err = _run(
        ["anonymize", str(small), "--qi", "age", "--k", "2", "--output", str(out)], capsys
    )
    assert code == 2 and "is a directory" in err and not out.exists()


@pytest.mark.parametrize("command", ["anonymize", "assess"])
def test_output_removed_when_its_provenance_record_fails(
    small: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The log's directory is fine (the pre-check passes) but appending fails: the output the
    command already wrote is removed, so it never exists without its record."""
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "prov.jsonl.lock").mkdir()  # the append cannot take its lock
    out = tmp_path / "out.csv"
    flag = "--output" if command == "anonymize" else "--per-record"
    extra = ["--k", "2"] if command == "anonymize" else []
    code, err = _run([command, str(small), "--qi", "age", *extra, flag, str(out)], capsys)
    assert code == 2
    assert f"removed {out}" in err
    assert not out.exists() and _leftovers(tmp_path) == []
    # an output that existed before the failed run is put back as it was
    out.write_text("earlier release\n")
    code, err = _run([command, str(small), "--qi", "age", *extra, flag, str(out)], capsys)
    assert code == 2 and f"restored {out}" in err
    assert out.read_text() == "earlier release\n" and _leftovers(tmp_path) == []


def test_atomic_write_leaves_no_tmp_when_the_writer_fails(tmp_path: Path) -> None:
    from workbench._io import atomic_write
    from workbench.errors import FileSystemError

    def boom(p: Path) -> None:
        p.write_text("partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(FileSystemError, match="No space left"):
        atomic_write(tmp_path / "x.csv", boom)
    assert list(tmp_path.iterdir()) == []


# -- the Python API raises typed, named errors --------------------------------------------------


@pytest.mark.parametrize("source", [None, 123, 1.5, b"people.csv", ["people.csv"]])
def test_load_rejects_non_sources(source: object) -> None:
    with pytest.raises(ParameterTypeError, match="parameter 'source' is a") as info:
        load(source)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)  # code catching the old raw TypeError still works


def test_qi_must_be_column_names(people: Path) -> None:
    ds = load(people)
    with pytest.raises(ParameterTypeError, match="parameter 'qis' is a list"):
        assess(ds, [["age"]])
    with pytest.raises(ParameterTypeError, match="parameter 'qis' is a NoneType"):
        assess(ds, None)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError, match="parameter 'qis' is a int"):
        assess(ds, ["age", 3])  # type: ignore[list-item]


def test_suppression_must_be_a_number(people: Path) -> None:
    import workbench as wb

    ds = load(people)
    with pytest.raises(ParameterTypeError, match="parameter 'suppression' is a str"):
        wb.anonymize(ds, ["age"], k=2, suppression="0.1")
    with pytest.raises(ParameterTypeError, match="parameter 't' is a str"):
        wb.anonymize(ds, ["age"], k=2, t="0.2", sensitive=["name"])
    from workbench.errors import PrivacyWarning

    with pytest.warns(PrivacyWarning, match="k = 1 protects nobody"):
        assert wb.anonymize(ds, ["age"], k=1, suppression=0).found


@pytest.mark.parametrize("target", [None, 7])
def test_gate_rejects_non_targets(target: object) -> None:
    import workbench as wb

    with pytest.raises(ParameterTypeError, match="parameter 'target' is a"):
        wb.gate(target, record=False)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_deeply_nested_json_is_a_typed_error(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / f"deep{suffix}"
    path.write_text(deep if suffix == ".json" else '{"a": 1}\n{"a": ' + deep + "}\n")
    with pytest.raises(InputLimitError, match="nested deeper"):
        load(path)
    assert main(["profile", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_output_journal_rolls_back_and_keeps(tmp_path: Path) -> None:
    from workbench._io import atomic_write_text, output_journal

    old = tmp_path / "old.txt"
    old.write_text("v1")
    with output_journal() as journal:
        atomic_write_text(old, "v2")
        atomic_write_text(old, "v3")  # the state before the block is what comes back
        atomic_write_text(tmp_path / "new.txt", "n")
        undone = journal.rollback()
    assert old.read_text() == "v1" and not (tmp_path / "new.txt").exists()
    assert sorted((p.name, r) for p, r in undone) == [("new.txt", False), ("old.txt", True)]
    with output_journal():
        atomic_write_text(old, "v2")
    assert old.read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]  # no backup left


@pytest.mark.parametrize(
    "argv",
    [
        ["profile", "{q}"],
        ["assess", "{q}", "--qi", "age,sex"],
        ["anonymize", "{q}", "--qi", "age", "--k", "2"],
        ["frontier", "{q}", "--qi", "age", "--k-range", "2"],
        ["link", "{q}", "{q}", "--on", "age,sex"],
    ],
)
def test_every_sql_command_takes_allow_dir(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    (other / "d.csv").write_text("age,sex\n30,F\n30,F\n40,M\n40,M\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("WORKBENCH_PROVENANCE", "off")
    q = f"SELECT age, sex FROM '{other / 'd.csv'}'"
    args = [a.format(q=q) for a in argv]
    assert main(args) == 2
    assert "--allow-dir" in capsys.readouterr().err
    assert main([*args, "--allow-dir", str(other)]) in (0, 1)  # 1: the data is risky


def test_sensitive_hierarchy_gap_is_not_echoed() -> None:
    from workbench.risk.sensitive import t_closeness

    with pytest.raises(HierarchyError, match="does not cover 1 sensitive value") as info:
        t_closeness([0, 0], ["flu", PLANTED_NAME], 1, kind="hierarchical", hierarchy=[["flu", "*"]])
    _no_planted(str(info.value))


def test_read_only_provenance_directory(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tests run as root, whom chmod does not stop: the permission answer is simulated."""
    import os

    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(ro / "prov.jsonl"))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != ro and real_access(p, mode))
    out = tmp_path / "out.csv"
    code, err = _run(
        ["anonymize", str(small), "--qi", "age", "--k", "2", "--output", str(out)], capsys
    )
    assert code == 2 and f"{ro} is read-only" in err and not out.exists()
