"""Data-use logging and the anomaly detectors: planted anomalies in seeded logs (precision and
recall per detector), each detector at its limits on hand-made logs, and the CLI end to end."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ParameterError, ProvenanceError
from workbench.governance.access import AccessLog
from workbench.governance.anomalies import DETECTORS, detect_anomalies, synthetic_use_log
from workbench.governance.catalog import Catalog
from workbench.governance.usage import (
    UNSPECIFIED,
    ProjectPeriod,
    UseEvent,
    read_use_log,
    record_use,
)

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
T0 = datetime(2026, 3, 1, 9, 0)


def ev(day: int, user: str = "ann", rows: int = 100, **kw) -> UseEvent:
    kw.setdefault("datasets", ("clinic",))
    kw.setdefault("purpose", "audit")
    kw.setdefault("role", "analyst")
    kw.setdefault("view", "deidentified")
    return UseEvent(timestamp=T0 + timedelta(days=day), user=user, rows=rows, **kw)


def found(report, detector: str) -> list:
    return [f for f in report.findings if f.detector == detector]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_anomalies_precision_and_recall_per_detector(seed: int) -> None:
    events, projects, truth = synthetic_use_log(seed=seed, planted=6)
    report = detect_anomalies(events, projects)
    got = {(f.detector, f.user, f.day) for f in report.findings}
    for d in DETECTORS:
        planted = {t for t in truth if t[0] == d}
        flagged = {g for g in got if g[0] == d}
        assert planted, d
        tp = len(planted & flagged)
        precision = tp / len(flagged) if flagged else 0.0
        recall = tp / len(planted)
        assert precision >= 0.9 and recall >= 0.9, (d, precision, recall, flagged - planted)


def test_first_combination_only_after_the_baseline() -> None:
    evs = [
        ev(0, datasets=("a", "b")),
        ev(29, datasets=("a", "c")),
        ev(30, datasets=("b", "c")),
        ev(31, datasets=("b", "c")),
        ev(40, datasets=("c", "b", "c")),
    ]
    r = detect_anomalies(evs, baseline_days=30)
    (f,) = found(r, "first_combination")  # day 30 is the first day after the baseline
    assert f.day == (T0 + timedelta(days=30)).date() and "b, c" in f.reason
    r = detect_anomalies(evs, baseline_days=31)
    assert found(r, "first_combination") == []


def test_volume_spike_at_its_limits() -> None:
    history = [ev(d, rows=100) for d in range(7)]
    # median 100, MAD 0: a day of 1,001 rows with factor 10 spikes, 1,000 does not (> 10 x 100)
    assert len(found(detect_anomalies([*history, ev(8, rows=1001)]), "volume_spike")) == 1
    assert found(detect_anomalies([*history, ev(8, rows=1000)]), "volume_spike") == []
    # min_rows: at most 999 rows never spike, whatever the factor
    small = [ev(d, rows=10) for d in range(7)]
    assert found(detect_anomalies([*small, ev(8, rows=999)]), "volume_spike") == []
    # too little history: 6 earlier days are not a baseline (min_history=7)
    assert found(detect_anomalies([*history[:6], ev(8, rows=50_000)]), "volume_spike") == []
    assert (
        len(
            found(
                detect_anomalies([*history[:6], ev(8, rows=50_000)], min_history=6), "volume_spike"
            )
        )
        == 1
    )
    # another user's baseline does not count
    other = [ev(d, user="bob", rows=10_000) for d in range(7)]
    assert found(detect_anomalies([*other, ev(8, user="bob", rows=20_000)]), "volume_spike") == []


def test_outside_project_at_the_period_edges() -> None:
    p = ProjectPeriod("ann", "p1", T0, T0 + timedelta(days=10))
    inside = ev(10, project="p1")  # exactly at the end: still inside
    after = UseEvent(
        timestamp=T0 + timedelta(days=10, seconds=1),
        user="ann",
        datasets=("clinic",),
        purpose="x",
        role="analyst",
        project="p1",
    )
    before = UseEvent(
        timestamp=T0 - timedelta(seconds=1),
        user="ann",
        datasets=("clinic",),
        purpose="x",
        role="analyst",
        project="p1",
    )
    r = detect_anomalies([inside, after, before], [p])
    assert len(found(r, "outside_project")) == 2
    nogrant = detect_anomalies([ev(1, project="p2")], [p])
    assert "without a grant" in found(nogrant, "outside_project")[0].reason


def test_unusual_raw_at_the_share_limit() -> None:
    # 20 earlier reads with exactly 1 raw (5 %): raw_share 0.05 is not exceeded -> no finding
    base = [ev(d, view="raw" if d == 0 else "deidentified") for d in range(20)]
    assert found(detect_anomalies([*base, ev(21, view="raw")], raw_share=0.05), "unusual_raw") == []
    assert (
        len(found(detect_anomalies([*base, ev(21, view="raw")], raw_share=0.051), "unusual_raw"))
        == 1
    )
    # fewer than min_role_history earlier reads: no baseline yet
    assert found(detect_anomalies([*base[1:10], ev(21, view="raw")]), "unusual_raw") == []


def test_narrow_queries_at_the_count_and_size_limits() -> None:
    day = [ev(5, rows=5, filtered=True) for _ in range(10)]
    assert len(found(detect_anomalies(day), "narrow_queries")) == 1
    assert found(detect_anomalies(day[:9]), "narrow_queries") == []
    bigger = [ev(5, rows=6, filtered=True) for _ in range(10)]
    assert found(detect_anomalies(bigger), "narrow_queries") == []
    unfiltered = [ev(5, rows=1, filtered=False) for _ in range(10)]
    assert found(detect_anomalies(unfiltered), "narrow_queries") == []
    assert len(found(detect_anomalies(bigger, narrow_rows=6), "narrow_queries")) == 1


def test_missing_purpose_and_parameter_checks() -> None:
    r = detect_anomalies([ev(1, purpose=UNSPECIFIED), ev(2)])
    assert len(found(r, "missing_purpose")) == 1
    with pytest.raises(ParameterError):
        detect_anomalies([], raw_share=0)
    with pytest.raises(ParameterError):
        detect_anomalies([], narrow_count=1)
    assert detect_anomalies([]).findings == ()


def test_catalog_reads_are_logged_and_reach_access_review(tmp_path, monkeypatch) -> None:
    use = tmp_path / "use.jsonl"
    monkeypatch.setenv("WORKBENCH_USE_LOG", str(use))
    monkeypatch.setenv("WORKBENCH_ACCESS_LOG", str(tmp_path / "access.jsonl"))
    monkeypatch.setenv("WORKBENCH_USER", "ann")
    cat = Catalog.load(CITY / "catalog.yaml")
    ds = cat.load_dataset("transit", purpose="fare study", role="analyst")
    (e,) = list(read_use_log(use))
    assert e.user == "ann" and e.datasets == ("transit",) and e.purpose == "fare study"
    assert e.rows == ds.n_rows > 0 and "postcode" in e.columns and e.role == "analyst"
    text = use.read_text()
    first_pass = str(ds.to_pandas().iloc[0]["pass_id"]) if hasattr(ds, "to_pandas") else "P"
    assert first_pass not in text  # names and counts only, never a value
    # the access review sees the real use (0.1 said "never used")
    log = AccessLog(tmp_path / "access.jsonl")
    log.grant("steward1", "steward", by="admin")
    log.grant("ann", "analyst", by="steward1")
    (g,) = [g for g in log.review().grants if g.user == "ann"]
    assert g.last_used is not None
    # no purpose: recorded as unspecified, or refused when purposes are required
    cat.load_dataset("transit")
    assert list(read_use_log(use))[-1].purpose == UNSPECIFIED
    monkeypatch.setenv("WORKBENCH_REQUIRE_PURPOSE", "1")
    with pytest.raises(ParameterError, match="purpose"):
        cat.load_dataset("transit")


def test_use_log_off_and_tampered(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USE_LOG", "off")
    assert record_use("x", purpose="p") is None
    path = tmp_path / "use.jsonl"
    record_use("x", purpose="p", rows=3, log=path)
    record_use("y", purpose="p", rows=4, log=path)
    path.write_text(path.read_text().replace('"rows": 3', '"rows": 30000'))
    with pytest.raises(ProvenanceError):
        list(read_use_log(path))


def test_cli_anomalies_end_to_end(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "use.jsonl"
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "p.jsonl"))
    for _ in range(12):
        record_use("clinic", purpose="care review", rows=2, filtered=True, user="eve", log=path)
    record_use("clinic", purpose="care review", rows=50, user="ann", log=path)
    code = main(["access", "anomalies", "--use-log", str(path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["counts"]["narrow_queries"] == 1
    (f,) = doc["findings"]
    assert f["user"] == "eve" and len(f["records"]) == 12 and f["day"] == str(date.today())
    quiet = tmp_path / "quiet.jsonl"
    record_use("clinic", purpose="care review", rows=50, user="ann", log=quiet)
    assert main(["access", "anomalies", "--use-log", str(quiet)]) == 0
    assert main(["access", "anomalies", "--use-log", str(tmp_path / "none.jsonl")]) == 2


def test_identity_hook_names_who_reads(tmp_path, monkeypatch) -> None:
    import sys

    hook = tmp_path / "sso_hook.py"
    hook.write_text(
        "def who():\n    return ('dr.lee', 'steward')\n"
        "def broken():\n    raise RuntimeError('no session')\n"
        "def odd():\n    return 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "use.jsonl"
    monkeypatch.setenv("WORKBENCH_IDENTITY_HOOK", "sso_hook:who")
    record_use("clinic", purpose="care review", rows=1, log=path)
    (e,) = list(read_use_log(path))
    assert (e.user, e.role) == ("dr.lee", "steward")
    record_use("clinic", purpose="care review", rows=1, log=path, user="ann", role="analyst")
    assert (list(read_use_log(path))[-1].user, list(read_use_log(path))[-1].role) == (
        "ann",
        "analyst",
    )
    for bad in ("sso_hook:broken", "sso_hook:odd", "sso_hook", "no_such_module_x:who"):
        monkeypatch.setenv("WORKBENCH_IDENTITY_HOOK", bad)
        with pytest.raises(ParameterError, match="WORKBENCH_IDENTITY_HOOK"):
            record_use("clinic", purpose="p", log=path)
    sys.modules.pop("sso_hook", None)
