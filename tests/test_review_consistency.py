"""Every number a review shows agrees with every other (issue #10, part 4).

The privacy-gate table, the risk table and the verdict box of the report (and the dashboard,
which renders the same sections) must show one figure per measure, before and after, for every
kind of bundle: ``workbench assess --bundle``, ``workbench anonymize --bundle`` with l-diversity
and t-closeness, the notebook summary and the sample review. The tables are read back from the
rendered HTML, so a figure computed twice, or shown for the wrong side, fails here.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers_governance import policy_doc

from workbench.cli import main
from workbench.governance import Policy
from workbench.review.bundle import AssessmentBundle
from workbench.review.report import render_html, sections

QIS = ["age", "sex", "zip"]
# thresholds other than the defaults: risk threshold 0.1 (assess's default is 0.2), min_l 2
THRESHOLDS = {
    "min_k": 3,
    "max_average_risk": 0.3,
    "max_highest_risk": 0.5,
    "min_l": {"diagnosis": 2},
    "max_records_at_risk": {"share": 0.5, "threshold": 0.1},
}
# gate rule -> label of the same figure in the risk table
RISK_LABEL = {
    "min_k": "smallest class (k)",
    "max_average_risk": "average prosecutor risk",
    "max_highest_risk": "highest prosecutor risk",
    "max_records_at_risk": "prosecutor: share of records at risk",
}
RISK_KEY = {
    "min_k": ("min_class_size",),
    "max_average_risk": ("prosecutor", "average"),
    "max_highest_risk": ("prosecutor", "highest"),
    "max_records_at_risk": ("prosecutor", "records_at_risk"),
}


# ------------------------------------------------------------------------------ helpers
class _Tables(HTMLParser):
    """Rows of text cells of every <table>, keyed by the table's CSS class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str, css: str) -> list[list[list[str]]]:
    p = _Tables()
    p.feed(html)
    return [rows for cls, rows in p.tables if css in cls.split()]


def risk_table(bundle) -> dict[str, list[str]]:
    html = "".join(t for s in sections(bundle) if s.key == "risk" for t in s.tables)
    (rows,) = tables(html, "wb-risk")
    return {r[0]: r[1:] for r in rows[1:]}


def gate_table(bundle) -> list[list[str]]:
    html = "".join(t for s in sections(bundle) if s.key == "governance" for t in s.tables)
    (rows,) = tables(html, "wb-gate")
    return rows[1:]


def verdict_html(bundle) -> str:
    (verdict,) = [s for s in sections(bundle) if s.key == "verdict"]
    return "".join(verdict.tables)


def _get(doc, key):
    for k in key:
        doc = doc[k]
    return doc


def data_file(tmp: Path, n: int = 600, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "record_id": [f"R{i:06d}" for i in range(n)],
            "email": [f"person{i}@example.org" for i in range(n)],
            "age": rng.integers(20, 80, n),
            "sex": rng.choice(["F", "M"], n),
            "zip": rng.choice([f"{z:05d}" for z in range(46200, 46210)], n),
            "diagnosis": rng.choice(["flu", "cold", "asthma", "back pain"], n),
        }
    )
    path = tmp / "data.csv"
    df.to_csv(path, index=False)
    return path


def policy_file(tmp: Path, **thresholds) -> Path:
    doc = policy_doc(name="strict", thresholds={**THRESHOLDS, **thresholds})
    return Policy.from_dict(doc).save(tmp / "policy.yaml")


@pytest.fixture(scope="module")
def cli_bundles(tmp_path_factory) -> dict[str, AssessmentBundle]:
    import os

    tmp = tmp_path_factory.mktemp("review")
    os.environ.setdefault("WORKBENCH_USER", "tester")
    data, pol = data_file(tmp), policy_file(tmp)
    common = ["--qi", ",".join(QIS), "--sensitive", "diagnosis", "--policy", str(pol)]
    assert main(["assess", str(data), *common, "--suda", "--bundle", str(tmp / "a.json")]) == 0
    args = ["--k", "3", "--l", "2", "--t", "0.5", "--suppression", "0.1"]
    assert main(["anonymize", str(data), *common, *args, "--bundle", str(tmp / "b.json")]) == 0
    return {
        "assess": AssessmentBundle.load(tmp / "a.json"),
        "anonymize": AssessmentBundle.load(tmp / "b.json"),
    }


