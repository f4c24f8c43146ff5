"""``workbench synth`` and ``workbench synth evaluate``: the ledger charge, refusal, JSON sections."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.dp import Ledger


def _people(n: int, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pid": [f"P{seed}_{i}" for i in range(n)],
            "year": r.integers(1930, 2005, n),
            "zip": r.choice([f"z{i:02d}" for i in range(40)], n),
            "sex": r.choice(["F", "M"], n),
            "job": r.choice([f"j{i:02d}" for i in range(30)], n),
            "income": r.choice(list("abcdefgh"), n),
        }
    )


@pytest.fixture
def tables(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "prov.jsonl"))
    monkeypatch.chdir(tmp_path)
    train, hold = _people(400, 1), _people(400, 2)
    train.to_csv("train.csv", index=False)
    hold.to_csv("holdout.csv", index=False)
    # the attacker's register names every training person and 100 others
    voters = pd.concat([train, hold.iloc[:100]]).sample(frac=1, random_state=0)
    voters[["pid", "year", "zip", "sex"]].to_csv("voters.csv", index=False)
    return train, hold


GEN = [
    "synth",
    "train.csv",
    "--columns",
    "year,sex,income",
    "--bins",
    "year=1950,1970,1990",
    "--keys",
    "sex=F|M",
    "--keys",
    "income=a|b|c|d|e|f|g|h",
    "--privacy-unit",
    "pid",
    "--population",
    "residents",
    "--ledger",
    "ledger.jsonl",
    "--output",
    "synth.csv",
]


def test_a_synthesis_past_the_budget_is_refused_and_writes_nothing(tables, tmp_path, capsys):
    code = main([*GEN, "--epsilon", "1.0", "--budget", "0.5"])
    assert code == 1
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "synth.csv").exists()
    assert not (tmp_path / "synth.csv.synth.json").exists()
    assert not Ledger(tmp_path / "ledger.jsonl").exists()  # not even created


def test_the_ledger_is_required(tables):
    with pytest.raises(SystemExit) as e:
        main([*[a for a in GEN if a not in ("--ledger", "ledger.jsonl")], "--epsilon", "1"])
    assert e.value.code == 2


@pytest.mark.slow
def test_synthesis_charges_the_ledger_then_evaluate_reads_its_bins(tables, tmp_path, capsys):
    assert main([*GEN, "--epsilon", "1.0", "--budget", "1.5", "--rows", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 300 and doc["charge"]["epsilon"] == 1.0
    assert doc["charge"]["rho"] == pytest.approx(0.5)  # pure epsilon: rho = epsilon^2 / 2
    state = Ledger(tmp_path / "ledger.jsonl").state()
    assert len(state.entries) == 1
    assert state.entries[0].charge.epsilon == 1.0
    syn = pd.read_csv(tmp_path / "synth.csv", dtype=str)
    assert list(syn.columns) == ["year", "sex", "income"]
    assert set(syn["year"].dropna()) <= {"<1950", "[1950, 1970[", "[1970, 1990[", ">=1990"}
    # a second synthesis would pass the budget (1 + 1 > 1.5): refused, ledger unchanged
    assert main([*GEN, "--epsilon", "1.0", "--output", "again.csv"]) == 1
    assert len(Ledger(tmp_path / "ledger.jsonl").state().entries) == 1
    assert not (tmp_path / "again.csv").exists()
    # evaluate bins the real tables with the recorded edges
    code = main(
        ["synth", "evaluate", "train.csv", "synth.csv", "--holdout", "holdout.csv", "--json"]
    )
    assert code == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["columns"] == ["year", "sex", "income"]
    assert ev["fidelity"]["one_way_tv"]["year"] < 0.5


def test_evaluate_a_copy_shows_the_attacks_and_the_linkage(tables, tmp_path, capsys):
    train, _ = tables
    train.drop(columns="pid").to_csv("copy.csv", index=False)
    code = main(
        [
            "synth",
            "evaluate",
            "train.csv",
            "copy.csv",
            "--holdout",
            "holdout.csv",
            "--columns",
            "year,zip,sex,job,income",
            "--attacker",
            "voters.csv",
            "--truth",
            "pid",
            "--on",
            "year,zip,sex",
            "--attacks",
            "150",
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"fidelity", "privacy"}
    assert doc["fidelity"]["one_way_tv_max"] == 0.0
    risks = {a["attack"]: a["risk"] for a in doc["privacy"]["attacks"]}
    assert risks["singling_out"] > 0.8 and risks["inference"] > 0.8
    assert doc["privacy"]["distance_to_closest_record"]["share_dcr_zero_training"] == 1.0
    link = doc["privacy"]["linkage"]
    assert link["correct_reidentifications"] == link["real_training_table_correct"] > 0
    assert link["beats_random_baseline"] is True
    # the holdout people are on the roll too (100 of them), but a copy names none of them
    assert link["holdout_control_correct"] == 0
    uniq = doc["privacy"]["sample_uniques"]
    assert uniq["coinciding_with_a_training_unique"] == uniq["training_sample_uniques"]


def test_evaluate_needs_attacker_and_truth_together(tables, tmp_path, capsys):
    code = main(
        ["synth", "evaluate", "train.csv", "train.csv", "--holdout", "holdout.csv"]
        + ["--columns", "year,sex", "--attacker", "voters.csv"]
    )
    assert code == 2
    assert "truth" in capsys.readouterr().err


def test_evaluate_bundle_is_reviewable_and_leak_checked(tables, tmp_path, capsys):
    """`synth evaluate --bundle` writes an assessment bundle the report and the dashboard draw;
    no identifier value of the real table (the pid column) reaches it."""
    from workbench.review.bundle import AssessmentBundle
    from workbench.ui.review import ReviewDashboard

    train, _ = tables
    train.drop(columns="pid").to_csv("copy.csv", index=False)
    args = ["synth", "evaluate", "train.csv", "copy.csv", "--holdout", "holdout.csv",
            "--columns", "year,zip,sex,job,income", "--attacks", "60"]  # fmt: skip
    assert main([*args, "--bundle", "b.json"]) == 0
    capsys.readouterr()
    text = (tmp_path / "b.json").read_text()
    assert not [p for p in train["pid"] if p in text]
    b = AssessmentBundle.load(tmp_path / "b.json")
    risks = {a["attack"]: a["risk"] for a in b.synthetic["privacy"]["attacks"]}
    assert risks["singling_out"] > 0.8  # a copy of the training rows
    assert main(["report", "b.json", "-o", "r.html"]) == 0
    page = (tmp_path / "r.html").read_text()
    assert "Synthetic data: fidelity and the attacks it must resist" in page
    assert "singling_out" in page and "distance to closest record" in page
    shown = ReviewDashboard(b).body.outputs[0]["data"]["text/html"]
    assert "Synthetic data: fidelity" in shown
    assert main([*args, "--bundle", "train.csv"]) == 2  # never over an input


def test_hierarchy_flag_is_parsed_and_a_missing_file_refused(tables, tmp_path, capsys):
    from workbench.cli._synth import _hierarchies
    from workbench.errors import ParameterError

    (tmp_path / "job.csv").write_text("".join(f"j{i:02d};g{i % 3};*\n" for i in range(30)))
    assert _hierarchies(["job=job.csv:1"]) == {"job": ("job.csv", 1)}
    assert _hierarchies(["job=job.csv"]) == {"job": ("job.csv", 0)}
    for bad in ("job", "=job.csv", "job=nothere.csv:1"):
        with pytest.raises(ParameterError, match="COL=FILE"):
            _hierarchies([bad])
    code = main([*GEN, "--epsilon", "1", "--hierarchy", "job=nothere.csv"])
    assert code == 2 and not (tmp_path / "synth.csv").exists()


def test_evaluate_generalizes_the_real_tables_by_the_spec_hierarchy(tables, tmp_path, capsys):
    """The spec names the hierarchy file and level; a copy of the generalized training rows is
    then an exact copy (without reading the spec's hierarchy, no row would be)."""
    train, _ = tables
    (tmp_path / "job.csv").write_text("".join(f"j{i:02d};g{i % 3};*\n" for i in range(30)))
    copy = train[["sex", "job"]].copy()
    copy["job"] = "g" + (copy["job"].str[1:].astype(int) % 3).astype(str)
    copy.to_csv("copy.csv", index=False)
    spec = {
        "columns": ["sex", "job"],
        "bins": {},
        "hierarchies": {"job": {"source": "job.csv", "level": 1}},
    }
    (tmp_path / "copy.csv.synth.json").write_text(json.dumps(spec))
    args = ["synth", "evaluate", "train.csv", "copy.csv", "--holdout", "holdout.csv",
            "--attacks", "30", "--json"]  # fmt: skip
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["privacy"]["distance_to_closest_record"]["share_dcr_zero_training"] == 1.0
    spec["hierarchies"]["job"]["source"] = "gone.csv"
    (tmp_path / "copy.csv.synth.json").write_text(json.dumps(spec))
    assert main(args) == 2
    assert "hierarchy file of column 'job'" in capsys.readouterr().err
