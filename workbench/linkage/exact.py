"""Exact linkage attack: how many released records an attacker can single out by joining.

The attacker holds a dataset ``A`` with names (a voter roll) and joins a released dataset ``R``
on the quasi-identifiers both share, after harmonization. For each released record the number
of candidates ``f_A`` in ``A`` with the same key decides the outcome: no candidate, exactly one
(a claimed re-identification), or several (the attacker must guess).

If the attacker picks at random among the candidates, the expected number of correct
re-identifications is ``sum over classes of f_R / f_A`` over the classes present in ``A``
(the journalist / marketer scenario of Elliot & Dale 1999 and El Emam 2013, "Guide to the
De-Identification of Personal Health Information", section on linkage; it assumes every
released person is in ``A``, so it is an upper bound when ``A`` covers only part of ``R``).
With a ground-truth column the actual outcome is scored: correct unique matches, precision
(correct / claimed unique matches) and recall (correct / released records whose person is in
``A`` at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from ._codes import joint_keys
from .crosswalk import CrosswalkEntry, parse_on, propose_crosswalk
from .harmonize import HarmonizedField, HarmonizedPair, harmonize

__all__ = ["LinkageResult", "link_exact", "match_counts", "prepare_pair"]


@dataclass(frozen=True)
class MatchCounts:
    """Per released record: candidates in the attacker's data and the unique candidate's row."""

    candidates: np.ndarray  # int64, f_A of the record's key (0 = no match)
    unique_row: np.ndarray  # int64, attacker row position when candidates == 1, else -1


def match_counts(key_released: np.ndarray, key_attacker: np.ndarray) -> MatchCounts:
    """Count, for each released key, the attacker rows with the same key (``-1`` never matches).

    Sort-and-search on int64 keys: O((n_R + n_A) log n_A), a few hundred milliseconds for
    millions of rows.
    """
    valid = key_attacker >= 0
    rows = np.flatnonzero(valid)
    ka = key_attacker[valid]
    order = np.argsort(ka, kind="stable")
    ka_sorted = ka[order]
    if len(ka_sorted) == 0:
        n = len(key_released)
        return MatchCounts(np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64))
    starts = np.flatnonzero(np.r_[True, ka_sorted[1:] != ka_sorted[:-1]])
    uniq = ka_sorted[starts]
    counts = np.diff(np.r_[starts, len(ka_sorted)])
    pos = np.clip(np.searchsorted(uniq, key_released), 0, len(uniq) - 1)
    found = (key_released >= 0) & (uniq[pos] == key_released)
    cand = np.where(found, counts[pos], 0).astype(np.int64)
    first = rows[order[starts[pos]]]
    unique_row = np.where(cand == 1, first, -1).astype(np.int64)
    return MatchCounts(cand, unique_row)


@dataclass(frozen=True, eq=False)
class LinkageResult:
    """Outcome of an exact linkage of a released dataset against an attacker's dataset.

    Shares (``no_match``, ``one_match``, ``many_matches``) are of released records.
    ``candidate_counts`` holds ``f_A`` per released record (input order); it is not part of
    :meth:`to_dict`.
    """

    released_records: int
    attacker_records: int
    shared_qis: tuple[str, ...]
    no_match: float
    one_match: float
    many_matches: float
    expected_reidentifications: float
    fields: tuple[HarmonizedField, ...] = ()
    truth: str | None = None
    correct_unique_matches: int | None = None
    linkable_records: int | None = None
    precision: float | None = None
    recall: float | None = None
    reference_date: date | None = None
    candidate_counts: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False
    )

    @property
    def expected_reidentification_rate(self) -> float:
        """Expected correct re-identifications per released record."""
        return (
            self.expected_reidentifications / self.released_records
            if self.released_records
            else 0.0
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench link --json`` document."""
        out: dict[str, Any] = {
            "method": "exact",
            "released_records": self.released_records,
            "attacker_records": self.attacker_records,
            "shared_qis": list(self.shared_qis),
            "no_match": self.no_match,
            "one_match": self.one_match,
            "many_matches": self.many_matches,
            "expected_reidentifications": self.expected_reidentifications,
            "expected_reidentification_rate": self.expected_reidentification_rate,
        }
        if self.truth is not None:
            n = self.released_records
            out.update(
                {
                    "truth": self.truth,
                    "correct_unique_matches": self.correct_unique_matches,
                    "correct_unique_share": (self.correct_unique_matches or 0) / n if n else 0.0,
                    "linkable_records": self.linkable_records,
                    "precision": self.precision,
                    "recall": self.recall,
                }
            )
        out["reference_date"] = None if self.reference_date is None else str(self.reference_date)
        out["harmonization"] = [f.to_dict() for f in self.fields]
        return out


def _truth_codes(r: pd.DataFrame, a: pd.DataFrame, truth: str) -> tuple[np.ndarray, np.ndarray]:
    both = pd.concat([r[truth], a[truth]], ignore_index=True).astype("string")
    codes, _ = pd.factorize(both, use_na_sentinel=True)
    return codes[: len(r)], codes[len(r) :]


