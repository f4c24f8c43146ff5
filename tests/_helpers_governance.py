"""Shared fixtures for the governance tests: isolated logs and policy documents."""

from __future__ import annotations

import copy
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from workbench._io import atomic_write_text
from workbench.governance.provenance import register_operation

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


# -- in-process operations for the replay tests (registered by the tests, never by the package)


@register_operation("sort_lines")
def _sort_lines(inputs: list[Path], outputs: list[Path], header: bool = True) -> None:
    """Deterministic reference operation: the input's lines sorted (header kept first)."""
    lines = inputs[0].read_text(encoding="utf-8").splitlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    atomic_write_text(outputs[0], "\n".join(head + sorted(body)) + "\n", sources=inputs)


@register_operation("drop_columns")
def _drop_columns(inputs: list[Path], outputs: list[Path], columns: Sequence[str] = ()) -> None:
    """Deterministic CSV transform: remove the named columns (for example direct identifiers)."""
    from workbench.errors import ColumnNotFoundError

    with open(inputs[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] if rows else []
    for col in columns:
        if col not in header:
            raise ColumnNotFoundError(col, header, str(inputs[0]))
    keep = [i for i, c in enumerate(header) if c not in set(columns)]

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for row in rows:
                w.writerow([row[i] for i in keep])

    from workbench._io import atomic_write

    atomic_write(outputs[0], write, sources=inputs)
