"""Judge a synthetic table side by side: fidelity, and the attacks it must resist.

One call computes everything ``workbench synth evaluate`` prints: the fidelity report
(:mod:`.fidelity`), the three Anonymeter-style attacks and DCR (:mod:`.attacks`), the linkage
attack against a named register (:mod:`.linkage_attack`) and the risk engine's view of the
synthetic table.

Why sample uniques in a synthetic table are not people: a synthetic record is drawn from a model,
not copied from a person, so a combination that occurs once in the synthetic table is unique
*in the model's draw*; it discloses someone only if a real person has that combination and
the attacker can tell that it is them. The report therefore counts, next to the synthetic
uniques, how many of them coincide with a combination that is unique among the real training
records: the only ones an attacker could pin on a person, and the ones the linkage attack then
scores against ground truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from .attacks import (
    AttackResult,
    DcrResult,
    distance_to_closest_record,
    inference,
    linkability,
    singling_out,
)
from .fidelity import FidelityReport, fidelity
from .generate import apply_domains, resolve_hierarchies
from .linkage_attack import SyntheticLinkage, link_synthetic

__all__ = ["SynthEvaluation", "evaluate", "synthetic_uniques", "write_bundle"]


@dataclass(frozen=True)
class SynthEvaluation:
    """Fidelity and privacy figures of one synthetic table."""

    columns: tuple[str, ...]
    records: Mapping[str, int]
    fidelity: FidelityReport
    attacks: tuple[AttackResult, ...]
    dcr: DcrResult
    uniques: Mapping[str, int]
    linkage: SyntheticLinkage | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "records": dict(self.records),
            "fidelity": self.fidelity.to_dict(),
            "privacy": {
                "attacks": [a.to_dict() for a in self.attacks],
                "distance_to_closest_record": self.dcr.to_dict(),
                "sample_uniques": dict(self.uniques),
                "linkage": None if self.linkage is None else self.linkage.to_dict(),
            },
        }


def synthetic_uniques(synthetic: pd.DataFrame, train: pd.DataFrame, qis: Sequence[str]) -> dict:
    """Synthetic sample uniques (the risk engine's count) and those that are real uniques too."""
    from ..linkage._codes import joint_keys
    from ..risk.profile import assess

    profile = assess(synthetic[list(qis)], list(qis))
    ks, kt = joint_keys(synthetic, train, list(qis))
    us, cs = np.unique(ks[ks >= 0], return_counts=True)
    ut, ct = np.unique(kt[kt >= 0], return_counts=True)
    syn_unique = set(us[cs == 1].tolist())
    real_unique = set(ut[ct == 1].tolist())
    return {
        "synthetic_sample_uniques": int(profile.sample_uniques),
        "coinciding_with_a_training_record": len(syn_unique & set(ut.tolist())),
        "coinciding_with_a_training_unique": len(syn_unique & real_unique),
        "training_sample_uniques": len(real_unique),
    }


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every value is a number back to numbers (so a year harmonizes)."""
    out = frame.copy()
    for c in out.columns:
        num = pd.to_numeric(out[c], errors="coerce")
        if num.notna().sum() == out[c].notna().sum():
            out[c] = num
    return out


def evaluate(
    real: Any,
    synthetic: Any,
    holdout: Any,
    columns: Sequence[str] | None = None,
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
    hierarchies: Mapping[str, Any] | None = None,
    targets: Sequence[str] = (),
    attacker: Any = None,
    truth: str | None = None,
    release: Any = None,
    on: Any = "auto",
    n_attacks: int = 500,
    seed: int = 0,
) -> SynthEvaluation:
    """Evaluate ``synthetic`` against the ``real`` training table and a ``holdout``.

    ``bins`` and ``hierarchies`` are the public domains used at synthesis
    (:meth:`SynthResult.domains`): the real tables are binned and generalized the same way first.
    ``targets`` get a TSTR classifier and an inference attack (default: the last column).
    ``attacker`` and ``truth`` run the linkage attack (``real`` and ``attacker`` hold ``truth``);
    ``release`` adds the same attack on a k-anonymous release.
    """
    s = as_pandas(synthetic)
    cols = list(columns) if columns is not None else [c for c in s.columns if c != truth]
    if len(cols) < 2:
        raise ParameterError("columns", cols, "at least two columns to evaluate")
    r_full, h_full = as_pandas(real), as_pandas(holdout)
    h = h_full
    for name, f in (("real", r_full), ("synthetic", s), ("holdout", h)):
        check_columns(f, cols, name)
    bins = dict(bins or {})
    hiers = resolve_hierarchies(hierarchies, warn=False)
    r = apply_domains(r_full[cols], bins, hiers)
    h = apply_domains(h[cols], bins, hiers)
    s = s[cols].copy()
    for f in (r, h, s):
        for c in cols:
            f[c] = f[c].astype("string")
    targets = list(targets) or [cols[-1]]
    for t in targets:
        if t not in cols:
            raise ParameterError("targets", t, f"one of the evaluated columns {cols}")
    fid = fidelity(r, s, cols, holdout=h, targets=targets, seed=seed)
    half = len(cols) // 2
    attacks = [
        singling_out(r, s, h, cols, n_attacks=n_attacks, n_cols=min(3, len(cols)), seed=seed),
        linkability(r, s, h, cols[:half], cols[half:], n_attacks=n_attacks, seed=seed),
    ]
    for t in targets:
        aux = [c for c in cols if c != t]
        attacks.append(inference(r, s, h, aux, t, n_attacks=n_attacks, seed=seed))
    dcr = distance_to_closest_record(r, s, h, cols, seed=seed)
    uniques = synthetic_uniques(s, r, cols)
    link = None
    if attacker is not None:
        if truth is None:
            raise ParameterError("truth", None, "the identity column of the attacker's table")
        check_columns(r_full, [truth], "real")
        train_t = _numbers(r).assign(**{truth: r_full[truth].to_numpy()})
        hold_t = None
        if truth in h_full.columns:  # the control: people the generator never saw
            hold_t = _numbers(h).assign(**{truth: h_full[truth].to_numpy()})
        link = link_synthetic(
            _numbers(s), train_t, attacker, truth, on, release=release, holdout=hold_t, seed=seed
        )
    return SynthEvaluation(
        tuple(cols),
        {"real": len(r), "synthetic": len(s), "holdout": len(h)},
        fid,
        tuple(attacks),
        dcr,
        uniques,
        link,
    )


def write_bundle(
    path: Any,
    document: Mapping[str, Any],
    real: Any,
    title: str,
    sources: Sequence[Any] = (),
) -> Any:
    """Save an assessment bundle holding an evaluation (aggregates only), leak-checked.

    ``document`` is :meth:`SynthEvaluation.to_dict` (possibly with a ``k_anonymous_alternative``
    entry); ``real`` is the training table, whose direct identifiers' values the bundle must
    not hold. The one path the CLI and the notebook panel share.
    """
    from .._io import ensure_not_source
    from ..review.assessment import direct_identifier_columns
    from ..review.bundle import AssessmentBundle, identifier_values

    ensure_not_source(path, [s for s in sources if s])
    forbidden = identifier_values(real, direct_identifier_columns(real))
    return AssessmentBundle.build(title, synthetic=dict(document)).save(path, forbidden=forbidden)
