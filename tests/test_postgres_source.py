"""PostgreSQL as a source, against a real server started for this module (never a mock).

The server is Debian's ``postgresql`` package (installed by ``.ci/setup.sh test``): a throwaway
cluster in a temporary directory on a free port, password authentication, stopped and removed
when the module ends. The city samples are loaded into it; every figure read through PostgreSQL
must equal the figure DuckDB computes from the same CSV.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import workbench as wb
from tests._pgserver import ServerMissing, throwaway_server
from workbench.cli import main as cli_main
from workbench.errors import InputLimitError, LoadError, ParameterError, SqlSandboxError
from workbench.loading import limits
from workbench.loading.postgres import check_query, check_table_name, is_database_url, redact_url

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
QIS = ["sex", "postal_code", "patient_dob"]


_PG_TYPES = {"BIGINT": "bigint", "DOUBLE": "double precision", "VARCHAR": "text", "DATE": "date"}


def _load_table(conn, name: str, csv: Path, typed: bool) -> None:
    """Copy a CSV into a table, typed as DuckDB types it (or all text)."""
    import duckdb

    if typed:  # the workbench's own types (codes stay text), so both sides compare equal
        rel = wb.load(csv, lazy=True).data
    else:
        rel = duckdb.sql(f"SELECT * FROM read_csv('{csv}', all_varchar=true)")
    cols = ", ".join(
        f'"{c}" {_PG_TYPES.get(str(t), "text")}'
        for c, t in zip(rel.columns, rel.types, strict=True)
    )
    conn.execute(f'CREATE TABLE "{name}" ({cols})')
    with conn.cursor().copy(f'COPY "{name}" FROM STDIN') as cp:
        for row in rel.fetchall():
            cp.write_row(row)


@pytest.fixture(scope="module")
def pg():
    """A running server with the city tables; yields (url_without_password, password)."""
    import psycopg

    server = throwaway_server()
    try:
        host, port, password = server.__enter__()
    except ServerMissing as exc:
        pytest.fail(str(exc))
    try:
        with psycopg.connect(
            host=host, port=port, user="wb", password=password, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE city")
        with psycopg.connect(
            host=host, port=port, user="wb", password=password, dbname="city", autocommit=True
        ) as conn:
            _load_table(conn, "clinic", CITY / "clinic_visits.csv", typed=True)
            _load_table(conn, "clinic_text", CITY / "clinic_visits.csv", typed=False)
            conn.execute("CREATE SCHEMA health")
            conn.execute("CREATE TABLE health.housing AS SELECT 1 AS x")
            _load_table(conn, "housing", CITY / "housing_assistance.csv", typed=True)
        yield f"postgresql://wb@{host}:{port}/city", password
    finally:
        server.__exit__(None, None, None)


@pytest.fixture()
def pgenv(pg, monkeypatch):
    """The password where libpq reads it (PGPASSWORD), as users are told to pass it."""
    url, password = pg
    monkeypatch.setenv("PGPASSWORD", password)
    return url, password


def _csv(name="clinic_visits.csv", **kw):
    return wb.load(CITY / name, **kw)


def _same_profile(a, b) -> None:
    assert a.records == b.records
    assert a.classes == b.classes
    assert a.sample_uniques == b.sample_uniques
    assert dict(a.class_size_histogram) == dict(b.class_size_histogram)
    assert a.prosecutor == b.prosecutor
    assert a.journalist == b.journalist
    assert a.marketer == pytest.approx(b.marketer, rel=1e-9)


# -- pure checks (no server) ----------------------------------------------------------------


def test_url_detection_and_redaction():
    assert is_database_url("postgresql://u@h/db?table=t")
    assert is_database_url("postgres://u@h/db?table=t")
    assert not is_database_url("data/postgresql.csv")
    assert not is_database_url("SELECT 1")
    red = redact_url(
        "postgresql://ann:hunter2-secret@db.city:5433/health?table=s.t&sslmode=require"
    )
    assert "hunter2" not in red
    assert red == "postgresql://ann@db.city:5433/health?table=s.t&sslmode=require"
    red = redact_url("postgresql://ann@h/db?query=SELECT%20*%20FROM%20t%20WHERE%20name%3D%27Ann%27")
    assert "Ann'" not in red and "name" not in red and "query=<query>" in red
    assert "pw123" not in redact_url("postgresql://h/db?table=t&password=pw123")


@pytest.mark.parametrize("name", ["t", "s.t", "_x1", "a$b", "x" * 63])
def test_table_names_accepted(name):
    assert check_table_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["t; DROP TABLE t", 't"', "s.t.u", "1t", "", "t --", "x" * 64, "pg_read_file('/etc/passwd')"],
)
def test_table_names_refused(name):
    with pytest.raises(ParameterError) as err:
        check_table_name(name)
    assert name not in str(err.value) or name == ""


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM clinic",
        "WITH a AS (SELECT sex FROM clinic) SELECT sex, count(*) FROM a GROUP BY sex",
        "SELECT sex FROM clinic UNION SELECT sex FROM housing",
    ],
)
def test_queries_accepted(query):
    assert check_query(query) == query


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM clinic",
        "SELECT 1; DROP TABLE clinic",
        "INSERT INTO clinic SELECT * FROM clinic",
        "UPDATE clinic SET sex = 'x'",
        "CREATE TABLE x AS SELECT 1",
        "SELECT * INTO copy FROM clinic",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM clinic WHERE pg_sleep(10) IS NULL",
        "SELECT current_setting('data_directory')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT * FROM clinic FOR UPDATE",
        "",
    ],
)
def test_queries_refused(query):
    with pytest.raises(SqlSandboxError):
        check_query(query)


def test_query_length_limit_at_its_edge(monkeypatch):
    q = "SELECT sex FROM clinic"
    monkeypatch.setattr(limits, "SQL_MAX_CHARS", len(q))
    assert check_query(q) == q
    monkeypatch.setattr(limits, "SQL_MAX_CHARS", len(q) - 1)
    with pytest.raises(SqlSandboxError):
        check_query(q)


def test_url_needs_exactly_one_of_table_or_query():
    for url in ("postgresql://u@h/db", "postgresql://u@h/db?table=t&query=SELECT%201"):
        with pytest.raises(ParameterError):
            wb.load(url)
    with pytest.raises(ParameterError):
        wb.load("postgresql://u@h/db?table=t&application_name=x")


# -- against the server ---------------------------------------------------------------------


def test_load_is_lazy_and_counts_in_the_database(pgenv):
    url, password = pgenv
    ds = wb.load(f"{url}?table=clinic", department="Health")
    assert ds.is_lazy and ds.n_rows == _csv().n_rows
    assert ds.options["format"] == "postgresql" and ds.name == "clinic"
    assert password not in repr(ds) and password not in (ds.source or "")
    assert list(ds.columns) == list(_csv().columns)


def test_fingerprint_is_order_independent_and_content_sensitive(pgenv):
    url, _ = pgenv
    a = wb.load(f"{url}?table=clinic")
    b = wb.load(f"{url}?query=" + "SELECT%20*%20FROM%20clinic%20ORDER%20BY%20visit_id%20DESC")
    assert a.sha256 == b.sha256 and len(a.sha256) == 64
    c = wb.load(f"{url}?query=" + "SELECT%20*%20FROM%20clinic%20OFFSET%201")
    assert c.sha256 != a.sha256 and c.n_rows == a.n_rows - 1


@pytest.mark.parametrize(("table", "kw"), [("clinic", {}), ("clinic_text", {"infer_types": False})])
def test_assess_equals_duckdb_on_the_same_csv(pgenv, table, kw):
    url, _ = pgenv
    pg_risk = wb.assess(wb.load(f"{url}?table={table}"), QIS)
    duck_risk = wb.assess(_csv(lazy=True, **kw), QIS)
    _same_profile(pg_risk, duck_risk)


def test_assess_with_sensitive_attribute_equals_duckdb(pgenv):
    url, _ = pgenv
    pg_risk = wb.assess(wb.load(f"{url}?table=clinic"), QIS, sensitive=["diagnosis"])
    duck_risk = wb.assess(_csv(lazy=True), QIS, sensitive=["diagnosis"])
    _same_profile(pg_risk, duck_risk)
    assert json.dumps(pg_risk.l_diversity, default=str, sort_keys=True) == json.dumps(
        duck_risk.l_diversity, default=str, sort_keys=True
    )


def test_profile_equals_duckdb(pgenv):
    from workbench.profiling.profiler import _SAMPLE

    url, _ = pgenv
    p = wb.profile(wb.load(f"{url}?table=housing"))
    d = wb.profile(_csv("housing_assistance.csv", lazy=True))
    assert p.n_rows == d.n_rows
    exact = ("name", "kind", "n_values", "n_missing", "distinct", "unique_share", "length_range",
             "top_values", "date_range", "redacted")  # fmt: skip
    for a, b in zip(p.columns, d.columns, strict=True):
        assert [getattr(a, f) for f in exact] == [getattr(b, f) for f in exact], a.name
        assert a.entropy_bits == pytest.approx(b.entropy_bits, rel=1e-9)
        if b.distinct <= _SAMPLE:  # shapes come from a sample of the distinct values
            assert (a.shapes, dict(a.patterns)) == (b.shapes, dict(b.patterns)), a.name
        if b.numeric is not None:
            assert a.numeric.mean == pytest.approx(b.numeric.mean, rel=1e-9)
            assert a.numeric.median == pytest.approx(b.numeric.median, rel=1e-9)
            assert a.numeric.std == pytest.approx(b.numeric.std, rel=1e-9)


def test_suggest_roles_from_postgres_matches_csv(pgenv):
    url, _ = pgenv
    p = wb.suggest_roles(wb.load(f"{url}?table=clinic")).role_map
    d = wb.suggest_roles(_csv(lazy=True)).role_map
    assert p.quasi_identifiers == d.quasi_identifiers
    assert p.direct_identifiers == d.direct_identifiers


def test_cli_assess_and_profile_from_postgres(pgenv, capsys):
    url, password = pgenv
    code = cli_main(["assess", f"{url}?table=clinic", "--qi", ",".join(QIS), "--json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    got = json.loads(out.out)
    ref_code = cli_main(
        ["assess", str(CITY / "clinic_visits.csv"), "--qi", ",".join(QIS), "--json"]
    )
    ref = json.loads(capsys.readouterr().out)
    assert code == ref_code
    for key in ("records", "classes", "sample_uniques"):
        assert got[key] == ref[key]
    assert password not in out.out + out.err
    code = cli_main(["profile", f"{url}?table=clinic", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert password not in out.out + out.err
    assert json.loads(out.out)["dataset"]["n_rows"] == 7257


def test_password_in_url_is_refused_without_echoing_it(pg, capsys):
    url, password = pg
    with_pw = url.replace("wb@", f"wb:{password}@") + "?table=clinic"
    with pytest.raises(ParameterError) as err:
        wb.load(with_pw)
    assert password not in str(err.value) and "PGPASSWORD" in str(err.value)
    with pytest.raises(ParameterError) as err:
        wb.load(f"{url}?table=clinic&password={password}")
    assert password not in str(err.value)
    code = cli_main(["assess", with_pw, "--qi", ",".join(QIS), "--json"])
    out = capsys.readouterr()
    assert code == 2
    assert password not in out.out + out.err


def test_wrong_password_is_a_typed_error_without_the_password(pg, monkeypatch):
    url, _ = pg
    monkeypatch.setenv("PGPASSWORD", "not-the-password-xyz")
    with pytest.raises(LoadError) as err:
        wb.load(f"{url}?table=clinic")
    assert "not-the-password-xyz" not in str(err.value)
    assert "127.0.0.1" in str(err.value)


def test_errors_never_echo_a_cell_value(pgenv):
    url, _ = pgenv
    # the server would say: invalid input syntax for type integer: "<the value>"
    q = "SELECT%20CAST(patient_dob%20AS%20integer)%20AS%20x%20FROM%20clinic"
    value = _csv().to_pandas()["patient_dob"].iloc[0]
    with pytest.raises(LoadError) as err:
        wb.load(f"{url}?query={q}")
    assert str(value) not in str(err.value)


def test_session_is_read_only(pgenv):
    url, _ = pgenv
    ds = wb.load(f"{url}?table=clinic")
    con = ds.data._find_backend()
    with pytest.raises(Exception, match="read-only"):
        con.raw_sql("CREATE TABLE sneaky (x int)")


def test_statement_timeout_is_enforced(pgenv, monkeypatch):
    url, _ = pgenv
    monkeypatch.setattr(limits, "PG_STATEMENT_TIMEOUT_SECONDS", 0.05)
    # a cross join the server cannot finish in 50 ms
    q = "SELECT%20a.sex%20FROM%20clinic%20a%2C%20clinic%20b%2C%20clinic%20c"
    with pytest.raises(InputLimitError):
        wb.load(f"{url}?query={q}")


def test_missing_table_names_the_source_not_a_value(pgenv):
    url, password = pgenv
    with pytest.raises(LoadError) as err:
        wb.load(f"{url}?table=no_such_table")
    assert "postgresql://wb@127.0.0.1" in str(err.value)
    assert password not in str(err.value)


def test_schema_qualified_table(pgenv):
    url, _ = pgenv
    ds = wb.load(f"{url}?table=health.housing")
    assert ds.n_rows == 1 and ds.columns == ["x"]


def test_cli_error_on_a_query_source_does_not_echo_its_literals(pgenv, capsys):
    url, _ = pgenv
    value = _csv().to_pandas()["patient_dob"].iloc[0]
    q = f"SELECT%20*%20FROM%20clinic%20WHERE%20patient_dob%20%3C%3E%20%27{value}%27"
    code = cli_main(["assess", f"{url}?query={q}", "--qi", "sex,no_such_column"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_column" in err
    assert value not in err


def test_cli_check_against_a_policy_equals_the_csv(pgenv, capsys):
    url, _ = pgenv
    policy = str(CITY / "policies" / "clinic.yaml")
    args = ["--qi", ",".join(QIS), "--policy", policy, "--json", "--no-record"]
    code = cli_main(["check", f"{url}?table=clinic", *args])
    got = json.loads(capsys.readouterr().out)
    ref_code = cli_main(["check", str(CITY / "clinic_visits.csv"), *args])
    ref = json.loads(capsys.readouterr().out)
    assert code == ref_code == 1
    strip = [
        {k: f.get(k) for k in ("rule", "status", "measured", "limit")} for f in got["findings"]
    ]
    want = [{k: f.get(k) for k in ("rule", "status", "measured", "limit")} for f in ref["findings"]]
    assert strip == want and got["records"] == ref["records"]


def test_cli_check_without_policy_finds_the_direct_identifier(pgenv, capsys):
    url, _ = pgenv
    code = cli_main(["check", f"{url}?table=clinic", "--qi", ",".join(QIS), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["findings"][0]["columns"] == ["visit_id"]


def test_cli_anonymize_from_postgres_equals_the_csv(pgenv, tmp_path, capsys):
    import pandas as pd

    url, _ = pgenv
    args = ["--qi", ",".join(QIS), "--k", "5", "--json"]
    a, b = tmp_path / "pg.csv", tmp_path / "csv.csv"
    assert cli_main(["anonymize", f"{url}?table=clinic", *args, "--output", str(a)]) == 0
    # a copy away from the city catalog, whose clinic policy encrypts outputs at rest
    plain = tmp_path / "clinic_visits.csv"
    plain.write_bytes((CITY / "clinic_visits.csv").read_bytes())
    assert cli_main(["anonymize", str(plain), *args, "--output", str(b)]) == 0
    capsys.readouterr()
    pa_, pb = pd.read_csv(a, dtype=str), pd.read_csv(b, dtype=str)
    assert "visit_id" not in pa_.columns
    key = list(pb.columns)
    pd.testing.assert_frame_equal(
        pa_.sort_values(key).reset_index(drop=True), pb.sort_values(key).reset_index(drop=True)
    )
