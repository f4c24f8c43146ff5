"""Public domains of synthesized columns: published hierarchies (categorical and numeric).

A category present only in the data, not in the declared domain, must never reach the synthetic
table; no domain is read from the data without budget (or, for a hierarchy not read from a file,
without a warning).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.deid.hierarchy import Hierarchy
from workbench.errors import ParameterError, PrivacyWarning
from workbench.synth.evaluate import evaluate
from workbench.synth.generate import apply_domains, resolve_hierarchies, synthesize

JOBS = [("j1", "office", "*"), ("j2", "office", "*"), ("j3", "manual", "*"), ("j4", "manual", "*")]


@pytest.fixture
def job_file(tmp_path):
    path = tmp_path / "job.csv"
    path.write_text("".join(";".join(r) + "\n" for r in JOBS))
    return path


class _Stop(Exception):
    pass


def _stop(_charge):
    raise _Stop  # before_noise: every check passed, OpenDP not yet called


def test_apply_domains_generalizes_and_blanks_values_without_a_leaf(job_file):
    h = Hierarchy.from_csv(job_file)
    df = pd.DataFrame({"job": ["j1", "j3", "j9", None, "j4"], "x": [1, 2, 3, 4, 5]})
    out = apply_domains(df, hierarchies={"job": (h, 1)})
    assert out["job"].tolist()[:2] == ["office", "manual"]
    assert out["job"].isna().tolist() == [False, False, True, True, False]  # j9: not a leaf
    assert out["job"].iloc[4] == "manual"
    assert apply_domains(df, hierarchies={"job": (h, 0)})["job"].iloc[1] == "j3"
    assert out["x"].tolist() == [1, 2, 3, 4, 5]  # other columns untouched


def test_numeric_column_through_an_interval_hierarchy(samples_dir):
    """Numeric bins from a published hierarchy: the adult age hierarchy (ARX file)."""
    h = Hierarchy.from_csv(samples_dir / "adult" / "adult_hierarchy_age.csv")
    df = pd.DataFrame({"age": [1, 4, 6, 37, 150]})  # 150 has no leaf
    out = apply_domains(df, hierarchies={"age": (h, 1)})
    assert out["age"].tolist()[:4] == ["0-4", "0-4", "5-9", "35-39"]
    assert pd.isna(out["age"].iloc[4])


def test_a_hierarchy_not_read_from_a_file_warns_one_from_a_file_does_not(job_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrivacyWarning)
        got = resolve_hierarchies({"job": (str(job_file), 1)})
    assert got["job"][1] == 1 and got["job"][0].source is not None
    with pytest.warns(PrivacyWarning, match="not read from a file"):
        resolve_hierarchies({"job": Hierarchy.from_rows(JOBS)})
    with warnings.catch_warnings():  # re-applied at evaluation: no second warning
        warnings.simplefilter("error", PrivacyWarning)
        resolve_hierarchies({"job": Hierarchy.from_rows(JOBS)}, warn=False)


@pytest.mark.parametrize(("level", "ok"), [(0, True), (1, True), (2, False), (-1, False)])
def test_the_top_level_is_refused_the_one_below_accepted(job_file, level, ok):
    if ok:
        assert resolve_hierarchies({"job": (str(job_file), level)})["job"][1] == level
    else:
        with pytest.raises(ParameterError, match="level"):
            resolve_hierarchies({"job": (str(job_file), level)})


def test_a_hierarchy_is_a_public_domain_so_no_delta_is_needed(job_file):
    df = pd.DataFrame({"job": ["j1", "j2"] * 10, "sex": ["F", "M"] * 10})
    with pytest.raises(ParameterError, match="discover the categories of \\['job'\\]"):
        synthesize(df, ["job", "sex"], epsilon=1.0, keys={"sex": ["F", "M"]}, before_noise=_stop)
    with pytest.raises(_Stop):  # reached the ledger charge: the domain was accepted
        synthesize(
            df,
            ["job", "sex"],
            epsilon=1.0,
            keys={"sex": ["F", "M"]},
            hierarchies={"job": str(job_file)},
            before_noise=_stop,
        )
    with pytest.raises(ParameterError, match="one public domain per column"):
        synthesize(
            df,
            ["job", "sex"],
            epsilon=1.0,
            keys={"sex": ["F", "M"], "job": ["j1"]},
            hierarchies={"job": str(job_file)},
            before_noise=_stop,
        )


def test_evaluate_generalizes_the_real_tables_like_the_synthesis(job_file):
    """A copy of the generalized training rows is an exact copy only once the real tables are
    generalized the same way (fails when evaluate ignores the hierarchy)."""
    r = np.random.default_rng(1)
    real = pd.DataFrame(
        {"job": r.choice(["j1", "j2", "j3", "j4"], 80), "sex": r.choice(["F", "M"], 80)}
    )
    hold = pd.DataFrame(
        {"job": r.choice(["j1", "j2", "j3", "j4"], 80), "sex": r.choice(["F", "M"], 80)}
    )
    hiers = {"job": (str(job_file), 1)}
    synth = apply_domains(real, hierarchies=resolve_hierarchies(hiers))
    ev = evaluate(real, synth, hold, ["job", "sex"], hierarchies=hiers, n_attacks=20)
    assert ev.dcr.to_dict()["share_dcr_zero_training"] == 1.0
    assert ev.fidelity.to_dict()["one_way_tv_mean"] == pytest.approx(0.0)


@pytest.mark.slow
def test_categories_only_in_the_data_never_reach_the_synthetic_table(job_file):
    """Out-of-domain values are 40 % of the rows: were they read, MST would reproduce them."""
    r = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "sex": np.where(r.random(n) < 0.4, "Q", r.choice(["F", "M"], n)),
            "job": np.where(r.random(n) < 0.4, "j9", r.choice(["j1", "j2", "j3", "j4"], n)),
            "inc": r.choice(["a", "b"], n),
        }
    )
    res = synthesize(
        df,
        ["sex", "job", "inc"],
        epsilon=4.0,
        keys={"sex": ["F", "M"], "inc": ["a", "b"]},
        hierarchies={"job": (str(job_file), 1)},
        rows=500,
    )
    assert set(res.data["sex"].dropna()) <= {"F", "M"}
    assert set(res.data["job"].dropna()) <= {"office", "manual"}
    assert res.data["job"].notna().any()
    assert not (res.data == "Q").any().any() and not (res.data == "j9").any().any()
    doc = res.to_dict()
    assert doc["hierarchies"] == {"job": {"source": str(job_file), "level": 1, "values": 2}}
    assert doc["categories_discovered_under_dp"] == [] and doc["delta"] == 0.0
    assert set(res.domains()["hierarchies"]) == {"job"}
