"""``workbench provenance``: verify, head, replay, export, list the log, and make signing keys."""

from __future__ import annotations

import argparse
import json
import sys

from . import print_json

#: Problems printed by ``verify`` in text mode (the JSON has them all, at most MAX_ISSUES + 1).
SHOWN_ISSUES = 20


def _add_public_key(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="KEY",
        help="trusted public key (base64 as printed by keygen, PEM, or a file holding either; "
        "repeat for several signers): every signature must be by one of them",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "provenance",
        help="verify, publish, replay, export or list the provenance log; make signing keys",
        description="The provenance log (default .workbench/provenance.jsonl or "
        "WORKBENCH_PROVENANCE) is hash-chained and, with WORKBENCH_PROVENANCE_KEY set, signed "
        "with Ed25519; verify names any edited, removed, reordered, appended or truncated record "
        "and any bad signature (exit 1).",
    )
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    v = psub.add_parser("verify", help="check the chain, signatures and head (exit 1 on tampering)")
    v.add_argument("log", nargs="?", help="log file (default: the current log)")
    v.add_argument(
        "--against",
        metavar="HEAD.json",
        help="a head published earlier (workbench provenance head): the log must still hold it",
    )
    _add_public_key(v)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_verify)

    h = psub.add_parser(
        "head", help="print the signed head (record count, last hash, public key) to publish"
    )
    h.add_argument("log", nargs="?")
    h.add_argument("--out", metavar="HEAD.json", help="also write the head to this file")
    _add_public_key(h)
    h.set_defaults(func=_head)

    r = psub.add_parser("replay", help="verify, re-run a recorded recipe, compare output hashes")
    r.add_argument("log", nargs="?")
    r.add_argument("--record", type=int, help="record index (default: last with a recipe)")
    _add_public_key(r)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_replay)

    e = psub.add_parser("export", help="export as W3C PROV-JSON")
    e.add_argument("log", nargs="?")
    e.add_argument("--prov", required=True, metavar="OUT.json", help="output PROV-JSON file")
    e.set_defaults(func=_export)

    lg = psub.add_parser("log", help="list the records")
    lg.add_argument("log", nargs="?")
    lg.add_argument("--json", action="store_true")
    lg.set_defaults(func=_log)

    k = psub.add_parser(
        "keygen", help="create an Ed25519 signing key (file mode 0600) and print its public key"
    )
    k.add_argument("--out", required=True, metavar="KEYFILE", help="private key file to create")
    k.add_argument("--force", action="store_true", help="replace an existing key file")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=_keygen)

    pk = psub.add_parser(
        "public-key", help="print the public key of WORKBENCH_PROVENANCE_KEY (or --key-file)"
    )
    pk.add_argument("--key-file", metavar="KEYFILE", help="private key file (else the variable)")
    pk.set_defaults(func=_public_key)


def _verify(args: argparse.Namespace) -> int:
    from ..governance.provenance import verify_log

    res = verify_log(args.log, against=args.against, public_keys=args.public_key)
    if args.json:
        print_json(res.to_dict())
    elif res.ok:
        against = f", matches the published head {args.against}" if args.against else ""
        print(f"{res.path}: {res.records} records, chain intact{against}; {res.signing}")
    else:
        print(f"{res.path}: TAMPERED ({len(res.issues)} problem(s)); {res.signing}")
        for issue in res.issues[:SHOWN_ISSUES]:
            print(f"  {issue.kind}: {issue.message}")
        if len(res.issues) > SHOWN_ISSUES:
            print(f"  ... and {len(res.issues) - SHOWN_ISSUES} more (--json lists them)")
    return 0 if res.ok else 1


def _head(args: argparse.Namespace) -> int:
    from .._io import atomic_write_text
    from ..governance.provenance import signed_head

    head, res = signed_head(args.log, public_keys=args.public_key)
    text = json.dumps(head, indent=2) + "\n"
    if args.out:
        atomic_write_text(args.out, text)
    sys.stdout.write(text)
    print(f"workbench provenance head: {res.records} records; {res.signing}", file=sys.stderr)
    return 0


def _replay(args: argparse.Namespace) -> int:
    from ..governance.provenance import replay

    res = replay(args.log, record=args.record, public_keys=args.public_key)
    if args.json:
        print_json(res.to_dict())
    else:
        state = "signed log" if res.signed else "unsigned log"
        print(("OK: " if res.ok else "MISMATCH: ") + f"{res.message} ({state})")
        for path, recorded, new, disk in res.outputs:
            mark = "=" if recorded == new else "!="
            dmark = "=" if recorded == disk else "!="
            print(
                f"  {path}: recorded {str(recorded)[:12]} {mark} replayed {str(new)[:12]}, "
                f"{dmark} on disk {str(disk)[:12]}"
            )
    return 0 if res.ok else 1


def _export(args: argparse.Namespace) -> int:
    from ..governance.provenance import ProvenanceLog, export_prov

    log = ProvenanceLog(args.log)
    export_prov(log, args.prov)
    records = log.records()
    state = "signed" if records and records[-1].get("signer") else "unsigned"
    print(f"wrote {args.prov} ({len(records)} activities; {state} log, not verified: see verify)")
    return 0


def _log(args: argparse.Namespace) -> int:
    from ..governance.provenance import ProvenanceLog, _printable

    log = ProvenanceLog(args.log)
    records = log.records()
    if args.json:
        print_json(records)
        return 0
    signers = sorted({str(r["signer"]) for r in records if r.get("signer")})
    if records and not records[-1].get("signer"):
        print(f"# {log.path}: {len(records)} records, unsigned (not verified: see verify)")
    else:
        from ..governance.signing import fingerprint

        names = ", ".join(fingerprint(s) for s in signers)
        print(f"# {log.path}: {len(records)} records, signed by {names} (not verified: see verify)")
    for r in records:
        policy = r.get("policy")
        pol = (policy.get("name") if isinstance(policy, dict) else None) or "-"
        ins, outs = (r.get(k) if isinstance(r.get(k), list) else [] for k in ("inputs", "outputs"))
        mark = "signed" if r.get("signer") else "unsigned"
        seq, ts, user, op = (
            _printable(str(r.get(k))) for k in ("seq", "timestamp", "user", "operation")
        )
        print(
            f"{seq:>5}  {ts}  {user}  {op}  in={len(ins)} out={len(outs)}  "
            f"policy={_printable(str(pol))}  {mark}"
        )
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from ..governance.signing import generate_signing_key, write_private_key

    key = generate_signing_key()
    path = write_private_key(key, args.out, overwrite=args.force)
    if args.json:
        print_json(
            {"key_file": str(path), "public_key": key.public_text, "fingerprint": key.fingerprint}
        )
    else:
        print(key.public_text)
        print(
            f"wrote the private key to {path} (mode 0600; keep it out of the log and of version "
            f"control); public key {key.fingerprint} above: publish it. Sign with "
            f"WORKBENCH_PROVENANCE_KEY={path}",
            file=sys.stderr,
        )
    return 0


def _public_key(args: argparse.Namespace) -> int:
    from ..governance.signing import PROVENANCE_KEY_ENV, load_signing_key

    key = load_signing_key(PROVENANCE_KEY_ENV, args.key_file, required=True)
    assert key is not None
    print(key.public_text)
    print(f"{key.fingerprint} ({key.source})", file=sys.stderr)
    return 0
