"""Assemble assessment bundles from core results: the last step of the visible flow.

Dataset -> roles -> risk profile -> transforms -> comparison -> **bundle** (report, dashboard) and
provenance. The CLI (``--bundle``), the notebooks and the sample dashboard all call these, so a
bundle always has the same shape and always passes the leak guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._lazy import lazy_module
from ..dataset import Dataset, as_pandas
from .bundle import AssessmentBundle, category_shares, identifier_values

pd = lazy_module("pandas")

__all__ = [
    "released_rows",
    "direct_identifier_columns",
    "assessment_bundle",
    "anonymization_bundle",
    "save_bundle",
    "risk_options",
    "summary_roles",
    "generalization_loss",
    "governance_sections",
]


def released_rows(table: pd.DataFrame, qis: Sequence[str]) -> pd.DataFrame:
    """Rows that survive release: suppressed records (every QI shown as ``*``) are dropped.

    ARX excludes suppressed records from class statistics; so do the "after" risk figures.
    """
    if not len(table):
        return table
    suppressed = (table[list(qis)].astype("string") == "*").all(axis=1)
    return table[~suppressed.to_numpy()]


def direct_identifier_columns(dataset: Any, roles: Any = None) -> list[str]:
    """The direct identifiers whose values a bundle must never hold: the one rule releases and
    the gate use (:func:`workbench.profiling.roles.find_direct_identifiers`)."""
    from ..profiling.roles import find_direct_identifiers

    ds = dataset if isinstance(dataset, Dataset) else Dataset.from_frame(as_pandas(dataset))
    return [d.column for d in find_direct_identifiers(ds, roles)]


def _distributions(
    before: pd.DataFrame, after: pd.DataFrame | None, columns: Iterable[str]
) -> dict[str, Any]:
    out = {}
    for col in columns:
        if col in before.columns:
            out[col] = {
                "before": category_shares(before, col, min_count=10),
                "after": (
                    category_shares(after, col, min_count=10)
                    if after is not None and col in after.columns
                    else {}
                ),
            }
    return out


def _policies(policies: Sequence[Any]) -> list[Any]:
    from ..governance import Policy

    return [p if isinstance(p, Policy) else Policy.load(p) for p in policies]


def risk_options(
    policies: Sequence[Any],
    columns: Iterable[str],
    sensitive: Sequence[str] = (),
    threshold: float | None = None,
) -> tuple[float, list[str]]:
    """(risk threshold, sensitive attributes) to assess with, so the gate can judge the profile.

    The records-at-risk threshold is the policy's (default 0.2 without one); the sensitive
    attributes gain every attribute the policy sets a minimum l for that the data has. A
    ``threshold`` that contradicts the policy is refused: the review would show two different
    "records at risk" figures.
    """
    sens = list(sensitive)
    thr = 0.2 if threshold is None else float(threshold)
    if not policies:  # without a policy, policies (YAML, schema, models) are not even imported
        return thr, sens
    from ..errors import ParameterError
    from ..governance import harmonize

    pols = _policies(policies)
    th = harmonize(pols).policy.thresholds
    rar = th.max_records_at_risk
    if rar is not None:
        if threshold is not None and float(threshold) != float(rar.threshold):
            raise ParameterError(
                "threshold",
                threshold,
                f"the policy's records-at-risk threshold {rar.threshold} (or no --threshold)",
            )
        thr = float(rar.threshold)
    cols = list(columns)
    for attr in th.min_l:
        if attr in cols and attr not in sens and not any(c.endswith(f".{attr}") for c in sens):
            sens.append(attr)
    return thr, sens


def summary_roles(
    dataset: Dataset, qis: Sequence[str], sensitive: Sequence[str], roles: Any
) -> Any:
    """The role map a bundle shows: the QIs and sensitive attributes actually assessed.

    Without a role map the direct identifiers are the suggested ones (the same the leak guard
    uses), so the datasets table never shows empty roles.
    """
    from ..profiling.roles import Role, RoleMap

    if roles is None:
        roles = RoleMap.from_columns(
            dataset.columns, direct_identifiers=direct_identifier_columns(dataset, None)
        )
    over = {q: Role.QUASI_IDENTIFIER for q in qis if q in roles}
    over.update({c: Role.SENSITIVE for c in sensitive if c in roles and c not in over})
    return roles.with_roles(over) if over else roles


def assessment_bundle(
    dataset: Dataset,
    profile: Any,
    *,
    roles: Any = None,
    title: str | None = None,
    rationale: str = "",
    author: str | None = None,
    policies: Sequence[Any] = (),
    gate_options: Mapping[str, Any] | None = None,
    **sections: Any,
) -> AssessmentBundle:
    """A bundle for a risk assessment without transformation.

    With ``policies`` the privacy gate judges ``profile`` itself (it must have been assessed
    with :func:`risk_options`), so the gate table and the risk table show the same figures.
    ``gate_options`` go to :func:`governance_sections` (log, gate_log, user, record).
    """
    if policies:
        sections = {
            **governance_sections(
                dataset,
                profile.qis,
                profile.sensitive,
                policies,
                profile=profile,
                **dict(gate_options or {}),
            ),
            **sections,
        }
    return AssessmentBundle.build(
        title or f"Risk assessment: {dataset.name}",
        datasets=[dataset],
        roles={dataset.name: summary_roles(dataset, profile.qis, profile.sensitive, roles)},
        risk_before=profile,
        rationale=rationale,
        author=author,
        **sections,
    )


def generalization_loss(result: Any) -> dict[str, Any] | None:
    """The information loss the search minimised: its metric, score and published definition."""
    from ..deid.metrics import citation

    metric, score = getattr(result, "metric", None), getattr(result, "score", None)
    if metric is None or score is None:
        return None
    return {"metric": metric, "score": float(score), "reference": citation(metric)}


def anonymization_bundle(
    dataset: Dataset,
    result: Any,
    *,
    qis: Sequence[str],
    sensitive: Sequence[str] = (),
    hierarchies: Mapping[str, Any] | None = None,
    roles: Any = None,
    title: str | None = None,
    rationale: str = "",
    author: str | None = None,
    population_size: float | None = None,
    distribution_columns: Sequence[str] | None = None,
    threshold: float | None = None,
    policies: Sequence[Any] = (),
    gate_options: Mapping[str, Any] | None = None,
    release_mode: str = "drop",
    statistics: Sequence[Any] = (),
    **sections: Any,
) -> AssessmentBundle:
    """Risk before and after, the transformation and its utility cost, as one bundle.

    The privacy gate judges the table as released: direct identifiers handled as ``release_mode``
    says (the release writer's rule; ``pseudonymize`` is judged like ``drop``, since pseudonym
    columns are not direct identifiers), so ``keep`` fails the gate as it should.

    ``result`` is an :class:`~workbench.deid.AnonymizationResult` computed with
    ``return_data=True`` (or one whose ``apply`` can produce the table). Both profiles are
    assessed once, with the policy's risk threshold and l-diversity attributes
    (:func:`risk_options`); with ``policies`` the privacy gate judges the released table's
    profile itself, so every figure of the review has one source.
    """
    from ..deid.comparison import compare
    from ..risk import assess

    original = dataset.to_pandas()
    table = result.data if getattr(result, "data", None) is not None else result.apply(original)
    kept = released_rows(table, qis)
    thr, sens = risk_options(policies, original.columns, sensitive, threshold)
    opts = {"sensitive": sens, "threshold": thr, "population_size": population_size}
    before = assess(original, list(qis), **opts)
    after = assess(kept, list(qis), **opts) if len(kept) else None
    if policies:
        sections = {
            **governance_sections(
                _as_released(kept, release_mode, roles),
                qis,
                sens,
                policies,
                profile=after,
                **dict(gate_options or {}),
            ),
            **sections,
        }
    suppressed = (table[list(qis)].astype("string") == "*").all(axis=1).to_numpy()
    utility = compare(
        original,
        table,
        columns=[*qis, *sensitive],
        qis=list(qis),
        suppressed=suppressed,
        hierarchies=dict(hierarchies or {}) or None,
        levels=dict(result.levels) if result.levels else None,
        statistics=statistics,  # downstream statistics before/after (mean income by region)
    )
    transformation = result.to_dict()
    transformation.pop("data", None)
    dist_cols = distribution_columns if distribution_columns is not None else list(sensitive)
    utility_doc = {**utility.to_dict(), "generalization_loss": generalization_loss(result)}
    return AssessmentBundle.build(
        title or f"De-identification review: {dataset.name}",
        datasets=[dataset],
        roles={dataset.name: summary_roles(dataset, qis, sens, roles)},
        risk_before=before,
        risk_after=after,
        transformation=transformation,
        rationale=rationale,
        utility=utility_doc,
        distributions=_distributions(original, kept, dist_cols),
        author=author,
        **sections,
    )


def _as_released(table: pd.DataFrame, mode: str, roles: Any) -> pd.DataFrame:
    from ..deid.release import prepare_release

    return prepare_release(table, "drop" if mode == "pseudonymize" else mode, roles=roles)[0]


def save_bundle(
    bundle: AssessmentBundle, path: str | Path, dataset: Dataset, roles: Any = None
) -> Path:
    """Save after checking that no direct-identifier value of ``dataset`` is in the bundle."""
    forbidden = identifier_values(dataset, direct_identifier_columns(dataset, roles))
    return bundle.save(path, forbidden=forbidden)


def provenance_summaries(log: str | Path | None = None, tail: int = 20) -> list[dict[str, Any]]:
    """The last ``tail`` provenance records as reviewer-safe summaries (no parameters, no paths)."""
    from ..governance.provenance import ProvenanceLog, default_log_path

    path = Path(log) if log is not None else default_log_path()
    if path is None or not Path(path).exists():
        return []
    out = []
    for r in ProvenanceLog(path).records()[-tail:]:
        out.append(
            {
                "time": r.get("timestamp"),
                "user": r.get("user"),
                "operation": r.get("operation"),
                "output_hashes": [
                    o.get("sha256")
                    for o in r.get("outputs") or []
                    if isinstance(o, dict) and o.get("sha256")
                ],
            }
        )
    return out


def governance_sections(
    data: Any,
    qis: Sequence[str],
    sensitive: Sequence[str] = (),
    policies: Sequence[Any] = (),
    *,
    log: str | Path | None = None,
    gate_log: str | Path | None = None,
    user: str | None = None,
    record: bool = True,
    profile: Any = None,
) -> dict[str, Any]:
    """Effective policy, privacy-gate findings on ``data``, programme metrics and provenance.

    ``data`` is what would be released (after de-identification, suppressed rows removed). The gate
    run is recorded in the gate log like any ETL check, so programme metrics include it.
    ``profile`` is the risk profile of ``data`` the bundle shows: the gate judges it rather than
    measuring again.
    """
    from ..governance import gate, harmonize, programme_metrics

    pols = _policies(policies)
    out: dict[str, Any] = {}
    if pols:
        out["policy"] = harmonize(pols)
        out["gate"] = gate(
            data,
            policy=pols[0] if len(pols) == 1 else pols,
            qis=list(qis),
            sensitive=list(sensitive),
            record=record,
            log=log,
            gate_log=gate_log,
            user=user,
            profile=profile,
        )
    out["programme"] = programme_metrics(provenance=log, gate_log=gate_log)
    out["provenance"] = provenance_summaries(log)
    return out
