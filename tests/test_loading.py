"""Loader: every format, faithful codes, and a located, typed error for every bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.dataset import Dataset
from workbench.errors import (
    ColumnNameError,
    ColumnNotFoundError,
    DecodingError,
    EmptyFileError,
    HeaderOnlyError,
    LoadError,
    MissingFileError,
    ParameterError,
    RaggedRowsError,
    UnsupportedFormatError,
)
from workbench.loading.readers import load, sniff_csv

DATA = Path(__file__).parent / "data" / "loading"
ROOT = Path(__file__).resolve().parents[1]


def adult_path() -> Path:
    path = ROOT / "data" / "samples" / "adult" / "adult.csv"
    return path if path.exists() else ROOT.parent / "shared" / "data" / "adult" / "adult.csv"


@contextmanager
def untouched(path: Path) -> Iterator[None]:
    """The loader must never write its source: same bytes and same mtime afterwards."""
    before = (path.read_bytes(), os.stat(path).st_mtime_ns) if path.exists() else None
    yield
    after = (path.read_bytes(), os.stat(path).st_mtime_ns) if path.exists() else None
    assert before == after, f"{path} was modified"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# delimited text


def test_semicolon_crlf_keeps_leading_zeros_and_infers_safe_numbers() -> None:
    path = DATA / "semicolon_crlf.csv"
    with untouched(path):
        ds = load(path)
    assert ds.options["delimiter"] == ";" and ds.options["newline"] == "\r\n"
    assert ds.data["zip"].tolist() == ["02138", "10001", "00501"]
    assert ds.column_types["zip"] == "str"
    assert ds.column_types["age"] == "Int64"  # integers with a missing value
    assert ds.data["age"].tolist()[0] == 39 and pd.isna(ds.data["age"].iloc[1])
    assert ds.column_types["income"] == "float64"
    assert ds.data["income"].iloc[0] == 52000.5 and np.isnan(ds.data["income"].iloc[1])
    assert ds.data["city"].tolist() == ["Cambridge", "New York", "Holtsville"]
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.n_rows == 3 and ds.name == "semicolon_crlf" and ds.source == str(path)


def test_tsv(tmp_path: Path) -> None:
    ds = load(DATA / "tab_separated.tsv")
    assert ds.options["delimiter"] == "\t"
    assert ds.data["zip"].tolist() == ["02138", "94110"]
    assert ds.data["age"].tolist() == [34, 51]
    # a .txt file with tabs is detected too
    txt = write(tmp_path / "t.txt", b"a\tb\n1\tx\n")
    assert load(txt).options["delimiter"] == "\t"


def test_utf8_bom_is_not_part_of_the_first_column_name() -> None:
    ds = load(DATA / "bom_utf8.csv")
    assert ds.columns == ["name", "city"]
    assert ds.options["bom"] is True and ds.options["encoding"] == "utf-8-sig"
    assert ds.data["city"].tolist() == ["Zürich", "München"]


def test_latin1_detected_without_being_told() -> None:
    ds = load(DATA / "latin1.csv")
    assert ds.options["encoding"] == "latin-1"
    assert ds.data["nom"].tolist() == ["Hélène", "Jürgen"]
    assert ds.data["ville"].tolist() == ["Besançon", "Düsseldorf"]


def test_windows_1252_detected_from_its_punctuation_bytes() -> None:
    ds = load(DATA / "cp1252.csv")
    assert ds.options["encoding"] == "cp1252"
    assert ds.data["price"].tolist() == ["€2", "“yes”"]


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "a,b\n1,\u00e9\n".encode("latin-1"))
    assert load(path, encoding="latin-1").data["b"].tolist() == ["é"]
    assert load(path, encoding="cp1252").options["encoding"] == "cp1252"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "u16.csv", "zip,name\n02138,Zoë\n".encode("utf-16"))
    ds = load(path)
    assert ds.options["encoding"] == "utf-16"
    assert ds.data.to_dict("list") == {"zip": ["02138"], "name": ["Zoë"]}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_and_newline_detection(tmp_path: Path, delimiter: str, newline: str) -> None:
    rows = [["id", "zip", "note"], ["1", "02138", "a, b; c"], ["2", "10001", 'say "hi"']]
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path = write(tmp_path / "d.csv", buf.getvalue().encode())
    ds = load(path)
    assert ds.options["delimiter"] == delimiter
    assert ds.options["newline"] == newline
    assert ds.data["note"].tolist() == ["a, b; c", 'say "hi"']
    assert ds.data["zip"].tolist() == ["02138", "10001"]
    dialect = sniff_csv(path)
    assert dialect.delimiter == delimiter and dialect.header == ("id", "zip", "note")


def test_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", b'a,b\n1,"two\r\nlines"\n\n2,"x"\n')
    ds = load(path)
    assert ds.data["b"].tolist() == ["two\r\nlines", "x"]
    assert ds.n_rows == 2


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\n\na,b\n1,2\n3,4\n", {"a": [1, 3], "b": [2, 4]}),  # blank lines before the header
        (b'a,"b\nc"\n1,2\n', {"a": [1], "b\nc": [2]}),  # a header cell with a line break
        (b"a,b\n1,2", {"a": [1], "b": [2]}),  # no final newline
    ],
)
def test_header_position(tmp_path: Path, content: bytes, expected: dict, lazy: bool) -> None:
    ds = load(write(tmp_path / "h.csv", content), lazy=lazy)
    assert ds.to_pandas().to_dict("list") == expected


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        (["1", "2", "-3"], "int64", [1, 2, -3]),
        (["1", "", "3"], "Int64", [1, None, 3]),
        (["1.5", "2", "-0.25", "1e3"], "float64", [1.5, 2.0, -0.25, 1000.0]),
        (["0", "0.5", "10"], "float64", [0.0, 0.5, 10.0]),
        (["007", "12"], "str", ["007", "12"]),  # one leading zero keeps the whole column text
        (["02138", "10001"], "str", ["02138", "10001"]),
        (["+5", "6"], "str", ["+5", "6"]),  # a plus sign is a phone/code mark, not a number
        (["1,5", "2"], "str", ["1,5", "2"]),
        (["12345678901234567890", "1"], "str", ["12345678901234567890", "1"]),  # > int64
        (["NaN", "1"], "str", ["NaN", "1"]),
        ([" 1", "2"], "str", [" 1", "2"]),  # spaces are kept: not safely numeric
        (["1.", "2"], "str", ["1.", "2"]),
    ],
)
def test_numeric_only_when_safe(tmp_path: Path, values: list[str], dtype: str, expected) -> None:
    path = write(tmp_path / "n.csv", ("v,w\n" + "".join(f'"{v}",x\n' for v in values)).encode())
    ds = load(path)
    assert ds.column_types["v"] == dtype
    got = [None if pd.isna(x) else x for x in ds.data["v"].tolist()]
    assert got == expected


def test_code_columns_stay_text_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.csv", b"zip,postal_code,phone,patient_id,age\n46201,46202,5551234,17,40\n"
    )
    ds = load(path)
    assert [ds.column_types[c] for c in ("zip", "postal_code", "phone", "patient_id")] == [
        "str"
    ] * 4
    assert ds.column_types["age"] == "int64"
    raw = load(path, keep_codes=False)
    assert raw.column_types["zip"] == "int64"


def test_string_columns_and_infer_types(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", b"icd,age\n10,30\n20,31\n")
    assert load(path, string_columns=["icd"]).column_types == {"icd": "str", "age": "int64"}
    assert set(load(path, infer_types=False).column_types.values()) == {"str"}
    with pytest.raises(ColumnNotFoundError, match="'nope'.*available: icd, age"):
        load(path, string_columns=["nope"])


def test_decimal_comma(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", b"a;b\n3,5;1.234\n-0,25;2\n")
    ds = load(path, decimal=",")
    assert ds.data["a"].tolist() == [3.5, -0.25]
    assert ds.column_types["b"] == "str"  # a '.' in a decimal-comma file is a thousands mark


def test_missing_markers(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", b'a,b\n"",NA\n?,x\n,-\n')
    ds = load(path)
    assert ds.data["a"].isna().tolist() == [True, False, True]  # quoted and unquoted empty
    assert ds.data["b"].tolist() == ["NA", "x", "-"]  # "NA" is a value unless listed
    ds = load(path, missing=["", "NA", "?", "-"])
    assert ds.data["a"].isna().tolist() == [True, True, True]
    assert ds.data["b"].isna().tolist() == [True, False, True]
    ds = load(path, missing=())
    assert ds.data["a"].tolist() == ["", "?", ""]
    assert ds.options["missing"] == []


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_roundtrip_against_csv_module(tmp_path: Path, data, delimiter: str, newline: str) -> None:
    """Oracle: whatever Python's csv module writes, the loader reads back unchanged."""
    n_cols = data.draw(st.integers(1, 4))
    header = data.draw(
        st.lists(
            st.text("abcxyz_", min_size=1, max_size=6),
            min_size=n_cols,
            max_size=n_cols,
            unique=True,
        )
    )
    cell = st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
        | st.sampled_from(['"', ",", ";", "\t", "|", "\n", "\r", " ", "0"]),
        max_size=8,
    )
    rows = data.draw(
        st.lists(st.lists(cell, min_size=n_cols, max_size=n_cols), min_size=1, max_size=6)
    )
    buf = io.StringIO(newline="")
    # csv.writer quotes only characters of *its* line terminator: a bare "\r" written unquoted
    # under "\n" endings is a line break for every reader, so quote everything in that case.
    bare_cr = newline == "\n" and any("\r" in c for r in rows for c in r)
    quoting = csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    w.writerow(header)
    w.writerows(rows)
    path = tmp_path / "h.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    ds = load(path, delimiter=delimiter, missing=(), infer_types=False)
    assert ds.columns == header
    assert ds.data.astype(object).values.tolist() == rows


