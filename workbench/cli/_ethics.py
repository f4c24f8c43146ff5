"""``workbench ethics``: ethics reviews decided by the oversight board (file, vote, list).

``file`` puts a combination of catalog datasets before the board, tied to the hash of its
harmonized policy (a later policy change needs a new review); ``vote`` records a member's
``approve``/``reject`` signed with their own key (``--key-file`` or ``WORKBENCH_MEMBER_KEY``);
``list`` shows every review and the statistics. The applicant and the filing officer may not
vote. With ``--catalog``, the log and the board default to ``governance/`` beside the catalog;
an approved review makes ``workbench check a+b`` pass its review step.
Exit codes: 0 done, 1 a vote was refused, 2 bad input.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ConfigError
from . import print_json
from ._disclosure import (
    MEMBER_KEY_ENV,
    _path,  # one rule for a governance file beside the catalog
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", help="catalog YAML; defaults the files below to governance/")
    p.add_argument(
        "--log", dest="ethics_log", help="the ethics log (default governance/ethics.jsonl)"
    )
    p.add_argument("--oversight", help="the board file (default governance/oversight.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ethics",
        help="ethics reviews of combinations, decided by the oversight board: file, vote, list",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    esub = p.add_subparsers(dest="ethics_command", metavar="ACTION", required=True)
    f = esub.add_parser("file", help="put a combination before the board")
    _common(f)
    f.add_argument("--id", required=True, help="review id (letters, digits, . _ -)")
    f.add_argument("--datasets", required=True, help="the combination, a+b (catalog datasets)")
    f.add_argument("--purpose", required=True, help="what the combination is for")
    f.add_argument("--applicant", required=True, help="who asks for the combination")
    f.add_argument("--user", help="the officer filing it (default WORKBENCH_USER, then USER)")
    f.set_defaults(func=run_file)
    v = esub.add_parser("vote", help="a board member's signed decision")
    _common(v)
    v.add_argument("review_id", metavar="REVIEW_ID")
    v.add_argument("--member", required=True, help="your member id in the board file")
    v.add_argument("--decision", required=True, choices=("approve", "reject"))
    v.add_argument("--reason", default="", help="your reason, kept in the log")
    v.add_argument("--key-file", help=f"your private key (default {MEMBER_KEY_ENV})")
    v.set_defaults(func=run_vote)
    ls = esub.add_parser("list", help="every review, its outcome, and statistics")
    _common(ls)
    ls.set_defaults(func=run_list)


def _reviews(args: argparse.Namespace) -> Any:
    from ..governance.oversight import load_oversight
    from ..governance.reviews import EthicsReviews

    board = load_oversight(_path(args, args.oversight, "oversight.yaml", "oversight"))
    return EthicsReviews(_path(args, args.ethics_log, "ethics.jsonl", "log"), board)


def _show(r: Any) -> None:
    print(f"  {r.id}: {r.outcome}  {'+'.join(r.combination)}")
    print(f"    purpose: {r.purpose}; applicant {r.applicant}; filed by {r.officer}")
    if r.votes:
        print("    votes: " + ", ".join(f"{v.member}: {v.decision}" for v in r.votes))
    for x in r.refused_votes:
        print(f"    vote refused ({x['member']}): {x['reason']}")


def run_file(args: argparse.Namespace) -> int:
    from ..governance.catalog_policies import combination_policy, split_target
    from ..governance.provenance import current_user

    if not args.catalog:
        raise ConfigError("filing needs --catalog (the combination's harmonized policy)")
    names = split_target(args.datasets)
    policy = combination_policy(args.catalog, names).policy
    review = _reviews(args).file(
        args.id,
        names,
        policy.sha256,
        purpose=args.purpose,
        applicant=args.applicant,
        officer=current_user(args.user),
    )
    if args.json:
        print_json(review.to_dict())
    else:
        _show(review)
    return 0


def run_vote(args: argparse.Namespace) -> int:
    from ..governance.signing import load_signing_key

    key = load_signing_key(MEMBER_KEY_ENV, args.key_file, required=True)
    result = _reviews(args).vote(
        args.review_id, args.member, args.decision, key, reason=args.reason
    )
    if args.json:
        print_json(
            {"accepted": result.accepted, "reason": result.reason, **result.review.to_dict()}
        )
    else:
        print("vote counted" if result.accepted else f"vote refused: {result.reason}")
        _show(result.review)
    return 0 if result.accepted else 1


def run_list(args: argparse.Namespace) -> int:
    log = _reviews(args)
    reviews = log.reviews()
    stats = log.statistics()
    if args.json:
        print_json({"statistics": stats, "reviews": [r.to_dict() for r in reviews]})
        return 0
    print(f"ethics reviews {log.path}: {stats['reviews']} review(s)")
    for r in reviews:
        _show(r)
    by = ", ".join(f"{k} {v}" for k, v in stats["by_outcome"].items())
    print(f"By outcome: {by}; median hours to decision: {stats['median_hours_to_decision']}")
    return 0
