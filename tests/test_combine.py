"""Cumulative risk of a join on a shared key: hand table, join oracle, the city."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from _helpers_linkage import CATALOG, CITY, load_city_catalog

from workbench.cli import main
from workbench.errors import ColumnNotFoundError, ConfigError, ParameterError
from workbench.governance.catalog import Catalog
from workbench.linkage import combine, combine_catalog
from workbench.linkage.combine import DEMO_KEY_NOTE, join_rows, joint_key_codes


@pytest.fixture(scope="module")
def city_catalog():
    return load_city_catalog()


def test_hand_table():
    a = pd.DataFrame({"k": ["1", "2", "3", "4"], "x": ["a", "a", "b", "b"]})
    b = pd.DataFrame({"k": ["1", "2", "2", "3", "5"], "y": ["p", "q", "q", "p", "p"]})
    res = combine({"A": a, "B": b}, "k", {"A": ["x"], "B": ["y"]})
    # merged rows: (a,p) (a,q) (a,q) (b,p): classes of size 1, 2, 1
    assert res.joined_records == 4 and res.qis == ("A.x", "B.y")
    c = res.combined
    assert (c.k, c.uniques, c.classes) == (1, 2, 3)
    assert c.uniqueness == 0.5 and c.average_risk == 0.75 and c.records_at_risk == 1.0
    a_in, b_in = res.inputs
    assert (a_in.risk.uniqueness, a_in.on_joined.uniqueness) == (0.0, 0.25)
    assert (b_in.risk.uniqueness, b_in.on_joined.uniqueness) == (0.0, 0.0)
    assert res.delta["A"]["uniqueness"] == 0.25 and res.delta["B"]["uniqueness"] == 0.5
    assert res.delta_vs_inputs["A"]["uniqueness"] == 0.5
    eff = {e.attribute: e for e in res.effects}
    assert eff["A.x"].leave_one_out_uniqueness_drop == 0.5
    assert eff["B.y"].leave_one_out_uniqueness_drop == 0.25
    assert eff["A.x"].gain_over == {"B": 0.5} and eff["B.y"].gain_over == {"A": 0.25}
    assert res.main_driver == "A.x"
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize("seed", range(5))
def test_join_rows_against_pandas_merge(seed):
    rng = np.random.default_rng(seed)
    keys = [rng.integers(-1, 40, int(rng.integers(0, 200))) for _ in range(3)]
    rows = join_rows(keys)
    frames = [
        pd.DataFrame({"k": k, f"r{i}": np.arange(len(k))})[k >= 0] for i, k in enumerate(keys)
    ]
    m = frames[0].merge(frames[1], on="k").merge(frames[2], on="k")
    assert sorted(zip(*(r.tolist() for r in rows), strict=True)) == sorted(
        zip(m["r0"], m["r1"], m["r2"], strict=True)
    )


def test_joint_key_codes():
    a, b = joint_key_codes([pd.Series(["a", "b", None, "a"]), pd.Series(["b", "c"])])
    assert a[0] == a[3] != a[1] and a[2] == -1 and b[0] == a[1] and b[1] not in a
    assert (np.concatenate([a[[0, 1, 3]], b]) >= 0).all()


@pytest.mark.parametrize("sparse", [False, True])
def test_join_rows_dense_and_sparse_codes_agree(sparse):
    rng = np.random.default_rng(3)
    k1, k2 = rng.integers(-1, 30, 200), rng.integers(-1, 30, 150)
    if sparse:
        k1 = np.where(k1 >= 0, k1 * 10**12, -1)
        k2 = np.where(k2 >= 0, k2 * 10**12, -1)
    r1, r2 = join_rows([k1, k2])
    m = pd.DataFrame({"k": k1, "i": np.arange(200)})[k1 >= 0].merge(
        pd.DataFrame({"k": k2, "j": np.arange(150)})[k2 >= 0], on="k"
    )
    got = sorted(zip(r1.tolist(), r2.tolist(), strict=True))
    assert got == sorted(zip(m["i"], m["j"], strict=True))


def _merged_by_truth(names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Plain pandas: attach resident ids from the ground truth and inner-join."""
    from workbench.samples.city import FILE_STEMS, RECORD_ID_COLUMNS

    gt = pd.read_csv(CITY / "ground_truth.csv", dtype=str)
    cat = yaml.safe_load(CATALOG.read_text())
    merged, cols = None, []
    for n in names:
        df = pd.read_csv(CITY / f"{FILE_STEMS[n]}.csv", dtype=str, keep_default_na=False)
        ids = gt[gt["dataset"] == n].set_index("record_id")["resident_id"]
        df["rid"] = df[RECORD_ID_COLUMNS[n]].map(ids)
        qis = cat["datasets"][n]["roles"]["quasi_identifiers"]
        part = df[["rid", *qis]].rename(columns={q: f"{n}.{q}" for q in qis})
        cols += [f"{n}.{q}" for q in qis]
        merged = part if merged is None else merged.merge(part, on="rid")
    return merged, cols


