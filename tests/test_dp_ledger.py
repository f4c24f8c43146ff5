"""The privacy-loss ledger: budget arithmetic, refusal, lowering, tampering, racing processes."""

from __future__ import annotations

import json
import math
import multiprocessing as mp

import pytest

from workbench.dp import ACCOUNTING, Budget, Charge, Ledger, total, zcdp_epsilon
from workbench.dp._accounting import rho_for_epsilon
from workbench.errors import BudgetExceededError, ParameterError, ProvenanceError


def pure(eps: float) -> Charge:
    """A pure-epsilon charge as the release module makes it (rho = eps^2 / 2)."""
    return Charge(eps * eps / 2, 0.0, eps, 0.0)


def charge(led: Ledger, c: Charge, **kw):
    kw.setdefault("population", "residents")
    return led.charge(c, **kw)


# ------------------------------------------------------------------------------- accounting
def test_zcdp_conversion_is_opendp_tight_and_below_the_classic_bound():
    # Bun & Steinke (2016) Prop. 1.3: rho-zCDP => (rho + 2 sqrt(rho ln(1/delta)), delta)-DP.
    # OpenDP's conversion (Canonne, Kamath & Steinke 2020) is tighter, never looser.
    for rho, delta in [(0.125, 1e-6), (0.5, 1e-7), (0.01, 1e-5)]:
        classic = rho + 2 * math.sqrt(rho * math.log(1 / delta))
        eps = zcdp_epsilon(rho, delta)
        assert rho < eps <= classic
    assert zcdp_epsilon(0.0, 1e-6) == 0.0
    assert zcdp_epsilon(0.1, 0.0) == math.inf  # zCDP never gives pure DP


def test_rho_for_epsilon_inverts_the_conversion():
    rho = rho_for_epsilon(1.0, 1e-6)
    assert zcdp_epsilon(rho, 1e-6) <= 1.0
    assert zcdp_epsilon(rho * 1.01, 1e-6) > 1.0


def test_total_takes_the_smaller_of_basic_composition_and_zcdp():
    few = total([pure(0.5), pure(0.5)], 1e-6)
    assert few.epsilon == pytest.approx(1.0) and few.bound == "basic composition"
    many = total([pure(0.05)] * 100, 1e-6)  # basic: 5.0; zCDP: rho = 0.125
    assert many.bound == "zCDP conversion"
    assert many.rho == pytest.approx(0.125)
    assert many.epsilon == pytest.approx(zcdp_epsilon(0.125, 1e-6))
    assert many.epsilon < 5.0
    # with a pure budget (delta = 0) only basic composition of pure charges is valid
    assert total([pure(0.05)] * 100, 0.0).epsilon == pytest.approx(5.0)
    approx = Charge(0.01, 1e-7, 0.9, 1e-6)
    assert total([approx], 0.0).epsilon == math.inf


# ------------------------------------------------------------------------------- budget
def test_budget_parse_and_validation():
    assert Budget.parse("1.5") == Budget(1.5, 0.0)
    assert Budget.parse("1,1e-6") == Budget(1.0, 1e-6)
    for bad in ("", "a", "1,2,3", "0", "-1", "1,1"):
        with pytest.raises(ParameterError):
            Budget.parse(bad)
    with pytest.warns(UserWarning, match="protects almost nobody"):
        Budget(20.0)


def test_charges_until_the_budget_then_refuse_without_writing(tmp_path):
    led = Ledger(tmp_path / "residents.jsonl")
    charge(led, pure(0.4), budget=Budget(1.0))
    charge(led, pure(0.6), budget=Budget(1.0))  # exactly at the limit: admitted
    state = led.state()
    assert state.spent.epsilon == pytest.approx(1.0)
    assert state.remaining_epsilon == pytest.approx(0.0)
    before = led.path.read_bytes()
    with pytest.raises(BudgetExceededError) as info:
        charge(led, pure(1e-9))  # just above the limit
    assert info.value.budget == 1.0
    assert led.path.read_bytes() == before


