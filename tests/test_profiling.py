"""Column profiles: hand-checked measures, an oracle on random tables, kinds, patterns,
redaction of identifiers, the adult data set and the ``workbench profile`` command."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.dataset import Dataset
from workbench.errors import ColumnNotFoundError, ParameterError
from workbench.loading.readers import load
from workbench.profiling.profiler import (
    ColumnKind,
    DatasetProfile,
    _iban_ok,
    _luhn,
    _masks,
    _national_id,
    _steuer_id_ok,
    profile,
    shape_mask,
)
from workbench.profiling.roles import Role, RoleMap

# --------------------------------------------------------------------------------------------
# the measures, by hand


def test_hand_computed_measures() -> None:
    frame = pd.DataFrame({"x": ["a", "a", "b", "c", None]})
    col = profile(frame, suggest=False)["x"]
    assert col.n_values == 4 and col.n_missing == 1
    assert col.missing_ratio == pytest.approx(0.2)
    assert col.distinct == 3 and col.distinct_ratio == pytest.approx(3 / 4)
    # H = -(0.4 log2 0.4 + 3 * 0.2 log2 0.2): missing counts as one value
    assert col.entropy_bits == pytest.approx(1.9219280948873623)
    # b, c and the single missing record each occur once: 3 of 5 records are unique
    assert col.unique_share == pytest.approx(0.6)
    assert col.length_range == (1, 1)


def test_constant_and_empty_columns() -> None:
    frame = pd.DataFrame({"k": ["x"] * 4, "e": pd.Series([None] * 4, dtype="str")})
    prof = profile(frame)
    assert prof["k"].entropy_bits == 0.0 and prof["k"].unique_share == 0.0
    assert prof["e"].distinct == 0 and prof["e"].missing_ratio == 1.0
    assert prof["e"].distinct_ratio == 0.0 and prof["e"].entropy_bits == 0.0
    assert prof.roles["k"].role is Role.OTHER and "constant" in prof.roles["k"].reason
    assert prof.roles["e"].role is Role.OTHER and "missing" in prof.roles["e"].reason


def _reference(values: list) -> tuple[int, float, float, float]:
    """Slow, obvious definitions: distinct, missing ratio, entropy (bits), unique share."""
    n = len(values)
    keys = ["<missing>" if v is None else ("v", v) for v in values]
    counts = Counter(keys)
    distinct = len([k for k in counts if k != "<missing>"])
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    unique = sum(1 for k in keys if counts[k] == 1) / n
    return distinct, values.count(None) / n, entropy, unique


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "", " "])),
        min_size=1,
        max_size=40,
    )
)
def test_measures_match_reference_on_random_columns(values: list) -> None:
    frame = pd.DataFrame({"x": pd.Series(values, dtype="str")})
    col = profile(frame, suggest=False)["x"]
    distinct, missing, entropy, unique = _reference(values)
    assert col.distinct == distinct
    assert col.missing_ratio == pytest.approx(missing)
    assert col.entropy_bits == pytest.approx(entropy, abs=1e-9)
    assert col.unique_share == pytest.approx(unique)


def test_lazy_and_eager_profiles_agree() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "cat": pd.Series(rng.choice(["x", "y", "z", None], 500), dtype="str"),
            "num": rng.integers(0, 40, 500),
            "dob": [
                f"{d:02d}/{m:02d}/19{y:02d}"
                for d, m, y in zip(
                    rng.integers(1, 29, 500),
                    rng.integers(1, 13, 500),
                    rng.integers(30, 99, 500),
                    strict=True,
                )
            ],
        }
    )
    eager = profile(frame)
    con = duckdb.connect()
    con.register("f", frame)
    lazy = profile(con.sql("SELECT * FROM f"))
    for a, b in zip(eager.columns, lazy.columns, strict=True):
        assert (a.kind, a.distinct, a.n_missing, a.date_format) == (
            b.kind,
            b.distinct,
            b.n_missing,
            b.date_format,
        )
        assert a.entropy_bits == pytest.approx(b.entropy_bits)
        assert a.unique_share == pytest.approx(b.unique_share)
        assert dict(a.patterns) == pytest.approx(dict(b.patterns))
    assert eager.roles.role_map == lazy.roles.role_map


# --------------------------------------------------------------------------------------------
# kinds, dates and patterns


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (list(range(17, 90)) * 2, ColumnKind.NUMERIC),
        ([1.5, 2.25, 3.0] * 10, ColumnKind.NUMERIC),
        ([1, 2] * 20, ColumnKind.CATEGORICAL),  # a coded variable
        (["F", "M"] * 20, ColumnKind.CATEGORICAL),
        ([f"{d:02d}.03.1980" for d in range(1, 29)], ColumnKind.DATE),
        ([f"x{i:04d}" for i in range(40)], ColumnKind.ID_LIKE),
        (list(range(1000, 1040)), ColumnKind.ID_LIKE),  # a running number
        (
            [f"the patient said {i} things about the weather today" for i in range(20)],
            ColumnKind.FREE_TEXT,
        ),
        ([f"user{i}@x.org" for i in range(5)] * 4, ColumnKind.ID_LIKE),  # e-mails, repeated
        ([True, False] * 5, ColumnKind.CATEGORICAL),
    ],
)
def test_kinds(values: list, kind: ColumnKind) -> None:
    assert profile(pd.DataFrame({"v": values}), suggest=False)["v"].kind is kind


@pytest.mark.parametrize(
    ("values", "layout", "lo", "hi"),
    [
        (["17/05/1990", "02/01/1971", "30/12/2001"], "DD/MM/YYYY", "1971-01-02", "2001-12-30"),
        (["05/17/1990", "01/02/1971", "12/30/2001"], "MM/DD/YYYY", "1971-01-02", "2001-12-30"),
        (["1990-05-17", "1971-01-02"], "YYYY-MM-DD", "1971-01-02", "1990-05-17"),
        (["17.05.1990", "2.1.1971"], "DD.MM.YYYY", "1971-01-02", "1990-05-17"),
        (
            ["1990-05-17T10:00:00Z", "1971-01-02 08:30"],
            "YYYY-MM-DD hh:mm",
            "1971-01-02",
            "1990-05-17",
        ),
        (["1990-05", "1971-01"], "YYYY-MM", "1971-01", "1990-05"),
    ],
)
def test_date_layouts(values: list[str], layout: str, lo: str, hi: str) -> None:
    col = profile(pd.DataFrame({"d": values * 4}), suggest=False)["d"]
    assert col.kind is ColumnKind.DATE
    assert col.date_format == layout
    assert col.date_range == (lo, hi)


def test_impossible_dates_are_not_dates() -> None:
    col = profile(pd.DataFrame({"d": ["31/02/1990", "45/13/1990"] * 10}), suggest=False)["d"]
    assert col.kind is not ColumnKind.DATE and col.pattern("date") == 0


def test_checksums() -> None:
    assert _iban_ok("DE89370400440532013000") and _iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not _iban_ok("DE89370400440532013001")
    assert _luhn("4111111111111111") and not _luhn("4111111111111112")
    assert _steuer_id_ok("86095742719") and not _steuer_id_ok("86095742718")
    for ok in (
        "123-45-6789",
        "AB123456C",
        "12345678Z",
        "X1234567L",
        "111222333",
        "123456782",
        "2 55 08 14 168 025 38",
        "86095742719",
    ):
        assert _national_id(ok), ok
    for bad in (
        "000-12-3456",
        "666-12-3456",
        "QQ123456C",
        "12345678A",
        "X1234567T",
        "111222334",
        "255081416802539",
        "12345",
    ):
        assert not _national_id(bad), bad


def test_pattern_shares_are_weighted_by_records() -> None:
    values = ["a@b.org"] * 6 + ["not an address"] * 2 + ["c@d.com", "e@f.net"]
    col = profile(pd.DataFrame({"v": values}), suggest=False)["v"]
    assert col.pattern("email") == pytest.approx(0.8)


def test_shape_mask_examples() -> None:
    assert shape_mask("jane.doe@mail.org") == "aaaa.aaa@aaaa.aaa"
    assert shape_mask("AB 12-3c") == "AA 99-9a"
    assert shape_mask("Zoë Ünal") == "Aaa Aaaa"
    assert shape_mask("x" * 40) == "a" * 32 + "…"
    assert shape_mask("\u200bq\x07\U000f0000") == "?a??"  # format, control, private use
    assert shape_mask("\U00031350") in ("?", "a")  # unassigned in older Unicode: never echoed


_ASSIGNED = st.characters(blacklist_categories=("Cn", "Cs"))  # as far as this Python knows


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(_ASSIGNED, max_size=40), min_size=1, max_size=20))
def test_vectorized_masks_match_shape_mask(values: list[str]) -> None:
    assert _masks(pa.array(values, type=pa.string())) == [shape_mask(v) for v in values]


# --------------------------------------------------------------------------------------------
# redaction: no planted identifier may reach any rendering


def _planted_frame() -> tuple[pd.DataFrame, list[str]]:
    n = 60
    rng = np.random.default_rng(99)
    firsts = [
        "Benjamin",
        "Charlotte",
        "Katharina",
        "Sebastian",
        "Mathilde",
        "Joaquín",
        "Giuseppe",
        "Małgorzata",
        "Hendrika",
        "Mehmet",
    ]
    lasts = [
        "Schneider",
        "Fontaine",
        "Rodríguez",
        "Vermeulen",
        "Lewandowski",
        "Yıldırım",
        "Kowalczyk",
        "Hoffmann",
        "Gutiérrez",
        "Bernard",
    ]
    frame = pd.DataFrame(
        {
            "email": [f"zqx{i}.secret@mail{i}.example.org" for i in range(n)],
            "ssn": [f"{200 + i}-{10 + i}-{4000 + i}" for i in range(n)],
            "mobile": [f"+49 171 77{i:05d}" for i in range(n)],
            "given": [firsts[i % 10] for i in range(n)],
            "family": [lasts[(i * 3) % 10] for i in range(n)],
            "record": [f"QZR-{i:06d}-K" for i in range(n)],
            "seq": np.arange(910_001, 910_001 + n),
            "remarks": [
                f"zqmemo {i}: called about the bill and asked for a refund plan" for i in range(n)
            ],
            "handle": [f"zqh{i % 7}" for i in range(n)],  # marked DI by the user below
            "sex": rng.choice(["F", "M"], n),
            "rare": ["common"] * (n - 1) + ["zqsingleton"],  # a value seen once
        }
    )
    planted = (
        frame["email"].tolist()
        + frame["ssn"].tolist()
        + frame["mobile"].tolist()
        + firsts
        + lasts
        + frame["record"].tolist()
        + [str(x) for x in frame["seq"]]
        + frame["remarks"].tolist()
        + [f"zqh{i}" for i in range(7)]
        + ["zqsingleton"]
    )
    return frame, planted


@pytest.mark.parametrize("lazy", [False, True])
def test_planted_identifiers_never_reach_the_profile(lazy: bool, tmp_path: Path) -> None:
    frame, planted = _planted_frame()
    path = tmp_path / "planted.csv"
    frame.to_csv(path, index=False)
    ds = load(path, lazy=lazy)
    roles = RoleMap({c: Role.OTHER for c in frame.columns}).with_role("handle", "direct")
    prof = profile(ds, roles=roles)
    rendered = prof.to_text() + json.dumps(prof.to_dict(), ensure_ascii=False) + repr(prof)
    leaked = [v for v in planted if v in rendered]
    assert leaked == []
    for col in ("email", "ssn", "mobile", "given", "family", "record", "seq", "remarks", "handle"):
        c = prof[col]
        assert c.redacted, col
        assert c.top_values == () and c.numeric is None and c.date_range is None
    assert prof["email"].shapes  # shapes and counts remain
    assert prof["email"].shapes[0][0].count("@") == 1
    assert not prof["sex"].redacted and {v for v, _ in prof["sex"].top_values} == {"F", "M"}
    assert ("common", 59) in prof["rare"].top_values


def test_min_count_hides_rare_values() -> None:
    frame = pd.DataFrame({"x": ["a"] * 5 + ["b"] * 4 + ["c"]})
    assert profile(frame, min_count=5)["x"].top_values == (("a", 5),)
    assert profile(frame, min_count=1)["x"].top_values == (("a", 5), ("b", 4), ("c", 1))
    with pytest.raises(ParameterError, match="'min_count'"):
        profile(frame, min_count=0)


# --------------------------------------------------------------------------------------------
# adult


def test_adult_profile(adult_csv: Path) -> None:
    ds = load(adult_csv)
    prof = profile(ds)
    assert prof.n_rows == 30162 and prof.n_columns == 9
    assert prof["sex"].distinct == 2 and prof["race"].distinct == 5
    assert prof["age"].kind is ColumnKind.NUMERIC
    assert prof["age"].distinct == ds.data["age"].nunique()
    assert prof["age"].numeric.min == 17 and prof["age"].numeric.max == 90
    counts = ds.data["sex"].value_counts().to_numpy() / 30162
    assert prof["sex"].entropy_bits == pytest.approx(float(-(counts * np.log2(counts)).sum()))
    assert prof["sex"].unique_share == 0.0 and prof["sex"].missing_ratio == 0.0
    assert all(c.kind is ColumnKind.CATEGORICAL for c in prof.columns if c.name != "age")
    assert not any(c.redacted for c in prof.columns)
    assert prof.roles.role_map.sensitive == ("salary-class",)
    doc = json.loads(json.dumps(prof.to_dict(), allow_nan=False))
    assert doc["dataset"]["n_rows"] == 30162
    assert doc["dataset"]["sha256"] == ds.sha256
    assert doc["dataset"]["load_options"]["delimiter"] == ";"
    assert [c["name"] for c in doc["columns"]] == ds.columns
    text = prof.to_text()
    assert "salary-class" in text and "30,162 rows x 9 columns" in text


def test_profile_api_edges() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    prof = profile(frame, columns=["b"])
    assert [c.name for c in prof.columns] == ["b"]
    with pytest.raises(ColumnNotFoundError, match="'zz' not found"):
        profile(frame, columns=["zz"])
    with pytest.raises(ColumnNotFoundError):
        prof.column("a")
    assert isinstance(prof, DatasetProfile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prof.n_rows = 5  # type: ignore[misc]
    assert profile(Dataset.from_frame(frame), suggest=False).roles is None
    import polars as pl

    assert profile(pl.DataFrame({"a": [1, 2, 3]}))["a"].distinct == 3


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_profile_table_and_json(
    adult_csv: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = (adult_csv.read_bytes(), os.stat(adult_csv).st_mtime_ns)
    assert main(["profile", str(adult_csv)]) == 0
    out = capsys.readouterr().out
    assert "suggested role" in out and "quasi_identifier" in out and "native-country" in out
    roles_out = tmp_path / "roles.json"
    assert main(["profile", str(adult_csv), "--json", "--roles-out", str(roles_out)]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["dataset"]["n_rows"] == 30162
    assert doc["roles"]["role_map"]["columns"]["salary-class"] == "sensitive"
    assert RoleMap.load(roles_out).sensitive == ("salary-class",)
    assert "wrote role map" in captured.err
    assert (adult_csv.read_bytes(), os.stat(adult_csv).st_mtime_ns) == before


def test_cli_profile_with_user_roles_and_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_bytes("id;wert;note\r\n1;NA;a\r\n2;7;b\r\n".encode("latin-1"))
    roles = tmp_path / "mine.json"
    RoleMap({"note": "sensitive"}).save(roles)
    code = main(
        [
            "profile",
            str(data),
            "--delimiter",
            ";",
            "--encoding",
            "latin-1",
            "--missing",
            "",
            "--missing",
            "NA",
            "--roles",
            str(roles),
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["roles"]["role_map"]["columns"]["note"] == "sensitive"
    assert doc["roles"]["overrides"] == {"columns": {"note": "sensitive"}}
    wert = next(c for c in doc["columns"] if c["name"] == "wert")
    assert wert["n_missing"] == 1 and wert["storage_type"] == "Int64"
    assert main(["profile", str(data), "--roles", str(roles), "--brief"]) == 0
    assert "Your role decisions (from --roles): note: sensitive" in capsys.readouterr().out


def test_cli_profile_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n3\n")
    assert main(["profile", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, line 3: expected 2 fields" in err
    assert bad.read_bytes() == b"a,b\n1,2\n3\n"
    out = tmp_path / "o.json"
    assert main(["profile", str(tmp_path / "missing.csv"), "--roles-out", str(out)]) == 2
    assert not out.exists()
    roles = tmp_path / "r.json"
    RoleMap({"zz": "qi"}).save(roles)
    good = tmp_path / "g.csv"
    good.write_bytes(b"a\n1\n")
    assert main(["profile", str(good), "--roles", str(roles)]) == 2
    assert "'zz' not found" in capsys.readouterr().err


def test_cli_profile_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "v.csv").write_bytes(b"zip,sex\n02138,F\n02139,M\n02138,M\n")
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "SELECT zip FROM 'v.csv' WHERE zip = '02138'", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dataset"]["source"] == "SQL query" and doc["dataset"]["n_rows"] == 2
    assert "query" not in doc["dataset"]["load_options"]  # the query text may hold values
