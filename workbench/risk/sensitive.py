"""Attribute disclosure: how much an equivalence class reveals about a sensitive attribute.

k-anonymity protects against *re-identification*; these measures protect against *attribute
disclosure* (learning a person's diagnosis without knowing which row is theirs). Every function
takes per-record class ids (``class_ids`` in ``[0, n_classes)``) and the sensitive attribute, and
returns per-class values plus the dataset summary (the worst class). They are vectorised over
``bincount(class_id * m + value)`` because the anonymization search calls them once per lattice
node.

Conventions shared by all measures
----------------------------------
* ``p`` is the distribution of the sensitive attribute in the whole table, ``q`` the one inside
  a class; both are relative frequencies.
* Classes without records (ids that no record uses) are ignored in the summaries and satisfy
  every criterion vacuously.
* Infinite values (no ``l`` distinct values, enhanced beta-likeness impossible, ...) are kept as
  ``inf`` in the numpy arrays; ``to_dict()`` turns them into ``None`` plus a ``reason`` so the
  JSON stays standard.

References
----------
Machanavajjhala, Kifer, Gehrke, Venkitasubramaniam (2007). l-Diversity: Privacy beyond
k-anonymity. ACM TKDD 1(1). -- distinct, entropy and recursive (c,l)-diversity.

Li, Li, Venkatasubramanian (2007). t-Closeness: Privacy beyond k-anonymity and l-diversity.
ICDE 2007, 106-115. -- Earth Mover's Distance with equal, ordered and hierarchical ground
distance.

Brickell, Shmatikov (2008). The cost of privacy: destruction of data-mining utility in anonymized
data publishing. KDD 2008. -- delta-disclosure privacy.

Cao, Karras (2012). Publishing microdata with a robust privacy guarantee. PVLDB 5(11). -- basic
and enhanced beta-likeness.

The per-class quantities are computed by the privacy models of :mod:`workbench.models` (the one
definition the anonymization search uses as well); this module adds the dataset summaries.

The implementations were checked against ARX's criteria (``RecursiveCLDiversity``,
``EqualDistanceTCloseness``, ``OrderedDistanceTCloseness``, ``HierarchicalDistanceTCloseness``,
``DDisclosurePrivacy``, ``BasicBLikeness``, ``EnhancedBLikeness``); differences are stated in
each function's notes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._lazy import lazy_module
from ..errors import ParameterError
from ..models import SensitivePairs
from ..models import l_diversity as _ld
from ..models.base import TOL
from ..models.beta_likeness import class_betas
from ..models.delta_disclosure import class_deltas
from ..models.t_closeness import (
    emd_equal,
    emd_hierarchical,
    emd_ordered,
    hierarchy_parent_maps,
)

pd = lazy_module("pandas")

__all__ = [
    "LDiversityResult",
    "TClosenessResult",
    "DeltaDisclosureResult",
    "BetaLikenessResult",
    "l_diversity",
    "t_closeness",
    "delta_disclosure",
    "beta_likeness",
]

# Tolerance for "entropy >= log(l)": a uniform class over l values must pass despite rounding.
_ENTROPY_TOL = TOL


# --------------------------------------------------------------------------------------------
# shared preparation
# --------------------------------------------------------------------------------------------


def _dense_values(values: np.ndarray, ordered: bool = False) -> tuple[np.ndarray, int, np.ndarray]:
    """Map a sensitive column to dense codes ``0..m-1`` in sorted value order.

    Returns the codes, ``m`` and the sorted distinct values. Non-negative integer codes take a
    bincount path (no sort), which is what repeated calls from the anonymization search use.
    """
    if values.dtype.kind in "iub" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < 8 * values.size + 4096:
            present = np.bincount(values.astype(np.int64), minlength=hi + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[values].astype(np.int64), int(remap[-1] + 1), np.flatnonzero(present)
    try:
        uniq, inv = np.unique(values, return_inverse=True)
    except TypeError:  # mixed types (e.g. strings and None) cannot be sorted
        if ordered:
            raise ParameterError(
                "sens_values",
                str(values.dtype),
                "values of one comparable type for an ordered distance (code missing values first)",
            ) from None
        codes, uniq = pd.factorize(values, use_na_sentinel=False)
        return codes.astype(np.int64), int(len(uniq)), np.asarray(uniq, dtype=object)
    return inv.reshape(-1).astype(np.int64), int(uniq.size), uniq


@dataclass(frozen=True, eq=False)
class _Prepared:
    cls: np.ndarray  # per record class id (int64)
    val: np.ndarray  # per record dense value code (int64)
    n: int
    m: int
    n_classes: int
    sizes: np.ndarray  # records per class
    p: np.ndarray  # table distribution over the m values
    pc: np.ndarray  # class of each (class, value) pair with a positive count, sorted
    pv: np.ndarray  # value of each pair
    cnt: np.ndarray  # count of each pair
    domain: np.ndarray  # sorted distinct values (codes on the integer path)


def _prepare(class_ids: Any, sens: Any, n_classes: int, ordered: bool = False) -> _Prepared:
    cls = np.asarray(class_ids)
    vals = np.asarray(sens)
    if cls.ndim != 1 or vals.ndim != 1:
        raise ParameterError(
            "class_ids/sensitive", (cls.shape, vals.shape), "two one-dimensional arrays"
        )
    if cls.shape != vals.shape:
        raise ParameterError(
            "sensitive", f"{vals.size} values", f"one value per record ({cls.size} class ids)"
        )
    if not isinstance(n_classes, int | np.integer) or n_classes < 0:
        raise ParameterError("n_classes", n_classes, "a non-negative integer")
    n_classes = int(n_classes)
    if cls.size and cls.dtype.kind not in "iu":
        raise ParameterError("class_ids", str(cls.dtype), "an integer array")
    cls = cls.astype(np.int64, copy=False)
    if cls.size and (cls.min() < 0 or cls.max() >= n_classes):
        raise ParameterError(
            "class_ids", f"range [{cls.min()}, {cls.max()}]", f"ids in [0, {n_classes})"
        )
    val, m, domain = _dense_values(vals, ordered)
    n = int(cls.size)
    sizes = np.bincount(cls, minlength=n_classes)
    p = np.bincount(val, minlength=m) / n if n else np.zeros(m)
    key = cls * max(m, 1) + val
    if n_classes * m <= 8 * n + (1 << 20):
        counts = np.bincount(key, minlength=n_classes * m)
        nz = np.flatnonzero(counts)
        pc, pv, cnt = nz // m, nz % m, counts[nz]
    else:
        uniq, cnt = np.unique(key, return_counts=True)
        pc, pv = uniq // m, uniq % m
    return _Prepared(
        cls,
        val,
        n,
        m,
        n_classes,
        sizes,
        p,
        pc.astype(np.int64),
        pv.astype(np.int64),
        cnt.astype(np.int64),
        domain,
    )


def _pairs(prep: _Prepared, parents: tuple[np.ndarray, ...] = ()) -> SensitivePairs:
    return SensitivePairs(prep.pc, prep.pv, prep.cnt, prep.p, prep.m, parents)


def sensitive_pairs(
    class_ids: Any, sens_values: Any, n_classes: int, name: str = ""
) -> SensitivePairs:
    """One sensitive attribute as the privacy models see it (:mod:`workbench.models`)."""
    prep = _prepare(class_ids, sens_values, n_classes)
    return SensitivePairs(prep.pc, prep.pv, prep.cnt, prep.p, prep.m, (), name)


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _argmax_nonempty(values: np.ndarray, sizes: np.ndarray) -> int | None:
    mask = sizes > 0
    if not mask.any():
        return None
    masked = np.where(mask, values, -np.inf)
    return int(np.argmax(masked))


# --------------------------------------------------------------------------------------------
# l-diversity
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LDiversityResult:
    """l-diversity of one sensitive attribute (Machanavajjhala et al. 2007).

    Attributes
    ----------
    l : int
        The ``l`` used for the recursive (c,l) summary.
    class_sizes, distinct, entropy, exp_entropy, recursive_ratio : numpy.ndarray
        Per class: records, distinct sensitive values, Shannon entropy ``H`` in nats,
        ``exp(H)`` (the "effective number of values", not floored), and
        ``r1 / (r_l + ... + r_m)`` (``inf`` when the class has fewer than ``l`` values).
    distinct_l : int
        Smallest number of distinct values in a class (distinct l-diversity holds for every
        ``l <= distinct_l``).
    entropy_l : float
        Smallest ``exp(H)`` over classes (entropy l-diversity holds for ``l <= entropy_l``).
    recursive_c : float or None
        Largest ``r1 / (r_l + ... + r_m)``: recursive (c,l)-diversity holds for every
        ``c > recursive_c``. ``None`` (with ``recursive_reason``) when some class has fewer
        than ``l`` distinct values, so no ``c`` works.
    """

    l: int  # noqa: E741 -- the published name of the parameter
    n_records: int
    n_classes: int
    class_sizes: np.ndarray
    distinct: np.ndarray
    entropy: np.ndarray
    entropy_l: float
    distinct_l: int
    recursive_ratio: np.ndarray
    recursive_c: float | None
    recursive_reason: str | None
    exp_entropy: np.ndarray = field(repr=False)
    _pairs: SensitivePairs = field(repr=False)
    _sorted_pc: np.ndarray = field(repr=False)
    _sorted_cnt: np.ndarray = field(repr=False)
    _rank: np.ndarray = field(repr=False)

    def recursive_ratios(self, l: int) -> np.ndarray:  # noqa: E741
        """Per class ``r1 / (r_l + ... + r_m)`` for another ``l`` (``inf`` if < l values)."""
        _check_l(l)
        return _recursive_ratio(self._sorted_pc, self._sorted_cnt, self._rank, self.n_classes, l)

    def satisfies(
        self,
        kind: Literal["distinct", "entropy", "recursive"],
        l: int,  # noqa: E741
        c: float | None = None,
    ) -> np.ndarray:
        """Per-class booleans: does the class satisfy ``kind`` l-diversity?

        ``distinct``: at least ``l`` distinct values. ``entropy``: ``H >= ln(l)``.
        ``recursive``: ``r1 < c * (r_l + ... + r_m)`` (needs ``c``). Empty classes pass.
        """
        _check_l(l)
        if kind == "recursive" and not (isinstance(c, numbers.Real) and c > 0):
            raise ParameterError("c", c, "a positive number for recursive (c,l)-diversity")
        return _ld.class_pass(self._pairs, self.class_sizes, kind, int(l), c)

    def to_dict(self) -> dict[str, Any]:
        nonempty = self.class_sizes > 0
        worst = _argmax_nonempty(self.recursive_ratio, self.class_sizes)
        return {
            "measure": "l-diversity",
            "reference": "Machanavajjhala et al. 2007",
            "l": self.l,
            "records": self.n_records,
            "classes": int(nonempty.sum()),
            "distinct_l": self.distinct_l,
            "entropy_l": self.entropy_l,
            "recursive_c": self.recursive_c,
            "recursive_reason": self.recursive_reason,
            "classes_below_l_distinct": int((nonempty & (self.distinct < self.l)).sum()),
            "records_below_l_distinct": int(self.class_sizes[self.distinct < self.l].sum()),
            "classes_below_l_entropy": int(
                (nonempty & (self.entropy < math.log(self.l) - _ENTROPY_TOL)).sum()
            ),
            "worst_recursive_class": worst,
        }


def _check_l(l: Any) -> None:  # noqa: E741
    if isinstance(l, bool) or not isinstance(l, int | np.integer) or l < 1:
        raise ParameterError("l", l, "an integer >= 1")


def _recursive_ratio(spc, scnt, rank, n_classes: int, l: int) -> np.ndarray:  # noqa: E741
    tail = _ld.tail_sums(spc, scnt, rank, n_classes, l)
    r1 = _ld.first_counts(spc, scnt, rank, n_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tail > 0, r1 / np.where(tail > 0, tail, 1), np.inf)
    ratio[r1 == 0] = np.nan  # empty classes
    return ratio


def l_diversity(class_ids: Any, sens_codes: Any, n_classes: int, l: int = 2) -> LDiversityResult:  # noqa: E741
    """Distinct, entropy and recursive (c,l)-diversity of one sensitive attribute.

    Definitions from Machanavajjhala et al. (2007): a class is *distinct* l-diverse with at
    least ``l`` distinct values; *entropy* l-diverse when ``-sum q log q >= log l`` (we report
    ``exp(H)`` unfloored so the margin is visible); *recursive (c,l)-diverse* when, with the
    value counts sorted descending ``r1 >= r2 >= ... >= rm``, ``r1 < c (r_l + ... + r_m)``.

    Parameters
    ----------
    class_ids : array of int
        Equivalence class of each record, in ``[0, n_classes)``.
    sens_codes : array
        Sensitive value of each record (integer codes or raw values; missing must already be
        its own code).
    n_classes : int
        Number of class ids.
    l : int
        The ``l`` for the recursive summary ``recursive_c``.

    Examples
    --------
    >>> r = l_diversity([0, 0, 0, 1, 1], [5, 5, 7, 1, 2], 2)
    >>> r.distinct.tolist(), r.distinct_l, r.recursive_c
    ([2, 2], 2, 2.0)
    """
    _check_l(l)
    prep = _prepare(class_ids, sens_codes, n_classes)
    pairs = _pairs(prep)
    distinct = _ld.distinct_values(pairs, prep.n_classes)
    entropy = np.where(prep.sizes > 0, _ld.class_entropy(pairs, prep.sizes) + 0.0, np.nan)
    exp_h = np.exp(entropy)
    spc, scnt, rank = _ld.sorted_counts(pairs, prep.n_classes)
    ratio = _recursive_ratio(spc, scnt, rank, prep.n_classes, l)
    nonempty = prep.sizes > 0
    if nonempty.any():
        distinct_l = int(distinct[nonempty].min())
        entropy_l = float(exp_h[nonempty].min())
        worst = float(ratio[nonempty].max())
    else:
        distinct_l, entropy_l, worst = 0, 0.0, 0.0
    if math.isinf(worst):
        short = int((nonempty & (distinct < l)).sum())
        recursive_c, reason = (
            None,
            (
                f"{short} class(es) have fewer than l={l} distinct values, so r_l + ... + r_m = 0 "
                "and no c satisfies recursive (c,l)-diversity"
            ),
        )
    else:
        recursive_c, reason = worst, None
    return LDiversityResult(
        l=int(l),
        n_records=prep.n,
        n_classes=prep.n_classes,
        class_sizes=prep.sizes,
        distinct=distinct,
        entropy=entropy,
        entropy_l=entropy_l,
        distinct_l=distinct_l,
        recursive_ratio=ratio,
        recursive_c=recursive_c,
        recursive_reason=reason,
        exp_entropy=exp_h,
        _pairs=pairs,
        _sorted_pc=spc,
        _sorted_cnt=scnt,
        _rank=rank,
    )


# --------------------------------------------------------------------------------------------
# t-closeness
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TClosenessResult:
    """t-closeness of one sensitive attribute (Li, Li & Venkatasubramanian 2007).

    Attributes
    ----------
    kind : str
        Ground distance: ``equal``, ``ordered`` or ``hierarchical``.
    distances : numpy.ndarray
        Earth Mover's Distance between each class's distribution and the table's (``nan``
        for empty classes).
    t : float
        Largest distance: the table is t-close for every threshold ``>= t``.
    worst_class : int or None
        Class id reaching ``t``.
    """

    kind: str
    n_records: int
    n_classes: int
    n_values: int
    class_sizes: np.ndarray
    distances: np.ndarray
    t: float
    worst_class: int | None
    height: int | None = None

    def satisfies(self, t: float) -> np.ndarray:
        """Per-class booleans ``EMD <= t`` (ARX's check); empty classes pass."""
        if not isinstance(t, numbers.Real) or t < 0:
            raise ParameterError("t", t, "a number >= 0")
        return (self.distances <= t + TOL) | (self.class_sizes == 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": "t-closeness",
            "reference": "Li, Li & Venkatasubramanian 2007",
            "distance": self.kind,
            "records": self.n_records,
            "classes": int((self.class_sizes > 0).sum()),
            "values": self.n_values,
            "t": self.t,
            "worst_class": self.worst_class,
            "hierarchy_height": self.height,
        }


def t_closeness(
    class_ids: Any,
    sens_values: Any,
    n_classes: int,
    kind: Literal["equal", "ordered", "hierarchical"] = "equal",
    hierarchy: Sequence[Sequence[Any]] | None = None,
    labels: Sequence[Any] | None = None,
) -> TClosenessResult:
    """Earth Mover's Distance of each class's sensitive distribution from the table's.

    Ground distances (Li, Li & Venkatasubramanian 2007):

    * ``equal`` (categorical): every two values are at distance 1, so
      ``EMD = 0.5 * sum_i |p_i - q_i|``.
    * ``ordered`` (numeric / ordinal): values ranked ``1..m`` by sorted order are
      ``|i - j| / (m - 1)`` apart, so ``EMD = 1/(m-1) * sum_i |sum_{j<=i} (p_j - q_j)|``; ``m``
      is the number of distinct values in the table (as ARX).
    * ``hierarchical``: two leaves are ``level(lowest common ancestor) / H`` apart, with ``H``
      the height of the hierarchy; ``EMD = sum over inner nodes N of level(N)/H *
      min(pos_extra(N), neg_extra(N))``.

    Parameters
    ----------
    class_ids : array of int
        Equivalence class of each record.
    sens_values : array
        Sensitive value per record. For ``ordered`` the order is the sorted order of the
        values (pass numbers, or codes whose integer order is the attribute's order). For
        ``hierarchical`` the values are matched (as strings) against the first cell of the
        hierarchy rows.
    n_classes : int
        Number of class ids.
    kind : {"equal", "ordered", "hierarchical"}
    hierarchy : sequence of rows, optional
        Required for ``hierarchical``: rows ``(leaf, parent, ..., root)`` of equal length,
        e.g. the rows of an ARX hierarchy CSV.
    labels : sequence, optional
        For integer codes: ``labels[code]`` is the value matched against the hierarchy leaves.
        Passing codes plus labels avoids sorting strings on every call (the anonymization
        search calls this per lattice node).

    Examples
    --------
    >>> t_closeness([0, 0, 1, 1], [0, 0, 1, 1], 2).t   # each class holds one of two values
    0.5
    """
    prep = _prepare(class_ids, sens_values, n_classes, ordered=kind == "ordered")
    height = None
    if kind == "equal":
        dist = emd_equal(_pairs(prep), prep.sizes)
    elif kind == "ordered":
        dist = emd_ordered(_pairs(prep), prep.sizes)
    elif kind == "hierarchical":
        if hierarchy is None:
            raise ParameterError("hierarchy", None, "hierarchy rows for hierarchical t-closeness")
        domain = prep.domain
        if labels is not None:
            table = np.asarray(labels, dtype=object)
            if domain.dtype.kind not in "iu" or (domain.size and domain.max() >= table.size):
                raise ParameterError(
                    "labels", f"{table.size} labels", "one label per integer code of sens_values"
                )
            domain = table[domain]
        maps = hierarchy_parent_maps(hierarchy, domain)
        height = len(maps)
        dist = emd_hierarchical(_pairs(prep, tuple(maps)), prep.sizes)
    else:
        raise ParameterError("kind", kind, "'equal', 'ordered' or 'hierarchical'")
    dist = np.where(prep.sizes > 0, dist, np.nan)
    worst = _argmax_nonempty(dist, prep.sizes)
    t = float(dist[worst]) if worst is not None else 0.0
    return TClosenessResult(
        kind=kind,
        n_records=prep.n,
        n_classes=prep.n_classes,
        n_values=prep.m,
        class_sizes=prep.sizes,
        distances=dist,
        t=t,
        worst_class=worst,
        height=height,
    )


# --------------------------------------------------------------------------------------------
# delta-disclosure privacy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DeltaDisclosureResult:
    """delta-disclosure privacy (Brickell & Shmatikov 2008).

    Attributes
    ----------
    deltas : numpy.ndarray
        Per class ``max |ln(q(v) / p(v))|`` over the values present in the class (ARX's
        convention; ``nan`` for empty classes).
    delta : float
        Largest per-class value: the table is delta-disclosure private for every
        ``delta > this`` (the definition uses a strict ``<``).
    delta_strict : float or None
        The literal definition also ranges over values *absent* from a class, where
        ``ln(0/p) = -inf``; ``None`` with ``strict_reason`` when any class misses a value.
    """

    n_records: int
    n_classes: int
    n_values: int
    class_sizes: np.ndarray
    deltas: np.ndarray
    complete: np.ndarray
    delta: float
    worst_class: int | None
    delta_strict: float | None
    strict_reason: str | None

    def satisfies(self, delta: float, strict: bool = False) -> np.ndarray:
        """Per-class booleans ``max |ln(q/p)| < delta``; ``strict`` also fails classes missing
        a table value. Empty classes pass. ARX uses ``log2``: ARX's ``d`` equals ``delta/ln 2``.
        """
        if not isinstance(delta, numbers.Real) or delta <= 0:
            raise ParameterError("delta", delta, "a positive number")
        ok = self.deltas < delta
        if strict:
            ok &= self.complete
        return ok | (self.class_sizes == 0)

    def to_dict(self) -> dict[str, Any]:
        nonempty = self.class_sizes > 0
        return {
            "measure": "delta-disclosure",
            "reference": "Brickell & Shmatikov 2008",
            "log": "natural",
            "records": self.n_records,
            "classes": int(nonempty.sum()),
            "delta": self.delta,
            "worst_class": self.worst_class,
            "delta_strict": self.delta_strict,
            "strict_reason": self.strict_reason,
            "classes_missing_values": int((nonempty & ~self.complete).sum()),
        }


def delta_disclosure(class_ids: Any, sens_codes: Any, n_classes: int) -> DeltaDisclosureResult:
    """Largest log-ratio between a class's and the table's sensitive frequencies.

    Brickell & Shmatikov (2008): a class is delta-disclosure private when for every sensitive
    value ``|ln(q(v) / p(v))| < delta``. We report the smallest such bound, using natural logs
    and -- like ARX's ``DDisclosurePrivacy`` -- only the values present in the class;
    ``delta_strict`` applies the definition literally (a value absent from a class makes it
    infinite). ARX measures in bits (``log2``).

    Examples
    --------
    >>> r = delta_disclosure([0, 0, 1, 1], [0, 1, 0, 0], 2)
    >>> round(r.delta, 4)   # class 0 holds value 1 with q=1/2 against p=1/4: ln 2
    0.6931
    """
    prep = _prepare(class_ids, sens_codes, n_classes)
    deltas, complete = class_deltas(_pairs(prep), prep.sizes)
    nonempty = prep.sizes > 0
    worst = _argmax_nonempty(deltas, prep.sizes)
    delta = float(deltas[worst]) if worst is not None else 0.0
    short = int((nonempty & ~complete).sum())
    if short:
        strict, reason = (
            None,
            (
                f"{short} class(es) lack at least one sensitive value of the table; "
                "|ln(0/p)| is infinite under the literal definition"
            ),
        )
    else:
        strict, reason = delta, None
    return DeltaDisclosureResult(
        n_records=prep.n,
        n_classes=prep.n_classes,
        n_values=prep.m,
        class_sizes=prep.sizes,
        deltas=deltas,
        complete=complete,
        delta=delta,
        worst_class=worst,
        delta_strict=strict,
        strict_reason=reason,
    )


# --------------------------------------------------------------------------------------------
# beta-likeness
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BetaLikenessResult:
    """Basic and enhanced beta-likeness (Cao & Karras 2012).

    Attributes
    ----------
    basic : numpy.ndarray
        Per class ``max (q - p) / p`` over values with ``q > p`` (0 if none).
    enhanced : numpy.ndarray
        Per class smallest beta with ``(q - p) / p <= min(beta, -ln p)`` for every ``q > p``:
        equal to ``basic`` when every such value stays within its cap ``-ln p``, else ``inf``
        (no beta can help: the cap does not depend on beta).
    beta : float or None
        Dataset value of the selected variant (``enhanced`` flag); ``None`` when infinite.
    beta_basic, beta_enhanced : float, float or None
        Both variants; ``reason`` says why ``beta_enhanced`` is ``None``.
    """

    enhanced_selected: bool
    n_records: int
    n_classes: int
    n_values: int
    class_sizes: np.ndarray
    basic: np.ndarray
    enhanced: np.ndarray
    beta_basic: float
    beta_enhanced: float | None
    beta: float | None
    worst_class: int | None
    reason: str | None

    def satisfies(self, beta: float, enhanced: bool | None = None) -> np.ndarray:
        """Per-class booleans for threshold ``beta`` (``enhanced`` defaults to the selection)."""
        if not isinstance(beta, numbers.Real) or beta <= 0:
            raise ParameterError("beta", beta, "a positive number")
        use_enhanced = self.enhanced_selected if enhanced is None else enhanced
        values = self.enhanced if use_enhanced else self.basic
        return (values <= beta + TOL) | (self.class_sizes == 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": "enhanced beta-likeness"
            if self.enhanced_selected
            else "basic beta-likeness",
            "reference": "Cao & Karras 2012",
            "records": self.n_records,
            "classes": int((self.class_sizes > 0).sum()),
            "beta": self.beta,
            "beta_basic": self.beta_basic,
            "beta_enhanced": self.beta_enhanced,
            "worst_class": self.worst_class,
            "reason": self.reason,
        }


def beta_likeness(
    class_ids: Any, sens_codes: Any, n_classes: int, enhanced: bool = False
) -> BetaLikenessResult:
    """Largest relative gain in confidence about a sensitive value from seeing a class.

    Cao & Karras (2012): with table frequency ``p`` and class frequency ``q`` of a value,
    *basic* beta-likeness requires ``(q - p) / p <= beta`` for all ``q > p``; *enhanced*
    beta-likeness requires ``(q - p) / p <= min(beta, -ln p)``, which caps the gain for
    frequent values so ``q`` can never reach 1 (ARX's ``BasicBLikeness`` / ``EnhancedBLikeness``
    check exactly these inequalities). We report the smallest beta that satisfies each.

    Examples
    --------
    >>> r = beta_likeness([0, 0, 1, 1], [0, 1, 1, 1], 2)
    >>> r.beta_basic   # value 0: p=1/4, q=1/2 in class 0 -> (1/2 - 1/4) / (1/4)
    1.0
    """
    prep = _prepare(class_ids, sens_codes, n_classes)
    basic, enh, over_cap = class_betas(_pairs(prep), prep.sizes)
    worst_basic = _argmax_nonempty(basic, prep.sizes)
    beta_basic = float(basic[worst_basic]) if worst_basic is not None else 0.0
    worst_enh = _argmax_nonempty(enh, prep.sizes)
    beta_enh = float(enh[worst_enh]) if worst_enh is not None else 0.0
    reason = None
    if math.isinf(beta_enh):
        reason = (
            f"{int(over_cap.sum())} (class, value) pair(s) have (q - p)/p above the cap "
            "-ln p, so no beta satisfies enhanced beta-likeness"
        )
    selected = beta_enh if enhanced else beta_basic
    return BetaLikenessResult(
        enhanced_selected=bool(enhanced),
        n_records=prep.n,
        n_classes=prep.n_classes,
        n_values=prep.m,
        class_sizes=prep.sizes,
        basic=basic,
        enhanced=enh,
        beta_basic=beta_basic,
        beta_enhanced=_finite_or_none(beta_enh),
        beta=_finite_or_none(selected),
        worst_class=worst_enh if enhanced else worst_basic,
        reason=reason,
    )
