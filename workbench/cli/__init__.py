"""The ``workbench`` command line: one sub-command per module in this package.

Each ``workbench/cli/_<name>.py`` defines ``register(subparsers)``; the sub-command calls the same
core functions as the notebooks. Exit codes: 0 success, 1 a privacy check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from ..errors import WorkbenchError

# Order is the order shown in ``workbench --help``.
COMMANDS = [
    "profile",
    "samples",
    "assess",
    "inventory",
    "link",
    "combine",
    "matrix",
    "scenarios",
    "reassess",
    "anonymize",
    "transform",
    "frontier",
    "report",
    "dashboard",
    "lab",
    "check",
    "provenance",
    "retention",
    "access",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the parser from every sub-command module that exists."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Privacy risk workbench: re-identification risk, linkage risk, de-identification.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        # every listed sub-command must import (with only the core installed: heavy imports
        # live inside the commands); a broken one fails loudly instead of vanishing from --help
        importlib.import_module(f"{__name__}._{name}").register(sub)
    return parser


def print_json(obj: object) -> None:
    """Print a JSON document (sorted keys off: key order is part of the contract's readability)."""
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    sys.stdout.write("\n")


def record(
    args: argparse.Namespace,
    operation: str,
    inputs: Sequence[object] = (),
    outputs: Sequence[object] = (),
    parameters: dict | None = None,
    policy: object = None,
) -> None:
    """Append a provenance record for a command that wrote outputs, with its argv as recipe.

    Secrets are redacted by the provenance log itself; recording is off when
    ``WORKBENCH_PROVENANCE=off``.
    """
    from ..governance.provenance import record_operation

    record_operation(
        operation,
        inputs=list(inputs),
        outputs=list(outputs),
        parameters=parameters or {},
        user=getattr(args, "user", None),
        policy=policy,
        recipe={"argv": list(getattr(args, "_argv", []))},
    )


def add_bundle_arguments(p: argparse.ArgumentParser) -> None:
    """``--bundle/--rationale/--policy/--roles``: shared by the commands that write bundles."""
    p.add_argument(
        "--bundle",
        metavar="BUNDLE.json",
        help="write an assessment bundle for the dashboard and `workbench report`",
    )
    p.add_argument("--rationale", default="", help="the officer's rationale, kept in the bundle")
    p.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="POLICY.yaml",
        help="policy in force (repeat for a combination): the bundle then holds the "
        "effective policy and the privacy-gate findings",
    )
    p.add_argument(
        "--roles",
        metavar="ROLES.json",
        help="role map (JSON); its direct identifiers are kept out of the bundle",
    )


def save_bundle_and_record(
    args: argparse.Namespace, bundle: object, dataset: object, roles: object, source: str
) -> str:
    """Save a bundle through the leak guard and record its release in provenance."""
    from ..assessment import save_bundle
    from ..governance.provenance import record_operation

    path = str(save_bundle(bundle, args.bundle, dataset, roles))
    record_operation(
        "release-bundle",
        inputs=[args.file],
        outputs=[path],
        parameters={"rationale": args.rationale, "source": source},
    )
    return path


# Commands whose provenance the dispatcher records after a successful run:
# command -> (operation, argument names holding inputs, argument names holding outputs).
# anonymize, check, provenance and retention record their own (richer) entries.
_AUTO_RECORD: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "profile": ("profile", ("file",), ("roles_out",)),
    "assess": ("assess", ("file", "population_table"), ("per_record",)),
    "inventory": ("inventory", ("catalog",), ("save_crosswalk",)),
    "link": ("link", ("released", "attacker", "catalog"), ()),
    "combine": ("combine", ("catalog",), ()),
    "matrix": ("join-risk-matrix", ("catalog",), ()),
    "scenarios": ("scenario-matrix", ("catalog",), ("register",)),
    "reassess": ("reassess", ("catalog", "register"), ()),
    "frontier": ("frontier", ("file",), ()),
    "report": ("release-report", ("bundle",), ("output",)),
    "samples": ("samples", (), ("out",)),
}
_NOT_PARAMETERS = {"func", "json", "command"}


def _auto_record(args: argparse.Namespace) -> None:
    """Record a read/join/release made by a command (inputs and outputs by content hash)."""
    spec = _AUTO_RECORD.get(args.command)
    if spec is None:
        return
    operation, ins, outs = spec
    if args.command == "samples":
        action = getattr(args, "samples_command", None) or "list"
        if action == "list":
            return
        operation = f"samples-{action}"
    inputs = [getattr(args, a) for a in ins if getattr(args, a, None)]
    outputs = [getattr(args, a) for a in outs if getattr(args, a, None)]
    params = {
        k: v for k, v in vars(args).items() if not k.startswith("_") and k not in _NOT_PARAMETERS
    }
    record(args, operation, inputs=inputs, outputs=outputs, parameters=params)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args._argv = argv
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        if code in (0, 1):  # 1 = a check found risk; the run itself happened
            _auto_record(args)
        return code
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        from .._extras import extra_for
        from ..errors import MissingExtraError

        extra = extra_for(exc)
        if extra is None:
            raise
        err = MissingExtraError(extra, exc.name or "", f"`workbench {args.command}`")
        print(f"workbench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
