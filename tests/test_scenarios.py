"""Threat scenarios: each goal checked by hand on tiny tables, the YAML contract, the CLI on the
sample city (ground truth), and the worst scenario per release."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError, ParameterError
from workbench.scenarios import (
    Release,
    Scenario,
    evaluate_scenarios,
    learned_mask,
    load_scenarios,
)

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"

# release: classes on (zone, grp): A A | B | C C C ; the person column is scoring-only truth
RELEASE = pd.DataFrame(
    {
        "zone": ["z1", "z1", "z2", "z3", "z3", "z3"],
        "grp": ["g", "g", "g", "h", "h", "h"],
        "dx": ["flu", "flu", "cold", "flu", "cold", "cold"],
        "person": ["p1", "p1", "p2", "p3", "p4", "p5"],
    }
)
# attacker's identified table: A once (p1), B twice (p2 and p9), D once; C absent
ATTACKER = pd.DataFrame(
    {
        "zone": ["z1", "z2", "z2", "z4"],
        "grp": ["g", "g", "g", "h"],
        "person": ["p1", "p2", "p9", "p7"],
    }
)


def _rel() -> Release:
    return Release("rel", RELEASE, truth_column="person")


def _ext() -> Release:
    return Release("register", ATTACKER, truth_column="person")


def _one(scenario: Scenario):
    m = evaluate_scenarios([_rel()], [scenario], external=[_ext()])
    return m.outcome("rel", scenario.name)


def test_prosecutor_without_holdings_by_hand() -> None:
    s = Scenario("nb", attacker_model="prosecutor", knows=("zone", "grp"), risk_threshold=0.4)
    o = _one(s)
    # 1/f per record: 1/2, 1/2, 1, 1/3, 1/3, 1/3 -> expected 3 of 6
    assert o.applicable and o.expected_reidentifications == pytest.approx(3.0)
    assert o.risk == pytest.approx(0.5) and o.highest_risk == 1.0
    # records with 1/f > 0.4: the two of class A (0.5) and the unique -> 3 of 6
    assert o.records_at_risk == pytest.approx(0.5)
    # p1's two records are one person's: singled out with the unique p2 -> 3 records
    assert o.actual_reidentifications == 3
    assert set(o.fields) == {"zone", "grp"}


@pytest.mark.parametrize(("threshold", "at_risk"), [(0.49, 3 / 6), (0.5, 1 / 6), (0.51, 1 / 6)])
def test_prosecutor_records_at_risk_at_the_threshold(threshold: float, at_risk: float) -> None:
    s = Scenario("nb", attacker_model="prosecutor", knows=("zone", "grp"), risk_threshold=threshold)
    assert _one(s).records_at_risk == pytest.approx(at_risk)  # strictly greater, as ARX


def test_journalist_with_an_identified_register_by_hand() -> None:
    s = Scenario("j", attacker_model="journalist", holds=("register",), knows=("zone", "grp"))
    o = _one(s)
    # F per record: A -> 1, 1; B -> 2; C -> 0 (not in the register): expected 1 + 1 + 1/2
    assert o.expected_reidentifications == pytest.approx(2.5)
    assert o.risk == pytest.approx(2.5 / 6)
    assert o.highest_risk == 1.0
    # unique candidates: both A records -> p1 (right); B has two candidates -> none claimed
    assert o.actual_reidentifications == 2


def test_marketer_and_journalist_share_the_expected_count_not_the_model() -> None:
    j = _one(Scenario("j", attacker_model="journalist", holds=("register",), knows=("zone", "grp")))
    m = _one(Scenario("m", attacker_model="marketer", holds=("register",), knows=("zone", "grp")))
    assert m.expected_reidentifications == pytest.approx(j.expected_reidentifications)
    p = _one(Scenario("p", attacker_model="prosecutor", holds=("register",), knows=("zone", "grp")))
    # prosecutor with the register: matched records only (A, A, B), risk 1/f = 1/2, 1/2, 1
    assert p.expected_reidentifications == pytest.approx(2.0)


def test_knowledge_limits_the_fields() -> None:
    only_zone = _one(Scenario("z", attacker_model="prosecutor", knows=("zone",)))
    assert only_zone.fields == ("zone",)
    # zone classes: z1 z1 | z2 | z3 z3 z3 -> same sizes as before here
    assert only_zone.expected_reidentifications == pytest.approx(3.0)
    none = _one(Scenario("n", attacker_model="prosecutor", knows=("shoe_size",)))
    assert not none.applicable and "none of the known facts" in none.summary


def test_learned_mask_homogeneity_and_background_knowledge_by_hand() -> None:
    keys = np.array([0, 0, 0, 0, 1, 1, 2], dtype=np.int64)
    vals = np.array([0, 0, 0, 1, 0, 1, 2], dtype=np.int64)
    # class 0: value 0 has share 3/4, value 1 has 1/4; class 1: 1/2 each; class 2: 1/1
    assert learned_mask(keys, vals, 0.75).tolist() == [1, 1, 1, 0, 0, 0, 1]
    assert learned_mask(keys, vals, 0.76).tolist() == [0, 0, 0, 0, 0, 0, 1]
    # ruling out one other value: class 0 value 1 -> 1/(4-3) = 1; class 1 -> 1/(2-1) = 1
    assert learned_mask(keys, vals, 1.0, rule_out=1).tolist() == [1, 1, 1, 1, 1, 1, 1]
    missing = learned_mask(np.array([-1, 0]), np.array([0, -1]), 0.1)
    assert missing.tolist() == [0, 0]


def test_learned_mask_against_a_slow_reference() -> None:
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 60))
        keys = rng.integers(0, 6, n)
        vals = rng.integers(0, 4, n)
        conf = float(rng.choice([0.3, 0.5, 2 / 3, 0.8, 1.0]))
        b = int(rng.integers(0, 3))
        expected = []
        for i in range(n):
            cls = vals[keys == keys[i]]
            own = int((cls == vals[i]).sum())
            others = sorted(
                (int((cls == v).sum()) for v in set(cls.tolist()) - {vals[i]}), reverse=True
            )
            expected.append(own / (len(cls) - sum(others[:b])) >= conf - 1e-12)
        assert learned_mask(keys, vals, conf, b).tolist() == expected


def test_infer_goal_by_hand() -> None:
    s = Scenario(
        "inf",
        attacker_model="prosecutor",
        knows=("zone", "grp"),
        goal="infer",
        sensitive=("dx",),
        confidence=0.6,
    )
    o = _one(s)
    # A: flu, flu -> learned (2); B: cold alone -> learned (1); C: flu 1/3, cold 2/3 -> cold (2)
    assert o.learned_records == 5 and o.risk == pytest.approx(5 / 6)
    o2 = _one(
        Scenario(
            "inf2",
            attacker_model="prosecutor",
            knows=("zone", "grp"),
            goal="infer",
            sensitive=("dx",),
            confidence=0.67,
        )
    )
    assert o2.learned_records == 3  # 2/3 < 0.67: class C gives nothing away


def test_membership_goal_by_hand() -> None:
    s = Scenario(
        "mem",
        attacker_model="journalist",
        holds=("register",),
        knows=("zone", "grp"),
        goal="membership",
    )
    o = _one(s)
    # register people: p1 (A: f=2, F=1 -> delta 1), p2 and p9 (B: f=1, F=2 -> 0.5), p7 (D: 0)
    assert o.guessed_members == 3 and o.delta_max == 1.0
    # truth: p1, p2 in the release; p9, p7 not -> TPR 2/2, FPR 1/2 -> advantage 0.5
    assert o.membership_advantage == pytest.approx(0.5)
    assert o.risk == pytest.approx(0.5)


def test_attacker_holding_the_release_own_source_is_not_applicable() -> None:
    rel = Release("rel", RELEASE, dataset="register")
    ext = Release("register", ATTACKER, dataset="register")
    s = Scenario("own", holds=("register",), knows=("zone",), goal="membership")
    o = evaluate_scenarios([rel], [s], external=[ext]).outcome("rel", "own")
    assert not o.applicable and "own source" in o.summary


def test_worst_scenario_is_named_per_release() -> None:
    a = Scenario("low", attacker_model="prosecutor", knows=("grp",))
    b = Scenario("high", attacker_model="prosecutor", knows=("zone", "grp"))
    m = evaluate_scenarios([_rel()], [a, b], external=[_ext()])
    assert m.worst()["rel"].scenario == "high"
    assert "worst is high" in m.worst_in_words()["rel"]
    doc = m.to_dict()
    assert doc["worst"] == {"rel": "high"}
    text = json.dumps(doc)
    for person in ("p1", "p2", "p3", "flu", "z1"):  # no cell value reaches the matrix
        assert f'"{person}"' not in text


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"name": "x", "attacker": {"knows": ["a"], "model": "hacker"}}, "attacker.model"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "goal": "steal"}, "goal"),
        ({"name": "x", "attacker": {"knows": []}}, "attacker.knows"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "goal": "membership"}, "membership"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "confidence": 0}, "confidence"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "confidence": 1.01}, "confidence"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "rule_out": -1}, "rule_out"),
        ({"name": "x", "attacker": {"knows": ["a"]}, "colour": "red"}, "unknown keys"),
        (
            {"name": "x", "attacker": {"knows": ["a"]}, "matching": {"method": "fuzzy"}},
            "matching.method",
        ),
        (
            {
                "name": "x",
                "attacker": {"knows": ["a"]},
                "matching": {"method": "probabilistic", "threshold": 1.0},
            },
            "threshold",
        ),
        ({"name": "bad name!", "attacker": {"knows": ["a"]}}, "name"),
    ],
)
def test_scenario_validation(doc: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Scenario.from_dict(doc)


def test_confidence_limits_are_inclusive_at_one() -> None:
    ok = Scenario.from_dict({"name": "x", "attacker": {"knows": ["a"]}, "confidence": 1.0})
    assert ok.confidence == 1.0
    again = Scenario.from_dict(ok.to_dict())
    assert again == ok


def test_shipped_city_scenarios_load_and_round_trip() -> None:
    scenarios = load_scenarios([CITY / "scenarios"])
    names = {s.name for s in scenarios}
    assert {"neighbour", "journalist_voter_roll", "data_broker", "insider_housing"} <= names
    assert {s.goal for s in scenarios} == {"reidentify", "infer", "membership"}
    for s in scenarios:
        assert Scenario.from_dict(s.to_dict(), base_dir=CITY / "scenarios") == s


def test_duplicate_names_and_oversized_files_are_refused(tmp_path: Path) -> None:
    doc = "name: a\nattacker: {knows: [x]}\n"
    (tmp_path / "one.yaml").write_text(doc)
    (tmp_path / "two.yaml").write_text(doc)
    with pytest.raises(ConfigError, match="used twice"):
        load_scenarios([tmp_path])
    big = tmp_path / "big" / "big.yaml"
    big.parent.mkdir()
    big.write_text("# " + "x" * 300_000 + "\n" + doc)
    with pytest.raises(ConfigError, match="at most"):
        load_scenarios([big.parent])


def test_evaluate_needs_releases_and_scenarios() -> None:
    with pytest.raises(ParameterError):
        evaluate_scenarios([], [Scenario("a", knows=("x",))])
    with pytest.raises(ParameterError):
        evaluate_scenarios([_rel()], [])


def test_cli_on_the_city_against_an_independent_count(tmp_path: Path) -> None:
    """The journalist's correct re-identifications of clinic visits equal a pandas merge of the
    clinic file with the voter roll and the ground truth (unique candidates only)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "scenarios",
            str(CITY / "catalog.yaml"),
            "--scenarios",
            str(CITY / "scenarios" / "journalist_voter_roll.yaml"),
            "--scenarios",
            str(CITY / "scenarios" / "neighbour.yaml"),
            "--releases",
            "clinic",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={**__import__("os").environ, "WORKBENCH_PROVENANCE": str(tmp_path / "p.jsonl")},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    cell = {(o["release"], o["scenario"]): o for o in doc["outcomes"]}
    j = cell[("clinic", "journalist_voter_roll")]

    clinic = pd.read_csv(CITY / "clinic_visits.csv", dtype=str)
    voters = pd.read_csv(CITY / "voter_roll.csv", dtype=str)
    gt = pd.read_csv(CITY / "ground_truth.csv", dtype=str)
    clinic["dob"] = pd.to_datetime(
        clinic.patient_dob, format="%d/%m/%Y", errors="coerce"
    ).dt.strftime("%Y-%m-%d")
    clinic["sx"] = clinic.sex.map({"female": "F", "male": "M"})
    voters["sx"] = voters.sex
    key = ["dob", "sx", "postal_code"]
    counts = voters.groupby(key).size().rename("F").reset_index()
    merged = clinic.merge(counts, on=key, how="left")
    assert j["expected_reidentifications"] == pytest.approx((1 / merged.F.dropna()).sum())
    uniq = voters[voters.groupby(key)[key[0]].transform("size") == 1]
    hit = clinic.merge(uniq, on=key, suffixes=("", "_v"))
    truth = gt.set_index(["dataset", "record_id"]).resident_id
    right = (hit.visit_id.map(truth.xs("clinic")) == hit.voter_id.map(truth.xs("voters"))).sum()
    assert j["actual_reidentifications"] == right
    assert right > 1000  # the sample city's point: the voter roll re-identifies thousands
    assert "clinic" in doc["worst"] and doc["worst_in_words"]["clinic"].startswith("clinic: worst")
    assert (tmp_path / "p.jsonl").read_text().count("scenario-matrix") == 1


