"""The sample assessment: the city clinic extract, assessed, de-identified and reviewed.

``workbench dashboard`` without a bundle shows this; trainers use it as the worked example. It is
built with the same core calls a privacy officer would make, so it doubles as an end-to-end check.
"""

from __future__ import annotations

import os
from pathlib import Path

from .bundle import AssessmentBundle, category_shares, identifier_values

__all__ = ["build_sample_bundle", "sample_bundle_path", "SAMPLE_QIS"]

SAMPLE_QIS = ("patient_dob", "sex", "postal_code")
SAMPLE_SENSITIVE = ("diagnosis",)


def _cache_dir() -> Path:
    base = os.environ.get("WORKBENCH_CACHE") or Path.home() / ".cache" / "privacy-risk-workbench"
    return Path(base)


def build_sample_bundle(k: int = 5, suppression: float = 0.05, l: int = 2) -> AssessmentBundle:  # noqa: E741
    """Assess the clinic extract, anonymize it to k-anonymity + l-diversity, and bundle it."""
    from .deid import anonymize, date_hierarchy, identity_hierarchy, masking_hierarchy
    from .deid.utility import compare
    from .loading import load
    from .risk import assess
    from .roles import RoleMap
    from .samples import sample_path

    catalog_roles = {
        "direct_identifiers": ["visit_id"],
        "quasi_identifiers": list(SAMPLE_QIS),
        "sensitive": list(SAMPLE_SENSITIVE),
        "other": ["visit_date"],
    }
    roles = RoleMap.from_dict(catalog_roles)
    clinic = load(sample_path("clinic"), department="Health", name="clinic")
    population = load(sample_path("population"), name="population")
    df = clinic.to_pandas()
    qis = list(SAMPLE_QIS)
    before = assess(df, qis, sensitive=list(SAMPLE_SENSITIVE), population_size=population.n_rows)
    hierarchies = {
        "patient_dob": date_hierarchy(df["patient_dob"], date_format="%d/%m/%Y",
                                      name="patient_dob"),
        "sex": identity_hierarchy(df["sex"], name="sex"),
        "postal_code": masking_hierarchy(df["postal_code"], name="postal_code"),
    }
    result = anonymize(df, qis, hierarchies, k=k, l=l, sensitive=list(SAMPLE_SENSITIVE),
                       suppression=suppression, metric="loss", return_data=True)
    released = result.data
    kept = released[~(released[qis] == "*").all(axis=1)]
    after = assess(kept, qis, sensitive=list(SAMPLE_SENSITIVE),
                   population_size=population.n_rows)
    utility = compare(df, released, columns=qis + list(SAMPLE_SENSITIVE), qis=qis,
                      suppressed=(released[qis] == "*").all(axis=1).to_numpy(),
                      hierarchies=hierarchies, levels=dict(result.levels))
    distributions = {
        col: {"before": category_shares(df, col, min_count=10),
              "after": category_shares(kept, col, min_count=10)}
        for col in ("sex", "diagnosis")
    }
    transformation = result.to_dict()
    transformation.pop("data", None)
    bundle = AssessmentBundle.build(
        "Sample review: Health clinic extract",
        datasets=[clinic],
        roles={"clinic": roles},
        risk_before=before,
        risk_after=after,
        transformation=transformation,
        rationale=(f"Full dates of birth and 5-digit postal codes single out patients. We release "
                   f"the optimal generalization for {k}-anonymity with distinct {l}-diversity of "
                   f"diagnosis, suppressing at most {suppression:.0%} of visits."),
        utility=utility,
        distributions=distributions,
        author="workbench sample",
    )
    bundle.to_json()
    return bundle


def sample_bundle_path(refresh: bool = False) -> Path:
    """Build (once, then cached) and return the sample bundle's path."""
    path = _cache_dir() / "sample_bundle.json"
    if refresh or not path.exists():
        from .loading import load
        from .samples import sample_path

        clinic = load(sample_path("clinic"))
        bundle = build_sample_bundle()
        bundle.save(path, forbidden=identifier_values(clinic, ["visit_id"]))
    return path
