"""Governance: policies, harmonization, the privacy gate, provenance, retention and access.

The flow: each dataset has a :class:`Policy`; a combination gets the most protective
:func:`harmonize`-d policy; :func:`gate` measures risk against it before release; every operation
appends to the hash-chained :class:`ProvenanceLog`; :func:`retention_status` / :func:`purge` delete
derived outputs past their horizon; :func:`render_for` keeps record-level data from roles that may
only see aggregates; :func:`programme_metrics` summarises it all.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

# public name -> submodule; imported on first use so that ``workbench.governance.provenance``
# (every CLI command records) does not import policies, models and numpy with it
_LAZY: dict[str, str] = {
    "DEFAULT_ROLES": "access",
    "AccessFlag": "access",
    "AccessLog": "access",
    "AccessPolicy": "access",
    "AccessReview": "access",
    "Grant": "access",
    "enforce": "access",
    "render_for": "access",
    "view_kind_of": "access",
    "Finding": "gate",
    "GateResult": "gate",
    "PolicyViolationError": "gate",
    "gate": "gate",
    "read_gate_log": "gate",
    "Conflict": "harmonize",
    "Harmonization": "harmonize",
    "harmonize": "harmonize",
    "InForce": "in_force",
    "policy_in_force": "in_force",
    "ProgrammeMetrics": "metrics",
    "programme_metrics": "metrics",
    "POLICY_SCHEMA": "policy",
    "VIEW_KINDS": "policy",
    "AccessTiers": "policy",
    "Policy": "policy",
    "RecordsAtRisk": "policy",
    "Retention": "policy",
    "Thresholds": "policy",
    "load_policy": "policy",
    "validate_policy": "policy",
    "ProvenanceLog": "provenance",
    "ReplayResult": "provenance",
    "TamperIssue": "provenance",
    "VerifyResult": "provenance",
    "current_user": "provenance",
    "default_log_path": "provenance",
    "export_prov": "provenance",
    "record_operation": "provenance",
    "redact": "provenance",
    "register_operation": "provenance",
    "registered_operations": "provenance",
    "replay": "provenance",
    "run_operation": "provenance",
    "verify_log": "provenance",
    "RetentionItem": "retention",
    "RetentionReport": "retention",
    "purge": "retention",
    "retention_status": "retention",
    "Review": "reviews",
    "ReviewRegistry": "reviews",
    "EthicsReview": "reviews",
    "EthicsReviews": "reviews",
    "DisclosureRegister": "disclosure",
    "DisclosureRequest": "disclosure",
    "DisclosureRules": "disclosure",
    "review_intake": "intake",
    "FieldPurposes": "minimize",
    "minimize": "minimize",
    "OversightBody": "oversight",
    "load_oversight": "oversight",
    "publish_register": "publish",
    "Agreements": "sharing",
    "SharingInventory": "sharing",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(ModuleType):
    """Keeps ``gate``, ``harmonize`` and ``minimize`` the functions, not their submodules.

    Importing a submodule sets it as an attribute of the package; eager imports used to rebind
    the function afterwards. Lazily, the submodule must not take the function's name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in _LAZY
            and isinstance(value, ModuleType)
            and value.__name__ == f"{__name__}.{name}"
        ):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
