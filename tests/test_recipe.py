"""Recipes: YAML round trip, strict validation, and `workbench transform` = the notebook's path."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.deid.hierarchy import Hierarchy
from workbench.deid.recipe import MAX_RECIPE_BYTES, Recipe
from workbench.deid.transforms import (
    AdditiveNoise,
    DropColumns,
    FullDomainGeneralization,
    LocalSuppression,
    Microaggregation,
    MultiplicativeNoise,
    Pram,
    Pseudonymize,
    RecordSuppression,
    Rounding,
    TopBottomCoding,
)
from workbench.errors import ConfigError

KEY = "k" * 32
ROLES = {
    "columns": {
        "record_id": "direct_identifier",
        "email": "direct_identifier",
        "age": "quasi_identifier",
        "zip": "quasi_identifier",
        "sex": "quasi_identifier",
        "income": "sensitive",
        "diagnosis": "sensitive",
    }
}


def _frame(n: int = 300, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "record_id": [f"R{i:05d}" for i in range(n)],
            "email": [f"person{i}@example.org" for i in range(n)],
            "age": rng.integers(18, 80, n),
            "zip": rng.choice(["46201", "46202", "46211", "46212"], n),
            "sex": rng.choice(["F", "M"], n),
            "income": rng.integers(10_000, 90_000, n),
            "diagnosis": rng.choice(["flu", "cold", "asthma"], n),
        }
    )


def _zip_hierarchy() -> Hierarchy:
    rows = [(z, z[:4] + "*", z[:3] + "**", "*") for z in ["46201", "46202", "46211", "46212"]]
    return Hierarchy.from_rows(rows, name="zip")


def _every_step() -> list:
    return [
        FullDomainGeneralization({"zip": 1}, {"zip": _zip_hierarchy()}),
        TopBottomCoding("age", top=75, bottom=20),
        Rounding(("age",), base=5),
        RecordSuppression(("age", "zip", "sex"), k=2),
        LocalSuppression(("age", "zip", "sex"), k=2),
        AdditiveNoise(("income",), noise=20.0, seed=11),
        MultiplicativeNoise(("income",), noise=5.0, seed=12),
        Microaggregation(("income",), k=3),
        Pram("diagnosis", pd=0.7, alpha=0.5, seed=13),
        Pseudonymize(("email",)),
        DropColumns(("record_id",)),
    ]


def test_yaml_round_trip_is_exact_for_every_kind_of_step() -> None:
    r = Recipe(_every_step(), ROLES, "drop")
    text = r.to_yaml()
    back = Recipe.from_yaml(text)
    assert back.to_yaml() == text
    assert back.to_dict() == r.to_dict()
    assert [s.kind for s in back.steps] == [s.kind for s in r.steps]
    assert back.qis == ("age", "zip", "sex") and back.sensitive == ("income", "diagnosis")
    # hierarchies travel with their file name only, never a server path
    h = Hierarchy.from_rows(_zip_hierarchy().rows, name="zip", source="/srv/secret/zip.csv")
    with_path = Recipe([FullDomainGeneralization({"zip": 1}, {"zip": h})])
    assert "/srv/secret" not in with_path.to_yaml() and "source: zip.csv" in with_path.to_yaml()
    assert Recipe.from_yaml(with_path.to_yaml()).to_yaml() == with_path.to_yaml()
    # the key is read at apply time: nothing in the recipe can hold it
    assert "key_source: env:WORKBENCH_PSEUDONYM_KEY" in text


def test_same_recipe_writes_the_same_bytes_and_the_key_never_enters(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    r = Recipe(_every_step(), ROLES)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run_a = r.write(_frame(), a)
    Recipe.from_yaml(r.to_yaml()).write(_frame(), b)
    assert a.read_bytes() == b.read_bytes()
    out = pd.read_csv(a, dtype=str)
    assert "record_id" not in out.columns and "email" not in out.columns
    assert "email_pseudonym" in out.columns
    assert KEY not in r.to_yaml() and KEY not in json.dumps(run_a.to_dict())
    # a different seed gives different noise (the seed really drives the draw)
    steps = [
        AdditiveNoise(("income",), noise=20.0, seed=99) if s.kind == "additive_noise" else s
        for s in r.steps
    ]
    c = tmp_path / "c.csv"
    Recipe(steps, ROLES).write(_frame(), c)
    assert c.read_bytes() != a.read_bytes()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"format": "workbench-recipe", "version": 1, "steps": [], "extra": 1},
            "unknown key 'extra'",
        ),
        ({"format": "other", "version": 1, "steps": []}, "not a recipe"),
        ({"format": "workbench-recipe", "version": 2, "steps": []}, "version 2"),
        ({"format": "workbench-recipe", "version": 1, "steps": {}}, "must be a list"),
        (
            {"format": "workbench-recipe", "version": 1, "steps": [{"type": "shell"}]},
            "unknown step type",
        ),
        (
            {
                "format": "workbench-recipe",
                "version": 1,
                "steps": [{"type": "rounding", "columns": ["age"], "bse": 5}],
            },
            "unknown parameter 'bse'",
        ),
        (
            {
                "format": "workbench-recipe",
                "version": 1,
                "steps": [{"type": "additive_noise", "columns": ["income"], "noise": 10}],
            },
            "no integer seed",
        ),
        (
            {
                "format": "workbench-recipe",
                "version": 1,
                "steps": [{"type": "pram", "column": "sex", "seed": None}],
            },
            "no integer seed",
        ),
        (
            {
                "format": "workbench-recipe",
                "version": 1,
                "steps": [{"type": "rounding", "columns": ["age"], "base": -5}],
            },
            "step 1 \\(rounding\\)",
        ),
        (
            {
                "format": "workbench-recipe",
                "version": 1,
                "direct_identifiers": "publish",
                "steps": [],
            },
            "direct_identifiers",
        ),
    ],
)
def test_invalid_recipes_are_refused_with_where_and_what(doc, message) -> None:
    with pytest.raises(ConfigError, match=message):
        Recipe.from_dict(doc, source="r.yaml")


def test_noise_with_seed_zero_is_accepted() -> None:  # the seed check is "is an int", not truthy
    doc = {
        "format": "workbench-recipe",
        "version": 1,
        "steps": [{"type": "additive_noise", "columns": ["income"], "noise": 10, "seed": 0}],
    }
    assert Recipe.from_dict(doc).steps[0].seed == 0


def test_a_secret_in_a_recipe_is_refused_without_echoing_it() -> None:
    doc = {
        "format": "workbench-recipe",
        "version": 1,
        "steps": [{"type": "pseudonymize", "columns": ["email"], "key": "TOPSECRETVALUE"}],
    }
    with pytest.raises(ConfigError) as exc:
        Recipe.from_dict(doc)
    assert "secret" in str(exc.value) and "TOPSECRETVALUE" not in str(exc.value)


def test_yaml_aliases_and_oversized_files_are_refused(tmp_path) -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nformat: workbench-recipe\n"
    with pytest.raises(ConfigError, match="aliases"):
        Recipe.from_yaml(bomb, "r.yaml")
    with pytest.raises(ConfigError, match="not a valid recipe"):
        Recipe.from_yaml("steps: [unclosed", "r.yaml")
    with pytest.raises(ConfigError, match="not a valid recipe"):
        Recipe.from_yaml("!!python/object/apply:os.system ['true']", "r.yaml")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_RECIPE_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than"):
        Recipe.load(big)
    doc = "format: workbench-recipe\nversion: 1\nsteps: []\n"
    text = "#" * (MAX_RECIPE_BYTES - len(doc) - 1) + "\n" + doc  # exactly at the limit
    assert len(text.encode()) == MAX_RECIPE_BYTES
    assert Recipe.from_yaml(text).steps == ()


def test_cli_transform_reproduces_the_python_path_and_records_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    data = tmp_path / "people.csv"
    _frame().to_csv(data, index=False)
    recipe = Recipe(_every_step(), ROLES)
    rfile = recipe.save(tmp_path / "r.yaml")
    py_out = tmp_path / "py.csv"
    from workbench.loading.readers import load

    recipe.write(load(data), py_out)
    out, bundle = tmp_path / "cli.csv", tmp_path / "b.json"
    code = main(
        [
            "transform",
            str(data),
            "--recipe",
            str(rfile),
            "--output",
            str(out),
            "--bundle",
            str(bundle),
            "--json",
        ]
    )
    assert code == 0
    assert out.read_bytes() == py_out.read_bytes()
    log = [json.loads(x) for x in open(monkeypatch_env(monkeypatch)).read().splitlines()]
    rec = [r for r in log if r["operation"] == "transform"]
    assert len(rec) == 1
    text = json.dumps(rec[0])
    assert hashlib.sha256(rfile.read_bytes()).hexdigest() in text  # the recipe file, by content
    assert KEY not in text and "person1@example.org" not in text
    b = json.loads(bundle.read_text())
    assert b["transformation"]["strategy"] == "recipe"
    assert b["risk_after"]["qis"] == ["age", "zip", "sex"]
    assert "person1@example.org" not in bundle.read_text()


def monkeypatch_env(monkeypatch) -> str:
    import os

    return os.environ["WORKBENCH_PROVENANCE"]


def test_cli_transform_bad_recipe_exits_2_and_writes_nothing(tmp_path, capsys) -> None:
    data = tmp_path / "people.csv"
    _frame(20).to_csv(data, index=False)
    bad = tmp_path / "r.yaml"
    bad.write_text("format: workbench-recipe\nversion: 1\nsteps:\n- type: pram\n  column: sex\n")
    out = tmp_path / "o.csv"
    assert main(["transform", str(data), "--recipe", str(bad), "--output", str(out)]) == 2
    assert "no integer seed" in capsys.readouterr().err
    assert not out.exists()
    assert main(["transform", str(data), "--recipe", str(bad), "--output", str(data)]) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mean income by region", ("mean", "income", ("region",))),
        ("count by sex, zip", ("count", None, ("sex", "zip"))),
        ("Median age", ("median", "age", ())),
        ("share", ("share", None, ())),
    ],
)
def test_statistic_parse(text, expected) -> None:
    from workbench.deid.comparison import Statistic

    s = Statistic.parse(text)
    assert (s.kind, s.column, s.by) == expected


@pytest.mark.parametrize("text", ["mean income region extra", "mean by", "", "variance x"])
def test_statistic_parse_refuses(text) -> None:
    from workbench.deid.comparison import Statistic
    from workbench.errors import ParameterError

    with pytest.raises(ParameterError):
        Statistic.parse(text)


def test_cli_statistics_before_and_after_in_the_bundle(tmp_path, monkeypatch) -> None:
    data = tmp_path / "people.csv"
    frame = _frame()
    frame.to_csv(data, index=False)
    recipe = Recipe([RecordSuppression(("age", "zip", "sex"), k=2)], ROLES)
    rfile = recipe.save(tmp_path / "r.yaml")
    out, bundle = tmp_path / "o.csv", tmp_path / "b.json"
    args = ["transform", str(data), "--recipe", str(rfile), "--output", str(out)]
    assert main([*args, "--statistic", "mean income by sex"]) == 2  # needs --bundle
    code = main([*args, "--bundle", str(bundle), "--statistic", "mean income by sex"])
    assert code == 0
    stats = json.loads(bundle.read_text())["utility"]["statistics"]
    assert len(stats) == 1
    assert stats[0]["label"] == "mean(income) by sex"
    want = frame.groupby("sex")["income"].mean()
    got = {tuple(g["group"]): g["original"] for g in stats[0]["groups"]}
    assert got == pytest.approx({("F",): want["F"], ("M",): want["M"]})


def test_mondrian_step_equals_the_core_and_round_trips(tmp_path) -> None:
    from workbench.deid import mondrian
    from workbench.deid.search.mondrian import MondrianRecoding

    frame = _frame(200)
    step = MondrianRecoding(("age", "zip"), k=4)
    res = step.apply(frame)
    ref = mondrian(frame[["age", "zip"]], ["age", "zip"], k=4, return_data=True)
    for q in ("age", "zip"):
        assert res.data[q].astype(str).tolist() == ref.data[q].astype(str).tolist()
    assert res.data["income"].tolist() == frame["income"].tolist()  # other columns untouched
    sizes = res.data.groupby(["age", "zip"]).size()
    assert sizes.min() >= 4  # exactly k allowed
    r = Recipe([RecordSuppression(("age", "zip", "sex"), k=2), step], ROLES)
    assert Recipe.from_yaml(r.to_yaml()).to_yaml() == r.to_yaml()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    r.write(frame, a)
    Recipe.from_yaml(r.to_yaml()).write(frame, b)
    assert a.read_bytes() == b.read_bytes()
    # records suppressed by the earlier step stay suppressed and are not partitioned
    out = r.apply(frame)
    sup = out.steps[0].suppressed
    assert (out.data.loc[sup, "age"] == "*").all() and out.suppressed.sum() == sup.sum()
    with pytest.raises(ConfigError, match="unknown parameter 'l'"):
        Recipe.from_dict(
            {
                "format": "workbench-recipe",
                "version": 1,
                "steps": [{"type": "mondrian", "qis": ["age"], "k": 2, "l": 2}],
            }
        )
