"""``dp_release`` and ``dp_accuracy``: the one path the CLI, the notebook and Python share.

Order of a release (why): the spec is validated, the data's columns checked and the exact
aggregates computed (no noise yet); then the ledger checks and charges atomically; only then does
OpenDP draw noise. A refused release has drawn no noise, written nothing and left the ledger as it
was. Provenance records the parameters and the ledger entry, never a noisy or exact value.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, ParameterError
from .accuracy import AccuracyReport, accuracy_report
from .ledger import Budget, Ledger
from .release import (
    DPRelease,
    ReleaseSpec,
    bound_and_aggregate,
    plan_release,
    run_release,
)

__all__ = [
    "Sources",
    "resolve_sources",
    "dp_release",
    "dp_accuracy",
    "make_spec",
    "exposure_from_bundle",
]

DEMO_KEY_NOTE = (
    "the sample city's files carry no person key: a per-run demo key was attached in memory from "
    "the ground truth (export with `workbench samples export NAME --pseudonym` for real use)"
)


@dataclass(frozen=True)
class Sources:
    """The data of a release and what the catalog says about it."""

    data: Any  # DataFrame, DuckDB relation, Spark DataFrame or Dataset
    names: tuple[str, ...]
    departments: tuple[str, ...]
    population: str | None
    budget: Budget | None  # harmonized from the policies' dp_budget
    budget_source: str
    keys: Mapping[str, tuple[str, ...]]  # public keys declared in the catalog
    direct_identifiers: tuple[str, ...]
    inputs: tuple[Any, ...]
    notes: tuple[str, ...] = ()


def _catalog_keys(entry: Any) -> dict[str, tuple[str, ...]]:
    """Public keys declared for a catalog dataset.

    From the catalog (``codes`` mappings, ``order`` lists, ``dp_keys``) and, taking precedence,
    the dataset's policy (``dp_public_keys``).
    """
    meta = entry.metadata or {}
    out: dict[str, tuple[str, ...]] = {}
    for col, codes in (meta.get("codes") or {}).items():
        if isinstance(codes, Mapping):
            out[str(col)] = tuple(str(k) for k in codes)
    for col, order in (meta.get("order") or {}).items():
        if isinstance(order, list):
            out[str(col)] = tuple(str(v) for v in order)
    for col, keys in (entry.extra.get("dp_keys") or {}).items():
        if isinstance(keys, list):
            out[str(col)] = tuple(str(v) for v in keys)
    if entry.policy is not None:
        from ..governance.policy import Policy

        declared = Policy.load(entry.policy).dp_public_keys or {}
        out.update({str(c): tuple(v) for c, v in declared.items()})
    return out


def resolve_sources(
    data: Any,
    *,
    privacy_unit: str,
    catalog: Any = None,
    population: str | None = None,
    policies: Sequence[str | os.PathLike] = (),
    engine: str = "duckdb",
) -> Sources:
    """Find the data, its population, its budget and its public keys.

    ``data`` is a catalog dataset name or a ``a+b`` combination (with ``catalog``), a file path,
    a Dataset, a pandas DataFrame, or (``engine="spark"``) a Spark DataFrame.
    """
    from ..dataset import Dataset
    from ..governance.harmonize import harmonize
    from ..governance.policy import Policy

    if catalog is not None and isinstance(data, str) and not Path(data).is_file():
        return _catalog_sources(data, catalog, privacy_unit, population)
    names: tuple[str, ...] = ()
    inputs: tuple[Any, ...] = ()
    if engine == "spark":
        frame = data
        names = ("spark",)
    elif isinstance(data, str | os.PathLike):
        from ..loading.readers import load

        ds = load(data)
        frame, names, inputs = ds, (ds.name,), (str(data),)
    elif isinstance(data, Dataset):
        frame, names = data, (data.name,)
        inputs = (data,)
    elif isinstance(data, pd.DataFrame):
        frame, names, inputs = data, ("data",), (data,)
    elif hasattr(data, "aggregate") and hasattr(data, "columns"):  # a DuckDB relation
        frame, names = data, ("relation",)
    else:
        raise ParameterError(
            "data", type(data).__name__, "a file, Dataset, DataFrame or catalog dataset name"
        )
    pols = [Policy.load(p) for p in policies]
    budget, source = None, ""
    if pols:
        eff = harmonize(pols).policy
        if eff.dp_budget is not None:
            budget = Budget.from_dict(eff.dp_budget)
            source = "dp_budget of policies " + ", ".join(p.name for p in pols)
    return Sources(frame, names, (), population, budget, source, {}, (), inputs)


def _catalog_sources(
    target: str, catalog: Any, privacy_unit: str, population: str | None
) -> Sources:
    from ..governance.catalog_policies import combination_policy, open_catalog, split_target
    from ..linkage.combine import attach_demo_key

    cat = open_catalog(catalog)
    names = split_target(target)
    entries = [cat.entry(n) for n in names]
    pops = {str(e.extra.get("population") or "") for e in entries}
    if "" in pops:
        missing = [e.name for e in entries if not e.extra.get("population")]
        raise ConfigError(
            f"catalog dataset(s) {', '.join(missing)} declare no population; add "
            "'population: NAME' to the catalog entry (a population in the catalog's 'populations')"
        )
    if len(pops) > 1:
        raise ConfigError(
            f"datasets {', '.join(names)} belong to different populations ({', '.join(sorted(pops))}); "
            "a release is about one population"
        )
    pop = pops.pop()
    declared = cat.extra.get("populations") or {}
    if declared and pop not in declared:
        raise ConfigError(f"population {pop!r} is not listed in the catalog's 'populations'")
    if population is not None and population != pop:
        raise ParameterError("population", population, f"{pop!r} (the catalog's population)")
    if len(names) > 1 and privacy_unit == "row":
        raise ParameterError("privacy_unit", "row", "the person key the departments are joined on")
    frames = []
    notes: list[str] = []
    for e in entries:
        df = cat.load_dataset(e.name).to_pandas()
        if privacy_unit != "row" and privacy_unit not in df.columns:
            df = attach_demo_key(cat, e.name, df, privacy_unit)
            if DEMO_KEY_NOTE not in notes:
                notes.append(DEMO_KEY_NOTE)
        frames.append((e.name, df))
    frame = frames[0][1]
    for name, df in frames[1:]:
        frame = frame.merge(df, on=privacy_unit, how="inner", suffixes=("", f"_{name}"))
    if len(names) > 1:
        notes.append(
            f"{' + '.join(names)} joined on {privacy_unit!r} (inner join); the contribution bound "
            "applies to the joined rows"
        )
    budget, source = None, ""
    if all(e.policy is not None for e in entries):
        eff = combination_policy(cat, names).policy
        if eff.dp_budget is not None:
            budget = Budget.from_dict(eff.dp_budget)
            source = "dp_budget of policies " + ", ".join(sorted(names)) + " (smallest)"
    keys: dict[str, tuple[str, ...]] = {}
    for e in entries:
        keys.update(_catalog_keys(e))
    direct = tuple(c for e in entries for c in e.direct_identifiers)
    return Sources(
        frame,
        tuple(names),
        tuple(e.department or "" for e in entries),
        pop,
        budget,
        source,
        keys,
        direct,
        tuple(str(e.file) for e in entries),
        tuple(notes),
    )


def make_spec(
    *,
    privacy_unit: str,
    max_contributions: int,
    epsilon: float,
    delta: float = 0.0,
    count: bool = False,
    by: Iterable[str] = (),
    sums: Iterable[str] = (),
    means: Iterable[str] = (),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    quantiles: Iterable[tuple[str, float]] | Mapping[str, float] = (),
    keys: Mapping[str, Iterable[str]] | None = None,
    select_keys: bool = False,
    noise: str = "laplace",
    quantile_grid: int = 101,
    catalog_keys: Mapping[str, tuple[str, ...]] | None = None,
    direct_identifiers: Iterable[str] = (),
) -> ReleaseSpec:
    """Build a :class:`ReleaseSpec`; group keys default to the catalog's declared ones."""
    by = tuple(by)
    if privacy_unit in by:
        raise ParameterError("by", privacy_unit, "group-by columns other than the privacy unit")
    direct = set(direct_identifiers)
    for col in by:
        if col in direct:
            raise ParameterError("by", col, "a column that is not a direct identifier")
    given = {k: tuple(v) for k, v in (keys or {}).items()}
    merged = {c: given.get(c) or (catalog_keys or {}).get(c) for c in by}
    merged = {c: v for c, v in merged.items() if v}
    if isinstance(quantiles, Mapping):
        quantiles = tuple(quantiles.items())
    return ReleaseSpec(
        privacy_unit=privacy_unit,
        max_contributions=max_contributions,
        epsilon=epsilon,
        delta=delta,
        count=count,
        by=by,
        sums=tuple(sums),
        means=tuple(means),
        bounds=dict(bounds or {}),
        quantiles=tuple(quantiles),
        keys=merged,
        select_keys=select_keys,
        noise=noise,
        quantile_grid=quantile_grid,
    )


