"""Optimal lattice search: equals exhaustive search, privacy models hold on the output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers_e import reference_search, small_problems
from hypothesis import HealthCheck, given, settings

from workbench.cli import main
from workbench.deid import Criteria, Hierarchy, SearchContext, anonymize, exhaustive_search
from workbench.errors import HierarchyError, ParameterError, PrivacyWarning
from workbench.risk import sensitive

ADULT_QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]


@pytest.fixture(scope="module")
def adult(adult_csv: Path) -> tuple[pd.DataFrame, dict[str, Hierarchy]]:
    df = pd.read_csv(adult_csv, sep=";", dtype=str)
    hs = {q: Hierarchy.from_csv(adult_csv.parent / f"adult_hierarchy_{q}.csv") for q in ADULT_QIS}
    return df, hs


@pytest.fixture(scope="module")
def adult_ctx(adult) -> SearchContext:
    df, hs = adult
    return SearchContext(df, ADULT_QIS, hs, sensitive=["salary-class"])


ZIP = Hierarchy.from_rows(
    [
        ("02138", "0213*", "*"),
        ("02139", "0213*", "*"),
        ("02141", "0214*", "*"),
        ("02142", "0214*", "*"),
    ],
    name="zip",
)


def test_tiny_table_by_hand() -> None:
    df = pd.DataFrame(
        {"zip": ["02138", "02139", "02141", "02142", "02142"], "d": ["a", "b", "a", "b", "b"]}
    )
    r = anonymize(df, ["zip"], {"zip": ZIP}, k=2, return_data=True)
    assert dict(r.levels) == {"zip": 1}
    assert (r.classes, r.min_class_size, r.suppressed) == (2, 2, 0)
    assert r.data["zip"].tolist() == ["0213*", "0213*", "0214*", "0214*", "0214*"]
    # k=3 without suppression needs '*'; with 1 record (20 %) it keeps 0214* and drops 0213*?
    # no: 0213* has 2 records -> both suppressed (40 %) > 20 %, so level 2 stays optimal
    assert dict(anonymize(df, ["zip"], {"zip": ZIP}, k=3, suppression=0.2).levels) == {"zip": 2}
    r = anonymize(df, ["zip"], {"zip": ZIP}, k=3, suppression=0.4, return_data=True)
    assert dict(r.levels) == {"zip": 1} and r.suppressed == 2
    assert r.data["zip"].tolist() == ["*", "*", "0214*", "0214*", "0214*"]
    assert r.data["d"].tolist() == df["d"].tolist()  # other columns untouched
    # distinct 2-diversity on d: 0213* = {a,b}, 0214* = {a,b,b}
    r = anonymize(df, ["zip"], {"zip": ZIP}, k=2, l=2, sensitive=["d"])
    assert dict(r.levels) == {"zip": 1}


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_search_equals_exhaustive_reference(problem) -> None:
    df, qis, hs, crit, metric = problem
    sensitive = ["s"] if crit.needs_sensitive else []
    ctx = SearchContext(df, qis, hs, sensitive)
    fast = ctx.search(crit, metric)
    ref = reference_search(df, qis, hs, sensitive, crit, metric)
    acceptable = {node: v for node, v in ref.items() if v[0]}
    assert fast.found == bool(acceptable)
    # the fast exhaustive baseline shares the float path: identical node
    exh = exhaustive_search(ctx, crit, metric)
    assert exh.found == fast.found
    if not fast.found:
        return
    assert dict(exh.levels) == dict(fast.levels)
    assert exh.transformations_checked == ctx.lattice_size >= fast.transformations_checked
    node = tuple(fast.levels[q] for q in qis)
    ok, n_sup, score = ref[node]
    assert ok
    assert n_sup == fast.suppressed
    best = min(v[2] for v in acceptable.values())
    assert math.isclose(score, best, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(fast.score, score, rel_tol=1e-9, abs_tol=1e-9)


def test_adult_search_equals_exhaustive_and_prunes(adult_ctx: SearchContext) -> None:
    for sup in (0.0, 0.05):
        crit = Criteria(k=5, suppression=sup)
        seen = []
        fast = adult_ctx.search(
            crit, "loss", progress=lambda d, t, m, seen=seen: seen.append((d, t))
        )
        assert seen[-1] == (adult_ctx.lattice_size, adult_ctx.lattice_size)
        assert fast.transformations_checked < adult_ctx.lattice_size / 10
        if sup == 0.05:
            exh = exhaustive_search(adult_ctx, crit, "loss")
            assert dict(exh.levels) == dict(fast.levels) and exh.score == fast.score
            assert fast.suppressed <= math.floor(0.05 * adult_ctx.n_records)
        else:
            assert fast.suppressed == 0


def _independent_check(out: pd.DataFrame, qis, k, l_value=None, sensitive=None) -> int:
    """Plain pandas groupby on the anonymized table: returns the suppressed count."""
    sup = (out[qis] == "*").all(axis=1)
    released = out[~sup]
    g = released.groupby(qis, dropna=False)
    assert g.size().min() >= k
    if l_value:
        assert g[sensitive].nunique().min() >= l_value
    return int(sup.sum())


def test_cli_output_satisfies_models_independently(adult_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "anon.csv"
    args = [
        "anonymize",
        str(adult_csv),
        "--qi",
        ",".join(ADULT_QIS),
        *[
            a
            for q in ADULT_QIS
            for a in ("--hierarchy", f"{q}={adult_csv.parent}/adult_hierarchy_{q}.csv")
        ],
        "--k",
        "5",
        "--l",
        "2",
        "--sensitive",
        "salary-class",
        "--suppression",
        "0.05",
        "--output",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in (
        "levels",
        "score",
        "suppressed",
        "classes",
        "min_class_size",
        "transformations_checked",
    ):
        assert key in doc
    anon = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    src = pd.read_csv(adult_csv, sep=";", dtype=str)
    assert len(anon) == len(src) and list(anon.columns) == list(src.columns)
    n_sup = _independent_check(anon, ADULT_QIS, 5, 2, "salary-class")
    assert n_sup == doc["suppressed"] <= math.floor(0.05 * len(src))
    released = anon[(anon[ADULT_QIS] != "*").any(axis=1)]
    assert released.groupby(ADULT_QIS).ngroups == doc["classes"]
    assert doc["min_class_size"] >= 5
    assert (anon["salary-class"] == src["salary-class"]).all()


def test_cli_never_writes_over_input_and_prints_summary(
    adult_csv: Path, tmp_path: Path, capsys
) -> None:
    copy = tmp_path / "in.csv"
    copy.write_bytes(adult_csv.read_bytes())
    before = copy.read_bytes()
    assert (
        main(["anonymize", str(copy), "--qi", "sex,race", "--k", "5", "--output", str(copy)]) == 2
    )
    assert copy.read_bytes() == before
    assert main(["anonymize", str(copy), "--qi", "sex,race", "--k", "5"]) == 0
    text = capsys.readouterr().out
    assert "levels: sex=0, race=0" in text
    assert "no --hierarchy for 'sex'" in text  # automatic hierarchy is announced


def test_apply_reproduces_the_transformed_table(adult) -> None:
    df, hs = adult
    sample = df.iloc[:3000]
    r = anonymize(sample, ["sex", "age", "race"], hs, k=4, suppression=0.02, return_data=True)
    again = r.apply(sample)
    pd.testing.assert_frame_equal(again, r.data)
    assert (again[["sex", "age", "race"]] == "*").all(axis=1).sum() == r.suppressed


def test_unsatisfiable_models_report_not_found(capsys, tmp_path: Path) -> None:
    df = pd.DataFrame({"zip": ["02138", "02139"], "d": ["a", "a"]})
    r = anonymize(df, ["zip"], {"zip": ZIP}, k=1, l=2, sensitive=["d"])
    assert not r.found and r.levels is None
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    assert main(["anonymize", str(path), "--qi", "zip", "--k", "3"]) == 1
    assert "No transformation" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"k": 1},
        {"k": 1, "suppression": 0.3},
        {"k": 1, "l": 1, "sensitive": ["d"]},
        {"k": 1, "t": 1.0, "sensitive": ["d"]},
        {"k": 1, "max_average_risk": 1.0},
        {"k": 1, "max_highest_risk": 1.0},
    ],
)
def test_k_1_protects_nobody_and_says_so(params) -> None:
    # Regression: k = 1 (and no other model) was accepted silently; every record forms a class
    # of its own, so the "anonymized" table is the original one. Warn, as OpenDP does.
    crit = {key: v for key, v in params.items() if key != "sensitive"}
    with pytest.warns(PrivacyWarning, match="k = 1 protects nobody"):
        Criteria(**crit)
    df = pd.DataFrame({"zip": ["02138", "02139"], "d": ["a", "b"]})
    with pytest.warns(PrivacyWarning, match="k = 1 protects nobody"):
        r = anonymize(df, ["zip"], {"zip": ZIP}, **({"k": 1} | params))
    assert r.found and dict(r.levels) == {"zip": 0}  # nothing was generalized


@pytest.mark.parametrize(
    "params",
    [
        {"k": 2},
        {"k": 1, "l": 2},
        {"k": 1, "t": 0.5},
        {"k": 1, "max_average_risk": 0.99},
        {"k": 1, "max_highest_risk": 0.5},  # effective k = 2
    ],
)
def test_k_1_with_another_model_does_not_warn(params) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Criteria(**params)


def test_cli_anonymize_k_1_warns_on_stderr(tmp_path: Path, capsys) -> None:
    path = tmp_path / "z.csv"
    pd.DataFrame({"town": ["ash", "elm", "oak"]}).to_csv(path, index=False)
    hier = tmp_path / "town.csv"
    hier.write_text("ash;north;*\nelm;north;*\noak;south;*\n")  # ARX format
    argv = ["anonymize", str(path), "--qi", "town", "--hierarchy", f"town={hier}"]
    assert main([*argv, "--k", "1"]) == 0
    captured = capsys.readouterr()
    assert "k = 1 protects nobody" in captured.err
    assert "k = 1" not in captured.out
    assert main([*argv, "--k", "2"]) == 0
    assert "protects nobody" not in capsys.readouterr().err


def test_parameter_and_hierarchy_errors() -> None:
    df = pd.DataFrame({"zip": ["02138", "99999"], "d": ["a", "b"]})
    with pytest.raises(HierarchyError, match="row 2 of column 'zip' has no leaf"):
        anonymize(df, ["zip"], {"zip": ZIP}, k=2)
    with pytest.raises(ParameterError, match="'k'"):
        Criteria(k=0)
    with pytest.raises(ParameterError, match="'suppression'"):
        Criteria(suppression=1.5)
    with pytest.raises(ParameterError, match="'sensitive'"):
        anonymize(df.iloc[:1], ["zip"], {"zip": ZIP}, l=2)
    with pytest.raises(ParameterError, match="metric"):
        anonymize(df.iloc[:1], ["zip"], {"zip": ZIP}, metric="bogus")


def test_own_sensitive_checks_match_risk_sensitive() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(20, 300))
        df = pd.DataFrame(
            {
                "a": rng.integers(0, 6, n).astype(str),
                "b": rng.integers(0, 4, n).astype(str),
                "s": rng.integers(0, int(rng.integers(1, 7)), n),
            }
        )
        hs = {c: Hierarchy.from_rows([(v, "*") for v in sorted(df[c].unique())]) for c in "ab"}
        ctx = SearchContext(df, ["a", "b"], hs, ["s"])
        cid, sizes = ctx.classes((0, 0))
        per_record = cid[ctx.row_base]
        ld = sensitive.l_diversity(per_record, df["s"].to_numpy(), len(sizes), l=2)
        for kind in ("distinct", "entropy", "recursive"):
            for lv in (2, 3):
                crit = Criteria(l=lv, l_kind=kind, c=2.0)
                mine, _ = ctx.sensitive_ok(ctx._sens[0], cid, sizes, crit)
                theirs = ld.satisfies(kind, lv, c=2.0 if kind == "recursive" else None)
                assert np.array_equal(mine, theirs), (kind, lv)
        for kind in ("equal", "ordered"):
            tc = sensitive.t_closeness(per_record, df["s"].to_numpy(), len(sizes), kind=kind)
            for t in (0.1, 0.3):
                _, mine = ctx.sensitive_ok(ctx._sens[0], cid, sizes, Criteria(t=t, t_kind=kind))
                assert np.array_equal(mine, tc.satisfies(t)), (kind, t)


@pytest.mark.parametrize(
    ("kw", "limit"),
    [
        ({"l": 2, "l_kind": "entropy"}, 0.5),
        ({"l": 2, "l_kind": "recursive", "c": 2.0}, 0.5),
    ],
)
def test_non_monotone_l_diversity_is_not_used_to_prune(kw, limit) -> None:
    # class a = {1, 2} is diverse, class b = {1, 1} is not; merged {1, 1, 1, 2} is not.
    # The top node fails (all 4 records would go), its specialization succeeds by suppressing b:
    # a search that treated these models as monotone under suppression would find nothing.
    df = pd.DataFrame({"x": ["a", "a", "b", "b"], "s": ["1", "2", "1", "1"]})
    h = Hierarchy.from_rows([("a", "*"), ("b", "*")])
    r = anonymize(df, ["x"], {"x": h}, k=1, sensitive=["s"], suppression=limit, **kw)
    assert r.found and dict(r.levels) == {"x": 0} and r.suppressed == 2
    assert not anonymize(df, ["x"], {"x": h}, k=1, sensitive=["s"], suppression=0.0, **kw).found


def test_non_monotone_t_closeness_is_not_used_to_prune() -> None:
    # a = {1, 2} matches the table (EMD 0); b = {1, 1} and c = {2, 2} are 0.5 away. Level 1
    # merges a+b -> EMD 0.25 > 0.2 and fails entirely; level 0 suppresses b and c (4 of 6).
    df = pd.DataFrame({"x": list("aabbcc"), "s": ["1", "2", "1", "1", "2", "2"]})
    h = Hierarchy.from_rows([("a", "g1", "*"), ("b", "g1", "*"), ("c", "g2", "*")])
    r = anonymize(df, ["x"], {"x": h}, k=1, t=0.2, sensitive=["s"], suppression=0.7)
    assert r.found and dict(r.levels) == {"x": 0} and r.suppressed == 4
    assert anonymize(df, ["x"], {"x": h}, k=1, t=0.2, sensitive=["s"]).levels == {"x": 2}


def _sensitive_hierarchy(values) -> Hierarchy:
    """Diagnoses grouped into chapters, then '*': a two-level hierarchy for t-closeness."""
    return Hierarchy.from_rows([(str(v), f"group{int(v) // 3}", "*") for v in sorted(set(values))])


def test_hierarchical_t_closeness_matches_risk_sensitive() -> None:
    """The search's hierarchical EMD equals the risk engine's (Li et al. 2007) per class."""
    rng = np.random.default_rng(11)
    for _ in range(15):
        n = int(rng.integers(20, 300))
        df = pd.DataFrame(
            {
                "a": rng.integers(0, 6, n).astype(str),
                "b": rng.integers(0, 4, n).astype(str),
                "s": rng.integers(0, int(rng.integers(2, 9)), n),
            }
        )
        hs = {c: Hierarchy.from_rows([(v, "*") for v in sorted(df[c].unique())]) for c in "ab"}
        sh = _sensitive_hierarchy(df["s"])
        ctx = SearchContext(df, ["a", "b"], hs, ["s"], sensitive_hierarchies={"s": sh})
        for node in ((0, 0), (1, 0), (0, 1)):
            cid, sizes = ctx.classes(node)
            per_record = cid[ctx.row_base]
            rows = [[str(v), f"group{int(v) // 3}", "*"] for v in sorted(set(df["s"]))]
            tc = sensitive.t_closeness(
                per_record,
                df["s"].astype(str).to_numpy(),
                len(sizes),
                kind="hierarchical",
                hierarchy=rows,
            )
            for t in (0.05, 0.2, 0.4):
                _, mine = ctx.sensitive_ok(
                    ctx._sens[0], cid, sizes, Criteria(t=t, t_kind="hierarchical")
                )
                assert np.array_equal(mine, tc.satisfies(t)), (node, t)


def test_hierarchical_t_closeness_search_equals_exhaustive() -> None:
    rng = np.random.default_rng(3)
    for trial in range(6):
        n = 150
        df = pd.DataFrame(
            {
                "a": rng.integers(0, 8, n).astype(str),
                "b": rng.integers(0, 4, n).astype(str),
                "s": rng.integers(0, 7, n),
            }
        )
        hs = {
            "a": Hierarchy.from_rows([(str(v), str(v // 2), str(v // 4), "*") for v in range(8)]),
            "b": Hierarchy.from_rows([(str(v), "*") for v in range(4)]),
        }
        sh = {"s": _sensitive_hierarchy(range(7))}
        ctx = SearchContext(df, ["a", "b"], hs, ["s"], sensitive_hierarchies=sh)
        for supp in (0.0, 0.1):
            crit = Criteria(k=2, t=0.25, t_kind="hierarchical", suppression=supp)
            fast = ctx.search(crit, "loss")
            exh = exhaustive_search(ctx, crit, "loss")
            assert fast.found == exh.found, trial
            if fast.found:
                assert math.isclose(fast.score, exh.score, rel_tol=1e-12), trial
                assert dict(fast.levels) == dict(exh.levels)
    # without a sensitive hierarchy the model cannot be evaluated: a clear error
    ctx = SearchContext(df, ["a", "b"], hs, ["s"])
    with pytest.raises(ParameterError, match="hierarchy for sensitive column 's'"):
        ctx.search(Criteria(t=0.2, t_kind="hierarchical"), "loss")


def test_flat_sensitive_hierarchy_gives_the_equal_distance() -> None:
    from workbench.deid.search.lattice import hierarchical_emd

    rng = np.random.default_rng(0)
    diff = rng.dirichlet(np.ones(5), 10) - rng.dirichlet(np.ones(5))
    flat = (np.zeros(5, dtype=np.int64),)  # every leaf under one root
    assert np.allclose(hierarchical_emd(diff, flat), 0.5 * np.abs(diff).sum(axis=1))


def test_cli_hierarchical_t_closeness_holds_on_the_output(
    adult_csv: Path, tmp_path: Path, capsys
) -> None:
    """`--t-kind hierarchical --sensitive-hierarchy`: the released classes are t-close under the
    hierarchical distance, checked independently with the risk engine on the written file."""
    from workbench.risk import sensitive as sens

    d = adult_csv.parent
    out = tmp_path / "out.csv"
    argv = [
        "anonymize",
        str(adult_csv),
        "--qi",
        "sex,age,race",
        "--hierarchy",
        f"age={d / 'adult_hierarchy_age.csv'}",
        "--hierarchy",
        f"race={d / 'adult_hierarchy_race.csv'}",
        "--sensitive",
        "occupation",
        "--t",
        "0.3",
        "--t-kind",
        "hierarchical",
        "--sensitive-hierarchy",
        f"occupation={d / 'adult_hierarchy_occupation.csv'}",
        "--k",
        "2",
        "--suppression",
        "0.02",
        "--output",
        str(out),
        "--json",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["criteria"]["t_kind"] == "hierarchical"
    rel = pd.read_csv(out, sep=";", dtype=str)  # the output keeps the input delimiter
    rel = rel[~(rel[["sex", "age", "race"]] == "*").all(axis=1)]
    cid = rel.groupby(["sex", "age", "race"], sort=True).ngroup().to_numpy()
    rows = pd.read_csv(
        d / "adult_hierarchy_occupation.csv", sep=";", header=None, dtype=str
    ).values.tolist()
    tc = sens.t_closeness(
        cid, rel["occupation"].to_numpy(), int(cid.max()) + 1, kind="hierarchical", hierarchy=rows
    )
    # the released table's own distribution is the reference after suppression: allow the
    # small shift that removing <= 2 % of the records can cause
    assert tc.t <= 0.3 + 0.02 + 1e-9
    assert doc["classes"] > 1 and len(rel) > 0
    assert (
        main(
            [
                *argv[:-3],
                "--t-kind",
                "hierarchical",
                "--sensitive-hierarchy",
                f"age={d / 'adult_hierarchy_age.csv'}",
            ]
        )
        == 2
    )
