"""Provenance against an attacker with write access: one regression test per attack (issue #10).

Each test builds the attack by hand on the files (as an attacker would) and fails on the 0.1 code,
which verified an unkeyed chain, trusted ``seq``, ignored a missing or lowered ``.head`` and ran
``python -m workbench`` from a recorded directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _helpers_governance import isolated  # noqa: F401 - fixture
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workbench._io import sha256_file
from workbench.cli import main
from workbench.errors import ProvenanceError
from workbench.governance import ProvenanceLog, record_operation, replay, run_operation, verify_log
from workbench.governance import provenance as prov

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    monkeypatch.delenv("WORKBENCH_PROVENANCE_KEY", raising=False)


def _key_file(path: Path) -> Path:
    """A PKCS#8 PEM Ed25519 key written with cryptography alone (no workbench code)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def _log(tmp: Path, n: int = 4, name: str = "chain.jsonl") -> ProvenanceLog:
    log = ProvenanceLog(tmp / name)
    for i in range(n):
        log.append(f"op{i}", parameters={"i": i})
    return log


def _signed_log(tmp: Path, monkeypatch, n: int = 4) -> ProvenanceLog:
    monkeypatch.setenv("WORKBENCH_PROVENANCE_KEY", str(_key_file(tmp / "prov.key")))
    return _log(tmp, n)


def _records(log: ProvenanceLog) -> list[dict]:
    return [json.loads(line) for line in log.path.read_text().splitlines() if line.strip()]


def _write(log: ProvenanceLog, recs: list[dict]) -> None:
    log.path.write_text("".join(json.dumps(r) + "\n" for r in recs))


def _rehash(recs: list[dict]) -> list[dict]:
    """What an attacker does after an edit: recompute every hash and link from the start."""
    prev = prov.GENESIS_HASH
    for r in recs:
        r["prev_hash"] = prev
        r["hash"] = prov._record_hash(r)
        prev = r["hash"]
    return recs


def _rewrite_head(log: ProvenanceLog, count: int, digest: str) -> None:
    head = json.loads(log.head_path.read_text())
    head.update(count=count, hash=digest)
    log.head_path.write_text(json.dumps(head) + "\n")


def _kinds(res) -> list[str]:
    return [i.kind for i in res.issues]


# ------------------------------------------------------------------- rewriting a signed chain
def test_edit_rehash_chain_and_head_is_caught_when_signed(tmp_path, monkeypatch, capsys):
    log = _signed_log(tmp_path, monkeypatch)
    assert verify_log(log).ok
    recs = _records(log)
    recs[1]["user"] = "mallory"
    _write(log, _rehash(recs))
    _rewrite_head(log, 4, recs[-1]["hash"])
    res = verify_log(log)
    assert not res.ok
    assert [(i.index, i.kind) for i in res.issues][:3] == [
        (1, "bad-signature"),
        (2, "bad-signature"),
        (3, "bad-signature"),
    ]
    assert "bad-signature" in [i.kind for i in res.issues[3:]]  # the head signature too
    assert main(["provenance", "verify", str(log.path)]) == 1
    out = capsys.readouterr().out
    assert "signature check failed" in out and "unsigned" not in out


