"""Column roles: direct identifier, quasi-identifier, sensitive attribute, other.

The roles follow the usual statistical-disclosure-control vocabulary (ARX's *identifying /
quasi-identifying / sensitive / insensitive*; sdcMicro's key variables and sensitive variables):

* **direct identifier** - identifies a person on its own (name, e-mail, national id, record id);
  removed or pseudonymised before release;
* **quasi-identifier** - harmless alone, identifying in combination with other public data (date
  of birth, sex and ZIP code single out 87 % of Americans; Sweeney 2000, "Simple Demographics
  Often Identify People Uniquely", CMU Data Privacy Working Paper 3);
* **sensitive attribute** - what must not be learned about a person (health, income, ...;
  the special categories of GDPR Art. 9 and 10);
* **other** - none of these.

:func:`suggest_roles` proposes a role per column with a one-line reason and a confidence, from
the column name (English, German, French, Spanish, Dutch and some Italian/Polish spellings), the
value patterns found by :mod:`workbench.profiling.profiler` and the column's uniqueness. A privacy officer
overrides any suggestion with :meth:`RoleMap.with_role`; role maps save to and load from JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._io import atomic_write_text
from ..errors import ColumnNotFoundError, ConfigError, MissingFileError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from .profiler import ColumnProfile, DatasetProfile

__all__ = [
    "Role",
    "RoleSuggestion",
    "RoleSuggestions",
    "RoleMap",
    "suggest_roles",
    "suggest_from_profile",
    "is_code_column",
    "DirectIdentifier",
    "find_direct_identifiers",
]


class Role(StrEnum):
    """The role a column plays in disclosure risk."""

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        """Read a role, also in ARX (``identifying``, ``insensitive``) and short forms (``qi``)."""
        if isinstance(value, Role):
            return value
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        role = _ROLE_ALIASES.get(key)
        if role is None:
            raise ValueError(
                f"unknown role {value!r}; expected one of " + ", ".join(r.value for r in cls)
            )
        return role


_ROLE_ALIASES: dict[str, Role] = {
    **{r.value: r for r in Role},
    "direct": Role.DIRECT_IDENTIFIER,
    "direct_identifiers": Role.DIRECT_IDENTIFIER,
    "identifier": Role.DIRECT_IDENTIFIER,
    "identifying": Role.DIRECT_IDENTIFIER,
    "di": Role.DIRECT_IDENTIFIER,
    "quasi": Role.QUASI_IDENTIFIER,
    "quasi_identifiers": Role.QUASI_IDENTIFIER,
    "quasi_identifying": Role.QUASI_IDENTIFIER,
    "qi": Role.QUASI_IDENTIFIER,
    "key": Role.QUASI_IDENTIFIER,
    "sensitive_attribute": Role.SENSITIVE,
    "sensitive_attributes": Role.SENSITIVE,
    "insensitive": Role.OTHER,
    "none": Role.OTHER,
}

_GROUP_KEYS = {
    "direct_identifiers": Role.DIRECT_IDENTIFIER,
    "quasi_identifiers": Role.QUASI_IDENTIFIER,
    "sensitive": Role.SENSITIVE,
    "other": Role.OTHER,
}


# --------------------------------------------------------------------------------------------
# RoleMap


@dataclass(frozen=True, eq=False)
class RoleMap:
    """Column -> :class:`Role`, in file order. Immutable: overrides return a new map.

    ``roles`` may be given as a mapping or as (column, role) pairs, with roles as :class:`Role`
    members or strings (``"quasi_identifier"``, ARX's ``"quasi-identifying"``, ``"qi"``, ...).

    Examples
    --------
    >>> m = RoleMap({"dob": "quasi_identifier", "name": "direct_identifier"})
    >>> m.with_role("dob", Role.OTHER).quasi_identifiers
    ()
    >>> RoleMap.from_dict(m.to_dict()) == m
    True
    """

    roles: Mapping[str, Role]

    def __post_init__(self) -> None:
        raw = self.roles
        items = raw.items() if isinstance(raw, Mapping) else raw
        parsed: dict[str, Role] = {}
        for column, role in items:
            if not isinstance(column, str) or not column:
                raise ConfigError(
                    f"role map: column names must be non-empty strings, got {column!r}"
                )
            try:
                parsed[column] = Role.parse(role)
            except ValueError as exc:
                raise ConfigError(f"role map: column {column!r}: {exc}") from None
        object.__setattr__(self, "roles", MappingProxyType(parsed))

    def _with(self, role: Role) -> tuple[str, ...]:
        return tuple(c for c, r in self.roles.items() if r is role)

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        return self._with(Role.DIRECT_IDENTIFIER)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        return self._with(Role.QUASI_IDENTIFIER)

    @property
    def sensitive(self) -> tuple[str, ...]:
        return self._with(Role.SENSITIVE)

    @property
    def other(self) -> tuple[str, ...]:
        return self._with(Role.OTHER)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.roles)

    def role_of(self, column: str) -> Role:
        """The role of ``column`` (:class:`ColumnNotFoundError` if it is not in the map)."""
        try:
            return self.roles[column]
        except KeyError:
            raise ColumnNotFoundError(column, list(self.roles), "role map") from None

    def with_role(self, column: str, role: Role | str) -> RoleMap:
        """A new map with ``column`` set to ``role`` (the user's override of a suggestion)."""
        if column not in self.roles:
            raise ColumnNotFoundError(column, list(self.roles), "role map")
        try:
            parsed = Role.parse(role)
        except ValueError:
            raise ParameterError("role", role, ", ".join(r.value for r in Role)) from None
        return RoleMap({c: (parsed if c == column else r) for c, r in self.roles.items()})

    def with_roles(self, overrides: Mapping[str, Role | str]) -> RoleMap:
        """Apply several overrides at once."""
        out = self
        for column, role in overrides.items():
            out = out.with_role(column, role)
        return out

    def check(self, columns: Iterable[str], source: str | None = None) -> None:
        """Raise :class:`ColumnNotFoundError` for a mapped column missing from ``columns``."""
        available = list(columns)
        for column in self.roles:
            if column not in available:
                raise ColumnNotFoundError(column, available, source)

    def to_dict(self) -> dict[str, dict[str, str]]:
        """``{"columns": {column: role_value}}`` in file order."""
        return {"columns": {c: r.value for c, r in self.roles.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoleMap:
        """Read ``{"columns": {...}}`` or the grouped form.

        The grouped form is ``{"direct_identifiers": [...], "quasi_identifiers": [...],
        "sensitive": [...], "other": [...]}`` (each key optional), as in catalogs.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"role map: expected a JSON object, got {type(data).__name__}")
        if "columns" in data:
            extra = sorted(set(data) - {"columns"})
            if extra:
                raise ConfigError(f"role map: unexpected keys {extra} next to 'columns'")
            cols = data["columns"]
            if not isinstance(cols, Mapping):
                raise ConfigError("role map: 'columns' must map column names to roles")
            return cls(cols)
        unknown = sorted(set(data) - set(_GROUP_KEYS))
        if unknown:
            raise ConfigError(
                f"role map: unknown keys {unknown}; expected 'columns' or any of "
                + ", ".join(_GROUP_KEYS)
            )
        roles: dict[str, Role] = {}
        for key, role in _GROUP_KEYS.items():
            names = data.get(key) or []
            if isinstance(names, str) or not isinstance(names, Iterable):
                raise ConfigError(f"role map: {key!r} must be a list of column names")
            for name in names:
                if name in roles:
                    raise ConfigError(
                        f"role map: column {name!r} is listed as both {roles[name].value} "
                        f"and {role.value}"
                    )
                roles[name] = role
        return cls(roles)

    def save(self, path: str | Path, sources: Iterable[str | Path] = ()) -> Path:
        """Write the map as JSON (atomically; never over one of ``sources``)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        return atomic_write_text(path, text, sources=sources)

    @classmethod
    def load(cls, path: str | Path) -> RoleMap:
        """Read a map written by :meth:`save` (or by hand, in either accepted form)."""
        p = Path(path)
        if not p.exists():
            raise MissingFileError("role map file not found", p)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{p}, line {exc.lineno}: invalid JSON at character {exc.colno}: {exc.msg}"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{p}: not UTF-8 text (byte offset {exc.start})") from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None

    @classmethod
    def from_columns(
        cls,
        columns: Iterable[str],
        *,
        direct_identifiers: Iterable[str] = (),
        quasi_identifiers: Iterable[str] = (),
        sensitive: Iterable[str] = (),
    ) -> RoleMap:
        """Every column of ``columns`` (file order), ``other`` unless listed."""
        cols = list(columns)
        given = {
            **{c: Role.DIRECT_IDENTIFIER for c in direct_identifiers},
            **{c: Role.QUASI_IDENTIFIER for c in quasi_identifiers},
            **{c: Role.SENSITIVE for c in sensitive},
        }
        for c in given:
            if c not in cols:
                raise ColumnNotFoundError(c, cols)
        return cls({c: given.get(c, Role.OTHER) for c in cols})

    def __len__(self) -> int:
        return len(self.roles)

    def __iter__(self) -> Iterator[str]:
        return iter(self.roles)

    def __contains__(self, column: object) -> bool:
        return column in self.roles

    def __getitem__(self, column: str) -> Role:
        return self.role_of(column)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RoleMap):
            return NotImplemented
        return dict(self.roles) == dict(other.roles)

    def __hash__(self) -> int:
        return hash(frozenset(self.roles.items()))

    def __repr__(self) -> str:
        parts = ", ".join(f"{c!r}: {r.value!r}" for c, r in self.roles.items())
        return f"RoleMap({{{parts}}})"


# --------------------------------------------------------------------------------------------
# suggestions


@dataclass(frozen=True)
class RoleSuggestion:
    """A proposed role for one column, with a one-line reason and a confidence in [0, 1]."""

    column: str
    role: Role
    reason: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "role": self.role.value,
            "reason": self.reason,
            "confidence": round(float(self.confidence), 2),
        }


@dataclass(frozen=True)
class RoleSuggestions:
    """All suggestions for a dataset, in file order; :attr:`role_map` is the map they imply."""

    suggestions: tuple[RoleSuggestion, ...]

    @property
    def role_map(self) -> RoleMap:
        return RoleMap({s.column: s.role for s in self.suggestions})

    def __iter__(self) -> Iterator[RoleSuggestion]:
        return iter(self.suggestions)

    def __len__(self) -> int:
        return len(self.suggestions)

    def __getitem__(self, column: str) -> RoleSuggestion:
        for s in self.suggestions:
            if s.column == column:
                return s
        raise ColumnNotFoundError(column, [s.column for s in self.suggestions], "suggestions")

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestions": [s.to_dict() for s in self.suggestions],
            "role_map": self.role_map.to_dict(),
        }

    def to_text(self) -> str:
        width = max([6, *(len(s.column) for s in self.suggestions)])
        lines = [f"{'column'.ljust(width)}  {'role':<17}  conf  reason"]
        for s in self.suggestions:
            lines.append(
                f"{s.column.ljust(width)}  {s.role.value:<17}  {s.confidence:.2f}  {s.reason}"
            )
        return "\n".join(lines) + "\n"


