"""The role vocabularies are data (``workbench/data/vocabularies/roles.json``), checked here."""

from __future__ import annotations

import json
import re
from importlib import resources

from workbench.profiling import roles
from workbench.profiling.roles import Role, suggest_roles


def _doc() -> dict:
    path = resources.files("workbench").joinpath("data", "vocabularies", "roles.json")
    return json.loads(path.read_text("utf-8"))


def test_vocabulary_file_is_well_formed() -> None:
    doc = _doc()
    keys = [c["key"] for c in doc["categories"]]
    assert len(keys) == len(set(keys))
    for c in doc["categories"]:
        assert Role(c["role"]) in Role
        assert 0 < c["confidence"] <= 1
        assert c["terms"] and len(c["terms"]) == len(set(c["terms"])), c["key"]
        # column names are tokenized and folded to lower-case ASCII before matching
        assert all(re.fullmatch(r"[a-z0-9]+", t) for t in c["terms"]), c["key"]
    # the code refers to these categories by key
    assert roles._CODE_KEYS <= set(keys)
    assert {"pseudonym", "person_name"} <= set(keys)


def test_code_uses_the_data_file() -> None:
    """An edit to the data file is what the suggestions use (no second copy in code)."""
    doc = _doc()
    assert [c.key for c in roles._VOCAB] == [c["key"] for c in doc["categories"]]
    assert roles._NOT_PERSON == frozenset(doc["not_person"])
    email = next(c for c in doc["categories"] if c["key"] == "email")
    assert "courriel" in email["terms"]
    import pandas as pd

    sugg = suggest_roles(pd.DataFrame({"courriel": ["a@b.example", "c@d.example"]}))
    assert sugg.role_map["courriel"] is Role.DIRECT_IDENTIFIER
