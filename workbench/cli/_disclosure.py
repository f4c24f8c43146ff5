"""``workbench disclosure``: file external requests for individual-level data, vote, list.

``request`` registers a request and applies the disclosure rules (permitted, refused or referred);
``vote`` records a board member's decision on a referral, signed with their own key
(``--key-file`` or ``WORKBENCH_MEMBER_KEY``); ``list`` shows the register and its statistics.
With ``--catalog``, the register, rules and board default to ``governance/`` beside the catalog.
Exit codes: 0 done, 1 a vote was refused, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ParameterError
from . import print_json

MEMBER_KEY_ENV = "WORKBENCH_MEMBER_KEY"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", help="catalog YAML; defaults the files below to governance/")
    p.add_argument("--register", help="the register log (default governance/disclosure.jsonl)")
    p.add_argument("--oversight", help="the board file (default governance/oversight.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "disclosure",
        help="external requests for individual-level data: file, vote, list",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dsub = p.add_subparsers(dest="disclosure_command", metavar="ACTION", required=True)
    r = dsub.add_parser("request", help="register a request and apply the disclosure rules")
    _common(r)
    r.add_argument("--rules", help="disclosure rules (default governance/disclosure_rules.yaml)")
    r.add_argument("--id", required=True, help="request id (letters, digits, . _ -)")
    r.add_argument("--requester", required=True, help="who asks (an agency, not a resident)")
    r.add_argument("--requester-kind", default="other government", help="court, police, ...")
    r.add_argument(
        "--instrument", required=True, help="court_order, warrant, subpoena, statute, none"
    )
    r.add_argument("--dataset", required=True, help="catalog dataset requested")
    r.add_argument("--fields", required=True, help="comma-separated fields requested")
    r.add_argument("--scope", default="", help="what is asked, in words (never a person's name)")
    r.add_argument("--refer", action="store_true", help="refer to the board even if permitted")
    r.add_argument("--user", help="the officer filing it (default WORKBENCH_USER, then USER)")
    r.set_defaults(func=run_request)
    v = dsub.add_parser("vote", help="a board member's signed decision on a referral")
    _common(v)
    v.add_argument("request_id", metavar="REQUEST_ID")
    v.add_argument("--member", required=True, help="your member id in the board file")
    v.add_argument("--decision", required=True, choices=("permit", "refuse"))
    v.add_argument("--reason", default="", help="your reason, kept in the register")
    v.add_argument("--key-file", help=f"your private key (default {MEMBER_KEY_ENV})")
    v.set_defaults(func=run_vote)
    ls = dsub.add_parser("list", help="every request, its outcome, and statistics")
    _common(ls)
    ls.set_defaults(func=run_list)


def _path(args: argparse.Namespace, given: str | None, default: str, what: str) -> Path:
    if given:
        return Path(given)
    if not args.catalog:
        raise ConfigError(f"no {what}: give --{what} or --catalog")
    return Path(args.catalog).parent / "governance" / default


def _register(args: argparse.Namespace) -> Any:
    from ..governance.disclosure import DisclosureRegister
    from ..governance.oversight import load_oversight

    board = load_oversight(_path(args, args.oversight, "oversight.yaml", "oversight"))
    rules, cat = None, None
    if args.catalog:  # rulings made under the current rules are decided again when read
        from ..governance.catalog_policies import open_catalog
        from ..governance.disclosure import DisclosureRules

        cat = open_catalog(args.catalog)
        rules_path = _path(args, getattr(args, "rules", None), "disclosure_rules.yaml", "rules")
        rules = DisclosureRules.load(rules_path) if rules_path.is_file() else None
    return DisclosureRegister(
        _path(args, args.register, "disclosure.jsonl", "register"), board, rules=rules, catalog=cat
    )


def _show(case: Any) -> None:
    votes = ", ".join(f"{v.member}: {v.decision}" for v in case.votes) or "none"
    state = f"{case.outcome}{' (open)' if case.open and case.outcome == 'referred' else ''}"
    print(f"  {case.request.id}: {state}")
    print(
        f"    {case.request.requester} ({case.request.requester_kind}), {case.request.instrument}"
    )
    print(f"    {case.request.dataset}: {', '.join(case.request.fields)}")
    if case.ruling is not None:
        print(f"    rules: {case.ruling.reason}")
    if case.votes or case.refused_votes:
        print(f"    votes: {votes}")
    for r in case.refused_votes:
        print(f"    vote refused ({r['member']}): {r['reason']}")
    for a in case.anomalies:
        print(f"    ANOMALY: {a}")


def run_request(args: argparse.Namespace) -> int:
    from ..governance.catalog_policies import open_catalog
    from ..governance.disclosure import DisclosureRequest, DisclosureRules
    from ..governance.provenance import current_user

    if not args.catalog:
        raise ConfigError("a request needs --catalog (the dataset's fields and sensitive status)")
    cat = open_catalog(args.catalog)
    if args.dataset not in cat.datasets:
        raise ConfigError(
            f"dataset {args.dataset!r} is not in the catalog; available: {', '.join(cat.datasets)}"
        )
    fields = tuple(dict.fromkeys(f.strip() for f in args.fields.split(",") if f.strip()))
    columns = set(cat.load_dataset(args.dataset).columns)
    unknown = [f for f in fields if f not in columns]
    if unknown:
        raise ParameterError(
            "--fields",
            ", ".join(unknown),
            f"fields of {args.dataset}: {', '.join(sorted(columns))}",
        )
    rules = DisclosureRules.load(_path(args, args.rules, "disclosure_rules.yaml", "rules"))
    request = DisclosureRequest(
        args.id, args.requester, args.requester_kind, args.instrument, args.dataset, fields,
        args.scope,
    )  # fmt: skip
    case = _register(args).file(
        request,
        rules,
        sensitive=cat.datasets[args.dataset].sensitive,
        officer=current_user(args.user),
        refer=args.refer,
    )
    if args.json:
        print_json(case.to_dict())
    else:
        _show(case)
    return 0


def run_vote(args: argparse.Namespace) -> int:
    from ..governance.signing import load_signing_key

    key = load_signing_key(MEMBER_KEY_ENV, args.key_file, required=True)
    result = _register(args).vote(
        args.request_id, args.member, args.decision, key, reason=args.reason
    )
    if args.json:
        print_json({"accepted": result.accepted, "reason": result.reason, **result.case.to_dict()})
    else:
        print("vote counted" if result.accepted else f"vote refused: {result.reason}")
        _show(result.case)
    return 0 if result.accepted else 1


def run_list(args: argparse.Namespace) -> int:
    from ..governance.disclosure import disclosure_statistics

    reg = _register(args)
    cases = reg.cases()
    stats = disclosure_statistics(cases)
    if args.json:
        print_json({"statistics": stats, "requests": [c.to_dict() for c in cases]})
        return 0
    print(f"disclosure register {reg.path}: {stats['requests']} request(s)")
    for c in cases:
        _show(c)
    by = ", ".join(f"{k} {v}" for k, v in stats["by_outcome"].items())
    print(f"By outcome: {by}; median hours to decision: {stats['median_hours_to_decision']}")
    return 0
