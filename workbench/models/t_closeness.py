"""t-closeness (Li, Li & Venkatasubramanian 2007, "t-Closeness: privacy beyond k-anonymity and
l-diversity", ICDE 2007).

The Earth Mover's Distance between a class's sensitive distribution ``q`` and the table's ``p``
must be at most ``t``. Ground distances, as in ARX's ``EqualDistanceTCloseness``,
``OrderedDistanceTCloseness`` and ``HierarchicalDistanceTCloseness``:

* ``equal``: every two values are 1 apart, ``EMD = 0.5 * sum |p_i - q_i|``;
* ``ordered``: values ranked ``1..m`` are ``|i - j| / (m - 1)`` apart,
  ``EMD = 1/(m-1) * sum_i |sum_{j<=i} (q_j - p_j)|``;
* ``hierarchical``: two leaves are ``level(lowest common ancestor) / H`` apart; ``EMD`` is the
  sum over inner nodes N of ``level(N)/H * min(positive extra, negative extra)`` of N's children.

Monotone only without suppression: a close class merged with a distant one can be distant.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import HierarchyError, ParameterError
from .base import TOL, Classes, PrivacyModel, SensitivePairs

__all__ = [
    "TCloseness",
    "T_KINDS",
    "emd_equal",
    "emd_ordered",
    "emd_hierarchical",
    "class_distances",
    "hierarchy_parent_maps",
]

T_KINDS = ("equal", "ordered", "hierarchical")
_CHUNK_CELLS = 2_000_000  # dense (classes x values) blocks are processed in chunks this big


def _blocks(s: SensitivePairs, sizes: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (lo, hi, dense q block) over class ranges (``s.pc`` is sorted)."""
    n = len(sizes)
    step = max(1, _CHUNK_CELLS // max(s.m, 1))
    bounds = np.searchsorted(s.pc, np.arange(0, n + step, step))
    for i, lo in enumerate(range(0, n, step)):
        hi = min(lo + step, n)
        a, b = bounds[i], bounds[i + 1]
        block = np.zeros((hi - lo, s.m))
        block[s.pc[a:b] - lo, s.pv[a:b]] = s.cnt[a:b] / sizes[s.pc[a:b]]
        yield lo, hi, block


def emd_equal(s: SensitivePairs, sizes: np.ndarray) -> np.ndarray:
    """Equal-distance EMD per class (0 for empty classes)."""
    # 0.5 * sum_v |q - p|, split into values present in the class and absent ones (q = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = s.cnt / sizes[s.pc]
    pp = s.p[s.pv]
    n = len(sizes)
    present = np.bincount(s.pc, weights=np.abs(q - pp), minlength=n)
    mass = np.bincount(s.pc, weights=pp, minlength=n)
    return np.where(sizes > 0, np.maximum(0.5 * (present + 1.0 - mass), 0.0), 0.0)


def emd_ordered(s: SensitivePairs, sizes: np.ndarray) -> np.ndarray:
    """Ordered-distance EMD per class; ``m`` is the number of distinct values in the table."""
    out = np.zeros(len(sizes))
    if s.m <= 1:
        return out
    for lo, hi, q in _blocks(s, sizes):
        cum = np.cumsum(q - s.p, axis=1)
        out[lo:hi] = np.abs(cum).sum(axis=1) / (s.m - 1)
    return np.where(sizes > 0, out, 0.0)


def hierarchical_emd(diff: np.ndarray, parents: Sequence[np.ndarray]) -> np.ndarray:
    """Hierarchical-distance EMD per row of ``diff`` (class distribution minus table's)."""
    height = len(parents)
    if height == 0:
        return np.zeros(diff.shape[0])
    total = np.zeros(diff.shape[0])
    extra = diff
    for lev, parent in enumerate(parents, start=1):
        n_par = int(parent.max()) + 1
        onehot = np.zeros((len(parent), n_par))
        onehot[np.arange(len(parent)), parent] = 1.0
        pos = np.clip(extra, 0.0, None) @ onehot
        neg = np.clip(-extra, 0.0, None) @ onehot
        total += (lev / height) * np.minimum(pos, neg).sum(axis=1)
        extra = extra @ onehot
    return total


def hierarchy_parent_maps(
    hierarchy: Sequence[Sequence[Any]], domain: np.ndarray
) -> list[np.ndarray]:
    """Parent maps level by level: ``maps[h][i]`` = node at level h+1 above node i at level h.

    The one reading of a value hierarchy for hierarchical t-closeness (the risk engine and the
    search both call it); Li, Li & Venkatasubramanian (2007): the ground distance between two
    leaves is the height of their lowest common ancestor over the hierarchy's height.

    Level 0 are the ``m`` sensitive values in ``domain`` order. A node is identified by its
    path to the top (so equal labels under different parents stay different). If the top
    level has more than one node an implicit root is added.
    """
    rows = [list(r) for r in hierarchy]
    if not rows:
        raise HierarchyError(
            "hierarchy for t-closeness is empty; expected one row per value "
            "(leaf, parent, ..., root)"
        )
    widths = {len(r) for r in rows}
    if len(widths) != 1 or min(widths) < 2:
        raise HierarchyError(
            f"hierarchy rows have lengths {sorted(widths)}; expected rows of "
            "one common length >= 2 (leaf, parent, ..., root)"
        )
    by_leaf: dict[str, list[Any]] = {}
    for r in rows:
        by_leaf.setdefault(str(r[0]), r)
    leaves = []
    missing = []
    for v in domain.tolist():
        row = by_leaf.get(str(v))
        if row is None:
            missing.append(v)
        leaves.append(row)
    if missing:
        raise HierarchyError(
            f"hierarchy does not cover {len(missing)} sensitive value(s) (not shown: a value "
            "may identify someone); expected a row whose first cell is each value"
        )
    width = len(leaves[0])
    maps: list[np.ndarray] = []
    prev_ids = [tuple(str(x) for x in row) for row in leaves]  # full path identifies a leaf
    for h in range(1, width):
        paths = [tuple(str(x) for x in row[h:]) for row in leaves]
        index: dict[tuple[str, ...], int] = {}
        node_of_leaf = np.array([index.setdefault(pth, len(index)) for pth in paths])
        # parent of each node of the previous level (consistent because paths nest)
        prev_index: dict[tuple[str, ...], int] = {}
        prev_node = [prev_index.setdefault(pid, len(prev_index)) for pid in prev_ids]
        parent = np.zeros(len(prev_index), dtype=np.int64)
        parent[np.array(prev_node)] = node_of_leaf
        maps.append(parent)
        prev_ids = paths
    if len(set(prev_ids)) > 1:  # several tops: add a root
        maps.append(np.zeros(len(set(prev_ids)), dtype=np.int64))
    return maps


def emd_hierarchical(s: SensitivePairs, sizes: np.ndarray) -> np.ndarray:
    """Hierarchical-distance EMD per class (``s.parents`` from the value hierarchy)."""
    out = np.zeros(len(sizes))
    if not s.parents:
        if s.m > 1:
            raise ParameterError(
                "sensitive_hierarchies",
                s.name,
                f"a hierarchy for sensitive column {s.name!r} (t-closeness with the "
                "hierarchical distance)",
            )
        return out
    for lo, hi, q in _blocks(s, sizes):
        out[lo:hi] = hierarchical_emd(q - s.p, s.parents)
    return np.where(sizes > 0, out, 0.0)


def class_distances(s: SensitivePairs, sizes: np.ndarray, kind: str) -> np.ndarray:
    """EMD of each class from the table under ground distance ``kind``."""
    if kind == "equal":
        return emd_equal(s, sizes)
    if kind == "ordered":
        return emd_ordered(s, sizes)
    if kind == "hierarchical":
        return emd_hierarchical(s, sizes)
    raise ParameterError("t_kind", kind, f"one of {', '.join(T_KINDS)}")


@dataclass(frozen=True)
class TCloseness(PrivacyModel):
    """Every class's sensitive distribution is within EMD ``t`` of the table's."""

    t: float
    kind: str = "equal"
    attribute: str | None = None

    key: ClassVar[str] = "t_closeness"
    policy_key: ClassVar[str | None] = "max_t"
    direction: ClassVar[str] = "max"
    needs: ClassVar[frozenset[str]] = frozenset({"sensitive"})
    reference: ClassVar[str] = "Li, Li & Venkatasubramanian 2007"
    title: ClassVar[str] = "maximum t (t-closeness)"
    policy_schema: ClassVar[dict[str, Any] | None] = {
        "type": "object",
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
    }

    def __post_init__(self) -> None:
        if not isinstance(self.t, int | float) or not 0 <= self.t <= 1:
            raise ParameterError("t", self.t, "a number in [0, 1]")
        if self.kind not in T_KINDS:
            raise ParameterError("t_kind", self.kind, f"one of {', '.join(T_KINDS)}")

    @property
    def limit(self) -> float:
        return float(self.t)

    def class_pass(self, classes: Classes) -> np.ndarray:
        ok = np.ones(classes.n_classes, dtype=bool)
        for s in classes.attributes(self.attribute):
            ok &= class_distances(s, classes.sizes, self.kind) <= self.t + TOL
        return ok

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        keep = released & ~classes.empty
        if not keep.any():
            return None
        return float(
            max(
                class_distances(s, classes.sizes, self.kind)[keep].max()
                for s in classes.attributes(self.attribute)
            )
        )

    def describe(self) -> str:
        what = f"{self.attribute!r}" if self.attribute else "each sensitive attribute"
        return (
            f"the distribution of {what} in every group is within {self.t:g} ({self.kind} "
            "distance) of the whole table's"
        )

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        return [cls(float(v), attribute=str(a)) for a, v in dict(value).items()]
