"""`encryption_at_rest: true` bites on the command line: outputs encrypted, plaintext refused.

The sample city's clinic policy requires encryption at rest and its voter roll's does not; the
catalog beside the files tells the CLI which policy is in force.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from workbench._crypto import ENCRYPTION_KEY_ENV, MAGIC, generate_key_text
from workbench.cli import main
from workbench.governance.in_force import policy_in_force

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "data" / "samples" / "city"
CLINIC = CITY / "clinic_visits.csv"
VOTERS = CITY / "voter_roll.csv"
ANON = ["anonymize", "--qi", "sex,postal_code", "--k", "2", "--no-progress"]


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    path = tmp_path / "keys" / "city.key"
    path.parent.mkdir()
    path.write_text(generate_key_text() + "\n")
    return path


def _log_text() -> str:
    p = Path(os.environ["WORKBENCH_PROVENANCE"])
    return p.read_text() if p.exists() else ""


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def test_sample_policies_in_force():
    assert policy_in_force([CLINIC]).encryption_reasons == (
        "policy 'clinic' (encryption_at_rest: true)",
    )
    assert policy_in_force([VOTERS]).encryption_reasons == ()
    both = policy_in_force([CLINIC, VOTERS])  # harmonized: the stricter flag wins
    assert both.datasets == ("clinic", "voters") and both.encryption_reasons


def test_plaintext_output_of_clinic_data_is_refused(tmp_path, key_file, capsys, monkeypatch):
    out = tmp_path / "out" / "clinic_anon.csv"
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # the system temp directory
    code = main([*ANON, str(CLINIC), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to write plaintext" in err and "policy 'clinic'" in err
    assert ENCRYPTION_KEY_ENV in err
    assert not out.exists() and _files(tmp_path) == ["keys/city.key"]  # nor in tmp/
    assert "clinic_anon" not in _log_text()  # a refused run is not recorded


def test_clinic_output_encrypted_readable_with_key_and_recorded(tmp_path, key_file, capsys):
    out = tmp_path / "clinic_anon.csv"
    code = main(["--encryption-key-file", str(key_file), *ANON, str(CLINIC), "--output", str(out)])
    assert code == 0
    assert out.read_bytes().startswith(MAGIC)
    assert _files(tmp_path) == ["clinic_anon.csv", "keys/city.key"]  # no temp, no plaintext
    assert b"female" not in out.read_bytes()
    log = _log_text()
    rec = json.loads(log.strip().splitlines()[-1])
    assert rec["operation"] == "anonymize" and rec["policy"]["name"] == "clinic"
    assert rec["policy"]["retention"] == "P3Y"
    key_text = key_file.read_text().strip()
    assert key_text not in log and key_text not in capsys.readouterr().out
    # every command that reads data reads it back with the key ...
    capsys.readouterr()
    code = main(["--encryption-key-file", str(key_file), "profile", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["dataset"]["n_rows"] == len(pd.read_csv(CLINIC))
    # ... and without it says which file needs its key, showing no value
    assert main(["profile", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is encrypted at rest and needs its key" in err and "female" not in err


def test_outputs_of_encrypted_data_stay_encrypted_without_a_catalog(tmp_path, key_file):
    first = tmp_path / "a.csv"
    assert (
        main(["--encryption-key-file", str(key_file), *ANON, str(CLINIC), "--output", str(first)])
        == 0
    )
    again = tmp_path / "elsewhere" / "b.csv"  # no catalog here: the encrypted input decides
    code = main(["--encryption-key-file", str(key_file), *ANON, str(first), "--output", str(again)])
    assert code == 0 and again.read_bytes().startswith(MAGIC)


def test_voter_roll_output_stays_plaintext(tmp_path, key_file):
    out = tmp_path / "voters.csv"
    assert main([*ANON, str(VOTERS), "--output", str(out)]) == 0
    assert not out.read_bytes().startswith(MAGIC)
    assert json.loads(_log_text().strip().splitlines()[-1])["policy"]["name"] == "voters"


def test_run_failing_after_the_encrypted_write_leaves_nothing(
    tmp_path, key_file, capsys, monkeypatch
):
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    out = tmp_path / "clinic_anon.csv"
    blocker = tmp_path / "bundle.json"
    blocker.mkdir()  # the bundle cannot be written: the command fails after the output
    code = main(
        ["--encryption-key-file", str(key_file), *ANON, str(CLINIC), "--output", str(out),
         "--bundle", str(blocker)]
    )  # fmt: skip
    assert code == 2
    assert _files(tmp_path) == ["keys/city.key"]  # output rolled back, no temporary file
    assert _files(private_tmp) == []
    assert "female" not in capsys.readouterr().err


def test_assess_per_record_of_clinic_data_is_encrypted(tmp_path, key_file):
    out = tmp_path / "per_record.csv"
    code = main(
        ["--encryption-key-file", str(key_file), "assess", str(CLINIC), "--qi", "sex,postal_code",
         "--per-record", str(out)]
    )  # fmt: skip
    assert code in (0, 1) and out.read_bytes().startswith(MAGIC)


def test_replay_compares_decrypted_content(tmp_path, monkeypatch, capsys):
    """Nonces differ run to run, so the ciphertexts differ; the replay compares the decrypted
    content and passes, and the key (from the environment) is in no record."""
    key = generate_key_text()
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, key)
    monkeypatch.chdir(tmp_path)
    assert main([*ANON, str(CLINIC), "--output", "out.csv"]) == 0
    capsys.readouterr()
    assert main(["provenance", "replay"]) == 0
    out = capsys.readouterr().out
    assert "OK: replayed" in out and "1 encrypted: by decrypted content" in out
    assert key not in _log_text()
    assert _files(tmp_path) == ["out.csv"]  # the replay's scratch copy is gone
    # an edited ciphertext on disk is not waved through
    blob = bytearray((tmp_path / "out.csv").read_bytes())
    blob[100] ^= 1
    (tmp_path / "out.csv").write_bytes(bytes(blob))
    assert main(["provenance", "replay"]) != 0


def test_samples_export_of_clinic_is_encrypted_and_records_its_policy(tmp_path, key_file):
    out = tmp_path / "clinic.csv"
    code = main(["--encryption-key-file", str(key_file), "samples", "export", "clinic",
                 "--out", str(out)])  # fmt: skip
    assert code == 0 and out.read_bytes().startswith(MAGIC)
    rec = json.loads(_log_text().strip().splitlines()[-1])
    assert rec["operation"] == "samples-export" and rec["policy"]["name"] == "clinic"


def test_a_named_policy_requiring_encryption_applies_to_a_loose_file(tmp_path, key_file):
    """No catalog knows the file, but the command names the policy in force (--policy)."""
    from tests._helpers_governance import policy_doc
    from workbench.governance import Policy

    Policy.from_dict(policy_doc(encryption_at_rest=True)).save(tmp_path / "p.yaml")
    Policy.from_dict(policy_doc(encryption_at_rest=False)).save(tmp_path / "q.yaml")
    src = tmp_path / "loose.csv"
    pd.read_csv(VOTERS, dtype=str).head(200).to_csv(src, index=False)
    for policy, encrypted in (("p.yaml", True), ("q.yaml", False)):
        out = tmp_path / f"out_{policy}.csv"
        argv = [*ANON, str(src), "--output", str(out), "--policy", str(tmp_path / policy)]
        assert main(["--encryption-key-file", str(key_file), *argv]) == 0
        assert out.read_bytes().startswith(MAGIC) is encrypted


def test_an_unreadable_catalog_beside_the_data_fails_closed(tmp_path):
    from workbench.errors import ConfigError

    (tmp_path / "catalog.yaml").write_text("datasets: [unclosed\n")
    (tmp_path / "d.csv").write_text("a\n1\n")
    with pytest.raises(ConfigError, match="policy in force for it is unknown"):
        policy_in_force([tmp_path / "d.csv"])
    (tmp_path / "catalog.yaml").write_text("name: x\ndatasets:\n  a:\n    file: other.csv\n")
    assert policy_in_force([tmp_path / "d.csv"]).policy is None  # readable, file not declared