def dp_accuracy(data: Any = None, *, catalog: Any = None, **spec_args: Any) -> AccuracyReport:
    """Accuracy of a release at its epsilon; reads no data and spends nothing.

    ``data``/``catalog`` are only used to find the catalog's public keys; pass the same keyword
    arguments as :func:`dp_release` (``ledger`` and outputs are ignored).
    """
    for ignored in (
        "ledger",
        "population",
        "budget",
        "policies",
        "output",
        "bundle",
        "engine",
        "record",
        "user",
    ):
        spec_args.pop(ignored, None)
    catalog_keys: Mapping[str, tuple[str, ...]] = {}
    direct: tuple[str, ...] = ()
    if catalog is not None and isinstance(data, str) and not Path(data).is_file():
        from ..governance.catalog_policies import open_catalog, split_target

        cat = open_catalog(catalog)
        for n in split_target(data):
            e = cat.entry(n)
            catalog_keys = {**catalog_keys, **_catalog_keys(e)}
            direct = (*direct, *e.direct_identifiers)
    spec = make_spec(catalog_keys=catalog_keys, direct_identifiers=direct, **spec_args)
    return accuracy_report(spec)


def dp_release(
    data: Any,
    *,
    ledger: str | os.PathLike | Ledger,
    catalog: Any = None,
    population: str | None = None,
    budget: Budget | str | None = None,
    policies: Sequence[str | os.PathLike] = (),
    engine: str = "duckdb",
    output: str | os.PathLike | None = None,
    bundle: str | os.PathLike | None = None,
    record: bool = True,
    user: str | None = None,
    **spec_args: Any,
) -> DPRelease:
    """Release differentially private statistics and charge the population's ledger.

    Parameters
    ----------
    data
        Catalog dataset name or ``a+b`` (with ``catalog``), file, Dataset, DataFrame, or a Spark
        DataFrame with ``engine="spark"``.
    ledger : path or Ledger
        The population's ledger; created on first use with the policies' budget or ``budget``.
    population : str, optional
        The population when the data is not from a catalog (else the catalog's).
    budget : Budget or "EPSILON[,DELTA]", optional
        For a new ledger when the data has no policy budget; on an existing ledger only a lower
        budget is accepted.
    policies : paths, optional
        Policy files of the data (outside a catalog); their ``dp_budget`` is harmonized.
    **spec_args
        ``privacy_unit``, ``max_contributions``, ``epsilon``, ``delta``, ``count``, ``by``,
        ``sums``, ``means``, ``bounds``, ``quantiles``, ``keys``, ``select_keys``, ``noise``.

    Raises
    ------
    BudgetExceededError
        Before any noise is drawn, when the release would exceed the budget.
    """
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    if isinstance(budget, str):
        budget = Budget.parse(budget)
    src = resolve_sources(
        data,
        privacy_unit=spec_args.get("privacy_unit", ""),
        catalog=catalog,
        population=population,
        policies=policies,
        engine=engine,
    )
    spec = make_spec(catalog_keys=src.keys, direct_identifiers=src.direct_identifiers, **spec_args)
    pop = src.population
    if pop is None:
        if led.exists():
            pop = led.state().population
        else:
            raise ParameterError(
                "population", None, "the population the data's people belong to (e.g. residents)"
            )
    plan = plan_release(spec)
    where = "+".join(src.names)
    agg, values = bound_and_aggregate(spec, src.data, engine=engine, where=where)
    new_budget = src.budget
    source = src.budget_source
    explicit = False
    if budget is not None:
        explicit = True
        new_budget = budget if new_budget is None else budget.min(new_budget)
        source = source or "--budget"
    entry, state = led.charge(
        plan.charge,
        population=pop,
        budget=new_budget,
        budget_source=source,
        explicit_budget=explicit,
        datasets=src.names,
        departments=[d for d in src.departments if d],
        description=_describe(spec),
        release=_release_parameters(spec, plan),
        inputs=[i for i in src.inputs if isinstance(i, str)],
        user=user,
    )
    stats, key_source = run_release(plan, agg, values)
    ledger_info = {
        "path": str(led.path),
        "population": pop,
        "entry": entry.seq,
        "entry_hash": entry.hash,
        "epsilon_spent_total": state.spent.epsilon,
        "bound": state.spent.bound,
        "budget": {
            **state.budget.to_dict(),
            "remaining_epsilon": state.remaining_epsilon,
        },
        "accounting": "approximate zCDP (see `workbench dp ledger`)",
    }
    result = DPRelease(plan, tuple(stats), key_source, src.names, ledger_info, src.notes)
    outputs: list[str] = []
    if output is not None:
        from .._io import write_table

        # the one table writer: group labels are text from the data, so formulas are escaped
        write_table(output, result.to_frame(), sources=_paths(src.inputs))
        outputs.append(str(output))
    if bundle is not None:
        from .._io import ensure_not_source
        from ..review.bundle import AssessmentBundle

        # an assessment bundle with a DP section: `workbench report` and the dashboard draw the
        # error bars and the ledger (aggregates only, leak-checked like every bundle)
        ensure_not_source(bundle, _paths(src.inputs))
        AssessmentBundle.build(
            f"Differential-privacy release: {', '.join(src.names)}",
            dp={"release": result.to_dict(), "ledger": state.to_dict()},
        ).save(bundle)
        outputs.append(str(bundle))
    if record:
        from ..governance.provenance import record_operation

        record_operation(
            "dp-release",
            inputs=[i for i in src.inputs if isinstance(i, str)],
            outputs=outputs,
            parameters={
                "release": _release_parameters(spec, plan),
                "epsilon": plan.charge.epsilon,
                "rho": plan.charge.rho,
                "ledger": {
                    k: ledger_info[k] for k in ("path", "population", "entry", "entry_hash")
                },
            },
            user=user,
            # no recipe: replaying a DP release would spend the budget again
        )
    return result


