"""A synthetic city: one population, four department extracts and a public voter roll.

Why synthetic: linkage attacks can only be *scored* when the truth is known. The generator builds
a population of residents in households with realistic joint distributions (age pyramid, sex,
race/ethnicity by neighbourhood, Zipf-skewed postal codes, income correlated with age and
neighbourhood, marital status correlated with age and household), then draws the records four
departments would hold about overlapping sets of residents. As in real administrations each
department names and formats the same facts differently (``patient_dob`` 31/12/1980 vs
``birth_year`` 1980 vs ``age`` 45 vs ``age_band`` 45-54), uses its own record ids, and carries
realistic noise (typos, an age computed at another date). A separate ground-truth file maps every
record to its resident.

Everything is vectorised numpy and written in chunks of :data:`CHUNK_RESIDENTS` residents, so
millions of residents take seconds. Same seed and size give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from ..deid.pseudonym import DEFAULT_KEY_ENV
from ..errors import MissingFileError, ParameterError
from . import _names

__all__ = [
    "REFERENCE_DATE",
    "DEFAULT_RESIDENTS",
    "DEFAULT_SEED",
    "CHUNK_RESIDENTS",
    "MAX_RESIDENTS",
    "DATASETS",
    "FILE_STEMS",
    "RECORD_ID_COLUMNS",
    "COLUMNS",
    "POSTAL_CODES",
    "INCOME_BANDS",
    "MARITAL_STATUSES",
    "SOCIAL_MARITAL_STATUSES",
    "AGE_BANDS",
    "BENEFIT_TYPES",
    "DIAGNOSES",
    "RACE_ETHNICITIES",
    "NOISE_RATES",
    "PlantedFact",
    "PLANTED_FACTS",
    "SINGLE_DATASET_FACTS",
    "CityGenerationResult",
    "generate",
    "export",
    "export_release",
    "ExportResult",
    "read_ground_truth",
    "age_at",
    "catalog_document",
    "default_out_dir",
    "pseudonymize",
    "PSEUDONYM_KEY_ENV",
]

REFERENCE_DATE = dt.date(2026, 1, 1)
"""Date at which ages are computed (social services ``age``, transit ``age_band``)."""

DEFAULT_RESIDENTS = 20_000
DEFAULT_SEED = 2026
CHUNK_RESIDENTS = 500_000
"""Residents generated and written per chunk; bounds memory (about 0.3 GB per chunk)."""
MAX_RESIDENTS = 50_000_000
"""Record ids have 8-9 digits; beyond this size they could collide."""

PSEUDONYM_KEY_ENV = DEFAULT_KEY_ENV
"""Environment variable of the pseudonymization key (the one rule of workbench.deid.pseudonym)."""

DATASETS: tuple[str, ...] = ("clinic", "housing", "social", "transit", "voters")

FILE_STEMS: Mapping[str, str] = MappingProxyType(
    {
        "population": "population",
        "clinic": "clinic_visits",
        "housing": "housing_assistance",
        "social": "social_services",
        "transit": "transit_passes",
        "voters": "voter_roll",
        "ground_truth": "ground_truth",
    }
)

RECORD_ID_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "clinic": "visit_id",
        "housing": "application_id",
        "social": "case_id",
        "transit": "pass_id",
        "voters": "voter_id",
    }
)

_STR, _INT, _DATE = pa.string(), pa.int64(), pa.date32()

_SCHEMAS: Mapping[str, pa.Schema] = MappingProxyType(
    {
        "population": pa.schema(
            [
                ("resident_id", _STR),
                ("first_name", _STR),
                ("last_name", _STR),
                ("date_of_birth", _DATE),
                ("sex", _STR),
                ("race_ethnicity", _STR),
                ("postal_code", _STR),
                ("household_id", _STR),
                ("household_size", _INT),
                ("income_band", _STR),
                ("marital_status", _STR),
            ]
        ),
        "clinic": pa.schema(
            [
                ("visit_id", _STR),
                ("patient_dob", _STR),
                ("sex", _STR),
                ("postal_code", _STR),
                ("diagnosis", _STR),
                ("visit_date", _DATE),
            ]
        ),
        "housing": pa.schema(
            [
                ("application_id", _STR),
                ("birth_year", _INT),
                ("gender", _STR),
                ("zip", _STR),
                ("household_size", _INT),
                ("income_band", _STR),
            ]
        ),
        "social": pa.schema(
            [
                ("case_id", _STR),
                ("age", _INT),
                ("sex", _INT),
                ("zip3", _STR),
                ("marital_status", _STR),
                ("benefit_type", _STR),
            ]
        ),
        "transit": pa.schema(
            [("pass_id", _STR), ("age_band", _STR), ("postcode", _STR), ("disability", _STR)]
        ),
        "voters": pa.schema(
            [
                ("voter_id", _STR),
                ("first_name", _STR),
                ("last_name", _STR),
                ("dob", _DATE),
                ("sex", _STR),
                ("postal_code", _STR),
            ]
        ),
        "ground_truth": pa.schema([("dataset", _STR), ("record_id", _STR), ("resident_id", _STR)]),
    }
)

COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {name: tuple(schema.names) for name, schema in _SCHEMAS.items()}
)
"""Column names of every file, in file order."""


class PlantedFact(NamedTuple):
    """A column that carries a fact about the resident, in a department-specific form."""

    dataset: str
    column: str
    fact: str
    form: str


PLANTED_FACTS: tuple[PlantedFact, ...] = (
    PlantedFact("clinic", "patient_dob", "birth", "date"),
    PlantedFact("housing", "birth_year", "birth", "year"),
    PlantedFact("social", "age", "birth", "age"),
    PlantedFact("transit", "age_band", "birth", "age_band"),
    PlantedFact("voters", "dob", "birth", "date"),
    PlantedFact("clinic", "postal_code", "postal", "postal5"),
    PlantedFact("housing", "zip", "postal", "postal5"),
    PlantedFact("social", "zip3", "postal", "postal3"),
    PlantedFact("transit", "postcode", "postal", "postal5"),
    PlantedFact("voters", "postal_code", "postal", "postal5"),
    PlantedFact("clinic", "sex", "sex", "sex"),
    PlantedFact("housing", "gender", "sex", "sex"),
    PlantedFact("social", "sex", "sex", "sex"),
    PlantedFact("voters", "sex", "sex", "sex"),
)
"""Every (dataset, column, fact, form) that links two or more of the five datasets.

