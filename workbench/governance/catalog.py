"""The data catalog: which departments hold which tables, and what each column is.

A catalog is a YAML (or JSON) file listing datasets with their file, owning department,
purpose, role map (direct identifiers, quasi-identifiers, sensitive attributes), optional policy
and free metadata, plus the confirmed crosswalk of shared facts between datasets::

    name: city
    reference_date: "2026-01-01"
    datasets:
      clinic:
        file: clinic_visits.csv          # relative to the catalog file
        department: Health
        purpose: Treatment and care quality
        roles: {direct_identifiers: [visit_id],
                quasi_identifiers: [patient_dob, sex, postal_code], sensitive: [diagnosis]}
        policy: policies/clinic.yaml     # optional
        external: false                  # true for public data an attacker holds
        load: {delimiter: ","}           # optional keyword arguments for workbench.loading.readers.load
        metadata: {sensitivity: {diagnosis: health}}
    crosswalk: []                        # confirmed entries, see workbench.linkage.crosswalk
    join_key:                            # optional: the key cross-department joins use
      column: person_key                 # a keyed pseudonym column present in the files, or
      table: ground_truth.csv            # a record -> person table for files without the key
      dataset_column: dataset            # (demo data only; the key is attached in memory)
      record_column: record_id
      person_column: resident_id

A dataset's record id column (for ``join_key.table``) is ``metadata.record_id``.

Loading and saving round-trip: keys this module does not know are kept, paths stay relative to
the catalog file, and an unchanged catalog saves to the same document it was read from.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .._io import atomic_write_text
from ..dataset import Dataset, check_columns
from ..errors import ConfigError, MissingFileError
from ..linkage.crosswalk import Crosswalk, CrosswalkEntry
from ..profiling.roles import RoleMap

__all__ = [
    "Catalog",
    "CatalogEntry",
    "DatasetSummary",
    "Inventory",
    "JoinKeySource",
    "inventory",
    "JOIN_KEY_NOTE",
]

_ENTRY_KEYS = ("file", "department", "purpose", "roles", "policy", "external", "load", "metadata")
_TOP_KEYS = ("name", "reference_date", "datasets", "crosswalk", "join_key")
_JOIN_KEY_KEYS = ("column", "table", "dataset_column", "record_column", "person_column")

JOIN_KEY_NOTE = (
    "the files carry no join key, so it was attached in memory from the record-to-person table "
    "the catalog declares (an opaque per-run code per person, never written out)"
)

# Per-process random salt: attached keys join within one run and mean nothing outside it.
_JOIN_SALT = secrets.token_hex(8)


def _freeze(d: Mapping[str, Any] | None) -> MappingProxyType:
    return MappingProxyType(dict(d or {}))


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_thaw(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset of the catalog.

    Attributes
    ----------
    name : str
        Key of the dataset in the catalog (``clinic``).
    file : Path
        Absolute path of the data file.
    department, purpose : str or None
        Owner and declared purpose of processing.
    roles : RoleMap
        Column roles (direct identifiers, quasi-identifiers, sensitive).
    policy : Path or None
        Policy file (governance), absolute.
    external : bool
        True for public or third-party data an attacker can hold (a voter roll).
    metadata : Mapping
        Free metadata; ``metadata["sensitivity"]`` maps columns to harm categories
        (``health``, ``income``...) used by the join-risk matrix.
    load_options : Mapping
        Keyword arguments for :func:`workbench.loading.readers.load` (``delimiter``...).
    """

    name: str
    file: Path
    department: str | None = None
    purpose: str | None = None
    roles: RoleMap | None = None
    policy: Path | None = None
    external: bool = False
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    load_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    _roles_as_written: Any = field(default=None, repr=False, compare=False)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        return tuple(self.roles.quasi_identifiers) if self.roles is not None else ()

    @property
    def sensitive(self) -> tuple[str, ...]:
        return tuple(self.roles.sensitive) if self.roles is not None else ()

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        return tuple(self.roles.direct_identifiers) if self.roles is not None else ()

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any], base_dir: Path) -> CatalogEntry:
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"catalog dataset {name!r}: expected a mapping with at least "
                f"'file', got {type(d).__name__}"
            )
        if "file" not in d or not d["file"]:
            raise ConfigError(
                f"catalog dataset {name!r}: 'file' is required (path of the "
                "data file, relative to the catalog)"
            )
        if "." in name:
            raise ConfigError(f"catalog dataset name {name!r} must not contain '.'")
        roles_raw = d.get("roles")
        roles = None
        if roles_raw is not None:
            try:
                roles = RoleMap.from_dict(roles_raw)
            except Exception as exc:  # re-raised with the dataset named
                raise ConfigError(
                    f"catalog dataset {name!r}: roles are malformed ({exc}); expected "
                    "{direct_identifiers: [...], quasi_identifiers: [...], sensitive: [...]}"
                ) from exc
        policy = d.get("policy")
        metadata = d.get("metadata") or {}
        load_opts = d.get("load") or {}
        for key, val in (("metadata", metadata), ("load", load_opts)):
            if not isinstance(val, Mapping):
                raise ConfigError(f"catalog dataset {name!r}: {key!r} must be a mapping")
        return cls(
            name=name,
            file=(base_dir / str(d["file"])).resolve()
            if not Path(str(d["file"])).is_absolute()
            else Path(str(d["file"])),
            department=None if d.get("department") is None else str(d["department"]),
            purpose=None if d.get("purpose") is None else str(d["purpose"]),
            roles=roles,
            policy=None if policy is None else (base_dir / str(policy)).resolve(),
            external=bool(d.get("external", False)),
            metadata=_freeze(metadata),
            load_options=_freeze(load_opts),
            extra=_freeze({k: v for k, v in d.items() if k not in _ENTRY_KEYS}),
            _roles_as_written=roles_raw,
        )

    def _roles_dict(self) -> Any:
        if self.roles is None:
            return None
        written = self._roles_as_written
        if written is not None:
            try:
                if RoleMap.from_dict(written).to_dict() == self.roles.to_dict():
                    return _thaw(written)
            except Exception:  # fall back to the canonical form
                pass
        out: dict[str, list[str]] = {}
        for key in ("direct_identifiers", "quasi_identifiers", "sensitive"):
            out[key] = list(getattr(self.roles, key))
        other = [c for c, r in self.roles.roles.items() if getattr(r, "value", r) == "other"]
        if other:
            out["other"] = other
        return out

    def to_dict(self, base_dir: Path | None = None) -> dict[str, Any]:
        """The entry as written in the catalog file (paths relative to ``base_dir``)."""

        def rel(p: Path) -> str:
            if base_dir is None:
                return str(p)
            return Path(os.path.relpath(p, base_dir)).as_posix()

        out: dict[str, Any] = {"file": rel(self.file)}
        if self.department is not None:
            out["department"] = self.department
        if self.purpose is not None:
            out["purpose"] = self.purpose
        if self.roles is not None:
            out["roles"] = self._roles_dict()
        if self.policy is not None:
            out["policy"] = rel(self.policy)
        out["external"] = self.external
        if self.load_options:
            out["load"] = _thaw(self.load_options)
        if self.metadata:
            out["metadata"] = _thaw(self.metadata)
        out.update(_thaw(self.extra))
        return out


