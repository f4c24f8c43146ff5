"""The catalog declares where its join key comes from; no core code knows the sample city."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench.errors import ConfigError
from workbench.governance import Policy, gate
from workbench.governance.catalog import Catalog

pytestmark = pytest.mark.usefixtures("isolated")


def _write(tmp_path: Path, name: str, join_key: dict | None) -> Path:
    """Two departments whose files carry record ids but no shared key.

    persons.csv maps a1..a4 and b1..b3 to persons P1..P4: P1 has two "a" records and one "b",
    P2 one of each, P3 only "a", P4 only "b" -> the inner join has 2 + 1 = 3 rows.
    """
    pd.DataFrame({"rid": ["a1", "a2", "a3", "a4"], "band": ["x", "x", "y", "y"]}).to_csv(
        tmp_path / "a.csv", index=False
    )
    pd.DataFrame({"bid": ["b1", "b2", "b3"], "tenure": ["own", "rent", "own"]}).to_csv(
        tmp_path / "b.csv", index=False
    )
    pd.DataFrame(
        {
            "ds": ["a", "a", "a", "a", "b", "b", "b"],
            "rec": ["a1", "a2", "a3", "a4", "b1", "b2", "b3"],
            "who": ["P1", "P1", "P2", "P3", "P1", "P2", "P4"],
        }
    ).to_csv(tmp_path / "persons.csv", index=False)
    pol = tmp_path / "p.yaml"
    Policy.from_dict(policy_doc(name="p", thresholds={"min_k": 1})).save(pol)
    doc = {
        "name": name,
        "datasets": {
            "a": {
                "file": "a.csv",
                "roles": {"direct_identifiers": ["rid"], "quasi_identifiers": ["band"]},
                "policy": "p.yaml",
                "metadata": {"record_id": "rid"},
            },
            "b": {
                "file": "b.csv",
                "roles": {"direct_identifiers": ["bid"], "quasi_identifiers": ["tenure"]},
                "policy": "p.yaml",
                "metadata": {"record_id": "bid"},
            },
        },
        "crosswalk": [],
    }
    if join_key is not None:
        doc["join_key"] = join_key
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


JOIN = {
    "column": "pid",
    "table": "persons.csv",
    "dataset_column": "ds",
    "record_column": "rec",
    "person_column": "who",
}


def test_declared_table_joins_any_catalog(tmp_path) -> None:
    """A catalog that is not the sample city joins through its declared table."""
    res = gate("a+b", catalog=_write(tmp_path, "acme", JOIN))
    assert res.records == 3
    assert any("inner join on pid" in n and "declares" in n for n in res.notes)


def test_attached_key_matches_the_persons(tmp_path) -> None:
    cat = Catalog.load(_write(tmp_path, "acme", JOIN))
    a = cat.attach_join_key("a", cat.load_dataset("a").to_pandas())
    b = cat.attach_join_key("b", cat.load_dataset("b").to_pandas())
    assert a["pid"].iloc[0] == a["pid"].iloc[1] == b["pid"].iloc[0]  # P1
    assert a["pid"].iloc[2] == b["pid"].iloc[1]  # P2
    assert a["pid"].iloc[3] not in set(b["pid"])  # P3 only in a


def test_the_name_city_is_not_magic(tmp_path) -> None:
    """Regression: the gate attached the city's ground truth to any catalog named "city"."""
    with pytest.raises(ConfigError, match="declares no join_key.table"):
        gate("a+b", catalog=_write(tmp_path, "city", None))


def test_join_key_round_trips(tmp_path) -> None:
    path = _write(tmp_path, "acme", JOIN)
    cat = Catalog.load(path)
    assert cat.join_key_column == "pid"
    assert cat.to_dict()["join_key"] == JOIN
    out = cat.save(tmp_path / "sub" / "copy.yaml")
    again = Catalog.load(out)
    assert again.join_key.table == (tmp_path / "persons.csv").resolve()
    assert again.to_dict()["join_key"]["table"] == "../persons.csv"


def test_city_catalog_declares_its_ground_truth() -> None:
    from _helpers_governance import CITY

    cat = Catalog.load(CITY / "catalog.yaml")
    assert cat.join_key is not None and cat.join_key.table.name == "ground_truth.csv"
    assert (
        cat.to_dict()
        == Catalog.from_dict(
            yaml.safe_load((CITY / "catalog.yaml").read_text()), CITY, CITY / "catalog.yaml"
        ).to_dict()
    )