def suggest_roles(dataset: Any, *, profile: DatasetProfile | None = None) -> RoleSuggestions:
    """Propose a role for every column of ``dataset``.

    Parameters
    ----------
    dataset : Dataset, pandas/polars DataFrame or DuckDB relation
    profile : DatasetProfile, optional
        Reuse an existing profile instead of computing one.

    Returns
    -------
    RoleSuggestions
        ``.suggestions`` (column, role, reason, confidence) and ``.role_map``.

    Notes
    -----
    Evidence, strongest first: values that look like direct identifiers (e-mail, phone,
    checksum-valid national ids, IBAN, card numbers, IP addresses, many common person names)
    make a column a direct identifier whatever its name; otherwise the column name vocabulary
    decides; otherwise uniqueness (near-unique id-like values: direct identifier), dates
    (quasi-identifier) and ICD-10 shaped codes (sensitive). Race/ethnicity is a
    quasi-identifier in census-style data (published next to sex, age, marital status, ...) and a
    sensitive attribute otherwise.
    """
    if profile is None:
        from .profiler import profile as _profile

        profile = _profile(dataset, suggest=False)
    return suggest_from_profile(profile)


def suggest_from_profile(profile: DatasetProfile) -> RoleSuggestions:
    """Role suggestions from a profile alone (no access to the rows)."""
    matches = {c.name: _match_name(c.name) for c in profile.columns}
    out = []
    for col in profile.columns:
        out.append(_suggest_column(col, matches[col.name], matches, profile))
    return RoleSuggestions(tuple(out))


