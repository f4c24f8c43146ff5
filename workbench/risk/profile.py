"""``assess``: the whole re-identification risk profile of a data set in one call.

The data are scanned once into a :class:`~workbench.risk.classes.ClassTable`; every measure below
is computed from that table in numpy. SUDA and QI-subset uniqueness, which are expensive, are
computed on first access (``profile.suda``, ``profile.subsets``).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from .._cache import cached, read_only
from .._lazy import lazy_module
from ..dataset import Dataset, check_columns
from ..errors import ColumnNotFoundError, ParameterError
from .classes import ClassTable, _check_missing, _check_qis, _collect_columns, build_class_table
from .individual import GlobalRisk, HouseholdRisk, global_risk, household_risk, individual_risk
from .measures import (
    RiskSummary,
    check_threshold,
    class_size_summary,
    journalist_risk,
    marketer_risk,
    prosecutor_risk,
)
from .population import PopulationUniqueness, population_uniqueness

pd = lazy_module("pandas")

__all__ = ["RiskProfile", "PopulationTableMatch", "assess", "profile_from_table"]


@dataclass(frozen=True)
class PopulationTableMatch:
    """How the sample's classes were found in the population table.

    A sample is part of its population, so every sample class should be in the population table
    with at least as many people; classes that are not (``classes_not_found``) or are smaller
    (``classes_below_sample``) get ``Fk = fk``, the smallest size consistent with the sample.
    """

    records: int
    classes: int
    classes_not_found: int
    classes_below_sample: int

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "classes": self.classes,
            "classes_not_found": self.classes_not_found,
            "classes_below_sample": self.classes_below_sample,
        }


@dataclass(frozen=True, eq=False)
class RiskProfile:
    """Re-identification and attribute-disclosure risk of one data set.

    Build it with :func:`assess`. Every number is a function of :attr:`table`; ``to_dict()`` is
    the ``workbench assess --json`` document. Measures cite their definitions in
    :mod:`workbench.risk.measures`, :mod:`~workbench.risk.population`,
    :mod:`~workbench.risk.individual` and :mod:`~workbench.risk.sensitive`.
    """

    qis: tuple[str, ...]
    table: ClassTable
    threshold: float
    missing: str
    records: int
    classes: int
    min_class_size: int
    max_class_size: int
    mean_class_size: float
    sample_uniques: int
    sample_uniqueness: float
    class_size_histogram: Mapping[int, int]
    prosecutor: RiskSummary
    journalist: RiskSummary
    marketer: float
    population: PopulationUniqueness | None
    population_note: str | None
    population_table: PopulationTableMatch | None
    class_risk: np.ndarray = field(repr=False)
    global_risk: GlobalRisk = field(repr=False)
    household: HouseholdRisk | None = None
    household_column: str | None = None
    weights: str | None = None
    sensitive: tuple[str, ...] = ()
    l: int = 2  # noqa: E741 -- the published name
    l_diversity: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    t_closeness: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    delta_disclosure: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    beta_likeness: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    suda_max_size: int | None = None
    dis_fraction: float = 0.01
    _household_record_risk: np.ndarray | None = field(default=None, repr=False)
    # A weak reference to the data (never the data itself: a result must not keep a department's
    # table alive or carry it into pickles and caches); per-record results use it while the
    # caller still holds the data, else :meth:`assign_records` takes the data again.
    _source_ref: Any = field(default=None, repr=False, compare=False)
    _source_name: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"RiskProfile(qis={list(self.qis)}, records={self.records}, "
            f"classes={self.classes}, k={self.min_class_size}, "
            f"highest_risk={self.prosecutor.highest:.4g})"
        )

    # ------------------------------------------------------------------ per record
    @cached_property
    def record_class(self) -> np.ndarray:
        """Class id of every input record, in input order (scans the data if not kept)."""
        if self.table.record_class is not None:
            return self.table.record_class
        source = self.source
        if source is None:
            raise ParameterError(
                "data",
                None,
                "the assessed data: the profile keeps no copy of it; call "
                "profile.assign_records(data) with the same table first",
            )
        return self.table.assign(source, self._source_name)

    @property
    def source(self) -> Any:
        """The assessed data while the caller still holds it (a weak reference), else None."""
        return self._source_ref() if self._source_ref is not None else None

    def assign_records(self, data: Any) -> np.ndarray:
        """Assign the records of ``data`` (the assessed table) to their classes, for per-record
        results (:meth:`per_record`, :attr:`suda`) once the profile's weak reference is gone.

        Only the class id of each record is kept, never the data.
        """
        if "record_class" not in self.__dict__:
            ids = (
                self.table.record_class
                if self.table.record_class is not None
                else self.table.assign(data, self._source_name)
            )
            self.__dict__["record_class"] = ids  # the cached_property's slot
        return self.__dict__["record_class"]

    def class_sizes_per_record(self) -> np.ndarray:
        """``fk`` of every input record, in input order."""
        return self.table.sizes[self.record_class]

    def per_record(self, suda: bool = False) -> pd.DataFrame:
        """One row per input record (input order): ``row`` (1-based), ``fk``, ``Fk``, ``risk``.

        ``household_risk`` is added when a household column was given; ``suda_score`` and
        ``dis_suda`` when ``suda`` is true. No QI values are included.
        """
        ids = self.record_class
        out = {
            "row": np.arange(1, ids.shape[0] + 1, dtype=np.int64),
            "fk": self.table.sizes[ids],
            "Fk": self.table.population_sizes[ids],
            "risk": self.class_risk[ids],
        }
        if self._household_record_risk is not None:
            out["household_risk"] = self._household_record_risk
        if suda:
            result = self.suda
            out["suda_score"] = result.scores
            out["dis_suda"] = result.dis_scores
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ lazy measures
    def _record_codes(self) -> np.ndarray:
        codes = self.table.codes[self.record_class]
        if self.missing == "wildcard":
            codes = codes.copy()
            for j, mc in enumerate(self.table.missing_codes):
                if mc >= 0:
                    codes[codes[:, j] == mc, j] = -1
        return codes

    @cached_property
    def suda(self) -> Any:
        """SUDA2 minimal sample uniques and (DIS-)SUDA scores per record, input order.

        Missing values are an ordinary category, or (``missing="wildcard"``) never part of an
        MSU, as sdcMicro's ``suda2(missing=...)``.
        """
        from .suda import suda2

        return suda2(
            self._record_codes(),
            list(self.qis),
            max_size=self.suda_max_size,
            dis_fraction=self.dis_fraction,
            missing_code=-1 if self.missing == "wildcard" else None,
        )

    @cached_property
    def subsets(self) -> Any:
        """Uniqueness, distinction and separation of every QI subset (Motwani & Xu 2007)."""
        from .subsets import qi_subsets

        codes = np.repeat(self.table.codes, self.table.counts, axis=0)
        return qi_subsets(codes, list(self.qis))

    # ------------------------------------------------------------------ rendering
    def to_dict(self, suda: bool | None = None, subsets: bool | None = None) -> dict:
        """The ``workbench assess --json`` document.

        ``suda`` / ``subsets``: include those blocks (computing them if needed); ``None`` includes
        them only if they were already computed.
        """
        if self.population is not None:
            population = self.population.to_dict()
            if self.population_note:
                population["notes"]["size"] = self.population_note
        else:
            population = {
                "size": None,
                "sampling_fraction": None,
                "pitman": None,
                "zayatz": None,
                "snb": None,
                "dankar": {"model": None, "uniques": None},
                "notes": {"size": self.population_note},
            }
        doc: dict[str, Any] = {
            "qis": list(self.qis),
            "missing": self.missing,
            "weights": self.weights,
            "records": self.records,
            "classes": self.classes,
            "min_class_size": self.min_class_size,
            "max_class_size": self.max_class_size,
            "mean_class_size": self.mean_class_size,
            "sample_uniques": self.sample_uniques,
            "sample_uniqueness": self.sample_uniqueness,
            "class_size_histogram": {str(k): v for k, v in self.class_size_histogram.items()},
            "prosecutor": _risk_dict(self.prosecutor),
            "journalist": _risk_dict(self.journalist),
            "marketer": self.marketer,
            "population": population,
            "population_table": (
                None if self.population_table is None else self.population_table.to_dict()
            ),
            "global_risk": self.global_risk.to_dict(),
            "household_risk": None
            if self.household is None
            else {"column": self.household_column, **self.household.to_dict()},
            "l_diversity": {
                s: {
                    "distinct": r.distinct_l,
                    "entropy": r.entropy_l,
                    "recursive_c": r.recursive_c,
                    "l": r.l,
                    "recursive_reason": r.recursive_reason,
                }
                for s, r in self.l_diversity.items()
            },
            "t_closeness": {s: r.t for s, r in self.t_closeness.items()},
            "delta_disclosure": {s: r.delta for s, r in self.delta_disclosure.items()},
            "beta_likeness": {s: r.beta for s, r in self.beta_likeness.items()},
        }
        if suda or (suda is None and "suda" in self.__dict__):
            doc["suda"] = self.suda.to_dict()
        if subsets or (subsets is None and "subsets" in self.__dict__):
            doc["subsets"] = self.subsets.to_dict(top=20)
        return doc


def _risk_dict(r: RiskSummary) -> dict:
    return r.to_dict()


# ---------------------------------------------------------------------- assess
def assess(
    data: Any,
    qis: Sequence[str],
    sensitive: Sequence[str] = (),
    weights: str | None = None,
    household: str | None = None,
    population_size: float | None = None,
    population_table: Any = None,
    threshold: float = 0.2,
    missing: str = "category",
    l: int = 2,  # noqa: E741
    hierarchies: Mapping[str, Any] | None = None,
    *,
    suda_max_size: int | None = None,
    dis_fraction: float | None = None,
    source: str | None = None,
) -> RiskProfile:
    """Compute the risk profile of ``data`` for the quasi-identifiers ``qis``.

    Parameters
    ----------
    data : Dataset, pandas/polars DataFrame, DuckDB relation, PySpark or narwhals frame
        The records (a sample, or the whole population).
    qis : sequence of str
        Quasi-identifiers: attributes an attacker can know from other sources.
    sensitive : sequence of str
        Sensitive attributes for l-diversity, t-closeness, delta-disclosure and beta-likeness.
    weights : str, optional
        Sampling-weight column; enables the Benedetti-Franconi individual risk.
    household : str, optional
        Household id column; adds household risk ``1 - prod(1 - r_i)``.
    population_size : number, optional
        Size of the population the sample was drawn from, for population-uniqueness estimates.
        Defaults to the population table's size, else the sum of the weights (Horvitz-Thompson),
        else no estimates.
    population_table : frame, Dataset or ClassTable, optional
        The population (one row per person, with the QI columns), for journalist and marketer
        risk against population class sizes.
    threshold : float
        Highest acceptable risk of a single record (records at risk: risk strictly above it).
    missing : {"category", "wildcard"}
        A missing QI value is its own category, or matches any value (sdcMicro). With wildcards
        ``fk`` (and every risk derived from it) counts matching records; the sensitive-attribute
        measures still group identical records, SUDA never lets a missing value be part of an
        MSU, and the population models are not computed (matching is not a partition).
    l : int
        ``l`` for recursive (c,l)-diversity.
    hierarchies : mapping, optional
        Generalization hierarchy rows per attribute; a sensitive attribute with a hierarchy gets
        hierarchical t-closeness (otherwise ordered for numbers, equal distance for categories).
    suda_max_size : int, optional
        Largest MSU size for SUDA (default: all QIs).
    dis_fraction : float, optional
        Sampling fraction for DIS-SUDA; defaults to ``records / population_size`` when known,
        else 0.01 (sdcMicro's default).
    source : str, optional
        File name used in error messages.

    Returns
    -------
    RiskProfile
    """
    qis = _check_qis(qis)
    _check_missing(missing)
    t = check_threshold(threshold)
    if isinstance(sensitive, str):
        sensitive = (sensitive,)
    sensitive = tuple(dict.fromkeys(sensitive))
    if isinstance(l, bool) or not isinstance(l, int | np.integer) or l < 1:
        raise ParameterError("l", l, "an integer >= 1")
    if isinstance(data, Dataset):
        source = source or data.source or data.name
    for name, col in (("weights", weights), ("household", household)):
        if col is not None and col in qis:
            raise ParameterError(name, col, "a column that is not a quasi-identifier")
    needed = [*qis, *sensitive, *(c for c in (weights, household) if c)]
    check_columns(data, list(dict.fromkeys(needed)), source)

    # warm calls on the same dataset reuse its class table (see workbench._cache)
    table = cached(
        data,
        "class_table",
        (qis, weights, sensitive, missing, bool(household)),
        lambda: read_only(
            build_class_table(
                data,
                qis,
                weights=weights,
                sensitive=sensitive,
                missing=missing,
                records=True if household else None,
                source=source,
            )
        ),
    )
    hh_ids = None
    if household:
        hh_ids = _collect_columns(data, [household], source)[household].to_numpy()
    return profile_from_table(
        table,
        threshold=t,
        population_size=population_size,
        population_table=population_table,
        l=l,
        hierarchies=hierarchies,
        suda_max_size=suda_max_size,
        dis_fraction=dis_fraction,
        household=household,
        household_ids=hh_ids,
        source=data,
        source_name=source,
    )


def profile_from_table(
    table: ClassTable,
    *,
    threshold: float = 0.2,
    population_size: float | None = None,
    population_table: Any = None,
    l: int = 2,  # noqa: E741
    hierarchies: Mapping[str, Any] | None = None,
    suda_max_size: int | None = None,
    dis_fraction: float | None = None,
    household: str | None = None,
    household_ids: np.ndarray | None = None,
    source: Any = None,
    source_name: str | None = None,
) -> RiskProfile:
    """The risk profile of an already built (or rolled-up) class table.

    Every measure of :func:`assess` except household risk, which needs ``household_ids`` (one per
    record, in the order of ``table.record_class``). ``source`` is the data the table was built
    from, used only to assign records to classes on demand.
    """
    t = check_threshold(threshold)
    if isinstance(l, bool) or not isinstance(l, int | np.integer) or l < 1:
        raise ParameterError("l", l, "an integer >= 1")
    qis, weights, missing = table.columns, table.weights, table.missing
    sensitive = tuple(table.sensitive)
    summary = class_size_summary(table.sizes, table.counts)
    n = summary.records
    if n == 0:
        raise ParameterError("data", "0 records", "at least one record")

    # Population size and population table.
    match, pop_sizes, pop_records = None, None, None
    if population_table is not None:
        pop_sizes, match, pop_records = _population_sizes(table, population_table, qis)
    note = None
    if population_size is not None:
        N = _check_population_size(population_size, n)
    elif pop_records is not None:
        N, note = pop_records, "size of the population table"
    elif weights is not None:
        total = float(table.weight_sums.sum())
        N, note = (total if total >= n else None), "estimated as the sum of the sampling weights"
        if N is None:
            note = "sum of the weights is below the number of records; no population size"
    else:
        N, note = None, "no population size given"

    # Re-identification risk.
    prosecutor = prosecutor_risk(table.sizes, table.counts, t)
    if pop_sizes is None:
        journalist = journalist_risk(table.sizes, table.sizes, table.counts, t)
        marketer = marketer_risk(table.sizes, table.counts)
    else:
        journalist = journalist_risk(table.sizes, pop_sizes, table.counts, t)
        marketer = marketer_risk(pop_sizes, table.counts)
    population = None
    if N is not None:
        if missing == "wildcard" and any(m >= 0 for m in table.missing_codes):
            note = (
                "wildcard matching of missing values does not partition the sample; the "
                "population models need a partition"
            )
        else:
            population = population_uniqueness(table.sizes, N)
    class_risk = individual_risk(table.sizes, table.population_sizes if weights else None)
    glob = global_risk(class_risk, table.counts, weighted=weights is not None)

    hh, hh_record = None, None
    if household is not None:
        if household_ids is None or table.record_class is None:
            raise ParameterError(
                "household_ids", None, "one household id per record and a table with record ids"
            )
        hh_record, hh = household_risk(class_risk[table.record_class], household_ids)

    ldiv, tclose, delta, beta = _sensitive_measures(table, sensitive, l, hierarchies)
    if dis_fraction is None:
        dis_fraction = min(1.0, n / N) if N else 0.01
    return RiskProfile(
        qis=qis,
        table=table,
        threshold=t,
        missing=missing,
        records=n,
        classes=summary.classes,
        min_class_size=summary.min_class_size,
        max_class_size=summary.max_class_size,
        mean_class_size=summary.mean_class_size,
        sample_uniques=summary.sample_uniques,
        sample_uniqueness=summary.sample_uniqueness,
        class_size_histogram=summary.histogram,
        prosecutor=prosecutor,
        journalist=journalist,
        marketer=marketer,
        population=population,
        population_note=note,
        population_table=match,
        class_risk=class_risk,
        global_risk=glob,
        household=hh,
        household_column=household,
        weights=weights,
        sensitive=sensitive,
        l=int(l),
        l_diversity=MappingProxyType(ldiv),
        t_closeness=MappingProxyType(tclose),
        delta_disclosure=MappingProxyType(delta),
        beta_likeness=MappingProxyType(beta),
        suda_max_size=suda_max_size,
        dis_fraction=float(dis_fraction),
        _household_record_risk=hh_record,
        _source_ref=_weak(source),
        _source_name=source_name,
    )


def _weak(data: Any) -> Any:
    """A weak reference to ``data`` (None when the object does not allow one)."""
    if data is None:
        return None
    try:
        return weakref.ref(data)
    except TypeError:
        return None


def _check_population_size(value: Any, n: int) -> float:
    try:
        N = float(value)
    except (TypeError, ValueError):
        raise ParameterError("population_size", value, "a number of people") from None
    if not math.isfinite(N) or N < n:
        raise ParameterError(
            "population_size", value, f"at least the number of records in the sample ({n})"
        )
    return N


def _population_sizes(
    table: ClassTable, population: Any, qis: tuple[str, ...]
) -> tuple[np.ndarray, PopulationTableMatch, int]:
    if isinstance(population, ClassTable):
        pop_table = population
    else:
        try:
            check_columns(population, list(qis), "population table")
        except ColumnNotFoundError as exc:
            src = population.source if isinstance(population, Dataset) else None
            raise ColumnNotFoundError(
                exc.column, exc.available, f"population table {src}" if src else "population table"
            ) from None
        pop_table = build_class_table(population, qis, records=False)
    found = table.lookup(pop_table)
    n_not_found = int((found == 0).sum())
    below = int(((found > 0) & (found < table.counts)).sum())
    sizes = np.maximum(found, table.counts).astype(np.float64)
    match = PopulationTableMatch(
        records=pop_table.n_records,
        classes=pop_table.n_classes,
        classes_not_found=n_not_found,
        classes_below_sample=below,
    )
    return sizes, match, pop_table.n_records


def _sensitive_measures(
    table: ClassTable,
    sensitive: tuple[str, ...],
    l: int,  # noqa: E741
    hierarchies: Mapping[str, Any] | None,
):
    if not sensitive:
        return {}, {}, {}, {}
    from .sensitive import beta_likeness, delta_disclosure, l_diversity, t_closeness

    ldiv, tclose, delta, beta = {}, {}, {}, {}
    for s in sensitive:
        st = table.sensitive[s]
        class_ids, codes = st.expand()
        k = table.n_classes
        ldiv[s] = l_diversity(class_ids, codes, k, l=l)
        hierarchy = (hierarchies or {}).get(s)
        if hierarchy is not None:
            values = np.asarray(
                [str(v) if v is not None else "" for v in st.dictionary], dtype=object
            )[codes]
            tclose[s] = t_closeness(class_ids, values, k, kind="hierarchical", hierarchy=hierarchy)
        elif (
            all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool)
                for v in st.dictionary
                if v is not None
            )
            and st.dictionary
        ):
            tclose[s] = t_closeness(class_ids, codes, k, kind="ordered")
        else:
            tclose[s] = t_closeness(class_ids, codes, k, kind="equal")
        delta[s] = delta_disclosure(class_ids, codes, k)
        beta[s] = beta_likeness(class_ids, codes, k)
    return ldiv, tclose, delta, beta
