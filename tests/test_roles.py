"""Role maps (override, JSON round trip) and role suggestions on department-like tables."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import (
    ColumnNotFoundError,
    ConfigError,
    MissingFileError,
    ParameterError,
)
from workbench.loading.readers import load
from workbench.profiling.roles import Role, RoleMap, RoleSuggestions, is_code_column, suggest_roles

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
DI, QI, S, OTHER = (Role.DIRECT_IDENTIFIER, Role.QUASI_IDENTIFIER, Role.SENSITIVE, Role.OTHER)

# --------------------------------------------------------------------------------------------
# RoleMap


def test_role_map_basics() -> None:
    m = RoleMap(
        {
            "name": "direct_identifier",
            "dob": Role.QUASI_IDENTIFIER,
            "zip": "qi",
            "diagnosis": "sensitive",
            "w": "insensitive",
        }
    )
    assert m.direct_identifiers == ("name",)
    assert m.quasi_identifiers == ("dob", "zip")
    assert m.sensitive == ("diagnosis",)
    assert m.other == ("w",)
    assert m.columns == ("name", "dob", "zip", "diagnosis", "w")  # file order
    assert m["zip"] is QI and m.role_of("w") is OTHER
    assert "dob" in m and len(m) == 5 and list(m) == list(m.columns)
    assert dataclasses.is_dataclass(m)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.roles = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.roles["x"] = QI  # type: ignore[index]
    assert hash(m) == hash(RoleMap(dict(m.roles)))


def test_with_role_returns_a_new_map() -> None:
    m = RoleMap({"a": "qi", "b": "other"})
    n = m.with_role("b", "sensitive")
    assert m["b"] is OTHER and n["b"] is S  # original unchanged
    assert n.columns == ("a", "b")  # order kept
    assert m.with_roles({"a": DI, "b": QI}).to_dict() == {
        "columns": {"a": "direct_identifier", "b": "quasi_identifier"}
    }
    with pytest.raises(ColumnNotFoundError, match="'c' not found in role map; available: a, b"):
        m.with_role("c", QI)
    with pytest.raises(ParameterError, match="'role'"):
        m.with_role("a", "very secret")


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("direct_identifier", DI),
        ("identifying", DI),  # ARX
        ("Quasi-Identifying", QI),  # ARX
        ("quasi identifier", QI),
        ("key", QI),  # sdcMicro key variable
        ("sensitive", S),
        ("insensitive", OTHER),  # ARX
        ("other", OTHER),
    ],
)
def test_role_parse_aliases(text: str, role: Role) -> None:
    assert Role.parse(text) is role


def test_to_dict_and_from_dict_forms() -> None:
    m = RoleMap({"id": DI, "dob": QI, "dx": S, "n": OTHER})
    assert m.to_dict() == {
        "columns": {
            "id": "direct_identifier",
            "dob": "quasi_identifier",
            "dx": "sensitive",
            "n": "other",
        }
    }
    assert RoleMap.from_dict(m.to_dict()) == m
    grouped = RoleMap.from_dict(
        {
            "direct_identifiers": ["id"],
            "quasi_identifiers": ["dob"],
            "sensitive": ["dx"],
            "other": ["n"],
        }
    )
    assert grouped == m and grouped.columns == ("id", "dob", "dx", "n")
    assert RoleMap.from_dict({"quasi_identifiers": ["a"]}).to_dict() == {
        "columns": {"a": "quasi_identifier"}
    }


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ({"columns": {"a": "boss"}}, "column 'a': unknown role 'boss'"),
        ({"quasi_identifiers": ["a"], "sensitive": ["a"]}, "'a' is listed as both"),
        ({"qi": ["a"]}, r"unknown keys \['qi'\]"),
        ({"columns": {"a": "qi"}, "x": 1}, r"unexpected keys \['x'\]"),
        ({"columns": ["a"]}, "'columns' must map"),
        ({"sensitive": "a"}, "must be a list"),
        (["a"], "expected a JSON object"),
        ({"columns": {"": "qi"}}, "non-empty strings"),
    ],
)
def test_from_dict_rejects_malformed(data: object, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        RoleMap.from_dict(data)  # type: ignore[arg-type]


def test_save_load_round_trips_unchanged(tmp_path: Path) -> None:
    m = RoleMap({"Geburtsdatum": QI, "Vorname": DI, "Diagnose": S, "gewicht": OTHER})
    path = m.save(tmp_path / "roles.json")
    loaded = RoleMap.load(path)
    assert loaded == m and loaded.columns == m.columns
    first = path.read_bytes()
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == first  # byte-identical
    assert json.loads(first) == m.to_dict()
    assert "Geburtsdatum" in first.decode("utf-8")
    # a hand-written grouped file loads too
    hand = tmp_path / "hand.json"
    hand.write_text('{"direct_identifiers": ["Vorname"], "quasi_identifiers": ["Geburtsdatum"]}')
    assert RoleMap.load(hand).direct_identifiers == ("Vorname",)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="nope.json"):
        RoleMap.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"columns": {\n  "a": "qi",\n}\n')
    with pytest.raises(ConfigError, match=r"bad\.json, line 3: invalid JSON"):
        RoleMap.load(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"columns": {"a": "nonsense"}}')
    with pytest.raises(ConfigError, match=r"wrong\.json: role map: column 'a'"):
        RoleMap.load(wrong)


def test_save_never_overwrites_a_source(tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(b"a\n1\n")
    with pytest.raises(ParameterError, match="different from the input"):
        RoleMap({"a": QI}).save(src, sources=[src])
    assert src.read_bytes() == b"a\n1\n"


def test_check_and_from_columns() -> None:
    m = RoleMap.from_columns(["a", "b", "c"], quasi_identifiers=["b"], sensitive=["c"])
    assert m.to_dict()["columns"] == {"a": "other", "b": "quasi_identifier", "c": "sensitive"}
    m.check(["a", "b", "c", "d"])
    with pytest.raises(ColumnNotFoundError, match="'c' not found in x.csv"):
        m.check(["a", "b"], "x.csv")
    with pytest.raises(ColumnNotFoundError):
        RoleMap.from_columns(["a"], direct_identifiers=["z"])


# --------------------------------------------------------------------------------------------
# synthetic department-like tables

N = 150
FIRST = [
    "Anna",
    "Peter",
    "Maria",
    "Jan",
    "Sophie",
    "Lucas",
    "Emma",
    "Noah",
    "Julia",
    "Thomas",
    "Laura",
    "David",
    "Sara",
    "Paul",
    "Elena",
    "Hugo",
    "Zeynep",
    "Mohammed",
    "Chloé",
]
LAST = [
    "Müller",
    "Schmidt",
    "García",
    "Martin",
    "de Vries",
    "Jansen",
    "Dubois",
    "Rossi",
    "Smith",
    "Nowak",
    "Bakker",
    "López",
    "Fischer",
    "Moreau",
    "Yılmaz",
    "Nguyen",
]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2026)


def _pick(rng: np.random.Generator, xs: list) -> list:
    return [xs[i] for i in rng.integers(0, len(xs), N)]


def _dates(rng: np.random.Generator, fmt: str) -> list[str]:
    d = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 30000, N), unit="D")
    return [x.strftime(fmt) for x in d]


def _bsn(rng: np.random.Generator) -> list[str]:
    """Valid Dutch BSNs (elfproef: sum(d_i * (9..2)) - d_9 divisible by 11)."""
    out: list[str] = []
    while len(out) < N:
        d = [int(x) for x in rng.integers(0, 10, 8)]
        check = sum(a * w for a, w in zip(d, range(9, 1, -1), strict=True)) % 11
        if check < 10 and d[0]:
            out.append("".join(map(str, d)) + str(check))
    return out


def _roles(frame: pd.DataFrame) -> dict[str, Role]:
    return dict(suggest_roles(frame).role_map.roles)


def test_english_clinic_table(rng: np.random.Generator) -> None:
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(N)],
            "email": [f"user{i}@example.org" for i in range(N)],
            "ssn": [
                f"{rng.integers(100, 665)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}"
                for _ in range(N)
            ],
            "dob": _dates(rng, "%Y-%m-%d"),
            "postal_code": [f"{z:05d}" for z in rng.integers(1000, 3000, N)],
            "sex": _pick(rng, ["F", "M"]),
            "diagnosis": _pick(rng, ["asthma", "influenza", "type 2 diabetes"]),
            "visit_date": _dates(rng, "%Y-%m-%d"),
            "notes": [
                f"patient reported mild symptoms after visit {i} and went home" for i in range(N)
            ],
            "annual_income": rng.integers(10_000, 90_000, N),
            "phone": [f"+1 617 555 {i:04d}" for i in range(N)],
            "company_name": _pick(rng, ["Acme", "Globex", "Initech"]),
            "sampling_weight": rng.uniform(1, 50, N),
            "household_id": [f"H{i // 3:04d}" for i in range(N)],
        }
    )
    sugg = suggest_roles(frame)
    roles = dict(sugg.role_map.roles)
    assert [c for c, r in roles.items() if r is DI] == [
        "patient_id",
        "email",
        "ssn",
        "notes",
        "phone",
    ]
    assert [c for c, r in roles.items() if r is QI] == ["dob", "postal_code", "sex", "visit_date"]
    assert [c for c, r in roles.items() if r is S] == ["diagnosis", "annual_income"]
    assert roles["company_name"] is OTHER and roles["sampling_weight"] is OTHER
    assert roles["household_id"] is OTHER
    assert "birth date" in sugg["dob"].reason and "quasi-identifier" in sugg["dob"].reason
    assert sugg["diagnosis"].reason.startswith("health data")
    assert "e-mail" in sugg["email"].reason
    assert "national id" in sugg["ssn"].reason  # not mistaken for phone numbers
    assert "free text" in sugg["notes"].reason
    for s in sugg:
        assert "\n" not in s.reason and 0 < s.confidence <= 1
    assert sugg["dob"].confidence > sugg["visit_date"].confidence


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (  # German
            {
                "Vorname": "first",
                "Nachname": "last",
                "Geburtsdatum": "%d.%m.%Y",
                "PLZ": "zip",
                "Geschlecht": ["w", "m"],
                "Diagnose": ["J45", "E11", "I10"],
                "Einkommen": "int",
                "Religion": ["ev", "rk", "keine"],
                "Staatsangehörigkeit": ["DE", "TR", "PL"],
                "Familienstand": ["ledig", "verh."],
            },
            {
                "Vorname": DI,
                "Nachname": DI,
                "Geburtsdatum": QI,
                "PLZ": QI,
                "Geschlecht": QI,
                "Diagnose": S,
                "Einkommen": S,
                "Religion": S,
                "Staatsangehörigkeit": QI,
                "Familienstand": QI,
            },
        ),
        (  # French
            {
                "prénom": "first",
                "nom": "last",
                "date_naissance": "%d/%m/%Y",
                "code_postal": "zip",
                "sexe": ["F", "H"],
                "maladie": ["asthme", "grippe"],
                "salaire": "int",
                "numéro_sécurité_sociale": "int",
                "situation_familiale": ["c", "m"],
            },
            {
                "prénom": DI,
                "nom": DI,
                "date_naissance": QI,
                "code_postal": QI,
                "sexe": QI,
                "maladie": S,
                "salaire": S,
                "numéro_sécurité_sociale": DI,
                "situation_familiale": QI,
            },
        ),
        (  # Spanish
            {
                "nombre": "first",
                "apellidos": "last",
                "fecha_nacimiento": "%d/%m/%Y",
                "codigo_postal": "zip",
                "sexo": ["M", "H"],
                "enfermedad": ["asma", "gripe"],
                "ingresos": "int",
                "estado_civil": ["soltero", "casado"],
                "discapacidad": ["sí", "no"],
            },
            {
                "nombre": DI,
                "apellidos": DI,
                "fecha_nacimiento": QI,
                "codigo_postal": QI,
                "sexo": QI,
                "enfermedad": S,
                "ingresos": S,
                "estado_civil": QI,
                "discapacidad": S,
            },
        ),
        (  # Dutch
            {
                "voornaam": "first",
                "achternaam": "last",
                "geboortedatum": "%d-%m-%Y",
                "postcode": "nlzip",
                "geslacht": ["V", "M"],
                "diagnose": ["astma", "griep"],
                "inkomen": "int",
                "bsn": "bsn",
                "uitkering": ["WW", "bijstand", "geen"],
            },
            {
                "voornaam": DI,
                "achternaam": DI,
                "geboortedatum": QI,
                "postcode": QI,
                "geslacht": QI,
                "diagnose": S,
                "inkomen": S,
                "bsn": DI,
                "uitkering": S,
            },
        ),
        (  # camelCase English with US census vocabulary
            {
                "FirstName": "first",
                "LastName": "last",
                "BirthDate": "%m/%d/%Y",
                "ZipCode": "zip",
                "Gender": ["F", "M"],
                "CriminalRecord": ["none", "minor"],
                "ImmigrationStatus": ["citizen", "visa"],
                "SexualOrientation": ["a", "b"],
                "TradeUnion": ["y", "n"],
            },
            {
                "FirstName": DI,
                "LastName": DI,
                "BirthDate": QI,
                "ZipCode": QI,
                "Gender": QI,
                "CriminalRecord": S,
                "ImmigrationStatus": S,
                "SexualOrientation": S,
                "TradeUnion": S,
            },
        ),
    ],
)
def test_multilingual_department_tables(
    rng: np.random.Generator, columns: dict, expected: dict
) -> None:
    data = {}
    for name, spec in columns.items():
        if spec == "first":
            data[name] = _pick(rng, FIRST)
        elif spec == "last":
            data[name] = _pick(rng, LAST)
        elif spec == "zip":
            data[name] = [f"{z:05d}" for z in rng.integers(1000, 99_999, N)]
        elif spec == "nlzip":
            data[name] = [
                f"{z} {chr(65 + z % 26)}{chr(66 + z % 20)}" for z in rng.integers(1000, 9999, N)
            ]
        elif spec == "int":
            data[name] = rng.integers(1000, 90_000, N)
        elif spec == "bsn":
            data[name] = _bsn(rng)
        elif isinstance(spec, str):
            data[name] = _dates(rng, spec)
        else:
            data[name] = _pick(rng, spec)
    assert _roles(pd.DataFrame(data)) == expected


def test_values_alone_reveal_identifiers(rng: np.random.Generator) -> None:
    """Opaque column names: the values must carry the evidence."""
    frame = pd.DataFrame(
        {
            "c1": [f"user{i}@mail.example.com" for i in range(N)],
            "c2": [f"030 {rng.integers(1_000_000, 9_999_999)}" for _ in range(N)],
            "c3": [f"{a} {b}" for a, b in zip(_pick(rng, FIRST), _pick(rng, LAST), strict=True)],
            "c4": [f"{rng.integers(0, 2**62):x}" for _ in range(N)],
            "c5": _pick(rng, ["J45.0", "E11", "I10", "F32.1"]),
            "c6": _dates(rng, "%d/%m/%Y"),
            "c7": [
                f"note {i}: the client called about the appointment and asked for a new date"
                for i in range(N)
            ],
            "c8": ["DE89370400440532013000", "GB82WEST12345698765432"] * (N // 2),
            "c9": _bsn(rng),
            "c10": ["4111111111111111", "5500005555555559"] * (N // 2),
            "c11": _pick(rng, ["a", "b", "c"]),
            "c12": rng.normal(size=N),
            "c13": [f"10.0.{i // 256}.{i % 256}" for i in range(N)],
        }
    )
    sugg = suggest_roles(frame)
    roles = dict(sugg.role_map.roles)
    for col in ("c1", "c2", "c3", "c4", "c7", "c8", "c9", "c10", "c13"):
        assert roles[col] is DI, (col, sugg[col].reason)
    assert roles["c5"] is S and "ICD-10" in sugg["c5"].reason
    assert roles["c6"] is QI and "DD/MM/YYYY" in sugg["c6"].reason
    assert roles["c11"] is OTHER and roles["c12"] is OTHER
    assert sugg["c1"].reason == "100 % of values look like e-mail addresses"
    assert "first names or surnames" in sugg["c3"].reason
    assert "IBAN" in sugg["c8"].reason and "Luhn" in sugg["c10"].reason


def test_invalid_checksums_are_not_identifiers() -> None:
    """Nine-digit numbers failing the Dutch elfproef and cards failing Luhn stay 'other'."""
    bad_bsn = [f"{100000000 + 7 * i:09d}" for i in range(60)]
    from workbench.profiling.profiler import _bsn_ok, _luhn

    bad_bsn = [b for b in bad_bsn if not _bsn_ok(b)][:40]
    bad_cards = [c for c in (f"41111111111111{i:02d}" for i in range(100)) if not _luhn(c)][:40]
    frame = pd.DataFrame({"a": bad_bsn, "b": bad_cards, "k": ["x", "y"] * 20})
    prof_roles = suggest_roles(frame)
    assert prof_roles["a"].reason.startswith("near-unique")  # id-like, not "national id"
    assert "Luhn" not in prof_roles["b"].reason


def test_race_is_qi_in_census_data_and_sensitive_elsewhere(rng: np.random.Generator) -> None:
    census = pd.DataFrame(
        {
            "age": rng.integers(18, 90, N),
            "sex": _pick(rng, ["F", "M"]),
            "race": _pick(rng, ["White", "Black", "Asian"]),
            "marital_status": _pick(rng, ["single", "married"]),
            "education": _pick(rng, ["HS", "BA"]),
        }
    )
    sugg = suggest_roles(census)
    assert sugg["race"].role is QI
    assert "census-style" in sugg["race"].reason and "sensitive" not in sugg["race"].role.value
    clinic = pd.DataFrame(
        {"ethnicity": _pick(rng, ["a", "b"]), "diagnosis": _pick(rng, ["x", "y"])}
    )
    sugg = suggest_roles(clinic)
    assert sugg["ethnicity"].role is S and "GDPR Art. 9" in sugg["ethnicity"].reason


def test_generic_ids_depend_on_uniqueness() -> None:
    frame = pd.DataFrame(
        {"record_no": [f"R{i}" for i in range(40)], "batch_id": [f"B{i % 4}" for i in range(40)]}
    )
    sugg = suggest_roles(frame)
    assert (
        sugg["record_no"].role is DI and "100 % of values are distinct" in sugg["record_no"].reason
    )
    assert sugg["batch_id"].role is OTHER and "shared key" in sugg["batch_id"].reason


def test_names_that_are_not_people() -> None:
    frame = pd.DataFrame(
        {
            "product_name": ["soap", "milk"] * 10,
            "street_name": ["Main St", "High St"] * 10,
            "user_name": ["alpha", "beta"] * 10,
        }
    )
    roles = _roles(frame)
    assert roles["product_name"] is OTHER
    assert roles["user_name"] is DI


def test_census_race_values_are_not_person_names() -> None:
    """'White' and 'Black' are surnames, but two repeated values are not a name column."""
    frame = pd.DataFrame({"k": ["White"] * 30 + ["Black"] * 10})
    assert _roles(frame)["k"] is OTHER


def test_adult_roles(adult_csv: Path) -> None:
    roles = suggest_roles(load(adult_csv)).role_map
    assert roles.sensitive == ("salary-class",)
    assert set(roles.quasi_identifiers) == {
        "sex",
        "age",
        "race",
        "marital-status",
        "education",
        "native-country",
        "workclass",
        "occupation",
    }
    assert roles.direct_identifiers == ()


def test_suggestions_feed_an_overridable_role_map(tmp_path: Path) -> None:
    frame = pd.DataFrame({"dob": ["1990-01-01", "1991-02-02"] * 10, "score": range(20)})
    sugg = suggest_roles(frame)
    assert isinstance(sugg, RoleSuggestions) and len(sugg) == 2
    m = sugg.role_map.with_role("score", "sensitive")
    assert m.sensitive == ("score",) and m.quasi_identifiers == ("dob",)
    assert RoleMap.load(m.save(tmp_path / "r.json")) == m
    doc = sugg.to_dict()
    assert doc["role_map"] == sugg.role_map.to_dict()
    assert doc["suggestions"][0]["column"] == "dob"
    assert "dob" in sugg.to_text()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("zip", True),
        ("postal_code", True),
        ("PLZ", True),
        ("patient_id", True),
        ("phone", True),
        ("household_id", True),
        ("age", False),
        ("income", False),
        ("visit_id", False),
        ("Key1", False),
    ],
)
def test_is_code_column(name: str, code: bool) -> None:
    assert is_code_column(name) is code


# --------------------------------------------------------------------------------------------
# the city sample (generated by the samples module into data/samples/city)


def test_city_clinic_visits_roles() -> None:
    ds = load(CITY / "clinic_visits.csv", department="Health")
    roles = suggest_roles(ds).role_map
    assert roles["patient_dob"] is QI
    assert roles["postal_code"] is QI
    assert roles["sex"] is QI
    assert roles["diagnosis"] is S
    assert roles["visit_id"] is DI


def test_city_voter_roll_roles() -> None:
    ds = load(CITY / "voter_roll.csv")
    roles = suggest_roles(ds).role_map
    assert roles["first_name"] is DI
    assert roles["last_name"] is DI
    assert roles["dob"] is QI and roles["postal_code"] is QI
