"""Assemble assessment bundles from core results: the last step of the visible flow.

Dataset -> roles -> risk profile -> transforms -> comparison -> **bundle** (report, dashboard) and
provenance. The CLI (``--bundle``), the notebooks and the sample dashboard all call these, so a
bundle always has the same shape and always passes the leak guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .bundle import AssessmentBundle, category_shares, identifier_values
from .dataset import Dataset, as_pandas

__all__ = [
    "released_rows",
    "direct_identifier_columns",
    "assessment_bundle",
    "anonymization_bundle",
    "save_bundle",
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
    """Direct identifiers from the role map, else from the role suggestions (safe by default)."""
    if roles is not None:
        return list(roles.direct_identifiers)
    from .roles import suggest_roles

    ds = dataset if isinstance(dataset, Dataset) else Dataset.from_frame(as_pandas(dataset))
    return list(suggest_roles(ds).role_map.direct_identifiers)


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


def assessment_bundle(
    dataset: Dataset,
    profile: Any,
    *,
    roles: Any = None,
    title: str | None = None,
    rationale: str = "",
    author: str | None = None,
    **sections: Any,
) -> AssessmentBundle:
    """A bundle for a risk assessment without transformation."""
    return AssessmentBundle.build(
        title or f"Risk assessment: {dataset.name}",
        datasets=[dataset],
        roles={dataset.name: roles} if roles is not None else None,
        risk_before=profile,
        rationale=rationale,
        author=author,
        **sections,
    )


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
    statistics: Sequence[Any] = (),
    **sections: Any,
) -> AssessmentBundle:
    """Risk before and after, the transformation and its utility cost, as one bundle.

    ``result`` is an :class:`~workbench.deid.AnonymizationResult` computed with
    ``return_data=True`` (or one whose ``apply`` can produce the table).
    """
    from .deid.utility import compare
    from .risk import assess

    original = dataset.to_pandas()
    table = result.data if getattr(result, "data", None) is not None else result.apply(original)
    kept = released_rows(table, qis)
    before = assess(original, list(qis), sensitive=list(sensitive), population_size=population_size)
    after = (
        assess(kept, list(qis), sensitive=list(sensitive), population_size=population_size)
        if len(kept)
        else None
    )
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
    return AssessmentBundle.build(
        title or f"De-identification review: {dataset.name}",
        datasets=[dataset],
        roles={dataset.name: roles} if roles is not None else None,
        risk_before=before,
        risk_after=after,
        transformation=transformation,
        rationale=rationale,
        utility=utility,
        distributions=_distributions(original, kept, dist_cols),
        author=author,
        **sections,
    )


def save_bundle(
    bundle: AssessmentBundle, path: str | Path, dataset: Dataset, roles: Any = None
) -> Path:
    """Save after checking that no direct-identifier value of ``dataset`` is in the bundle."""
    forbidden = identifier_values(dataset, direct_identifier_columns(dataset, roles))
    return bundle.save(path, forbidden=forbidden)


def provenance_summaries(log: str | Path | None = None, tail: int = 20) -> list[dict[str, Any]]:
    """The last ``tail`` provenance records as reviewer-safe summaries (no parameters, no paths)."""
    from .governance.provenance import ProvenanceLog, default_log_path

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
) -> dict[str, Any]:
    """Effective policy, privacy-gate findings on ``data``, programme metrics and provenance.

    ``data`` is what would be released (after de-identification, suppressed rows removed). The gate
    run is recorded in the gate log like any ETL check, so programme metrics include it.
    """
    from .governance import Policy, gate, harmonize, programme_metrics

    pols = [p if isinstance(p, Policy) else Policy.load(p) for p in policies]
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
        )
    out["programme"] = programme_metrics(provenance=log, gate_log=gate_log)
    out["provenance"] = provenance_summaries(log)
    return out