@dataclass(frozen=True)
class DirectIdentifier:
    """A column that must not leave in a release, and why (never one of its values).

    ``source`` is ``"role map"`` (declared), ``"suggested"`` (role suggestion: name, uniqueness
    or values) or ``"values"`` (the values look like identifiers although the role map says
    otherwise).
    """

    column: str
    reason: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "reason": self.reason, "source": self.source}


def find_direct_identifiers(
    dataset: Any, roles: RoleMap | None = None, *, profile: DatasetProfile | None = None
) -> tuple[DirectIdentifier, ...]:
    """The columns of ``dataset`` that are direct identifiers: the one rule for releases.

    Used by every writer of record-level data (:mod:`workbench.deid.release`) and by the
    privacy gate's ``direct_identifier_present`` finding, so what a release removes is exactly
    what the gate looks for. A column is a direct identifier when

    * the role map (``roles``) says so, or, for columns the role map does not list, the role
      suggestion does (names such as ``email`` or ``visit_id``, near-unique record ids, free
      text); a keyed pseudonym (``person_key`` holding hex digests) is not one;
    * whatever the role map says, its values look like e-mail addresses, phone numbers,
      national ids, payment cards, IBANs, IP addresses or common person names (fail closed: a
      declared role cannot hide such values).
    """
    if profile is None:
        from .profiler import profile as _profile

        profile = _profile(dataset, suggest=False)
    suggestions = suggest_from_profile(profile)
    out = []
    for col, sug in zip(profile.columns, suggestions, strict=True):
        if roles is not None and col.name in roles:
            if roles[col.name] is _DI:
                out.append(
                    DirectIdentifier(col.name, "direct identifier in the role map", "role map")
                )
                continue
            evidence = _value_evidence(col)
            if evidence:
                reason = f"{max(evidence)[1]} (the role map says {roles[col.name].value})"
                out.append(DirectIdentifier(col.name, reason, "values"))
        elif sug.role is _DI:
            out.append(DirectIdentifier(col.name, sug.reason, "suggested"))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# vocabulary