@pytest.fixture(scope="module")
def sample_bundle() -> AssessmentBundle:
    from workbench.samples.demo import sample_bundle_path

    return AssessmentBundle.load(sample_bundle_path(refresh=True))


@pytest.fixture
def notebook_bundle() -> AssessmentBundle:
    from _helpers_ui import random_frame, store_for

    from workbench.ui.risk import RiskPanel
    from workbench.ui.summary import build_bundle
    from workbench.ui.tuner import TunerPanel

    store = store_for(random_frame(400), QIS, sensitive=["diagnosis"], direct=["record_id"])
    RiskPanel(store)
    tuner = TunerPanel(store)
    return build_bundle(store.state, "Notebook", released=tuner.transformed()[0])


# ---------------------------------------------------------------- gate table == risk table
@pytest.mark.parametrize("kind", ["assess", "anonymize", "sample"])
def test_every_gate_figure_equals_the_risk_section(kind, cli_bundles, sample_bundle) -> None:
    b = sample_bundle if kind == "sample" else cli_bundles[kind]
    side = b.risk_after or b.risk_before
    risk = risk_table(b)
    rows = gate_table(b)
    measured_rules = [r for r in rows if r[0] in RISK_LABEL or r[0].startswith("min_l[")]
    assert len(measured_rules) == 5  # k, average, highest, records at risk, l of diagnosis
    for rule, measured, _limit, status, _words in rows:
        if rule.startswith("min_l["):
            label, key = f"{rule[6:-1]}: distinct l", ("l_diversity", rule[6:-1], "distinct")
        elif rule in RISK_LABEL:
            label, key = RISK_LABEL[rule], RISK_KEY[rule]
        else:
            continue
        # the last column of the risk table is the side the policy is checked on
        assert risk[label][-1] == measured, (rule, risk[label], measured)
        assert status in ("pass", "fail")
        # and the gate really judged that figure (one computation, not two that happen to agree)
        (finding,) = [f for f in b.gate["findings"] if f["rule"] == rule]
        assert finding["measured"] == pytest.approx(_get(side, key), abs=5e-7)
    # the records-at-risk figure is measured at the policy's threshold, not the default 0.2
    assert side["prosecutor"]["threshold"] == (0.1 if kind != "sample" else 0.2)
    assert b.gate["records"] == side["records"]


def test_inconsistent_gate_is_shown_and_fails_the_verdict(cli_bundles) -> None:
    """An old or edited bundle whose gate disagrees with the risk figures never passes."""
    doc = cli_bundles["anonymize"].to_dict()
    finding = [f for f in doc["gate"]["findings"] if f["rule"] == "min_l[diagnosis]"][0]
    true_l = doc["risk_after"]["l_diversity"]["diagnosis"]["distinct"]
    finding["measured"], finding["status"] = true_l + 3, "pass"
    b = AssessmentBundle.from_dict(doc)
    row = [r for r in gate_table(b) if r[0] == "min_l[diagnosis]"][0]
    assert row[1] == str(true_l) and row[3] == "inconsistent"
    box = verdict_html(b)
    assert "wb-verdict-fail" in box and "INCONSISTENT" in box


# ------------------------------------------------------------------ before and after
def _assert_before_and_after(b: AssessmentBundle, must_have: list[str]) -> None:
    risk = risk_table(b)
    for label in must_have:
        assert label in risk, label
    missing = {label: cells for label, cells in risk.items() if "not computed" in cells}
    assert missing == {}
    assert all(len(cells) == 2 for cells in risk.values())  # before and after columns


SENSITIVE_ROWS = [
    "diagnosis: distinct l",
    "diagnosis: entropy l",
    "diagnosis: recursive (c,l), smallest c",
    "diagnosis: t-closeness (t)",
    "diagnosis: delta-disclosure (delta)",
    "diagnosis: beta-likeness (beta)",
]
RISK_ROWS = [
    "smallest class (k)",
    "highest prosecutor risk",
    "average prosecutor risk",
    "prosecutor: share of records at risk",
    "highest journalist risk",
    "marketer risk",
    "expected re-identifications",
]


