"""Evaluate every release against every threat scenario: the scenario matrix.

Per (release, scenario) one :class:`ScenarioOutcome` with a headline ``risk`` in [0, 1] (the
figure the matrix colours and the "worst scenario" is chosen by) and the detail behind it:

* reidentify -- the attacker's per-record success probability is ``1 / f`` (prosecutor: ``f`` =
  records of the release sharing the target's known values) or ``1 / F`` (journalist,
  marketer: ``F`` = the attacker's identified records with those values; 0 when none). The risk
  measures are the engine's own (:func:`workbench.risk.measures.prosecutor_risk`,
  ``journalist_risk``, ``marketer_risk``) applied to the matched records; headline = expected
  share re-identified. With ground truth, ``actual_reidentifications`` counts the released
  records whose unique candidate is the right person.
* infer -- a released record's sensitive value is *learned* when, among the release's records
  sharing its known values, the share holding its own value reaches ``confidence`` after the
  attacker rules out the ``rule_out`` most frequent other values (homogeneity for ``rule_out =
  0``; the background-knowledge attack of Machanavajjhala et al. 2007 otherwise). Headline =
  share of records learned.
* membership -- for each person in the attacker's table, the presence probability ``delta =
  min(1, f / F)`` of their class (Nergiz, Atzori & Clifton 2007). The attacker guesses "in the
  release" when ``delta >= 0.5``; with ground truth the headline is the membership advantage
  (true-positive rate - false-positive rate), otherwise the share of people guessed "in".

Values never leave this module: outcomes hold counts, shares and field names only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas
from ..errors import ConfigError, ParameterError
from ..linkage._codes import joint_keys
from ..linkage.crosswalk import CrosswalkEntry, hints_from_metadata, propose_crosswalk
from ..linkage.exact import _truth_codes, match_counts, prepare_pair, score_truth
from ..linkage.forms import detect_form
from ..risk.measures import journalist_risk, marketer_risk, prosecutor_risk
from ._model import Scenario

__all__ = ["Release", "ScenarioOutcome", "ScenarioMatrix", "evaluate_scenarios"]

_TRUTH = "__scenario_truth__"


@dataclass(frozen=True, eq=False)
class Release:
    """A table as released (or about to be): a catalog dataset, an anonymized output, a DP or
    synthetic table. ``dataset`` names the catalog entry it derives from (roles, metadata and
    ground truth come from there)."""

    name: str
    data: Any
    dataset: str | None = None
    kind: str = "dataset"
    truth_column: str | None = None  # a column holding the true person (scoring only)


@dataclass(frozen=True)
class ScenarioOutcome:
    """One cell of the scenario matrix (aggregates only)."""

    release: str
    scenario: str
    goal: str
    applicable: bool
    risk: float
    summary: str
    fields: tuple[str, ...] = ()
    records: int = 0
    expected_reidentifications: float | None = None
    actual_reidentifications: int | None = None
    highest_risk: float | None = None
    records_at_risk: float | None = None
    learned_records: int | None = None
    learned_share: float | None = None
    membership_advantage: float | None = None
    delta_max: float | None = None
    guessed_members: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ScenarioMatrix:
    """Every release against every scenario, with the worst scenario of each release."""

    releases: tuple[str, ...]
    scenarios: tuple[Scenario, ...]
    outcomes: tuple[ScenarioOutcome, ...]

    def outcome(self, release: str, scenario: str) -> ScenarioOutcome:
        for o in self.outcomes:
            if o.release == release and o.scenario == scenario:
                return o
        raise KeyError((release, scenario))

    def worst(self) -> dict[str, ScenarioOutcome | None]:
        """Per release, the applicable scenario with the highest risk (ties: first listed)."""
        out: dict[str, ScenarioOutcome | None] = {}
        for r in self.releases:
            cells = [o for o in self.outcomes if o.release == r and o.applicable]
            out[r] = max(cells, key=lambda o: o.risk) if cells else None
        return out

    def worst_in_words(self) -> dict[str, str]:
        words = {}
        by_name = {s.name: s for s in self.scenarios}
        for r, o in self.worst().items():
            if o is None:
                words[r] = f"{r}: no scenario applies (the attackers share no known field with it)"
            else:
                words[r] = f"{r}: worst is {o.scenario} -- {by_name[o.scenario].plain}: {o.summary}"
        return words

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst()
        return {
            "releases": list(self.releases),
            "scenarios": [s.to_dict() for s in self.scenarios],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "worst": {r: (None if o is None else o.scenario) for r, o in worst.items()},
            "worst_in_words": self.worst_in_words(),
        }


# --------------------------------------------------------------------------- helpers


def _known(
    entry_names: Sequence[str], facts: Sequence[str | None], knows: Sequence[str]
) -> list[int]:
    want = {k.lower() for k in knows}
    return [
        i
        for i, (n, f) in enumerate(zip(entry_names, facts, strict=True))
        if (f is not None and f.lower() in want) or n.lower() in want
    ]


def _release_fields(
    frame: pd.DataFrame, knows: Sequence[str], ref: date | None, hints: Mapping[str, Any]
) -> list[str]:
    """Columns of the release that carry a fact or column the attacker knows."""
    cols = [str(c) for c in frame.columns if c != _TRUTH]
    facts = []
    for c in cols:
        form = detect_form(frame[c], c, ref, hints.get(c))
        facts.append(form.fact if form.confidence > 0 else None)
    return [cols[i] for i in _known(cols, facts, knows)]


def _class_sizes(keys: np.ndarray) -> np.ndarray:
    """Per record, the number of records with the same key (``-1`` = missing -> 0)."""
    out = np.zeros(len(keys), dtype=np.int64)
    ok = keys >= 0
    if ok.any():
        _, inv, cnt = np.unique(keys[ok], return_inverse=True, return_counts=True)
        out[ok] = cnt[inv]
    return out


def _counts_in(keys_from: np.ndarray, keys_in: np.ndarray) -> np.ndarray:
    """Per key of ``keys_from``, how many rows of ``keys_in`` have it (0 for ``-1``)."""
    return match_counts(keys_from, keys_in).candidates


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _na(release: str, scenario: Scenario, why: str) -> ScenarioOutcome:
    return ScenarioOutcome(release, scenario.name, scenario.goal, False, 0.0, why)


# --------------------------------------------------------------------------- the evaluator


class _Context:
    """Loads what scenarios hold (catalog datasets, other releases) once, and the truth table."""

    def __init__(
        self, catalog: Any, releases: Sequence[Release], external: Sequence[Release] = ()
    ) -> None:
        self.catalog = catalog
        self.releases = {r.name: r for r in (*external, *releases)}
        self.truth_columns = {r.name: r.truth_column for r in (*external, *releases)}
        self.ref = getattr(catalog, "reference_date", None) if catalog is not None else None
        self._frames: dict[str, pd.DataFrame] = {}
        self._truth: dict[Any, pd.DataFrame] = {}

    def frame(self, name: str) -> tuple[pd.DataFrame, str | None]:
        """The attacker's copy of ``name`` and the catalog dataset it is."""
        if name in self.releases:
            r = self.releases[name]
            return as_pandas(r.data), r.dataset or name
        if self.catalog is not None and name in self.catalog.datasets:
            if name not in self._frames:
                self._frames[name] = as_pandas(self.catalog.load_dataset(name))
            return self._frames[name], name
        known = sorted({*self.releases, *((self.catalog.datasets if self.catalog else {}) or {})})
        raise ConfigError(
            f"scenario holds {name!r}, which is neither a release nor a catalog "
            f"dataset; known: {', '.join(known)}"
        )

    def hints(self, dataset: str | None) -> dict[str, Any]:
        if self.catalog is None or dataset is None or dataset not in self.catalog.datasets:
            return {}
        return hints_from_metadata(self.catalog.entry(dataset).metadata)

    def truth(
        self, scenario: Scenario, frame: pd.DataFrame, name: str, dataset: str | None
    ) -> np.ndarray | None:
        """Person of each row (object array, ``None`` unknown), or ``None`` without truth."""
        col = self.truth_columns.get(name)
        if col is not None:
            if col not in frame.columns:
                raise ConfigError(f"truth column {col!r} is not in {name}")
            return frame[col].astype("string").to_numpy(dtype=object)
        gt = scenario.ground_truth
        if gt is None or dataset is None or self.catalog is None:
            return None
        entry = self.catalog.entry(dataset) if dataset in self.catalog.datasets else None
        rid = (entry.metadata or {}).get("record_id") if entry is not None else None
        if not rid or rid not in frame.columns:
            return None  # the release no longer carries its record id (dropped on release)
        key = (str(gt.file), gt.person)
        if key not in self._truth:
            from ..loading.readers import load

            table = as_pandas(load(gt.file))
            need = [gt.dataset_column, gt.record_column, gt.person]
            missing = [c for c in need if c not in table.columns]
            if missing:
                raise ConfigError(f"{gt.file}: ground truth lacks columns {missing}")
            self._truth[key] = table[need].astype("string")
        table = self._truth[key]
        sub = table[table[gt.dataset_column] == dataset]
        mapping = pd.Series(sub[gt.person].to_numpy(), index=sub[gt.record_column].to_numpy())
        mapping = mapping[~mapping.index.duplicated()]
        return frame[rid].astype("string").map(mapping).to_numpy(dtype=object)

    def crosswalk(
        self,
        rname: str,
        rdataset: str | None,
        r: pd.DataFrame,
        aname: str,
        adataset: str | None,
        a: pd.DataFrame,
    ) -> list[CrosswalkEntry]:
        if self.catalog is not None and rdataset and adataset:
            confirmed = self.catalog.crosswalk.for_pair(rdataset, adataset)
            if confirmed:
                return list(confirmed)
        ln, rn = rdataset or rname, adataset or aname
        if ln == rn:
            rn = rn + "_attacker"
        skip = [_TRUTH, *(c for c in self.truth_columns.values() if c)]
        cw = propose_crosswalk(
            {ln: r, rn: a},
            self.ref,
            exclude={ln: skip, rn: skip},
            hints={ln: self.hints(rdataset), rn: self.hints(adataset)},
        )
        return list(cw.for_pair(ln, rn))