# --------------------------------------------------------------------------------------------
# other formats


def test_parquet(tmp_path: Path) -> None:
    table = pa.table({"zip": ["02138", "", None], "age": [34, None, 51], "w": [1.5, 2.0, 3.0]})
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    with untouched(path):
        ds = load(path)
    assert ds.options["format"] == "parquet"
    assert ds.data["zip"].iloc[0] == "02138" and ds.data["zip"].isna().tolist() == [
        False,
        True,
        True,
    ]
    assert ds.column_types["age"] == "Int64" and ds.data["age"].iloc[2] == 51
    assert ds.column_types["w"] == "float64"


def test_parquet_with_no_rows_and_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.string())}), path)
    with pytest.raises(HeaderOnlyError, match="e.parquet"):
        load(path)
    bad = write(tmp_path / "bad.parquet", b"PAR1 not really")
    with untouched(bad), pytest.raises(LoadError, match="bad.parquet.*Parquet"):
        load(bad)


def _xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_excel(tmp_path: Path) -> None:
    import datetime as dt

    path = _xlsx(
        tmp_path / "x.xlsx",
        {
            "visits": [
                ["zip", "age", "dob", "score", "name"],
                ["02138", 34, dt.datetime(1990, 5, 17), 1.25, "Zoë"],
                ["10001", 51, dt.datetime(1971, 1, 2), 2, None],
            ],
            "other": [["k"], ["v"]],
        },
    )
    with untouched(path):
        ds = load(path)
    assert ds.options["format"] == "excel" and ds.options["sheet"] == "visits"
    assert ds.data["zip"].tolist() == ["02138", "10001"]
    assert ds.data["age"].tolist() == [34, 51] and ds.column_types["age"] == "int64"
    assert ds.data["dob"].tolist() == ["1990-05-17", "1971-01-02"]
    assert ds.data["score"].tolist() == [1.25, 2.0]
    assert ds.data["name"].iloc[0] == "Zoë" and pd.isna(ds.data["name"].iloc[1])
    assert load(path, sheet="other").data["k"].tolist() == ["v"]
    assert load(path, sheet=1).data["k"].tolist() == ["v"]
    with pytest.raises(ParameterError, match="'visits', 'other'"):
        load(path, sheet="missing")