Forms: birth ``date`` (clinic DD/MM/YYYY, voters YYYY-MM-DD), ``year``, ``age`` (whole years at
:data:`REFERENCE_DATE`), ``age_band``; postal ``postal5`` / ``postal3`` (prefix); sex ``sex``
(codes differ: female/male, F/M/X, 2/1, F/M). Household size, income band and marital status are
each held by one department only, so they are in :data:`SINGLE_DATASET_FACTS` instead.
"""

SINGLE_DATASET_FACTS: tuple[PlantedFact, ...] = (
    PlantedFact("housing", "household_size", "household_size", "count"),
    PlantedFact("housing", "income_band", "income_band", "band"),
    PlantedFact("social", "marital_status", "marital_status", "status"),
)
"""Facts derived from the resident but present in a single department (no crosswalk partner)."""

# --- vocabularies -------------------------------------------------------------------------------

RACE_ETHNICITIES: tuple[str, ...] = (
    "White",
    "Hispanic or Latino",
    "Black or African American",
    "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Pacific Islander",
    "Two or more races",
)
_RACE_BASE = np.array([0.57, 0.19, 0.13, 0.06, 0.01, 0.004, 0.036])
_HISPANIC, _ASIAN, _MULTI = 1, 3, 6

INCOME_BANDS: tuple[str, ...] = (
    "no income",
    "under 15k",
    "15k-30k",
    "30k-50k",
    "50k-75k",
    "75k-100k",
    "100k+",
)
MARITAL_STATUSES: tuple[str, ...] = ("Never married", "Married", "Divorced", "Separated", "Widowed")
SOCIAL_MARITAL_STATUSES: tuple[str, ...] = ("single", "married", "divorced", "separated", "widowed")
AGE_BANDS: tuple[str, ...] = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_BAND_EDGES = np.array([18, 25, 35, 45, 55, 65])
BENEFIT_TYPES: tuple[str, ...] = (
    "unemployment",
    "disability",
    "housing",
    "child",
    "pension",
    "none",
)

# Relative visit frequencies by age group (0-17, 18-44, 45-64, 65+), female then male adjustments
# below. Loosely shaped on primary-care visit statistics; only the age/sex gradients matter here.
_DIAGNOSIS_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "Routine examination": (30, 18, 12, 8),
    "Acute upper respiratory infection": (22, 10, 6, 4),
    "Otitis media": (10, 1, 0.5, 0.3),
    "Asthma": (7, 4, 3, 3),
    "Injury": (8, 8, 5, 5),
    "Influenza": (5, 4, 3, 4),
    "Hypertension": (0.1, 5, 14, 16),
    "Diabetes mellitus": (0.5, 3, 10, 11),
    "Ischaemic heart disease": (0, 0.5, 5, 9),
    "COPD": (0, 0.5, 3, 6),
    "Chronic kidney disease": (0, 0.3, 2, 5),
    "Osteoarthritis": (0, 1, 6, 10),
    "Back pain": (0.5, 8, 8, 5),
    "Depression": (2, 9, 6, 4),
    "Anxiety disorder": (3, 8, 5, 3),
    "Substance use disorder": (0.5, 4, 3, 1),
    "HIV": (0.05, 0.8, 0.6, 0.2),
    "Pregnancy supervision": (0, 9, 0, 0),
    "Malignant neoplasm": (0.2, 1, 4, 7),
    "Dementia": (0, 0, 0.5, 6),
}
DIAGNOSES: tuple[str, ...] = tuple(_DIAGNOSIS_WEIGHTS)

NOISE_RATES: Mapping[str, float] = MappingProxyType(
    {
        "voters.name_typo": 0.025,  # one edit in first or last name
        "clinic.dob_typo": 0.01,  # day/month swapped or day mistyped
        "housing.zip_typo": 0.01,  # one digit of the postal code mistyped (never the first)
        "housing.gender_x": 0.006,  # gender recorded as X (not specified)
        "social.age_off_by_one": 0.03,  # age computed at case opening, not at REFERENCE_DATE
    }
)
"""Share of records (exact counts, rounded) that carry each kind of planted noise."""

# --- geography (fixed: the same city for every seed) --------------------------------------------

_PREFIXES: tuple[tuple[str, int], ...] = (("462", 18), ("463", 14), ("465", 12), ("468", 8))


def _postal_codes() -> tuple[str, ...]:
    codes = []
    for k, (prefix, count) in enumerate(_PREFIXES):
        suffixes = sorted(1 + (i * 37 + k * 11) % 97 for i in range(count))
        codes.extend(f"{prefix}{s:02d}" for s in suffixes)
    return tuple(codes)


POSTAL_CODES: tuple[str, ...] = _postal_codes()
"""The city's 52 postal codes, sharing four 3-digit prefixes."""

_N_POSTAL = len(POSTAL_CODES)
_POSTAL_PREFIX_INDEX = np.array(
    [[p for p, _ in _PREFIXES].index(c[:3]) for c in POSTAL_CODES], dtype=np.int32
)
_ZIPF_EXPONENT = 0.85
# rank of code j is (23 j) mod 52 (a fixed permutation: big and small areas in every prefix)
_POSTAL_P = 1.0 / (1.0 + (np.arange(_N_POSTAL) * 23) % _N_POSTAL) ** _ZIPF_EXPONENT
_POSTAL_P /= _POSTAL_P.sum()
_GEO = np.random.default_rng(np.random.SeedSequence(20260101))
_POSTAL_RACE_P = _GEO.dirichlet(_RACE_BASE * 5.0, size=_N_POSTAL)
_POSTAL_WEALTH = _GEO.normal(0.0, 0.35, size=_N_POSTAL)
del _GEO

# --- names ---------------------------------------------------------------------------------------


def _zipf(n: int, offset: float) -> np.ndarray:
    w = 1.0 / (np.arange(1, n + 1) + offset)
    return w / w.sum()


_FEMALE = np.array(_names.FEMALE_FIRST_NAMES, dtype=object)
_MALE = np.array(_names.MALE_FIRST_NAMES, dtype=object)
_FIRST_P = (_zipf(len(_FEMALE), 8.0), _zipf(len(_MALE), 8.0))
_SURNAMES = tuple(
    dict.fromkeys(_names.LAST_NAMES + _names.HISPANIC_LAST_NAMES + _names.ASIAN_LAST_NAMES)
)


def _surname_p(group: tuple[str, ...], share: float, offset: float) -> np.ndarray:
    general = np.zeros(len(_SURNAMES))
    general[: len(_names.LAST_NAMES)] = _zipf(len(_names.LAST_NAMES), 30.0)
    if not group:
        return general
    index = {s: i for i, s in enumerate(_SURNAMES)}
    specific = np.zeros(len(_SURNAMES))
    specific[[index[s] for s in group]] = _zipf(len(group), offset)
    return share * specific + (1 - share) * general


# surname distribution by group: 0 general, 1 Hispanic or Latino, 2 Asian
_SURNAME_P = np.vstack(
    [
        _surname_p((), 0.0, 0.0),
        _surname_p(_names.HISPANIC_LAST_NAMES, 0.75, 5.0),
        _surname_p(_names.ASIAN_LAST_NAMES, 0.7, 5.0),
    ]
)

# --- demographic tables ------------------------------------------------------------------------

# household size 1..7
_HH_SIZE_P = np.array([0.29, 0.35, 0.15, 0.12, 0.055, 0.022, 0.013])
# household types
_SINGLE, _COUPLE, _COUPLE_KIDS, _SINGLE_PARENT, _SHARED = range(5)
# head age bins [lo, hi) and the distribution of the head's age bin by household type
_HEAD_BINS = np.array([18, 25, 30, 35, 45, 55, 65, 75, 85, 100])
_HEAD_AGE_P = np.array(
    [
        [0.08, 0.07, 0.06, 0.10, 0.11, 0.15, 0.18, 0.15, 0.10],  # single
        [0.02, 0.04, 0.04, 0.08, 0.12, 0.22, 0.26, 0.16, 0.06],  # couple
        [0.01, 0.04, 0.10, 0.37, 0.36, 0.12, 0.0, 0.0, 0.0],  # couple with children
        [0.05, 0.10, 0.15, 0.36, 0.26, 0.08, 0.0, 0.0, 0.0],  # single parent
        [0.22, 0.16, 0.10, 0.10, 0.10, 0.12, 0.11, 0.06, 0.03],  # shared (adults only)
    ]
)
# marital status of adults living without a partner, by age group
_MARITAL_AGE_EDGES = np.array([25, 35, 45, 55, 65, 75])
_MARITAL_P = np.array(
    [
        [0.93, 0.04, 0.01, 0.02, 0.00],  # 18-24
        [0.72, 0.10, 0.10, 0.07, 0.01],  # 25-34
        [0.45, 0.12, 0.30, 0.10, 0.03],  # 35-44
        [0.32, 0.12, 0.40, 0.10, 0.06],  # 45-54
        [0.22, 0.10, 0.44, 0.08, 0.16],  # 55-64
        [0.10, 0.08, 0.38, 0.04, 0.40],  # 65-74
        [0.06, 0.05, 0.22, 0.02, 0.65],  # 75+
    ]
)
_NEVER, _MARRIED = 0, 1
# income: age effect on a latent score, by age group 16-24, 25-34, ..., 65-74, 75+
_INCOME_AGE_EDGES = np.array([25, 35, 45, 55, 65, 75])
_INCOME_AGE_EFFECT = np.array([-1.0, -0.2, 0.25, 0.4, 0.25, -0.45, -0.75])
_INCOME_CUTS = np.array([-1.1, -0.45, 0.2, 0.8, 1.3])
# disability prevalence by age: <18, 18-44, 45-64, 65-74, 75+
_DISABILITY_EDGES = np.array([18, 45, 65, 75])
_DISABILITY_P = np.array([0.03, 0.05, 0.11, 0.18, 0.32])