def test_cli_fail_above_exits_one(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "workbench",
        "scenarios",
        str(CITY / "catalog.yaml"),
        "--scenarios",
        str(CITY / "scenarios" / "neighbour.yaml"),
        "--releases",
        "transit",
        "--json",
    ]
    env = {**__import__("os").environ, "WORKBENCH_PROVENANCE": "off"}
    low = subprocess.run(
        [*args, "--fail-above", "0.99"], capture_output=True, text=True, env=env, timeout=300
    )
    high = subprocess.run(
        [*args, "--fail-above", "0.0"], capture_output=True, text=True, env=env, timeout=300
    )
    assert low.returncode == 0, low.stderr[-1000:]
    assert high.returncode == 1 and json.loads(high.stdout)["failed"] is True
    bad = subprocess.run(
        [*args, "--fail-above", "1.5"], capture_output=True, text=True, env=env, timeout=300
    )
    assert bad.returncode == 2 and "fail-above" in bad.stderr


# --- register of reviewed releases and re-assessment ---------------------------------------


def _cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**__import__("os").environ, "WORKBENCH_PROVENANCE": str(tmp_path / "prov.jsonl")}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )


def _review_2025(tmp_path: Path, reg: Path, *extra: str) -> subprocess.CompletedProcess:
    """Review the housing release against the 2025 city (voter roll without postal codes)."""
    return _cli(
        tmp_path,
        "scenarios",
        str(CITY / "history" / "catalog_2025.yaml"),
        "--releases",
        "housing",
        "--scenarios",
        str(CITY / "scenarios" / "journalist_voter_roll.yaml"),
        "--register",
        str(reg),
        *extra,
    )


