"""``workbench intake-review FORM.yaml``: questions without a mission reason or recording a status.

Exit 0 when no question is flagged, 1 when one is, 2 on a malformed form.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "intake-review",
        help="flag form questions without a mission reason or recording a sensitive status",
        description="Review a form or questionnaire (YAML: name, purposes, questions with id, "
        'text, purpose). Questions without a purpose of the programme: "don\'t collect"; '
        "questions recording immigration, health, benefit or other sensitive status: \"don't "
        'record" (or "don\'t collect" without a purpose). Exit 1 when a question is flagged.',
    )
    p.add_argument("form", metavar="FORM.yaml", help="the form to review")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..governance.intake import review_intake

    review = review_intake(args.form)
    if args.json:
        print_json(review.to_dict())
        return review.exit_code
    print(
        f"workbench intake-review {review.form!r}: {review.questions} question(s), "
        f"purposes: {', '.join(review.purposes) or 'none'}"
    )
    width = max((len(f.question) for f in review.findings), default=2)
    for f in review.findings:
        print(f"  {f.advice.upper():<13} {f.question:<{width}}  [{f.rule}] {f.message}")
    print(
        "Result: PASS (no question flagged)"
        if review.passed
        else f"Result: {len(review.findings)} finding(s) on "
        f"{len({f.question for f in review.findings})} question(s)"
    )
    return review.exit_code