def _linked_keys(
    ctx: _Context, release: Release, r: pd.DataFrame, scenario: Scenario, held: str
) -> tuple[np.ndarray, np.ndarray, list[str], pd.DataFrame, str | None] | str:
    a, adataset = ctx.frame(held)
    if adataset is not None and adataset == release.dataset:
        return f"the attacker holds {held}, this release's own source: nothing to attack"
    entries = ctx.crosswalk(release.name, release.dataset, r, held, adataset, a)
    keep = _known(
        [e.right.split(".", 1)[1] for e in entries], [e.fact for e in entries], scenario.knows
    )
    keep = sorted(
        set(keep)
        | set(
            _known(
                [e.left.split(".", 1)[1] for e in entries],
                [e.fact for e in entries],
                scenario.knows,
            )
        )
    )
    entries = [entries[i] for i in keep]
    if not entries:
        return f"{held} shares none of the known facts ({', '.join(scenario.knows)}) with it"
    pair = prepare_pair(r, a, crosswalk=entries, reference_date=ctx.ref)
    names = list(pair.names)
    kr, ka = joint_keys(pair.left, pair.right, names)
    return kr, ka, names, a, adataset


def _reidentify(ctx: _Context, release: Release, r: pd.DataFrame, s: Scenario) -> ScenarioOutcome:
    n = len(r)
    truth_r = ctx.truth(s, r, release.name, release.dataset)
    if not s.holds:
        tcol = ctx.truth_columns.get(release.name)
        fields = _release_fields(
            r.drop(columns=[tcol] if tcol else []), s.knows, ctx.ref, ctx.hints(release.dataset)
        )
        if not fields:
            return _na(release.name, s, "the release holds none of the known facts")
        kr, _ = joint_keys(r, r.iloc[:0], fields)
        f = _class_sizes(kr)
        ok = f > 0
        if s.attacker_model != "prosecutor":
            return _na(
                release.name,
                s,
                f"a {s.attacker_model} needs identified data to match "
                "against (attacker.holds is empty)",
            )
        summ = prosecutor_risk(f[ok].astype(float), np.ones(int(ok.sum())), s.risk_threshold)
        share_ok = ok.sum() / n if n else 0.0
        expected = float((1.0 / f[ok]).sum())
        actual = None
        if truth_r is not None:
            # a record is singled out when every record of its class is the same person
            # (several visits of one patient share a class and are all re-identified)
            t = pd.Series(truth_r, dtype="string")
            frame = pd.DataFrame({"k": kr, "p": t})[ok & t.notna().to_numpy()]
            persons = frame.groupby("k")["p"].nunique()
            actual = int(frame["k"].map(persons).eq(1).sum())
        return _reid_outcome(
            release, s, n, fields, expected, actual, summ.highest, summ.records_at_risk * share_ok
        )

    def one(
        held: str,
        kr: np.ndarray,
        ka: np.ndarray,
        names: list[str],
        a: pd.DataFrame,
        adataset: str | None,
    ) -> ScenarioOutcome:
        if s.method == "probabilistic":
            return _probabilistic(ctx, release, r, s, held, a, adataset, names, truth_r)
        big_f = _counts_in(kr, ka)
        matched = big_f > 0
        m = int(matched.sum())
        if s.attacker_model == "prosecutor":
            f = _class_sizes(kr)
            ok = matched & (f > 0)
            summ = prosecutor_risk(f[ok].astype(float), np.ones(int(ok.sum())), s.risk_threshold)
            expected = float((1.0 / f[ok]).sum())
            share = ok.sum() / n if n else 0.0
        elif m:
            f = _class_sizes(kr)
            ones = np.ones(m)
            summ = journalist_risk(
                f[matched].astype(float), big_f[matched].astype(float), ones, s.risk_threshold
            )
            expected = marketer_risk(big_f[matched].astype(float), ones) * m
            share = m / n
        else:
            summ, expected, share = None, 0.0, 0.0
        actual = None
        if truth_r is not None:
            truth_a = ctx.truth(s, a, held, adataset)
            if truth_a is not None:
                tr, ta = _truth_codes(
                    pd.DataFrame({_TRUTH: truth_r}), pd.DataFrame({_TRUTH: truth_a}), _TRUTH
                )
                actual = score_truth(match_counts(kr, ka), tr, ta)[0]
        return _reid_outcome(
            release,
            s,
            n,
            names,
            expected,
            actual,
            summ.highest if summ else 0.0,
            (summ.records_at_risk * share) if summ else 0.0,
            held,
        )

    return _worst_over_holdings(ctx, release, r, s, one)