def _paths(inputs: Iterable[Any]) -> list[str]:
    return [i for i in inputs if isinstance(i, str)]


def _describe(spec: ReleaseSpec) -> str:
    what = []
    if spec.count:
        what.append("count")
    what += [f"sum({c})" for c in spec.sums] + [f"mean({c})" for c in spec.means]
    what += [f"quantile({c}, {q:g})" for c, q in spec.quantiles]
    by = f" by {', '.join(spec.by)}" if spec.by else ""
    return f"{', '.join(what)}{by}"


def _release_parameters(spec: ReleaseSpec, plan: Any) -> dict[str, Any]:
    return {
        **spec.to_dict(),
        "mechanism": plan.mechanism,
        "noise_scale": {p.name: p.scale for p in plan.parts},
        "charge": plan.charge.to_dict(),
    }


def exposure_from_bundle(bundle: Any) -> dict[str, Any]:
    """The non-DP release an assessment bundle describes, as a ledger exposure.

    Risk figures are the bundle's aggregates after transformation (else before): smallest class,
    sample uniqueness, prosecutor risks and records at risk, and for a linkage the expected
    re-identifications. Returns keyword arguments for :meth:`Ledger.record_exposure`.
    """
    from ..review.bundle import AssessmentBundle

    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.load(bundle)
    risk = b.risk_after or b.risk_before or {}
    pros = risk.get("prosecutor") or {}
    figures: dict[str, Any] = {
        "records": risk.get("records"),
        "k": risk.get("min_class_size"),
        "sample_uniqueness": risk.get("sample_uniqueness"),
        "highest_risk": pros.get("highest"),
        "average_risk": pros.get("average"),
        "records_at_risk": pros.get("records_at_risk"),
    }
    if b.linkage:
        figures["expected_reidentifications"] = b.linkage.get("expected_reidentifications")
    figures = {k: v for k, v in figures.items() if isinstance(v, int | float)}
    if b.linkage and not b.transformation:
        kind = "linkage result"
    elif b.transformation:
        kind = "de-identified extract"
        if isinstance(figures.get("k"), int | float):
            kind = f"{int(figures['k'])}-anonymous extract"
    else:
        kind = "assessed extract"
    return {
        "kind": kind,
        "name": b.title,
        "risk": figures,
        "datasets": [str(d.get("name", "")) for d in b.datasets],
        "departments": [str(d.get("department") or "") for d in b.datasets if d.get("department")],
    }
