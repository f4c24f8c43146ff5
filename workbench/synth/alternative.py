"""The k-anonymous alternative of the same data, judged by the same attacks as a synthetic table.

A synthetic table is only worth its privacy cost if it beats what the workbench would release
otherwise: a k-anonymous generalization of the same records (:func:`workbench.deid.anonymize`,
optimal full-domain generalization with record suppression). :func:`k_anonymous_alternative`
makes that release from the training records and returns, with it, the training and holdout
records generalized to the same levels.

Why generalize the real records too: the attacks of :mod:`.attacks` compare values. A release
holding ``1945-1964`` never equals a real ``1951``, so judging it against the exact records
would report zero risk by construction (a mismatch of formats, not privacy). Judged at its own
granularity, an attack succeeds when the release pins a person down *to the detail it
publishes*, which is what an attacker of that release can learn. Its fidelity figures are then
about what the release keeps (suppression and the class structure), not the detail it drops;
the levels say how much was dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError

__all__ = ["KAnonAlternative", "k_anonymous_alternative"]


@dataclass(frozen=True, eq=False)
class KAnonAlternative:
    """A k-anonymous release of the training records and the real records at its granularity."""

    release: pd.DataFrame
    training: pd.DataFrame  # the training records generalized to the release's levels
    holdout: pd.DataFrame  # the holdout records generalized the same way
    k: int
    qis: tuple[str, ...]
    levels: Mapping[str, int]
    suppressed: int
    found: bool

    def to_dict(self) -> dict[str, Any]:
        """Parameters and counts (never a value of the data)."""
        return {
            "k": self.k,
            "quasi_identifiers": list(self.qis),
            "levels": dict(self.levels),
            "records": len(self.release),
            "records_suppressed": self.suppressed,
            "found": self.found,
        }


def k_anonymous_alternative(
    training: Any,
    holdout: Any,
    qis: Sequence[str],
    *,
    k: int = 5,
    columns: Sequence[str] | None = None,
    hierarchies: Mapping[str, Any] | None = None,
    suppression: float = 0.05,
    keep: Sequence[str] = (),
) -> KAnonAlternative:
    """Anonymize ``training`` to ``k`` on ``qis``; generalize ``training`` and ``holdout`` alike.

    Parameters
    ----------
    training, holdout : table
        The records a synthesizer would read, and people it never saw (same columns).
    qis : list of str
        Quasi-identifiers of the release (generalized and suppressed).
    k : int
        Smallest class size (>= 2: k = 1 protects nobody).
    columns : list of str, optional
        Columns of the release (default: ``qis``); the others are released as they are.
    hierarchies : mapping column -> Hierarchy, optional
        Default: :func:`workbench.deid.hierarchy.auto_hierarchy` over training and holdout
        together, so that every holdout value has a leaf.
    suppression : float
        Largest share of records the search may suppress.
    keep : list of str
        Columns carried along unchanged (e.g. the truth column, for scoring a linkage attack).
    """
    from ..deid.hierarchy import auto_hierarchy
    from ..deid.search.lattice import anonymize

    if not (isinstance(k, int) and k >= 2):
        raise ParameterError("k", k, "an integer >= 2 (k = 1 protects nobody)")
    qis = list(dict.fromkeys(qis))
    cols = list(dict.fromkeys(columns if columns is not None else qis))
    if not qis or any(q not in cols for q in qis):
        raise ParameterError("qis", qis, f"one or more of the released columns {cols}")
    t, h = as_pandas(training), as_pandas(holdout)
    check_columns(t, [*cols, *keep], "the training table")
    check_columns(h, [*cols, *keep], "the holdout table")
    t = t[[*cols, *keep]].reset_index(drop=True)
    h = h[[*cols, *keep]].reset_index(drop=True)
    hier = dict(hierarchies or {})
    for q in qis:
        if q not in hier:
            both = pd.concat([t[q], h[q]], ignore_index=True)
            hier[q] = auto_hierarchy(both, name=q)[0]
    res = anonymize(t, qis, hier, k=k, suppression=suppression, return_data=True)
    if not res.found or res.data is None or res.levels is None:
        raise ParameterError(
            "k", k, f"a k that a full-domain generalization of {qis} reaches within "
            f"{suppression:.0%} suppression"
        )  # fmt: skip
    levels = {q: int(res.levels[q]) for q in qis}
    release = res.data[[*cols, *keep]].reset_index(drop=True)

    def generalized(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for q in qis:
            out[q] = hier[q].generalize(out[q], levels[q]).astype("string")
        return out

    return KAnonAlternative(
        release,
        generalized(t),
        generalized(h),
        k,
        tuple(qis),
        levels,
        int(res.suppressed),
        bool(res.found),
    )