def _worst_over_holdings(
    ctx: _Context, release: Release, r: pd.DataFrame, s: Scenario, one: Any
) -> ScenarioOutcome:
    """Link the release to each dataset the attacker holds; keep the worst outcome (an attacker
    uses whichever holding works best), or say why none applies."""
    best: ScenarioOutcome | None = None
    reasons = []
    for held in s.holds:
        got = _linked_keys(ctx, release, r, s, held)
        if isinstance(got, str):
            reasons.append(got)
            continue
        o = one(held, *got)
        if best is None or o.risk > best.risk:
            best = o
    return best if best is not None else _na(release.name, s, "; ".join(reasons))


def _probabilistic(
    ctx: _Context,
    release: Release,
    r: pd.DataFrame,
    s: Scenario,
    held: str,
    a: pd.DataFrame,
    adataset: str | None,
    names: list[str],
    truth_r: np.ndarray | None,
) -> ScenarioOutcome:
    from ..linkage import link_probabilistic

    entries = ctx.crosswalk(release.name, release.dataset, r, held, adataset, a)
    entries = [
        e
        for e in entries
        if any(
            e.fact == k or e.right.endswith("." + k) or e.left.endswith("." + k) for k in s.knows
        )
    ]
    rr, aa, truth = r, a, None
    if truth_r is not None:
        truth_a = ctx.truth(s, a, held, adataset)
        if truth_a is not None:
            rr = r.assign(**{_TRUTH: truth_r})
            aa = a.assign(**{_TRUTH: truth_a})
            truth = _TRUTH
    pair = prepare_pair(rr, aa, crosswalk=entries, reference_date=ctx.ref)
    res = link_probabilistic(rr, aa, truth=truth, threshold=s.threshold, pair=pair)
    n = res.released_records
    return _reid_outcome(
        release,
        s,
        n,
        list(res.shared_qis),
        res.expected_reidentifications,
        res.correct_unique_matches,
        None,
        None,
        held,
    )


