"""One exception hierarchy for the whole package.

Every error says *what* went wrong, *where* (file, line, column, parameter) and *what was
expected*, so a privacy officer can fix the input without reading a traceback. The CLI maps
:class:`WorkbenchError` to exit code 2 ("bad input").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._redact import display_source

__all__ = [
    "WorkbenchError",
    "InputError",
    "LoadError",
    "MissingFileError",
    "EmptyFileError",
    "HeaderOnlyError",
    "RaggedRowsError",
    "DecodingError",
    "ColumnNameError",
    "UnsupportedFormatError",
    "ColumnNotFoundError",
    "ParameterError",
    "ParameterTypeError",
    "HierarchyError",
    "ConfigError",
    "PolicyError",
    "ProvenanceError",
    "AccessDeniedError",
    "KeyMissingError",
    "EncryptionRequiredError",
    "DecryptionError",
    "WrongKeyError",
    "TamperedFileError",
    "TruncatedFileError",
    "MissingExtraError",
    "EngineError",
    "PrivacyWarning",
    "LinkageWarning",
    "ResourceLimitError",
    "InputLimitError",
    "SqlSandboxError",
    "FileSystemError",
    "BudgetExceededError",
    "LeakError",
    "PolicyViolationError",
    "DirectIdentifierWarning",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class InputError(WorkbenchError, ValueError):
    """The user's input (file, column, parameter) is not what was expected."""


class LoadError(InputError):
    """A data file could not be loaded; the message names the file."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else display_source(path)
        self.line = line
        self.column = column
        where = []
        if path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class MissingFileError(LoadError, FileNotFoundError):
    """The file does not exist."""


class EmptyFileError(LoadError):
    """The file has no bytes (or only whitespace)."""


class HeaderOnlyError(LoadError):
    """The file has a header but no data rows."""


class RaggedRowsError(LoadError):
    """A row has a different number of fields than the header."""


class DecodingError(LoadError):
    """The bytes could not be decoded with the detected or requested encoding."""


class ColumnNameError(LoadError):
    """Duplicate or blank column names."""


class UnsupportedFormatError(LoadError):
    """The file extension is not one the loader understands."""


class ColumnNotFoundError(InputError, KeyError):
    """A named column is not in the dataset."""

    def __init__(self, column: str, available: Iterable[str], source: str | None = None) -> None:
        self.column = column
        self.available = list(available)
        where = f" in {display_source(source)}" if source else ""
        shown = ", ".join(map(str, self.available[:30]))
        more = "" if len(self.available) <= 30 else f", ... ({len(self.available)} columns)"
        super().__init__(f"column {column!r} not found{where}; available: {shown}{more}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class ParameterError(InputError):
    """A parameter value is impossible (for example k < 1 or a threshold outside [0, 1])."""

    def __init__(self, parameter: str, value: object, expected: str) -> None:
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(f"parameter {parameter!r} = {value!r} is invalid; expected {expected}")


class ParameterTypeError(ParameterError, TypeError):
    """A parameter has the wrong type (``None`` where a file was expected, a list where a column
    name was expected). Also a :class:`TypeError`, so ``except TypeError`` still catches it.

    The message shows the value's *type*, never the value: it may be a frame full of identifiers.
    """

    def __init__(self, parameter: str, value: object, expected: str) -> None:
        self.parameter = parameter
        self.value = value
        self.expected = expected
        Exception.__init__(
            self, f"parameter {parameter!r} is a {type(value).__name__}; expected {expected}"
        )


class HierarchyError(InputError):
    """A generalization hierarchy is malformed or does not cover the data."""


class ConfigError(InputError):
    """A role map, catalog, bundle or settings file is malformed."""


class PolicyError(ConfigError):
    """A policy file does not satisfy the policy schema."""


class ProvenanceError(WorkbenchError):
    """The provenance log is tampered with or cannot be replayed."""


class AccessDeniedError(WorkbenchError, PermissionError):
    """The caller's role may not see what was asked for."""


class KeyMissingError(InputError):
    """A key (pseudonymization, encryption) was required but not found in the environment or
    key file."""


class EncryptionRequiredError(KeyMissingError):
    """A policy in force requires encryption at rest and no key was found: plaintext refused."""


class DecryptionError(LoadError):
    """An encrypted file cannot be read back; the message names the file (never content)."""


class WrongKeyError(DecryptionError):
    """The file was encrypted with another key (its header names a different key id)."""