def test_the_2025_voter_roll_is_todays_without_postal_codes() -> None:
    today = pd.read_csv(CITY / "voter_roll.csv", dtype=str)
    old = pd.read_csv(CITY / "history" / "voter_roll_2025.csv", dtype=str)
    pd.testing.assert_frame_equal(old, today.drop(columns=["postal_code"]))


def test_voter_roll_update_makes_reassess_exit_one(tmp_path: Path) -> None:
    reg = tmp_path / "register.jsonl"
    review = _review_2025(tmp_path, reg, "--json")
    assert review.returncode == 0, review.stderr[-2000:]
    before = json.loads(review.stdout)["outcomes"][0]
    assert before["risk"] < 0.1 and before["highest_risk"] <= 0.2  # within the housing policy

    same = _cli(
        tmp_path,
        "reassess",
        str(CITY / "history" / "catalog_2025.yaml"),
        "--register",
        str(reg),
        "--json",
    )
    assert same.returncode == 0, same.stderr[-2000:]
    assert [r["status"] for r in json.loads(same.stdout)["releases"]] == ["current"]

    now = _cli(tmp_path, "reassess", str(CITY / "catalog.yaml"), "--register", str(reg), "--json")
    assert now.returncode == 1, now.stderr[-2000:]
    doc = json.loads(now.stdout)
    (rel,) = doc["releases"]
    assert rel["status"] == "breaks policy" and doc["breaks_policy"] is True
    assert [c["name"] for c in rel["changed"]] == ["voters"]
    (delta,) = rel["deltas"]
    assert delta["old_risk"] == pytest.approx(before["risk"])
    assert delta["new_risk"] > 0.3 and delta["delta"] == pytest.approx(
        delta["new_risk"] - delta["old_risk"]
    )
    assert {b["limit"] for b in rel["breaches"]} >= {"average risk", "highest risk"}
    assert "BREAKS its policy" in rel["words"] and "voters" in rel["words"]