def _reid_outcome(
    release: Release,
    s: Scenario,
    n: int,
    fields: Sequence[str],
    expected: float,
    actual: int | None,
    highest: float | None,
    at_risk: float | None,
    held: str | None = None,
) -> ScenarioOutcome:
    rate = expected / n if n else 0.0
    via = f" with {held}" if held else ""
    words = (
        f"about {expected:,.0f} of {n:,} records re-identified{via} on "
        f"{', '.join(fields)} ({_pct(rate)})"
    )
    if actual is not None:
        words += f"; against ground truth {actual:,} correctly"
    return ScenarioOutcome(
        release.name,
        s.name,
        s.goal,
        True,
        float(min(1.0, rate)),
        words,
        tuple(fields),
        n,
        expected_reidentifications=float(expected),
        actual_reidentifications=actual,
        highest_risk=highest,
        records_at_risk=at_risk,
    )


def learned_mask(
    keys: np.ndarray, values: np.ndarray, confidence: float, rule_out: int = 0
) -> np.ndarray:
    """Per record: is its own sensitive value learned with at least ``confidence``?

    Within the record's class (same key), the attacker rules out the ``rule_out`` most frequent
    values other than the record's own, then the record's value has share
    ``n(own) / (n(class) - removed)``. Records with a missing key or value are never learned.
    """
    n = len(keys)
    out = np.zeros(n, dtype=bool)
    ok = (keys >= 0) & (values >= 0)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    frame = pd.DataFrame({"k": keys[idx], "v": values[idx]})
    pair_n = frame.groupby(["k", "v"]).size().rename("nv").reset_index()
    class_n = frame.groupby("k").size().rename("nk")
    removed = np.zeros(len(pair_n))
    if rule_out > 0:
        # the largest other values of each class: sort counts descending within class
        srt = pair_n.sort_values(["k", "nv"], ascending=[True, False]).reset_index()
        srt["rank"] = srt.groupby("k").cumcount()
        tops = {k: g["nv"].to_numpy() for k, g in srt.groupby("k")}
        for i, (k, nv) in enumerate(
            zip(pair_n["k"].to_numpy(), pair_n["nv"].to_numpy(), strict=True)
        ):
            counts = tops[k]
            others = list(counts)
            others.remove(nv)  # the record's own value leaves the ranking once
            removed[i] = float(sum(others[:rule_out]))
    pair_n["share"] = pair_n["nv"] / (pair_n["k"].map(class_n).to_numpy() - removed)
    learned = pair_n[pair_n["share"] >= confidence - 1e-12][["k", "v"]]
    hit = frame.merge(learned.assign(hit=True), on=["k", "v"], how="left")["hit"]
    out[idx] = hit.fillna(False).to_numpy(dtype=bool)
    return out


