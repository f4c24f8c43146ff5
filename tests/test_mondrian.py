"""Mondrian local recoding: partitions are k-anonymous (and l-diverse) and cover the originals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.deid import Criteria, Hierarchy, anonymize, mondrian
from workbench.errors import ParameterError
from workbench.models import DeltaDisclosure


def _ages() -> tuple[pd.DataFrame, Hierarchy]:
    df = pd.DataFrame({"age": [str(a) for a in [1, 2, 3, 4, 5, 6, 7, 8]], "s": list("abababab")})
    h = Hierarchy.from_rows([(str(a), "*") for a in range(1, 9)])
    return df, h


def test_one_dimension_by_hand() -> None:
    df, h = _ages()
    r = mondrian(df, ["age"], {"age": h}, k=2, return_data=True)
    assert r.data["age"].tolist() == [
        "[1-2]",
        "[1-2]",
        "[3-4]",
        "[3-4]",
        "[5-6]",
        "[5-6]",
        "[7-8]",
        "[7-8]",
    ]
    assert (r.classes, r.min_class_size, r.suppressed) == (4, 2, 0)
    # Loss: every record covers 2 of 8 leaves: (8*2/8 - 1) / (8 - 1) = 1/7
    assert r.score == pytest.approx(1 / 7)
    r3 = mondrian(df, ["age"], {"age": h}, k=3, return_data=True)
    assert r3.data["age"].tolist()[:4] == ["[1-4]"] * 4 and r3.min_class_size >= 3


def test_too_few_records_suppresses_everything() -> None:
    df, h = _ages()
    r = mondrian(df, ["age"], {"age": h}, k=9, return_data=True)
    assert r.suppressed == 8 and r.classes == 0
    assert set(r.data["age"]) == {"*"}


@pytest.mark.parametrize(
    "crit",
    [
        Criteria(max_average_risk=0.5),  # dataset-level
        Criteria(models=(DeltaDisclosure(1.0),)),  # not monotone
    ],
)
def test_unsupported_models_are_refused(crit) -> None:
    df, h = _ages()
    with pytest.raises(ParameterError, match="lattice"):
        mondrian(df, ["age"], {"age": h}, criteria=crit, sensitive=["s"])


def test_registered_per_class_models_hold_on_every_partition() -> None:
    """Mondrian loops over the registry: t-closeness and highest risk are enforced too."""
    df, h = _ages()
    crit = Criteria(k=2, t=0.5, max_highest_risk=0.34)
    r = mondrian(df, ["age"], {"age": h}, criteria=crit, sensitive=["s"], return_data=True)
    out = r.data
    for _, grp in out[out["age"] != "*"].groupby("age"):
        assert len(grp) >= 3  # 1/size <= 0.34
        p = df["s"].value_counts(normalize=True)
        q = grp["s"].value_counts(normalize=True).reindex(p.index, fill_value=0)
        assert 0.5 * (p - q).abs().sum() <= 0.5 + 1e-12


@pytest.fixture(scope="module")
def adult_sample(adult_csv: Path):
    qis = ["sex", "age", "race", "marital-status", "education"]
    df = pd.read_csv(adult_csv, sep=";", dtype=str).sample(3000, random_state=1)
    hs = {q: Hierarchy.from_csv(adult_csv.parent / f"adult_hierarchy_{q}.csv") for q in qis}
    return df.reset_index(drop=True), qis, hs


@pytest.mark.parametrize("l_value", [None, 2])
def test_partitions_are_k_anonymous_and_cover_the_originals(adult_sample, l_value) -> None:
    df, qis, hs = adult_sample
    r = anonymize(
        df,
        qis,
        hs,
        k=5,
        l=l_value,
        sensitive=["salary-class"] if l_value else (),
        strategy="mondrian",
        return_data=True,
    )
    out = r.data
    g = out.groupby(qis)
    assert g.size().min() >= 5 and g.ngroups == r.classes
    if l_value:
        assert g["salary-class"].nunique().min() >= 2
    # every released value contains the original value
    for q in qis:
        for orig, rel in zip(df[q], out[q], strict=True):
            if rel.startswith("[") and rel.endswith("]"):
                lo, hi = rel[1:-1].split("-")
                assert float(lo) <= float(orig) <= float(hi)
            elif rel.startswith("{"):
                assert orig in rel[1:-1].split(",")
            else:
                assert rel == orig
    # local recoding keeps more detail than optimal full-domain generalization here
    lattice = anonymize(df, qis, hs, k=5, l=l_value, sensitive=["salary-class"] if l_value else ())
    assert r.score < lattice.score
    pd.testing.assert_frame_equal(r.apply(df), out)


def test_all_metrics_are_reported(adult_sample) -> None:
    df, qis, hs = adult_sample
    scores = {
        m: mondrian(df, qis, hs, k=10, metric=m).score
        for m in ("loss", "entropy", "discernibility", "aecs", "precision")
    }
    assert all(np.isfinite(v) and v >= 0 for v in scores.values())
    assert scores["aecs"] >= 1.0  # classes hold at least k records


def test_cli_mondrian(adult_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.csv"
    assert (
        main(
            [
                "anonymize",
                str(adult_csv),
                "--qi",
                "sex,age,race",
                "--k",
                "5",
                "--strategy",
                "mondrian",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    assert "Mondrian" in capsys.readouterr().out
    anon = pd.read_csv(out, sep=";", dtype=str)
    assert anon.groupby(["sex", "age", "race"]).size().min() >= 5
