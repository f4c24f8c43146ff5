"""What a transformation must satisfy, and judging one lattice node against it.

:class:`Criteria` collects the privacy models (the registered models of :mod:`workbench.models`)
and the record-suppression limit; :class:`NodeEvaluator` is the part of the search context that
rolls a node's classes up to per-class pass masks and decides whether the node is acceptable
(with the fewest records suppressed). The search itself (Flash-style pruning, the metric order)
is in :mod:`workbench.deid.search.lattice`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ParameterError, PrivacyWarning
from ...models import (
    AverageRisk,
    Classes,
    HighestRisk,
    KAnonymity,
    LDiversity,
    PrivacyModel,
    SensitivePairs,
    TCloseness,
    model_from_dict,
)
from ...models.l_diversity import L_KINDS
from ...models.t_closeness import T_KINDS

if TYPE_CHECKING:
    from .lattice import _Sens

__all__ = ["Criteria", "NodeEvaluation", "NodeEvaluator"]


@dataclass(frozen=True)
class Criteria:
    """Privacy models a transformation must satisfy, and the record-suppression limit.

    Attributes
    ----------
    k : int
        k-anonymity (Sweeney 2002): every released class has at least ``k`` records.
    l : int or None
        l-diversity (Machanavajjhala et al. 2007) of every sensitive attribute, of kind ``l_kind``
        (``distinct``, ``entropy``, or ``recursive`` (c,l) with constant ``c``).
    t : float or None
        t-closeness (Li, Li & Venkatasubramanian 2007): Earth Mover's Distance between each
        class's sensitive distribution and the whole table's at most ``t`` (``t_kind`` =
        ``equal`` for categories, ``ordered`` for ordinal/numeric values, ``hierarchical`` with a
        generalization hierarchy of the sensitive attribute given to the search context).
    max_average_risk : float or None
        Prosecutor average risk of the released records (classes / records) at most this.
    max_highest_risk : float or None
        Prosecutor highest risk (1 / smallest class) at most this, i.e. k >= ceil(1 / value).
    suppression : float
        Share of records that may be suppressed (0..1).
    models : tuple of PrivacyModel
        Further registered privacy models (k-map, delta-presence, population uniqueness, ...).
    """

    k: int = 1
    l: int | None = None  # noqa: E741 -- the published name
    l_kind: str = "distinct"
    c: float = 3.0
    t: float | None = None
    t_kind: str = "equal"
    max_average_risk: float | None = None
    max_highest_risk: float | None = None
    suppression: float = 0.0
    models: tuple[PrivacyModel, ...] = ()

    def __post_init__(self) -> None:
        from ...errors import ParameterTypeError

        for name in ("c", "t", "max_average_risk", "max_highest_risk", "suppression"):
            v = getattr(self, name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, (int, float, np.number))
            ):
                raise ParameterTypeError(name, v, "a number")
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ParameterError("k", self.k, "an integer >= 1")
        if self.l is not None and (not isinstance(self.l, (int, np.integer)) or self.l < 1):
            raise ParameterError("l", self.l, "an integer >= 1")
        if self.l_kind not in L_KINDS:
            raise ParameterError("l_kind", self.l_kind, f"one of {', '.join(L_KINDS)}")
        if not (isinstance(self.c, (int, float)) and self.c > 0):
            raise ParameterError("c", self.c, "a positive number")
        if self.t is not None and not (0 <= self.t <= 1):
            raise ParameterError("t", self.t, "a number in [0, 1]")
        if self.t_kind not in T_KINDS:
            raise ParameterError("t_kind", self.t_kind, f"one of {', '.join(T_KINDS)}")
        for name in ("max_average_risk", "max_highest_risk"):
            v = getattr(self, name)
            if v is not None and not (0 < v <= 1):
                raise ParameterError(name, v, "a number in (0, 1]")
        if not (0 <= self.suppression <= 1):
            raise ParameterError("suppression", self.suppression, "a share in [0, 1]")
        object.__setattr__(self, "models", tuple(self.models))
        for m in self.models:
            if not isinstance(m, PrivacyModel):
                raise ParameterError("models", m, "registered privacy models (workbench.models)")
        _criteria_models(self)  # validates every model now, not at the first node
        if self.protects_nobody:
            warnings.warn(
                "k = 1 protects nobody: a record alone in its class is unique and can be "
                "re-identified, and no l-diversity, t-closeness or risk limit is set; use k >= 2",
                PrivacyWarning,
                stacklevel=3,
            )

    @property
    def protects_nobody(self) -> bool:
        """True when every table satisfies these criteria (k = 1 and no other binding model)."""
        return (
            self.effective_k < 2
            and (self.l is None or self.l < 2)
            and (self.t is None or self.t >= 1)
            and (self.max_average_risk is None or self.max_average_risk >= 1)
            and not self.models  # k-map, delta-presence, population uniqueness... bind
        )

    @property
    def effective_k(self) -> int:
        """k, raised to ceil(1 / max_highest_risk) when a highest-risk limit is given."""
        k = int(self.k)
        if self.max_highest_risk is not None:
            k = max(k, math.ceil(1.0 / self.max_highest_risk - 1e-9))
        return k

    def privacy_models(self) -> tuple[PrivacyModel, ...]:
        """Every model to satisfy: the named fields as registered models, then ``models``."""
        return _criteria_models(self)

    def _build_models(self) -> tuple[PrivacyModel, ...]:
        out: list[PrivacyModel] = [KAnonymity(int(self.k))]
        if self.max_highest_risk is not None:
            out.append(HighestRisk(float(self.max_highest_risk)))
        if self.l is not None:
            c = float(self.c) if self.l_kind == "recursive" else None
            out.append(LDiversity(int(self.l), self.l_kind, c))
        if self.t is not None:
            out.append(TCloseness(float(self.t), self.t_kind))
        if self.max_average_risk is not None:
            out.append(AverageRisk(float(self.max_average_risk)))
        return (*out, *self.models)

    def needs(self, what: str) -> bool:
        """Whether some model needs ``what`` (``sensitive``, ``population``, ``research``...)."""
        return any(what in m.needs for m in self.privacy_models())

    @property
    def needs_sensitive(self) -> bool:
        return self.needs("sensitive")

    def suppression_limit(self, n_records: int) -> int:
        """Number of records that may be suppressed: ``floor(suppression * N)``."""
        return int(math.floor(self.suppression * n_records + 1e-9))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"k": int(self.k)}
        if self.l is not None:
            d.update(l=int(self.l), l_kind=self.l_kind)
            if self.l_kind == "recursive":
                d["c"] = float(self.c)
        if self.t is not None:
            d.update(t=float(self.t), t_kind=self.t_kind)
        if self.max_average_risk is not None:
            d["max_average_risk"] = float(self.max_average_risk)
        if self.max_highest_risk is not None:
            d["max_highest_risk"] = float(self.max_highest_risk)
        if self.models:
            d["models"] = [m.to_dict() for m in self.models]
        d["suppression"] = float(self.suppression)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Criteria:
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "models" in kw:
            kw["models"] = tuple(
                m if isinstance(m, PrivacyModel) else model_from_dict(m) for m in kw["models"]
            )
        return cls(**kw)


@functools.lru_cache(maxsize=512)
def _criteria_models(crit: Criteria) -> tuple[PrivacyModel, ...]:
    """The models of ``crit``, built once per distinct criteria (the search asks per node)."""
    return crit._build_models()


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeEvaluation:
    """What one lattice node does to the data (used by tests and the exhaustive baseline)."""

    levels: tuple[int, ...]
    acceptable: bool
    monotone_failure: bool
    score: float | None
    suppressed: int
    classes: int
    min_class_size: int
    average_risk: float
    highest_risk: float


class NodeEvaluator:
    """Per-class privacy checks and node acceptability, mixed into
    :class:`~workbench.deid.search.lattice.SearchContext` (which provides the encoded class table:
    ``classes``, ``_sens``, ``n``, ``qis`` ...)."""

    # -- privacy models per class -------------------------------------------------------------
    def _pairs(
        self, s: _Sens, cid: np.ndarray, ncls: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pc = cid[s.brow]
        key = pc * s.m + s.val
        if ncls * s.m <= 4 * len(key) + (1 << 16):
            dense = np.bincount(key, weights=s.cnt, minlength=ncls * s.m)
            nz = np.flatnonzero(dense)
            return nz // s.m, nz % s.m, dense[nz]
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq // s.m, uniq % s.m, np.bincount(inv.reshape(-1), weights=s.cnt)

    def _sensitive_pairs(self, s: _Sens, cid: np.ndarray, ncls: int) -> SensitivePairs:
        pc, pv, pcnt = self._pairs(s, cid, ncls)
        return SensitivePairs(pc, pv, pcnt, s.p, s.m, s.parents, s.name)

    def class_view(self, cid: np.ndarray, sizes: np.ndarray) -> Classes:
        """The classes of one node as the privacy models see them (sensitive pairs lazily)."""
        n = len(sizes)
        by_name = {s.name: s for s in self._sens}
        pop = res = None
        if self.base_population is not None:
            pop = np.bincount(cid, weights=self.base_population, minlength=n)
        if self.base_research is not None:
            res = np.bincount(cid, weights=self.base_research, minlength=n)
        return Classes.lazy(
            sizes,
            self.n_records,
            self.sensitive,
            lambda name: self._sensitive_pairs(by_name[name], cid, n),
            population=pop,
            research=res,
            population_size=self.population_size,
        )

    def check_inputs(self, criteria: Criteria) -> None:
        """Fail before searching when a model needs a table or size this context lacks."""
        have = {
            "sensitive": ("sensitive", bool(self._sens)),
            "population": ("population_table", self.base_population is not None),
            "research": ("research_subset", self.base_research is not None),
            "population_size": ("population_size", self.population_size is not None),
        }
        for m in criteria.privacy_models():
            for need in sorted(m.needs):
                name, ok = have[need]
                if not ok:
                    raise ParameterError(name, None, f"{name.replace('_', ' ')} for {m.key}")

    def sensitive_ok(
        self, s: _Sens, cid: np.ndarray, sizes: np.ndarray, crit: Criteria
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per-class booleans (l-diversity ok, t-closeness ok) for one sensitive attribute."""
        one = Classes(sizes, self.n_records, {s.name: self._sensitive_pairs(s, cid, len(sizes))})
        l_ok = t_ok = None
        for m in crit.privacy_models():
            if isinstance(m, LDiversity):
                l_ok = m.class_pass(one)
            elif isinstance(m, TCloseness):
                t_ok = m.class_pass(one)
        return l_ok, t_ok

    def _violations(
        self,
        cid: np.ndarray,
        sizes: np.ndarray,
        crit: Criteria,
        limit: int,
        table: Classes | None = None,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """(violating classes, monotone-violating classes, early monotone failure)."""
        table = self.class_view(cid, sizes) if table is None else table
        viol = np.zeros(len(sizes), dtype=bool)
        mono = viol.copy()
        for m in crit.privacy_models():
            ok = m.class_pass(table)
            if ok is None:  # dataset-level model, checked on the released classes
                continue
            viol |= ~ok
            if m.monotone(limit):
                mono |= ~ok
                if int(sizes[mono].sum()) > limit:
                    return viol, mono, True
        return viol, mono, False

    def evaluate(
        self, levels: Sequence[int], criteria: Criteria, metric: str = "loss"
    ) -> NodeEvaluation:
        """Evaluate one node: acceptability, score and released-class statistics."""
        node = tuple(int(v) for v in levels)
        if len(node) != len(self.qis) or any(
            not 0 <= v < h for v, h in zip(node, self.heights, strict=True)
        ):
            raise ParameterError(
                "levels", list(node), f"one level per QI within {self.heights.tolist()}"
            )
        return self._evaluate(
            node, criteria, self._model(metric), criteria.suppression_limit(self.n_records)
        )

    def _evaluate(
        self,
        node: tuple[int, ...],
        crit: Criteria,
        model: Any,
        limit: int,
    ) -> NodeEvaluation:
        # empty (gap) classes are harmless: every model passes them and they release nothing
        cid, sizes = self.classes(node, compact=crit.needs_sensitive)
        table = self.class_view(cid, sizes)
        viol, mono, early = self._violations(cid, sizes, crit, limit, table)
        n_sup = int(sizes[viol].sum())
        released = ~viol & (sizes > 0)
        kept = sizes[released]
        n_kept = self.n_records - n_sup
        avg = len(kept) / n_kept if n_kept else 0.0
        highest = 1.0 / int(kept.min()) if len(kept) else 0.0
        acceptable = (not early) and n_sup <= limit
        mono_fail = early or int(sizes[mono].sum()) > limit
        if acceptable:
            for m in crit.privacy_models():
                if not m.dataset_pass(table, released):
                    acceptable = False
                    mono_fail = mono_fail or m.monotone(limit)
        score = None
        if acceptable:
            sup_rows = viol[cid] if n_sup else None
            score = model.score(node, sup_rows, n_sup, kept, crit.k)
        return NodeEvaluation(
            node,
            acceptable,
            mono_fail,
            score,
            n_sup,
            len(kept),
            int(kept.min()) if len(kept) else 0,
            avg,
            highest,
        )