_DI, _QI, _S, _O = Role.DIRECT_IDENTIFIER, Role.QUASI_IDENTIFIER, Role.SENSITIVE, Role.OTHER


@dataclass(frozen=True)
class _Category:
    key: str
    role: Role
    label: str
    why: str
    confidence: float
    terms: frozenset[str]
    last_only: bool = False  # generic words that only count as the column's last token


def _load_vocabularies() -> tuple[tuple[_Category, ...], frozenset[str]]:
    """The column-name vocabularies, kept as data (``workbench/data/vocabularies/roles.json``)
    so that adding a language or a synonym is an edit to a data file, not to code."""
    text = resources.files("workbench").joinpath("data", "vocabularies", "roles.json")
    doc = json.loads(text.read_text("utf-8"))
    categories = tuple(
        _Category(
            key=c["key"],
            role=Role(c["role"]),
            label=c["label"],
            why=c["why"],
            confidence=float(c["confidence"]),
            terms=frozenset(c["terms"]),
            last_only=bool(c.get("last_only", False)),
        )
        for c in doc["categories"]
    )
    return categories, frozenset(doc["not_person"])


_VOCAB, _NOT_PERSON = _load_vocabularies()
_CENSUS_KEYS = frozenset(
    {
        "age",
        "dob",
        "birth_year",
        "sex",
        "marital",
        "education",
        "occupation",
        "country",
        "household",
    }
)
_SPLIT_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class _NameMatch:
    category: _Category
    term: str
    confidence: float


def _tokens(column: str) -> list[str]:
    from .profiler import _fold

    spaced = _SPLIT_CAMEL.sub(" ", column)
    return [t for t in re.split(r"[^0-9a-z]+", _fold(spaced)) if t]