def _infer(ctx: _Context, release: Release, r: pd.DataFrame, s: Scenario) -> ScenarioOutcome:
    sens = list(s.sensitive)
    if not sens and ctx.catalog is not None and release.dataset in (ctx.catalog.datasets or {}):
        sens = list(ctx.catalog.entry(release.dataset).sensitive)
    sens = [c for c in sens if c in r.columns]
    if not sens:
        return _na(release.name, s, "the release holds no sensitive attribute the attacker wants")
    tcol = ctx.truth_columns.get(release.name)
    fields = _release_fields(
        r.drop(columns=[*sens, *([tcol] if tcol else [])]),
        s.knows,
        ctx.ref,
        ctx.hints(release.dataset),
    )
    if not fields:
        return _na(release.name, s, "the release holds none of the known facts")
    n = len(r)
    kr, _ = joint_keys(r, r.iloc[:0], fields)
    worst: ScenarioOutcome | None = None
    for col in sens:
        codes, _ = pd.factorize(r[col], use_na_sentinel=True)
        mask = learned_mask(kr, codes.astype(np.int64), s.confidence, s.rule_out)
        k = int(mask.sum())
        share = k / n if n else 0.0
        bk = f" after ruling out {s.rule_out} other value(s)" if s.rule_out else ""
        o = ScenarioOutcome(
            release.name,
            s.name,
            s.goal,
            True,
            share,
            f"{k:,} of {n:,} records ({_pct(share)}) give away {col} with confidence >= "
            f"{_pct(s.confidence)} to someone who knows {', '.join(fields)}{bk}",
            tuple(fields),
            n,
            learned_records=k,
            learned_share=share,
        )
        if worst is None or o.risk > worst.risk:
            worst = o
    assert worst is not None
    return worst


