"""Bring two datasets' shared facts to their most detailed common form.

This is the first thing an attacker does before joining two tables: a birth date on one side and
a birth year on the other are both turned into birth years; a 5-digit postal code and a 3-digit
prefix into prefixes; ``female/male`` and ``1/2`` into ``F/M``. The result is a pair of small
frames with identically named, identically coded columns, ready for exact or probabilistic
linkage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from .crosswalk import CrosswalkEntry
from .forms import BIRTH, POSTAL, SEX, FieldForm, common_form, convert, detect_form

__all__ = [
    "HarmonizedField",
    "HarmonizedPair",
    "harmonize",
    "coarsen_form",
    "COARSER",
    "STANDARD_AGE_BANDS",
]

#: Age bands used when advice coarsens a birth fact below one-year detail.
STANDARD_AGE_BANDS: tuple[int, ...] = (0, 18, 25, 35, 45, 55, 65, 75)

#: One coarsening step per form: what a de-identification would release instead.
COARSER: dict[str, FieldForm] = {
    "date": FieldForm(BIRTH, "year", {}, 1.0, "birth year instead of the date"),
    "year": FieldForm(BIRTH, "age_band", {"cuts": STANDARD_AGE_BANDS}, 1.0, "age band"),
    "age": FieldForm(BIRTH, "age_band", {"cuts": STANDARD_AGE_BANDS}, 1.0, "age band"),
    "postal5": FieldForm(POSTAL, "postal3", {"digits": 3}, 1.0, "3-digit postal prefix"),
    "postal4": FieldForm(POSTAL, "postal3", {"digits": 3}, 1.0, "3-digit postal prefix"),
    "postal3": FieldForm(POSTAL, "postal2", {"digits": 2}, 1.0, "2-digit postal prefix"),
}

_BIRTH_DETAIL = {"date": 3, "year": 2, "age": 2, "age_band": 1}


def _detail(form: FieldForm) -> float:
    if form.fact == BIRTH:
        return _BIRTH_DETAIL.get(form.form, 0)
    if form.fact == POSTAL:
        return float(form.params.get("digits", 0))
    return 1.0


def coarsen_form(source: FieldForm, target: FieldForm) -> FieldForm | None:
    """The form to release ``source`` in when the policy asks for ``target``.

    ``None`` when ``source`` is already at least as coarse (nothing to do) or when ``target``
    cannot be derived from ``source`` (for example a year from an age band).
    """
    if source.fact != target.fact or source.fact is None:
        return None
    if source.fact == BIRTH:
        return target if _BIRTH_DETAIL[source.form] > _BIRTH_DETAIL[target.form] else None
    if source.fact == POSTAL:
        if int(source.params.get("digits", 5)) <= int(target.params.get("digits", 5)):
            return None
        return target
    return None


@dataclass(frozen=True)
class HarmonizedField:
    """One shared fact, its column on each side and the common form both are converted to."""

    name: str
    fact: str
    left_column: str
    right_column: str
    left_form: FieldForm
    right_form: FieldForm
    common: FieldForm
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fact": self.fact,
            "released_column": self.left_column,
            "attacker_column": self.right_column,
            "released_form": self.left_form.to_dict(),
            "attacker_form": self.right_form.to_dict(),
            "common_form": self.common.to_dict(),
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class HarmonizedPair:
    """Two frames whose columns (one per shared fact) are in the same form and coding.

    ``left`` and ``right`` keep the input row order and index; their columns are the field
    names (``birth_year``, ``postal3``, ``sex``...).
    """

    left: pd.DataFrame
    right: pd.DataFrame
    fields: tuple[HarmonizedField, ...]
    reference_date: date | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_date": None if self.reference_date is None else str(self.reference_date),
            "fields": [f.to_dict() for f in self.fields],
        }


def _field_name(fact: str, common: FieldForm) -> str:
    if fact == BIRTH:
        return {"date": "birth_date", "year": "birth_year"}.get(common.form, common.form)
    if fact == POSTAL:
        return common.form
    if fact == SEX:
        return "sex"
    return fact


def _pick(
    entries: Iterable[CrosswalkEntry], reference_date: date | None
) -> list[tuple[CrosswalkEntry, FieldForm, str]]:
    """One entry per fact: the most detailed common form, then the highest confidence."""
    best: dict[str, tuple[CrosswalkEntry, FieldForm, str]] = {}
    for e in entries:
        if e.status == "rejected":
            continue
        if e.left_form.fact is not None and e.left_form.fact == e.right_form.fact:
            common, why = common_form(e.left_form, e.right_form, reference_date)
        else:
            common, why = FieldForm(None, "category", {}, 1.0, ""), "values compared as text"
        key = e.fact
        score = (_detail(common), e.confidence)
        if key not in best or score > (_detail(best[key][1]), best[key][0].confidence):
            best[key] = (e, common, why)
    return [best[k] for k in best]


def harmonize(
    left: Any,
    right: Any,
    on: Iterable[CrosswalkEntry] | Sequence[tuple[str, str]],
    reference_date: date | None = None,
    coarsen: Mapping[str, FieldForm] | None = None,
    cache: dict | None = None,
) -> HarmonizedPair:
    """Convert the shared facts of ``left`` and ``right`` to their common forms.

    Parameters
    ----------
    left, right : Dataset or frame
        The released dataset and the attacker's (or the other department's) dataset.
    on : crosswalk entries oriented left -> right, or ``(left_column, right_column)`` pairs
        Which columns describe the same fact. For bare pairs each side's form is detected
        from its values; pairs of unrecognised columns are compared as normalised text.
    reference_date : date, optional
        Date at which ages are taken.
    coarsen : mapping fact -> FieldForm, optional
        Release a fact coarser than the common form (advice scenarios: ``{"birth": year}``).
    cache : dict, optional
        Memo of converted columns, keyed by ``(id(frame), column, form)``; the matrix reuses
        one across pairs so each column is parsed once.
    """
    ldf, rdf = as_pandas(left), as_pandas(right)
    entries: list[CrosswalkEntry] = []
    for item in on:
        if isinstance(item, CrosswalkEntry):
            entries.append(item)
            continue
        lc, rc = item
        check_columns(ldf, [lc], getattr(left, "source", None) or "the released dataset")
        check_columns(rdf, [rc], getattr(right, "source", None) or "the attacker dataset")
        lf = detect_form(ldf[lc], lc, reference_date)
        rf = detect_form(rdf[rc], rc, reference_date)
        if lf.fact is None or lf.fact != rf.fact:
            lf = rf = FieldForm(None, "category", {}, 1.0, "given")
            fact = lc if lc == rc else f"{lc}={rc}"
            common = "category"
        else:
            fact = lf.fact
            common = common_form(lf, rf, reference_date)[0].form
        entries.append(
            CrosswalkEntry(
                fact,
                f"left.{lc}",
                f"right.{rc}",
                lf,
                rf,
                common,
                1.0,
                "given by the caller",
                "confirmed",
            )
        )
    if not entries:
        raise ParameterError("on", [], "at least one shared field between the two datasets")
    memo = cache if cache is not None else {}
    fields: list[HarmonizedField] = []
    lout: dict[str, pd.Series] = {}
    rout: dict[str, pd.Series] = {}
    for e, common, why in _pick(entries, reference_date):
        check_columns(ldf, [e.left_column], getattr(left, "source", None))
        check_columns(rdf, [e.right_column], getattr(right, "source", None))
        target = common
        if coarsen and e.fact in coarsen:
            c = coarsen[e.fact]
            if c.fact == common.fact and coarsen_form(common, c) is not None:
                target = c
                why = f"{why}; coarsened to {c.form}"
        name = _field_name(e.fact, target)
        while name in lout:
            name = name + "_"
        lout[name] = _convert_cached(memo, ldf, e.left_column, e.left_form, target, reference_date)
        rout[name] = _convert_cached(
            memo, rdf, e.right_column, e.right_form, target, reference_date
        )
        fields.append(
            HarmonizedField(
                name, e.fact, e.left_column, e.right_column, e.left_form, e.right_form, target, why
            )
        )
    return HarmonizedPair(
        pd.DataFrame(lout, index=ldf.index),
        pd.DataFrame(rout, index=rdf.index),
        tuple(fields),
        reference_date,
    )


def _form_key(form: FieldForm) -> tuple:
    return (form.form, tuple(sorted((k, str(v)) for k, v in form.params.items())))


def _convert_cached(
    memo: dict,
    df: pd.DataFrame,
    column: str,
    source: FieldForm,
    target: FieldForm,
    reference_date: date | None,
) -> pd.Series:
    key = (id(df), column, _form_key(source), _form_key(target), reference_date)
    if key not in memo:
        memo[key] = (df, convert(df[column], source, target, reference_date))
    return memo[key][1]
