"""Find fields that describe the same fact across datasets: a proposed crosswalk.

A crosswalk entry pairs ``clinic.patient_dob`` with ``housing.birth_year`` and says why: both
record the birth (one as a date, one as a year), their values overlap once brought to a common
form, and their names are similar or synonyms. The privacy officer confirms or edits the
proposal; confirmed entries are saved under ``crosswalk:`` in the catalog and reused by linkage,
combine and the join-risk matrix.

Confidence combines three kinds of evidence, each in [0, 1]:

* form: how sure :func:`~workbench.linkage.forms.detect_form` is about each side (mean);
* values: containment of the distinct values after conversion to the common form,
  ``|A & B| / min(|A|, |B|)`` on a sample;
* name: :func:`~workbench.linkage.forms.name_similarity` (synonyms such as zip ~ postal).

For a known fact: ``0.5 * form + 0.3 * values + 0.2 * name``. For other columns (compared as
text) both the name and the values must agree: ``0.5 * name + 0.5 * values``, proposed only when
the name similarity is at least 0.75. Record identifiers (near-unique ``*_id`` / ``*_key``
columns) and explicitly excluded columns (for example a ground-truth column) are never paired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from ..dataset import as_pandas
from ..errors import ConfigError
from .forms import (
    BIRTH,
    POSTAL,
    SEX,
    FieldForm,
    _canonical_tokens,
    _sample,
    _tokens,
    common_form,
    convert,
    detect_form,
    fact_of_form,
    name_similarity,
)

__all__ = [
    "CrosswalkEntry",
    "Crosswalk",
    "propose_crosswalk",
    "is_identifier_column",
    "detect_forms",
    "hints_from_metadata",
    "parse_on",
]

_FACT_WORDS = {BIRTH: "the birth date", POSTAL: "the postal code", SEX: "sex"}
_STATUSES = ("proposed", "confirmed", "rejected")
_ID_TOKENS = {"id", "key", "uuid", "guid", "number", "no", "nr", "ref", "pk"}


def is_identifier_column(values: pd.Series, name: str) -> bool:
    """A record identifier: name ends in id/key/number and nearly every value is distinct.

    Such columns link nothing across departments (each assigns its own) except a shared
    pseudonym, which is a join key, not a quasi-identifier; they are left out of the crosswalk.
    """
    toks = _tokens(name)
    if not toks or toks[-1] not in _ID_TOKENS:
        return False
    s = values.dropna()
    if len(s) == 0:
        return True
    sample = _sample(s, 50000)
    return sample.nunique() >= 0.5 * len(sample)


def _split_ref(ref: str) -> tuple[str, str]:
    if "." not in ref:
        raise ConfigError(f"crosswalk field {ref!r} is not of the form 'dataset.column'")
    ds, col = ref.split(".", 1)
    return ds, col


@dataclass(frozen=True)
class CrosswalkEntry:
    """Two columns of two datasets that record the same fact.

    Attributes
    ----------
    fact : str
        ``birth``, ``postal``, ``sex`` or, for other shared fields, the canonical column name.
    left, right : str
        ``"dataset.column"`` on each side.
    left_form, right_form : FieldForm
        How each side writes the fact.
    common : str
        The most detailed form both sides can be converted to (``year``, ``postal3``...).
    confidence : float
        Evidence strength in [0, 1] (see the module docstring).
    reason : str
        The evidence in plain words; never raw values.
    status : str
        ``proposed`` (detected), ``confirmed`` (reviewed by a person) or ``rejected``.
    """

    fact: str
    left: str
    right: str
    left_form: FieldForm
    right_form: FieldForm
    common: str
    confidence: float
    reason: str
    status: str = "proposed"

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ConfigError(
                f"crosswalk entry {self.left} ~ {self.right}: status "
                f"{self.status!r} is not one of {', '.join(_STATUSES)}"
            )
        _split_ref(self.left)
        _split_ref(self.right)

    @property
    def left_dataset(self) -> str:
        return _split_ref(self.left)[0]

    @property
    def left_column(self) -> str:
        return _split_ref(self.left)[1]

    @property
    def right_dataset(self) -> str:
        return _split_ref(self.right)[0]

    @property
    def right_column(self) -> str:
        return _split_ref(self.right)[1]

    def involves(self, a: str, b: str) -> bool:
        """True if the entry pairs datasets ``a`` and ``b`` (either order)."""
        return {self.left_dataset, self.right_dataset} == {a, b} and a != b

    def oriented(self, left_dataset: str) -> CrosswalkEntry:
        """The same entry with ``left_dataset`` on the left."""
        if self.left_dataset == left_dataset:
            return self
        return CrosswalkEntry(
            self.fact,
            self.right,
            self.left,
            self.right_form,
            self.left_form,
            self.common,
            self.confidence,
            self.reason,
            self.status,
        )

    def with_status(self, status: str) -> CrosswalkEntry:
        """A copy with a new review status (``confirmed`` after a person checked it)."""
        return CrosswalkEntry(
            self.fact,
            self.left,
            self.right,
            self.left_form,
            self.right_form,
            self.common,
            self.confidence,
            self.reason,
            status,
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry as stored under ``crosswalk:`` in catalog.yaml."""
        return {
            "fact": self.fact,
            "left": self.left,
            "left_form": self.left_form.to_dict(),
            "right": self.right,
            "right_form": self.right_form.to_dict(),
            "common": self.common,
            "confidence": round(float(self.confidence), 3),
            "reason": self.reason,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrosswalkEntry:
        """Read an entry written by :meth:`to_dict` (or edited by hand).

        Only ``left`` and ``right`` are required; ``fact`` and the forms default to what the
        form names imply, ``status`` to ``confirmed`` (an entry written by a person).
        """
        if not isinstance(d, Mapping) or "left" not in d or "right" not in d:
            raise ConfigError(f"crosswalk entry {d!r} needs 'left' and 'right' ('dataset.column')")
        lf = d.get("left_form", "category")
        rf = d.get("right_form", "category")
        lform = FieldForm.from_dict(lf)
        rform = FieldForm.from_dict(rf)
        fact = d.get("fact") or lform.fact or "_".join(_canonical_tokens(_split_ref(d["left"])[1]))
        if lform.fact is None and fact_of_form(lform.form) is None:
            lform = FieldForm(None, lform.form, lform.params, 1.0, "given")
        common = d.get("common")
        if common is None:
            common = common_form(lform, rform)[0].form if lform.fact == rform.fact else "category"
        return cls(
            fact=str(fact),
            left=str(d["left"]),
            right=str(d["right"]),
            left_form=lform,
            right_form=rform,
            common=str(common),
            confidence=float(d.get("confidence", 1.0)),
            reason=str(d.get("reason", "")),
            status=str(d.get("status", "confirmed")),
        )


@dataclass(frozen=True)
class Crosswalk:
    """A set of crosswalk entries (proposed and/or confirmed)."""

    entries: tuple[CrosswalkEntry, ...] = field(default_factory=tuple)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def for_pair(self, a: str, b: str) -> tuple[CrosswalkEntry, ...]:
        """Entries linking datasets ``a`` and ``b``, oriented with ``a`` on the left,
        rejected entries left out."""
        return tuple(
            e.oriented(a) for e in self.entries if e.involves(a, b) and e.status != "rejected"
        )

    def confirmed(self) -> Crosswalk:
        """A copy where every non-rejected entry is marked confirmed."""
        return Crosswalk(
            tuple(e if e.status == "rejected" else e.with_status("confirmed") for e in self.entries)
        )

    def facts(self) -> set[tuple[str, str, str]]:
        """``{(dataset, column, fact)}`` for every field that takes part in an entry."""
        out = set()
        for e in self.entries:
            if e.status == "rejected":
                continue
            out.add((e.left_dataset, e.left_column, e.fact))
            out.add((e.right_dataset, e.right_column, e.fact))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"entries": [e.to_dict() for e in self.entries]}

    def to_list(self) -> list[dict[str, Any]]:
        """The entries as the list stored under ``crosswalk:`` in catalog.yaml."""
        return [e.to_dict() for e in self.entries]

    @classmethod
    def from_list(cls, items: Iterable[Mapping[str, Any]] | None) -> Crosswalk:
        return cls(tuple(CrosswalkEntry.from_dict(d) for d in (items or ())))