def test_anonymize_bundle_has_before_and_after_for_every_measure(cli_bundles) -> None:
    b = cli_bundles["anonymize"]
    _assert_before_and_after(b, RISK_ROWS + SENSITIVE_ROWS)
    # the old risk section showed the "before" l-diversity only: l = 1 while risk_after held more
    assert b.risk_before["l_diversity"]["diagnosis"]["distinct"] == 1
    after_l = b.risk_after["l_diversity"]["diagnosis"]["distinct"]
    assert after_l >= 2
    assert risk_table(b)["diagnosis: distinct l"] == ["1", str(after_l)]


def test_sample_bundle_has_population_estimates_before_and_after(sample_bundle) -> None:
    rows = [
        "population size",
        "estimated population uniques (Zayatz)",
        "estimated population uniques (SNB)",
        "estimated population uniques (Dankar choice)",
    ]
    _assert_before_and_after(sample_bundle, RISK_ROWS + SENSITIVE_ROWS + rows)
    # the dashboard's old mismatch: distinct-l 1 (before) next to a gate that measured 5 (after)
    assert risk_table(sample_bundle)["diagnosis: distinct l"][0] == "1"
    gate_l = [r for r in gate_table(sample_bundle) if r[0] == "min_l[diagnosis]"][0][1]
    assert risk_table(sample_bundle)["diagnosis: distinct l"][1] == gate_l != "1"


def test_notebook_summary_bundle_has_before_and_after(notebook_bundle) -> None:
    _assert_before_and_after(notebook_bundle, RISK_ROWS + SENSITIVE_ROWS)
    after = notebook_bundle.risk_after
    assert after["records"] + notebook_bundle.transformation["suppressed"] == 400


def test_assess_bundle_shows_suda_and_one_column(cli_bundles) -> None:
    b = cli_bundles["assess"]
    risk = risk_table(b)
    assert all(len(cells) == 1 for cells in risk.values())  # no transformation: one column
    assert risk["SUDA: minimal sample uniques"] == [f"{b.risk_before['suda']['msus']:,}"]
    assert "not computed" not in json.dumps(risk)


# ------------------------------------------------------ CLI bundles: roles and information loss
@pytest.mark.parametrize("kind", ["assess", "anonymize"])
def test_cli_bundle_fills_roles(kind, cli_bundles) -> None:
    b = cli_bundles[kind]
    roles = b.datasets[0]["roles"]
    assert {c for c, r in roles.items() if r == "quasi_identifier"} == set(QIS)
    assert {c for c, r in roles.items() if r == "sensitive"} == {"diagnosis"}
    assert {c for c, r in roles.items() if r == "direct_identifier"} >= {"email"}
    html = "".join(t for s in sections(b) if s.key == "datasets" for t in s.tables)
    row = tables(html, "wb-table")[0][1]
    assert row[5] == "age, sex, zip" and row[6] == "diagnosis"


def test_cli_bundle_fills_information_loss(cli_bundles) -> None:
    b = cli_bundles["anonymize"]
    loss = b.utility["generalization_loss"]
    assert loss["metric"] == "loss" and loss["score"] == pytest.approx(b.transformation["score"])
    assert 0 < loss["score"] < 1
    html = "".join(t for s in sections(b) if s.key == "utility" for t in s.tables)
    rows = {r[0]: r[1] for r in tables(html, "wb-table")[0][1:]}
    (label,) = [k for k in rows if k.startswith("information loss")]
    assert rows[label] == f"{loss['score']:.4f}"
    assert "n/a" not in rows.values() and "not computed" not in rows.values()