def test_city_demo_path_matches_plain_pandas(city_catalog):
    res = combine_catalog(city_catalog, ["clinic", "housing"], profile=True)
    assert res.key_source == DEMO_KEY_NOTE
    merged, cols = _merged_by_truth(["clinic", "housing"])
    assert res.joined_records == len(merged) > 0
    sizes = merged.groupby(cols, dropna=False)[cols[0]].transform("size")
    assert res.combined.uniqueness == pytest.approx(float((sizes == 1).mean()))
    assert res.combined.k == int(sizes.min())
    assert res.profile.sample_uniques == res.combined.uniques
    assert res.sensitive == ("clinic.diagnosis", "housing.income_band")
    assert res.main_driver is not None and res.main_driver in res.qis
    doc = res.to_dict()
    assert {"inputs", "combined", "delta", "main_driver", "drivers", "profile"} <= set(doc)
    json.dumps(doc, allow_nan=False)


def test_city_three_way_join(city_catalog):
    res = combine_catalog(city_catalog, ["clinic", "housing", "social"])
    merged, cols = _merged_by_truth(["clinic", "housing", "social"])
    assert res.joined_records == len(merged)
    sizes = merged.groupby(cols, dropna=False)[cols[0]].transform("size")
    assert res.combined.uniques == int((sizes == 1).sum())


def test_city_pseudonym_key_column_gives_the_same_answer(
    city_catalog,
    tmp_path,
    monkeypatch,
):
    from workbench.samples.city import export

    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "test-key-not-secret")
    # issue #17: clinic's policy requires encryption at rest, so its export needs a key
    from workbench._crypto import ENCRYPTION_KEY_ENV, generate_key_text

    monkeypatch.setenv(ENCRYPTION_KEY_ENV, generate_key_text())
    doc = yaml.safe_load(CATALOG.read_text())
    for n in ("clinic", "transit"):
        export(n, tmp_path / f"{n}.csv", pseudonym=True, source_dir=CITY)
    doc["datasets"] = {n: {**doc["datasets"][n], "file": f"{n}.csv"} for n in ("clinic", "transit")}
    for n in ("clinic", "transit"):  # the export dropped the record ids (direct identifiers)
        roles = dict(doc["datasets"][n]["roles"])
        assert roles.pop("direct_identifiers") == [f"{'visit' if n == 'clinic' else 'pass'}_id"]
        doc["datasets"][n]["roles"] = {**roles, "other": ["person_key"]}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    keyed = combine_catalog(Catalog.load(tmp_path / "catalog.yaml"), ["clinic", "transit"])
    demo = combine_catalog(city_catalog, ["clinic", "transit"])
    assert keyed.key_source == "column" and demo.key_source == DEMO_KEY_NOTE
    assert keyed.combined == demo.combined
    assert keyed.to_dict()["delta"] == demo.to_dict()["delta"]


def test_combine_cli(capsys):
    assert (
        main(
            [
                "combine",
                str(CATALOG),
                "--datasets",
                "clinic,social",
                "--key",
                "person_key",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["datasets"] == ["clinic", "social"] and doc["key"] == "person_key"
    assert doc["combined"]["records"] == doc["joined_records"] > 0
    assert main(["combine", str(CATALOG), "--datasets", "clinic,social"]) == 0
    out = capsys.readouterr().out
    assert "merged" in out and "demo path" in out
    assert main(["combine", str(CATALOG), "--datasets", "clinic"]) == 2
    assert main(["combine", str(CATALOG), "--datasets", "clinic,police"]) == 2
    assert "police" in capsys.readouterr().err


def test_errors(tmp_path):
    a = pd.DataFrame({"k": ["1"], "x": ["a"]})
    with pytest.raises(ParameterError):
        combine({"A": a}, "k", {"A": ["x"]})
    with pytest.raises(ColumnNotFoundError):
        combine({"A": a, "B": a.drop(columns="k")}, "k", {"A": ["x"], "B": ["x"]})
    with pytest.raises(ColumnNotFoundError):
        combine({"A": a, "B": a}, "k", {"A": ["x"], "B": ["zip"]})
    (tmp_path / "a.csv").write_text("id,x\n1,a\n")
    (tmp_path / "c.yaml").write_text(
        "name: other\ndatasets: {a: {file: a.csv}, b: {file: a.csv}}\n"
    )
    with pytest.raises(ConfigError, match="declares no join_key.table"):
        combine_catalog(Catalog.load(tmp_path / "c.yaml"), ["a", "b"])
