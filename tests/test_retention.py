"""Retention: horizons from provenance + policy, and a purge that deletes only derived outputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench.cli import main
from workbench.errors import ProvenanceError
from workbench.governance import Policy, ProvenanceLog, purge, retention_status, verify_log

pytestmark = pytest.mark.usefixtures("isolated")

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def world(tmp_path):
    """A source file, three derived outputs under 30-day and 1-year policies, one modified."""
    log = ProvenanceLog()
    short = Policy.from_dict(policy_doc(name="short", retention="P30D"))
    long = Policy.from_dict(policy_doc(name="long", retention="P1Y"))
    src = _write(tmp_path / "source.csv", "a\n1\n")
    old = _write(tmp_path / "out" / "old.csv", "old\n")
    fresh = _write(tmp_path / "out" / "fresh.csv", "fresh\n")
    kept = _write(tmp_path / "out" / "kept.csv", "kept\n")
    edited = _write(tmp_path / "out" / "edited.csv", "edited\n")
    log.append("anonymize", [src], [old], policy=short, now=T0)
    log.append("anonymize", [src], [edited], policy=short, now=T0)
    log.append("anonymize", [src], [kept], policy=long, now=T0)
    log.append("anonymize", [src], [fresh], policy=short, now=datetime(2025, 3, 1, tzinfo=UTC))
    edited.write_text("changed by hand\n")
    return {"log": log, "src": src, "old": old, "fresh": fresh, "kept": kept, "edited": edited}


def _status(report) -> dict[str, str]:
    return {Path(i.path).name: i.status for i in report.items}


def test_status_lists_due_outputs_only(world):
    rep = retention_status(now="2025-03-05")
    assert _status(rep) == {
        "old.csv": "due",
        "edited.csv": "modified",
        "kept.csv": "kept",
        "fresh.csv": "kept",
    }
    old = next(i for i in rep.items if i.path.endswith("old.csv"))
    assert old.horizon.startswith("2025-01-31") and old.retention == "P30D"
    assert [Path(i.path).name for i in rep.due] == ["old.csv"]


def test_horizon_boundary(world):
    assert _status(retention_status(now="2025-01-31"))["old.csv"] == "kept"
    assert _status(retention_status(now="2025-02-01"))["old.csv"] == "due"


def test_purge_deletes_only_derived_outputs_past_horizon(world):
    rep = purge(now="2026-06-01", user="officer")
    assert _status(rep) == {
        "old.csv": "purged",
        "edited.csv": "modified",
        "kept.csv": "purged",
        "fresh.csv": "purged",
    }
    assert not world["old"].exists() and not world["kept"].exists()
    assert world["edited"].exists(), "a file changed since it was written is left to a person"
    assert world["src"].exists(), "sources are never deleted"
    log = world["log"]
    last = log.records()[-1]
    assert last["operation"] == "purge" and last["user"] == "officer"
    assert {Path(i["path"]).name for i in last["inputs"]} == {"old.csv", "kept.csv", "fresh.csv"}
    assert rep.purge_record == last["seq"]
    assert verify_log(log).ok
    again = retention_status(now="2026-06-02")
    assert _status(again)["old.csv"] == "already_purged"
    assert purge(now="2026-06-02").purge_record is None


def test_purge_never_touches_a_source_even_if_recorded_as_output(world, tmp_path):
    log = world["log"]
    # a later operation wrote over a file that had been an input before the workbench created it
    log.append(
        "anonymize",
        [world["old"]],
        [world["src"]],
        policy=Policy.from_dict(policy_doc(name="short", retention="P1D")),
        now=T0,
    )
    rep = purge(now="2030-01-01")
    assert _status(rep)["source.csv"] == "source"
    assert world["src"].exists()


def _catalog(tmp_path: Path, datasets: dict) -> Path:
    import yaml

    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "datasets": datasets, "crosswalk": []}))
    return path


def test_catalog_sources_are_never_deleted(world, tmp_path):
    cat = _catalog(tmp_path, {"x": {"file": str(world["old"])}})
    rep = purge(catalog=cat, now="2030-01-01")
    assert _status(rep)["old.csv"] == "source"
    assert world["old"].exists()


def test_catalog_gives_the_current_harmonized_retention(tmp_path):
    """The recorded policy said one year; the catalog's policies now say 30 days (shortest)."""
    (tmp_path / "p").mkdir()
    Policy.from_dict(policy_doc(name="a", retention="P30D")).save(tmp_path / "p" / "a.yaml")
    Policy.from_dict(policy_doc(name="b", retention="P2Y")).save(tmp_path / "p" / "b.yaml")
    src = _write(tmp_path / "a.csv", "x\n1\n")
    cat = _catalog(
        tmp_path,
        {
            "a": {"file": "a.csv", "policy": "p/a.yaml"},
            "b": {"file": "a.csv", "policy": "p/b.yaml"},
        },
    )
    out = _write(tmp_path / "joined.csv", "joined\n")
    recorded = Policy.from_dict(policy_doc(name="a+b", retention="P1Y"))
    ProvenanceLog().append("combine", [src], [out], policy=recorded, now=T0)
    assert _status(retention_status(now="2025-03-01"))["joined.csv"] == "kept"
    rep = retention_status(catalog=cat, now="2025-03-01")
    assert _status(rep)["joined.csv"] == "due"
    assert rep.items[0].retention == "P30D"


def test_output_without_policy_is_not_deleted(tmp_path):
    out = _write(tmp_path / "o.csv", "x\n")
    ProvenanceLog().append("export", [], [out], now=T0)
    rep = purge(now="2040-01-01")
    assert _status(rep) == {"o.csv": "no_policy"} and out.exists()


def test_missing_output_is_reported_not_recorded(world):
    world["old"].unlink()
    rep = purge(now="2025-03-05")
    assert _status(rep)["old.csv"] == "missing"
    assert rep.purge_record is None


def test_purge_refuses_a_tampered_log(world):
    log = world["log"]
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(ProvenanceError, match="nothing was purged"):
        purge(now="2030-01-01")
    assert world["kept"].exists()


def test_cli_lists_and_purges(world, capsys):
    assert main(["retention", "--now", "2025-03-05"]) == 0
    out = capsys.readouterr().out
    assert "DUE" in out and "old.csv" in out and "--purge" in out
    assert world["old"].exists()
    assert main(["retention", "--now", "2025-03-05", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["due"] == 1
    assert main(["retention", "--now", "2025-03-05", "--purge"]) == 0
    assert "purged 1 file" in capsys.readouterr().out
    assert not world["old"].exists() and world["fresh"].exists()


def test_cli_bad_date_is_bad_input(world, capsys):
    assert main(["retention", "--now", "2025-13-45"]) == 2
