"""One exception hierarchy for the whole package.

Every error says *what* went wrong, *where* (file, line, column, parameter) and *what was
expected*, so a privacy officer can fix the input without reading a traceback. The CLI maps
:class:`WorkbenchError` to exit code 2 ("bad input").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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
    "HierarchyError",
    "ConfigError",
    "PolicyError",
    "ProvenanceError",
    "AccessDeniedError",
    "KeyMissingError",
    "BudgetExceededError",
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
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        where = []
        if path is not None:
            where.append(str(path))
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
        where = f" in {source}" if source else ""
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
    """A pseudonymization key was required but not found in the environment or key file."""


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
