"""Differentially private synthetic data, judged by fidelity and by the attacks it must resist.

:mod:`.generate` (MST/AIM through OpenDP, charged to the ledger), :mod:`.fidelity` (marginals,
associations, train-on-synthetic / test-on-real), :mod:`.attacks` (singling out, linkability,
inference with a holdout control; distance to closest record), :mod:`.linkage_attack` (the
voter-roll join scored against ground truth), :mod:`.evaluate` (all of them in one report).
"""

from .attacks import (
    AttackResult,
    DcrResult,
    distance_to_closest_record,
    inference,
    linkability,
    singling_out,
)
from .evaluate import SynthEvaluation, evaluate
from .fidelity import FidelityReport, fidelity
from .generate import SynthResult, bin_columns, synth_release, synthesize
from .linkage_attack import SyntheticLinkage, link_synthetic

__all__ = [
    "AttackResult",
    "DcrResult",
    "FidelityReport",
    "SynthEvaluation",
    "SynthResult",
    "SyntheticLinkage",
    "bin_columns",
    "distance_to_closest_record",
    "evaluate",
    "fidelity",
    "inference",
    "link_synthetic",
    "linkability",
    "singling_out",
    "synth_release",
    "synthesize",
]