@dataclass(frozen=True)
class JoinKeySource:
    """Where the key of cross-department joins comes from (the catalog's ``join_key``).

    ``column`` is the shared key (a keyed pseudonym) the files carry. A catalog whose files carry
    no key may declare ``table``: one row per (dataset, record id) with the person it belongs to;
    the key is then attached in memory as a salted hash of the person. Only synthetic or
    demonstration catalogs hold such a table -- no real department does -- which is why the
    catalog, not the core code, says where it is.
    """

    column: str = "person_key"
    table: Path | None = None
    dataset_column: str = "dataset"
    record_column: str = "record_id"
    person_column: str = "person_id"

    @classmethod
    def from_dict(cls, d: Any, base_dir: Path, where: str) -> JoinKeySource:
        if not isinstance(d, Mapping):
            raise ConfigError(f"{where}: 'join_key' must be a mapping with at least 'column'")
        unknown = sorted(set(d) - set(_JOIN_KEY_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: join_key has unknown key(s) {unknown}; expected {list(_JOIN_KEY_KEYS)}"
            )
        vals = {k: str(d[k]) for k in _JOIN_KEY_KEYS if d.get(k) is not None}
        table = vals.pop("table", None)
        return cls(
            **vals,
            table=None
            if table is None
            else (Path(table) if Path(table).is_absolute() else (base_dir / table).resolve()),
        )

    def to_dict(self, base_dir: Path | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column}
        if self.table is not None:
            out["table"] = (
                str(self.table)
                if base_dir is None
                else Path(os.path.relpath(self.table, base_dir)).as_posix()
            )
            out["dataset_column"] = self.dataset_column
            out["record_column"] = self.record_column
            out["person_column"] = self.person_column
        return out


@dataclass(frozen=True)
class Catalog:
    """A set of department datasets plus the confirmed crosswalk between them."""

    name: str
    datasets: Mapping[str, CatalogEntry]
    reference_date: date | None = None
    crosswalk: Crosswalk = field(default_factory=Crosswalk)
    path: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    join_key: JoinKeySource | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", MappingProxyType(dict(self.datasets)))

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read a catalog from YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
        p = Path(path)
        if not p.is_file():
            raise MissingFileError("catalog file not found", p)
        text = p.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{p}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {exc}"
            ) from exc
        return cls.from_dict(data, base_dir=p.parent.resolve(), path=p.resolve())

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], base_dir: str | Path = ".", path: Path | None = None
    ) -> Catalog:
        """Build a catalog from its dictionary form; relative paths resolve against
        ``base_dir``."""
        where = str(path) if path else "catalog"
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{where}: expected a mapping with 'datasets', got {type(data).__name__}"
            )
        raw = data.get("datasets")
        if not isinstance(raw, Mapping) or not raw:
            raise ConfigError(
                f"{where}: 'datasets' must be a non-empty mapping of name -> "
                "{file, department, purpose, roles, ...}"
            )
        base = Path(base_dir).resolve()
        entries = {str(k): CatalogEntry.from_dict(str(k), v, base) for k, v in raw.items()}
        ref = data.get("reference_date")
        if ref is not None and not isinstance(ref, date):
            try:
                ref = date.fromisoformat(str(ref))
            except ValueError as exc:
                raise ConfigError(f"{where}: reference_date {ref!r} is not YYYY-MM-DD") from exc
        cw_raw = data.get("crosswalk") or []
        if not isinstance(cw_raw, list):
            raise ConfigError(f"{where}: 'crosswalk' must be a list of entries")
        crosswalk = Crosswalk.from_list(cw_raw)
        for e in crosswalk:
            for ds in (e.left_dataset, e.right_dataset):
                if ds not in entries:
                    raise ConfigError(
                        f"{where}: crosswalk entry {e.left} ~ {e.right} names "
                        f"dataset {ds!r}, not in the catalog "
                        f"({', '.join(entries)})"
                    )
        jk = data.get("join_key")
        return cls(
            name=str(data.get("name") or (path.stem if path else "catalog")),
            datasets=entries,
            reference_date=ref,
            crosswalk=crosswalk,
            path=path,
            extra=_freeze({k: v for k, v in data.items() if k not in _TOP_KEYS}),
            join_key=None if jk is None else JoinKeySource.from_dict(jk, base, where),
        )

    # ------------------------------------------------------------------ writing
    def to_dict(self, base_dir: str | Path | None = None) -> dict[str, Any]:
        """The catalog document; paths relative to ``base_dir`` (default: its own folder)."""
        if base_dir is None and self.path is not None:
            base_dir = self.path.parent
        base = None if base_dir is None else Path(base_dir).resolve()
        out: dict[str, Any] = {"name": self.name}
        if self.reference_date is not None:
            out["reference_date"] = self.reference_date.isoformat()
        out["datasets"] = {k: e.to_dict(base) for k, e in self.datasets.items()}
        out["crosswalk"] = self.crosswalk.to_list()
        if self.join_key is not None:
            out["join_key"] = self.join_key.to_dict(base)
        out.update(_thaw(self.extra))
        return out

    def save(self, path: str | Path | None = None) -> Path:
        """Write the catalog atomically (YAML, or JSON for a ``.json`` path)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ConfigError("catalog has no path; pass one to save()")
        target = target.resolve()
        doc = self.to_dict(target.parent)
        if target.suffix.lower() == ".json":
            text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        sources = [e.file for e in self.datasets.values()]
        return atomic_write_text(target, text, sources)

    # ------------------------------------------------------------------ use
    def entry(self, name: str) -> CatalogEntry:
        """The entry called ``name``; the error lists the available names."""
        if name not in self.datasets:
            raise ConfigError(
                f"dataset {name!r} is not in catalog {self.name!r}; available: "
                f"{', '.join(self.datasets)}"
            )
        return self.datasets[name]

    def load_dataset(
        self,
        name: str,
        *,
        purpose: str | None = None,
        operation: str = "read",
        user: str | None = None,
        role: str | None = None,
    ) -> Dataset:
        """Load a dataset's file with :func:`workbench.loading.readers.load` and check its roles.

        Every catalog read is recorded in the data-use log (who, role, dataset, purpose, columns,
        rows, operation; :mod:`workbench.governance.usage`), which access reviews and the anomaly
        detectors read. ``purpose`` defaults to ``WORKBENCH_PURPOSE``.
        """
        import os

        from ..loading.readers import load
        from .usage import record_use

        e = self.entry(name)
        ds = load(e.file, name=name, department=e.department, **dict(e.load_options))
        if e.roles is not None:
            check_columns(ds, list(e.roles.roles), str(e.file))
        record_use(
            name,
            purpose=purpose or os.environ.get("WORKBENCH_PURPOSE"),
            columns=list(ds.columns),
            rows=int(getattr(ds, "n_rows", 0) or 0),
            operation=operation,
            view="raw",
            user=user,
            role=role,
        )
        return ds

    @property
    def join_key_column(self) -> str:
        """The column cross-department joins use (``person_key`` unless the catalog says)."""
        return self.join_key.column if self.join_key is not None else "person_key"

    def attach_join_key(self, name: str, frame: Any, column: str | None = None) -> Any:
        """``frame`` of dataset ``name`` plus the join key, from the declared record table.

        The key is a salted 64-bit hash of the person (salt drawn once per process): it joins
        exactly like a keyed pseudonym and is never written anywhere. Records the table does not
        list get a missing key. Raises :class:`ConfigError` when the catalog declares no
        ``join_key.table`` (real departments export a keyed pseudonym instead).
        """
        import numpy as np
        import pandas as pd

        column = column or self.join_key_column
        src = self.join_key
        if src is None or src.table is None:
            raise ConfigError(
                f"dataset {name!r} has no {column!r} column and catalog {self.name!r} declares "
                "no join_key.table; export the datasets with a shared pseudonym key first"
            )
        record_col = self.entry(name).metadata.get("record_id")
        if not record_col or record_col not in frame.columns:
            raise ConfigError(
                f"dataset {name!r}: cannot attach the join key; expected metadata.record_id "
                "naming a column of the file"
            )
        table = self._join_table(src)
        mine = table[table[src.dataset_column] == name]
        persons = pd.Series(
            mine[src.person_column].to_numpy(), index=mine[src.record_column].astype(str)
        )
        persons = persons[~persons.index.duplicated()]
        mapped = frame[record_col].astype(str).map(persons)
        hashed = pd.util.hash_array(mapped.fillna("").to_numpy(dtype=object), hash_key=_JOIN_SALT)
        out = frame.copy()
        out[column] = pd.array(hashed.view(np.int64), dtype="Int64")
        out.loc[mapped.isna().to_numpy(), column] = pd.NA
        return out

    def _join_table(self, src: JoinKeySource) -> Any:
        from ..loading.readers import load

        assert src.table is not None
        if not src.table.is_file():
            raise MissingFileError("join_key table not found", src.table)
        df = load(src.table, infer_types=False).to_pandas()
        cols = (src.dataset_column, src.record_column, src.person_column)
        check_columns(df, list(cols), str(src.table))
        return df.loc[:, list(cols)].astype(str)

    def with_crosswalk(self, crosswalk: Crosswalk | list[CrosswalkEntry]) -> Catalog:
        """A copy with ``crosswalk`` (for example the confirmed proposal)."""
        cw = crosswalk if isinstance(crosswalk, Crosswalk) else Crosswalk(tuple(crosswalk))
        return replace(self, crosswalk=cw)

    def with_entry(self, entry: CatalogEntry) -> Catalog:
        """A copy with ``entry`` added or replaced."""
        return replace(self, datasets={**self.datasets, entry.name: entry})


# --------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class DatasetSummary:
    """One line of the inventory: what a dataset is, its size and its risk headline."""

    name: str
    department: str | None
    purpose: str | None
    file: str
    external: bool
    records: int
    columns: int
    quasi_identifiers: tuple[str, ...]
    sensitive: tuple[str, ...]
    direct_identifiers: tuple[str, ...]
    k: int | None
    uniqueness: float | None
    records_at_risk: float | None
    average_risk: float | None
    policy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "department": self.department,
            "purpose": self.purpose,
            "file": self.file,
            "external": self.external,
            "records": self.records,
            "columns": self.columns,
            "quasi_identifiers": list(self.quasi_identifiers),
            "sensitive": list(self.sensitive),
            "direct_identifiers": list(self.direct_identifiers),
            "k": self.k,
            "uniqueness": self.uniqueness,
            "records_at_risk": self.records_at_risk,
            "average_risk": self.average_risk,
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Inventory:
    """The catalog's datasets with sizes and risk headlines, plus the crosswalk."""

    catalog: str
    reference_date: date | None
    datasets: tuple[DatasetSummary, ...]
    crosswalk: Crosswalk
    crosswalk_source: str
    threshold: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench inventory --json`` document."""
        return {
            "catalog": self.catalog,
            "reference_date": None
            if self.reference_date is None
            else self.reference_date.isoformat(),
            "threshold": self.threshold,
            "datasets": [d.to_dict() for d in self.datasets],
            "crosswalk_source": self.crosswalk_source,
            "crosswalk": self.crosswalk.to_list(),
        }


def inventory(catalog: Catalog, propose: bool = False, threshold: float = 0.2) -> Inventory:
    """Summarise every dataset of ``catalog``: size, roles and risk headline.

    The headline is the smallest equivalence class ``k`` and the sample uniqueness on the
    dataset's quasi-identifiers (missing values as a category), see
    :class:`workbench.linkage.RiskHeadline`. With ``propose`` the crosswalk is detected afresh
    (:func:`workbench.linkage.propose_crosswalk`); otherwise the catalog's confirmed entries are
    listed.
    """
    from ..linkage._codes import headline
    from ..linkage.crosswalk import hints_from_metadata, propose_crosswalk

    base = catalog.path.parent if catalog.path is not None else None
    rows = []
    loaded = {}
    for name, e in catalog.datasets.items():
        ds = catalog.load_dataset(name)
        df = ds.to_pandas()
        loaded[name] = df
        qis = list(e.quasi_identifiers)
        head = headline(df, qis, threshold) if qis else None
        rel = Path(os.path.relpath(e.file, base)).as_posix() if base is not None else str(e.file)
        pol = None
        if e.policy is not None:
            pol = Path(os.path.relpath(e.policy, base)).as_posix() if base else str(e.policy)
        rows.append(
            DatasetSummary(
                name=name,
                department=e.department,
                purpose=e.purpose,
                file=rel,
                external=e.external,
                records=len(df),
                columns=len(df.columns),
                quasi_identifiers=tuple(qis),
                sensitive=e.sensitive,
                direct_identifiers=e.direct_identifiers,
                k=None if head is None else head.k,
                uniqueness=None if head is None else head.uniqueness,
                records_at_risk=None if head is None else head.records_at_risk,
                average_risk=None if head is None else head.average_risk,
                policy=pol,
            )
        )
    if propose:
        skip = {n: list(e.direct_identifiers) for n, e in catalog.datasets.items()}
        hints = {n: hints_from_metadata(e.metadata) for n, e in catalog.datasets.items()}
        cw = propose_crosswalk(loaded, catalog.reference_date, exclude=skip, hints=hints)
        source = "proposed"
    else:
        cw = catalog.crosswalk
        source = "catalog"
    return Inventory(catalog.name, catalog.reference_date, tuple(rows), cw, source, threshold)