def test_excel_bad_inputs(tmp_path: Path) -> None:
    blank = _xlsx(tmp_path / "blank.xlsx", {"s": [["a", None, "c"], [1, 2, 3]]})
    with pytest.raises(ColumnNameError, match=r"blank\.xlsx.*cell B1"):
        load(blank)
    header_only = _xlsx(tmp_path / "h.xlsx", {"s": [["a", "b"]]})
    with pytest.raises(HeaderOnlyError, match=r"h\.xlsx, line 1"):
        load(header_only)
    dup = _xlsx(tmp_path / "d.xlsx", {"s": [["a", "a"], [1, 2]]})
    with pytest.raises(ColumnNameError, match="duplicate column name 'a'"):
        load(dup)
    empty = _xlsx(tmp_path / "e.xlsx", {"s": []})
    with pytest.raises(EmptyFileError, match=r"e\.xlsx"):
        load(empty)
    corrupt = write(tmp_path / "c.xlsx", b"PK\x03\x04 not a zip")
    with untouched(corrupt), pytest.raises(LoadError, match=r"c\.xlsx"):
        load(corrupt)


def test_jsonl(tmp_path: Path) -> None:
    lines = [
        {"zip": "02138", "age": 34, "w": 1, "flag": True, "tags": ["a"]},
        {"zip": "10001", "w": 2.5, "flag": False, "tags": None, "extra": ""},
    ]
    path = write(tmp_path / "j.jsonl", ("\n".join(json.dumps(x) for x in lines) + "\n\n").encode())
    ds = load(path)
    assert ds.columns == ["zip", "age", "w", "flag", "tags", "extra"]
    assert ds.data["zip"].tolist() == ["02138", "10001"]
    assert ds.column_types["age"] == "Int64" and pd.isna(ds.data["age"].iloc[1])
    assert ds.column_types["w"] == "float64"
    assert ds.data["flag"].tolist() == [True, False]
    assert ds.data["tags"].iloc[0] == '["a"]'
    assert ds.data["extra"].isna().all()  # "" is a missing marker; absent key is missing too


