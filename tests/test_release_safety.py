"""Releases never carry direct identifiers (issue #10, part 1; issue #11's double HMAC).

Regression tests: ``workbench anonymize --output`` wrote names, e-mails, SSNs and phone numbers
verbatim; ``workbench check`` passed a file holding ``visit_id``; the sample generator accepted a
5-byte key and wrote 64 hex characters while the transform wanted 16 bytes and wrote 16; CSV
outputs carried spreadsheet formulas as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench._io import FORMULA_PREFIXES, escape_formula, write_table
from workbench.cli import main
from workbench.deid.pseudonym import MIN_KEY_BYTES, load_pseudonym_key, pseudonymize_values
from workbench.deid.release import DirectIdentifierWarning, prepare_release, write_release
from workbench.deid.transforms import Pipeline, Pseudonymize
from workbench.errors import KeyMissingError, ParameterError
from workbench.governance import Policy, gate
from workbench.governance.provenance import ProvenanceLog
from workbench.profiling.roles import RoleMap, find_direct_identifiers, suggest_roles
from workbench.samples import city

ENV = "WORKBENCH_PSEUDONYM_KEY"
KEY = "release-test-key-0123456789"  # 27 bytes
FILE_KEY = "file-key-abcdefghijklmnop"  # 25 bytes

FIRST = ["Mary", "John", "Linda", "James", "Susan", "Robert", "Karen", "David", "Nancy", "Paul"]
LAST = ["Smith", "Jones", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Clark", "Hall"]


def planted(n: int = 40) -> pd.DataFrame:
    """Records with planted direct identifiers next to generalizable quasi-identifiers."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "visit_id": f"V{900000 + i}",
                "full_name": f"{FIRST[i % 10]} {LAST[(i * 3) % 10]}",
                "email": f"{FIRST[i % 10].lower()}.{i}@example.org",
                "ssn": f"{123 + i:03d}-{45 + i % 40:02d}-{6789 + i:04d}",
                "phone": f"+1 555 01{i:02d} {1000 + i}",
                "age": 20 + (i % 4) * 10,
                "sex": "F" if i % 2 else "M",
                "diagnosis": ["flu", "asthma", "diabetes"][i % 3],
            }
        )
    return pd.DataFrame(rows)


pytestmark = pytest.mark.usefixtures("isolated")  # logs in tmp_path, which is also the cwd

IDENTIFIERS = ("visit_id", "full_name", "email", "ssn", "phone")


def planted_values(frame: pd.DataFrame) -> list[str]:
    return [str(v) for c in IDENTIFIERS for v in frame[c]]


@pytest.fixture
def planted_csv(tmp_path: Path) -> Path:
    path = tmp_path / "patients.csv"
    planted().to_csv(path, index=False)
    return path


def anonymize_argv(src: Path, out: str, *extra: str) -> list[str]:
    return ["anonymize", str(src), "--qi", "age,sex", "--k", "2", "--output", out, *extra]