class TamperedFileError(DecryptionError):
    """A chunk fails authentication: edited, reordered, or spliced from another file."""


class TruncatedFileError(DecryptionError):
    """The file ends before its final chunk: it was cut short (or the write never finished)."""


class MissingExtraError(ConfigError, ModuleNotFoundError):
    """A feature needs an optional extra that is not installed; the message says which one.

    The core (profile, assess, anonymize, check, provenance) installs without the notebooks,
    Splink, Spark or OpenDP, so an ETL job stays small; the commands that need them say so.
    """

    def __init__(self, extra: str, module: str, feature: str = "this feature") -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra!r} extra (module {module!r} is not installed); "
            f"install it with: pip install 'privacy-risk-workbench[{extra}]'"
        )
        self.name = module


class EngineError(ConfigError):
    """A command does not run on the chosen engine (yet); the message names the engines that do.

    Refusing is deliberate: the alternative, pulling every record into pandas on the driver,
    fails late (or exhausts memory) exactly on the data the engine was chosen for.
    """

    def __init__(
        self, command: str, engine: str, allowed: Sequence[str], why: str | None = None
    ) -> None:
        self.command = command
        self.engine = engine
        self.allowed = tuple(allowed)
        reason = why or "it does not run there yet"
        super().__init__(
            f"{command} cannot run on the {engine} engine: {reason}; it runs on "
            + ", ".join(self.allowed)
            + f" (--engine {self.allowed[0]})"
        )


class PrivacyWarning(UserWarning):
    """A parameter is valid but protects nobody (for example k = 1); says why, as OpenDP does."""


class LinkageWarning(PrivacyWarning):
    """A linkage result understates the risk (no pair scored although records agree exactly)."""


class ResourceLimitError(WorkbenchError):
    """A run's estimated memory exceeds what the machine has; says what would work instead.

    Raised before the work starts, so a run that cannot finish does not swap or get killed
    after an hour.
    """


class InputLimitError(LoadError):
    """A file exceeds a safety limit of :mod:`workbench.loading.limits` (size, cells, time).

    Everything read is hostile: a 1 KB workbook can declare 17 billion cells and a small zip can
    inflate to gigabytes, so the loader refuses before the work instead of running out of memory.
    """


class SqlSandboxError(LoadError):
    """A SQL source reaches outside the data files it may read (see ``allow_dirs``)."""


class FileSystemError(WorkbenchError, OSError):
    """The operating system refused a read or write (missing directory, a directory where a
    file was expected, no permission, disk full); the message names the path."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        prefix = f"{path}: " if path is not None else ""
        Exception.__init__(self, f"{prefix}{message}")

    def __str__(self) -> str:  # OSError would otherwise format errno/strerror
        return str(self.args[0])

    @classmethod
    def from_os_error(cls, exc: OSError, doing: str = "") -> FileSystemError:
        """Wrap an :class:`OSError` with its path and reason (never file contents)."""
        reason = exc.strerror or type(exc).__name__
        what = f"cannot {doing}: {reason}" if doing else reason
        path = exc.filename
        if exc.filename2:
            path = f"{exc.filename} -> {exc.filename2}"
        return cls(what, path)


class BudgetExceededError(WorkbenchError):
    """A differentially private release would spend more than its population's budget.

    Raised before any noise is drawn; nothing is written and the ledger is unchanged. The CLI maps
    it to exit code 1 (a privacy check failed).
    """

    def __init__(
        self, message: str, spent: float = 0.0, budget: float = 0.0, requested: float = 0.0
    ) -> None:
        self.spent = spent
        self.budget = budget
        self.requested = requested
        super().__init__(message)


class LeakError(ConfigError):
    """A value that must stay inside the organisation was about to be written to a bundle."""


class PolicyViolationError(WorkbenchError):
    """Raised by :meth:`~workbench.governance.gate.GateResult.raise_for_violations`; carries
    the gate result (its findings name each rule, the measured value and the limit)."""

    def __init__(self, result: Any) -> None:
        self.result = result
        bad = [
            f
            for f in result.findings
            if f.status == "fail" or (result.strict and f.status == "review")
        ]
        lines = "; ".join(f"{f.rule}: {f.message}" for f in bad)
        super().__init__(f"{result.target} violates policy {result.policy}: {lines}")


class DirectIdentifierWarning(UserWarning):
    """Direct identifiers were kept in a written table (``--direct-identifiers keep``)."""