def test_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", b'[{"a": "01", "b": 1}, {"a": "02", "b": 2}]')
    ds = load(path)
    assert ds.data.to_dict("list") == {"a": ["01", "02"], "b": [1, 2]}


@pytest.mark.parametrize(
    ("text", "error", "pattern"),
    [
        ('{"a": 1}\n{"a": 2\n', LoadError, r"j\.jsonl, line 2: invalid JSON"),
        ('{"a": 1}\n\n[1, 2]\n', LoadError, r"j\.jsonl, line 3: expected a JSON object"),
        ('{"a": 1, "a": 2}\n', ColumnNameError, r"j\.jsonl, line 1, column 'a': duplicate key"),
        ("\n\n", EmptyFileError, r"j\.jsonl"),
        ('{"": 1}\n', ColumnNameError, r"j\.jsonl, line 1: blank key"),
    ],
)
def test_jsonl_bad_inputs(tmp_path: Path, text: str, error: type, pattern: str) -> None:
    path = write(tmp_path / "j.jsonl", text.encode())
    with untouched(path), pytest.raises(error, match=pattern):
        load(path)


# --------------------------------------------------------------------------------------------
# SQL over files


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    return write(
        tmp_path / "people.csv", b"zip;age;sex\r\n02138;34;F\r\n10001;51;M\r\n00501;70;F\r\n"
    )