def test_refused_first_release_creates_no_ledger(tmp_path):
    led = Ledger(tmp_path / "new.jsonl")
    with pytest.raises(BudgetExceededError):
        charge(led, pure(1.5), budget=Budget(1.0))
    assert not led.path.exists()


def test_new_ledger_needs_a_budget(tmp_path):
    with pytest.raises(ParameterError, match="dp_budget"):
        charge(Ledger(tmp_path / "l.jsonl"), pure(0.1))


def test_budget_can_only_be_lowered(tmp_path):
    path = tmp_path / "l.jsonl"
    Ledger.open(path, "residents", Budget(2.0, 1e-6))
    with pytest.raises(ParameterError, match="only be lowered"):
        Ledger.open(path, "residents", Budget(3.0, 1e-6))
    with pytest.raises(ParameterError, match="only be lowered"):
        Ledger.open(path, "residents", Budget(2.0, 1e-5))  # a larger delta is a raise too
    led = Ledger.open(path, "residents", Budget(1.5, 1e-6))
    assert led.state().budget == Budget(1.5, 1e-6)
    ops = [r["operation"] for r in led.log.records()]
    assert ops == ["dp-ledger-open", "dp-budget-lower"]


def test_newly_harmonized_budget_below_spent_admits_nothing(tmp_path):
    led = Ledger(tmp_path / "l.jsonl")
    charge(led, pure(1.5), budget=Budget(2.0))
    # a new dataset's policy brings the harmonized budget down to 1.0: already overspent
    before = led.path.read_bytes()
    with pytest.raises(BudgetExceededError):
        charge(led, pure(0.01), budget=Budget(1.0))
    assert led.path.read_bytes() == before
    # a policy budget above the ledger's never raises it
    with pytest.raises(BudgetExceededError):
        charge(led, pure(0.6), budget=Budget(5.0))
    assert led.state().budget.epsilon == 2.0


def test_population_is_fixed(tmp_path):
    led = Ledger(tmp_path / "l.jsonl")
    charge(led, pure(0.1), budget=Budget(1.0))
    with pytest.raises(ParameterError, match="one ledger per population"):
        charge(led, pure(0.1), population="businesses")


def test_tampered_ledger_admits_nothing(tmp_path):
    led = Ledger(tmp_path / "l.jsonl")
    charge(led, pure(0.8), budget=Budget(1.0))
    lines = led.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["parameters"]["charge"]["epsilon"] = 0.01  # someone hides the spending
    lines[1] = json.dumps(rec)
    led.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProvenanceError, match="hash chain is broken"):
        charge(led, pure(0.1))


def test_exposures_are_listed_with_the_releases(tmp_path):
    led = Ledger(tmp_path / "l.jsonl")
    charge(led, pure(0.3), budget=Budget(1.0), departments=["Health"], datasets=["clinic"])
    led.record_exposure(
        "k-anonymous extract",
        "housing_k5.csv",
        {"k": 5, "records_at_risk": 0.0},
        population="residents",
        datasets=["housing"],
        departments=["Housing"],
    )
    with pytest.raises(ParameterError):
        led.record_exposure("x", "y", {"rows": [1, 2]}, population="residents")
    doc = led.state().to_dict()
    assert doc["accounting"] == ACCOUNTING
    assert doc["departments"] == ["Health"]
    assert [x["kind"] for x in doc["non_dp_releases"]] == ["k-anonymous extract"]
    assert doc["non_dp_releases"][0]["risk"] == {"k": 5, "records_at_risk": 0.0}
    assert doc["budget"]["remaining_epsilon"] == pytest.approx(0.7)


# ------------------------------------------------------------------------------- racing
def _race(path: str, eps: float, barrier, results) -> None:
    led = Ledger(path)
    barrier.wait()
    try:
        led.charge(pure(eps), population="residents")
        results.put("ok")
    except BudgetExceededError:
        results.put("refused")


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_racing_never_overspend(tmp_path, round_):
    path = tmp_path / f"race{round_}.jsonl"
    Ledger.open(path, "residents", Budget(1.0))
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(path), 0.6, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["ok", "refused"]
    state = Ledger(path).state()
    assert len(state.entries) == 1 and state.spent.epsilon == pytest.approx(0.6)
