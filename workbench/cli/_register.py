"""``workbench register publish CATALOG -o site/``: the public data register as static pages.

Writes ``index.html`` (self-contained, no script, no request to anyone) and ``register.json``,
after checking that no direct-identifier value of any catalog dataset occurs in them.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import print_json, record


def register(sub: Any) -> None:
    p = sub.add_parser(
        "register",
        help="the public data register: datasets, purposes, sharing, disclosure requests",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rsub = p.add_subparsers(dest="register_command", metavar="ACTION", required=True)
    pub = rsub.add_parser("publish", help="write the public register as static pages")
    pub.add_argument("catalog", metavar="CATALOG", help="catalog YAML (governance/ beside it)")
    pub.add_argument("-o", "--out", required=True, metavar="DIR", help="output directory")
    pub.add_argument(
        "--provenance", metavar="LOG", help="also publish the head of this provenance log"
    )
    pub.add_argument("--json", action="store_true", help="print the published document")
    pub.set_defaults(func=run_publish)


def run_publish(args: argparse.Namespace) -> int:
    from ..governance.publish import publish_register

    site = publish_register(args.catalog, args.out, provenance_log=args.provenance)
    record(
        args,
        "register-publish",
        inputs=[args.catalog],
        outputs=[str(f) for f in site.files],
        parameters={"out": args.out},
    )
    if args.json:
        print_json(site.document)
        return 0
    st = site.document["disclosure"]["statistics"]
    print(
        f"public register of {site.document['catalog']} written to {args.out}: "
        f"{len(site.document['datasets'])} datasets, {len(site.document['sharing'])} sharing "
        f"practices, {st['requests']} disclosure requests"
    )
    for f in site.files:
        print(f"  {f}")
    return 0