def test_sql_query_over_a_file(people_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(people_csv.parent)
    with untouched(people_csv):
        ds = load("SELECT zip, age FROM 'people.csv' WHERE age > 40 ORDER BY age")
    assert ds.options["format"] == "sql"
    assert ds.data["zip"].tolist() == ["10001", "00501"]  # leading zeros survive the query
    assert ds.column_types["age"] == "int64"
    assert list(ds.options["sources"]) == ["people.csv"]
    assert ds.name == "query" and ds.n_rows == 2
    # same answer with an absolute path, with base_dir, and lazily
    other = load(f"SELECT zip, age FROM '{people_csv}' WHERE age > 40 ORDER BY age")
    assert other.data.equals(ds.data)
    based = load("SELECT count(*) AS n FROM 'people.csv'", base_dir=people_csv.parent)
    assert based.data["n"].tolist() == [3]
    lazy = load("SELECT zip FROM 'people.csv' WHERE sex = 'F' ORDER BY zip", lazy=True)
    assert lazy.is_lazy and lazy.n_rows == 2
    assert lazy.to_pandas()["zip"].tolist() == ["00501", "02138"]


def test_sql_join_of_two_files(people_csv: Path, tmp_path: Path) -> None:
    write(tmp_path / "visits.csv", b"zip,diagnosis\n02138,flu\n00501,asthma\n")
    ds = load(
        "SELECT p.zip, v.diagnosis FROM 'people.csv' p JOIN 'visits.csv' v USING (zip) "
        "ORDER BY p.zip",
        base_dir=tmp_path,
    )
    assert ds.data.to_dict("list") == {"zip": ["00501", "02138"], "diagnosis": ["asthma", "flu"]}


@pytest.mark.parametrize(
    ("query", "error", "pattern"),
    [
        ("SELECT * FROM 'people.csv' WHERE", LoadError, "SQL error: Parser Error"),
        ("SELECT nope FROM 'people.csv'", LoadError, r"over people\.csv: SQL error: .*nope"),
        ("SELECT * FROM 'absent.csv'", MissingFileError, r"absent\.csv: file named in the SQL"),
        ("SELECT 1; SELECT 2", LoadError, "exactly one SELECT"),
        ("COPY (SELECT 1) TO 'people.csv'", LoadError, "exactly one SELECT"),
    ],
)
def test_sql_errors(people_csv: Path, query: str, error: type, pattern: str) -> None:
    with untouched(people_csv), pytest.raises(error, match=pattern):
        load(query, base_dir=people_csv.parent, sql=True)


def test_sql_errors_do_not_echo_data_values(tmp_path: Path) -> None:
    write(tmp_path / "n.csv", b"name\nAlice Secretname\n")
    with pytest.raises(LoadError) as info:
        load("SELECT CAST(name AS INTEGER) FROM 'n.csv'", base_dir=tmp_path)
    assert "Secretname" not in str(info.value)


# --------------------------------------------------------------------------------------------
# bad input: typed error naming file, line and column; the source is never touched


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "pattern", "line"),
    [
        ("empty.csv", {}, EmptyFileError, r"empty\.csv: the file is empty", None),
        ("header_only.csv", {}, HeaderOnlyError, r"header_only\.csv, line 1: .*no data rows", 1),
        (
            "ragged.csv",
            {},
            RaggedRowsError,
            r"ragged\.csv, line 6: expected 3 fields .* found 2; 2 ragged rows in total "
            r"\(lines 6, 8\)",
            6,
        ),
        (
            "duplicate_header.csv",
            {},
            ColumnNameError,
            r"duplicate_header\.csv, line 1, column 'id': duplicate column name 'id' at "
            r"positions 1 and 3",
            1,
        ),
        ("blank_header.csv", {}, ColumnNameError, r"line 1: blank column name at position 2", 1),
        ("unterminated.csv", {}, LoadError, r"line 3: unterminated quoted field", 3),
        (
            "bad_utf8_declared.csv",
            {"encoding": "utf-8"},
            DecodingError,
            r"bad_utf8_declared\.csv, line 3, column 'name': cannot decode byte 0xf6 at byte "
            r"offset 17 \(byte 5 of the line\) as utf-8",
            3,
        ),
        (
            "mixed_encoding.csv",
            {},
            DecodingError,
            r"mixed_encoding\.csv, line 3, column 'name': .*mixes UTF-8",
            3,
        ),
    ],
)
@pytest.mark.parametrize("lazy", [False, True])
def test_bad_input_files(
    name: str, kwargs: dict, error: type, pattern: str, line: int | None, lazy: bool
) -> None:
    path = DATA / name
    with untouched(path), pytest.raises(error, match=pattern) as info:
        load(path, lazy=lazy, **kwargs)
    assert info.value.line == line
    assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("content", "error", "pattern"),
    [
        (b"   \n\n", EmptyFileError, "empty"),
        (b"\xef\xbb\xbf", EmptyFileError, "empty"),
        (b"a,b", HeaderOnlyError, "line 1"),
        (b"\n\na,b\n\n", HeaderOnlyError, "line 3"),
        (b"a,b\n1,2\n3,4,5\n", RaggedRowsError, r"line 3: expected 2 fields .* found 3$"),
        (b"a,b\n1\n", RaggedRowsError, r"line 2: expected 2 fields .* found 1"),
        (b'a,b\n1,"x\ny"\n2,3,4\n', RaggedRowsError, "line 4: "),  # counts physical lines
        (b"a, ,b\n1,2,3\n", ColumnNameError, "blank column name at position 2 after 'a'"),
        (b"a,b\n1,\x00\x01\x02\x03\x04\n", DecodingError, "NUL byte at byte offset 6"),
    ],
)
def test_bad_input_inline(tmp_path: Path, content: bytes, error: type, pattern: str) -> None:
    path = write(tmp_path / "bad.csv", content)
    with untouched(path), pytest.raises(error, match=pattern) as info:
        load(path)
    assert "bad.csv" in str(info.value)


