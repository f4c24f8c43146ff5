"""The privacy-model protocol and its registry.

A privacy model says, for one transformation of the data, which equivalence classes may be
released (a per-class pass mask on the class table), or whether the released table as a whole is
acceptable (a dataset-level check, for models such as average risk or population uniqueness).
It also says when a failure may prune the search (monotonicity with and without record
suppression, Kohlmayer et al. 2012 "Flash"), how it appears in a policy (key and threshold
direction), and how it is described in plain words.

Models register themselves by subclassing :class:`PrivacyModel` with a ``key`` (as transforms do
in :mod:`workbench.deid.transforms`); the lattice search, Mondrian, the gate, policy
harmonization and the report loop over :data:`MODELS` instead of naming each model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError

__all__ = [
    "Classes",
    "SensitivePairs",
    "PrivacyModel",
    "MODELS",
    "model_from_dict",
    "models_for_policy",
]

#: key -> model class, filled by :meth:`PrivacyModel.__init_subclass__`.
MODELS: dict[str, type[PrivacyModel]] = {}

TOL = 1e-12  # a class exactly at a limit passes despite floating-point rounding


@dataclass(frozen=True, eq=False)
class SensitivePairs:
    """One sensitive attribute on the class table, as (class, value, count) triples.

    ``pc`` (sorted), ``pv`` and ``cnt`` list every class/value pair with a positive count; ``p``
    is the attribute's distribution over its ``m`` values in the whole table; ``parents`` are the
    level-by-level parent maps of a value hierarchy (hierarchical t-closeness), if any.
    """

    pc: np.ndarray
    pv: np.ndarray
    cnt: np.ndarray
    p: np.ndarray
    m: int
    parents: tuple[np.ndarray, ...] = ()
    name: str = ""


class _Lazy(Mapping):
    """A read-only mapping whose values are computed on first access (sensitive pairs)."""

    def __init__(self, keys: tuple[str, ...], make: Callable[[str], SensitivePairs]) -> None:
        self._keys, self._make, self._done = keys, make, {}

    def __getitem__(self, key: str) -> SensitivePairs:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._done:
            self._done[key] = self._make(key)
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True, eq=False)
class Classes:
    """The equivalence classes of one transformation, as the privacy models see them.

    Attributes
    ----------
    sizes : numpy.ndarray
        Records per class (``f_k``); classes of size 0 may appear and pass every model.
    n_records : int
        Records of the input table (suppressed ones included): the denominator of shares.
    sensitive : Mapping[str, SensitivePairs]
        Sensitive attributes on the class table (computed lazily by the search).
    population : numpy.ndarray or None
        Population frequency ``F_k`` of each class, from a population table (k-map).
    research : numpy.ndarray or None
        Records of each class that belong to the research subset (delta-presence).
    population_size : float or None
        Size of the population the data was drawn from (estimated k-map, population
        uniqueness).
    """

    sizes: np.ndarray
    n_records: int
    sensitive: Mapping[str, SensitivePairs] = field(default_factory=lambda: MappingProxyType({}))
    population: np.ndarray | None = None
    research: np.ndarray | None = None
    population_size: float | None = None

    @property
    def n_classes(self) -> int:
        return int(len(self.sizes))

    @property
    def empty(self) -> np.ndarray:
        return self.sizes == 0

    @classmethod
    def lazy(
        cls,
        sizes: np.ndarray,
        n_records: int,
        sensitive: tuple[str, ...],
        make: Callable[[str], SensitivePairs],
        **kw: Any,
    ) -> Classes:
        return cls(sizes, n_records, _Lazy(sensitive, make), **kw)

    def attributes(self, attribute: str | None) -> list[SensitivePairs]:
        """The sensitive attribute named ``attribute``, or all of them (``None``)."""
        if not self.sensitive:
            raise ParameterError(
                "sensitive", [], "at least one sensitive attribute for this privacy model"
            )
        if attribute is None:
            return [self.sensitive[a] for a in self.sensitive]
        if attribute not in self.sensitive:
            raise ParameterError(
                "attribute", attribute, f"one of the sensitive attributes {list(self.sensitive)}"
            )
        return [self.sensitive[attribute]]


class PrivacyModel:
    """Base class of the privacy models (subclasses are frozen dataclasses with a ``key``).

    Class attributes
    ----------------
    key : str
        Registry name (``"k_map"``).
    policy_key : str or None
        Threshold name in a policy (``"min_k_map"``), if policies can require the model.
    direction : {"min", "max"}
        ``"min"``: the measured value must be at least the limit; ``"max"``: at most.
    monotone_with_suppression, monotone_without_suppression : bool
        Whether a failing transformation lets the search prune its specializations when record
        suppression is allowed / not allowed.
    needs : frozenset of str
        Inputs beyond class sizes: ``"sensitive"``, ``"population"``, ``"research"``.
    reference : str
        The published definition.
    tolerance : float
        Slack when comparing a measured value with its limit: ``TOL`` for measures summed in
        floating point (entropy, distances), 0 for measures that are one exact ratio of counts
        (classes / records, 1 / size): there a value one bit past the limit must fail, not pass
        (a check that fails closed).
    """

    tolerance: ClassVar[float] = TOL

    key: ClassVar[str] = ""
    policy_key: ClassVar[str | None] = None
    direction: ClassVar[str] = "min"
    monotone_with_suppression: ClassVar[bool] = False
    monotone_without_suppression: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset()
    reference: ClassVar[str] = ""
    title: ClassVar[str] = ""  # the policy threshold in plain words ("minimum k")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("key"):
            MODELS[cls.key] = cls

    # -- checks ------------------------------------------------------------------------------
    def class_pass(self, classes: Classes) -> np.ndarray | None:
        """Per-class booleans (``None`` for a dataset-level model). Empty classes pass."""
        return None

    def dataset_pass(self, classes: Classes, released: np.ndarray) -> bool:
        """Whether the released classes (``released`` mask) are acceptable as a whole."""
        return True

    def measure(self, classes: Classes, released: np.ndarray) -> float | None:
        """The dataset value compared with :attr:`limit` (smallest or largest over classes)."""
        return None

    @property
    def limit(self) -> Any:
        """The threshold of the model, as a policy writes it."""
        raise NotImplementedError

    @property
    def dataset_level(self) -> bool:
        """True for models that judge the released table as a whole (no per-class mask)."""
        return type(self).class_pass is PrivacyModel.class_pass

    @property
    def policy_limit(self) -> Any:
        """The limit as the gate reports it (the policy's value for this model)."""
        return self.limit

    def monotone(self, suppression_limit: int) -> bool:
        """May a failure prune the specializations of a transformation?"""
        if suppression_limit > 0:
            return self.monotone_with_suppression
        return self.monotone_without_suppression

    def satisfied_by(self, value: float | None) -> bool:
        """Whether a measured value meets the limit (in :attr:`direction`)."""
        if value is None:
            return False
        lim = float(self.limit)
        tol = self.tolerance
        return value >= lim - tol if self.direction == "min" else value <= lim + tol

    # -- words and documents -----------------------------------------------------------------
    def describe(self) -> str:
        """One plain-words sentence."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.key}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is not None and not f.name.startswith("_"):
                out[f.name] = v
        return out

    @classmethod
    def from_policy(cls, value: Any) -> list[PrivacyModel]:
        """Models a policy threshold value asks for (one per attribute for per-column ones)."""
        return [cls(value)]  # type: ignore[call-arg]

    #: JSON schema of the policy value (None: not a policy threshold).
    policy_schema: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def combine_policy(cls, values: list[Any]) -> Any:
        """The most protective of several policies' values (policy harmonization).

        ``min`` models take the largest limit, ``max`` models the smallest; per-attribute
        mappings combine attribute by attribute.
        """
        pick = max if cls.direction == "min" else min
        if values and all(isinstance(v, Mapping) for v in values):
            out: dict[str, Any] = {}
            for v in values:
                for attr, x in v.items():
                    out[attr] = x if attr not in out else pick(out[attr], x)
            return out
        return pick(values)

    def explain(self, measured: Any, ok: bool, context: str) -> str:
        """Plain-words finding for the gate (``context`` names the quasi-identifiers)."""
        if ok:
            return f"Met: {self.describe()} (measured {_fmt(measured)})."
        return (
            f"Not met: the policy requires that {self.describe()}, but the data measures "
            f"{_fmt(measured)} on {context}. Generalize the quasi-identifiers (larger groups) or "
            "suppress the groups that fail ('workbench anonymize') before release."
        )


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, tuple):
        return " to ".join(_fmt(v) for v in x)
    return str(x)


def model_from_dict(d: Mapping[str, Any]) -> PrivacyModel:
    """Rebuild a model from :meth:`PrivacyModel.to_dict`."""
    key = d.get("model")
    cls = MODELS.get(str(key))
    if cls is None:
        raise ParameterError("model", key, f"one of {', '.join(sorted(MODELS))}")
    return cls(**{k: v for k, v in d.items() if k != "model"})


def models_for_policy(thresholds: Mapping[str, Any]) -> list[PrivacyModel]:
    """The registered models a policy's ``thresholds`` block asks for, in registry order."""
    out: list[PrivacyModel] = []
    for cls in MODELS.values():
        if cls.policy_key and thresholds.get(cls.policy_key) is not None:
            out.extend(cls.from_policy(thresholds[cls.policy_key]))
    return out