# --------------------------------------------------------------------------- anonymize: drop
def test_anonymize_drops_planted_identifiers_by_default(planted_csv, tmp_path, capsys):
    assert main([*anonymize_argv(planted_csv, "anon.csv"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    data = (tmp_path / "anon.csv").read_bytes().decode()
    leaked = [v for v in planted_values(planted()) if v in data]
    assert leaked == []
    assert doc["direct_identifiers"]["mode"] == "drop"
    assert doc["direct_identifiers"]["dropped"] == list(IDENTIFIERS)
    out = pd.read_csv(tmp_path / "anon.csv")
    assert list(out.columns) == ["age", "sex", "diagnosis"] and len(out) == 40
    # provenance records the mode and what was dropped, never a value
    rec = ProvenanceLog().records()[-1]
    assert rec["parameters"]["direct_identifiers"] == "drop"
    assert rec["parameters"]["release"]["dropped"] == list(IDENTIFIERS)
    assert not [v for v in planted_values(planted()) if v in json.dumps(rec)]


def test_declared_roles_decide_names_but_never_hide_identifier_values(planted_csv, tmp_path):
    frame = planted()
    frame["contact"] = frame.pop("email")  # a neutral name: only the values give it away
    frame.to_csv(planted_csv, index=False)
    roles = {
        "direct_identifiers": ["full_name"],
        "quasi_identifiers": ["age", "sex"],
        "sensitive": ["diagnosis"],
        "other": ["contact"],  # wrong: the values are e-mail addresses
    }
    (tmp_path / "roles.json").write_text(json.dumps(roles))
    assert main([*anonymize_argv(planted_csv, "anon.csv"), "--roles", "roles.json"]) == 0
    out = pd.read_csv(tmp_path / "anon.csv")
    # full_name (declared), contact (values), and visit_id/ssn/phone (not in the role map:
    # suggested) are gone
    assert list(out.columns) == ["age", "sex", "diagnosis"]
    found = {d.column: d.source for d in find_direct_identifiers(frame, RoleMap.from_dict(roles))}
    assert found == {
        "visit_id": "suggested",
        "full_name": "role map",
        "ssn": "suggested",
        "phone": "suggested",
        "contact": "values",
    }


# -------------------------------------------------------------------- anonymize: pseudonymize
def test_anonymize_pseudonymize_is_the_keyed_hmac_truncated_to_16(
    planted_csv, tmp_path, capsys, monkeypatch
):
    frame = planted()
    frame.loc[3, "email"] = None  # a missing value stays missing
    frame.to_csv(planted_csv, index=False)
    monkeypatch.setenv(ENV, KEY)
    argv = anonymize_argv(planted_csv, "anon.csv", "--direct-identifiers", "pseudonymize")
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["direct_identifiers"]["pseudonymized"] == {c: f"{c}_pseudonym" for c in IDENTIFIERS}
    assert doc["direct_identifiers"]["key_source"] == f"env:{ENV}"
    out = pd.read_csv(tmp_path / "anon.csv", dtype=str, keep_default_na=False)
    for col in IDENTIFIERS:
        expected = [
            ""
            if pd.isna(v)
            else hmac.new(KEY.encode(), str(v).encode(), hashlib.sha256).hexdigest()[:16]
            for v in frame[col]
        ]
        assert out[f"{col}_pseudonym"].tolist() == expected
    assert out.loc[3, "email_pseudonym"] == ""
    text = (tmp_path / "anon.csv").read_text()
    assert not [v for v in planted_values(frame.fillna("")) if v and v in text]
    prov = (tmp_path / "prov.jsonl").read_text()
    assert KEY not in prov and '"pseudonymize"' in prov
    # the pseudonymized release passes the gate's direct-identifier rule
    res = gate(tmp_path / "anon.csv", policy=Policy.from_dict(policy_doc()), record=False)
    assert {f.rule: f.status for f in res.findings}["direct_identifier_present"] == "pass"


def test_pseudonymize_without_a_key_fails_before_writing(planted_csv, tmp_path, capsys):
    argv = anonymize_argv(planted_csv, "anon.csv", "--direct-identifiers", "pseudonymize")
    assert main(argv) == 2
    assert ENV in capsys.readouterr().err
    assert not (tmp_path / "anon.csv").exists()


# ---------------------------------------------------------------------- keep: recorded, flagged
def test_keep_is_explicit_recorded_and_fails_check(planted_csv, tmp_path, capsys):
    argv = anonymize_argv(planted_csv, "kept.csv", "--direct-identifiers", "keep")
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "warning: direct identifiers kept" in captured.err
    assert "KEPT visit_id" in captured.out
    rec = ProvenanceLog().records()[-1]
    assert rec["parameters"]["direct_identifiers"] == "keep"
    assert rec["parameters"]["release"]["kept"] == list(IDENTIFIERS)
    Policy.from_dict(policy_doc()).save(tmp_path / "policy.yaml")
    code = main(["check", "kept.csv", "--policy", "policy.yaml", "--qi", "age,sex", "--json"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    finding = next(f for f in doc["findings"] if f["rule"] == "direct_identifier_present")
    assert finding["status"] == "fail" and finding["measured"] == list(IDENTIFIERS)
    assert not [v for v in planted_values(planted()) if v in json.dumps(doc)]


def test_keep_warns_in_the_core():
    with pytest.warns(DirectIdentifierWarning, match="visit_id"):
        frame, report = prepare_release(planted(), "keep")
    assert list(frame.columns) == list(planted().columns) and report.kept == IDENTIFIERS


def test_unknown_mode_is_refused():
    with pytest.raises(ParameterError, match="drop, pseudonymize, keep"):
        prepare_release(planted(), "hide")


# ------------------------------------------------------------------------------------- check
def gate_frame(extra: dict[str, list[str]]) -> pd.DataFrame:
    """Two classes of 10 with three diagnoses each: passes every threshold of policy_doc()."""
    frame = pd.DataFrame(
        {
            "age_band": ["30-39"] * 10 + ["40-49"] * 10,
            "diagnosis": ["flu", "asthma", "diabetes", "flu", "asthma"] * 4,
        }
    )
    for col, values in extra.items():
        frame[col] = values
    return frame


def hexkeys(n: int = 20) -> list[str]:
    return pseudonymize_values([f"R{i:06d}" for i in range(n)], KEY.encode())


@pytest.mark.parametrize(
    ("extra", "code", "flagged"),
    [
        ({"visit_id": [f"V{531031681 + 7 * i}" for i in range(20)]}, 1, ["visit_id"]),
        ({"contact": [f"user{i}@mail.example.com" for i in range(20)]}, 1, ["contact"]),
        ({"tel": [f"+44 20 7946 {i:04d}" for i in range(20)]}, 1, ["tel"]),
        ({"ref": [f"{200 + i}-{10 + i}-{3000 + i}" for i in range(20)]}, 1, ["ref"]),
        (
            {"who": [f"{FIRST[i % 10]} {LAST[i // 2]}" for i in range(20)]},
            1,
            ["who"],
        ),
        ({"person_key": hexkeys()}, 0, []),
        ({"person_key": [f"p{i:03d}" for i in range(20)]}, 1, ["person_key"]),  # not a digest
        ({}, 0, []),
    ],
    ids=["record-id", "emails", "phones", "ssns", "names", "pseudonym", "fake-pseudonym", "none"],
)
def test_check_fails_on_direct_identifiers(tmp_path, capsys, extra, code, flagged):
    gate_frame(extra).to_csv(tmp_path / "release.csv", index=False)
    Policy.from_dict(policy_doc()).save(tmp_path / "policy.yaml")
    argv = ["check", "release.csv", "--policy", "policy.yaml", "--qi", "age_band", "--json"]
    argv += ["--sensitive", "diagnosis"]
    assert main(argv) == code
    doc = json.loads(capsys.readouterr().out)
    finding = next(f for f in doc["findings"] if f["rule"] == "direct_identifier_present")
    assert finding["measured"] == flagged
    assert finding["status"] == ("fail" if flagged else "pass")
    for values in extra.values():  # names and reasons only, never a value
        assert not [v for v in values if v in json.dumps(doc)]


def test_check_roles_file_can_declare_a_record_id(tmp_path, capsys):
    frame = gate_frame({"batch": ["b1", "b2"] * 10})  # not unique: no suggestion flags it
    frame.to_csv(tmp_path / "release.csv", index=False)
    Policy.from_dict(policy_doc()).save(tmp_path / "policy.yaml")
    roles = {
        "direct_identifiers": ["batch"],
        "quasi_identifiers": ["age_band"],
        "sensitive": ["diagnosis"],
    }
    (tmp_path / "roles.json").write_text(json.dumps(roles))
    base = ["check", "release.csv", "--policy", "policy.yaml"]
    assert main([*base, "--qi", "age_band", "--sensitive", "diagnosis"]) == 0
    assert main([*base, "--roles", "roles.json"]) == 1
    assert "direct_identifier_present" in capsys.readouterr().out


def test_role_suggestions_record_ids_and_pseudonyms():
    frame = pd.DataFrame(
        {
            "visit_id": [f"V{i:09d}" for i in range(30)],
            "person_key": hexkeys(30),
            "email_pseudonym": hexkeys(30),
            "patient_key": [f"P{i}" for i in range(30)],
        }
    )
    roles = suggest_roles(frame).role_map
    assert roles.direct_identifiers == ("visit_id", "patient_key")
    assert roles.other == ("person_key", "email_pseudonym")


# ---------------------------------------------------------------------------------- escaping
TEXT = "cmd|' /C calc'!A0"


LEADS = ["=", "+", "-", "@", "\t", "\r"]  # OWASP "CSV injection", written out on purpose


def test_the_escaped_leading_characters():
    assert sorted(FORMULA_PREFIXES) == sorted(LEADS)


@pytest.mark.parametrize("lead", LEADS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_cells_are_escaped(tmp_path, lead, suffix):
    frame = pd.DataFrame({"note": [lead + TEXT, "plain", None], "n": [-5, 3, 7]})
    path = write_table(tmp_path / f"out{suffix}", frame)
    if suffix == ".csv":
        got = pd.read_csv(path, dtype={"note": str}, keep_default_na=False)
        assert got["note"].tolist()[1:] == ["plain", ""]
        note = got["note"][0]
        assert got["n"].tolist() == [-5, 3, 7]
    else:
        ws = openpyxl.load_workbook(path).active
        cells = [[c.value for c in row] for row in ws.iter_rows()]
        note = cells[1][0]
        assert cells[1][1] == -5
        assert all(ws.cell(r, 1).data_type != "f" for r in range(1, ws.max_row + 1))
    # a reader may turn the carriage return into a newline; the apostrophe comes first
    assert note[0] == "'" and note[2:] == TEXT and note[1] in (lead, "\n")
    assert frame["note"][0] == lead + TEXT  # the caller's frame is not changed


@pytest.mark.parametrize("value", ["-5", "+3", "-0.25", "+1e3", "safe", "a=b", "", "1-2"])
def test_numbers_and_ordinary_text_are_not_escaped(value):
    assert escape_formula(value) == value


@pytest.mark.parametrize("value", ["-5 + cmd", "=1", "+A1", "@SUM(A1)", "-x", "\t=1", "\r=1"])
def test_formula_text_is_escaped(value):
    assert escape_formula(value) == "'" + value


def test_numeric_cells_and_headers(tmp_path):
    frame = pd.DataFrame({"=col": [-1.5, -2.0], "t": ["-5", "=2"]})
    write_table(tmp_path / "o.csv", frame)
    assert (tmp_path / "o.csv").read_text() == "'=col,t\n-1.5,-5\n-2.0,'=2\n"


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_escaping_keeps_every_value_whatever_the_text_dtype(tmp_path, dtype):
    frame = pd.DataFrame({"t": pd.Series(["=a", "b", None, "=a"], dtype=dtype)})
    write_table(tmp_path / "o.csv", frame)
    # (a missing value in a one-column CSV is written as "" so the row is not a blank line)
    assert (tmp_path / "o.csv").read_text() == "t\n'=a\nb\n\"\"\n'=a\n"


def test_anonymize_output_escapes_planted_formula(planted_csv, tmp_path):
    frame = planted()
    frame["diagnosis"] = ['=HYPERLINK("http://x")', "asthma", "flu", "@cmd"] * 10
    frame.to_csv(planted_csv, index=False)
    assert main(anonymize_argv(planted_csv, "anon.csv")) == 0
    text = (tmp_path / "anon.csv").read_text()
    assert "\n=" not in text and ",=" not in text and ",@" not in text
    assert "'=HYPERLINK" in text and ",'@cmd" in text


# --------------------------------------------------------------------------------------- keys
def hmac16(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def test_key_length_limit_exactly(monkeypatch):
    monkeypatch.setenv(ENV, "k" * (MIN_KEY_BYTES - 1))
    with pytest.raises(ParameterError, match="16 bytes") as info:
        load_pseudonym_key()
    assert "k" * 15 not in str(info.value)
    monkeypatch.setenv(ENV, "k" * MIN_KEY_BYTES)
    assert load_pseudonym_key() == (b"k" * 16, f"env:{ENV}")
    with pytest.raises(ParameterError, match="16 bytes"):
        pseudonymize_values(["x"], b"k" * 15)
    assert pseudonymize_values(["x"], b"k" * 16) == [hmac16("k" * 16, "x")]


def _via_load(key_file):
    return pseudonymize_values(["R000001"], load_pseudonym_key(key_file=key_file)[0])[0]


def _via_transform(key_file):
    frame = pd.DataFrame({"rid": ["R000001"]})
    t = Pseudonymize(("rid",), key_file=None if key_file is None else str(key_file))
    return t.apply(frame).data["rid"][0]


def _via_release(key_file):
    frame = pd.DataFrame({"patient_id": ["R000001"], "x": ["a"]})
    out, _ = prepare_release(frame, "pseudonymize", key_file=key_file)
    return out["patient_id_pseudonym"][0]


def _via_pipeline(key_file):
    frame = pd.DataFrame({"rid": ["R000001"], "x": ["a"]})
    t = Pseudonymize(("rid",), key_file=None if key_file is None else str(key_file))
    return Pipeline((t,)).apply(frame).data["rid"][0]


CALLERS = {
    "load_pseudonym_key": _via_load,
    "transform": _via_transform,
    "release": _via_release,
    "pipeline": _via_pipeline,
}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_key_file_wins_over_the_environment_in_every_caller(caller, tmp_path, monkeypatch):
    via = CALLERS[caller]
    key_file = tmp_path / "dept.key"
    key_file.write_text(FILE_KEY + "\n")
    monkeypatch.setenv(ENV, KEY)
    assert via(None) == hmac16(KEY, "R000001")
    assert via(key_file) == hmac16(FILE_KEY, "R000001")
    monkeypatch.delenv(ENV)
    assert via(key_file) == hmac16(FILE_KEY, "R000001")
    with pytest.raises(KeyMissingError, match=ENV):
        via(None)
    with pytest.raises(KeyMissingError, match="does not exist"):
        monkeypatch.setenv(ENV, KEY)  # a named but missing file never falls back
        via(tmp_path / "missing.key")
    key_file.write_text("k" * 15)
    with pytest.raises(ParameterError, match="16 bytes"):
        via(key_file)
    key_file.write_text("k" * 16)
    assert via(key_file) == hmac16("k" * 16, "R000001")


def encrypted_at_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """An encryption key in the environment: the city's clinic policy requires it."""
    from workbench._crypto import ENCRYPTION_KEY_ENV, generate_key_text

    monkeypatch.setenv(ENCRYPTION_KEY_ENV, generate_key_text())


def read_encrypted(path: Path) -> pd.DataFrame:
    from workbench._crypto import MAGIC
    from workbench.loading.readers import load

    assert path.read_bytes().startswith(MAGIC)
    return load(path, infer_types=False).data


def test_city_export_uses_the_same_key_rule(tmp_path, monkeypatch):
    rid = city.read_ground_truth("clinic")["resident_id"][0]
    key_file = tmp_path / "dept.key"
    key_file.write_text(FILE_KEY + "\n")
    monkeypatch.setenv(ENV, KEY)

    encrypted_at_rest(monkeypatch)  # clinic's policy (issue #17)

    def first_key(**kw):
        path = city.export("clinic", tmp_path / "c.csv", pseudonym=True, **kw)
        return read_encrypted(path)["person_key"][0]

    assert first_key() == hmac16(KEY, rid)
    assert first_key(key_file=key_file) == hmac16(FILE_KEY, rid)
    monkeypatch.setenv(ENV, "k" * 15)  # the 5-byte keys of 0.1 are refused
    with pytest.raises(ParameterError, match="16 bytes"):
        first_key()
    monkeypatch.setenv(ENV, "k" * 16)
    assert first_key() == hmac16("k" * 16, rid)


def test_cli_key_file_wins_in_anonymize(planted_csv, tmp_path, monkeypatch):
    (tmp_path / "dept.key").write_text(FILE_KEY)
    monkeypatch.setenv(ENV, KEY)
    argv = anonymize_argv(planted_csv, "anon.csv", "--direct-identifiers", "pseudonymize")
    assert main([*argv, "--key-file", "dept.key"]) == 0
    out = pd.read_csv(tmp_path / "anon.csv", dtype=str)
    assert out["visit_id_pseudonym"][0] == hmac16(FILE_KEY, "V900000")
    (tmp_path / "dept.key").write_text("k" * 15)
    assert main([*argv, "--key-file", "dept.key"]) == 2


# -------------------------------------------------------------------------- samples export
def test_samples_export_drops_record_ids_and_names(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    assert main(["samples", "export", "voters", "--out", "v.csv", "--pseudonym", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["direct_identifiers"]["dropped"] == ["voter_id", "first_name", "last_name"]
    out = pd.read_csv(tmp_path / "v.csv", dtype=str)
    assert list(out.columns) == ["person_key", "dob", "sex", "postal_code"]
    assert out["person_key"].str.fullmatch(r"[0-9a-f]{16}").all()
    rec = ProvenanceLog().records()[-1]
    assert rec["operation"] == "samples-export"
    assert rec["parameters"]["direct_identifiers"] == "drop"
    assert KEY not in (tmp_path / "prov.jsonl").read_text()
    # the release passes the direct-identifier rule; the scoring file with --truth does not
    res = gate(tmp_path / "v.csv", policy=Policy.from_dict(policy_doc()), qis=["sex"], record=False)
    assert {f.rule: f.measured for f in res.findings}["direct_identifier_present"] == []
    assert main(["samples", "export", "voters", "--out", "t.csv", "--truth"]) == 0
    assert "KEPT resident_id, voter_id, first_name, last_name" in capsys.readouterr().out
    assert ProvenanceLog().records()[-1]["parameters"]["direct_identifiers"] == "keep"
    res = gate(tmp_path / "t.csv", policy=Policy.from_dict(policy_doc()), qis=["sex"], record=False)
    found = {f.rule: f.measured for f in res.findings}["direct_identifier_present"]
    assert found == ["resident_id", "voter_id", "first_name", "last_name"]


def test_samples_export_truth_requires_keep(tmp_path, capsys):
    argv = ["samples", "export", "clinic", "--out", "c.csv", "--truth"]
    assert main([*argv, "--direct-identifiers", "drop"]) == 2
    assert "keep with truth" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()


def test_samples_export_pseudonymize_mode(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    encrypted_at_rest(monkeypatch)  # clinic's policy (issue #17)
    path = city.export("clinic", tmp_path / "c.csv", direct_identifiers="pseudonymize")
    out = read_encrypted(path)
    source = pd.read_csv(city._source_dir(None) / "clinic_visits.csv", dtype=str)
    assert out.columns[0] == "visit_id_pseudonym"
    assert out["visit_id_pseudonym"].tolist() == [hmac16(KEY, v) for v in source["visit_id"]]


# --------------------------------------------------------------------------------- pipeline
def test_pipeline_write_renames_pseudonyms_and_drops_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    frame = planted()
    result = Pipeline((Pseudonymize(("full_name",)),)).apply(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = result.write(tmp_path / "p.csv")
    out = pd.read_csv(tmp_path / "p.csv", dtype=str)
    assert report.dropped == ("visit_id", "email", "ssn", "phone")
    assert list(out.columns) == ["full_name_pseudonym", "age", "sex", "diagnosis"]
    assert out["full_name_pseudonym"][0] == hmac16(KEY, frame["full_name"][0])
    assert not [v for v in planted_values(frame) if v in (tmp_path / "p.csv").read_text()]


def test_write_release_parquet_is_not_escaped_but_identifiers_go(tmp_path):
    frame = planted()
    frame["diagnosis"] = "=1+1"
    report = write_release(frame, tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert report.dropped == IDENTIFIERS and list(back.columns) == ["age", "sex", "diagnosis"]
    assert (back["diagnosis"] == "=1+1").all()  # typed format: nothing evaluates it


# ------------------------------------------------------------------------- one implementation
WORKBENCH = Path(__file__).resolve().parents[1] / "workbench"


def _sources_with(needle: str) -> set[str]:
    return {
        str(p.relative_to(WORKBENCH))
        for p in WORKBENCH.rglob("*.py")
        if needle in p.read_text(encoding="utf-8")
    }


def test_one_hmac_and_one_table_writer():
    """Issue #11: HMAC pseudonymization existed twice (the sample generator's and the
    transform's); record-level tables were written by each caller with its own ``to_csv``."""
    assert _sources_with("hmac.new(") == {"deid/pseudonym.py"}
    for writer in (".to_excel(", ".to_parquet("):
        assert _sources_with(writer) == {"_io.py"}
    # per-record risk scores go through write_table too since issue #17: under a policy with
    # encryption_at_rest they are encrypted like every other table
    assert _sources_with(".to_csv(") == {"_io.py"}


def test_check_without_a_policy_still_fails_on_direct_identifiers(tmp_path, capsys):
    """`workbench check FILE` with no policy: a file holding visit_id fails (exit 1); a clean
    file still needs a policy to pass (exit 2, as before)."""
    from workbench.cli import main

    dirty = tmp_path / "anon.csv"
    pd.DataFrame({"visit_id": [f"V{i:06d}" for i in range(50)], "sex": ["f", "m"] * 25}).to_csv(
        dirty, index=False
    )
    assert main(["check", str(dirty), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"][0]["rule"] == "direct_identifier_present"
    assert doc["findings"][0]["columns"] == ["visit_id"]
    assert "V000001" not in json.dumps(doc)
    clean = tmp_path / "clean.csv"
    pd.DataFrame({"age_band": ["20-29", "30-39"] * 25, "sex": ["f", "m"] * 25}).to_csv(
        clean, index=False
    )
    assert main(["check", str(clean), "--json"]) == 2
    assert "no policy in force" in capsys.readouterr().err
