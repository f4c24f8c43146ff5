"""Provenance: records, secret redaction, tamper detection, replay, PROV-JSON export."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench._io import sha256_file
from workbench.cli import main
from workbench.errors import ProvenanceError
from workbench.governance import (
    Policy,
    ProvenanceLog,
    export_prov,
    record_operation,
    redact,
    replay,
    run_operation,
    verify_log,
)
from workbench.governance.provenance import GENESIS_HASH, REDACTED

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    """These tests are about the unsigned chain; a developer's own key must not sign them."""
    monkeypatch.delenv("WORKBENCH_PROVENANCE_KEY", raising=False)


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["id,zip,age", *rows]) + "\n")
    return path


def _log_with(n: int, tmp: Path) -> ProvenanceLog:
    """A log whose records have distinct operations op0, op1, ..."""
    log = ProvenanceLog(tmp / "chain.jsonl")
    src = _csv(tmp / "src.csv", ["1,12345,30"])
    for i in range(n):
        log.append(f"op{i}", [src], [], {"i": i})
    return log


def _rewrite(log: ProvenanceLog, lines: list[str]) -> None:
    log.path.write_text("\n".join(lines) + "\n")


def test_record_fields_and_hashes(tmp_path):
    src = _csv(tmp_path / "a.csv", ["2,11111,40", "1,22222,50"])
    policy = Policy.from_dict(policy_doc(name="clinic"))
    rec = run_operation(
        "sort_lines", [src], [tmp_path / "out.csv"], {"header": True}, policy=policy
    )
    assert rec["seq"] == 0 and rec["prev_hash"] == GENESIS_HASH
    assert rec["user"] == "tester" and rec["tool"] == "workbench"
    assert rec["timestamp"].endswith("Z")
    assert rec["operation"] == "sort_lines"
    assert rec["inputs"] == [{"path": str(src.resolve()), "sha256": sha256_file(src)}]
    assert rec["outputs"][0]["sha256"] == sha256_file(tmp_path / "out.csv")
    assert rec["policy"] == {"name": "clinic", "sha256": policy.sha256, "retention": "P5Y"}
    assert rec["recipe"] == {"operation": "sort_lines", "parameters": {"header": True}}
    # stored in the default log named by WORKBENCH_PROVENANCE
    stored = ProvenanceLog().records()
    assert stored == [rec]
    second = record_operation("read", [src])
    assert second["seq"] == 1 and second["prev_hash"] == rec["hash"]
    assert second["prev_operation"] == "sort_lines"


def test_user_from_environment_then_argument(monkeypatch, tmp_path):
    log = ProvenanceLog(tmp_path / "u.jsonl")
    assert log.append("a")["user"] == "tester"
    monkeypatch.delenv("WORKBENCH_USER")
    monkeypatch.setenv("USER", "unix-user")
    assert log.append("b")["user"] == "unix-user"
    assert log.append("c", user="alice")["user"] == "alice"


def test_secrets_are_redacted_everywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "k3y-Material-9")
    params = {
        "api_key": "abc",
        "db_password": "hunter2",
        "Token": "t",
        "nested": {"client_secret": "s", "note": "k3y-Material-9", "list": ["x", "k3y-Material-9"]},
        "argv": ["anonymize", "--key", "plain", "--hmac-secret=zz", "--k", "5", "k3y-Material-9"],
        "k": 5,
    }
    rec = ProvenanceLog(tmp_path / "r.jsonl").append("x", parameters=params)
    p = rec["parameters"]
    assert p["api_key"] == p["db_password"] == p["Token"] == REDACTED
    assert p["nested"] == {"client_secret": REDACTED, "note": REDACTED, "list": ["x", REDACTED]}
    assert p["argv"] == [
        "anonymize",
        "--key",
        REDACTED,
        f"--hmac-secret={REDACTED}",
        "--k",
        "5",
        REDACTED,
    ]
    assert p["k"] == 5
    text = (tmp_path / "r.jsonl").read_text()
    for secret in ("abc", "hunter2", "k3y-Material-9", "plain", "zz"):
        assert secret not in text


def test_redact_leaves_ordinary_values():
    assert redact({"qis": ["age", "zip"], "k": 5, "path": Path("a.csv")}, []) == {
        "qis": ["age", "zip"],
        "k": 5,
        "path": "a.csv",
    }


def test_intact_chain_verifies(tmp_path):
    log = _log_with(4, tmp_path)
    res = verify_log(log)
    assert res.ok and res.records == 4 and res.anchored