def test_same_attack_on_an_unsigned_log_passes_but_says_unsigned(tmp_path, capsys):
    """The limit of an unkeyed chain, stated rather than hidden."""
    log = _log(tmp_path)
    recs = _records(log)
    recs[1]["user"] = "mallory"
    _write(log, _rehash(recs))
    _rewrite_head(log, 4, recs[-1]["hash"])
    res = verify_log(log)
    assert res.ok and not res.signed
    assert main(["provenance", "verify", str(log.path)]) == 0
    assert "unsigned" in capsys.readouterr().out
    assert main(["provenance", "verify", str(log.path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["signed"] is False and doc["unsigned_records"] == 4


def test_stripping_signatures_is_caught(tmp_path, monkeypatch):
    log = _signed_log(tmp_path, monkeypatch)
    recs = _records(log)
    for r in recs:
        del r["signer"], r["signature"]
    _write(log, _rehash(recs))
    _rewrite_head(log, 4, recs[-1]["hash"])
    res = verify_log(log)
    assert not res.ok and not res.signed
    assert "bad-signature" in _kinds(res)  # the head no longer verifies


def test_resigned_under_another_key_is_caught_with_public_key(tmp_path, monkeypatch, capsys):
    log = _signed_log(tmp_path, monkeypatch)
    genuine = _records(log)[0]["signer"]
    # the attacker re-signs everything with a key of their own
    monkeypatch.setenv("WORKBENCH_PROVENANCE_KEY", str(_key_file(tmp_path / "evil.key")))
    forged = ProvenanceLog(tmp_path / "forged.jsonl")
    for i in range(4):
        forged.append(f"op{i}", parameters={"i": i}, user="mallory")
    os.replace(forged.path, log.path)
    os.replace(forged.head_path, log.head_path)
    alone = verify_log(log)
    assert alone.ok and alone.signed  # consistent, but signed by someone else ...
    assert alone.signers != (prov.fingerprint(genuine),)
    res = verify_log(log, public_keys=[genuine])  # ... which the published key exposes
    assert not res.ok
    assert _kinds(res).count("untrusted-signer") == 5  # 4 records and the head
    assert main(["provenance", "verify", str(log.path), "--public-key", genuine]) == 1
    assert "untrusted-signer" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the head anchor
def test_appended_record_without_head_update_is_caught(tmp_path):
    log = _log(tmp_path, 3)
    recs = _records(log)
    extra = dict(recs[-1], seq=3, operation="forged", prev_operation="op2")
    _write(log, _rehash([*recs, extra]))
    res = verify_log(log)
    assert [(i.index, i.kind) for i in res.issues] == [(3, "unanchored")]


def test_lowered_head_count_is_caught(tmp_path):
    log = _log(tmp_path, 4)
    recs = _records(log)
    _rewrite_head(log, 2, recs[1]["hash"])
    res = verify_log(log)
    assert [(i.index, i.kind) for i in res.issues] == [(2, "unanchored")]


def test_deleted_head_is_caught(tmp_path):
    log = _log(tmp_path, 3)
    log.head_path.unlink()
    res = verify_log(log)
    assert not res.ok and _kinds(res) == ["unanchored"] and not res.anchored
    assert "missing" in res.issues[0].message


def test_emptied_log_is_caught(tmp_path):
    log = _log(tmp_path, 3)
    log.path.write_text("")
    res = verify_log(log)
    assert not res.ok and _kinds(res) == ["truncated"] * 3


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_log_has_nothing_to_verify(tmp_path, capsys, state):
    path = tmp_path / "none.jsonl"
    if state == "empty":
        path.write_text("\n")
    with pytest.raises(ProvenanceError, match="nothing to verify"):
        verify_log(path)
    assert main(["provenance", "verify", str(path)]) == 2
    assert "nothing to verify" in capsys.readouterr().err


def test_rollback_with_its_own_head_is_caught_against_a_published_head(tmp_path, capsys):
    log = _log(tmp_path, 2)
    backup = (log.path.read_bytes(), log.head_path.read_bytes())
    log.append("op2")
    log.append("op3")
    published = tmp_path / "published-head.json"
    assert main(["provenance", "head", str(log.path), "--out", str(published)]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 4
    assert verify_log(log, against=published).ok
    # restore the older log together with its older (consistent) anchor
    log.path.write_bytes(backup[0])
    log.head_path.write_bytes(backup[1])
    assert verify_log(log).ok  # locally consistent ...
    res = verify_log(log, against=published)  # ... but shorter than what was published
    assert [(i.index, i.kind) for i in res.issues] == [(2, "truncated")]
    assert main(["provenance", "verify", str(log.path), "--against", str(published)]) == 1


def test_rewritten_log_is_caught_against_a_published_head(tmp_path):
    log = _log(tmp_path, 3)
    published = tmp_path / "h.json"
    published.write_text(log.head_path.read_text())
    log.append("op3")  # the log may grow after publication
    assert verify_log(log, against=published).ok
    recs = _records(log)
    recs[0]["user"] = "mallory"
    _write(log, _rehash(recs))
    _rewrite_head(log, 4, recs[-1]["hash"])
    res = verify_log(log, against=published)
    assert [(i.index, i.kind) for i in res.issues] == [(2, "edited")]


def test_unreadable_published_head_is_an_input_error(tmp_path, capsys):
    log = _log(tmp_path, 1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"count": -1, "hash": "x"}')
    assert main(["provenance", "verify", str(log.path), "--against", str(bad)]) == 2
    assert "not a provenance head" in capsys.readouterr().err


# ------------------------------------------------------------------------- sequence numbers
def test_negative_sequence_numbers_are_caught(tmp_path):
    log = _log(tmp_path, 3)
    recs = [dict(r, seq=r["seq"] - 3) for r in _records(log)]
    _write(log, _rehash(recs))
    _rewrite_head(log, 0, recs[-1]["hash"])
    res = verify_log(log)
    assert not res.ok and res.issues[0].kind == "sequence" and res.stopped


def test_boolean_sequence_number_is_caught(tmp_path):
    log = _log(tmp_path, 2)
    recs = _records(log)
    recs[0]["seq"] = False  # json false == 0 to a careless check
    _write(log, _rehash(recs))
    _rewrite_head(log, 2, recs[-1]["hash"])
    res = verify_log(log)
    assert not res.ok and res.issues[0].kind == "sequence"


def test_non_contiguous_sequence_is_caught(tmp_path):
    log = _log(tmp_path, 3)
    recs = _records(log)
    recs[2]["seq"] = 5
    _write(log, _rehash(recs))
    _rewrite_head(log, 6, recs[-1]["hash"])
    res = verify_log(log)
    assert [(i.index, i.kind) for i in res.issues] == [
        (2, "removed"),
        (3, "removed"),
        (4, "removed"),
    ]


@pytest.mark.parametrize(("gap", "fatal"), [(5, False), (6, True)])
def test_sequence_gap_limit(tmp_path, monkeypatch, gap, fatal):
    """Gaps up to MAX_LISTED_GAP are listed record by record; one more stops verification."""
    monkeypatch.setattr(prov, "MAX_LISTED_GAP", 5)
    log = _log(tmp_path, 2)
    recs = _records(log)
    recs[1]["seq"] = 1 + gap
    _write(log, _rehash(recs))
    _rewrite_head(log, 2 + gap, recs[-1]["hash"])
    res = verify_log(log)
    if fatal:
        assert _kinds(res) == ["sequence"] and res.stopped
    else:
        assert _kinds(res) == ["removed"] * gap and not res.stopped


def test_forged_huge_sequence_number_is_bounded(tmp_path, capsys):
    log = _log(tmp_path, 3)
    recs = _records(log)
    forged = dict(recs[-1], seq=1_000_000, operation="forged")
    _write(log, _rehash([*recs, forged]))
    _rewrite_head(log, 1_000_001, forged["hash"])
    res = verify_log(log)
    assert not res.ok and res.stopped
    assert len(res.issues) == 1 and res.issues[0].kind == "sequence"
    assert "1000000" in res.issues[0].message
    assert main(["provenance", "verify", str(log.path)]) == 1
    assert len(capsys.readouterr().out) < 2000


def test_forged_huge_head_count_is_bounded(tmp_path, capsys):
    log = _log(tmp_path, 2)
    _rewrite_head(log, 1_000_000, _records(log)[-1]["hash"])
    res = verify_log(log)
    assert _kinds(res) == ["truncated"]
    assert main(["provenance", "verify", str(log.path)]) == 1
    assert len(capsys.readouterr().out) < 2000


@pytest.mark.parametrize(("problems", "stopped"), [(4, False), (5, True)])
def test_issue_limit(tmp_path, monkeypatch, problems, stopped):
    """Verification stops at MAX_ISSUES problems (here 5 instead of 50)."""
    monkeypatch.setattr(prov, "MAX_ISSUES", 5)
    log = _log(tmp_path, 8)
    lines = log.path.read_text().splitlines()
    for i in range(problems):
        lines[i] = lines[i].replace('"user": "tester"', '"user": "mallory"')
    log.path.write_text("\n".join(lines) + "\n")
    res = verify_log(log)
    assert res.stopped is stopped
    assert _kinds(res) == ["edited"] * problems + (["too-many"] if stopped else [])


def test_many_garbage_lines_are_bounded(tmp_path, capsys):
    log = _log(tmp_path, 1)
    with open(log.path, "a") as fh:
        fh.write("{not json\n" * 100_000)
    res = verify_log(log)
    assert res.stopped and len(res.issues) == prov.MAX_ISSUES + 1
    assert main(["provenance", "verify", str(log.path)]) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 + 20  # header, 20 problems, "... and N more"


# ----------------------------------------------------------------------------- hostile bytes
def test_bad_bytes_are_a_clear_error(tmp_path, capsys):
    log = _log(tmp_path, 2)
    with open(log.path, "ab") as fh:
        fh.write(b'{"seq": 2, "operation": "\xff\xfe"}\n')
    with pytest.raises(ProvenanceError, match="line 3 is not UTF-8"):
        verify_log(log)
    assert main(["provenance", "verify", str(log.path)]) == 2
    err = capsys.readouterr().err
    assert "line 3 is not UTF-8" in err and "Traceback" not in err
    assert main(["provenance", "log", str(log.path)]) == 2


@pytest.mark.parametrize(("size", "error"), [(64, False), (65, True)])
def test_line_length_limit(tmp_path, monkeypatch, size, error):
    """A line of MAX_LINE_BYTES (here 64) bytes plus newline is read; one byte more is refused."""
    monkeypatch.setattr(prov, "MAX_LINE_BYTES", 64)
    path = tmp_path / "long.jsonl"
    body = '{"pad": "' + "x" * (size - 12) + '"}'
    assert len(body.encode()) == size - 1
    path.write_text(body + " \n")  # size bytes before the newline
    if error:
        with pytest.raises(ProvenanceError, match="longer than 64 bytes"):
            verify_log(path)
    else:
        res = verify_log(path)
        assert _kinds(res)[0] == "sequence"  # read and judged, not refused


def test_deeply_nested_line_is_malformed_not_a_crash(tmp_path):
    log = _log(tmp_path, 1)
    with open(log.path, "a") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    assert "malformed" in _kinds(verify_log(log))


# -------------------------------------------------------------------------------------- replay
def _plant_package(directory: Path, marker: Path) -> None:
    pkg = directory / "workbench"
    pkg.mkdir(parents=True)
    code = f"open({str(marker)!r}, 'w').write('executed')\n"
    (pkg / "__init__.py").write_text(code)
    (pkg / "__main__.py").write_text(code)


def test_replay_never_runs_code_from_a_recorded_directory(tmp_path):
    inner = _log(tmp_path, 1, name="inner.jsonl")
    evil = tmp_path / "evil"
    marker = tmp_path / "MARKER"
    _plant_package(evil, marker)
    out = evil / "exported.json"
    argv = ["provenance", "export", str(inner.path), "--prov", "exported.json"]
    # a forged record whose recipe runs in the planted directory (an unsigned log verifies)
    log = ProvenanceLog()
    log.append(
        "export",
        [inner.path],
        [{"path": str(out), "sha256": "0" * 64}],
        recipe={"argv": argv, "cwd": str(evil)},
    )
    assert verify_log(log).ok
    res = replay(log)
    assert not marker.exists()
    assert res.outputs and res.outputs[0][2] is not None  # the installed workbench ran
    assert not res.ok  # the forged output hash does not match


@pytest.mark.parametrize(
    "argv",
    [
        ["dashboard", "bundle.json"],
        ["retention", "purge"],
        ["provenance", "replay"],
        ["samples", "list"],
        ["--version"],
        [],
    ],
)
def test_replay_refuses_commands_outside_the_allowlist(tmp_path, argv):
    ProvenanceLog().append("x", recipe={"argv": argv})
    with pytest.raises(ProvenanceError, match="replayed"):
        replay()


@pytest.mark.parametrize(
    "arg",
    [
        "/home/user/.bashrc",
        "--output=/etc/passwd",
        "../outside.csv",
        "~/x.csv",
        "a/b.csv",
        "age=/etc/h.csv",
    ],
)
def test_replay_refuses_paths_the_record_does_not_list(tmp_path, arg):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n")
    argv = ["profile", str(src), arg]
    ProvenanceLog().append("profile", [src], [], recipe={"argv": argv, "cwd": str(tmp_path)})
    with pytest.raises(ProvenanceError, match="neither a recorded input nor a recorded output"):
        replay()


def test_replay_detects_an_appended_row_in_the_output(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,zip,age\n2,2,2\n1,1,1\n")
    out = tmp_path / "out.csv"
    rec = run_operation("drop_columns", [src], [out], {"columns": ["id"]})
    assert replay(record=rec["seq"]).ok
    with open(out, "a") as fh:
        fh.write("9,99\n")
    res = replay(record=rec["seq"])
    assert not res.ok and "on disk differs" in res.message
    assert main(["provenance", "replay", "--record", str(rec["seq"])]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_replay_detects_a_deleted_output(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,zip\n1,1\n")
    out = tmp_path / "out.csv"
    run_operation("drop_columns", [src], [out], {"columns": ["id"]})
    out.unlink()
    res = replay()
    assert not res.ok and "missing on disk" in res.message


def test_replay_refuses_a_tampered_log(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,zip\n1,1\n")
    run_operation("drop_columns", [src], [tmp_path / "o.csv"], {"columns": ["id"]})
    record_operation("read", [src])
    log = ProvenanceLog()
    log.head_path.unlink()
    res = replay(record=0)
    assert not res.ok and "fails verification" in res.message and res.outputs == ()


def test_replay_output_goes_to_scratch_with_scratch_logs(tmp_path):
    """The re-run writes nothing next to the recorded files and nothing to the real log."""
    src = tmp_path / "people.csv"
    src.write_text("age,zip\n" + "".join(f"{20 + i % 5},1234{i % 2}\n" for i in range(40)))
    argv = ["profile", "people.csv", "--roles-out", "roles.json"]
    assert main(argv) == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    n = len(ProvenanceLog().records())
    res = replay()
    assert res.ok, res.message
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert len(ProvenanceLog().records()) == n
    assert sha256_file(tmp_path / "roles.json") == res.outputs[0][1]


def test_terminal_escapes_in_a_forged_record_are_not_printed(tmp_path, capsys):
    log = _log(tmp_path, 2)
    recs = _records(log)
    recs[1]["operation"] = "\x1b[2K\x1b[1Gchain intact"
    recs[1]["policy"] = "not an object"
    _write(log, recs)
    assert main(["provenance", "verify", str(log.path)]) == 1
    assert main(["provenance", "log", str(log.path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "?[2K?[1Gchain intact" in out


def test_a_log_written_by_0_1_still_verifies_as_unsigned(tmp_path):
    """0.1 wrote heads of just count, hash and operation, and records without signer."""
    log = _log(tmp_path, 3)
    last = _records(log)[-1]
    log.head_path.write_text(json.dumps({"count": 3, "hash": last["hash"], "operation": "op2"}))
    res = verify_log(log)
    assert res.ok and not res.signed and res.unsigned_records == 3
