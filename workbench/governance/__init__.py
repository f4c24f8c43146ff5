"""Governance: policies, harmonization, the privacy gate, provenance, retention and access.

The flow: each dataset has a :class:`Policy`; a combination gets the most protective
:func:`harmonize`-d policy; :func:`gate` measures risk against it before release; every operation
appends to the hash-chained :class:`ProvenanceLog`; :func:`retention_status` / :func:`purge` delete
derived outputs past their horizon; :func:`render_for` keeps record-level data from roles that may
only see aggregates; :func:`programme_metrics` summarises it all.
"""

from .access import (
    DEFAULT_ROLES,
    AccessFlag,
    AccessLog,
    AccessPolicy,
    AccessReview,
    Grant,
    enforce,
    render_for,
    view_kind_of,
)
from .gate import Finding, GateResult, PolicyViolationError, gate, read_gate_log
from .harmonize import Conflict, Harmonization, harmonize
from .in_force import InForce, policy_in_force
from .metrics import ProgrammeMetrics, programme_metrics
from .policy import (
    POLICY_SCHEMA,
    VIEW_KINDS,
    AccessTiers,
    Policy,
    RecordsAtRisk,
    Retention,
    Thresholds,
    load_policy,
    validate_policy,
)
from .provenance import (
    ProvenanceLog,
    ReplayResult,
    TamperIssue,
    VerifyResult,
    current_user,
    default_log_path,
    export_prov,
    record_operation,
    redact,
    register_operation,
    registered_operations,
    replay,
    run_operation,
    verify_log,
)
from .retention import RetentionItem, RetentionReport, purge, retention_status
from .reviews import EthicsReview, EthicsReviews, Review, ReviewRegistry

__all__ = [
    "DEFAULT_ROLES",
    "POLICY_SCHEMA",
    "VIEW_KINDS",
    "AccessFlag",
    "AccessLog",
    "AccessPolicy",
    "AccessReview",
    "AccessTiers",
    "Conflict",
    "Finding",
    "GateResult",
    "Grant",
    "Harmonization",
    "Policy",
    "PolicyViolationError",
    "ProgrammeMetrics",
    "ProvenanceLog",
    "RecordsAtRisk",
    "ReplayResult",
    "Retention",
    "RetentionItem",
    "RetentionReport",
    "Review",
    "ReviewRegistry",
    "EthicsReview",
    "EthicsReviews",
    "InForce",
    "policy_in_force",
    "TamperIssue",
    "Thresholds",
    "VerifyResult",
    "current_user",
    "default_log_path",
    "enforce",
    "export_prov",
    "gate",
    "harmonize",
    "load_policy",
    "programme_metrics",
    "purge",
    "read_gate_log",
    "record_operation",
    "redact",
    "register_operation",
    "registered_operations",
    "render_for",
    "replay",
    "retention_status",
    "run_operation",
    "validate_policy",
    "verify_log",
    "view_kind_of",
]

# civic safeguards: minimization, intake review, sharing, disclosure requests, public register
from .disclosure import DisclosureRegister, DisclosureRequest, DisclosureRules
from .intake import review_intake
from .minimize import FieldPurposes, minimize
from .oversight import OversightBody, load_oversight
from .publish import publish_register
from .sharing import Agreements, SharingInventory

__all__ += [
    "Agreements",
    "DisclosureRegister",
    "DisclosureRequest",
    "DisclosureRules",
    "FieldPurposes",
    "OversightBody",
    "SharingInventory",
    "load_oversight",
    "minimize",
    "publish_register",
    "review_intake",
]
