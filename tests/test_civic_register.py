"""`workbench register publish`: the public register, leak-checked, offline, seen in Chromium."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from tests._helpers_governance import CITY
from workbench.cli import main
from workbench.governance import ProvenanceLog
from workbench.governance.publish import publish_register
from workbench.review.bundle import LeakError


@pytest.fixture
def city_copy(tmp_path):
    """The city's catalog, policies and governance files, with the data files linked."""
    root = tmp_path / "city"
    root.mkdir()
    for f in CITY.iterdir():
        if f.is_file():
            (root / f.name).symlink_to(f)
    (root / "catalog.yaml").unlink()
    shutil.copy(CITY / "catalog.yaml", root / "catalog.yaml")
    shutil.copytree(CITY / "policies", root / "policies")
    shutil.copytree(CITY / "governance", root / "governance")
    return root


def test_publish_city(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["register", "publish", str(CITY / "catalog.yaml"), "-o", str(out)]) == 0
    page = (out / "index.html").read_text()
    doc = json.loads((out / "register.json").read_text())
    # what the issue asks the register to show
    assert [d["name"] for d in doc["datasets"]] == [
        "clinic",
        "housing",
        "social",
        "transit",
        "voters",
    ]
    clinic = doc["datasets"][0]
    assert clinic["retention"] == "P3Y" and clinic["hosting"] == "City data centre"
    assert clinic["sharing_allowed"] is False
    assert {f["field"]: f["needed_for"] for f in clinic["fields"]}["visit_id"] == ["treatment"]
    assert [s["id"] for s in doc["sharing"]] == ["S-01", "S-02", "S-03", "S-04"]
    stats = doc["disclosure"]["statistics"]
    assert stats["by_outcome"] == {"permitted": 2, "refused": 2, "referred": 0}
    assert doc["oversight"]["quorum"] == 2
    assert doc["heads"][0]["log"] == "disclosure.jsonl" and doc["heads"][0]["records"] == 16
    # offline: no script, nothing fetched, a CSP that forbids any request
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    assert "Noor Haddad" in page and "conflict of interest" in page
    # member names, never keys: only fingerprints are published
    board = yaml.safe_load((CITY / "governance" / "oversight.yaml").read_text())
    for m in board["members"]:
        assert m["public_key"] not in page
    # the publication is in provenance with both outputs
    rec = ProvenanceLog().records()[-1]
    assert rec["operation"] == "register-publish" and len(rec["outputs"]) == 3
    # the published head verifies the register now, and would catch a rollback later
    head = out / "disclosure.jsonl.head.json"
    log = str(CITY / "governance" / "disclosure.jsonl")
    assert main(["provenance", "verify", log, "--against", str(head)]) == 0


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("scope", "VIS-"),  # a clinic visit id, planted in a sharing practice
        ("recipient", "name"),  # a voter's name as a recipient
    ],
)
def test_identifier_values_are_refused(city_copy, tmp_path, where, value):
    import pandas as pd

    if value == "VIS-":
        planted = pd.read_csv(CITY / "clinic_visits.csv", dtype=str)["visit_id"].iloc[7]
    else:
        planted = pd.read_csv(CITY / "voter_roll.csv", dtype=str)["last_name"].iloc[3]
    doc = yaml.safe_load((city_copy / "governance" / "sharing.yaml").read_text())
    key = "hosting" if where == "scope" else "recipient"
    doc["practices"][0][key] = f"see {planted} for details"
    (city_copy / "governance" / "sharing.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "site"
    with pytest.raises(LeakError) as err:
        publish_register(city_copy / "catalog.yaml", out)
    assert planted not in str(err.value)
    assert not out.exists()  # nothing written


def test_register_without_governance_files(city_copy, tmp_path):
    shutil.rmtree(city_copy / "governance")
    (city_copy / "purposes.yaml").unlink()
    site = publish_register(city_copy / "catalog.yaml", tmp_path / "site")
    assert site.document["sharing"] == [] and site.document["heads"] == []
    assert site.document["disclosure"]["statistics"]["requests"] == 0


def test_tampered_register_is_not_published(city_copy, tmp_path):
    from workbench.errors import ProvenanceError

    log = city_copy / "governance" / "disclosure.jsonl"
    text = log.read_text().replace('"decision": "refuse"', '"decision": "permit"', 1)
    log.write_text(text)
    with pytest.raises(ProvenanceError):
        publish_register(city_copy / "catalog.yaml", tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_register_in_chromium(tmp_path, page, shot_dir):
    out = tmp_path / "site"
    publish_register(CITY / "catalog.yaml", out)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((out / "index.html").as_uri())
    assert page.title() == "Public data register: city"
    assert page.locator("#requests table tr").count() == 5  # header + four requests
    outcomes = page.locator("#requests .tag").all_inner_texts()
    assert outcomes == ["permitted", "refused", "refused", "permitted"]
    assert page.locator("#sharing").inner_text().count("(sensitive)") >= 3
    # the page fits the viewport width (no horizontal scrolling)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280 + 1
    assert all(u.startswith("file://") for u in requests), requests
    assert not page.js_errors
    page.screenshot(path=str(shot_dir / "civic_public_register.png"), full_page=True)


def test_published_head_catches_a_rolled_back_register(city_copy, tmp_path, capsys):
    gov = city_copy / "governance"
    log, anchor = gov / "disclosure.jsonl", gov / "disclosure.jsonl.head"
    before = (log.read_bytes(), anchor.read_bytes())
    argv = ["disclosure", "request", "--catalog", str(city_copy / "catalog.yaml"), "--id", "X-1",
            "--requester", "Court", "--instrument", "none", "--dataset", "transit",
            "--fields", "age_band", "--user", "haddad"]  # fmt: skip
    assert main(argv) == 0
    publish_register(city_copy / "catalog.yaml", tmp_path / "site")
    log.write_bytes(before[0])  # the request is quietly removed, anchor and all
    anchor.write_bytes(before[1])
    head = tmp_path / "site" / "disclosure.jsonl.head.json"
    assert main(["provenance", "verify", str(log)]) == 0  # the log alone looks fine ...
    assert main(["provenance", "verify", str(log), "--against", str(head)]) == 1  # ... not so
    capsys.readouterr()