# departments: selection probabilities (calibrated to the coverage in the README)
_CLINIC_EDGES = np.array([5, 18, 30, 45, 65, 80])
_CLINIC_P = np.array([0.48, 0.21, 0.16, 0.19, 0.28, 0.42, 0.52])
_CLINIC_VISITS_CDF = np.array([0.78, 0.93, 0.98, 1.0])  # 1, 2, 3, 4 visits
_HOUSING_P = np.array([0.48, 0.52, 0.38, 0.17, 0.05, 0.02, 0.01])  # by applicant income band
_TRANSIT_EDGES = np.array([18, 25, 35, 45, 55, 65])
_TRANSIT_P = np.array([0.095, 0.34, 0.24, 0.14, 0.125, 0.115, 0.22])
_VOTER_EDGES = np.array([25, 35, 45, 55, 65])
_VOTER_P = np.array([0.52, 0.62, 0.70, 0.74, 0.78, 0.82])

_VISIT_YEAR = 2025


# --- small numpy helpers ---------------------------------------------------------------------


def _categorical(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices from probabilities ``p`` (inverse CDF, stable across numpy versions)."""
    cdf = np.cumsum(p)
    out = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return np.minimum(out, len(p) - 1)


def _categorical_by_group(
    rng: np.random.Generator, table: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Draw one index per row from ``table[groups[i]]``."""
    u = rng.random(len(groups))
    out = np.zeros(len(groups), dtype=np.int64)
    cdf = np.cumsum(table, axis=1)
    for g in np.unique(groups):
        mask = groups == g
        out[mask] = np.searchsorted(cdf[g], u[mask] * cdf[g, -1], side="right")
    return np.minimum(out, table.shape[1] - 1)


def _pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Exactly ``round(rate * n)`` distinct row indices, sorted."""
    k = int(round(rate * n))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.argpartition(rng.random(n), k - 1)[:k]).astype(np.int64)


def _year_start(years: np.ndarray) -> np.ndarray:
    return (
        (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    )


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = dates.astype("datetime64[Y]")
    m = dates.astype("datetime64[M]")
    return (
        y.astype(np.int64) + 1970,
        (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
        (dates - m.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def age_at(dates_of_birth: Any, reference: dt.date = REFERENCE_DATE) -> np.ndarray:
    """Whole years completed at ``reference`` for each date of birth (datetime64[D]-like)."""
    y, m, d = _ymd(np.asarray(dates_of_birth, dtype="datetime64[D]"))
    before = (m > reference.month) | ((m == reference.month) & (d > reference.day))
    return reference.year - y - before.astype(np.int64)


def _dob_from_age(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """A uniformly random birth date giving exactly ``age`` at REFERENCE_DATE (1 January)."""
    year = REFERENCE_DATE.year - 1 - age
    start = _year_start(year) + np.timedelta64(1, "D")  # 2 January of that year
    ndays = (_year_start(year + 1) - _year_start(year)).astype(np.int64)
    offset = np.floor(rng.random(len(age)) * ndays).astype(np.int64)
    return start + offset.astype("timedelta64[D]")


def _decode(codes: np.ndarray, labels: Any) -> pa.Array:
    """Labels for integer codes, via an Arrow dictionary (fast for millions of rows)."""
    dictionary = pa.array(list(labels), type=pa.string())
    indices = pa.array(np.asarray(codes, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _decode_with(codes: np.ndarray, labels: Any, rows: np.ndarray, values: list[str]) -> pa.Array:
    """Like :func:`_decode` but rows ``rows`` take the explicit strings ``values``."""
    labels = list(labels)
    codes = np.asarray(codes, dtype=np.int64).copy()
    codes[rows] = len(labels) + np.arange(len(rows))
    return _decode(codes, labels + list(values))


def _fixed_strings(n: int, pieces: list[bytes | tuple[np.ndarray, int]]) -> pa.Array:
    """Fixed-width ASCII strings built from constant bytes and zero-padded integer fields."""
    width = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
    buf = np.empty((n, width), dtype=np.uint8)
    pos = 0
    for piece in pieces:
        if isinstance(piece, bytes):
            buf[:, pos : pos + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
            pos += len(piece)
            continue
        values, digits = piece
        v = np.asarray(values, dtype=np.int64).copy()
        for j in range(digits - 1, -1, -1):
            buf[:, pos + j] = v % 10 + 48
            v //= 10
        pos += digits
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf)).cast(
        pa.string()
    )


def _ddmmyyyy(day: np.ndarray, month: np.ndarray, year: np.ndarray) -> pa.Array:
    return _fixed_strings(len(day), [(day, 2), b"/", (month, 2), b"/", (year, 4)])


# --- population --------------------------------------------------------------------------------


@dataclass
class _Population:
    """One chunk of residents as integer codes (strings are made only when writing)."""

    first: np.ndarray  # index into the sex's first-name list
    last: np.ndarray  # index into _SURNAMES
    dob: np.ndarray  # datetime64[D]
    age: np.ndarray
    female: np.ndarray  # bool
    race: np.ndarray
    postal: np.ndarray
    household: np.ndarray  # household index within the chunk
    household_size: np.ndarray
    head: np.ndarray  # bool: first member of the household
    income: np.ndarray
    marital: np.ndarray
    disabled: np.ndarray  # latent, not in population.csv (drives transit + benefits)
    sizes: np.ndarray  # per household

    def __len__(self) -> int:
        return len(self.age)


def _household_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    parts, total = [], 0
    mean = float(np.dot(np.arange(1, 8), _HH_SIZE_P))
    while total < n:
        m = int((n - total) / mean * 1.05) + 16
        s = _categorical(rng, _HH_SIZE_P, m) + 1
        parts.append(s)
        total += int(s.sum())
    sizes = np.concatenate(parts)
    cum = np.cumsum(sizes)
    h = int(np.searchsorted(cum, n)) + 1
    sizes = sizes[:h].copy()
    sizes[-1] -= int(cum[h - 1] - n)
    return sizes


def _population(rng: np.random.Generator, n: int) -> _Population:
    sizes = _household_sizes(rng, n)
    h = len(sizes)
    # household type
    u = rng.random(h)
    hh_type = np.full(h, _SINGLE)
    two = sizes == 2
    hh_type[two] = np.where(
        u[two] < 0.62, _COUPLE, np.where(u[two] < 0.76, _SINGLE_PARENT, _SHARED)
    )
    big = sizes >= 3
    hh_type[big] = np.where(
        u[big] < 0.68, _COUPLE_KIDS, np.where(u[big] < 0.84, _SINGLE_PARENT, _SHARED)
    )
    # head age
    age_bin = _categorical_by_group(rng, _HEAD_AGE_P, hh_type)
    lo, hi = _HEAD_BINS[age_bin], _HEAD_BINS[age_bin + 1]
    head_age = lo + np.floor(rng.random(h) * (hi - lo)).astype(np.int64)
    postal_hh = _categorical(rng, _POSTAL_P, h)
    race_hh = _categorical_by_group(rng, _POSTAL_RACE_P, postal_hh)
    surname_group = np.where(race_hh == _HISPANIC, 1, np.where(race_hh == _ASIAN, 2, 0))
    last_hh = _categorical_by_group(rng, _SURNAME_P, surname_group)
    p_married = np.select([head_age < 25, head_age < 35], [0.4, 0.72], 0.9)
    married_hh = rng.random(h) < p_married

    # members
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    household = np.repeat(np.arange(h), sizes)
    pos = np.arange(n) - starts[household]
    t = hh_type[household]
    is_head = pos == 0
    is_partner = (pos == 1) & ((t == _COUPLE) | (t == _COUPLE_KIDS))
    is_mate = (pos >= 1) & (t == _SHARED)
    is_child = ~(is_head | is_partner | is_mate)
    ha = head_age[household]

    age = ha.copy()
    noise = rng.standard_normal(n)
    age[is_partner] = np.clip(np.rint(ha[is_partner] - 1.5 + 4.5 * noise[is_partner]), 18, 99)
    age[is_mate] = np.clip(np.rint(ha[is_mate] + 6.0 * noise[is_mate]), 18, 99)
    # children: born when the head was 18-45, at most 23 years old now
    min_child = np.clip(ha - 45, 0, None)
    max_child = np.clip(ha - 18, 0, 23)
    span = np.maximum(max_child - min_child, 0) + 1
    age[is_child] = min_child[is_child] + np.floor(rng.random(n)[is_child] * span[is_child])
    age = age.astype(np.int64)

    # sex
    u = rng.random(n)
    p_female = np.full(n, 0.5)
    single_head = is_head & (t == _SINGLE)
    p_female[single_head] = np.select(
        [age[single_head] >= 80, age[single_head] >= 65], [0.70, 0.62], 0.47
    )
    p_female[is_head & (t == _SINGLE_PARENT)] = 0.80
    p_female[is_child] = 0.49
    female = u < p_female
    head_female = female[starts][household]
    opposite = rng.random(n) < 0.96
    female[is_partner] = np.where(
        opposite[is_partner], ~head_female[is_partner], head_female[is_partner]
    )

    # race, names
    postal = postal_hh[household]
    race = race_hh[household]
    redraw = (is_partner | is_mate) & (rng.random(n) < np.where(is_mate, 0.5, 0.07))
    race[redraw] = _categorical_by_group(rng, _POSTAL_RACE_P, postal[redraw])
    race[is_child & (rng.random(n) < 0.04)] = _MULTI
    last = last_hh[household]
    own_name = is_mate | (is_partner & (rng.random(n) < 0.25))
    group = np.where(race == _HISPANIC, 1, np.where(race == _ASIAN, 2, 0))
    last[own_name] = _categorical_by_group(rng, _SURNAME_P, group[own_name])
    first = np.where(
        female,
        _categorical(rng, _FIRST_P[0], n),
        _categorical(rng, _FIRST_P[1], n),
    )
    dob = _dob_from_age(rng, age)

    # disability (latent)
    disabled = rng.random(n) < _DISABILITY_P[np.searchsorted(_DISABILITY_EDGES, age, "right")]

    # marital status
    marital = np.zeros(n, dtype=np.int64)
    alone = (is_head & ((t == _SINGLE) | (t == _SINGLE_PARENT) | (t == _SHARED))) | is_mate
    alone &= age >= 18
    ag = np.searchsorted(_MARITAL_AGE_EDGES, age[alone], "right")
    marital[alone] = _categorical_by_group(rng, _MARITAL_P, ag)
    couple = is_head & ((t == _COUPLE) | (t == _COUPLE_KIDS)) | is_partner
    marital[couple] = np.where(married_hh[household[couple]], _MARRIED, _NEVER)

    # income band
    income = np.zeros(n, dtype=np.int64)
    earner = age >= 16
    ig = np.searchsorted(_INCOME_AGE_EDGES, age, "right")
    z = _INCOME_AGE_EFFECT[ig] + _POSTAL_WEALTH[postal] - 0.45 * disabled + rng.standard_normal(n)
    p_none = np.select([age < 22, age >= 65], [0.35, 0.04], 0.07) + 0.25 * disabled * (age < 65)
    none = rng.random(n) < p_none
    band = 1 + np.searchsorted(_INCOME_CUTS, z)
    income[earner & ~none] = band[earner & ~none]

    return _Population(
        first=first.astype(np.int64),
        last=last.astype(np.int64),
        dob=dob,
        age=age,
        female=female,
        race=race.astype(np.int64),
        postal=postal.astype(np.int64),
        household=household,
        household_size=sizes[household],
        head=is_head,
        income=income,
        marital=marital,
        disabled=disabled,
        sizes=sizes,
    )


# --- noise -------------------------------------------------------------------------------------

_LOWER = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def _typo(name: str, op: int, pos_u: float, letter: int) -> str:
    """One keyboard-style edit (substitute, delete, transpose, double) that changes ``name``.

    The case pattern of the positions is kept (a capital stays first), as a clerk would type it.
    """
    n = len(name)
    p = min(int(pos_u * n), n - 1)
    if op == 1 and n > 2:  # deletion
        out = name[:p] + name[p + 1 :]
        return out[0].upper() + out[1:] if p == 0 else out
    if op == 2 and n > 1:  # transposition of p and p+1
        p = min(p, n - 2)
        a, b = name[p], name[p + 1]
        if a.lower() != b.lower():
            a2 = b.upper() if a.isupper() else b.lower()
            b2 = a.upper() if b.isupper() else a.lower()
            return name[:p] + a2 + b2 + name[p + 2 :]
    if op == 3:  # doubled letter
        return name[: p + 1] + name[p].lower() + name[p + 1 :]
    # substitution (also the fallback)
    c = chr(_LOWER[letter])
    if c == name[p].lower():
        c = chr(_LOWER[(letter + 1) % 26])
    c = c.upper() if name[p].isupper() else c
    return name[:p] + c + name[p + 1 :]


# --- departments ----------------------------------------------------------------------------


@dataclass
class _Extract:
    """A department's rows for one chunk: columns (Arrow) and each row's resident (chunk index)."""

    columns: dict[str, Any]
    resident: np.ndarray


def _permute(rng: np.random.Generator, resident: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(resident))
    return order, resident[order]


def _sex_f_m(female: np.ndarray) -> pa.Array:
    return _decode(np.where(female, 0, 1), ("F", "M"))


def _clinic(rng: np.random.Generator, pop: _Population) -> _Extract:
    age = pop.age
    p = _CLINIC_P[np.searchsorted(_CLINIC_EDGES, age, "right")] * np.where(pop.disabled, 1.4, 1.0)
    patients = np.flatnonzero(rng.random(len(pop)) < np.minimum(p, 0.95))
    visits = 1 + np.searchsorted(_CLINIC_VISITS_CDF, rng.random(len(patients)), "right")
    _, resident = _permute(rng, np.repeat(patients, visits))
    m = len(resident)
    # diagnosis by age group (0-17, 18-44, 45-64, 65+) and sex
    weights = np.array(list(_DIAGNOSIS_WEIGHTS.values()), dtype=float).T  # (4, K)
    female_w = weights.copy()
    male_w = weights.copy()
    k_preg = DIAGNOSES.index("Pregnancy supervision")
    male_w[:, k_preg] = 0.0
    for name, f_mult, m_mult in (
        ("Depression", 1.5, 1.0),
        ("Anxiety disorder", 1.5, 1.0),
        ("Ischaemic heart disease", 1.0, 1.6),
        ("Substance use disorder", 1.0, 1.8),
        ("HIV", 1.0, 2.5),
    ):
        k = DIAGNOSES.index(name)
        female_w[:, k] *= f_mult
        male_w[:, k] *= m_mult
    table = np.vstack([female_w, male_w])
    ra = age[resident]
    group = np.searchsorted(np.array([18, 45, 65]), ra, "right") + 4 * (~pop.female[resident])
    diagnosis = _categorical_by_group(rng, table, group)
    visit_date = np.datetime64(f"{_VISIT_YEAR}-01-01") + np.floor(rng.random(m) * 365).astype(
        "timedelta64[D]"
    )
    y, mo, d = _ymd(pop.dob[resident])
    typo = _pick(rng, m, NOISE_RATES["clinic.dob_typo"])
    dt_, mt = d[typo], mo[typo]
    swap = (dt_ <= 12) & (dt_ != mt) & (rng.random(len(typo)) < 0.6)
    new_day = np.where(
        dt_ > 28,
        1 + rng.integers(0, 28, len(typo)),
        (dt_ - 1 + rng.integers(1, 28, len(typo))) % 28 + 1,
    )
    d[typo] = np.where(swap, mt, new_day)
    mo[typo] = np.where(swap, dt_, mt)
    cols = {
        "patient_dob": _ddmmyyyy(d, mo, y),
        "sex": _decode(np.where(pop.female[resident], 0, 1), ("female", "male")),
        "postal_code": _decode(pop.postal[resident], POSTAL_CODES),
        "diagnosis": _decode(diagnosis, DIAGNOSES),
        "visit_date": pa.array(visit_date, type=pa.date32()),
    }
    return _Extract(cols, resident)


def _housing(rng: np.random.Generator, pop: _Population) -> _Extract:
    heads = np.flatnonzero(pop.head)
    p = _HOUSING_P[pop.income[heads]] * np.where(pop.household_size[heads] >= 4, 1.3, 1.0)
    applicants = heads[rng.random(len(heads)) < np.minimum(p, 0.95)]
    _, resident = _permute(rng, applicants)
    m = len(resident)
    gender = np.where(pop.female[resident], 0, 1)
    gender[_pick(rng, m, NOISE_RATES["housing.gender_x"])] = 2
    typo = _pick(rng, m, NOISE_RATES["housing.zip_typo"])
    original = [POSTAL_CODES[c] for c in pop.postal[resident[typo]]]
    positions = 1 + rng.integers(0, 4, len(typo))
    shifts = rng.integers(1, 10, len(typo))
    typos = [
        code[:p] + str((int(code[p]) + s) % 10) + code[p + 1 :]
        for code, p, s in zip(original, positions.tolist(), shifts.tolist(), strict=True)
    ]
    cols = {
        "birth_year": pa.array(_ymd(pop.dob[resident])[0]),
        "gender": _decode(gender, ("F", "M", "X")),
        "zip": _decode_with(pop.postal[resident], POSTAL_CODES, typo, typos),
        "household_size": pa.array(pop.household_size[resident]),
        "income_band": _decode(pop.income[resident], INCOME_BANDS),
    }
    return _Extract(cols, resident)


def _social(rng: np.random.Generator, pop: _Population) -> _Extract:
    age, income = pop.age, pop.income
    head_income = income[np.flatnonzero(pop.head)][pop.household]
    p = (
        0.018
        + 0.20 * ((income <= 1) & (age >= 16))
        + 0.07 * (income == 2)
        + 0.25 * pop.disabled
        + 0.055 * (age >= 67)
        + 0.12 * ((age < 18) & (head_income <= 2))
    )
    clients = np.flatnonzero(rng.random(len(pop)) < p)
    _, resident = _permute(rng, clients)
    m = len(resident)
    ra, dis, inc = age[resident], pop.disabled[resident], income[resident]
    u = rng.random(m)
    unemployment, disability, housing, child, pension, none = range(6)
    benefit = np.select(
        [
            ra < 18,
            (ra >= 67) & dis,
            ra >= 67,
            dis,
            inc <= 1,
        ],
        [
            np.where(u < 0.85, child, none),
            np.where(u < 0.5, disability, np.where(u < 0.85, pension, housing)),
            np.where(u < 0.6, pension, np.where(u < 0.75, housing, none)),
            np.where(u < 0.75, disability, np.where(u < 0.85, housing, none)),
            np.where(u < 0.5, unemployment, np.where(u < 0.8, housing, none)),
        ],
        np.where(u < 0.3, unemployment, np.where(u < 0.6, housing, none)),
    )
    reported_age = ra.copy()
    off = _pick(rng, m, NOISE_RATES["social.age_off_by_one"])
    step = np.where(rng.random(len(off)) < 0.8, -1, 1)
    step[reported_age[off] == 0] = 1
    reported_age[off] += step
    cols = {
        "age": pa.array(reported_age),
        "sex": pa.array(np.where(pop.female[resident], 2, 1).astype(np.int64)),
        "zip3": _decode(_POSTAL_PREFIX_INDEX[pop.postal[resident]], [p for p, _ in _PREFIXES]),
        "marital_status": _decode(pop.marital[resident], SOCIAL_MARITAL_STATUSES),
        "benefit_type": _decode(benefit, BENEFIT_TYPES),
    }
    return _Extract(cols, resident)


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(_AGE_BAND_EDGES, age, "right")


def _transit(rng: np.random.Generator, pop: _Population) -> _Extract:
    age = pop.age
    p = (
        _TRANSIT_P[np.searchsorted(_TRANSIT_EDGES, age, "right")]
        * np.where(pop.disabled, 1.6, 1.0)
        * np.where((pop.income >= 1) & (pop.income <= 2), 1.25, 1.0)
    )
    holders = np.flatnonzero(rng.random(len(pop)) < np.minimum(p, 0.95))
    _, resident = _permute(rng, holders)
    cols = {
        "age_band": _decode(_age_band(age[resident]), AGE_BANDS),
        "postcode": _decode(pop.postal[resident], POSTAL_CODES),
        "disability": _decode(np.where(pop.disabled[resident], 0, 1), ("Y", "N")),
    }
    return _Extract(cols, resident)


def _voters(rng: np.random.Generator, pop: _Population) -> _Extract:
    age = pop.age
    adults = np.flatnonzero(age >= 18)
    p = _VOTER_P[np.searchsorted(_VOTER_EDGES, age[adults], "right")]
    registered = adults[rng.random(len(adults)) < p]
    _, resident = _permute(rng, registered)
    m = len(resident)
    female = pop.female[resident]
    # first names: female names then male names in one dictionary
    first_code = np.where(female, pop.first[resident], len(_FEMALE) + pop.first[resident])
    first_labels = list(_names.FEMALE_FIRST_NAMES) + list(_names.MALE_FIRST_NAMES)
    last_code = pop.last[resident]
    typo = _pick(rng, m, NOISE_RATES["voters.name_typo"])
    in_first = rng.random(len(typo)) < 0.4
    ops = rng.integers(0, 4, len(typo)).tolist()
    pos_u = rng.random(len(typo)).tolist()
    letters = rng.integers(0, 26, len(typo)).tolist()
    first_rows, first_vals, last_rows, last_vals = [], [], [], []
    for i, row in enumerate(typo.tolist()):
        if in_first[i]:
            first_rows.append(row)
            first_vals.append(_typo(first_labels[first_code[row]], ops[i], pos_u[i], letters[i]))
        else:
            last_rows.append(row)
            last_vals.append(_typo(_SURNAMES[last_code[row]], ops[i], pos_u[i], letters[i]))
    cols = {
        "first_name": _decode_with(
            first_code, first_labels, np.array(first_rows, np.int64), first_vals
        ),
        "last_name": _decode_with(last_code, _SURNAMES, np.array(last_rows, np.int64), last_vals),
        "dob": pa.array(pop.dob[resident], type=pa.date32()),
        "sex": _sex_f_m(female),
        "postal_code": _decode(pop.postal[resident], POSTAL_CODES),
    }
    return _Extract(cols, resident)


_DEPARTMENTS = {
    "clinic": _clinic,
    "housing": _housing,
    "social": _social,
    "transit": _transit,
    "voters": _voters,
}

# record ids: (prefix, digits); id = (a * k + b) mod 10**digits for the k-th record written
_RECORD_ID_FORMAT = {
    "clinic": (b"V", 9),
    "housing": (b"HA", 8),
    "social": (b"SC", 8),
    "transit": (b"TP", 9),
    "voters": (b"VR", 9),
}


def _affine_params(seed: int) -> dict[str, tuple[int, int]]:
    """Per-department multiplier (coprime to 10) and offset for random-looking record ids."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 30,)))
    params = {}
    for name in DATASETS:
        modulus = 10 ** _RECORD_ID_FORMAT[name][1]
        a = int(rng.integers(modulus // 3, modulus))
        while a % 2 == 0 or a % 5 == 0:
            a += 1
        params[name] = (a, int(rng.integers(0, modulus)))
    return params


# --- writing ----------------------------------------------------------------------------------


class _Writer:
    """Stream tables to ``<final>`` through a hidden temporary file (moved into place at the end)."""

    def __init__(self, final: Path, schema: pa.Schema, fmt: str, header: bool = True) -> None:
        self.final = final
        self.tmp = final.with_name(f".{final.name}.tmp")
        self.schema = schema
        self.rows = 0
        if fmt == "csv":
            import pyarrow.csv as pacsv

            self._fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
            if header:
                self._fh.write((",".join(schema.names) + "\n").encode())
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            self._w = pacsv.CSVWriter(self._fh, schema, write_options=options)
        else:
            import pyarrow.parquet as pq

            self._fh = None
            self._w = pq.ParquetWriter(self.tmp, schema, compression="zstd")

    def write(self, columns: Mapping[str, Any]) -> None:
        table = pa.table({name: columns[name] for name in self.schema.names}, schema=self.schema)
        self._w.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._w.close()
        if self._fh is not None:
            self._fh.close()

    def abort(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort on the error path
            pass
        self.tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class CityGenerationResult:
    """What :func:`generate` wrote: files, row counts and timing."""

    out_dir: Path
    n_residents: int
    seed: int
    format: str
    files: Mapping[str, Path] = field(default_factory=dict)
    rows: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "out_dir": str(self.out_dir),
            "n_residents": self.n_residents,
            "seed": self.seed,
            "format": self.format,
            "files": {k: str(v) for k, v in self.files.items()},
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 3),
        }


def default_out_dir(n_residents: int, seed: int) -> Path:
    """Where ``workbench samples generate`` writes when no ``--out`` is given (git-ignored)."""
    return Path("data") / "generated" / f"city_{n_residents}_seed{seed}"


def _check_out_dir(out_dir: Path, force: bool) -> None:
    from ._registry import samples_dir

    committed = samples_dir().resolve()
    target = out_dir.resolve()
    if not force and (target == committed or committed in target.parents):
        raise ParameterError(
            "out_dir",
            str(out_dir),
            f"a directory outside the committed samples {committed} (use force=True / --force "
            "to regenerate the committed city)",
        )


def generate(
    n_residents: int = DEFAULT_RESIDENTS,
    seed: int = DEFAULT_SEED,
    out_dir: str | Path | None = None,
    *,
    format: str = "csv",
    force: bool = False,
) -> CityGenerationResult:
    """Write the synthetic city (population, five extracts, ground truth, catalog) to ``out_dir``.

    Parameters
    ----------
    n_residents : int
        Population size; department sizes follow (clinic about 27 % of residents, housing 10 %,
        social services 12 %, transit 20 %, voters 70 % of adults).
    seed : int
        Seed of every random draw: the same seed and size give byte-identical files.
    out_dir : path, optional
        Target directory (created). Default :func:`default_out_dir`. Writing into the committed
        ``data/samples`` needs ``force=True``.
    format : {"csv", "parquet"}
        File format of the data files.
    force : bool
        Allow regenerating the committed sample in place.

    Returns
    -------
    CityGenerationResult
    """
    if isinstance(n_residents, bool) or not isinstance(n_residents, int | np.integer):
        raise ParameterError("n_residents", n_residents, "an integer")
    if not 1 <= n_residents <= MAX_RESIDENTS:
        raise ParameterError("n_residents", n_residents, f"between 1 and {MAX_RESIDENTS:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError("seed", seed, "a non-negative integer")
    if format not in ("csv", "parquet"):
        raise ParameterError("format", format, "'csv' or 'parquet'")
    n_residents, seed = int(n_residents), int(seed)
    out = Path(out_dir) if out_dir is not None else default_out_dir(n_residents, seed)
    _check_out_dir(out, force)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ext = ".csv" if format == "csv" else ".parquet"
    files = {name: out / f"{stem}{ext}" for name, stem in FILE_STEMS.items()}
    writers: dict[str, _Writer] = {}
    truth_parts: dict[str, _Writer] = {}
    try:
        for name in ("population", *DATASETS):
            writers[name] = _Writer(files[name], _SCHEMAS[name], format)
        for name in DATASETS:
            part = out / f"ground_truth.{name}{ext}"
            truth_parts[name] = _Writer(part, _SCHEMAS["ground_truth"], format, header=False)
        _generate_chunks(n_residents, seed, writers, truth_parts)
        for w in (*writers.values(), *truth_parts.values()):
            w.close()
        _merge_truth(files["ground_truth"], [truth_parts[d].tmp for d in DATASETS], format)
        for w in writers.values():
            os.replace(w.tmp, w.final)
    except BaseException:
        for w in (*writers.values(), *truth_parts.values()):
            w.abort()
        raise
    finally:
        for w in truth_parts.values():
            w.tmp.unlink(missing_ok=True)
    _write_catalog(out / "catalog.yaml", ext)
    rows = {name: w.rows for name, w in writers.items()}
    rows["ground_truth"] = sum(w.rows for w in truth_parts.values())
    files_out = {**files, "catalog": out / "catalog.yaml"}
    return CityGenerationResult(
        out_dir=out,
        n_residents=n_residents,
        seed=seed,
        format=format,
        files=MappingProxyType(files_out),
        rows=MappingProxyType(rows),
        seconds=time.perf_counter() - started,
    )


def _generate_chunks(
    n_residents: int, seed: int, writers: dict[str, _Writer], truth: dict[str, _Writer]
) -> None:
    width = max(6, len(str(n_residents)))
    affine = _affine_params(seed)
    counters = dict.fromkeys(DATASETS, 0)
    first_resident = 0
    first_household = 0
    for chunk, start in enumerate(range(0, n_residents, CHUNK_RESIDENTS)):
        n = min(CHUNK_RESIDENTS, n_residents - start)
        seeds = np.random.SeedSequence(seed, spawn_key=(chunk,)).spawn(1 + len(DATASETS))
        pop = _population(np.random.default_rng(seeds[0]), n)
        resident_ids = _fixed_strings(n, [b"R", (first_resident + 1 + np.arange(n), width)])
        household_ids = _fixed_strings(n, [b"H", (first_household + 1 + pop.household, width)])
        first_labels = np.where(pop.female, pop.first, len(_FEMALE) + pop.first)
        writers["population"].write(
            {
                "resident_id": resident_ids,
                "first_name": _decode(
                    first_labels, _names.FEMALE_FIRST_NAMES + _names.MALE_FIRST_NAMES
                ),
                "last_name": _decode(pop.last, _SURNAMES),
                "date_of_birth": pa.array(pop.dob, type=pa.date32()),
                "sex": _sex_f_m(pop.female),
                "race_ethnicity": _decode(pop.race, RACE_ETHNICITIES),
                "postal_code": _decode(pop.postal, POSTAL_CODES),
                "household_id": household_ids,
                "household_size": pa.array(pop.household_size),
                "income_band": _decode(pop.income, INCOME_BANDS),
                "marital_status": _decode(pop.marital, MARITAL_STATUSES),
            }
        )
        for i, name in enumerate(DATASETS, start=1):
            extract = _DEPARTMENTS[name](np.random.default_rng(seeds[i]), pop)
            m = len(extract.resident)
            a, b = affine[name]
            prefix, digits = _RECORD_ID_FORMAT[name]
            k = counters[name] + np.arange(m, dtype=np.int64)
            record_ids = _fixed_strings(m, [prefix, ((a * k + b) % 10**digits, digits)])
            counters[name] += m
            writers[name].write({RECORD_ID_COLUMNS[name]: record_ids, **extract.columns})
            truth[name].write(
                {
                    "dataset": pa.array([name] * m, type=pa.string()),
                    "record_id": record_ids,
                    "resident_id": resident_ids.take(pa.array(extract.resident)),
                }
            )
        first_resident += n
        first_household += len(pop.sizes)


def _merge_truth(final: Path, parts: list[Path], fmt: str) -> None:
    schema = _SCHEMAS["ground_truth"]
    writer = _Writer(final, schema, fmt)
    try:
        if fmt == "csv":
            writer.close()
            with open(writer.tmp, "ab") as out:
                for part in parts:
                    with open(part, "rb") as fh:
                        while block := fh.read(1 << 22):
                            out.write(block)
        else:
            import pyarrow.parquet as pq

            for part in parts:
                for batch in pq.ParquetFile(part).iter_batches():
                    writer.write({n: batch.column(n) for n in schema.names})
            writer.close()
        os.replace(writer.tmp, final)
    except BaseException:
        writer.abort()
        raise


# --- catalog -----------------------------------------------------------------------------------

_CATALOG_ENTRIES: dict[str, dict[str, Any]] = {
    "clinic": {
        "department": "Health",
        "purpose": "Treatment and care quality",
        "roles": {
            "direct_identifiers": ["visit_id"],
            "quasi_identifiers": ["patient_dob", "sex", "postal_code"],
            "sensitive": ["diagnosis"],
            "other": ["visit_date"],
        },
        "metadata": {
            "description": "One row per clinic visit in 2025; a patient may have several visits.",
            "record_unit": "visit",
            "record_id": "visit_id",
            "date_formats": {"patient_dob": "%d/%m/%Y", "visit_date": "%Y-%m-%d"},
            "codes": {"sex": {"female": "female", "male": "male"}},
            "noise": "about 1 % of patient_dob values have day and month swapped or a mistyped day",
        },
    },
    "housing": {
        "department": "Housing",
        "purpose": "Housing assistance eligibility and allocation",
        "roles": {
            "direct_identifiers": ["application_id"],
            "quasi_identifiers": ["birth_year", "gender", "zip", "household_size"],
            "sensitive": ["income_band"],
        },
        "metadata": {
            "description": "One application per assisted household, filed by the household head.",
            "record_unit": "application",
            "record_id": "application_id",
            "codes": {"gender": {"F": "female", "M": "male", "X": "not specified"}},
            "order": {"income_band": list(INCOME_BANDS)},
            "noise": "about 1 % of zip values have one mistyped digit",
        },
    },
    "social": {
        "department": "Social Services",
        "purpose": "Case management and benefit administration",
        "roles": {
            "direct_identifiers": ["case_id"],
            "quasi_identifiers": ["age", "sex", "zip3", "marital_status"],
            "sensitive": ["benefit_type"],
        },
        "metadata": {
            "description": "One open case per client; postal codes kept as 3-digit prefixes.",
            "record_unit": "case",
            "record_id": "case_id",
            "codes": {"sex": {1: "male", 2: "female"}},
            "age_reference_date": REFERENCE_DATE.isoformat(),
            "noise": "about 3 % of ages were computed at case opening and are off by one year",
        },
    },
    "transit": {
        "department": "Transit",
        "purpose": "Reduced-fare pass issuance",
        "roles": {
            "direct_identifiers": ["pass_id"],
            "quasi_identifiers": ["age_band", "postcode"],
            "sensitive": ["disability"],
        },
        "metadata": {
            "description": "One reduced-fare pass per holder.",
            "record_unit": "pass",
            "record_id": "pass_id",
            "codes": {"disability": {"Y": "yes", "N": "no"}},
            "order": {"age_band": list(AGE_BANDS)},
            "age_reference_date": REFERENCE_DATE.isoformat(),
        },
    },
    "voters": {
        "department": "Elections",
        "purpose": "Public voter registration list: the attacker's external data",
        "roles": {
            "direct_identifiers": ["voter_id", "first_name", "last_name"],
            "quasi_identifiers": ["dob", "sex", "postal_code"],
        },
        "external": True,
        "metadata": {
            "description": "Registered adult voters, publicly available with names.",
            "record_unit": "registered voter",
            "record_id": "voter_id",
            "codes": {"sex": {"F": "female", "M": "male"}},
            "date_formats": {"dob": "%Y-%m-%d"},
            "noise": "about 2.5 % of rows have a typo in the first or last name",
        },
    },
}


def catalog_document(ext: str = ".csv") -> dict[str, Any]:
    """The city's catalog as a plain dict (the contract's catalog format, without policies)."""
    datasets = {}
    for name in DATASETS:
        entry = _CATALOG_ENTRIES[name]
        datasets[name] = {
            "file": f"{FILE_STEMS[name]}{ext}",
            "department": entry["department"],
            "purpose": entry["purpose"],
            "roles": entry["roles"],
            "external": entry.get("external", False),
            "population": "residents",
            "metadata": {**entry["metadata"], "synthetic": True},
        }
    return {
        "name": "city",
        "reference_date": REFERENCE_DATE.isoformat(),
        "populations": {
            "residents": {
                "description": "People living in the city; every dataset's privacy unit is a "
                "resident, so differentially private releases about any of them charge one "
                "privacy-loss ledger.",
            }
        },
        "datasets": datasets,
        "crosswalk": [],
        # The files carry no join key; demo joins attach one from the ground truth. Declared
        # here so that no core code needs to know about the sample city.
        "join_key": {
            "column": "person_key",
            "table": f"{FILE_STEMS['ground_truth']}{ext}",
            "dataset_column": "dataset",
            "record_column": "record_id",
            "person_column": "resident_id",
        },
    }


def _catalog_dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Lists of scalars in flow style (``[a, b]``), everything else in block style."""

    def represent_list(dumper: yaml.SafeDumper, data: list) -> Any:
        flow = all(not isinstance(v, dict | list) for v in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    Dumper.add_representer(list, represent_list)
    return Dumper


def _write_catalog(path: Path, ext: str) -> None:
    """Write catalog.yaml, keeping ``policy``, ``hosting`` and ``crosswalk`` of an existing catalog."""
    import yaml

    from .._io import atomic_write_text

    doc = catalog_document(ext)
    _CatalogDumper = _catalog_dumper()  # noqa: N806 - a class
    if path.exists():
        try:
            old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            old = {}
        for name, entry in (old.get("datasets") or {}).items():
            if name in doc["datasets"] and isinstance(entry, dict):
                for key in ("policy", "hosting"):  # added by governance, kept
                    if key in entry:
                        doc["datasets"][name][key] = entry[key]
        if old.get("crosswalk"):
            doc["crosswalk"] = old["crosswalk"]
    header = (
        "# Synthetic city catalog, written by `workbench samples generate`.\n"
        "# All people in these files are synthetic. `policy:` entries are added by governance\n"
        "# and kept when the city is regenerated.\n"
    )
    body = yaml.dump(doc, Dumper=_CatalogDumper, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(path, header + body)


# --- ground truth, export ----------------------------------------------------------------------


def _source_dir(source_dir: str | Path | None) -> Path:
    if source_dir is not None:
        return Path(source_dir)
    from ._registry import samples_dir

    return samples_dir() / "city"


def _find_file(directory: Path, name: str) -> Path:
    """The city file of ``name``, in the format the directory's catalog names (else CSV first)."""
    extensions = [".csv", ".parquet"]
    catalog = directory / "catalog.yaml"
    if catalog.is_file():
        import yaml

        try:
            doc = yaml.safe_load(catalog.read_text(encoding="utf-8")) or {}
            listed = Path(str(doc["datasets"]["clinic"]["file"])).suffix
        except (yaml.YAMLError, KeyError, TypeError):
            listed = ""
        if listed in extensions:
            extensions.remove(listed)
            extensions.insert(0, listed)
    for ext in extensions:
        path = directory / f"{FILE_STEMS[name]}{ext}"
        if path.exists():
            return path
    raise MissingFileError(
        f"no {FILE_STEMS[name]}.csv or .parquet (generate the city with `workbench samples "
        "generate`)",
        path=directory,
    )


def _read_strings(path: Path) -> Any:
    """Read a city file with every value as text, so codes keep their exact spelling."""
    import pandas as pd

    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return frame.astype({c: "string" for c in frame.columns}).astype(object)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def read_ground_truth(dataset: str | None = None, source_dir: str | Path | None = None) -> Any:
    """The ground truth (``dataset, record_id, resident_id``) as a pandas DataFrame.

    For scoring linkage attacks only: it is what no department holds.
    """
    if dataset is not None and dataset not in DATASETS:
        raise ParameterError("dataset", dataset, f"one of {', '.join(DATASETS)}")
    frame = _read_strings(_find_file(_source_dir(source_dir), "ground_truth"))
    if dataset is not None:
        frame = frame[frame["dataset"] == dataset].reset_index(drop=True)
    return frame


def pseudonymize(values: Any, key: bytes) -> list[str | None]:
    """Keyed pseudonyms of ``values``: :func:`workbench.deid.pseudonym.pseudonymize_values`.

    Kept as a name for callers of 0.1; there is one implementation (16 hex characters, missing
    values stay missing, keys of at least 16 bytes).
    """
    from ..deid.pseudonym import pseudonymize_values

    return pseudonymize_values(values, key)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_release` wrote: the file and what was done to direct identifiers."""

    path: Path
    release: Any  # workbench.deid.release.ReleaseReport
    sources: tuple[Path, ...] = ()


def export(
    name: str,
    out: str | Path,
    truth: bool = False,
    pseudonym: bool = False,
    *,
    key_file: str | Path | None = None,
    source_dir: str | Path | None = None,
    direct_identifiers: str | None = None,
) -> Path:
    """Write a city department file with the resident added, for scoring or authorised joins.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    out : path
        Output file (``.csv`` or ``.parquet``); never one of the source files.
    truth : bool
        Add ``resident_id`` (the ground truth) as the first column. The file is then a scoring
        file, not a release: ``direct_identifiers`` must be ``"keep"`` (its default with
        ``truth``), and ``workbench check`` fails it.
    pseudonym : bool
        Add ``person_key``, the keyed pseudonym of the resident id
        (:func:`workbench.deid.pseudonym.pseudonymize_values`, key from ``key_file`` or else
        ``WORKBENCH_PSEUDONYM_KEY``): departments exporting with the same key can be joined
        without revealing who is who. Raises :class:`KeyMissingError` without a key.
    source_dir : path, optional
        City directory to read (default: the committed ``data/samples/city``).
    direct_identifiers : {"drop", "pseudonymize", "keep"}, optional
        What happens to the department's direct identifiers (its record id; names on the voter
        roll), as in :func:`workbench.deid.release.write_release`. Default ``"drop"``, or
        ``"keep"`` with ``truth``.
    """
    return export_release(
        name,
        out,
        truth,
        pseudonym,
        key_file=key_file,
        source_dir=source_dir,
        direct_identifiers=direct_identifiers,
    ).path


def export_release(
    name: str,
    out: str | Path,
    truth: bool = False,
    pseudonym: bool = False,
    *,
    key_file: str | Path | None = None,
    source_dir: str | Path | None = None,
    direct_identifiers: str | None = None,
) -> ExportResult:
    """:func:`export`, also returning the release report (for the JSON output and provenance)."""
    from .._io import ensure_not_source
    from ..deid.pseudonym import load_pseudonym_key
    from ..deid.release import RELEASE_MODES, DirectIdentifierWarning, write_release

    if name not in DATASETS:
        raise ParameterError("name", name, f"one of {', '.join(DATASETS)}")
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise ParameterError("out", str(out), "a file name ending in .csv or .parquet")
    mode = direct_identifiers or ("keep" if truth else "drop")
    if mode not in RELEASE_MODES:
        raise ParameterError("direct_identifiers", mode, "one of " + ", ".join(RELEASE_MODES))
    if truth and mode != "keep":
        raise ParameterError(
            "direct_identifiers",
            mode,
            "keep with truth (the ground-truth resident_id is itself a direct identifier)",
        )
    key = load_pseudonym_key(key_file=key_file)[0] if pseudonym else None
    directory = _source_dir(source_dir)
    source = _find_file(directory, name)
    truth_file = _find_file(directory, "ground_truth")
    ensure_not_source(out, [source, truth_file])
    frame = _read_strings(source)
    record_col = RECORD_ID_COLUMNS[name]
    gt = read_ground_truth(name, directory)
    mapping = dict(zip(gt["record_id"], gt["resident_id"], strict=True))
    residents = frame[record_col].map(mapping)
    if residents.isna().any():
        missing = int(residents.isna().sum())
        raise ParameterError(
            "source_dir",
            str(directory),
            f"a ground truth covering every {name} record ({missing} records have none)",
        )
    added = {}
    if truth:
        added["resident_id"] = residents
    if key is not None:
        added["person_key"] = pseudonymize(residents, key)
        del key
    for i, (col, values) in enumerate(added.items()):
        frame.insert(i, col, list(values))
    declared = [
        *(["resident_id"] if truth else []),
        *_CATALOG_ENTRIES[name]["roles"].get("direct_identifiers", []),
    ]
    with warnings.catch_warnings():
        if truth:  # a scoring file by request: the kept identifiers are its purpose
            warnings.simplefilter("ignore", DirectIdentifierWarning)
        report = write_release(
            frame,
            out,
            mode,
            direct_identifiers=declared,
            key_file=key_file,
            sources=[source, truth_file],
        )
    return ExportResult(out, report, (source, truth_file))