def test_edited_record_is_named(tmp_path):
    log = _log_with(4, tmp_path)
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["parameters"]["i"] = 99
    lines[2] = json.dumps(rec)
    _rewrite(log, lines)
    res = verify_log(log)
    assert [(i.index, i.operation, i.kind) for i in res.issues] == [(2, "op2", "edited")]


def test_edited_and_rehashed_record_is_named(tmp_path):
    from workbench.governance.provenance import _record_hash

    log = _log_with(4, tmp_path)
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["user"] = "mallory"
    rec["hash"] = _record_hash(rec)
    lines[1] = json.dumps(rec)
    _rewrite(log, lines)
    res = verify_log(log)
    assert [(i.index, i.operation, i.kind) for i in res.issues] == [(1, "op1", "edited")]


@pytest.mark.parametrize("victim", [0, 2])
def test_removed_record_is_named(tmp_path, victim):
    log = _log_with(4, tmp_path)
    lines = log.path.read_text().splitlines()
    del lines[victim]
    _rewrite(log, lines)
    res = verify_log(log)
    assert [(i.index, i.operation, i.kind) for i in res.issues] == [
        (victim, f"op{victim}", "removed")
    ]


def test_removed_last_record_is_named_via_anchor(tmp_path):
    log = _log_with(4, tmp_path)
    _rewrite(log, log.path.read_text().splitlines()[:-1])
    res = verify_log(log)
    assert [(i.index, i.operation, i.kind) for i in res.issues] == [(3, "op3", "truncated")]


def test_reordered_records_are_named(tmp_path):
    log = _log_with(4, tmp_path)
    lines = log.path.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    _rewrite(log, lines)
    res = verify_log(log)
    assert [(i.index, i.operation, i.kind) for i in res.issues] == [(1, "op1", "reordered")]


