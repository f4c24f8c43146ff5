"""Ed25519 keys (workbench.governance.signing) and the signed provenance log, head and CLI."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import warnings

import pytest
from _helpers_governance import isolated  # noqa: F401 - fixture
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from workbench.cli import main
from workbench.errors import KeyMissingError, ParameterError, ProvenanceError
from workbench.governance import ProvenanceLog, record_operation, replay, run_operation, verify_log
from workbench.governance.signing import (
    PROVENANCE_KEY_ENV,
    fingerprint,
    generate_signing_key,
    load_public_key,
    load_signing_key,
    parse_private_key,
    public_key_text,
    sign,
    verify_signature,
    write_private_key,
)

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    monkeypatch.delenv(PROVENANCE_KEY_ENV, raising=False)
    monkeypatch.delenv("BOARD_KEY", raising=False)


def _pem(key) -> bytes:
    return key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _raw_b64(key) -> str:
    return base64.b64encode(key.private.private_bytes_raw()).decode()


# ------------------------------------------------------------------------------------- keys
def test_sign_and_verify_roundtrip_and_fail_closed():
    key = generate_signing_key()
    sig = key.sign(b"data")
    assert verify_signature(key.public_key, b"data", sig)
    assert verify_signature(key.public_text, b"data", sig)
    assert sign(key.private, b"data") == sig  # Ed25519 is deterministic
    other = generate_signing_key()
    assert not verify_signature(other.public_key, b"data", sig)
    assert not verify_signature(key.public_key, b"datA", sig)
    for garbage in (None, 5, "", "not base64!", "A" * 500, base64.b64encode(b"x" * 63).decode()):
        assert not verify_signature(key.public_key, b"data", garbage)
    assert not verify_signature("not a key", b"data", sig)


def test_public_key_forms_and_fingerprint(tmp_path):
    key = generate_signing_key()
    text = key.public_text
    assert len(base64.b64decode(text)) == 32
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    (tmp_path / "pub.txt").write_text(text + "\n")
    (tmp_path / "pub.pem").write_text(pem)
    for form in (text, pem, str(tmp_path / "pub.txt"), tmp_path / "pub.pem"):
        assert public_key_text(load_public_key(form)) == text
    fp = fingerprint(text)
    assert fp == key.fingerprint and fp.startswith("ed25519:") and len(fp) == 8 + 32
    with pytest.raises(KeyMissingError, match="neither"):
        load_public_key(tmp_path / "absent.pub")


def test_repr_never_shows_the_key(monkeypatch):
    key = generate_signing_key()
    monkeypatch.setenv(PROVENANCE_KEY_ENV, _raw_b64(key))
    loaded = load_signing_key()
    assert _raw_b64(key) not in repr(loaded)
    assert (
        repr(loaded)
        == f"SigningKey(source='env:{PROVENANCE_KEY_ENV}', fingerprint='{key.fingerprint}')"
    )


def test_environment_holds_pem_base64_or_a_path(monkeypatch, tmp_path):
    key = generate_signing_key()
    path = write_private_key(key, tmp_path / "k.pem")
    for value, source in (
        (_pem(key).decode(), f"env:{PROVENANCE_KEY_ENV}"),
        (_raw_b64(key), f"env:{PROVENANCE_KEY_ENV}"),
        (str(path), f"file:{path}"),
    ):
        monkeypatch.setenv(PROVENANCE_KEY_ENV, value)
        loaded = load_signing_key()
        assert loaded.public_text == key.public_text and loaded.source == source


def test_explicit_key_file_wins_over_the_environment(monkeypatch, tmp_path):
    ambient, own = generate_signing_key(), generate_signing_key()
    monkeypatch.setenv(PROVENANCE_KEY_ENV, _raw_b64(ambient))
    path = write_private_key(own, tmp_path / "member.pem")
    assert load_signing_key(key_file=path).public_text == own.public_text
    assert load_signing_key().public_text == ambient.public_text
    # another signer reads their own variable
    monkeypatch.setenv("BOARD_KEY", _raw_b64(own))
    assert load_signing_key("BOARD_KEY").public_text == own.public_text


def test_missing_key(monkeypatch, tmp_path):
    assert load_signing_key() is None
    with pytest.raises(KeyMissingError, match=PROVENANCE_KEY_ENV):
        load_signing_key(required=True)
    monkeypatch.setenv(PROVENANCE_KEY_ENV, str(tmp_path / "gone.pem"))
    with pytest.raises(KeyMissingError, match="nor the path of an existing key file"):
        load_signing_key()
    with pytest.raises(KeyMissingError, match="cannot be read"):
        load_signing_key(key_file=tmp_path / "gone.pem")


def test_bad_key_material_is_never_echoed(tmp_path):
    secret = "s3cret-not-a-key-material"
    with pytest.raises(ParameterError) as err:
        parse_private_key(secret.encode(), "env:X")
    assert secret not in str(err.value) and "env:X" in str(err.value)
    rsa = generate_private_key(public_exponent=65537, key_size=1024)
    pem = rsa.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ParameterError, match="an Ed25519 key") as err:
        parse_private_key(pem, "file:rsa.pem")
    assert pem.decode().splitlines()[1] not in str(err.value)


def test_key_file_written_owner_only_and_not_overwritten(tmp_path):
    key = generate_signing_key()
    path = write_private_key(key, tmp_path / "sub" / "k.pem")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key(key_file=path).public_text == key.public_text
    with pytest.raises(ParameterError, match="does not exist yet"):
        write_private_key(generate_signing_key(), path)
    other = generate_signing_key()
    write_private_key(other, path, overwrite=True)
    assert load_signing_key(key_file=path).public_text == other.public_text
    assert [p.name for p in path.parent.iterdir()] == ["k.pem"]  # no temp file left


def test_group_readable_key_file_warns(tmp_path):
    path = write_private_key(generate_signing_key(), tmp_path / "k.pem")
    path.chmod(0o640)
    with pytest.warns(UserWarning, match="readable by other users"):
        load_signing_key(key_file=path)
    path.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_signing_key(key_file=path)


def test_oversized_key_file_is_refused(tmp_path):
    path = tmp_path / "big.pem"
    path.write_bytes(b"x" * 20_000)
    path.chmod(0o600)
    with pytest.raises(KeyMissingError, match="one key"):
        load_signing_key(key_file=path)


# ----------------------------------------------------------------------------------- CLI keys
def test_keygen_and_public_key_commands(tmp_path, monkeypatch, capsys):
    out = tmp_path / "prov.key"
    assert main(["provenance", "keygen", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    public = captured.out.strip()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert load_signing_key(key_file=out).public_text == public
    pem_body = out.read_text().splitlines()[1]
    assert pem_body not in captured.out + captured.err
    assert main(["provenance", "keygen", "--out", str(out)]) == 2  # never silently replaced
    capsys.readouterr()
    assert main(["provenance", "public-key", "--key-file", str(out)]) == 0
    assert capsys.readouterr().out.strip() == public
    monkeypatch.setenv(PROVENANCE_KEY_ENV, str(out))
    assert main(["provenance", "public-key"]) == 0
    assert capsys.readouterr().out.strip() == public
    monkeypatch.delenv(PROVENANCE_KEY_ENV)
    assert main(["provenance", "public-key"]) == 2


# ------------------------------------------------------------------------------ signed log
def _keyed(monkeypatch, tmp_path, name="prov.key"):
    key = generate_signing_key()
    path = write_private_key(key, tmp_path / name)
    monkeypatch.setenv(PROVENANCE_KEY_ENV, str(path))
    return key


def test_records_and_head_are_signed(monkeypatch, tmp_path, capsys):
    key = _keyed(monkeypatch, tmp_path)
    rec = record_operation("read", [])
    assert rec["signer"] == key.public_text
    assert verify_signature(
        key.public_key, b"workbench-provenance-record/1\n" + rec["hash"].encode(), rec["signature"]
    )
    head = ProvenanceLog().head()
    assert head["public_key"] == key.public_text and head["fingerprint"] == key.fingerprint
    assert head["count"] == 1 and head["hash"] == rec["hash"]
    res = verify_log()
    assert res.ok and res.signed and res.signers == (key.fingerprint,)
    assert res.unsigned_records == 0
    assert main(["provenance", "verify"]) == 0
    assert f"signed by {key.fingerprint}" in capsys.readouterr().out
    assert main(["provenance", "verify", "--json", "--public-key", key.public_text]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["signed"] is True and doc["signers"] == [key.fingerprint]
    assert main(["provenance", "log"]) == 0
    out = capsys.readouterr().out
    assert f"signed by {key.fingerprint}" in out.splitlines()[0]
    assert main(["provenance", "export", "--prov", str(tmp_path / "p.json")]) == 0
    assert "(1 activities; signed log" in capsys.readouterr().out
    activity = json.loads((tmp_path / "p.json").read_text())["activity"]["wb:op-0"]
    assert activity["wb:signer"] == key.fingerprint


def test_unsigned_is_said_everywhere(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,zip\n1,1\n")
    run_operation("drop_columns", [src], [tmp_path / "o.csv"], {"columns": ["id"]})
    assert main(["provenance", "verify"]) == 0
    assert "unsigned" in capsys.readouterr().out
    assert main(["provenance", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signed"] is False
    assert main(["provenance", "log"]) == 0
    assert "unsigned" in capsys.readouterr().out.splitlines()[0]
    assert main(["provenance", "head"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"] is None and "unsigned" in captured.err
    assert main(["provenance", "replay"]) == 0
    assert "unsigned log" in capsys.readouterr().out
    assert main(["provenance", "replay", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signed"] is False


def test_head_command_prints_the_signed_head(monkeypatch, tmp_path, capsys):
    key = _keyed(monkeypatch, tmp_path)
    for i in range(3):
        record_operation(f"op{i}", [])
    out = tmp_path / "published.json"
    assert main(["provenance", "head", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["count"] == 3 and printed["public_key"] == key.public_text
    assert printed["signature"] and printed["format"] == "workbench-provenance-head/1"
    assert (
        main(["provenance", "verify", "--against", str(out), "--public-key", key.public_text]) == 0
    )
    # a forged published head (count changed, signature kept) is caught
    forged = dict(printed, count=2)
    out.write_text(json.dumps(forged))
    assert main(["provenance", "verify", "--against", str(out)]) == 1
    assert "signature of the published head" in capsys.readouterr().out


def test_head_of_a_tampered_log_is_refused(tmp_path, capsys):
    log = ProvenanceLog()
    log.append("a")
    log.head_path.unlink()
    assert main(["provenance", "head"]) == 2
    assert "no head to publish" in capsys.readouterr().err


def test_unsigned_append_to_a_signed_log_is_refused(monkeypatch, tmp_path):
    _keyed(monkeypatch, tmp_path)
    record_operation("a", [])
    monkeypatch.delenv(PROVENANCE_KEY_ENV)
    with pytest.raises(ProvenanceError, match="is signed"):
        record_operation("b", [])
    assert len(ProvenanceLog().records()) == 1


def test_signing_starts_later_and_covers_earlier_records(monkeypatch, tmp_path, capsys):
    record_operation("before-1", [])
    record_operation("before-2", [])
    key = _keyed(monkeypatch, tmp_path)
    record_operation("after", [])
    res = verify_log(public_keys=[key.public_text])
    assert res.ok and res.signed and res.unsigned_records == 2
    assert "first 2 record(s) predate signing" in res.signing
    # editing an early unsigned record breaks the chain under the later signature
    log = ProvenanceLog()
    lines = log.path.read_text().splitlines()
    lines[0] = lines[0].replace('"before-1"', '"forged"')
    log.path.write_text("\n".join(lines) + "\n")
    assert not verify_log().ok


@pytest.mark.parametrize("tamper", ["unanchored", "edited", "emptied"])
def test_a_signer_never_vouches_for_a_tampered_tail(monkeypatch, tmp_path, tamper):
    _keyed(monkeypatch, tmp_path)
    log = ProvenanceLog()
    log.append("a")
    log.append("b")
    lines = log.path.read_text().splitlines()
    if tamper == "unanchored":
        log.head_path.unlink()
    elif tamper == "edited":
        log.path.write_text(lines[0] + "\n" + lines[1].replace('"b"', '"x"', 1) + "\n")
    else:
        log.path.write_text("")
    before = log.path.read_bytes()
    with pytest.raises(ProvenanceError, match="refusing to sign"):
        log.append("c")
    assert log.path.read_bytes() == before


def test_each_signer_with_their_own_key(monkeypatch, tmp_path):
    """Oversight members sign their own decisions in a shared log; all keys must be trusted."""
    officer = _keyed(monkeypatch, tmp_path)
    member = generate_signing_key()
    log = ProvenanceLog()
    log.append("release-request")
    rec = log.append("board-approve", user="member", signing_key=member)
    assert rec["signer"] == member.public_text
    own_log = ProvenanceLog(tmp_path / "decisions.jsonl", signing_key=member)
    assert own_log.append("decision")["signer"] == member.public_text
    both = verify_log(log, public_keys=[officer.public_text, member.public_text])
    assert both.ok and set(both.signers) == {officer.fingerprint, member.fingerprint}
    only_officer = verify_log(log, public_keys=[officer.public_text])
    assert [(i.index, i.kind) for i in only_officer.issues] == [
        (1, "untrusted-signer"),
        (2, "untrusted-signer"),  # the head, signed by the last appender
    ]


def test_locked_is_reentrant_for_check_and_charge(tmp_path):
    """A ledger checks the budget and appends under one lock (no deadlock, no lost update)."""
    ledger = ProvenanceLog(tmp_path / "ledger.jsonl")
    budget, cost = 1.0, 0.3
    errors: list[BaseException] = []

    def charge() -> None:
        try:
            for _ in range(3):
                log = ProvenanceLog(ledger.path)
                with log._locked():
                    spent = sum(r["parameters"]["epsilon"] for r in log.records())
                    if spent + cost <= budget + 1e-9:
                        log.append("charge", parameters={"epsilon": cost})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=charge, daemon=True) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert not any(th.is_alive() for th in threads) and not errors
    assert len(ledger.records()) == 3  # 3 x 0.3 <= 1.0 < 4 x 0.3
    assert verify_log(ledger).ok


def test_replay_of_a_signed_log_checks_the_public_key(monkeypatch, tmp_path, capsys):
    key = _keyed(monkeypatch, tmp_path)
    src = tmp_path / "in.csv"
    src.write_text("id,zip\n2,2\n1,1\n")
    run_operation("sort_lines", [src], [tmp_path / "o.csv"], {})
    res = replay(public_keys=[key.public_text])
    assert res.ok and res.signed
    assert main(["provenance", "replay"]) == 0
    assert "(signed log)" in capsys.readouterr().out
    other = generate_signing_key()
    res = replay(public_keys=[other.public_text])
    assert not res.ok and "not by the given public key" in res.message


@pytest.mark.parametrize("form", ["base64", "pem"])
def test_inline_key_material_is_redacted_from_records(monkeypatch, tmp_path, form):
    key = generate_signing_key()
    value = _raw_b64(key) if form == "base64" else _pem(key).decode()
    monkeypatch.setenv(PROVENANCE_KEY_ENV, value)
    body = value if form == "base64" else value.splitlines()[1]
    rec = record_operation("x", [], [], {"argv": ["--note", body], "copy": value})
    assert rec["signer"] == key.public_text
    text = ProvenanceLog().path.read_text()
    assert body not in text and value not in text


@pytest.mark.parametrize("value", ["x" * 5000, "bad\npath", "not-a-key-or-file"])
def test_unusable_environment_value_is_a_clear_error(monkeypatch, capsys, value):
    monkeypatch.setenv(PROVENANCE_KEY_ENV, value)
    with pytest.raises(KeyMissingError, match="neither a PEM key"):
        load_signing_key()
    assert main(["provenance", "public-key"]) == 2
    err = capsys.readouterr().err
    assert "neither a PEM key" in err and value[:20] not in err


def test_unreadable_log_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "dir.jsonl").mkdir()
    assert main(["provenance", "verify", str(tmp_path / "dir.jsonl")]) == 2
    assert "the log is not a regular file" in capsys.readouterr().err


def test_a_fifo_head_is_refused_not_waited_on(tmp_path):
    """An attacker who replaces the head with a named pipe must not hang verification."""
    log = ProvenanceLog(tmp_path / "l.jsonl")
    log.append("a")
    log.head_path.unlink()
    os.mkfifo(log.head_path)
    res = verify_log(log)
    assert [i.kind for i in res.issues] == ["malformed"]
    assert "not a regular file" in res.issues[0].message


def test_head_fingerprint_must_be_the_keys_own(monkeypatch, tmp_path):
    _keyed(monkeypatch, tmp_path)
    record_operation("a", [])
    log = ProvenanceLog()
    head = json.loads(log.head_path.read_text())
    head["fingerprint"] = generate_signing_key().fingerprint
    log.head_path.write_text(json.dumps(head))
    assert [i.kind for i in verify_log().issues] == ["bad-signature"]


def test_concurrent_signed_appends_keep_the_chain(monkeypatch, tmp_path):
    key = _keyed(monkeypatch, tmp_path)
    path = tmp_path / "c.jsonl"

    def work(t: int) -> None:
        for i in range(10):
            ProvenanceLog(path).append(f"t{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    res = verify_log(path, public_keys=[key.public_text])
    assert res.ok and res.signed and res.records == 40


def test_programme_metrics_say_whether_the_log_is_signed(monkeypatch, tmp_path):
    from workbench.governance import programme_metrics

    record_operation("a", [])
    assert programme_metrics().provenance_signed is False
    assert programme_metrics().to_dict()["provenance_signed"] is False
    monkeypatch.setenv("WORKBENCH_PROVENANCE", str(tmp_path / "signed.jsonl"))
    _keyed(monkeypatch, tmp_path)
    record_operation("b", [])
    m = programme_metrics()
    assert m.provenance_intact is True and m.provenance_signed is True