def _membership(ctx: _Context, release: Release, r: pd.DataFrame, s: Scenario) -> ScenarioOutcome:
    truth_r = ctx.truth(s, r, release.name, release.dataset)

    def one(
        held: str,
        kr: np.ndarray,
        ka: np.ndarray,
        names: list[str],
        a: pd.DataFrame,
        adataset: str | None,
    ) -> ScenarioOutcome:
        f_for_a = _counts_in(ka, kr)  # released records in each attacker person's class
        big_f = _class_sizes(ka)
        ok = big_f > 0
        delta = np.zeros(len(ka))
        delta[ok] = np.minimum(1.0, f_for_a[ok] / big_f[ok])
        guess = delta >= 0.5
        m = len(ka)
        adv = None
        truth_a = ctx.truth(s, a, held, adataset) if truth_r is not None else None
        if truth_a is not None:
            present = set(x for x in truth_r if x is not None and not pd.isna(x))
            member = np.array(
                [(x in present) if x is not None and not pd.isna(x) else False for x in truth_a]
            )
            pos, neg = member.sum(), (~member).sum()
            tpr = (guess & member).sum() / pos if pos else 0.0
            fpr = (guess & ~member).sum() / neg if neg else 0.0
            adv = float(tpr - fpr)
        g = int(guess.sum())
        risk = adv if adv is not None else (g / m if m else 0.0)
        words = (
            f"{g:,} of {m:,} people in {held} are placed in the release with presence "
            f"probability >= 50 % on {', '.join(names)} (highest {_pct(float(delta.max()) if m else 0.0)})"
        )
        if adv is not None:
            words += f"; membership advantage {adv:+.2f} against ground truth"
        return ScenarioOutcome(
            release.name,
            s.name,
            s.goal,
            True,
            float(max(0.0, risk)),
            words,
            tuple(names),
            len(r),
            membership_advantage=adv,
            delta_max=float(delta.max()) if m else 0.0,
            guessed_members=g,
        )

    return _worst_over_holdings(ctx, release, r, s, one)


def evaluate_scenarios(
    releases: Sequence[Release],
    scenarios: Sequence[Scenario],
    catalog: Any = None,
    external: Sequence[Release] = (),
) -> ScenarioMatrix:
    """Evaluate every release against every scenario (see the module docstring).

    ``external`` are attacker-held tables that are not catalog datasets (named in a scenario's
    ``attacker.holds`` by their release name); they are not evaluated themselves.
    """
    if not releases:
        raise ParameterError("releases", [], "at least one release (a catalog dataset or file)")
    if not scenarios:
        raise ParameterError("scenarios", [], "at least one scenario")
    names = [r.name for r in releases]
    if len(set(names)) != len(names):
        raise ParameterError("releases", names, "distinct release names")
    ctx = _Context(catalog, releases, external)
    outcomes = []
    for rel in releases:
        r = as_pandas(rel.data)
        for s in scenarios:
            if s.goal == "reidentify":
                o = _reidentify(ctx, rel, r, s)
            elif s.goal == "infer":
                o = _infer(ctx, rel, r, s)
            else:
                o = _membership(ctx, rel, r, s)
            if not math.isfinite(o.risk):
                raise AssertionError("scenario risk must be finite")
            outcomes.append(o)
    return ScenarioMatrix(tuple(names), tuple(scenarios), tuple(outcomes))