def test_a_tampered_register_is_refused(tmp_path: Path) -> None:
    reg = tmp_path / "register.jsonl"
    out = _review_2025(tmp_path, reg)
    assert out.returncode == 0, out.stderr[-2000:]
    text = reg.read_text()
    reg.write_text(text.replace('"risk": 0.0', '"risk": 0.5', 1).replace("0.017", "0.001", 1))
    res = _cli(tmp_path, "reassess", str(CITY / "catalog.yaml"), "--register", str(reg))
    assert res.returncode == 2 and "verification" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_release_file_changed_in_place_is_stale(tmp_path: Path) -> None:
    from workbench.governance.catalog import Catalog
    from workbench.scenarios import reassess, register_review

    cat = Catalog.load(CITY / "catalog.yaml")
    path = tmp_path / "transit_release.csv"
    pd.read_csv(CITY / "transit_passes.csv", dtype=str).drop(columns=["pass_id"]).to_csv(
        path, index=False
    )
    s = load_scenarios([CITY / "scenarios" / "neighbour.yaml"])
    rel = Release("transit_release", pd.read_csv(path, dtype=str), dataset="transit", kind="file")
    m = evaluate_scenarios([rel], s, cat)
    reg = tmp_path / "reg.jsonl"
    register_review(m, [rel], cat, reg, files={"transit_release": path})
    assert [r.status for r in reassess(cat, reg).releases] == ["current"]
    df = pd.read_csv(path, dtype=str)
    df.iloc[:50].to_csv(path, index=False)  # the department re-released a different extract
    (r,) = reassess(cat, reg).releases
    assert r.status in ("stale", "breaks policy")
    assert [c["name"] for c in r.changed] == ["transit_release"]
    assert r.deltas[0]["new_risk"] != r.deltas[0]["old_risk"]