def test_cli_verify_exit_codes_and_message(tmp_path, capsys):
    log = _log_with(3, tmp_path)
    assert main(["provenance", "verify", str(log.path)]) == 0
    assert "chain intact" in capsys.readouterr().out
    lines = log.path.read_text().splitlines()
    _rewrite(log, [lines[0], lines[2]])
    assert main(["provenance", "verify", str(log.path)]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "record 1 (op1)" in out and "removed" in out
    assert main(["provenance", "verify", str(log.path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["issues"][0]["index"] == 1


def test_malformed_line_is_reported(tmp_path):
    log = _log_with(2, tmp_path)
    lines = log.path.read_text().splitlines()
    _rewrite(log, [lines[0], "{not json", lines[1]])
    kinds = [i.kind for i in verify_log(log).issues]
    assert "malformed" in kinds


def test_concurrent_appends_keep_the_chain(tmp_path):
    log = ProvenanceLog(tmp_path / "c.jsonl")

    def work(t: int) -> None:
        for i in range(10):
            ProvenanceLog(log.path).append(f"t{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    res = verify_log(log)
    assert res.ok and res.records == 40


def test_recording_can_be_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PROVENANCE", "off")
    assert record_operation("x") is None
    assert not (tmp_path / ".workbench").exists()


def test_replay_registered_operation_reproduces_hash(tmp_path, capsys):
    src = _csv(tmp_path / "in.csv", ["3,33333,30", "1,11111,10", "2,22222,20"])
    out = tmp_path / "derived" / "out.csv"
    rec = run_operation("drop_columns", [src], [out], {"columns": ["id"]})
    assert out.read_text().splitlines()[0] == "zip,age"
    res = replay(record=rec["seq"])
    assert res.ok, res.message
    assert res.outputs[0][1] == res.outputs[0][2] == sha256_file(out)
    assert main(["provenance", "replay", "--record", str(rec["seq"])]) == 0
    assert "OK" in capsys.readouterr().out
    # replay never writes over the recorded output, and reports that it changed on disk
    out.write_text("changed\n")
    res = replay(record=rec["seq"])
    assert not res.ok and "on disk differs" in res.message
    assert res.outputs[0][1] == res.outputs[0][2] != res.outputs[0][3]
    assert out.read_text() == "changed\n"


def test_replay_fails_when_input_changed(tmp_path, capsys):
    src = _csv(tmp_path / "in.csv", ["1,11111,10"])
    run_operation("sort_lines", [src], [tmp_path / "o.csv"], {})
    _csv(src, ["9,99999,90"])
    res = replay()
    assert not res.ok and "changed" in res.message
    assert main(["provenance", "replay"]) == 1


def test_replay_detects_a_different_output(tmp_path):
    src = _csv(tmp_path / "in.csv", ["2,2,2", "1,1,1"])
    log = ProvenanceLog()
    out = tmp_path / "o.csv"
    out.write_text("not what sort_lines writes\n")
    log.append("sort_lines", [src], [out], {}, recipe={"operation": "sort_lines", "parameters": {}})
    res = replay(log)
    assert not res.ok and "differs" in res.message


def test_replay_cli_argv_recipe(tmp_path):
    """A CLI recipe re-runs ``workbench ...`` in a subprocess with outputs redirected."""
    inner = _log_with(2, tmp_path)
    prov_out = tmp_path / "exported.json"
    argv = ["provenance", "export", str(inner.path), "--prov", "exported.json"]
    assert main(argv) == 0
    rec = record_operation(
        "export", [inner.path], [prov_out], {"argv": argv}, recipe={"argv": argv}
    )
    assert rec["recipe"]["cwd"] == str(tmp_path)
    before = prov_out.read_bytes()
    res = replay(record=rec["seq"])
    assert res.ok, res.message
    assert prov_out.read_bytes() == before


def test_replay_refuses_redacted_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "topsecret")
    record_operation("x", [], [], {}, recipe={"argv": ["samples", "export", "topsecret"]})
    with pytest.raises(ProvenanceError, match="redacted"):
        replay()


def test_replay_without_recipe_is_an_error(tmp_path):
    record_operation("read", [])
    with pytest.raises(ProvenanceError, match="no record has a replayable recipe"):
        replay()
    assert main(["provenance", "replay", "--record", "0"]) == 2


def test_prov_json_export(tmp_path, capsys):
    from prov.model import ProvDocument

    src = _csv(tmp_path / "in.csv", ["1,11111,10"])
    policy = Policy.from_dict(policy_doc(name="clinic"))
    run_operation("sort_lines", [src], [tmp_path / "o.csv"], {}, policy=policy)
    record_operation("check", [tmp_path / "o.csv"], [], {"passed": True}, user="bob")
    out = tmp_path / "prov.json"
    assert main(["provenance", "export", "--prov", str(out)]) == 0
    assert "unsigned log" in capsys.readouterr().out
    doc = ProvDocument.deserialize(out, format="json")
    data = json.loads(out.read_text())
    assert set(data["activity"]) == {"wb:op-0", "wb:op-1"}
    assert any(k.startswith("wb:user-bob") for k in data["agent"])
    # the sorted output was generated by op-0 and used by op-1
    gens = list(data["wasGeneratedBy"].values())
    assert gens[0]["prov:activity"] == "wb:op-0"
    used_by_1 = [u["prov:entity"] for u in data["used"].values() if u["prov:activity"] == "wb:op-1"]
    assert gens[0]["prov:entity"] in used_by_1
    assert any(e.startswith("wb:policy-") for e in data["entity"])
    assert {a["wb:signer"] for a in data["activity"].values()} == {"unsigned"}
    assert len(doc.get_records()) > 5
    assert json.loads(export_prov()) == data


def test_log_listing(tmp_path, capsys):
    record_operation("read", [_csv(tmp_path / "a.csv", [])])
    assert main(["provenance", "log"]) == 0
    assert "read" in capsys.readouterr().out
    assert main(["provenance", "log", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["operation"] == "read"


def test_replay_anonymize_cli_recipe(tmp_path):
    """``workbench anonymize ... --output`` recorded with its argv replays to the same hash."""
    import random

    rng = random.Random(7)
    rows = [
        f"{rng.randint(20, 70)},{rng.choice(['12345', '12346', '54321'])},{rng.choice('FM')}"
        for _ in range(60)
    ]
    src = tmp_path / "people.csv"
    src.write_text("\n".join(["age,zip,sex", *rows]) + "\n")
    argv = ["anonymize", "people.csv", "--qi", "age,zip,sex", "--k", "3", "--output", "anon.csv"]
    assert main(argv) == 0
    rec = record_operation(
        "anonymize", [src], [tmp_path / "anon.csv"], {"k": 3}, recipe={"argv": argv}
    )
    before = sha256_file(tmp_path / "anon.csv")
    res = replay(record=rec["seq"])
    assert res.ok, res.message
    assert res.outputs == ((str((tmp_path / "anon.csv").resolve()), before, before, before),)
    assert sha256_file(tmp_path / "anon.csv") == before
    # a different recorded output hash is caught
    (tmp_path / "anon.csv").write_text("tampered\n")
    rec2 = record_operation(
        "anonymize", [src], [tmp_path / "anon.csv"], {"k": 3}, recipe={"argv": argv}
    )
    assert not replay(record=rec2["seq"]).ok
