"""Data minimization: which fields each purpose needs, and what a request may drop or coarsen.

Why: data whose very existence can endanger residents (health, benefits, immigration status) is
safest when it is never collected, and next safest when a use receives only the fields its purpose
needs, in the coarsest form that still serves it (birth year instead of birth date). The purposes
file, kept beside the catalog (``purposes.yaml``), maps each field of each dataset to the purposes
that need it and to coarser forms that suffice for other purposes::

    datasets:
      clinic:
        patient_dob:
          needed_for: [treatment]
          coarser:
            - form: birth year
              suffices_for: [public health research]

For a request with purpose ``P`` every field is judged (:meth:`FieldPurposes.judge`): *needed*
(``P`` is in ``needed_for``), *coarser* (a coarser form suffices for ``P``: keep only that form),
*unneeded* (neither: drop it) or *undeclared* (the file says nothing about the field: a person must
decide). The gate's ``unneeded_field`` rule and ``workbench minimize`` both call this one judge.
Purposes compare case- and space-insensitively (:func:`normalize_purpose`), as the gate's purpose
rule does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

__all__ = [
    "NEEDED",
    "COARSER",
    "UNNEEDED",
    "UNDECLARED",
    "Coarser",
    "FieldNeed",
    "FieldPurposes",
    "MinimizationProposal",
    "default_purposes_path",
    "minimize",
    "normalize_purpose",
]

NEEDED, COARSER, UNNEEDED, UNDECLARED = "needed", "coarser", "unneeded", "undeclared"
MAX_BYTES = 512 * 1024  # a purposes file is a few hundred lines; refuse anything huge
PURPOSES_FILE = "purposes.yaml"


def normalize_purpose(text: str) -> str:
    """Case- and whitespace-insensitive form of a purpose name."""
    return " ".join(str(text).casefold().split())


def read_yaml_bounded(path: str | os.PathLike, what: str, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a small YAML file safely: size bounded before parsing, no object construction."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{p}: a {what} may hold at most {max_bytes} bytes (has {size})")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(p)!r} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: a {what} must be UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{what} {str(p)!r} cannot be read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" near line {line + 1}" if line is not None else ""
        raise ConfigError(f"{p}: not valid YAML{at}") from None


def _text_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty texts")
    return tuple(value)


@dataclass(frozen=True)
class Coarser:
    """A coarser form of a field (``birth year``) and the purposes it suffices for."""

    form: str
    suffices_for: tuple[str, ...]


@dataclass(frozen=True)
class FieldNeed:
    """How one field serves one purpose: ``verdict`` is needed, coarser, unneeded or undeclared."""

    dataset: str
    field: str
    purpose: str
    verdict: str
    form: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "field": self.field,
            "purpose": self.purpose,
            "verdict": self.verdict,
            "form": self.form,
        }


@dataclass(frozen=True)
class _FieldEntry:
    needed_for: tuple[str, ...]
    coarser: tuple[Coarser, ...]


@dataclass(frozen=True)
class FieldPurposes:
    """The purposes file: dataset -> field -> purposes needing it and coarser forms."""

    datasets: Mapping[str, Mapping[str, _FieldEntry]]
    source: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str | None = None) -> FieldPurposes:
        where = source or "purposes"
        if not isinstance(doc, Mapping) or set(doc) - {"datasets"}:
            raise ConfigError(f"{where}: expected a mapping with one key 'datasets'")
        raw = doc.get("datasets") or {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: 'datasets' must map dataset names to their fields")
        out: dict[str, dict[str, _FieldEntry]] = {}
        for ds, fields in raw.items():
            if not isinstance(fields, Mapping):
                raise ConfigError(f"{where}: datasets.{ds} must map field names to purposes")
            out[str(ds)] = {}
            for name, spec in fields.items():
                at = f"{where}: datasets.{ds}.{name}"
                if not isinstance(spec, Mapping) or set(spec) - {"needed_for", "coarser"}:
                    raise ConfigError(f"{at}: expected keys needed_for and optional coarser")
                coarser = []
                for i, c in enumerate(spec.get("coarser") or []):
                    if not isinstance(c, Mapping) or set(c) != {"form", "suffices_for"}:
                        raise ConfigError(f"{at}.coarser[{i}]: expected keys form, suffices_for")
                    if not isinstance(c["form"], str) or not c["form"].strip():
                        raise ConfigError(f"{at}.coarser[{i}].form: expected a non-empty text")
                    coarser.append(
                        Coarser(c["form"], _text_list(c["suffices_for"], f"{at}.coarser[{i}]"))
                    )
                out[str(ds)][str(name)] = _FieldEntry(
                    _text_list(spec.get("needed_for", []), f"{at}.needed_for"), tuple(coarser)
                )
        return cls(out, source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FieldPurposes:
        return cls.from_dict(read_yaml_bounded(path, "purposes file"), str(path))

    def covers(self, dataset: str) -> bool:
        """Whether the file declares the fields of ``dataset`` at all."""
        return dataset in self.datasets

    def judge(self, dataset: str, field: str, purpose: str) -> FieldNeed:
        """The one rule: is ``field`` of ``dataset`` needed for ``purpose``, and in which form."""
        entry = self.datasets.get(dataset, {}).get(field)
        if entry is None:
            return FieldNeed(dataset, field, purpose, UNDECLARED)
        want = normalize_purpose(purpose)
        if want in {normalize_purpose(p) for p in entry.needed_for}:
            return FieldNeed(dataset, field, purpose, NEEDED)
        for c in entry.coarser:
            if want in {normalize_purpose(p) for p in c.suffices_for}:
                return FieldNeed(dataset, field, purpose, COARSER, c.form)
        return FieldNeed(dataset, field, purpose, UNNEEDED)


def default_purposes_path(catalog_path: str | os.PathLike | None) -> Path | None:
    """``purposes.yaml`` beside the catalog, when it exists."""
    if catalog_path is None:
        return None
    p = Path(catalog_path).parent / PURPOSES_FILE
    return p if p.is_file() else None


def open_purposes(
    purposes: Any, catalog_path: str | os.PathLike | None = None
) -> FieldPurposes | None:
    """A :class:`FieldPurposes` from an object, a path, or the default beside the catalog."""
    if isinstance(purposes, FieldPurposes):
        return purposes
    if purposes is not None:
        return FieldPurposes.load(purposes)
    default = default_purposes_path(catalog_path)
    return FieldPurposes.load(default) if default is not None else None


@dataclass(frozen=True)
class MinimizationProposal:
    """What a request for ``purpose`` should receive: fields kept, coarsened, dropped, undecided."""

    purpose: str
    needs: tuple[FieldNeed, ...]

    def _of(self, verdict: str) -> tuple[FieldNeed, ...]:
        return tuple(n for n in self.needs if n.verdict == verdict)

    @property
    def keep(self) -> tuple[FieldNeed, ...]:
        return self._of(NEEDED)

    @property
    def coarsen(self) -> tuple[FieldNeed, ...]:
        return self._of(COARSER)

    @property
    def drop(self) -> tuple[FieldNeed, ...]:
        return self._of(UNNEEDED)

    @property
    def undeclared(self) -> tuple[FieldNeed, ...]:
        return self._of(UNDECLARED)

    @property
    def minimal(self) -> bool:
        """Nothing to drop or coarsen (undeclared fields still need a person's decision)."""
        return not self.drop and not self.coarsen

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "minimal": self.minimal,
            "keep": [n.field for n in self.keep],
            "coarsen": {n.field: n.form for n in self.coarsen},
            "drop": [n.field for n in self.drop],
            "undeclared": [n.field for n in self.undeclared],
            "fields": [n.to_dict() for n in self.needs],
        }


