"""Join-risk matrix: for every pair (and optionally triple) of catalog datasets, how risky is
linking or joining them, and what to do about it.

For each pair the matrix computes

* linkage risk: an exact linkage attack in both directions on the harmonized shared facts
  (:mod:`workbench.linkage.exact`), summarised by the expected re-identification rate
  ``sum f_R / f_A / n_R``;
* cumulative-join risk (two internal datasets with a shared key): the uniqueness of the merged
  table on the union of their quasi-identifiers (:mod:`workbench.linkage.combine`);
* likelihood = the largest of those rates; harm = the largest harm weight among the sensitive
  attributes exposed (:mod:`workbench.linkage.sensitivity`); score = likelihood x harm, the
  usual risk = probability x impact matrix of information-security risk assessment
  (ISO/IEC 27005; for re-identification, El Emam 2013, "Guide to the De-Identification of
  Personal Health Information", ch. on risk assessment: the data risk threshold scales with the
  invasion of privacy).

Advice per pair: ``permit`` when the score is low; otherwise coarsen the shared facts greedily
along their known derivations (birth date -> birth year -> age band; 5-digit postal code ->
3-digit -> 2-digit prefix), one step at a time, always the step that lowers the score most, and
``permit after de-identification`` as soon as the score is low (listing the fields to coarsen
and the risk after); ``keep isolated`` when even the coarsest release stays above it. External
datasets (public data an attacker holds) are never coarsened: only the departments' releases are.

Triples (optional) are internal datasets joined on the key; their likelihood is the merged
table's uniqueness.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas
from ..errors import ParameterError
from ._codes import _pack
from .combine import _combine_tables, _Table, attach_demo_key, join_rows, joint_key_codes
from .crosswalk import Crosswalk, hints_from_metadata, propose_crosswalk
from .forms import BIRTH, POSTAL, FieldForm, convert, detect_form
from .harmonize import STANDARD_AGE_BANDS, _field_name, _pick, coarsen_form
from .sensitivity import Exposure, harm_category, harm_weights

NOT_PERMITTED = "not_permitted_by_policy"

if TYPE_CHECKING:  # pragma: no cover
    from ..governance.catalog import Catalog

__all__ = [
    "LinkageSummary",
    "Coarsening",
    "Advice",
    "PairRisk",
    "RiskMatrix",
    "join_risk_matrix",
    "DEFAULT_LEVELS",
]

#: Score thresholds: ``score >= high`` is high, ``>= medium`` medium, else low.
DEFAULT_LEVELS: Mapping[str, float] = {"high": 0.2, "medium": 0.05}

#: Coarsening ladders per fact (each step is one more de-identification).
_LADDERS: Mapping[str, tuple[FieldForm, ...]] = {
    BIRTH: (
        FieldForm(BIRTH, "year", {}, 1.0, "birth year"),
        FieldForm(BIRTH, "age_band", {"cuts": STANDARD_AGE_BANDS}, 1.0, "age band"),
    ),
    POSTAL: (
        FieldForm(POSTAL, "postal3", {"digits": 3}, 1.0, "3-digit postal prefix"),
        FieldForm(POSTAL, "postal2", {"digits": 2}, 1.0, "2-digit postal prefix"),
    ),
}
_WORDS = {
    "date": "birth date",
    "year": "birth year",
    "age": "age",
    "age_band": "age band",
    "postal5": "5-digit postal code",
    "postal4": "4-digit postal code",
    "postal3": "3-digit postal prefix",
    "postal2": "2-digit postal prefix",
}


def _word(form: str) -> str:
    return _WORDS.get(form, form.replace("_", " "))


@dataclass(frozen=True)
class LinkageSummary:
    """Exact linkage of ``released`` against ``attacker`` on the shared facts."""

    released: str
    attacker: str
    released_records: int
    attacker_records: int
    shared_qis: tuple[str, ...]
    no_match: float
    one_match: float
    many_matches: float
    expected_reidentifications: float

    @property
    def rate(self) -> float:
        """Expected correct re-identifications per released record."""
        return (
            self.expected_reidentifications / self.released_records
            if self.released_records
            else 0.0
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "released": self.released,
            "attacker": self.attacker,
            "released_records": self.released_records,
            "attacker_records": self.attacker_records,
            "shared_qis": list(self.shared_qis),
            "no_match": self.no_match,
            "one_match": self.one_match,
            "many_matches": self.many_matches,
            "expected_reidentifications": self.expected_reidentifications,
            "expected_reidentification_rate": self.rate,
        }


@dataclass(frozen=True)
class Coarsening:
    """Release ``dataset.column`` in a coarser form."""

    dataset: str
    column: str
    fact: str
    from_form: str
    to_form: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "fact": self.fact,
            "from": self.from_form,
            "to": self.to_form,
        }

    def __str__(self) -> str:
        return f"{self.dataset}.{self.column}: {_word(self.from_form)} -> {_word(self.to_form)}"


@dataclass(frozen=True)
class Advice:
    """What to do with a pair: ``permit``, ``permit_after_deidentification``,
    ``keep_isolated`` or ``not_permitted_by_policy``, with reasons in plain words and the risk
    after coarsening."""

    decision: str
    reasons: tuple[str, ...]
    coarsen: tuple[Coarsening, ...] = ()
    likelihood_after: float | None = None
    score_after: float | None = None
    level_after: str | None = None
    steps: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "coarsen": [c.to_dict() for c in self.coarsen],
            "likelihood_after": self.likelihood_after,
            "score_after": self.score_after,
            "level_after": self.level_after,
            "steps": [dict(s) for s in self.steps],
        }


@dataclass(frozen=True)
class PairRisk:
    """Risk of linking or joining two (or three) datasets, and the advice."""

    datasets: tuple[str, ...]
    kind: str
    shared_qis: tuple[str, ...]
    linkage: tuple[LinkageSummary, ...]
    combined: Mapping[str, Any] | None
    likelihood: float
    harm: float
    exposed: tuple[Exposure, ...]
    score: float
    level: str
    advice: Advice

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": list(self.datasets),
            "kind": self.kind,
            "shared_qis": list(self.shared_qis),
            "linkage": [s.to_dict() for s in self.linkage],
            "combined": None if self.combined is None else dict(self.combined),
            "likelihood": self.likelihood,
            "harm": self.harm,
            "exposed": [e.to_dict() for e in self.exposed],
            "score": self.score,
            "level": self.level,
            "advice": self.advice.to_dict(),
        }


@dataclass(frozen=True)
class RiskMatrix:
    """The join-risk matrix of a catalog."""

    catalog: str
    datasets: tuple[str, ...]
    pairs: tuple[PairRisk, ...]
    triples: tuple[PairRisk, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    levels: Mapping[str, float] = field(default_factory=dict)
    key: str | None = None
    key_source: str | None = None
    reference_date: date | None = None
    seconds: float = 0.0

    def get(self, *names: str) -> PairRisk:
        """The entry for these datasets (any order)."""
        want = set(names)
        for p in (*self.pairs, *self.triples):
            if set(p.datasets) == want:
                return p
        raise ParameterError("datasets", list(names), "a pair or triple of the matrix")

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench matrix --json`` document."""
        return {
            "catalog": self.catalog,
            "datasets": list(self.datasets),
            "reference_date": None if self.reference_date is None else str(self.reference_date),
            "key": self.key,
            "key_source": self.key_source,
            "weights": dict(self.weights),
            "levels": dict(self.levels),
            "pairs": [p.to_dict() for p in self.pairs],
            "triples": [p.to_dict() for p in self.triples],
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- engine


class _Workspace:
    """Frames, detected forms and memoised codes shared by every pair and scenario."""

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        qis: Mapping[str, Sequence[str]],
        forms: Mapping[str, Mapping[str, FieldForm]],
        crosswalk: Crosswalk,
        external: Mapping[str, bool],
        reference_date: date | None,
        keys: Mapping[str, np.ndarray] | None,
        threshold: float,
    ) -> None:
        self.frames = frames
        self.qis = qis
        self.forms = forms
        self.crosswalk = crosswalk
        self.external = external
        self.ref = reference_date
        self.keys = keys or {}
        self.threshold = threshold
        self.tables = {n: _Table(n, frames[n], qis[n], forms[n]) for n in frames}
        self._joint: dict[tuple, tuple[np.ndarray, np.ndarray, int]] = {}
        self._rows: dict[tuple[str, ...], list[np.ndarray]] = {}

    # ---- linkage
    def _joint_codes(
        self, a: str, ca: str, fa: FieldForm, b: str, cb: str, fb: FieldForm, target: FieldForm
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Codes of both columns in the common ``target`` form (missing -1), computed on the
        distinct values only and spread to the rows."""
        k = (a, ca, b, cb, target.form, tuple(target.params.get("cuts", ())))
        if k not in self._joint:
            ta, tb = self.tables[a], self.tables[b]
            ta.forms.setdefault(ca, fa)
            tb.forms.setdefault(cb, fb)
            raw_a, conv_a = _per_value(ta, ca, fa, target, self.ref)
            raw_b, conv_b = _per_value(tb, cb, fb, target, self.ref)
            both = pd.concat([conv_a, conv_b], ignore_index=True)
            vcodes, vuniq = pd.factorize(both, use_na_sentinel=True)
            lut_a = np.append(vcodes[: len(conv_a)], -1).astype(np.int64)
            lut_b = np.append(vcodes[len(conv_a) :], -1).astype(np.int64)
            self._joint[k] = (lut_a[raw_a], lut_b[raw_b], len(vuniq))
        return self._joint[k]

    def fields(
        self, a: str, b: str, release: Mapping[str, FieldForm]
    ) -> list[tuple[str, str, str, FieldForm, FieldForm, FieldForm]]:
        """(fact, column a, column b, form a, form b, target) per shared fact."""
        out = []
        for e, common, _why in _pick(self.crosswalk.for_pair(a, b), self.ref):
            target = common
            if e.fact in release:
                c = coarsen_form(common, release[e.fact])
                target = c if c is not None else common
            out.append((e.fact, e.left_column, e.right_column, e.left_form, e.right_form, target))
        return out

    def linkage(
        self, a: str, b: str, release: Mapping[str, FieldForm]
    ) -> tuple[LinkageSummary, LinkageSummary] | None:
        fields = self.fields(a, b, release)
        if not fields:
            return None
        na, nb = len(self.frames[a]), len(self.frames[b])
        ca_list, cb_list, cards, names = [], [], [], []
        miss_a = np.zeros(na, dtype=bool)
        miss_b = np.zeros(nb, dtype=bool)
        for fact, col_a, col_b, fa, fb, target in fields:
            xa, xb, card = self._joint_codes(a, col_a, fa, b, col_b, fb, target)
            miss_a |= xa < 0
            miss_b |= xb < 0
            ca_list.append(np.maximum(xa, 0))
            cb_list.append(np.maximum(xb, 0))
            cards.append(card)
            names.append(_field_name(fact, target))
        both = _pack(
            [np.concatenate([x, y]) for x, y in zip(ca_list, cb_list, strict=True)], cards, na + nb
        )
        codes, uniq = pd.factorize(both)
        code_a, code_b = codes[:na], codes[na:]
        k = len(uniq)
        f_a = np.bincount(code_a[~miss_a], minlength=k)
        f_b = np.bincount(code_b[~miss_b], minlength=k)

        def summary(
            rel: str,
            att: str,
            code_r: np.ndarray,
            miss_r: np.ndarray,
            f_att: np.ndarray,
            n_r: int,
            n_att: int,
        ) -> LinkageSummary:
            cand = np.where(miss_r, 0, f_att[code_r])
            hit = cand > 0
            return LinkageSummary(
                rel,
                att,
                n_r,
                n_att,
                tuple(names),
                float((cand == 0).mean()) if n_r else 0.0,
                float((cand == 1).mean()) if n_r else 0.0,
                float((cand > 1).mean()) if n_r else 0.0,
                float((1.0 / cand[hit]).sum()),
            )

        return (
            summary(a, b, code_a, miss_a, f_b, na, nb),
            summary(b, a, code_b, miss_b, f_a, nb, na),
        )

    # ---- combined
    def combined(
        self, names: Sequence[str], release: Mapping[str, FieldForm], effects: bool = False
    ) -> Any:
        names = tuple(names)
        if any(n not in self.keys for n in names):
            return None
        if names not in self._rows:
            self._rows[names] = join_rows([self.keys[n] for n in names])
        return _combine_tables(
            {n: self.tables[n] for n in names},
            self._rows[names],
            "key",
            {},
            self.threshold,
            False,
            "column",
            release,
            self.ref,
            effects=effects,
        )


def _per_value(
    table: _Table, column: str, form: FieldForm, target: FieldForm, ref: date | None
) -> tuple[np.ndarray, pd.Series]:
    raw, uniques = table.factorized(column)
    return raw, convert(pd.Series(uniques), form, target, ref)


def _level(score: float, levels: Mapping[str, float]) -> str:
    if score >= levels["high"]:
        return "high"
    if score >= levels["medium"]:
        return "medium"
    return "low"


def _exposures(
    names: Sequence[str],
    sensitive: Mapping[str, Sequence[str]],
    qis: Mapping[str, Sequence[str]],
    metadata: Mapping[str, Mapping[str, Any]],
    weights: Mapping[str, float],
) -> tuple[Exposure, ...]:
    out = []
    for n in names:
        for c in sensitive.get(n, ()):
            cat = harm_category(c, metadata.get(n), sensitive=True) or "other"
            out.append(Exposure(n, c, cat, weights.get(cat, weights.get("other", 0.4))))
        for c in qis.get(n, ()):
            cat = harm_category(c, metadata.get(n), sensitive=False)
            if cat is not None:
                out.append(Exposure(n, c, cat, weights.get(cat, weights.get("other", 0.4))))
    return tuple(sorted(out, key=lambda e: (-e.weight, e.dataset, e.column)))


def join_risk_matrix(
    catalog: Catalog,
    *,
    triples: bool = False,
    weights: Mapping[str, float] | None = None,
    levels: Mapping[str, float] | None = None,
    key: str = "person_key",
    threshold: float = 0.2,
    crosswalk: Crosswalk | None = None,
    datasets: Sequence[str] | None = None,
    frames: Mapping[str, Any] | None = None,
) -> RiskMatrix:
    """Linkage and cumulative-join risk, harm-weighted score and advice for every pair.

    Parameters
    ----------
    catalog : Catalog
        Datasets with roles (QIs, sensitive), ``external`` flags and metadata.
    triples : bool
        Also assess every triple of internal datasets joined on the key.
    weights : mapping category -> weight, optional
        Harm weights overriding :data:`~workbench.linkage.sensitivity.DEFAULT_HARM_WEIGHTS`.
    levels : mapping, optional
        Score thresholds ``{"high": 0.2, "medium": 0.05}``.
    key : str
        Join key column for internal joins. Datasets without it: the city catalog attaches it in
        memory from the ground truth (demo path); other catalogs skip the cumulative join.
    threshold : float
        Records-at-risk threshold on ``1 / f_k`` for the merged tables.
    crosswalk : Crosswalk, optional
        Entries to use; default the catalog's confirmed crosswalk, or a fresh proposal when the
        catalog has none.
    datasets : names, optional
        Subset of the catalog (default all).
    frames : mapping name -> frame, optional
        Already loaded data (skips loading from the catalog files).
    """
    started = time.perf_counter()
    lv = {**DEFAULT_LEVELS, **dict(levels or {})}
    if not 0 <= lv["medium"] <= lv["high"]:
        raise ParameterError("levels", lv, "0 <= medium <= high")
    w = harm_weights(weights)
    names = list(datasets) if datasets is not None else list(catalog.datasets)
    for n in names:
        catalog.entry(n)
    if len(names) < 2:
        raise ParameterError("datasets", names, "at least two catalog datasets")
    loaded: dict[str, pd.DataFrame] = {}
    for n in names:
        src = frames.get(n) if frames else None
        if src is None:
            src = catalog.load_dataset(n)
        loaded[n] = as_pandas(src)
    entries = {n: catalog.entry(n) for n in names}
    qis = {n: tuple(entries[n].quasi_identifiers) for n in names}
    sens = {n: tuple(entries[n].sensitive) for n in names}
    meta = {n: dict(entries[n].metadata) for n in names}
    ext = {n: bool(entries[n].external) for n in names}
    ref = catalog.reference_date
    hints = {n: hints_from_metadata(meta[n]) for n in names}

    # crosswalk: confirmed catalog entries, else a proposal over the datasets
    cw = crosswalk
    if cw is None:
        cw = catalog.crosswalk if len(catalog.crosswalk) else None
    if cw is None:
        skip = {n: [key, *entries[n].direct_identifiers] for n in names}
        cw = propose_crosswalk({n: loaded[n] for n in names}, ref, exclude=skip, hints=hints)
    # forms of every QI (for coarsening inside merged tables)
    forms: dict[str, dict[str, FieldForm]] = {}
    for n in names:
        forms[n] = {}
        for e in cw.entries:
            if e.left_dataset == n:
                forms[n][e.left_column] = e.left_form
            if e.right_dataset == n:
                forms[n][e.right_column] = e.right_form
        for c in qis[n]:
            if c not in forms[n]:
                forms[n][c] = detect_form(loaded[n][c], c, ref, hints[n].get(c))

    # join keys of internal datasets (coded jointly so equal keys get equal codes)
    key_source = None
    internal = [n for n in names if not ext[n]]
    keyed: list[str] = []
    for n in internal:
        if key not in loaded[n].columns:
            try:
                loaded[n] = attach_demo_key(catalog, n, loaded[n], key)
            except Exception:  # no key: cumulative joins are skipped
                continue
            key_source = "demo"
        elif key_source is None:
            key_source = "column"
        keyed.append(n)
    keys: dict[str, np.ndarray] = {}
    if keyed:
        keys = dict(zip(keyed, joint_key_codes([loaded[n][key] for n in keyed]), strict=True))

    ws = _Workspace(loaded, qis, forms, cw, ext, ref, keys, threshold)
    pairs = [
        _assess(ws, combo, sens, qis, meta, w, lv) for combo in itertools.combinations(names, 2)
    ]
    trip = []
    if triples:
        for combo in itertools.combinations([n for n in internal if n in keys], 3):
            trip.append(_assess(ws, combo, sens, qis, meta, w, lv))
    pairs = [_respect_policies(catalog, p) for p in pairs]
    trip = [_respect_policies(catalog, p) for p in trip]
    return RiskMatrix(
        catalog.name,
        tuple(names),
        tuple(pairs),
        tuple(trip),
        w,
        lv,
        key if keys else None,
        key_source,
        ref,
        time.perf_counter() - started,
    )


def _respect_policies(catalog: Catalog, pair: PairRisk) -> PairRisk:
    """Withhold "permit" from an internal join the datasets' policies forbid.

    The risk score says what a join would expose; the policies say whether the join may happen at
    all. ``workbench check a+b`` fails a combination with no common purpose or consent, hosting a
    policy forbids, or no valid data-use agreement; the advice must not say otherwise, so it
    becomes ``not_permitted_by_policy`` with the gate's reasons
    (:func:`workbench.governance.sharing.combination_blocks`, one definition for both).
    """
    from dataclasses import replace

    from ..governance.sharing import combination_blocks

    if pair.kind != "internal join" or pair.advice.decision == "keep_isolated":
        return pair
    blocks = combination_blocks(catalog, pair.datasets)
    if not blocks:
        return pair
    reasons = (
        *pair.advice.reasons,
        "Not permitted by policy, whatever the risk: " + " ".join(blocks),
    )
    advice = replace(pair.advice, decision=NOT_PERMITTED, reasons=reasons, coarsen=())
    return replace(pair, advice=advice)


def _evaluate(
    ws: _Workspace, names: Sequence[str], release: Mapping[str, FieldForm], effects: bool = False
) -> tuple[float, tuple[LinkageSummary, ...], Any]:
    links: list[LinkageSummary] = []
    if len(names) == 2:
        res = ws.linkage(names[0], names[1], release)
        if res is not None:
            links = list(res)
    combined = None
    if all(not ws.external[n] for n in names):
        combined = ws.combined(names, release, effects=effects)
    rates = [s.rate for s in links]
    if combined is not None and combined.joined_records:
        rates.append(combined.combined.uniqueness)
    return (max(rates) if rates else 0.0), tuple(links), combined


def _release_changes(
    ws: _Workspace, names: Sequence[str], release: Mapping[str, FieldForm]
) -> tuple[Coarsening, ...]:
    """Columns of the internal datasets whose released form changes under ``release``."""
    out = []
    for n in names:
        if ws.external[n]:
            continue
        cols = set(ws.qis[n])
        for e in ws.crosswalk.entries:
            if e.status == "rejected":
                continue
            if e.left_dataset == n and any(e.right_dataset == m for m in names):
                cols.add(e.left_column)
            if e.right_dataset == n and any(e.left_dataset == m for m in names):
                cols.add(e.right_column)
        for c in sorted(cols):
            f = ws.forms[n].get(c)
            if f is None or f.fact not in release:
                continue
            t = coarsen_form(f, release[f.fact])
            if t is not None:
                out.append(Coarsening(n, c, f.fact, f.form, t.form))
    return tuple(out)


def _assess(
    ws: _Workspace,
    names: Sequence[str],
    sens: Mapping[str, Sequence[str]],
    qis: Mapping[str, Sequence[str]],
    meta: Mapping[str, Mapping[str, Any]],
    weights: Mapping[str, float],
    levels: Mapping[str, float],
) -> PairRisk:
    likelihood, links, combined = _evaluate(ws, names, {}, effects=True)
    exposed = _exposures([n for n in names if not ws.external[n]], sens, qis, meta, weights)
    harm = max((e.weight for e in exposed), default=0.0)
    score = likelihood * harm
    level = _level(score, levels)
    kind = "linkage" if any(ws.external[n] for n in names) else "internal join"
    shared = links[0].shared_qis if links else ()
    comb_dict = None
    if combined is not None:
        comb_dict = {
            "joined_records": combined.joined_records,
            "qis": list(combined.qis),
            **{
                k: v
                for k, v in combined.combined.to_dict().items()
                if k in ("uniqueness", "records_at_risk", "average_risk", "k")
            },
            "main_driver": combined.main_driver,
            "delta": combined.delta,
        }
    advice = _advise(ws, names, likelihood, harm, score, level, links, combined, exposed, levels)
    return PairRisk(
        tuple(names),
        kind,
        tuple(shared),
        links,
        comb_dict,
        likelihood,
        harm,
        exposed,
        score,
        level,
        advice,
    )


def _describe_risk(
    names: Sequence[str],
    links: Sequence[LinkageSummary],
    combined: Any,
    exposed: Sequence[Exposure],
    harm: float,
    score: float,
    level: str,
) -> list[str]:
    reasons = []
    for s in links:
        if s.released_records:
            reasons.append(
                f"Linking {s.released} to {s.attacker} on {', '.join(s.shared_qis)} singles "
                f"out {s.one_match:.0%} of the {s.released} records; an attacker guessing "
                f"among the candidates re-identifies an expected {s.rate:.0%} of them."
            )
    if combined is not None and combined.joined_records:
        driver = f"; {combined.main_driver} adds the most" if combined.main_driver else ""
        reasons.append(
            f"Joining {' and '.join(names)} on the key gives {combined.joined_records} merged "
            f"records, {combined.combined.uniqueness:.0%} unique on the union of their "
            f"quasi-identifiers{driver}."
        )
    if exposed:
        top = exposed[0]
        reasons.append(
            f"Exposes {', '.join(f'{e.dataset}.{e.column} ({e.category})' for e in exposed)}"
            f"; harm weight {harm:.2f} ({top.category})."
        )
    else:
        reasons.append("No sensitive attribute is exposed (harm weight 0).")
    reasons.append(f"Risk score {score:.3f} = likelihood x harm: {level}.")
    return reasons


def _next_rung(
    ws: _Workspace, names: Sequence[str], release: Mapping[str, FieldForm], fact: str
) -> dict[str, FieldForm] | None:
    """``release`` with ``fact`` one rung coarser, skipping rungs that change no internal
    column; ``None`` at the end of the ladder."""
    ladder = _LADDERS[fact]
    idx = -1
    if fact in release:
        idx = next(i for i, f in enumerate(ladder) if f.form == release[fact].form)
    before = _release_changes(ws, names, release)
    for rung in ladder[idx + 1 :]:
        trial = {**release, fact: rung}
        if _release_changes(ws, names, trial) != before:
            return trial
    return None


def _advise(
    ws: _Workspace,
    names: Sequence[str],
    likelihood: float,
    harm: float,
    score: float,
    level: str,
    links: Sequence[LinkageSummary],
    combined: Any,
    exposed: Sequence[Exposure],
    levels: Mapping[str, float],
) -> Advice:
    reasons = _describe_risk(names, links, combined, exposed, harm, score, level)
    if level == "low":
        reasons.append(
            "Permit: the expected re-identification times the harm is below the "
            f"medium threshold {levels['medium']}."
        )
        return Advice("permit", tuple(reasons), (), likelihood, score, level)
    facts_present = {f.fact for n in names for f in ws.forms[n].values()} & set(_LADDERS)
    release: dict[str, FieldForm] = {}
    steps: list[dict[str, Any]] = []
    cur_score, cur_like = score, likelihood
    while _level(cur_score, levels) != "low":
        options = []
        for fact in sorted(facts_present):
            trial = _next_rung(ws, names, release, fact)
            if trial is None:
                continue
            like, _, _ = _evaluate(ws, names, trial)
            options.append((like * harm, like, fact, trial))
        if not options:
            break
        options.sort(key=lambda o: (o[0], o[2]))
        cur_score, cur_like, fact, release = options[0]
        steps.append(
            {
                "coarsen": f"{fact} -> {_word(release[fact].form)}",
                "likelihood": cur_like,
                "score": cur_score,
                "level": _level(cur_score, levels),
            }
        )
    changes = _release_changes(ws, names, release)
    after = _level(cur_score, levels)
    if after == "low" and changes:
        reasons.append(
            "Permit after de-identification: release "
            + "; ".join(str(c) for c in changes)
            + f". Risk after: likelihood {cur_like:.1%}, score {cur_score:.3f} ({after})."
        )
        return Advice(
            "permit_after_deidentification",
            tuple(reasons),
            changes,
            cur_like,
            cur_score,
            after,
            tuple(steps),
        )
    if changes:
        reasons.append(
            "Keep isolated: even after coarsening ("
            + "; ".join(str(c) for c in changes)
            + f") the score stays {cur_score:.3f} ({after}); the remaining risk comes from "
            "attributes that have no coarser common form."
        )
    else:
        reasons.append("Keep isolated: no shared field can be coarsened to lower the risk.")
    return Advice(
        "keep_isolated", tuple(reasons), changes, cur_like, cur_score, after, tuple(steps)
    )
