"""``workbench provenance``: verify, replay, export (W3C PROV-JSON) and list the provenance log."""

from __future__ import annotations

import argparse

from . import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "provenance",
        help="verify, replay, export or list the provenance log",
        description="The provenance log (default .workbench/provenance.jsonl or "
        "WORKBENCH_PROVENANCE) is hash-chained; verify names any edited, removed or reordered "
        "record (exit 1).",
    )
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    v = psub.add_parser("verify", help="check the hash chain (exit 1 on tampering)")
    v.add_argument("log", nargs="?", help="log file (default: the current log)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_verify)

    r = psub.add_parser("replay", help="re-run a recorded recipe and compare output hashes")
    r.add_argument("log", nargs="?")
    r.add_argument("--record", type=int, help="record index (default: last with a recipe)")
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


def _verify(args: argparse.Namespace) -> int:
    from ..governance.provenance import verify_log

    res = verify_log(args.log)
    if args.json:
        print_json(res.to_dict())
    elif res.ok:
        anchor = "" if res.anchored else " (no head anchor: truncation at the end not checked)"
        print(f"{res.path}: {res.records} records, chain intact{anchor}")
    else:
        print(f"{res.path}: TAMPERED ({len(res.issues)} problem(s))")
        for issue in res.issues:
            print(f"  record {issue.index} ({issue.operation}): {issue.kind}: {issue.message}")
    return 0 if res.ok else 1


def _replay(args: argparse.Namespace) -> int:
    from ..governance.provenance import replay

    res = replay(args.log, record=args.record)
    if args.json:
        print_json(res.to_dict())
    else:
        print(("OK: " if res.ok else "MISMATCH: ") + res.message)
        for path, recorded, new in res.outputs:
            mark = "=" if recorded == new else "!="
            print(f"  {path}: recorded {str(recorded)[:12]} {mark} replayed {str(new)[:12]}")
    return 0 if res.ok else 1


def _export(args: argparse.Namespace) -> int:
    from ..governance.provenance import ProvenanceLog, export_prov

    log = ProvenanceLog(args.log)
    export_prov(log, args.prov)
    print(f"wrote {args.prov} ({len(log.records())} activities)")
    return 0


def _log(args: argparse.Namespace) -> int:
    from ..governance.provenance import ProvenanceLog

    records = ProvenanceLog(args.log).records()
    if args.json:
        print_json(records)
        return 0
    for r in records:
        pol = (r.get("policy") or {}).get("name") or "-"
        print(
            f"{r.get('seq'):>5}  {r.get('timestamp')}  {r.get('user')}  {r.get('operation')}  "
            f"in={len(r.get('inputs', []))} out={len(r.get('outputs', []))}  policy={pol}"
        )
    return 0
