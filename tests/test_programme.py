"""Programme metrics from the gate, provenance and access logs."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench.governance import (
    AccessLog,
    Policy,
    ProgrammeMetrics,
    ProvenanceLog,
    gate,
    programme_metrics,
)

pytestmark = pytest.mark.usefixtures("isolated")


def _t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_empty_logs_give_empty_metrics():
    m = programme_metrics(now="2025-01-01")
    assert (m.datasets_checked, m.share_passing, m.violations, m.open_reviews) == (0, None, 0, 0)
    assert m.median_days_to_revocation is None and m.provenance_intact is None


def test_metrics_from_real_gate_runs_and_access_events(tmp_path):
    policy = Policy.from_dict(policy_doc(thresholds={"min_k": 3, "min_l": {"diagnosis": 2}}))
    good = pd.DataFrame({"zip": ["1"] * 4 + ["2"] * 4, "diagnosis": list("abab") * 2})
    bad = pd.DataFrame({"zip": ["1", "1", "2"], "diagnosis": ["a", "a", "b"]})
    fixed = pd.DataFrame({"zip": ["1"] * 3, "diagnosis": ["a", "b", "c"]})
    unreviewed = pd.DataFrame({"zip": ["1"] * 3, "diagnosis": ["a", "b", "c"], "age": [1, 1, 1]})
    gate(good, policy=policy, qis=["zip"], sensitive=["diagnosis"])
    gate(bad, policy=policy, qis=["zip"], sensitive=["diagnosis"])  # target "data": 2 failures
    gate(fixed, policy=policy, qis=["zip"], sensitive=["diagnosis"])  # "data" again: now passes
    from workbench.dataset import Dataset

    d = Dataset.from_frame(bad, name="housing")
    gate(d, policy=policy, qis=["zip"], sensitive=["diagnosis"])  # housing: k=1, l=1 -> 2 fails
    gate(Dataset.from_frame(unreviewed, name="social"), policy=policy)  # roles guessed -> review

    log = AccessLog()
    log.grant("tester", "steward", by="boss", now=_t("2025-01-01"))  # grants need a steward
    log.grant("ann", "analyst", project="p1", until="2025-01-31", now=_t("2025-01-01"))
    log.grant("bob", "analyst", project="p2", until="2025-02-28", now=_t("2025-01-01"))
    log.grant("cy", "analyst", project="p3", until="2025-03-31", now=_t("2025-01-01"))
    log.grant("dee", "analyst", project="p4", until="2025-01-15", now=_t("2025-01-01"))
    log.revoke("ann", "analyst", now=_t("2025-02-10T23:59:59"))  # 10 days after the end
    log.revoke("bob", "analyst", now=_t("2025-02-20"))  # before the end: 0 days
    log.revoke("cy", "analyst", now=_t("2025-05-01T23:59:59"))  # 31 days late
    m = programme_metrics(now="2025-06-01")
    assert m.datasets_checked == 3  # data, housing, social (latest run per target)
    assert m.datasets_passing == 2  # data (fixed) and social (review flags do not fail)
    assert m.share_passing == pytest.approx(2 / 3)
    assert m.violations == 2
    assert m.violations_total == 4
    assert m.open_reviews >= 1
    assert m.median_days_to_revocation == pytest.approx(10.0)
    assert m.overdue_revocations == 1  # dee still holds a role past p4's end
    assert m.provenance_records == 5 and m.provenance_intact is True
    assert m.operations == {"check": 5}
    doc = json.loads(json.dumps(m.to_dict()))
    assert doc["violations"] == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.violations = 0  # type: ignore[misc]


def test_tampered_provenance_is_reported(tmp_path):
    log = ProvenanceLog()
    for i in range(3):
        log.append(f"op{i}")
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    m = programme_metrics()
    assert m.provenance_intact is False and isinstance(m, ProgrammeMetrics)