def score_truth(
    mc: MatchCounts, truth_r: np.ndarray, truth_a: np.ndarray
) -> tuple[int, int, float, float]:
    """(correct unique matches, linkable records, precision, recall) against ground truth."""
    claimed = mc.candidates == 1
    picked = np.where(claimed, truth_a[np.maximum(mc.unique_row, 0)], -2)
    correct = int((claimed & (truth_r >= 0) & (picked == truth_r)).sum())
    present = np.unique(truth_a[truth_a >= 0])
    linkable = int(np.isin(truth_r[truth_r >= 0], present).sum())
    n_claimed = int(claimed.sum())
    precision = correct / n_claimed if n_claimed else 0.0
    recall = correct / linkable if linkable else 0.0
    return correct, linkable, precision, recall


def prepare_pair(
    released: Any,
    attacker: Any,
    on: Any = "auto",
    truth: str | None = None,
    reference_date: date | None = None,
    crosswalk: Sequence[CrosswalkEntry] | None = None,
    exclude: Sequence[str] = (),
) -> HarmonizedPair:
    """Harmonize the fields the attacker would join on.

    ``on="auto"`` proposes a crosswalk between the two frames (the truth column and
    ``exclude`` never take part); a string ``"a,b=x"`` or a list of names / pairs pairs columns
    explicitly; ``crosswalk`` entries (oriented released -> attacker) are used as given.
    """
    r, a = as_pandas(released), as_pandas(attacker)
    if crosswalk is not None:
        entries: Any = list(crosswalk)
    elif isinstance(on, str) and on.strip().lower() == "auto":
        skip = [*exclude, *([truth] if truth else [])]
        cw = propose_crosswalk(
            {"released": r, "attacker": a},
            reference_date,
            exclude={"released": skip, "attacker": skip},
        )
        entries = list(cw.for_pair("released", "attacker"))
        if not entries:
            raise ParameterError(
                "on",
                "auto",
                "two datasets that share at least one "
                "recognisable field (none was found; pass --on a,b=x)",
            )
    else:
        entries = parse_on(on)
        if truth and any(truth in p for p in entries):
            raise ParameterError("on", on, f"fields other than the truth column {truth!r}")
    return harmonize(released, attacker, entries, reference_date)


def link_exact(
    released: Any,
    attacker: Any,
    on: Any = "auto",
    truth: str | None = None,
    reference_date: date | None = None,
    crosswalk: Sequence[CrosswalkEntry] | None = None,
    pair: HarmonizedPair | None = None,
) -> LinkageResult:
    """Simulate an exact linkage attack of ``released`` against ``attacker``.

    Parameters
    ----------
    released, attacker : Dataset or frame
        The released table and the attacker's table (pandas, polars, DuckDB relation).
    on : "auto", "a,b=x" or list of names / (released, attacker) pairs
        Fields to join on; ``auto`` detects and harmonizes the shared facts.
    truth : str, optional
        Column present in both tables holding the true identity; used only for scoring.
    reference_date : date, optional
        Date at which ages are taken.
    crosswalk : crosswalk entries, optional
        Confirmed entries (released -> attacker) to use instead of detection.
    pair : HarmonizedPair, optional
        Already harmonized frames (skips harmonization).

    Records with a missing value in any join field cannot be matched and count as no match.
    """
    r, a = as_pandas(released), as_pandas(attacker)
    if truth is not None:
        check_columns(r, [truth], getattr(released, "source", None) or "the released dataset")
        check_columns(a, [truth], getattr(attacker, "source", None) or "the attacker dataset")
    if pair is None:
        pair = prepare_pair(released, attacker, on, truth, reference_date, crosswalk)
    names = list(pair.names)
    kr, ka = joint_keys(pair.left, pair.right, names)
    mc = match_counts(kr, ka)
    n = len(kr)
    cand = mc.candidates
    matched = cand > 0
    expected = float((1.0 / cand[matched]).sum()) if matched.any() else 0.0
    kwargs: dict[str, Any] = {}
    if truth is not None:
        tr, ta = _truth_codes(r, a, truth)
        correct, linkable, precision, recall = score_truth(mc, tr, ta)
        kwargs = dict(
            truth=truth,
            correct_unique_matches=correct,
            linkable_records=linkable,
            precision=precision,
            recall=recall,
        )
    share = (lambda m: float(m.sum()) / n) if n else (lambda m: 0.0)
    return LinkageResult(
        released_records=n,
        attacker_records=len(ka),
        shared_qis=tuple(names),
        no_match=share(cand == 0),
        one_match=share(cand == 1),
        many_matches=share(cand > 1),
        expected_reidentifications=expected,
        fields=pair.fields,
        reference_date=pair.reference_date,
        candidate_counts=cand,
        **kwargs,
    )
