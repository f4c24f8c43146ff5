"""Probabilistic linkage: a more capable attacker who tolerates typos and off-by-one ages.

Fellegi & Sunter (1969, "A theory for record linkage", JASA 64(328)) score a record pair by the
sum over fields of ``log2(m / u)`` for the agreement level observed, where ``m`` is the chance
of that level among true matches and ``u`` among non-matches. We use Splink 5 on DuckDB:
``u`` is estimated by random sampling of record pairs with a fixed seed (deterministic), ``m``
by expectation maximisation on blocked pairs (one session per blocking rule, so every field is
estimated in at least one session), and the prior match probability from exact agreement on
all fields.

Comparison levels by common form: dates exact / one or two edits (typos); years and ages exact /
within one / within two years (the off-by-one of age from birth year, and data-entry slips);
postal codes exact / one edit / same 3-digit prefix; everything else exact.

Match probabilities are one-to-one posteriors (see :func:`_one_to_one`): a person appears at
most once in the attacker's file, so a released record's candidates share its probability of
being linkable. Splink's pairwise posterior ignores that and, with a pair prior falling as
``1 / n_attacker``, scores no pair at all on files of a million rows (#12).

The attacker's decision rule: for each released record, the attacker-side candidates whose
match probability reaches ``threshold``; the top-scoring candidate is claimed (ties -> lowest
row). The expected number of correct re-identifications sums, over released records with a
candidate, the top candidate's posterior; with ``f_A`` equal candidates and every released
person in the attacker's file this is the ``1 / f_A`` of exact linkage.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .._extras import require
from ..dataset import as_pandas, check_columns
from ..errors import LinkageWarning, ParameterError
from ._codes import joint_keys
from .crosswalk import CrosswalkEntry
from .exact import _truth_codes, prepare_pair
from .forms import BIRTH, POSTAL
from .harmonize import HarmonizedField, HarmonizedPair

__all__ = ["ProbabilisticLinkageResult", "link_probabilistic"]


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    """Silence Splink's INFO/WARNING chatter and Python warnings for the duration."""
    logger = logging.getLogger("splink")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass(frozen=True, eq=False)
