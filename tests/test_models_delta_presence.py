"""delta-presence (ARX DPresence): research share per class of a population table, by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.deid import Criteria, Hierarchy, SearchContext, anonymize
from workbench.errors import ParameterError
from workbench.models import Classes, DeltaPresence

# population: a x4, b x2, c x4, d x2 ; research subset: a x2, b x2, c x1, d x0
POP = pd.DataFrame({"zip": ["a"] * 4 + ["b"] * 2 + ["c"] * 4 + ["d"] * 2})
RESEARCH = pd.DataFrame({"zip": ["a", "a", "b", "b", "c"]})
H = Hierarchy.from_rows([("a", "g1", "*"), ("b", "g1", "*"), ("c", "g2", "*"), ("d", "g2", "*")])


def test_class_pass_by_hand() -> None:
    t = Classes(np.array([4, 2, 4, 2]), 12, research=np.array([2.0, 2.0, 1.0, 0.0]))
    # deltas 0.5, 1.0, 0.25, 0.0
    assert DeltaPresence(0.25, 0.5).class_pass(t).tolist() == [True, False, True, False]
    assert DeltaPresence(0.2501, 0.5).class_pass(t).tolist() == [True, False, False, False]
    assert DeltaPresence(0.0, 0.4999).class_pass(t).tolist() == [False, False, True, True]
    assert DeltaPresence(0.0, 1.0).measure(t, np.ones(4, bool)) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("dmin", "dmax", "suppression", "levels", "suppressed"),
    [
        # level 1: g1 = 4/6 = 0.667, g2 = 1/6; level 2: 5/12 = 0.417
        (0.1, 0.7, 0.0, {"zip": 1}, 0),
        (0.1, 0.6, 0.0, {"zip": 2}, 0),
        (0.2, 0.5, 0.5, {"zip": 0}, 4),  # b (1.0) and d (0.0) suppressed: 4 of 12 records
        (0.5, 0.6, 0.0, None, None),  # the whole table has 0.417
    ],
)
def test_search_by_hand(dmin, dmax, suppression, levels, suppressed) -> None:
    r = anonymize(
        POP,
        ["zip"],
        {"zip": H},
        k=1,
        delta_presence=(dmin, dmax),
        research_subset=RESEARCH,
        suppression=suppression,
    )
    assert r.found == (levels is not None)
    if levels is not None:
        assert dict(r.levels) == levels and r.suppressed == suppressed


def test_search_equals_exhaustive_on_random_tables() -> None:
    """Pruning with delta-presence (monotone without suppression) loses no optimum."""
    rng = np.random.default_rng(9)
    for trial in range(8):
        n = 120
        df = pd.DataFrame(
            {"a": rng.integers(0, 6, n).astype(str), "b": rng.integers(0, 3, n).astype(str)}
        )
        sub = df.sample(int(n * 0.4), random_state=trial)
        hs = {
            "a": Hierarchy.from_rows(
                [(v, f"g{int(v) // 2}", "*") for v in sorted(df["a"].unique())]
            ),
            "b": Hierarchy.from_rows([(v, "*") for v in sorted(df["b"].unique())]),
        }
        ctx = SearchContext(df, ["a", "b"], hs, research_subset=sub)
        for sup in (0.0, 0.1):
            crit = Criteria(k=1, suppression=sup, models=(DeltaPresence(0.2, 0.6),))
            fast, slow = ctx.search(crit), ctx.search(crit, exhaustive=True)
            assert fast.found == slow.found
            if fast.found:
                assert fast.levels == slow.levels and fast.score == slow.score


def test_research_subset_must_be_a_subset() -> None:
    bad = pd.DataFrame({"zip": ["d", "d", "d"]})  # three d records, the data has two
    with pytest.raises(ParameterError, match="research_subset"):
        anonymize(POP, ["zip"], {"zip": H}, k=1, delta_presence=(0, 1), research_subset=bad)
    with pytest.raises(ParameterError, match="research"):
        anonymize(POP, ["zip"], {"zip": H}, k=1, delta_presence=(0, 1))
    with pytest.raises(ParameterError, match="dmin <= dmax"):
        DeltaPresence(0.6, 0.2)


def test_cli_delta_presence(tmp_path, capsys) -> None:
    pop, sub, hier = tmp_path / "p.csv", tmp_path / "s.csv", tmp_path / "h.csv"
    POP.to_csv(pop, index=False)
    RESEARCH.to_csv(sub, index=False)
    hier.write_text("a;g1;*\nb;g1;*\nc;g2;*\nd;g2;*\n")
    base = ["anonymize", str(pop), "--qi", "zip", "--hierarchy", f"zip={hier}", "--k", "1"]
    assert (
        main([*base, "--delta-presence", "0.1:0.7", "--research-subset", str(sub), "--json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["levels"] == {"zip": 1}
    assert doc["criteria"]["models"] == [{"model": "delta_presence", "dmin": 0.1, "dmax": 0.7}]
    assert main([*base, "--delta-presence", "0.5:0.6", "--research-subset", str(sub)]) == 1
    with pytest.raises(SystemExit) as exc:  # argparse: a usage error
        main([*base, "--delta-presence", "0.5"])
    assert exc.value.code == 2
