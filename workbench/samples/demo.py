"""The sample assessment: the city clinic extract, assessed, de-identified and reviewed.

``workbench dashboard`` without a bundle shows this; trainers use it as the worked example. It is
built with the same core calls a privacy officer would make, so it doubles as an end-to-end check.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..review.bundle import AssessmentBundle, identifier_values

__all__ = ["build_sample_bundle", "sample_bundle_path", "SAMPLE_QIS"]

SAMPLE_QIS = ("patient_dob", "sex", "postal_code")
SAMPLE_SENSITIVE = ("diagnosis",)


def _cache_dir() -> Path:
    base = os.environ.get("WORKBENCH_CACHE") or Path.home() / ".cache" / "privacy-risk-workbench"
    return Path(base)


def build_sample_bundle(k: int = 5, suppression: float = 0.05, l: int = 3) -> AssessmentBundle:  # noqa: E741
    """Assess the clinic extract, anonymize it to k-anonymity + l-diversity, and bundle it."""
    from ..deid import anonymize, date_hierarchy, identity_hierarchy, masking_hierarchy
    from ..loading.readers import load
    from ..profiling.roles import RoleMap
    from ..review.assessment import anonymization_bundle
    from . import sample_path

    roles = RoleMap.from_dict(
        {
            "direct_identifiers": ["visit_id"],
            "quasi_identifiers": list(SAMPLE_QIS),
            "sensitive": list(SAMPLE_SENSITIVE),
            "other": ["visit_date"],
        }
    )
    clinic = load(sample_path("clinic"), department="Health", name="clinic")
    population = load(sample_path("population"), name="population")
    df = clinic.to_pandas()
    qis = list(SAMPLE_QIS)
    hierarchies = {
        "patient_dob": date_hierarchy(
            df["patient_dob"], date_format="%d/%m/%Y", name="patient_dob"
        ),
        "sex": identity_hierarchy(df["sex"], name="sex"),
        "postal_code": masking_hierarchy(df["postal_code"], name="postal_code"),
    }
    result = anonymize(
        df,
        qis,
        hierarchies,
        k=k,
        l=l,
        sensitive=list(SAMPLE_SENSITIVE),
        suppression=suppression,
        metric="loss",
        return_data=True,
    )
    from ..governance import Policy, gate

    policy = Policy.load(sample_path("city").parent / "policies" / "clinic.yaml")
    # The sample's gate and provenance logs live in a temporary folder: building the sample never
    # writes into the user's working directory.
    with tempfile.TemporaryDirectory(prefix="wb-sample-") as tmp:
        prov, gate_log = Path(tmp) / "provenance.jsonl", Path(tmp) / "gate.jsonl"
        log_options = {"log": prov, "gate_log": gate_log, "user": "sample-officer"}
        # the extract as it stands fails the clinic policy (programme metrics count it) ...
        gate(df, policy=policy, qis=qis, sensitive=list(SAMPLE_SENSITIVE), **log_options)
        # ... the released table passes; the gate judges the profile the review shows
        return anonymization_bundle(
            clinic,
            result,
            qis=qis,
            sensitive=list(SAMPLE_SENSITIVE),
            hierarchies=hierarchies,
            roles=roles,
            title="Sample review: Health clinic extract",
            rationale=(
                f"Full dates of birth and 5-digit postal codes single out patients. We "
                f"release the optimal generalization for {k}-anonymity with distinct "
                f"{l}-diversity of diagnosis, suppressing at most {suppression:.0%} of visits."
            ),
            author="workbench sample",
            population_size=population.n_rows,
            distribution_columns=["sex", "diagnosis"],
            policies=[policy],
            gate_options=log_options,
            **_linkage_sections(),
        )


def _linkage_sections() -> dict[str, Any]:
    """The clinic extract linked to the public voter roll (scored with ground truth), and the
    city's join-risk matrix: why the clinic data must not leave the department as it is."""
    from .._crypto import transient_key
    from ..governance.catalog import Catalog
    from ..linkage import join_risk_matrix, link_exact
    from ..loading.readers import load
    from . import city, sample_path

    catalog = Catalog.load(sample_path("city"))
    # clinic's policy requires encryption at rest: the scratch extracts are encrypted with a
    # key that lives only for this block
    with tempfile.TemporaryDirectory(prefix="wb-sample-") as tmp, transient_key():
        released = load(city.export("clinic", Path(tmp) / "clinic.csv", truth=True))
        attacker = load(city.export("voters", Path(tmp) / "voters.csv", truth=True))
        linkage = link_exact(
            released, attacker, on="auto", truth="resident_id", reference_date=city.REFERENCE_DATE
        )
    return {"linkage": linkage, "matrix": join_risk_matrix(catalog)}


def sample_bundle_path(refresh: bool = False) -> Path:
    """Build (once, then cached) and return the sample bundle's path."""
    path = _cache_dir() / "sample_bundle.json"
    if refresh or not path.exists():
        from ..loading.readers import load
        from . import sample_path

        clinic = load(sample_path("clinic"))
        bundle = build_sample_bundle()
        bundle.save(path, forbidden=identifier_values(clinic, ["visit_id"]))
    return path