class ProbabilisticLinkageResult:
    """Outcome of a Fellegi-Sunter linkage attack (Splink), scored against ground truth.

    ``no_match``, ``one_match``, ``many_matches`` are shares of released records with zero, one
    or several attacker candidates at or above ``threshold``. With a truth column:
    ``correct_reidentifications`` (top candidate is the right person), ``precision`` (of the
    claimed links, the share correct), ``recall`` (of the released records whose person is in
    the attacker's data, the share correctly linked), ``correct_unique_matches`` (one candidate,
    and it is right).
    """

    released_records: int
    attacker_records: int
    shared_qis: tuple[str, ...]
    threshold: float
    no_match: float
    one_match: float
    many_matches: float
    expected_reidentifications: float
    scored_pairs: int
    fields: tuple[HarmonizedField, ...] = ()
    truth: str | None = None
    correct_reidentifications: int | None = None
    correct_unique_matches: int | None = None
    linkable_records: int | None = None
    precision: float | None = None
    recall: float | None = None
    blocking_rules: tuple[str, ...] = ()
    seed: int = 0
    reference_date: date | None = None
    match_weights: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench link --probabilistic --json`` document."""
        n = self.released_records
        out: dict[str, Any] = {
            "method": "probabilistic",
            "released_records": n,
            "attacker_records": self.attacker_records,
            "shared_qis": list(self.shared_qis),
            "threshold": self.threshold,
            "no_match": self.no_match,
            "one_match": self.one_match,
            "many_matches": self.many_matches,
            "expected_reidentifications": self.expected_reidentifications,
            "expected_reidentification_rate": self.expected_reidentifications / n if n else 0.0,
            "scored_pairs": self.scored_pairs,
        }
        if self.truth is not None:
            out.update(
                {
                    "truth": self.truth,
                    "correct_reidentifications": self.correct_reidentifications,
                    "correct_unique_matches": self.correct_unique_matches,
                    "correct_unique_share": (self.correct_unique_matches or 0) / n if n else 0.0,
                    "linkable_records": self.linkable_records,
                    "precision": self.precision,
                    "recall": self.recall,
                }
            )
        out["blocking_rules"] = list(self.blocking_rules)
        out["seed"] = self.seed
        out["reference_date"] = None if self.reference_date is None else str(self.reference_date)
        out["harmonization"] = [f.to_dict() for f in self.fields]
        out["match_weights"] = self.match_weights
        return out


def _splink_frame(frame: pd.DataFrame, fields: Sequence[HarmonizedField]) -> pd.DataFrame:
    """Harmonized columns in the shape the comparisons expect (dates as ISO text)."""
    out = {"unique_id": np.arange(len(frame), dtype=np.int64)}
    for f in fields:
        s = frame[f.name]
        if f.fact == BIRTH and f.common.form == "date":
            d = pd.to_datetime(s.astype("Float64"), unit="D", errors="coerce")
            s = d.dt.strftime("%Y-%m-%d").astype("string")
        elif f.fact == BIRTH:
            s = s.astype("Int64")
        else:
            s = s.astype("string")
        out[f.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def _comparison(f: HarmonizedField) -> Any:
    require("splink", "probabilistic linkage")
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    name = f.name
    if f.fact == BIRTH and f.common.form == "date":
        levels = [
            cll.NullLevel(name),
            cll.ExactMatchLevel(name),
            cll.DamerauLevenshteinLevel(name, 1),
            cll.DamerauLevenshteinLevel(name, 2),
            cll.ElseLevel(),
        ]
    elif f.fact == BIRTH and f.common.form in {"year", "age"}:
        levels = [
            cll.NullLevel(name),
            cll.ExactMatchLevel(name),
            cll.AbsoluteDifferenceLevel(name, 1),
            cll.AbsoluteDifferenceLevel(name, 2),
            cll.ElseLevel(),
        ]
    elif f.fact == POSTAL and int(f.common.params.get("digits", 5)) > 3:
        levels = [
            cll.NullLevel(name),
            cll.ExactMatchLevel(name),
            cll.DamerauLevenshteinLevel(name, 1),
            cll.ExactMatchLevel(ColumnExpression(name).substr(1, 3)),
            cll.ElseLevel(),
        ]
    else:
        return cl.ExactMatch(name)
    return cl.CustomComparison(comparison_levels=levels, output_column_name=name)


def _pair_count(left: pd.DataFrame, right: pd.DataFrame, cols: Sequence[str]) -> int:
    """Number of record pairs a blocking rule on ``cols`` generates: sum of f_L * f_R."""
    kl, kr = joint_keys(left, right, cols)
    kl, kr = kl[kl >= 0], kr[kr >= 0]
    if len(kl) == 0 or len(kr) == 0:
        return 0
    ul, cl_ = np.unique(kl, return_counts=True)
    ur, cr = np.unique(kr, return_counts=True)
    _common, il, ir = np.intersect1d(ul, ur, assume_unique=True, return_indices=True)
    return int((cl_[il].astype(np.int64) * cr[ir]).sum())


def _block_keys(pair: HarmonizedPair) -> list[tuple[str, str, pd.Series, pd.Series]]:
    """Candidate blocking keys: (label, SQL, left values, right values).

    Every field, plus the year of a birth date and the 3-digit prefix of a postal code, so
    that a typo in the day of birth or the last digits of a postal code still leaves a block
    in which the true pair meets.
    """
    keys = []
    for f in pair.fields:
        left, right = pair.left[f.name], pair.right[f.name]
        keys.append((f.name, f.name, left, right))
        if f.fact == BIRTH and f.common.form == "date":

            def year(s: pd.Series) -> pd.Series:
                d = pd.to_datetime(s.astype("Float64"), unit="D", errors="coerce")
                return d.dt.year.astype("Int64")

            keys.append((f"year of {f.name}", f"substr({f.name},1,4)", year(left), year(right)))
        if f.fact == POSTAL and int(f.common.params.get("digits", 5)) > 3:
            keys.append(
                (
                    f"prefix of {f.name}",
                    f"substr({f.name},1,3)",
                    left.astype("string").str.slice(0, 3),
                    right.astype("string").str.slice(0, 3),
                )
            )
    return keys


@dataclass(frozen=True)
class _Rule:
    sql: tuple[str, ...]
    label: str
    pairs: int
    uses: frozenset[str]  # fields referenced at all (full value or derived key)
    exact: frozenset[str]  # fields compared on their full value


def _candidate_rules(pair: HarmonizedPair) -> list[_Rule]:
    """Every pair of blocking keys from different fields, with its comparison count."""
    keys = _block_keys(pair)
    if len(pair.fields) == 1:
        label, sql, _, _ = keys[0]
        return [
            _Rule(
                (sql,),
                label,
                len(pair.left) * len(pair.right),
                frozenset([label]),
                frozenset([label]),
            )
        ]
    field_of = {}
    for f in pair.fields:
        for label, _sql, _l, _r in keys:
            if label == f.name or label.endswith(f" of {f.name}"):
                field_of[label] = f.name
    rules = []
    for a, b in itertools.combinations(keys, 2):
        fa, fb = field_of[a[0]], field_of[b[0]]
        if fa == fb:
            continue  # a field and its own prefix
        left = pd.DataFrame({"a": a[2].reset_index(drop=True), "b": b[2].reset_index(drop=True)})
        right = pd.DataFrame({"a": a[3].reset_index(drop=True), "b": b[3].reset_index(drop=True)})
        exact = frozenset(field_of[k[0]] for k in (a, b) if k[0] == field_of[k[0]])
        rules.append(
            _Rule(
                (a[1], b[1]),
                f"{a[0]} & {b[0]}",
                _pair_count(left, right, ["a", "b"]),
                frozenset([fa, fb]),
                exact,
            )
        )
    return sorted(rules, key=lambda r: (r.pairs, r.label))


def _cover(rules: Sequence[_Rule], fields: Sequence[str], free: Any) -> list[_Rule]:
    """Greedy set cover: rules until every field is ``free`` in at least one of them."""
    todo = set(fields)
    chosen: list[_Rule] = []
    while todo:
        best = max(rules, key=lambda r: (len(free(r) & todo), -r.pairs), default=None)
        if best is None or not free(best) & todo:
            break
        chosen.append(best)
        todo -= free(best)
    return chosen


def _blocking_rules(pair: HarmonizedPair, budget: int) -> tuple[list[_Rule], list[_Rule]]:
    """(prediction rules, EM training rules).

    Prediction: the fewest rules within ``budget`` pairs such that every field is, in some
    rule, not compared on its full value - so a typo in any one field (or a day/month slip in
    a birth date, a wrong last digit in a postal code) still lets the true pair meet. Training:
    EM cannot estimate ``m`` for a field its blocking rule references, so the rules are chosen
    until every field is left out of at least one (sampled down to ``budget`` pairs).
    """
    names = [f.name for f in pair.fields]
    cands = _candidate_rules(pair)
    if len(names) == 1:
        return cands, []
    within = [r for r in cands if r.pairs <= budget]
    predict = _cover(within, names, lambda r: frozenset(names) - r.exact)
    if not predict:
        predict = within[:1] or cands[:1]
    train = _cover(cands, names, lambda r: frozenset(names) - r.uses)
    return predict, train


def link_probabilistic(
    released: Any,
    attacker: Any,
    on: Any = "auto",
    truth: str | None = None,
    threshold: float = 0.9,
    reference_date: date | None = None,
    crosswalk: Sequence[CrosswalkEntry] | None = None,
    pair: HarmonizedPair | None = None,
    seed: int = 2026,
    u_max_pairs: float = 5e5,
    pair_budget: int | None = None,
    em_max_pairs: int = 100_000,
) -> ProbabilisticLinkageResult:
    """Simulate a Fellegi-Sunter linkage attack with Splink on DuckDB.

    Parameters
    ----------
    released, attacker, on, truth, reference_date, crosswalk, pair
        As in :func:`~workbench.linkage.link_exact`; the truth column is never compared.
    threshold : float
        One-to-one match probability (the posterior that the attacker record is *the* match of
        the released record) at or above which a candidate is accepted, in (0, 1). Above 0.5
        a record has at most one accepted candidate.
    seed : int
        Seed of the random sampling used to estimate ``u`` (same seed, same result).
    u_max_pairs : float
        Record pairs sampled to estimate ``u``.
    pair_budget : int, optional
        Largest number of pairs a blocking rule may generate; coarser rules are skipped.
        Default ``max(100_000, 20 * (n_released + n_attacker))``.
    em_max_pairs : int
        Blocked pairs sampled (deterministically) per EM training session.
    """
    if not 0 < threshold < 1:
        raise ParameterError("threshold", threshold, "a match probability between 0 and 1")
    r, a = as_pandas(released), as_pandas(attacker)
    if truth is not None:
        check_columns(r, [truth], getattr(released, "source", None) or "the released dataset")
        check_columns(a, [truth], getattr(attacker, "source", None) or "the attacker dataset")
    if pair is None:
        pair = prepare_pair(released, attacker, on, truth, reference_date, crosswalk)
    fields = list(pair.fields)
    names = [f.name for f in fields]
    n_r, n_a = len(pair.left), len(pair.right)
    budget = pair_budget if pair_budget is not None else max(100_000, 20 * (n_r + n_a))
    rules, training = _blocking_rules(pair, budget)
    pred, weights = _run_splink(
        pair, fields, rules, training, threshold, seed, u_max_pairs, em_max_pairs
    )
    if len(pred) == 0:
        _warn_if_exact_pairs(pair, names, threshold)

    # attacker's decision per released record
    cand = np.zeros(n_r, dtype=np.int64)
    top_row = np.full(n_r, -1, dtype=np.int64)
    expected = 0.0
    if len(pred):
        pred = pred.sort_values(
            ["r_id", "match_probability", "a_id"], ascending=[True, False, True], kind="stable"
        )
        grp = pred.groupby("r_id", sort=True)
        counts = grp.size()
        cand[counts.index.to_numpy()] = counts.to_numpy()
        first = grp.head(1)
        top_row[first["r_id"].to_numpy()] = first["a_id"].to_numpy()
        # one-to-one posteriors already share each record's probability among its candidates
        expected = float(first["match_probability"].sum())
    kwargs: dict[str, Any] = {}
    if truth is not None:
        tr, ta = _truth_codes(r, a, truth)
        claimed = top_row >= 0
        picked = np.where(claimed, ta[np.maximum(top_row, 0)], -2)
        right = claimed & (tr >= 0) & (picked == tr)
        present = np.unique(ta[ta >= 0])
        linkable = int(np.isin(tr[tr >= 0], present).sum())
        n_claimed = int(claimed.sum())
        correct = int(right.sum())
        kwargs = dict(
            truth=truth,
            correct_reidentifications=correct,
            correct_unique_matches=int((right & (cand == 1)).sum()),
            linkable_records=linkable,
            precision=correct / n_claimed if n_claimed else 0.0,
            recall=correct / linkable if linkable else 0.0,
        )
    share = (lambda m: float(m.sum()) / n_r) if n_r else (lambda m: 0.0)
    return ProbabilisticLinkageResult(
        released_records=n_r,
        attacker_records=n_a,
        shared_qis=tuple(names),
        threshold=float(threshold),
        no_match=share(cand == 0),
        one_match=share(cand == 1),
        many_matches=share(cand > 1),
        expected_reidentifications=expected,
        scored_pairs=int(len(pred)),
        fields=tuple(fields),
        blocking_rules=tuple(r.label for r in rules),
        seed=seed,
        reference_date=pair.reference_date,
        match_weights=weights,
        **kwargs,
    )


def _warn_if_exact_pairs(pair: HarmonizedPair, names: Sequence[str], threshold: float) -> None:
    """Warn loudly when no pair was scored although some records agree on every field.

    The prior match probability falls as ``1 / (n_released * n_attacker)``: on large files a
    fixed threshold can exceed every posterior, so the attack "finds nothing" while exact
    linkage re-identifies. Reporting zero risk silently would be a false reassurance.
    """
    exact = _pair_count(pair.left, pair.right, list(names))
    if exact:
        warnings.warn(
            f"probabilistic linkage scored no record pair at match probability >= {threshold:g}, "
            f"yet {exact:,} record pairs agree exactly on every shared field "
            f"({', '.join(names)}); with {len(pair.left):,} x {len(pair.right):,} records the "
            "prior match probability keeps every posterior below the threshold. This result "
            "understates the risk: lower --threshold, or run exact linkage.",
            LinkageWarning,
            stacklevel=3,
        )


def _run_splink(
    pair: HarmonizedPair,
    fields: Sequence[HarmonizedField],
    rules: Sequence[_Rule],
    training: Sequence[_Rule],
    threshold: float,
    seed: int,
    u_max_pairs: float,
    em_pairs: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Train and predict; returns (released row, attacker row, probability) above threshold."""
    import pyarrow as pa

    require("splink", "probabilistic linkage")
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    names = [f.name for f in fields]
    left = _splink_frame(pair.left, fields)
    right = _splink_frame(pair.right, fields)
    with _quiet_splink():
        db = DuckDBAPI()
        try:
            # Splink orders the two inputs by name; "a_attacker" < "r_released" fixes l/r.
            sa = db.register(
                pa.Table.from_pandas(right, preserve_index=False), dataset_display_name="a_attacker"
            )
            sr = db.register(
                pa.Table.from_pandas(left, preserve_index=False), dataset_display_name="r_released"
            )
            settings = SettingsCreator(
                link_type="link_only",
                comparisons=[_comparison(f) for f in fields],
                blocking_rules_to_generate_predictions=[block_on(*r.sql) for r in rules],
                retain_matching_columns=False,
                retain_intermediate_calculation_columns=False,
            )
            linker = Linker([sa, sr], settings, log_level=None)
            linker.training.estimate_probability_two_random_records_match(
                [block_on(*names)], recall=0.9
            )
            linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
            for rule in training:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*rule.sql),
                    estimate_without_term_frequencies=True,
                    max_pairs=float(em_pairs) if rule.pairs > em_pairs else None,
                )
            weights = _weights(linker)
            prior = _pair_prior(linker)
            floor = _SCORE_FLOOR / prior  # Bayes factor below which no pair is kept
            pred = linker.inference.predict(
                threshold_match_weight=float(np.log2(_SCORE_FLOOR / (1 - prior))),
                warning_mode="never",
            )
            out = _one_to_one(
                db.duckdb_con,
                pred.physical_name,
                prior=prior,
                n_attacker=len(pair.right),
                n_released=len(pair.left),
                unscored_m=_unscored_m_mass(weights, floor),
                threshold=threshold,
            )
        finally:
            with contextlib.suppress(Exception):
                db.duckdb_con.close()
    return out, weights


