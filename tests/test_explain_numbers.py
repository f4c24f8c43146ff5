"""Every number a review shows is explained (issue #13, "Explain every number").

One label table (``workbench.review.figures.LABELS``) for raw keys, durations in words, named traces in
every chart, SUDA shares that say why they exceed 100 %, unavailable estimators with their
reason, and a join-risk matrix with likelihood and harm shown apart.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import plotly.graph_objects as go
import pytest

from workbench.review import charts
from workbench.review.bundle import AssessmentBundle
from workbench.review.figures import LABELS, duration_words, fmt, label
from workbench.review.report import render_html, sections

# raw keys the 0.2 review printed as they are stored
RAW_KEYS = [
    "records_compared",
    "records_original",
    "records_transformed",
    "records_suppressed",
    "elapsed_seconds",
    "transformations_checked",
    "lattice_size",
    "mean_crosstab_difference",
    "expected_reidentifications",
    "released_records",
    "attacker_records",
    "no_match",
    "many_matches",
]


def _visible_text(page: str) -> str:
    """The text a reader sees: no script (chart data), no style, no attribute."""

    class P(HTMLParser):
        skip = 0
        parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    p = P()
    p.parts = []
    p.feed(page)
    return " ".join(p.parts)


@pytest.fixture(scope="module")
def sample_doc() -> dict:
    from workbench.samples.demo import sample_bundle_path

    return json.loads(sample_bundle_path().read_text())


@pytest.mark.parametrize(
    ("iso", "words"),
    [
        ("P3Y", "3 years"),
        ("P1Y", "1 year"),
        ("P1Y6M", "1 year 6 months"),
        ("P30D", "30 days"),
        ("P2W", "2 weeks"),
        ("PT12H", "12 hours"),
        ("P1DT1M", "1 day 1 minute"),
        ("PT1.5S", "1.5 seconds"),
        ("P", None),
        ("PT", None),
        ("3Y", None),
        ("P3", None),
        ("Pharmacy", None),
    ],
)
def test_durations_in_words(iso, words) -> None:
    assert duration_words(iso) == words
    assert fmt(iso) == (words or iso)


def test_labels_replace_raw_keys() -> None:
    assert label("records_compared") == "records compared"
    assert label("elapsed_seconds") == "time taken (seconds)"
    assert label("no_such_key_here") == "no such key here"
    assert [v for v in LABELS.values() if "_" in v] == []
    assert fmt({"records_compared": 3}) == "records compared: 3"


def test_report_shows_no_raw_key_and_no_iso_duration(sample_doc) -> None:
    """The sample review (every section) with a planted P3Y retention: words only."""
    doc = json.loads(json.dumps(sample_doc))
    doc["policy"]["policy"]["retention"] = "P3Y"
    doc["utility"]["records_compared"] = 7257
    doc["transformation"]["elapsed_seconds"] = 4.2
    text = _visible_text(render_html(AssessmentBundle.from_dict(doc), plotlyjs="cdn"))
    assert "3 years" in text and "P3Y" not in text
    assert re.search(r"\bP\d+[YMWD]\b", text) is None
    found = [k for k in RAW_KEYS if k in text]
    assert found == [], found
    assert "records compared" in text and "time taken (seconds)" in text


def test_unavailable_estimator_says_why(sample_doc) -> None:
    """Pitman is None in the sample with a recorded reason: the table shows the reason."""
    pop = sample_doc["risk_before"]["population"]
    assert pop["pitman"] is None and pop["notes"]["pitman"]
    text = _visible_text(render_html(AssessmentBundle.from_dict(sample_doc), plotlyjs="cdn"))
    row = re.search(r"estimated population uniques \(Pitman\)\s+(.*?)\s{2}", text)
    assert row and row.group(1).startswith("unavailable: the likelihood is maximised"), row


def test_suda_shares_say_they_do_not_sum_to_100(sample_doc) -> None:
    fig = charts.suda_contributions({"attribute_contributions": {"age": 80.0, "sex": 45.0}})
    assert "not summing to 100 %" in fig.layout.title.text
    doc = json.loads(json.dumps(sample_doc))
    doc["risk_before"]["suda"] = {
        "msus": 3,
        "records_with_msu": 2,
        "attribute_contributions": {"patient_dob": 80.0, "sex": 45.0},
    }
    text = _visible_text(render_html(AssessmentBundle.from_dict(doc), plotlyjs="cdn"))
    assert charts.SUDA_NOT_100 in text


def test_join_risk_matrix_shows_likelihood_and_harm_apart(sample_doc) -> None:
    pair = sample_doc["matrix"]["pairs"][0]
    why = charts.join_risk_why(pair)
    assert f"likelihood {pair['likelihood']:.1%}" in why and f"harm {pair['harm']:.2f}" in why
    assert "clinic.diagnosis (health)" in why and "likelihood x harm" in why
    text = _visible_text(render_html(AssessmentBundle.from_dict(sample_doc), plotlyjs="cdn"))
    assert "likelihood (records singled out)" in text and "harm (0-1" in text
    assert f"{100 * pair['likelihood']:.1f} %" in text
    fig = charts.join_risk_heatmap(sample_doc["matrix"])
    assert why in json.dumps([list(row) for row in fig.data[0].customdata])
    assert "%{customdata}" in fig.data[0].hovertemplate


def test_every_chart_builder_names_its_traces(sample_doc, monkeypatch) -> None:
    """Walk every chart builder (a call recorder on workbench.review.charts and workbench.dp.charts,
    the review of the sample bundle with SUDA added, then the builders it did not reach): no
    trace is unnamed, so no hover says "trace 0"."""
    from workbench.dp import charts as dp_charts

    built: dict[str, list[go.Figure]] = {}
    modules = (charts, dp_charts)
    builders = {
        f"{m.__name__}.{n}": getattr(m, n)
        for m in modules
        for n in dir(m)
        if not n.startswith("_")
        and callable(getattr(m, n))
        and getattr(getattr(m, n), "__module__", "") == m.__name__
        and getattr(getattr(m, n), "__annotations__", {}).get("return") in ("go.Figure", go.Figure)
    }
    for name, fn in builders.items():
        mod, short = name.rsplit(".", 1)

        def wrap(*a, _fn=fn, _name=name, **k):
            fig = _fn(*a, **k)
            built.setdefault(_name, []).append(fig)
            return fig

        monkeypatch.setattr(f"{mod}.{short}", wrap)
    doc = json.loads(json.dumps(sample_doc))
    doc["risk_before"]["suda"] = {"attribute_contributions": {"patient_dob": 80.0, "sex": 45.0}}
    for s in sections(AssessmentBundle.from_dict(doc)):
        assert s.figures is not None
    risk = doc["risk_before"]
    charts.risk_distribution(risk)
    charts.records_at_risk_curve(risk, threshold=0.2)
    charts.empty_figure("nothing to draw", "title")
    dp_charts.error_vs_epsilon([{"epsilon": 0.5, "error": 3.0}, {"epsilon": 1.0, "error": 1.5}])
    # sections the sample bundle does not hold: the builders with the smallest real inputs
    charts.subset_uniqueness({"subsets": [{"columns": ["age", "sex"], "uniqueness": 0.3}]})
    charts.frontier_chart(
        {
            "points": [
                {"risk": 0.1, "loss": 0.4, "label": "k=5", "pareto": True},
                {"risk": 0.3, "loss": 0.2, "label": "k=2", "pareto": False},
            ]
        }
    )
    charts.scenario_matrix_heatmap(
        {
            "releases": ["clinic"],
            "scenarios": [{"name": "journalist"}],
            "outcomes": [
                {"release": "clinic", "scenario": "journalist", "risk": 0.1, "applicable": True}
            ],
        }
    )
    dp_charts.release_error_bars(
        {
            "epsilon_spent": 1.0,
            "statistics": [
                {"statistic": "count", "group": {"sex": "F"}, "value": 10.0, "ci95": [8, 12]},
                {"statistic": "count", "group": {"sex": "M"}, "value": 9.0, "ci95": [7, 11]},
            ],
        }
    )
    dp_charts.ledger_spending(
        {"budget": {"epsilon": 2.0}, "releases": [{"seq": 1, "charge": {"epsilon": 0.5}}]}
    )
    missing = sorted(set(builders) - set(built))
    assert missing == [], f"chart builders not exercised: {missing}"
    unnamed = [
        (name, i)
        for name, figs in built.items()
        for fig in figs
        for i, trace in enumerate(fig.data)
        if not (trace.name or "").strip()
    ]
    assert unnamed == [], unnamed


def test_headline_figures_carry_one_line_in_plain_words(sample_doc) -> None:
    """k, sample uniques, records at risk, highest risk and expected re-identifications each
    get one sentence, from the one definition the notebooks use too."""
    from workbench.review.figures import at_risk_meaning, headline_meanings, k_meaning
    from workbench.ui import _common

    assert _common.k_meaning is k_meaning and _common.at_risk_meaning is at_risk_meaning
    risk = sample_doc["risk_after"] or sample_doc["risk_before"]
    lines = dict(headline_meanings(risk))
    assert set(lines) == {
        "smallest class (k)",
        "sample uniques",
        "records at risk",
        "highest prosecutor risk",
        "expected re-identifications",
    }
    assert lines["smallest class (k)"].startswith(f"k = {risk['min_class_size']:,}")
    n, records = risk["sample_uniques"], risk["records"]
    assert lines["sample uniques"].startswith(f"{n:,} of {records:,} records")
    text = _visible_text(render_html(AssessmentBundle.from_dict(sample_doc), plotlyjs="cdn"))
    for line in lines.values():
        assert line in text
    # a tiny profile, checked by hand: 1 of 4 records alone, k = 1, threshold 0.5
    tiny = {
        "records": 4,
        "min_class_size": 1,
        "sample_uniques": 1,
        "qis": ["age", "sex"],
        "prosecutor": {"records_at_risk": 0.25, "threshold": 0.5, "highest": 1.0},
        "global_risk": {"expected_reidentifications": 2.0},
    }
    words = dict(headline_meanings(tiny))
    assert words["smallest class (k)"] == (
        "k = 1: at least one person is alone in their group and can be singled out by anyone "
        "who knows these 2 attributes (age, sex)."
    )
    assert words["sample uniques"].startswith("1 of 4 records (25.0%)")
    assert words["records at risk"].startswith("1 of 4 people (25.0%)")
    assert "up to 100%" in words["highest prosecutor risk"]
    assert "right about 2 times" in words["expected re-identifications"]


@pytest.mark.browser
def test_review_in_chromium_explains_its_numbers(sample_doc, page, shot_dir, tmp_path) -> None:
    """The report in Chromium: durations in words, labels, the join-risk "why", and hovering a
    bar of every chart shows a named trace, never "trace 0"."""
    doc = json.loads(json.dumps(sample_doc))
    doc["policy"]["policy"]["retention"] = "P3Y"
    doc["risk_before"]["suda"] = {"attribute_contributions": {"patient_dob": 80.0, "sex": 45.0}}
    out = tmp_path / "review.html"
    out.write_text(render_html(AssessmentBundle.from_dict(doc)))
    page.goto(out.as_uri(), timeout=60_000)
    height = page.evaluate("() => document.body.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 100, 16000)})
    n = page.locator(".wb-chart").count()
    page.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n}",
        timeout=60_000,
    )
    text = page.inner_text("body")
    assert "3 years" in text and "P3Y" not in text
    assert [k for k in RAW_KEYS if k in text] == []
    assert "likelihood (records singled out)" in text and charts.SUDA_NOT_100 in text
    hovered: list[str] = []
    for i in range(n):
        point = page.locator(f"#wb-fig-{i} .point, #wb-fig-{i} .heatmaplayer").first
        if point.count():
            point.hover(force=True)
            page.wait_for_timeout(150)
            hover = page.evaluate(
                f"() => document.querySelector('#wb-fig-{i} .hoverlayer').textContent"
            )
            assert "trace 0" not in hover, (i, hover)
            hovered.append(hover)
    assert sum(1 for h in hovered if h.strip()) >= 2, hovered  # the hovers really showed
    page.screenshot(path=str(shot_dir / "review_explained.png"), full_page=True)
    assert page.js_errors == [], page.js_errors
