"""Assessment bundle, HTML report and review dashboard: round trips, bad input, and no leaks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.dataset import Dataset
from workbench.errors import ConfigError, MissingFileError, ParameterError
from workbench.review.bundle import AssessmentBundle, LeakError, category_shares, identifier_values
from workbench.review.report import render_html, sections, write_report
from workbench.risk import assess


def _planted_frame(n: int = 400, seed: int = 7) -> tuple[pd.DataFrame, list[str]]:
    """A small clinic-like table whose identifier values are unique, greppable tokens."""
    rng = np.random.default_rng(seed)
    ids = [f"PLANTED-ID-{i:05d}-ZQX" for i in range(n)]
    emails = [f"planted.person{i}@leak-test.example" for i in range(n)]
    df = pd.DataFrame(
        {
            "patient_id": ids,
            "email": emails,
            "age": rng.integers(18, 90, n).astype(str),
            "sex": rng.choice(["F", "M"], n),
            "zip": rng.choice(["10115", "10117", "10119", "10178"], n),
            "diagnosis": rng.choice(["Asthma", "Diabetes", "Flu"], n),
        }
    )
    return df, ids + emails


def _bundle(df: pd.DataFrame) -> AssessmentBundle:
    from workbench.profiling.roles import RoleMap

    roles = RoleMap.from_dict(
        {
            "direct_identifiers": ["patient_id", "email"],
            "quasi_identifiers": ["age", "sex", "zip"],
            "sensitive": ["diagnosis"],
        }
    )
    risk = assess(df, ["age", "sex", "zip"], sensitive=["diagnosis"])
    ds = Dataset.from_frame(df, name="planted", department="Health")
    return AssessmentBundle.build(
        "Leak test",
        datasets=[ds],
        roles={"planted": roles},
        risk_before=risk,
        rationale="test",
        distributions={
            "sex": {"before": category_shares(df, "sex"), "after": category_shares(df, "sex")}
        },
    )


def test_bundle_round_trip(tmp_path) -> None:
    df, _ = _planted_frame()
    b = _bundle(df)
    path = b.save(tmp_path / "b.json")
    again = AssessmentBundle.load(path)
    assert again.to_dict() == b.to_dict()
    assert again.risk_before["records"] == len(df)
    assert again.datasets[0]["roles"]["patient_id"] == "direct_identifier"


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not valid JSON"),
        ('{"format": "other"}', "not an assessment bundle"),
        ('{"format": "workbench-assessment-bundle", "version": 99, "title": "x"}', "version 99"),
    ],
)
def test_bad_bundle_files_name_the_file(tmp_path, content, message) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as err:
        AssessmentBundle.load(path)
    assert "bad.json" in str(err.value)


def test_missing_bundle() -> None:
    with pytest.raises(MissingFileError, match="nope.json"):
        AssessmentBundle.load("nope.json")


def test_leak_guard_refuses_identifier_values(tmp_path) -> None:
    df, planted = _planted_frame()
    b = AssessmentBundle.build("x", rationale=f"look at {planted[3]}")
    with pytest.raises(LeakError, match="1 identifier value") as err:
        b.save(tmp_path / "b.json", forbidden=planted)
    assert planted[3] not in str(err.value)
    assert not (tmp_path / "b.json").exists()


def test_category_shares_pools_rare_values() -> None:
    s = pd.DataFrame({"c": ["a"] * 8 + ["b"] * 2 + ["rare"]})
    shares = category_shares(s, "c", min_count=2)
    assert shares == pytest.approx({"a": 8 / 11, "b": 2 / 11, "other": 1 / 11})
    assert "rare" not in shares


def test_no_planted_identifier_reaches_bundle_report_or_dashboard(tmp_path) -> None:
    """Plant unique identifiers; none may appear in the JSON, the HTML or any widget state."""
    df, planted = _planted_frame()
    assert identifier_values(df, ["patient_id", "email"]) == set(planted)
    b = _bundle(df)
    bundle_path = b.save(tmp_path / "bundle.json", forbidden=planted)
    texts = {"json": bundle_path.read_text()}
    out = write_report(bundle_path, tmp_path / "report.html", forbidden=planted)
    texts["html"] = out.read_text()
    assert "js-plotly-plot" in texts["html"] or "plotly" in texts["html"]

    import ipywidgets as widgets

    from workbench.ui.review import ReviewDashboard

    dash = ReviewDashboard(AssessmentBundle.load(bundle_path))
    states = []
    for child in _walk(dash.ui):
        states.append(json.dumps(child.get_state(), default=str))
        if isinstance(child, widgets.Output):
            states.append(json.dumps(child.outputs, default=str))
    texts["widgets"] = "\n".join(states)
    assert len(texts["widgets"]) > 1000  # the dashboard really rendered something
    for where, text in texts.items():
        leaked = [v for v in planted if v in text]
        assert leaked == [], f"{len(leaked)} planted identifiers leaked into the {where}"
    # column names of direct identifiers may be shown; their values never
    assert "patient_id" in texts["html"]


def _walk(w):
    yield w
    for c in getattr(w, "children", ()) or ():
        yield from _walk(c)


def test_report_sections_and_cli(tmp_path, capsys) -> None:
    df, _ = _planted_frame()
    b = _bundle(df)
    path = b.save(tmp_path / "bundle.json")
    keys = [s.key for s in sections(b)]
    assert keys[:3] == ["verdict", "datasets", "risk"]
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "Leak test" in html and "Re-identification risk" in html
    assert html.count("<table") >= 2
    # never over the bundle itself
    with pytest.raises(ParameterError, match="output"):
        write_report(path, path)
    assert main(["report", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.html")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_render_html_escapes_text() -> None:
    b = AssessmentBundle.build("<script>alert(1)</script>", rationale="<b>x</b>")
    html = render_html(b, plotlyjs="cdn")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_bundle_refuses_record_level_sections() -> None:
    """A reviewer never receives record-level data: frames and per-record arrays are refused."""
    from workbench.errors import AccessDeniedError

    df, _ = _planted_frame()
    with pytest.raises(AccessDeniedError, match="reviewer"):
        AssessmentBundle.build("x", utility={"rows": df})
    risk = assess(df, ["age", "sex", "zip"])
    with pytest.raises(AccessDeniedError):
        AssessmentBundle.build("x", risk_before={"fk": risk.class_sizes_per_record()})


def test_sample_bundle_covers_the_whole_review() -> None:
    """`workbench dashboard` with no bundle shows the clinic sample: every section is present."""
    from workbench.loading.readers import load
    from workbench.samples import sample_path
    from workbench.samples.demo import sample_bundle_path

    path = sample_bundle_path(refresh=True)
    b = AssessmentBundle.load(path)
    assert b.risk_before["min_class_size"] == 1
    assert b.risk_after["min_class_size"] >= 5
    assert b.gate["passed"] is True  # the released table meets the clinic policy
    assert b.policy["policy"]["thresholds"]["min_k"] == 5
    assert b.linkage["correct_unique_matches"] > 1000  # the voter roll names patients
    assert {tuple(p["datasets"]) for p in b.matrix["pairs"]} >= {("clinic", "voters")}
    assert b.programme["violations_total"] > 0  # the unprotected extract failed the gate
    assert [s.key for s in sections(b)] == [
        "verdict",
        "datasets",
        "risk",
        "transformation",
        "utility",
        "linkage",
        "governance",
    ]
    visit_ids = identifier_values(load(sample_path("clinic")), ["visit_id"])
    text = path.read_text()
    assert not [v for v in visit_ids if v in text]


def test_oversized_bundle_is_refused_before_reading(tmp_path, monkeypatch) -> None:
    import workbench.review.bundle as bundle_mod

    df, _ = _planted_frame()
    path = _bundle(df).save(tmp_path / "b.json")
    size = path.stat().st_size
    monkeypatch.setattr(bundle_mod, "MAX_BUNDLE_BYTES", size)
    assert AssessmentBundle.load(path).title == "Leak test"  # exactly at the limit: read
    monkeypatch.setattr(bundle_mod, "MAX_BUNDLE_BYTES", size - 1)
    with pytest.raises(ConfigError, match="at most"):
        AssessmentBundle.load(path)