#: pairs whose prior odds times Bayes factor is below this are not scored (see _one_to_one)
_SCORE_FLOOR = 1e-4


def _pair_prior(linker: Any) -> float:
    """Splink's ``probability_two_random_records_match`` (estimated from exact agreement)."""
    model = linker.misc.save_model_to_json()
    lam = float(model.get("probability_two_random_records_match", 1e-4))
    return min(max(lam, 1e-15), 0.5)


def _unscored_m_mass(weights: dict[str, Any], floor: float) -> float:
    """Share of true matches whose Bayes factor falls below ``floor`` (never scored).

    Enumerates the comparison levels' product under the trained ``m`` (at most a few thousand
    combinations). Their realised Bayes factors sum, over the attacker's records, to about
    ``n_attacker * m(unscored)`` (the expectation of ``m/u`` under ``u`` restricted to the
    region), which is what the one-to-one posterior adds for them.
    """
    tables = []
    for levels in weights.values():
        rows = [
            (float(lvl["m"]), float(lvl["u"]))
            for lvl in levels
            if lvl.get("m") is not None and lvl.get("u")
        ]
        if rows:
            tables.append(rows)
    if not tables or np.prod([len(t) for t in tables]) > 1_000_000:
        return 0.0
    mass = 0.0
    for combo in itertools.product(*tables):
        m = float(np.prod([c[0] for c in combo]))
        bf = float(np.prod([c[0] / c[1] for c in combo]))
        if bf < floor:
            mass += m
    return min(mass, 1.0)


