"""Retention closes the loop: every CLI and notebook output records the policy in force, purge
deletes it once expired (recorded with its horizon), and "time to delete" is a metric.

Issue #17: `workbench retention` listed every CLI output as NO_POLICY and purge did nothing.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.governance import ProvenanceLog, programme_metrics
from workbench.governance.metrics import days_to_delete, release_checks
from workbench.governance.provenance import record_operation

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
VOTERS = CITY / "voter_roll.csv"  # policy voters: retention P4Y, no encryption


def _anonymize(out: Path) -> int:
    return main(
        ["anonymize", str(VOTERS), "--qi", "sex", "--k", "2", "--no-progress", "--output", str(out)]
    )


def _status(capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert main(["retention", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_output_records_its_policy_and_is_purged_when_expired(tmp_path, capsys):
    out = tmp_path / "voters_anon.csv"
    assert _anonymize(out) == 0
    doc = _status(capsys)
    (item,) = doc["items"]
    assert (item["policy"], item["retention"], item["status"]) == ("voters", "P4Y", "kept")
    horizon = item["horizon"]
    created = date.fromisoformat(item["created"][:10])
    day = date.fromisoformat(horizon[:10])
    assert day == created.replace(year=created.year + 4)
    # at midnight of the horizon day the output (written later that day) is still kept; the
    # day after it is due
    assert _status(capsys, "--now", day.isoformat())["items"][0]["status"] == "kept"
    later = (day + timedelta(days=1)).isoformat()
    assert _status(capsys, "--now", later)["items"][0]["status"] == "due"
    capsys.readouterr()
    assert main(["retention", "--purge", "--now", later, "--json"]) == 0
    purged = json.loads(capsys.readouterr().out)
    assert purged["purged"] == 1 and not out.exists()
    log = ProvenanceLog(os.environ["WORKBENCH_PROVENANCE"])
    rec = log.records()[-1]
    assert rec["operation"] == "purge"
    assert rec["inputs"][0]["horizon"] == horizon and rec["inputs"][0]["policy"] == "voters"
    assert _status(capsys, "--now", later)["items"][0]["status"] == "already_purged"


def test_notebook_outputs_record_the_policy_of_their_inputs(tmp_path):
    """The panels call record_operation with the file they read: the catalog beside it names
    the policy, so retention knows the output (no NO_POLICY)."""
    out = tmp_path / "bundle.json"
    out.write_text("{}")
    rec = record_operation("release-bundle", inputs=[VOTERS], outputs=[out])
    assert rec["policy"]["name"] == "voters" and rec["policy"]["retention"] == "P4Y"
    from workbench.loading.readers import load

    rec = record_operation("anonymize", inputs=[load(VOTERS)], outputs=[out])  # the panels
    assert rec["policy"]["name"] == "voters"
    loose = tmp_path / "loose.csv"
    loose.write_text("a\n1\n")
    assert record_operation("x", inputs=[loose], outputs=[out])["policy"] is None


# ------------------------------------------------------------------- metrics on hand-made logs
def _log(tmp_path: Path) -> ProvenanceLog:
    return ProvenanceLog(tmp_path / "hand.jsonl")


def _purge(log: ProvenanceLog, when: str, horizons: list[str | None]) -> None:
    from datetime import datetime

    items = [
        {"path": f"/x/{i}.csv", "sha256": "0" * 64, **({"horizon": h} if h else {})}
        for i, h in enumerate(horizons)
    ]
    log.append("purge", inputs=items, now=datetime.fromisoformat(when.replace("Z", "+00:00")))


def test_time_to_delete_at_the_edges(tmp_path):
    log = _log(tmp_path)
    _purge(log, "2025-03-01T00:00:00Z", ["2025-03-01T00:00:00Z"])  # at the horizon: 0 days
    _purge(log, "2025-03-01T00:00:00Z", ["2025-03-01T00:00:01Z"])  # 1 s early (hand-made): 0
    _purge(log, "2025-03-11T00:00:00Z", ["2025-03-01T00:00:00Z", None])  # 10 days; old: skip
    _purge(log, "2025-04-01T12:00:00Z", ["2025-03-01T00:00:00Z"])  # 31.5 days
    assert days_to_delete(log.records()) == [0.0, 0.0, 10.0, 31.5]
    m = programme_metrics(provenance=log, now="2025-05-01", access_log=tmp_path / "a.jsonl")
    assert (m.deletions, m.median_days_to_delete, m.max_days_to_delete) == (4, 5.0, 31.5)
    assert m.to_dict()["median_days_to_delete"] == 5.0


def test_no_purge_means_no_time_to_delete(tmp_path):
    log = _log(tmp_path)
    log.append("profile")
    m = programme_metrics(provenance=log, now="2025-05-01", access_log=tmp_path / "a.jsonl")
    assert (m.deletions, m.median_days_to_delete, m.max_days_to_delete) == (0, None, None)


def test_overdue_deletions_at_the_horizon(tmp_path):
    """An output still on disk counts as overdue from its horizon on (not a second before)."""
    from datetime import datetime

    log = _log(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("a\n1\n")
    log.append(
        "anonymize",
        outputs=[out],
        policy={"name": "p", "retention": "P30D"},
        now=datetime.fromisoformat("2025-01-01T00:00:00+00:00"),
    )
    kw = {"provenance": log, "access_log": tmp_path / "a.jsonl"}
    assert programme_metrics(now="2025-01-30T23:59:59Z", **kw).overdue_deletions == 0
    assert programme_metrics(now="2025-01-31T00:00:00Z", **kw).overdue_deletions == 1
    out.unlink()  # gone (not by purge): not overdue any more, and no deletion time either
    m = programme_metrics(now="2025-02-10", **kw)
    assert (m.overdue_deletions, m.deletions) == (0, 0)


@pytest.mark.parametrize(
    ("passed", "expected"),
    [([], None), ([True], 1.0), ([False], 0.0), ([True, False, True, "yes"], 0.5)],
)
def test_share_of_releases_passing_their_gate(tmp_path, passed, expected):
    """Every check record counts (not only a target's latest); anything but true fails."""
    log = _log(tmp_path)
    for p in passed:
        log.append("check", parameters={"target": "t", "passed": p})
    log.append("anonymize")  # other operations are not releases checked
    assert release_checks(log.records()) == (len(passed), sum(p is True for p in passed))
    m = programme_metrics(provenance=log, now="2025-05-01", access_log=tmp_path / "a.jsonl")
    assert m.share_releases_passing == expected and m.releases_checked == len(passed)


def test_time_to_revoke_access_at_the_edges(tmp_path):
    from datetime import UTC, datetime

    from workbench.governance import AccessLog

    def t(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    log = AccessLog(tmp_path / "access.jsonl")
    log.grant("boss", "steward", by="root", now=t("2025-01-01"))
    log.grant("on", "analyst", by="boss", project="p", until="2025-01-31", now=t("2025-01-01"))
    log.grant("late", "analyst", by="boss", project="q", until="2025-01-31", now=t("2025-01-01"))
    log.grant("early", "analyst", by="boss", project="r", until="2025-01-31", now=t("2025-01-01"))
    # a project's end date runs to its last second (23:59:59)
    log.revoke("on", "analyst", by="boss", now=t("2025-01-31T23:59:59"))  # at the end: 0
    log.revoke("late", "analyst", by="boss", now=t("2025-02-01T23:59:59"))  # a day late: 1
    log.revoke("early", "analyst", by="boss", now=t("2025-01-15"))  # early: 0, not negative
    assert sorted(log.revocation_delays()) == [0.0, 0.0, 1.0]
    m = programme_metrics(provenance=_log(tmp_path), access_log=log, now="2025-03-01")
    assert m.median_days_to_revocation == 0.0


def test_ethics_and_disclosure_outcomes_in_the_metrics(tmp_path):
    from workbench.governance.disclosure import DisclosureRegister
    from workbench.governance.oversight import load_oversight
    from workbench.governance.reviews import EthicsReviews

    board = load_oversight(CITY / "governance" / "oversight.yaml")
    m = programme_metrics(
        provenance=_log(tmp_path),
        access_log=tmp_path / "a.jsonl",
        now="2026-01-01",
        disclosure=DisclosureRegister(CITY / "governance" / "disclosure.jsonl", board),
        ethics=EthicsReviews(CITY / "governance" / "ethics.jsonl", board),
    )
    assert dict(m.disclosure_requests) == {"permitted": 2, "refused": 2, "referred": 0}
    assert dict(m.ethics_reviews) == {"approved": 1, "rejected": 1, "open": 1}
    assert m.median_hours_to_ethics_decision is not None
