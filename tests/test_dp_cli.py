"""``workbench dp``: the JSON contract, exit codes, departments charging one ledger, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main

CATALOG = Path(__file__).resolve().parents[1] / "data" / "samples" / "city" / "catalog.yaml"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "pid": rng.integers(0, 300, 1200),
            "sex": rng.choice(["f", "m"], 1200),
            "age": rng.integers(0, 90, 1200),
        }
    )
    data = tmp_path / "visits.csv"
    df.to_csv(data, index=False)
    return tmp_path, data


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def release_args(data, ledger, eps="0.5", *extra):
    return (
        "dp", "release", str(data), "--privacy-unit", "pid", "--max-contributions", "3",
        "--count", "--by", "sex", "--keys", "sex=f,m,x", "--mean", "age", "--bounds",
        "age=0:100", "--epsilon", eps, "--ledger", str(ledger), "--population", "residents",
        *extra,
    )  # fmt: skip


def test_release_json_contract_output_and_provenance(env, capsys):
    tmp, data = env
    ledger, out = tmp / "residents.jsonl", tmp / "release.csv"
    code, stdout, _ = run(
        capsys, *release_args(data, ledger, "0.5", "--budget", "1,1e-6", "--output", str(out),
                              "--json"),
    )  # fmt: skip
    assert code == 0
    doc = json.loads(stdout)
    for key in ("epsilon_spent", "budget", "privacy_unit", "max_contributions", "mechanism",
                "noise_scale", "statistics"):  # fmt: skip
        assert key in doc
    assert set(doc["budget"]) == {"epsilon", "delta", "remaining_epsilon"}
    assert doc["budget"]["epsilon"] == 1.0 and doc["budget"]["remaining_epsilon"] == 0.5
    assert doc["epsilon_spent"] == pytest.approx(0.5)
    assert doc["privacy_unit"] == "pid" and doc["max_contributions"] == 3
    assert "at most 3 row(s)" in doc["contribution_bounding"]
    groups = [s["group"] for s in doc["statistics"] if s["statistic"] == "count"]
    assert groups == [{"sex": "f"}, {"sex": "m"}, {"sex": "x"}]  # the empty key too
    assert all(len(s["ci95"]) == 2 for s in doc["statistics"])
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["statistic", "column", "sex", "value", "ci95_low", "ci95_high"]
    recs = [json.loads(line) for line in (tmp / "prov.jsonl").read_text().splitlines()]
    dp_rec = [r for r in recs if r["operation"] == "dp-release"]
    assert len(dp_rec) == 1
    params = dp_rec[0]["parameters"]
    assert params["ledger"]["entry"] == 1 and params["epsilon"] == pytest.approx(0.5)
    assert "statistics" not in json.dumps(params)  # never a released or exact value
    assert dp_rec[0]["recipe"] is None  # replay would spend the budget again


def test_refusal_exit_1_nothing_written(env, capsys):
    tmp, data = env
    ledger, out = tmp / "l.jsonl", tmp / "r.csv"
    assert run(capsys, *release_args(data, ledger, "0.7", "--budget", "1"))[0] == 0
    before = ledger.read_bytes()
    code, _, err = run(capsys, *release_args(data, ledger, "0.4", "--output", str(out)))
    assert code == 1 and "refused" in err
    assert not out.exists() and ledger.read_bytes() == before


def test_bad_input_exit_2(env, capsys):
    tmp, data = env
    ledger = tmp / "l.jsonl"
    assert run(capsys, *release_args(data, ledger, "0.2", "--budget", "1"))[0] == 0
    code, _, err = run(capsys, *release_args(data, ledger, "0.2", "--budget", "2"))
    assert code == 2 and "only be lowered" in err
    code, _, err = run(
        capsys, "dp", "release", str(data), "--privacy-unit", "pid", "--max-contributions", "1",
        "--count", "--by", "sex", "--epsilon", "0.1", "--ledger", str(ledger),
    )  # fmt: skip
    assert code == 2 and "never released silently" in err
    with pytest.raises(SystemExit) as info:  # no privacy unit: argparse refuses
        main(["dp", "release", str(data), "--max-contributions", "1", "--count",
              "--epsilon", "0.1", "--ledger", str(ledger)])  # fmt: skip
    assert info.value.code == 2


def test_departments_charge_one_ledger_under_the_harmonized_budget(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    ledger = tmp_path / "residents.jsonl"

    def release(name, by, eps):
        return run(
            capsys, "dp", "release", name, "--catalog", str(CATALOG), "--privacy-unit",
            "person_key", "--max-contributions", "3", "--count", "--by", by, "--epsilon", eps,
            "--ledger", str(ledger), "--json",
        )  # fmt: skip

    # housing's policy allows epsilon 2: a new ledger takes it
    code, out, _ = release("housing", "income_band", "0.6")
    assert code == 0
    assert json.loads(out)["budget"]["epsilon"] == 2.0
    # the clinic's policy allows 1.0: the ledger is lowered, and 0.6 + 0.3 fits
    code, out, _ = release("clinic", "sex", "0.3")
    assert code == 0
    doc = json.loads(out)
    assert doc["budget"]["epsilon"] == 1.0 and doc["budget"]["delta"] == 1e-7
    # housing again: its own policy says 2.0, but the population's ledger is at 1.0
    code, _, err = release("housing", "income_band", "0.2")
    assert code == 1 and "already spent" in err
    code, out, _ = run(capsys, "dp", "ledger", str(ledger), "--json")
    state = json.loads(out)
    assert state["departments"] == ["Health", "Housing"]
    assert state["epsilon_spent"] == pytest.approx(0.9)
    assert [r["datasets"] for r in state["releases"]] == [["housing"], ["clinic"]]


def test_ledger_lists_non_dp_releases(env, capsys):
    tmp, data = env
    ledger = tmp / "l.jsonl"
    assert run(capsys, *release_args(data, ledger, "0.2", "--budget", "1"))[0] == 0
    code, out, _ = run(
        capsys, "dp", "ledger", str(ledger), "--add-exposure", "k-anonymous extract",
        "--name", "clinic_k5.csv", "--risk", "k=5", "--risk", "records_at_risk=0.01",
        "--department", "Health", "--json",
    )  # fmt: skip
    assert code == 0
    exp = json.loads(out)["non_dp_releases"]
    assert exp[0]["risk"] == {"k": 5.0, "records_at_risk": 0.01}


def test_accuracy_spends_nothing_and_draws_the_curve(env, capsys):
    tmp, data = env
    chart = tmp / "curve.html"
    code, out, _ = run(
        capsys, "dp", "accuracy", str(data), "--privacy-unit", "pid", "--max-contributions",
        "2", "--count", "--epsilon", "1", "--epsilons", "0.5,1,2", "--chart", str(chart),
        "--json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert [r["epsilon"] for r in doc["error_curve"]] == [0.5, 1.0, 2.0]
    errs = [r["error95"] for r in doc["error_curve"]]
    assert errs[0] > errs[1] > errs[2]
    assert chart.stat().st_size > 1000
    assert not (tmp / "prov.jsonl").exists()


def test_ledger_lists_an_assessment_bundle(env, capsys):
    from workbench.samples.demo import sample_bundle_path

    tmp, data = env
    ledger = tmp / "l.jsonl"
    assert run(capsys, *release_args(data, ledger, "0.2", "--budget", "1"))[0] == 0
    code, out, _ = run(
        capsys, "dp", "ledger", str(ledger), "--add-bundle", str(sample_bundle_path()), "--json"
    )
    assert code == 0
    exp = json.loads(out)["non_dp_releases"][0]
    assert exp["kind"].endswith("-anonymous extract") and exp["datasets"] == ["clinic"]
    assert 0 <= exp["risk"]["highest_risk"] <= 1 and exp["risk"]["k"] >= 1


def test_ledger_and_provenance_keep_the_release_parameters_unredacted(env, capsys):
    tmp, data = env
    ledger = tmp / "l.jsonl"
    assert run(capsys, *release_args(data, ledger, "0.2", "--budget", "1"))[0] == 0
    rec = json.loads(ledger.read_text().splitlines()[-1])
    release = rec["parameters"]["release"]
    assert release["public_values"] == {"sex": 3} and release["private_selection"] is False
    assert "[REDACTED]" not in ledger.read_text()
    assert "[REDACTED]" not in (tmp / "prov.jsonl").read_text()


def test_release_bundle_is_reviewable_in_the_report_and_dashboard(env, capsys):
    """`--bundle` writes an assessment bundle with a DP section; the report and the dashboard
    draw the error bars and the ledger from it (never the exact values)."""
    from workbench.review.bundle import AssessmentBundle
    from workbench.ui.review import ReviewDashboard

    tmp, data = env
    ledger, bundle, html = tmp / "residents.jsonl", tmp / "dp.json", tmp / "dp.html"
    code, _, err = run(
        capsys, *release_args(data, ledger, "0.5", "--budget", "1,1e-6", "--bundle", str(bundle))
    )
    assert code == 0, err
    b = AssessmentBundle.load(bundle)
    assert b.dp["release"]["privacy_unit"] == "pid"
    assert b.dp["ledger"]["budget"]["epsilon"] == 1.0
    assert main(["report", str(bundle), "-o", str(html)]) == 0
    page = html.read_text()
    assert "Differential privacy and the privacy-loss ledger" in page
    assert "epsilon spent by this release" in page and "remaining epsilon" in page
    shown = ReviewDashboard(b).body.outputs[0]["data"]["text/html"]
    assert "Differential privacy and the privacy-loss ledger" in shown
