"""The workbench's own linkage attack, aimed at a synthetic table, scored against ground truth.

A synthetic record has no identity of its own, so "re-identifying" it needs a definition. The
attacker joins the synthetic table to a named register (the voter roll) exactly as
:func:`workbench.linkage.exact.link_exact` joins a release, and claims a person for every
synthetic record with exactly one candidate. The claim is **correct** when the named voter is a
person of the training table whose own training record links to that same voter, uniquely and
correctly: the synthetic record then reproduces a real person's quasi-identifiers and the
attacker names them. (A claim on a person who was never in the training data teaches nothing
about the training data; it is counted as wrong.)

The **random-assignment baseline** gives each synthetic record a voter drawn uniformly; it is
correct with probability ``#(correctly linkable voters with the record's key) / #voters``. The
number of correct guesses is a sum of independent Bernoulli variables; its mean and a 95 %
interval (simulated, grouped by probability) are reported. It is a weak baseline: a model of
the population also names people who happen to be unique in the register. The **control** is
therefore the number of claims that name, correctly, a person of a *holdout* table (people the
generator never saw) when the holdout is at least as well covered by the register: only the
excess of training over holdout hits is memorisation. The same attack on a k-anonymous
release of the same data (which keeps the truth column) is :func:`link_exact` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..linkage._codes import joint_keys
from ..linkage.exact import _truth_codes, link_exact, match_counts, prepare_pair, score_truth

__all__ = ["SyntheticLinkage", "link_synthetic"]


@dataclass(frozen=True)
class SyntheticLinkage:
    """Correct re-identifications of training people through a synthetic table."""

    synthetic_records: int
    attacker_records: int
    shared_qis: tuple[str, ...]
    claimed: int
    correct: int
    baseline_mean: float
    baseline_ci: tuple[float, float]
    training_correct: int  # the same attack on the real training table (the upper reference)
    release: dict[str, Any] | None = None  # the same attack on a k-anonymous release
    control: int | None = None  # claims that name a holdout person (whom the model never saw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "synthetic_records": self.synthetic_records,
            "attacker_records": self.attacker_records,
            "shared_qis": list(self.shared_qis),
            "claimed_unique_matches": self.claimed,
            "correct_reidentifications": self.correct,
            "random_baseline_mean": self.baseline_mean,
            "random_baseline_ci95": list(self.baseline_ci),
            "beats_random_baseline": self.correct > self.baseline_ci[1],
            "real_training_table_correct": self.training_correct,
            "holdout_control_correct": self.control,
            # only an excess over the control is memorisation of the training people
            "excess_over_control": None if self.control is None else self.correct - self.control,
            "k_anonymous_release": self.release,
        }


def link_synthetic(
    synthetic: Any,
    training: Any,
    attacker: Any,
    truth: str,
    on: Any = "auto",
    *,
    release: Any = None,
    holdout: Any = None,
    reference_date: date | None = None,
    simulations: int = 2000,
    seed: int = 0,
) -> SyntheticLinkage:
    """Link ``synthetic`` to ``attacker`` and score claims against the training people.

    ``training`` and ``attacker`` hold the ``truth`` column (who each row is); ``synthetic``
    must not. ``release`` (optional) is a k-anonymous release of ``training`` with ``truth``.
    ``holdout`` (optional, with ``truth``): people the generator never saw; claims that name one
    of them correctly are the control, what the model's picture of the population alone yields.
    """
    s, t, a = as_pandas(synthetic), as_pandas(training), as_pandas(attacker)
    check_columns(t, [truth], "the training table")
    check_columns(a, [truth], "the attacker's table")
    s = s.drop(columns=[truth], errors="ignore")
    names, good_rows, training_correct = _correct_voter_rows(t, a, on, truth, reference_date)
    control = None
    if holdout is not None:
        h = as_pandas(holdout)
        check_columns(h, [truth], "the holdout table")
        _, control_rows, _ = _correct_voter_rows(h, a, on, truth, reference_date)
    # the synthetic table, joined with the same crosswalk
    pair_s = prepare_pair(s, a, on, None, reference_date)
    names_s = list(pair_s.names)
    if sorted(names_s) != sorted(names):
        from ..errors import ParameterError

        raise ParameterError(
            "synthetic",
            f"joins on {names_s}",
            f"the fields the training table joins on ({names}): synthesize the same columns",
        )
    ks, ka = joint_keys(pair_s.left, pair_s.right, names_s)
    mc = match_counts(ks, ka)
    claimed = mc.candidates == 1
    correct = int((claimed & np.isin(mc.unique_row, good_rows)).sum())
    if holdout is not None:
        control = int((claimed & np.isin(mc.unique_row, control_rows)).sum())
    # random assignment: P(correct) = #(good voter rows with the record's key) / #voters
    n_a = len(a)
    good_key = ka[good_rows] if len(good_rows) else np.zeros(0, dtype=np.int64)
    uk, uc = np.unique(good_key[good_key >= 0], return_counts=True)
    pos = np.clip(np.searchsorted(uk, ks), 0, max(len(uk) - 1, 0))
    hit = (len(uk) > 0) & (ks >= 0)
    hit = hit & (uk[pos] == ks) if len(uk) else np.zeros(len(ks), dtype=bool)
    p = np.where(hit, uc[pos] if len(uc) else 0, 0) / max(n_a, 1)
    probs, counts = np.unique(p[p > 0], return_counts=True)
    rng = np.random.default_rng(seed)
    if len(probs):
        draws = rng.binomial(counts[None, :], probs[None, :], size=(simulations, len(probs)))
        totals = draws.sum(axis=1)
        ci = (float(np.quantile(totals, 0.025)), float(np.quantile(totals, 0.975)))
    else:
        ci = (0.0, 0.0)
    rel = None
    if release is not None:
        rel = link_exact(release, a, on, truth, reference_date).to_dict()
        rel = {
            k: rel[k]
            for k in ("released_records", "shared_qis", "one_match", "correct_unique_matches")
            if k in rel
        }
    return SyntheticLinkage(
        len(s),
        n_a,
        tuple(names_s),
        int(claimed.sum()),
        correct,
        float(p.sum()),
        ci,
        int(training_correct),
        rel,
        control,
    )


def _correct_voter_rows(
    table: pd.DataFrame, a: pd.DataFrame, on: Any, truth: str, reference_date: date | None
) -> tuple[list[str], np.ndarray, int]:
    """Join fields, and the attacker rows that ``table``'s own records re-identify correctly."""
    pair = prepare_pair(table, a, on, truth, reference_date)
    names = list(pair.names)
    kt, ka = joint_keys(pair.left, pair.right, names)
    mc = match_counts(kt, ka)
    tr, ta = _truth_codes(table, a, truth)
    correct = score_truth(mc, tr, ta)[0]
    ok = (mc.candidates == 1) & (tr >= 0) & (ta[np.maximum(mc.unique_row, 0)] == tr)
    return names, np.unique(mc.unique_row[ok]), int(correct)