def _match_name(column: str) -> _NameMatch | None:
    """Best vocabulary match for a column name: the longest matched term wins."""
    tokens = _tokens(column)
    if not tokens:
        return None
    stripped = [re.sub(r"\d+$", "", t) or t for t in tokens]
    if stripped[-1] in _PSEUDONYM_SUFFIXES:  # ``email_pseudonym``: what a release writes
        return _NameMatch(_PSEUDONYM, stripped[-1], _PSEUDONYM.confidence)
    full = "".join(tokens)
    grams: dict[str, float] = {}  # candidate -> confidence factor
    for seq in (tokens, stripped):
        for n in (3, 2, 1):
            for i in range(len(seq) - n + 1):
                grams.setdefault("".join(seq[i : i + n]), 1.0)
    grams[full] = 1.0
    grams.setdefault("".join(stripped), 1.0)
    best: _NameMatch | None = None
    for cat in _VOCAB:
        for term in cat.terms:
            conf = 0.0
            if cat.last_only:
                if term in (tokens[-1], stripped[-1]) or (len(term) > 4 and term == full):
                    conf = cat.confidence
            elif term in grams:
                conf = cat.confidence
            elif len(term) >= 7 and term in full:
                conf = cat.confidence - 0.15
            if not conf:
                continue
            if cat.key == "person_name" and term in {
                "name",
                "names",
                "naam",
                "nom",
                "nombre",
                "nome",
                "nombres",
            }:
                if any(t in _NOT_PERSON for t in tokens):
                    continue
            cand = _NameMatch(cat, term, conf)
            if best is None or (len(term), conf, _priority(cat.role)) > (
                len(best.term),
                best.confidence,
                _priority(best.category.role),
            ):
                best = cand
    return best


_PSEUDONYM = next(c for c in _VOCAB if c.key == "pseudonym")
_PSEUDONYM_SUFFIXES = frozenset({"pseudonym", "pseudonyme", "pseudonimo", "pseudoniem"})
_CODE_KEYS = frozenset(
    {
        "postal",
        "phone",
        "national_id",
        "account",
        "person_id",
        "household_key",
        "device",
        "vehicle",
        "pseudonym",
    }
)


def is_code_column(column: str) -> bool:
    """True when the name says the column holds codes, not quantities (postal codes, phone
    numbers, person or household ids): the loader keeps such columns as text even when every
    value happens to be digits, so ``46201`` stays ``"46201"`` next to ``"02138"``."""
    match = _match_name(column)
    return match is not None and match.category.key in _CODE_KEYS


def _priority(role: Role) -> int:
    return {_DI: 3, _S: 2, _QI: 1, _O: 0}[role]


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %" if x >= 0.01 else "<1 %"


_ALL = 0.999  # "every value", allowing for float rounding of the weighted shares


def _value_evidence(col: ColumnProfile, names: bool = True) -> list[tuple[float, str]]:
    """(share, reason) for each way the values look like direct identifiers (never a value)."""
    found = []
    for pat, label in (
        ("email", "e-mail addresses"),
        ("phone", "phone numbers"),
        ("national_id", "national id numbers (SSN/NINO/DNI/BSN/NIR/Steuer-ID shapes)"),
        ("payment_card", "payment card numbers (Luhn-valid)"),
        ("iban", "IBANs (checksum-valid)"),
        ("ip_address", "IP addresses"),
    ):
        share = col.pattern(pat)
        if share >= 0.5:
            found.append((share, f"{_pct(share)} of values look like {label}"))
    if names and col.is_person_names:
        share = col.pattern("person_name")
        found.append((share * 0.9, f"{_pct(share)} of values are common first names or surnames"))
    return found