# --------------------------------------------------------------------------- verdict box
def _tiny_bundle(**thresholds):
    """Classes of sizes 2, 2, 4 (binary fractions, exact): k 2, highest 1/2, average 3/8,
    half the records above risk 1/4, distinct l of diagnosis 2."""
    from workbench.dataset import Dataset
    from workbench.review.assessment import assessment_bundle, risk_options
    from workbench.risk import assess

    df = pd.DataFrame(
        {
            "age": ["30", "30", "40", "40", "50", "50", "50", "50"],
            "zip": ["111", "111", "222", "222", "333", "333", "333", "333"],
            "diagnosis": ["flu", "cold", "flu", "asthma", "flu", "flu", "cold", "cold"],
        }
    )
    pol = Policy.from_dict(policy_doc(name="tiny", thresholds=thresholds))
    thr, sens = risk_options([pol], df.columns, [])
    profile = assess(df, ["age", "zip"], sensitive=sens, threshold=thr)
    ds = Dataset.from_frame(df, name="tiny")
    return assessment_bundle(ds, profile, policies=[pol], gate_options={"record": False})


AT_LIMIT = {
    "min_k": 2,
    "max_average_risk": 0.375,
    "max_highest_risk": 0.5,
    "min_l": {"diagnosis": 2},
    "max_records_at_risk": {"share": 0.5, "threshold": 0.25},
}


def test_verdict_passes_exactly_at_every_limit() -> None:
    b = _tiny_bundle(**AT_LIMIT)
    box = verdict_html(b)
    assert "wb-verdict-pass" in box and "PASS: the data as assessed meets" in box
    # the five limits and the direct-identifier check (no identifier column in this table)
    assert box.count("wb-check-pass") == 6
    assert "direct" in box.lower()
    assert "k = 2 required, 2 measured: PASS" in box
    assert "average risk at most 0.3750 allowed, 0.3750 measured: PASS" in box
    assert "highest risk at most 0.5000 allowed, 0.5000 measured: PASS" in box
    assert "at most 50.00 % of records may have a risk above 0.2500, 50.00 % measured: PASS" in box
    assert "l = 2 distinct values of diagnosis required in every group, 2 measured: PASS" in box


@pytest.mark.parametrize(
    "rule, value, sentence",
    [
        (
            "min_k",
            3,
            "k = 3 required, 2 measured: FAIL — at least one person shares their combination of "
            "quasi-identifiers with only 1 other",
        ),
        ("max_average_risk", 0.37, "average risk at most 0.3700 allowed, 0.3750 measured: FAIL"),
        ("max_highest_risk", 0.49, "highest risk at most 0.4900 allowed, 0.5000 measured: FAIL"),
        (
            "max_records_at_risk",
            {"share": 0.49, "threshold": 0.25},
            "at most 49.00 % of records may have a risk above 0.2500, 50.00 % measured: FAIL",
        ),
        (
            "min_l",
            {"diagnosis": 3},
            "l = 3 distinct values of diagnosis required in every group, 2 measured: FAIL",
        ),
    ],
)
def test_verdict_fails_just_past_each_limit(rule, value, sentence) -> None:
    b = _tiny_bundle(**{**AT_LIMIT, rule: value})
    box = verdict_html(b)
    # five limits plus the direct-identifier check, which passes on this table
    assert "wb-verdict-fail" in box and "1 of 6 checks failed" in box
    assert sentence in box
    assert box.count("wb-check-fail") == 1 and box.count("wb-check-pass") == 5


def test_verdict_box_is_first_in_report_and_dashboard(cli_bundles) -> None:
    from workbench.ui.review import ReviewDashboard

    b = cli_bundles["anonymize"]
    html = render_html(b, plotlyjs="cdn")
    assert html.index("wb-verdict") < html.index("Datasets and owners")
    dash = ReviewDashboard(b)
    shown = dash.body.outputs[0]["data"]["text/html"]
    assert shown.index("wb-verdict") < shown.index("Re-identification risk")
    assert "k = 3 required" in shown


def test_no_policy_says_so() -> None:
    b = AssessmentBundle.build("No policy", rationale="x")
    box = verdict_html(b)
    assert "No policy was checked" in box and "wb-check" not in box


# ----------------------------------------------------------- leak re-check on load
PLANTED = {
    "email": "jane.planted@leak-test.example",
    "ssn": "219-09-9999",
    "name": "Margaret Robertson",  # a common given name and a common surname
}


