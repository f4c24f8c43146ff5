"""k-map (ARX KMap): population table and Poisson / zero-truncated Poisson estimates, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.cli import main
from workbench.deid import Hierarchy, anonymize
from workbench.errors import ParameterError
from workbench.models import Classes, KMap
from workbench.models.k_map import derived_k

# sample: a x2, b x1, c x2 ; population: a x5, b x2, c x3, d x4 (d absent from the sample)
SAMPLE = pd.DataFrame({"zip": ["a", "a", "b", "c", "c"]})
POPULATION = pd.DataFrame({"zip": ["a"] * 5 + ["b"] * 2 + ["c"] * 3 + ["d"] * 4})
H = Hierarchy.from_rows([("a", "g1", "*"), ("b", "g1", "*"), ("c", "g2", "*"), ("d", "g2", "*")])


def test_class_pass_with_population_frequencies() -> None:
    t = Classes(np.array([2, 1, 2]), 5, population=np.array([5.0, 2.0, 3.0]))
    assert KMap(3).class_pass(t).tolist() == [True, False, True]
    assert KMap(2).class_pass(t).tolist() == [True, True, True]  # F = 2 exactly at the limit
    assert KMap(3).measure(t, np.array([True, False, True])) == 3.0


@pytest.mark.parametrize(
    ("k", "suppression", "levels", "suppressed"),
    [
        (3, 0.2, {"zip": 0}, 1),  # b (F=2) suppressed: 1 record <= floor(0.2 * 5)
        (3, 0.0, {"zip": 1}, 0),  # g1: F = 7, g2: F = 7 (d counts although not in the sample)
        (7, 0.0, {"zip": 1}, 0),  # exactly at the limit
        (8, 0.0, {"zip": 2}, 0),  # only "*" (F = 14) works
        (15, 0.0, None, None),  # more than the population
    ],
)
def test_search_with_a_population_table(k, suppression, levels, suppressed) -> None:
    r = anonymize(
        SAMPLE,
        ["zip"],
        {"zip": H},
        k=1,
        k_map=k,
        population_table=POPULATION,
        suppression=suppression,
    )
    assert r.found == (levels is not None)
    if levels is not None:
        assert dict(r.levels) == levels and r.suppressed == suppressed


def _poisson_reference(k, pi, alpha):
    """ARX calculateKPoisson with scipy: smallest c with CDF(c) >= 1 - alpha, plus 2."""
    c = 0
    while stats.poisson.cdf(c, pi * k) < 1 - alpha:
        c += 1
    return c + 2


def _ztp_reference(k, pi, alpha):
    """ARX calculateKZeroPoisson: smallest c >= 1 with the truncated CDF >= 1 - alpha, plus 1."""
    lam = pi * k
    norm = 1 - stats.poisson.pmf(0, lam)
    c, total = 1, stats.poisson.pmf(1, lam) / norm
    while total < 1 - alpha:
        c += 1
        total += stats.poisson.pmf(c, lam) / norm
    return c + 1


def test_derived_k_by_hand() -> None:
    # lambda = 0.1 * 10 = 1: CDF(0..3) = .368 .736 .920 .981 -> c = 3, k' = 5
    assert derived_k(10, 0.1, "poisson", 0.05, 1000) == 5
    # truncated: .582 .873 .970 -> c = 3, k' = 4
    assert derived_k(10, 0.1, "zero_truncated_poisson", 0.05, 1000) == 4
    # never above k (lambda 1.5 would give 6) nor above the number of records
    assert derived_k(3, 0.5, "poisson", 0.05, 1000) == 3
    assert derived_k(10, 0.1, "poisson", 0.05, 4) == 4


@pytest.mark.parametrize("k", [5, 10, 20, 50])
@pytest.mark.parametrize("pi", [0.01, 0.1, 0.3])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_derived_k_matches_scipy_reference(k, pi, alpha) -> None:
    assert derived_k(k, pi, "poisson", alpha, 10**9) == min(k, _poisson_reference(k, pi, alpha))
    assert derived_k(k, pi, "zero_truncated_poisson", alpha, 10**9) == min(
        k, _ztp_reference(k, pi, alpha)
    )


def test_estimated_k_map_is_k_anonymity_with_derived_k() -> None:
    # 1000 records of a population of 10 000: pi = 0.1, k = 10 -> k' = 5 (Poisson)
    t = Classes(np.array([4, 5, 991]), 1000, population_size=10_000)
    assert KMap(10, "poisson").sample_k(t) == 5
    assert KMap(10, "poisson").class_pass(t).tolist() == [False, True, True]
    assert KMap(10, "zero_truncated_poisson").class_pass(t).tolist() == [True, True, True]


def test_k_map_needs_its_inputs() -> None:
    with pytest.raises(ParameterError, match="population"):
        anonymize(SAMPLE, ["zip"], {"zip": H}, k=1, k_map=3)
    with pytest.raises(ParameterError, match="population_size"):
        anonymize(SAMPLE, ["zip"], {"zip": H}, k=1, k_map=3, k_map_estimator="poisson")
    with pytest.raises(ParameterError, match="estimator"):
        KMap(3, "binomial")


def test_cli_k_map_with_population_table(tmp_path, capsys) -> None:
    sample, pop, hier = tmp_path / "s.csv", tmp_path / "p.csv", tmp_path / "h.csv"
    SAMPLE.to_csv(sample, index=False)
    POPULATION.to_csv(pop, index=False)
    hier.write_text("a;g1;*\nb;g1;*\nc;g2;*\nd;g2;*\n")
    args = ["anonymize", str(sample), "--qi", "zip", "--hierarchy", f"zip={hier}", "--k", "1"]
    assert main([*args, "--k-map", "7", "--population-table", str(pop), "--json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["levels"] == {"zip": 1}
    assert doc["criteria"]["models"] == [{"model": "k_map", "k": 7, "significance": 0.05}]
    assert main([*args, "--k-map", "15", "--population-table", str(pop)]) == 1


def test_k_map_with_mondrian_and_apply() -> None:
    """Every Mondrian partition covers at least k population records; apply() re-uses tables."""
    rng = np.random.default_rng(1)
    pop = pd.DataFrame({"age": rng.integers(20, 80, 2000).astype(str)})
    sample = pop.sample(200, random_state=1)
    ages = pop["age"].astype(int)
    r = anonymize(
        sample, ["age"], k=2, k_map=20, population_table=pop, strategy="mondrian", return_data=True
    )
    assert r.found and r.classes > 1
    for label in r.data["age"].unique():
        if label.startswith("["):
            lo, hi = (int(x) for x in label[1:-1].split("-"))
            n = int(((ages >= lo) & (ages <= hi)).sum())
        else:
            n = int((pop["age"] == label).sum())
        assert n >= 20, label
    lat = anonymize(sample, ["age"], k=2, k_map=20, population_table=pop, return_data=True)
    assert lat.apply(sample, population=pop).equals(lat.data)


@pytest.mark.parametrize("leaves", [6, 300])  # 300 x 300 leaves takes the hash-grouping path
def test_population_table_search_against_plain_reference(leaves) -> None:
    """Per node, suppressed records equal a plain pandas reference (population F_k >= k)."""
    rng = np.random.default_rng(leaves)
    pop = pd.DataFrame({q: rng.integers(0, leaves, 3000).astype(str) for q in ("a", "b")})
    sample = pop.sample(250, random_state=leaves).reset_index(drop=True)
    hs = {
        q: Hierarchy.from_rows([(str(v), f"g{v % 3}", "*") for v in range(leaves)])
        for q in ("a", "b")
    }
    from workbench.deid import Criteria, SearchContext

    ctx = SearchContext(sample, ["a", "b"], hs, population=pop)
    for k in (2, 5, 40):
        crit = Criteria(k=1, suppression=1.0, models=(KMap(k),))
        for node in ((0, 0), (1, 0), (0, 1), (1, 1), (2, 1)):
            maps = [{r[0]: r[lev] for r in hs[q].rows} for q, lev in zip("ab", node, strict=True)]

            def keys(frame, maps=maps):
                return list(zip(frame["a"].map(maps[0]), frame["b"].map(maps[1]), strict=True))

            big_f = pd.Series(keys(pop)).value_counts()
            sample_keys = keys(sample)
            expected = sum(1 for key in sample_keys if big_f.get(key, 0) < k)
            ev = ctx.evaluate(node, crit)
            assert ev.suppressed == expected, (k, node)