@pytest.mark.parametrize(
    ("risk", "limit", "breached"),
    [(0.07, 0.07, False), (0.0700001, 0.07, True), (0.0699999, 0.07, False)],
)
def test_policy_breach_at_the_exact_limit(risk: float, limit: float, breached: bool) -> None:
    from workbench.governance.policy import RecordsAtRisk, Thresholds
    from workbench.scenarios import ScenarioOutcome, policy_breaches

    o = ScenarioOutcome(
        "r", "s", "reidentify", True, risk, "", highest_risk=risk, records_at_risk=risk
    )
    for th, name in (
        (Thresholds(max_average_risk=limit), "average risk"),
        (Thresholds(max_highest_risk=limit), "highest risk"),
        (Thresholds(max_records_at_risk=RecordsAtRisk(limit, 0.3)), "share of records at risk"),
    ):
        found = policy_breaches(o, th)
        assert bool(found) is breached, (name, risk, limit)
        if found:
            assert found[0].limit == name and found[0].allowed == limit
    # other goals and non-applicable outcomes breach nothing here
    assert (
        policy_breaches(
            ScenarioOutcome("r", "s", "infer", True, 1.0, ""), Thresholds(max_average_risk=0.0)
        )
        == []
    )


def test_scenario_bundle_report_and_stale_mark(tmp_path: Path) -> None:
    reg, bundle, html = tmp_path / "reg.jsonl", tmp_path / "b.json", tmp_path / "r.html"
    out = _review_2025(tmp_path, reg, "--bundle", str(bundle))
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(bundle.read_text())
    assert doc["scenarios"]["worst"] == {"housing": "journalist_voter_roll"}
    assert "reassessment" not in doc["scenarios"]
    # no identifier value of the release reaches the bundle
    housing = pd.read_csv(CITY / "housing_assistance.csv", dtype=str)
    text = bundle.read_text()
    assert not any(v in text for v in housing.application_id.head(200))
    now = _cli(
        tmp_path,
        "reassess",
        str(CITY / "catalog.yaml"),
        "--register",
        str(reg),
        "--bundle",
        str(bundle),
    )
    assert now.returncode == 1, now.stderr[-2000:]
    marked = json.loads(bundle.read_text())["scenarios"]["reassessment"]
    assert marked["breaks_policy"] is True and marked["releases"][0]["status"] == "breaks policy"
    rep = _cli(tmp_path, "report", str(bundle), "-o", str(html))
    assert rep.returncode == 0, rep.stderr[-2000:]
    page = html.read_text()
    assert "Threat scenarios" in page and "breaks policy" in page
    assert "changed: voters (external data)" in page
