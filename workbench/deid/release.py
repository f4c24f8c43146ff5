"""Releases: the one function every writer of record-level data goes through.

A release never carries direct identifiers. :func:`prepare_release` finds them with
:func:`workbench.profiling.roles.find_direct_identifiers` (the role map, else the role suggestions, plus
values that look like e-mails, phones, national ids or person names -- the same rule the privacy
gate's ``direct_identifier_present`` finding uses) and handles them in one of three modes:

``drop`` (default)
    The columns are removed.
``pseudonymize``
    Each value becomes its keyed HMAC-SHA256 pseudonym (16 hex characters,
    :mod:`workbench.deid.pseudonym`); the column is renamed ``<column>_pseudonym`` so that
    nobody (and no gate) mistakes it for the identifier. Missing values stay missing.
``keep``
    Explicit opt-in: the columns stay, a :class:`DirectIdentifierWarning` is issued, the mode
    is recorded in provenance and ``workbench check`` fails the file. For files that are not
    releases (linkage scoring with the ground truth, internal hand-overs).

:func:`write_release` then writes the table with :func:`workbench._io.write_table`, which
escapes spreadsheet formulas in CSV and Excel outputs. :class:`ReleaseReport` says what was done
(column names and reasons, never a value, never the key) for the JSON output and provenance.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from .._io import write_table
from .._release_modes import RELEASE_MODES
from ..dataset import as_pandas
from ..errors import DirectIdentifierWarning, ParameterError
from .pseudonym import DEFAULT_KEY_ENV, load_pseudonym_key, pseudonymize_values

__all__ = [
    "RELEASE_MODES",
    "PSEUDONYM_SUFFIX",
    "DirectIdentifierWarning",
    "ReleaseReport",
    "prepare_release",
    "write_release",
]

"""How direct identifiers are handled; ``drop`` is the default."""

PSEUDONYM_SUFFIX = "_pseudonym"
"""Suffix of a pseudonymized column's name (``email`` -> ``email_pseudonym``)."""


@dataclass(frozen=True)
class ReleaseReport:
    """What a release did with direct identifiers (names and reasons only)."""

    mode: str
    dropped: tuple[str, ...] = ()
    pseudonymized: Mapping[str, str] = field(default_factory=dict)
    kept: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    key_source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pseudonymized", MappingProxyType(dict(self.pseudonymized)))
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        """Every direct identifier found in the input, in column order."""
        return tuple(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "direct_identifiers": list(self.direct_identifiers),
            "dropped": list(self.dropped),
            "pseudonymized": dict(self.pseudonymized),
            "kept": list(self.kept),
            "reasons": dict(self.reasons),
            "key_source": self.key_source,
        }


def _check_mode(mode: str) -> str:
    if mode not in RELEASE_MODES:
        raise ParameterError("direct_identifiers", mode, "one of " + ", ".join(RELEASE_MODES))
    return mode


def prepare_release(
    data: Any,
    mode: str = "drop",
    *,
    roles: Any = None,
    direct_identifiers: Sequence[str] | None = None,
    key_env: str = DEFAULT_KEY_ENV,
    key_file: str | Path | None = None,
) -> tuple[pd.DataFrame, ReleaseReport]:
    """The table as it may be released, and what was done to its direct identifiers.

    Parameters
    ----------
    data : Dataset, DataFrame or relation
        The record-level table to release (never modified).
    mode : {"drop", "pseudonymize", "keep"}
        What to do with the direct identifiers (see the module docstring).
    roles : RoleMap, mapping or path, optional
        Declared roles; columns it does not list get the role suggestions.
    direct_identifiers : sequence of str, optional
        Columns known to be direct identifiers (a catalog's roles, the tuner's role map); they
        are handled in addition to those found by :func:`~workbench.profiling.roles.find_direct_identifiers`.
    key_env, key_file
        Where the pseudonymization key is read (``pseudonymize`` only), by the rule of
        :func:`~workbench.deid.pseudonym.load_pseudonym_key`.
    """
    from ..profiling.roles import RoleMap, find_direct_identifiers

    _check_mode(mode)
    frame = as_pandas(data)
    if roles is not None and not isinstance(roles, RoleMap):
        roles = RoleMap.load(roles) if isinstance(roles, str | Path) else RoleMap.from_dict(roles)
    reasons: dict[str, str] = {}
    for col in direct_identifiers or ():
        if col in frame.columns:
            reasons[str(col)] = "declared direct identifier"
    for found in find_direct_identifiers(frame, roles):
        reasons.setdefault(found.column, found.reason)
    order = [c for c in frame.columns if c in reasons]
    reasons = {c: reasons[c] for c in order}
    if not order:
        return frame.copy(), ReleaseReport(mode)
    if mode == "drop":
        return frame.drop(columns=order), ReleaseReport(mode, dropped=tuple(order), reasons=reasons)
    if mode == "keep":
        warnings.warn(
            f"direct identifiers kept in a written table: {', '.join(order)}; this is not a "
            "release (`workbench check` fails it)",
            DirectIdentifierWarning,
            stacklevel=2,
        )
        return frame.copy(), ReleaseReport(mode, kept=tuple(order), reasons=reasons)
    key, source = load_pseudonym_key(key_env, key_file)
    out = frame.copy()
    renamed: dict[str, str] = {}
    for col in order:
        new = f"{col}{PSEUDONYM_SUFFIX}"
        if new in out.columns and new not in order:
            raise ParameterError(
                "direct_identifiers", "pseudonymize", f"no existing column named {new!r}"
            )
        values = pseudonymize_values(out[col].tolist(), key)
        out[col] = pd.Series(values, index=out.index, dtype="object")
        renamed[col] = new
    del key
    out = out.rename(columns=renamed)
    return out, ReleaseReport(mode, pseudonymized=renamed, reasons=reasons, key_source=source)


def write_release(
    data: Any,
    path: str | Path,
    mode: str = "drop",
    *,
    roles: Any = None,
    direct_identifiers: Sequence[str] | None = None,
    key_env: str = DEFAULT_KEY_ENV,
    key_file: str | Path | None = None,
    sources: Iterable[str | Path] = (),
    sep: str | None = None,
) -> ReleaseReport:
    """Handle direct identifiers (:func:`prepare_release`) and write the table atomically.

    CSV, TSV and Excel outputs have spreadsheet formulas escaped
    (:func:`workbench._io.write_table`). The caller records the returned report's
    :meth:`~ReleaseReport.to_dict` in provenance (it never holds the key or a value).
    """
    frame, report = prepare_release(
        data,
        mode,
        roles=roles,
        direct_identifiers=direct_identifiers,
        key_env=key_env,
        key_file=key_file,
    )
    write_table(path, frame, sources=sources, sep=sep)
    return report
