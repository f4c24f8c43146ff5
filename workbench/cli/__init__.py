"""The ``workbench`` command line: one sub-command per module in this package.

Each ``workbench/cli/_<name>.py`` defines ``register(subparsers)``; the sub-command calls the same
core functions as the notebooks. Exit codes: 0 success, 1 a privacy check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from ..errors import FileSystemError, WorkbenchError

if TYPE_CHECKING:
    from .._io import OutputJournal

# Commands whose data argument may be a SQL query over files (they take ``--allow-dir``).
_SQL_SOURCE_COMMANDS = ("profile", "assess", "link", "anonymize", "frontier")

# Data commands that take ``--engine`` / ``--spark-master`` / ``--spark-remote``
# (``dp release`` declares its own ``--engine`` and uses the same helpers).
_ENGINE_COMMANDS = (
    "profile",
    "assess",
    "link",
    "combine",
    "matrix",
    "anonymize",
    "frontier",
    "check",
)

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
    "app",
    "lab",
    "check",
    "provenance",
    "retention",
    "access",
    "minimize",
    "intake-review",
    "disclosure",
    "ethics",
    "metrics",
    "register",
    "dp",
    "synth",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the parser from every sub-command module that exists."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Privacy risk workbench: re-identification risk, linkage risk, de-identification.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument(
        "--encryption-key-file",
        metavar="PATH",
        help="key file for data encrypted at rest (wins over $WORKBENCH_ENCRYPTION_KEY): "
        "outputs of data whose policy says encryption_at_rest are written encrypted with it, "
        "and encrypted inputs are read with it",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        # every listed sub-command must import (with only the core installed: heavy imports
        # live inside the commands); a broken one fails loudly instead of vanishing from --help
        # a hyphenated sub-command lives in _<name with underscores>.py
        importlib.import_module(f"{__name__}._{name.replace('-', '_')}").register(sub)
    for name in _SQL_SOURCE_COMMANDS:
        if name in sub.choices:
            sub.choices[name].add_argument(
                "--allow-dir",
                action="append",
                default=[],
                metavar="DIR",
                help="a further directory a SQL source may read (repeat); by default a SQL "
                "query reads only data files under the working directory",
            )
    for name in _ENGINE_COMMANDS:
        add_engine_arguments(sub.choices[name])
    return parser


def add_engine_arguments(p: argparse.ArgumentParser, engines: Sequence[str] | None = None) -> None:
    """``--engine``, ``--spark-master`` and ``--spark-remote``: one definition for every data
    command."""
    from ..engines import ENGINES

    p.add_argument(
        "--engine",
        choices=tuple(engines or ENGINES),
        default=None,
        help="where the rows are scanned and grouped: duckdb (out of core on one machine), "
        "polars, pandas (in memory) or spark; default: the command's own choice (DuckDB for "
        "large files)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark: local[2], spark://host:7077, yarn (default: "
        "what spark-submit or SPARK_REMOTE says, else local[*])",
    )
    p.add_argument(
        "--spark-remote",
        metavar="sc://HOST:PORT",
        help="a Spark Connect server to run --engine spark on (a remote cluster)",
    )


@contextmanager
def engine_for(args: argparse.Namespace, command: str | None = None) -> Iterator[None]:
    """Check ``--engine`` against what the command runs on and, for Spark, hold one session
    (``args._spark``) for the whole command; it is stopped when the command ends."""
    from ..engines import require_engine, spark_session
    from ..errors import ParameterError

    engine = getattr(args, "engine", None)
    master, remote = getattr(args, "spark_master", None), getattr(args, "spark_remote", None)
    if (master or remote) and engine is None:
        engine = args.engine = "spark"
    if (master or remote) and engine != "spark":
        flag = "--spark-master" if master else "--spark-remote"
        raise ParameterError(flag, master or remote, "--engine spark (or no --engine)")
    args._spark = None
    if engine is None:
        yield
        return
    require_engine(command or args.command, engine)
    if engine != "spark":
        yield
        return
    with spark_session(master=master, remote=remote, app_name=f"workbench {args.command}") as s:
        args._spark = s
        yield


def load_source(args: argparse.Namespace, path: str, **kwargs: object) -> object:
    """Load ``path`` for a data command on the engine ``--engine`` chose (the command's own
    default loader when no engine was chosen)."""
    from ..loading.readers import load

    engine = getattr(args, "engine", None)
    if engine is not None:
        kwargs = {**kwargs, "engine": engine, "spark": getattr(args, "_spark", None)}
    return load(path, **kwargs)


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

    if policy is None:  # the policy in force for the command's inputs (retention, encryption)
        in_force = getattr(args, "_in_force", None)
        policy = None if in_force is None else in_force.policy
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
    from ..governance.provenance import record_operation
    from ..review.assessment import save_bundle

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
    inputs += getattr(args, "_record_inputs", [])  # files a command found itself
    outputs = [getattr(args, a) for a in outs if getattr(args, a, None)]
    params = {
        k: v for k, v in vars(args).items() if not k.startswith("_") and k not in _NOT_PARAMETERS
    }
    record(args, operation, inputs=inputs, outputs=outputs, parameters=params)


# Commands that write outputs and record them in the default provenance log themselves (the
# others are in _AUTO_RECORD); ``retention`` and ``provenance`` take the log as an argument.
_SELF_RECORDING = ("anonymize", "check")


def _check_provenance_writable() -> None:
    """Fail before any output is written when the provenance log cannot be appended to.

    An output never exists without its provenance record, so a command that would record checks
    the log first: its directory must be a directory (or creatable) and the log a writable file.
    """
    import os

    from ..governance.provenance import default_log_path

    log = default_log_path()
    if log is None:  # WORKBENCH_PROVENANCE=off
        return
    where = f"provenance log {log} (set WORKBENCH_PROVENANCE to another file, or to off)"
    existing = next(a for a in (log.parent, *log.parent.parents) if a.exists() or a == a.parent)
    if not existing.is_dir():
        raise FileSystemError(f"cannot write the {where}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FileSystemError(f"cannot write the {where}: {existing} is read-only")
    if log.is_dir():
        raise FileSystemError(f"cannot write the {where}: it is a directory")
    if log.exists() and not os.access(log, os.W_OK):
        raise FileSystemError(f"cannot write the {where}: permission denied")


def _undo_outputs(journal: OutputJournal) -> list[str]:
    """Undo what a failed command wrote: new files removed, replaced files put back.

    No output exists without its provenance record. The provenance log's own head file is kept:
    a record that was appended stays consistent with it.
    """
    from ..governance.provenance import default_log_path

    log = default_log_path()
    keep = [] if log is None else [log, log.with_name(log.name + ".head")]
    undone = journal.rollback(keep)
    return [f"{'restored' if restored else 'removed'} {path}" for path, restored in undone]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script.

    A failing command exits 2 with one line naming what failed and where (never a traceback) and
    leaves the files as they were: every file it created is removed and every file it replaced is
    put back, so no output exists without its provenance record; no temporary file remains.
    """
    from .._crypto import encryption_key_file, encryption_required
    from .._io import output_journal

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args._argv = argv
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    with contextlib.ExitStack() as stack:
        journal = stack.enter_context(output_journal())
        try:
            stack.enter_context(encryption_key_file(args.encryption_key_file))
            args._in_force = _in_force(args)
            stack.enter_context(encryption_required(*args._in_force.encryption_reasons))
            records = args.command in _AUTO_RECORD or args.command in _SELF_RECORDING
            if (
                args.command == "samples"
                and (getattr(args, "samples_command", None) or "list") == "list"
            ):
                records = False  # listing writes nothing and records nothing
            if records and not getattr(args, "no_record", False):
                _check_provenance_writable()
            with engine_for(args) if args.command in _ENGINE_COMMANDS else nullcontext():
                code = _run_with_heartbeat(args)
            if code in (0, 1):  # 1 = a check found risk; the run itself happened
                _auto_record(args)
            return code
        except WorkbenchError as exc:
            return _fail(args, exc, journal)
        except BrokenPipeError:
            return 0
        except ModuleNotFoundError as exc:  # a feature of a missing extra: say which one
            from .._extras import extra_for
            from ..errors import MissingExtraError

            extra = extra_for(exc)
            if extra is None:
                raise
            return _fail(
                args,
                MissingExtraError(extra, exc.name or "", f"`workbench {args.command}`"),
                journal,
            )
        except OSError as exc:  # the operating system refused a read or write
            return _fail(args, FileSystemError.from_os_error(exc), journal)