def minimize(
    fields: Iterable[tuple[str, str]], purpose: str, purposes: FieldPurposes
) -> MinimizationProposal:
    """Judge every ``(dataset, field)`` of a request against ``purpose``.

    Examples
    --------
    >>> fp = FieldPurposes.from_dict({"datasets": {"clinic": {
    ...     "dob": {"needed_for": ["treatment"],
    ...             "coarser": [{"form": "birth year", "suffices_for": ["research"]}]},
    ...     "visit_id": {"needed_for": ["treatment"]}}}})
    >>> p = minimize([("clinic", "dob"), ("clinic", "visit_id")], "Research", fp)
    >>> p.to_dict()["coarsen"], p.to_dict()["drop"]
    ({'dob': 'birth year'}, ['visit_id'])
    """
    return MinimizationProposal(purpose, tuple(purposes.judge(ds, f, purpose) for ds, f in fields))


def _target_fields(columns: Iterable[str], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(dataset, field)`` of each column; a combination names its columns ``dataset.field``."""
    out = []
    for c in columns:
        ds, dot, field = str(c).partition(".")
        out.append((ds, field) if dot and len(names) > 1 and ds in names else (names[0], str(c)))
    return out


def unneeded_field_findings(
    columns: Iterable[str], names: tuple[str, ...], purpose: str, purposes: FieldPurposes
) -> list[Any]:
    """The gate's ``unneeded_field`` findings: fail a field the purpose does not need.

    A field no purpose needs, or needed only in a coarser form, fails; a field the purposes file
    does not mention is flagged for review. Datasets the file does not cover get no finding.
    """
    from .gate import FAIL, REVIEW, Finding

    fields = [f for f in _target_fields(columns, names) if purposes.covers(f[0])]
    findings = []
    for n in minimize(fields, purpose, purposes).needs:
        label = f"{n.dataset}.{n.field}" if len(names) > 1 else n.field
        rule = f"unneeded_field[{label}]"
        if n.verdict == UNNEEDED:
            findings.append(
                Finding(
                    rule,
                    FAIL,
                    n.field,
                    purpose,
                    f"{purpose!r} does not need {label!r} (see {purposes.source or 'purposes'}); "
                    "drop it from the request ('workbench minimize').",
                )
            )
        elif n.verdict == COARSER:
            findings.append(
                Finding(
                    rule,
                    FAIL,
                    n.field,
                    n.form,
                    f"{purpose!r} needs only the {n.form} of {label!r}; release that coarser "
                    "form instead.",
                )
            )
        elif n.verdict == UNDECLARED:
            findings.append(
                Finding(
                    rule,
                    REVIEW,
                    n.field,
                    None,
                    f"No purpose is declared for {label!r} in {purposes.source or 'purposes'}; "
                    "declare what it is needed for, or drop it.",
                )
            )
    return findings