def _one_to_one(
    con: Any,
    table: str,
    prior: float,
    n_attacker: int,
    n_released: int,
    unscored_m: float,
    threshold: float,
    iterations: int = 200,
) -> pd.DataFrame:
    """Posterior that each scored attacker record is *the* match of its released record.

    Fellegi-Sunter scores each pair alone: ``p = lam BF / (1 - lam + lam BF)`` with the pair
    prior ``lam`` falling as ``1 / n_attacker``. On large files (the files of #12: 1M rows)
    no pair reaches a fixed threshold even when it is the released record's only candidate,
    because the pairwise model ignores that a person appears at most once in the attacker's
    file. With that constraint (Sadinle 2017, "Bayesian estimation of bipartite matchings for
    record linkage", JASA 112(518), in its per-record form), a released record is in the
    attacker's file with probability ``pi`` (the share of linkable released records), at any
    of the ``n_attacker`` positions alike, and the posterior of candidate ``j`` is

        (pi / n_A) BF_j / ((1 - pi) + pi * m(unscored) + (pi / n_A) * sum_k BF_k)

    the sum over the record's scored candidates; ``m(unscored)`` stands for the attacker
    records below the scoring floor (their Bayes factors sum to about ``n_A m(unscored)``).
    A unique candidate is then judged by how many random records would share its agreement
    (``n_A / BF``) and by ``pi``, which do not shrink with N. ``pi`` is estimated by EM on the
    scored pairs (the mixing weight only; ``m`` and ``u`` are Splink's), starting from Splink's
    prior times ``n_A``. Runs in the engine: only per-record sums come to Python.
    """
    src = f'"{table}"'
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _wb_pairs AS
        SELECT CASE WHEN source_dataset_l = 'a_attacker' THEN unique_id_r ELSE unique_id_l END
                 AS r_id,
               CASE WHEN source_dataset_l = 'a_attacker' THEN unique_id_l ELSE unique_id_r END
                 AS a_id,
               pow(2.0, match_weight) * {1 - prior!r} / {prior!r} AS bf
        FROM {src}"""
    )
    # ordered sums: the same floats in the same order on every run (parallel aggregation
    # would otherwise change the last bits, and with them pi and the posteriors)
    sums = con.execute(
        "SELECT sum(bf ORDER BY a_id) AS b FROM _wb_pairs GROUP BY r_id ORDER BY r_id"
    ).fetchnumpy()
    b = np.asarray(next(iter(sums.values())), dtype=float) if sums else np.zeros(0)
    n_without = max(n_released - len(b), 0)
    pi = min(max(prior * n_attacker, 1e-9), 1 - 1e-9)
    for _ in range(iterations):
        lam = pi / n_attacker
        rest = pi * unscored_m
        den = (1 - pi) + rest + lam * b
        linked = ((lam * b + rest) / den).sum() + n_without * rest / ((1 - pi) + rest)
        new = min(max(linked / max(n_released, 1), 1e-9), 1 - 1e-9)
        if abs(new - pi) < 1e-10:
            pi = new
            break
        pi = new
    lam = float(pi / n_attacker)
    base = float((1 - pi) + pi * unscored_m)
    df = con.execute(
        f"""SELECT r_id, a_id, p AS match_probability FROM (
              SELECT r_id, a_id,
                     {lam!r} * bf / ({base!r} + {lam!r} * sum(bf) OVER (
                       PARTITION BY r_id ORDER BY a_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS p
              FROM _wb_pairs)
            WHERE p >= {float(threshold)!r}
            ORDER BY r_id, a_id"""
    ).df()
    return df.astype({"r_id": np.int64, "a_id": np.int64, "match_probability": float})


def _weights(linker: Any) -> dict[str, Any]:
    """Trained m and u per comparison level (for the report; no data values)."""
    out: dict[str, Any] = {}
    try:
        model = linker.misc.save_model_to_json()
    except Exception:  # the weights are informative only
        return out
    for comp in model.get("comparisons", []):
        levels = []
        for lvl in comp.get("comparison_levels", []):
            if lvl.get("is_null_level"):
                continue
            levels.append(
                {
                    "level": lvl.get("label_for_charts"),
                    "m": lvl.get("m_probability"),
                    "u": lvl.get("u_probability"),
                }
            )
        out[str(comp.get("output_column_name"))] = levels
    return out