def _run_with_heartbeat(args: argparse.Namespace) -> int:
    """Run the command; one that reports no phases of its own still says it is working.

    Commands with ``--progress`` report their phases (scan, build, search, write) themselves;
    every other command that runs longer than a couple of seconds gets a heartbeat on stderr
    (off with ``--json``), so no long run is silent.
    """
    from ._progress import Progress

    if hasattr(args, "progress"):
        return int(args.func(args) or 0)
    progress = Progress(args.command, enabled=not getattr(args, "json", False))
    with progress.heartbeat():
        return int(args.func(args) or 0)


# Arguments naming outputs: never read as inputs when the policy in force is looked up.
_OUTPUT_ARGUMENTS = frozenset(
    {"output", "out", "per_record", "roles_out", "save_crosswalk", "bundle", "chart", "spec"}
)
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".json", ".jsonl", ".enc")


def _in_force(args: argparse.Namespace) -> object:
    """The policy in force for the data files a command names (see governance.in_force)."""
    from pathlib import Path

    from ..governance.in_force import policy_in_force

    inputs: list[str] = []
    for name, value in vars(args).items():
        if name.startswith("_") or name in _OUTPUT_ARGUMENTS:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            if isinstance(v, str) and v.lower().endswith(_DATA_SUFFIXES) and len(v) < 4096:
                inputs.append(v)
    catalog = getattr(args, "catalog", None)
    catalog = catalog if isinstance(catalog, str) and catalog.endswith((".yaml", ".yml")) else None
    named = getattr(args, "policy", None)  # --policy files given for the command
    named = [named] if isinstance(named, str) else list(named or [])
    policies = [p for p in named if isinstance(p, str) and Path(p).is_file()]
    return policy_in_force(inputs, catalog=catalog, policies=policies)


def _fail(args: argparse.Namespace, exc: BaseException, journal: OutputJournal) -> int:
    undone = _undo_outputs(journal)
    print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
    if undone:
        print(
            f"workbench {args.command}: {'; '.join(undone)} (the failed run is not recorded "
            "in provenance, so its outputs are not kept)",
            file=sys.stderr,
        )
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