def _suggest_column(
    col: ColumnProfile,
    match: _NameMatch | None,
    matches: Mapping[str, _NameMatch | None],
    profile: DatasetProfile,
) -> RoleSuggestion:
    from .profiler import ColumnKind

    name = col.name
    # 1. values that look like direct identifiers override any name
    value_di = _value_evidence(col, names=match is None or match.category.role is not _DI)
    if value_di and not (match and match.category.role is _DI):
        share, reason = max(value_di)
        return RoleSuggestion(name, _DI, reason, round(min(0.99, 0.5 + 0.45 * share), 2))

    # 2. the column name
    if match is not None:
        cat = match.category
        own = "".join(_tokens(name))
        shown = match.term not in (own, cat.label.replace(" ", "").lower(), cat.key)
        label = f"{cat.label} ({match.term})" if shown else cat.label
        conf = match.confidence
        if cat.key == "generic_id":
            if col.distinct_ratio >= 0.9 and col.n_values > 1:
                return RoleSuggestion(
                    name,
                    _DI,
                    f"record identifier: {_pct(col.distinct_ratio)} of values are distinct",
                    round(min(0.95, conf + 0.1 * col.distinct_ratio), 2),
                )
            return RoleSuggestion(
                name,
                _O,
                f"shared key ({col.distinct:,} values for {col.n_values:,} records): not unique; "
                "mark it direct identifier if it points to a person",
                0.5,
            )
        if cat.key == "race":
            return _race(col, label, matches, conf)
        if cat.key == "pseudonym":
            if col.n_values and col.pattern("hex_digest") >= _ALL:
                return RoleSuggestion(name, _O, f"{label}: {cat.why}", round(conf, 2))
            return RoleSuggestion(
                name,
                _DI,
                f"named like a {label}, but the values are not hex digests of a keyed hash: "
                "treat it as the identifier it may be",
                0.8,
            )
        reason = f"{label}: {cat.why}"
        if cat.role is _DI and value_di:
            reason += f"; {max(value_di)[1]}"
        if col.kind is ColumnKind.FREE_TEXT and cat.role is not _DI:
            reason += " (free text: review it for names before release)"
        return RoleSuggestion(name, cat.role, reason, round(conf, 2))

    # 3. values and uniqueness
    if col.n_values == 0:
        return RoleSuggestion(name, _O, "every value is missing", 0.9)
    if col.kind is ColumnKind.ID_LIKE:
        return RoleSuggestion(
            name,
            _DI,
            f"near-unique id-like values ({_pct(col.distinct_ratio)} distinct)",
            round(min(0.9, 0.4 + 0.5 * col.distinct_ratio), 2),
        )
    if col.kind is ColumnKind.FREE_TEXT:
        return RoleSuggestion(
            name,
            _DI,
            f"free text (about {col.mean_tokens:.0f} words per value) may contain names or "
            "other identifiers; remove or review before release",
            0.5,
        )
    if col.pattern("icd10") >= 0.8 and col.distinct >= 3:
        return RoleSuggestion(
            name,
            _S,
            f"{_pct(col.pattern('icd10'))} of values are ICD-10 shaped codes: health data",
            0.7,
        )
    if col.kind is ColumnKind.DATE:
        fmt = f" ({col.date_format})" if col.date_format else ""
        return RoleSuggestion(
            name,
            _QI,
            f"values are dates{fmt}: birth and event dates are quasi-identifiers",
            0.55,
        )
    postal = col.pattern("postal_code")
    if postal >= 0.9 and col.has_leading_zeros and col.distinct_ratio < 0.5:
        return RoleSuggestion(
            name,
            _QI,
            f"{_pct(postal)} of values look like postal codes (leading zeros kept): "
            "geographic quasi-identifier",
            0.55,
        )
    if col.distinct <= 1:
        return RoleSuggestion(name, _O, "constant column: carries no identifying information", 0.9)
    what = "numeric values" if col.kind is ColumnKind.NUMERIC else f"{col.distinct:,} categories"
    return RoleSuggestion(
        name,
        _O,
        f"{what}, no identifying name or value pattern; mark it quasi-identifier if an attacker "
        "could know it",
        0.5,
    )


def _race(
    col: ColumnProfile, label: str, matches: Mapping[str, _NameMatch | None], conf: float
) -> RoleSuggestion:
    census = [
        c
        for c, m in matches.items()
        if c != col.name and m is not None and m.category.key in _CENSUS_KEYS
    ]
    if len(census) >= 3:
        shown = ", ".join(census[:4]) + (", ..." if len(census) > 4 else "")
        return RoleSuggestion(
            col.name,
            _QI,
            f"{label}: quasi-identifier in census-style data published with {shown}; it is also "
            "special-category data (GDPR Art. 9), so check l-diversity too",
            round(conf - 0.1, 2),
        )
    return RoleSuggestion(
        col.name,
        _S,
        f"{label}: special-category data (GDPR Art. 9); make it a quasi-identifier instead if it "
        "is published in census-style tables",
        round(conf - 0.1, 2),
    )