def _describe(form: FieldForm) -> str:
    if form.form == "date":
        fmt = form.params.get("format")
        return f"date{' ' + fmt if fmt else ''}"
    if form.form == "age_band":
        return f"{len(form.params.get('cuts', ()))} age bands"
    if form.form == "sex":
        return "sex codes " + "/".join(sorted(str(k) for k in form.params.get("codes", {})))
    return form.form.replace("_", " ")


def _overlap(a: pd.Series, b: pd.Series) -> float:
    """Containment of distinct values: ``|A & B| / min(|A|, |B|)``."""
    sa, sb = set(a.dropna().unique()), set(b.dropna().unique())
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def detect_forms(
    frame: Any,
    reference_date: date | None = None,
    exclude: Iterable[str] = (),
    hints: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, FieldForm]:
    """:func:`detect_form` for every column that could link (identifiers excluded)."""
    df = as_pandas(frame)
    skip = set(exclude)
    hints = hints or {}
    out = {}
    for col in df.columns:
        if col in skip or is_identifier_column(df[col], str(col)):
            continue
        out[str(col)] = detect_form(df[col], str(col), reference_date, hints.get(str(col)))
    return out


def hints_from_metadata(metadata: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Column hints from catalog metadata: ``date_formats: {col: fmt}``,
    ``codes: {col: {code: label}}``."""
    out: dict[str, dict[str, Any]] = {}
    md = metadata or {}
    for col, fmt in dict(md.get("date_formats") or {}).items():
        out.setdefault(str(col), {})["format"] = str(fmt)
    for col, book in dict(md.get("codes") or {}).items():
        if isinstance(book, Mapping):
            out.setdefault(str(col), {})["codes"] = dict(book)
    return out


def _generic_fact(a: str, b: str) -> str:
    ta, tb = _canonical_tokens(a), _canonical_tokens(b)
    return "_".join(ta if len(ta) <= len(tb) else tb)


def propose_crosswalk(
    datasets: Mapping[str, Any],
    reference_date: date | None = None,
    exclude: Mapping[str, Iterable[str]] | None = None,
    min_confidence: float = 0.5,
    sample_size: int = 20000,
    hints: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Crosswalk:
    """Propose crosswalk entries between every pair of ``datasets``.

    Parameters
    ----------
    datasets : mapping of name -> Dataset / frame
        The tables to compare (for a catalog: ``{name: catalog.load_dataset(name)}``).
    reference_date : date, optional
        Date at which ages are taken (the catalog's ``reference_date``).
    exclude : mapping of name -> columns, optional
        Columns never to pair, per dataset (ground-truth columns, join keys).
    min_confidence : float
        Entries below this confidence are not proposed.
    sample_size : int
        Rows sampled per column for value evidence (seeded, so results are deterministic).
    hints : mapping of name -> column -> hint, optional
        What a catalog documents about columns (date formats, code books); see
        :func:`hints_from_metadata`.
    """
    exclude = exclude or {}
    frames = {name: as_pandas(obj) for name, obj in datasets.items()}
    samples = {
        name: df.sample(sample_size, random_state=0) if len(df) > sample_size else df
        for name, df in frames.items()
    }
    hints = hints or {}
    forms = {
        name: detect_forms(samples[name], reference_date, exclude.get(name, ()), hints.get(name))
        for name in frames
    }
    names = list(frames)
    entries: list[CrosswalkEntry] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for ca, fa in forms[a].items():
                for cb, fb in forms[b].items():
                    entry = _judge(
                        a, ca, fa, samples[a][ca], b, cb, fb, samples[b][cb], reference_date
                    )
                    if entry is not None and entry.confidence >= min_confidence:
                        entries.append(entry)
    return Crosswalk(tuple(entries))


def _judge(
    a: str,
    ca: str,
    fa: FieldForm,
    va: pd.Series,
    b: str,
    cb: str,
    fb: FieldForm,
    vb: pd.Series,
    reference_date: date | None,
) -> CrosswalkEntry | None:
    nsim = name_similarity(ca, cb)
    if fa.fact is not None and fa.fact == fb.fact:
        common, why_common = common_form(fa, fb, reference_date)
        overlap = _overlap(
            convert(va, fa, common, reference_date), convert(vb, fb, common, reference_date)
        )
        form_conf = (fa.confidence + fb.confidence) / 2
        conf = 0.5 * form_conf + 0.3 * overlap + 0.2 * nsim
        fact = fa.fact
        reason = (
            f"{a}.{ca} ({_describe(fa)}) and {b}.{cb} ({_describe(fb)}) both record "
            f"{_FACT_WORDS.get(fact, fact)}; "
            f"{overlap:.0%} of distinct values shared in the common form; "
            f"name similarity {nsim:.2f}; common form: {why_common}"
        )
        return CrosswalkEntry(
            fact, f"{a}.{ca}", f"{b}.{cb}", fa, fb, common.form, round(conf, 3), reason
        )
    if fa.fact is None and fb.fact is None and nsim >= 0.75:
        ta = convert(va, fa, FieldForm(None, "category"))
        tb = convert(vb, fb, FieldForm(None, "category"))
        if ta.nunique() > 5000 or tb.nunique() > 5000:
            return None
        overlap = _overlap(ta, tb)
        if overlap < 0.5:
            return None
        conf = 0.5 * nsim + 0.5 * overlap
        fact = _generic_fact(ca, cb)
        reason = (
            f"{a}.{ca} and {b}.{cb} have similar names (similarity {nsim:.2f}) and "
            f"{overlap:.0%} of distinct values shared; compared as normalised text"
        )
        cat = FieldForm(None, "category", {}, 1.0, "")
        return CrosswalkEntry(
            fact, f"{a}.{ca}", f"{b}.{cb}", cat, cat, "category", round(conf, 3), reason
        )
    return None


def parse_on(on: str | Sequence[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """``"a,b=x"`` -> ``[("a", "a"), ("b", "x")]`` (released column, attacker column)."""
    items = on.split(",") if isinstance(on, str) else list(on)
    pairs = []
    for item in items:
        if isinstance(item, tuple):
            pairs.append((str(item[0]), str(item[1])))
            continue
        text = str(item).strip()
        if not text:
            continue
        if "=" in text:
            left, right = (p.strip() for p in text.split("=", 1))
        else:
            left = right = text
        pairs.append((left, right))
    return pairs