def test_missing_file_and_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=r"nope\.csv: file not found"):
        load(tmp_path / "nope.csv")
    with pytest.raises(MissingFileError, match="directory .* does not exist"):
        load(tmp_path / "no_dir" / "x.csv")
    with pytest.raises(FileNotFoundError):  # MissingFileError is also a FileNotFoundError
        load(tmp_path / "nope.csv")
    for name, hint in (
        ("old.xls", r"save it as \.xlsx"),
        ("doc.docx", "'.docx'"),
        ("noext", "none"),
    ):
        path = write(tmp_path / name, b"a,b\n1,2\n")
        with untouched(path), pytest.raises(UnsupportedFormatError, match=hint):
            load(path)
    with pytest.raises(LoadError, match="is a directory"):
        (tmp_path / "d.csv").mkdir()
        load(tmp_path / "d.csv")


def test_parameter_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", b"a\n1\n")
    with pytest.raises(ParameterError, match="'encoding'"):
        load(path, encoding="no-such-codec")
    with pytest.raises(ParameterError, match="'delimiter'"):
        load(path, delimiter=";;")
    with pytest.raises(ParameterError, match="'decimal'"):
        load(path, decimal=";")
    assert load(path, delimiter="tab").options["delimiter"] == "\t"


def test_bom_contradicting_requested_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", "a\nü\n".encode("utf-16"))
    with pytest.raises(DecodingError, match="utf-16 byte-order mark but encoding='latin-1'"):
        load(path, encoding="latin-1")


# --------------------------------------------------------------------------------------------
# lazy (DuckDB) loading


def test_lazy_equals_eager_on_adult() -> None:
    path = adult_path()
    eager = load(path)
    lazy = load(path, lazy=True)
    assert lazy.is_lazy and not eager.is_lazy
    assert lazy.n_rows == eager.n_rows == 30162
    assert lazy.sha256 == eager.sha256
    assert lazy.column_types["age"] == "BIGINT" and lazy.column_types["sex"] == "VARCHAR"
    pd.testing.assert_frame_equal(lazy.to_pandas(), eager.data, check_dtype=False)


def test_lazy_by_size_threshold(tmp_path: Path) -> None:
    path = DATA / "semicolon_crlf.csv"
    ds = load(path, lazy_threshold=10)
    assert ds.is_lazy and ds.options["lazy"] is True
    eager = load(path)
    got = ds.to_pandas()
    assert got["zip"].tolist() == ["02138", "10001", "00501"]
    assert got["age"].isna().tolist() == eager.data["age"].isna().tolist()
    assert got["income"].iloc[0] == 52000.5
    assert not load(path, lazy_threshold=10**9).is_lazy


def test_lazy_latin1_and_parquet(tmp_path: Path) -> None:
    ds = load(DATA / "latin1.csv", lazy=True)
    assert ds.to_pandas()["nom"].tolist() == ["Hélène", "Jürgen"]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"zip": ["02138", ""], "n": [1, 2]}), path)
    lazy = load(path, lazy=True)
    assert lazy.is_lazy
    assert lazy.to_pandas()["zip"].tolist()[0] == "02138"
    assert pd.isna(lazy.to_pandas()["zip"].iloc[1])


# --------------------------------------------------------------------------------------------
# adult, Dataset fields


def test_adult() -> None:
    path = adult_path()
    with untouched(path):
        ds = load(path, department="Census")
    assert ds.n_rows == 30162 and len(ds.columns) == 9
    assert ds.columns == [
        "sex",
        "age",
        "race",
        "marital-status",
        "education",
        "native-country",
        "workclass",
        "occupation",
        "salary-class",
    ]
    assert ds.column_types["age"] == "int64"
    assert all(ds.column_types[c] == "str" for c in ds.columns if c != "age")
    assert ds.options["delimiter"] == ";" and ds.options["newline"] == "\r\n"
    assert ds.department == "Census" and ds.name == "adult"
    assert ds.data["sex"].nunique() == 2 and ds.data["race"].nunique() == 5
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_frames_pass_through() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    ds = load(frame, name="mem")
    assert isinstance(ds, Dataset) and ds.n_rows == 2 and ds.name == "mem"
    assert load(ds) is ds
