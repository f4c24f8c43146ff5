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
    "anonymize",
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
        try:
            module = importlib.import_module(f"{__name__}._{name}")
        except ModuleNotFoundError as exc:  # sub-command not built yet
            if exc.name == f"{__name__}._{name}":
                continue
            raise
        module.register(sub)
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
        return int(args.func(args) or 0)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