def planted_bundle(tmp: Path, where: str = "everywhere") -> Path:
    """A clean bundle, then edited by hand: an e-mail, an SSN and a name planted in it."""
    from test_bundle_report import _bundle, _planted_frame

    df, _ = _planted_frame(200)
    doc = _bundle(df).to_dict()
    if where in ("rationale", "everywhere"):
        doc["rationale"] = f"Checked by hand: {PLANTED['email']}, SSN {PLANTED['ssn']}."
    if where in ("distributions", "everywhere"):
        doc["distributions"]["sex"]["after"][PLANTED["name"]] = 0.01
    if where == "name-in-title":
        doc["title"] = f"Visit of {PLANTED['name']}"
    path = tmp / "edited.bundle.json"
    path.write_text(json.dumps(doc))
    return path


def _names_surname_lists_hold_the_planted_name() -> None:
    from workbench.profiling.profiler import _fold, _name_lists

    first, last = _name_lists()
    given, family = PLANTED["name"].split()
    assert _fold(given) in first and _fold(family) in last


@pytest.mark.parametrize("where", ["everywhere", "rationale", "distributions", "name-in-title"])
def test_report_refuses_a_hand_edited_bundle(tmp_path, capsys, where) -> None:
    _names_surname_lists_hold_the_planted_name()
    path = planted_bundle(tmp_path, where)
    out = tmp_path / "report.html"
    assert main(["report", str(path), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "look like direct identifiers" in captured.err and path.name in captured.err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]
    for value in PLANTED.values():
        for part in value.split():
            assert part not in captured.err + captured.out


def test_dashboard_refuses_a_hand_edited_bundle(tmp_path, monkeypatch) -> None:
    """The code the dashboard notebook runs shows a plain refusal, never the values."""
    import ipywidgets as widgets

    from workbench.review.bundle import LeakError
    from workbench.ui.review import ReviewDashboard, review_page

    path = planted_bundle(tmp_path)
    monkeypatch.setenv("WORKBENCH_BUNDLE", str(path))
    page = review_page(None)
    assert isinstance(page, widgets.HTML) and "wb-refused" in page._dom_classes
    assert "cannot be reviewed" in page.value and "look like direct identifiers" in page.value
    state = json.dumps(page.get_state(), default=str)
    for value in PLANTED.values():
        for part in value.split():
            assert part not in state
    # the dictionary path (a bundle handed over in memory) is refused as well
    with pytest.raises(LeakError):
        ReviewDashboard(json.loads(path.read_text()))


def test_a_clean_bundle_and_the_staff_who_wrote_it_pass(tmp_path, sample_bundle) -> None:
    """No false alarm: the sample review, and the officer's own name as author."""
    from workbench.review.bundle import check_bundle

    check_bundle(sample_bundle)
    doc = json.loads(planted_bundle(tmp_path, "none").read_text())
    doc["author"] = PLANTED["name"]
    doc["provenance"] = [{"user": PLANTED["name"], "operation": "release-bundle"}]
    b = AssessmentBundle.from_dict(doc)
    assert PLANTED["name"] in render_html(b, plotlyjs="cdn")


def test_a_threshold_the_data_cannot_be_checked_against_is_flagged_for_review() -> None:
    b = _tiny_bundle(**{**AT_LIMIT, "min_l": {"income": 2}})  # no such column
    box = verdict_html(b)
    assert "wb-verdict-pass" in box and "1 point(s) need a person&#x27;s review" in box
    assert "min_l[income]: REVIEW" in box and box.count("wb-check-review") == 1


def test_assess_refuses_a_threshold_that_contradicts_the_policy(tmp_path, capsys) -> None:
    """Two "records at risk" figures (0.3 in the risk table, 0.1 in the gate) are refused."""
    data, pol = data_file(tmp_path, n=60), policy_file(tmp_path)
    bundle = tmp_path / "b.json"
    args = ["assess", str(data), "--qi", "age,sex", "--policy", str(pol), "--bundle", str(bundle)]
    assert main([*args, "--threshold", "0.3"]) == 2
    assert "threshold" in capsys.readouterr().err and not bundle.exists()
    assert main([*args, "--threshold", "0.1", "--json"]) == 0  # the policy's own threshold
    assert AssessmentBundle.load(bundle).risk_before["prosecutor"]["threshold"] == 0.1


# ------------------------------------------------------------ the gate judges the shown profile
def test_gate_judges_the_given_profile_without_measuring_again(monkeypatch) -> None:
    import workbench.risk as risk_mod
    from workbench.errors import ParameterError
    from workbench.governance import gate
    from workbench.risk import assess

    b_df = pd.DataFrame({"age": ["30", "30", "40", "40"], "zip": ["1", "1", "2", "2"]})
    pol = Policy.from_dict(policy_doc(name="p", thresholds=AT_LIMIT))
    profile = assess(b_df, ["age", "zip"], threshold=0.25)

    def no_second_measurement(*a, **k):
        raise AssertionError("the gate measured again")

    monkeypatch.setattr(risk_mod, "assess", no_second_measurement)
    res = gate(b_df, policy=pol, qis=["age", "zip"], profile=profile, record=False)
    (k,) = [f for f in res.findings if f.rule == "min_k"]
    assert k.measured == 2 and k.status == "pass"
    # a profile of other QIs, another table or another risk threshold is refused
    for wrong, what in [
        (assess(b_df, ["age"], threshold=0.25), "QIs"),
        (assess(b_df.iloc[:2], ["age", "zip"], threshold=0.25), "records"),
        (assess(b_df, ["age", "zip"], threshold=0.2), "threshold"),
    ]:
        with pytest.raises(ParameterError, match=what):
            gate(b_df, policy=pol, qis=["age", "zip"], profile=wrong, record=False)
    with_dx = b_df.assign(diagnosis=["flu", "cold", "flu", "cold"])
    no_l = assess(with_dx, ["age", "zip"], threshold=0.25)  # min_l[diagnosis] not measured
    with pytest.raises(ParameterError, match="diagnosis"):
        gate(with_dx, policy=pol, qis=["age", "zip"], profile=no_l, record=False)
    full = assess(with_dx, ["age", "zip"], sensitive=["diagnosis"], threshold=0.25)
    res = gate(with_dx, policy=pol, qis=["age", "zip"], profile=full, record=False)
    assert [f.status for f in res.findings if f.rule == "min_l[diagnosis]"] == ["pass"]


def test_workbench_dashboard_refuses_a_hand_edited_bundle_before_serving(tmp_path, capsys) -> None:
    path = planted_bundle(tmp_path)
    assert main(["dashboard", str(path), "--print-command"]) == 2
    captured = capsys.readouterr()
    assert "look like direct identifiers" in captured.err and "voila" not in captured.out
    for value in PLANTED.values():
        for part in value.split():
            assert part not in captured.err + captured.out


def test_transformation_table_does_not_repeat_risk_figures(cli_bundles) -> None:
    """The search's own copy of k and the risks is not shown next to the risk table's."""
    b = cli_bundles["anonymize"]
    html = "".join(t for s in sections(b) if s.key == "transformation" for t in s.tables)
    settings = {r[0]: r[1] for r in tables(html, "wb-table")[0][1:]}
    from workbench.review.figures import label

    risk_keys = {"min_class_size", "average_risk", "highest_risk", "classes"}
    assert not {label(k) for k in risk_keys} & set(settings)
    assert settings[label("suppressed")] == (
        f"{b.risk_before['records'] - b.risk_after['records']:,}"
    )
    assert settings[label("levels")].startswith("age: ")


def test_a_figure_that_is_not_a_number_is_inconsistent_not_a_crash(cli_bundles) -> None:
    doc = cli_bundles["anonymize"].to_dict()
    doc["risk_after"]["min_class_size"] = "many"
    [f for f in doc["gate"]["findings"] if f["rule"] == "min_k"][0]["measured"] = "many"
    box = verdict_html(AssessmentBundle.from_dict(doc))
    assert "wb-verdict-fail" in box and "k-anonymity" not in box
    assert "wb-check-inconsistent" in box


def test_a_malformed_section_is_a_typed_error(cli_bundles, tmp_path, capsys) -> None:
    doc = cli_bundles["anonymize"].to_dict()
    doc["risk_before"]["class_size_histogram"] = {"1": "lots"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "bad.json: assessment bundle: the risk section is malformed" in err
    assert "lots" not in err
