"""Shared fixtures for the governance tests (helper H): isolated logs and policy documents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
POLICIES = CITY / "policies"

BASE_POLICY: dict[str, Any] = {
    "name": "base",
    "owner": {"department": "Health", "steward": "Records Steward"},
    "purposes": ["treatment", "research"],
    "consent_scope": ["treatment", "research"],
    "legal_basis": "Health Act",
    "retention": "P5Y",
    "third_party_hosting": False,
    "sharing_allowed": False,
    "encryption_at_rest": True,
    "access": {
        "raw": ["steward"],
        "deidentified": ["steward", "analyst"],
        "aggregate": ["steward", "analyst", "reviewer"],
    },
    "sensitivity": {"diagnosis": 1.0, "age": 0.5},
    "thresholds": {
        "min_k": 5,
        "max_average_risk": 0.1,
        "max_highest_risk": 0.2,
        "min_l": {"diagnosis": 2},
        "max_records_at_risk": {"share": 0.05, "threshold": 0.2},
    },
}


def policy_doc(**changes: Any) -> dict[str, Any]:
    """A valid policy document with top-level keys replaced."""
    doc = copy.deepcopy(BASE_POLICY)
    doc.update(copy.deepcopy(changes))
    return doc


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path`` with every governance log redirected there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    monkeypatch.setenv("WORKBENCH_GATE_LOG", str(tmp_path / "gate.jsonl"))
    monkeypatch.setenv("WORKBENCH_ACCESS_LOG", str(tmp_path / "access.jsonl"))
    monkeypatch.setenv("WORKBENCH_USE_LOG", str(tmp_path / "use.jsonl"))
    monkeypatch.delenv("WORKBENCH_REVIEWS", raising=False)
    monkeypatch.delenv("WORKBENCH_ROLES", raising=False)
    monkeypatch.delenv("WORKBENCH_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("WORKBENCH_PROVENANCE_KEY", raising=False)
    monkeypatch.setenv("WORKBENCH_USER", "tester")
    return tmp_path
