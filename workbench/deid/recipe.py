"""Recipes: a de-identification pipeline written down so that anyone can run it again.

A :class:`Recipe` is the list of steps the tuner built (each a registered transform of
:mod:`workbench.deid.transforms` with its parameters), the roles of the columns and what the
release does with direct identifiers. It round-trips through YAML unchanged, and
``workbench transform DATA --recipe R.yaml --output OUT`` runs it through the same code path as
the notebook (:meth:`Recipe.write`), so a recipe exported from the tuner and run from the CLI
gives a byte-identical file.

Why a recipe is strict
----------------------
A recipe is read from a file that may have been edited by hand or by someone else, so it is
treated as hostile: YAML is read with the safe loader and no aliases (no "billion laughs"),
the file size is bounded, every key must be known, and a randomized step (noise, PRAM) must
carry its seed (a recipe that cannot reproduce its output cannot be reviewed). Secrets never go
in a recipe: a pseudonymization step names where the key is read (environment variable or key
file, :func:`workbench.deid.pseudonym.load_pseudonym_key`), and a field that looks like a
secret is refused without echoing its value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from .._io import atomic_write_text
from ..errors import ConfigError, MissingFileError, WorkbenchError
from . import mondrian as _mondrian  # noqa: F401 - registers the "mondrian" step
from .pseudonym import DEFAULT_KEY_ENV
from .release import RELEASE_MODES, ReleaseReport
from .transforms import Pipeline, PipelineResult, Transform
from .transforms.base import _REGISTRY, _jsonable

__all__ = [
    "RECIPE_FORMAT",
    "RECIPE_VERSION",
    "MAX_RECIPE_BYTES",
    "RANDOMIZED_STEPS",
    "Recipe",
    "RecipeRun",
]

RECIPE_FORMAT = "workbench-recipe"
RECIPE_VERSION = 1
MAX_RECIPE_BYTES = 20 * 1024 * 1024
"""Largest recipe file read (embedded hierarchies of large date columns stay well below)."""

RANDOMIZED_STEPS = frozenset({"additive_noise", "multiplicative_noise", "pram"})
"""Step types whose output depends on a random draw: their seed must be in the recipe."""

_TOP_KEYS = ("format", "version", "roles", "direct_identifiers", "steps")
_SECRET_NAMES = ("key", "secret", "password", "passphrase", "token", "pseudonym_key")
_EXTRA_STEP_KEYS = {"pseudonymize": {"key_source"}}


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loader that refuses aliases (entity expansion bombs) instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not accepted in a recipe", mark
            )
        return super().compose_node(parent, index)


@dataclass(frozen=True, eq=False)
class RecipeRun:
    """What running a recipe did: the pipeline result and the release report.

    Behaves enough like an :class:`~workbench.deid.AnonymizationResult` (``data``, ``levels``,
    ``to_dict``) for :func:`workbench.review.assessment.anonymization_bundle`.
    """

    recipe: Recipe
    result: PipelineResult
    release: ReleaseReport | None = None

    @property
    def data(self) -> Any:
        """The transformed table without the columns the release dropped."""
        dropped = list(self.release.dropped) if self.release is not None else []
        return self.result.data.drop(columns=[c for c in dropped if c in self.result.data])

    @property
    def levels(self) -> dict[str, int] | None:
        """Generalization levels of the last generalization step (``None``: none)."""
        gen = [s for s in self.recipe.steps if s.kind == "generalize"]
        return dict(gen[-1].levels) if gen else None

    @property
    def hierarchies(self) -> dict[str, Any]:
        """Hierarchies of the generalization steps (for the utility comparison)."""
        out: dict[str, Any] = {}
        for s in self.recipe.steps:
            if s.kind == "generalize":
                out.update(s.hierarchies)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the steps (hierarchies by name only) and their effects."""
        return {
            "strategy": "recipe",
            "steps": self.recipe.summary(),
            "records": int(len(self.result.data)),
            "records_suppressed": self.result.records_suppressed,
            "cells_suppressed": self.result.cells_suppressed,
            "effects": [
                {
                    "transform": s.transform,
                    "cells_changed": int(s.cells_changed),
                    "cells_suppressed": int(s.cells_suppressed),
                    "records_suppressed": int(s.records_suppressed),
                }
                for s in self.result.steps
            ],
            "release": self.release.to_dict() if self.release is not None else None,
        }


@dataclass(frozen=True, eq=False)
class Recipe:
    """An ordered list of transforms, the column roles and the release mode.

    Parameters
    ----------
    steps : sequence of Transform
        Applied in order (:class:`~workbench.deid.transforms.Pipeline`).
    roles : RoleMap, mapping or None
        Column roles; the release drops the direct identifiers they name (plus any found by
        :func:`workbench.profiling.roles.find_direct_identifiers`), and a bundle uses their QIs.
    direct_identifiers : {"drop", "pseudonymize", "keep"}
        What the release does with direct identifiers (default ``drop``).

    Examples
    --------
    >>> from workbench.deid.transforms import Rounding
    >>> r = Recipe([Rounding(("age",), base=5)])
    >>> Recipe.from_yaml(r.to_yaml()).to_yaml() == r.to_yaml()
    True
    """

    steps: tuple[Transform, ...] = ()
    roles: Any = None
    direct_identifiers: str = "drop"

    def __post_init__(self) -> None:
        from ..profiling.roles import RoleMap

        steps = tuple(self.steps)
        for i, s in enumerate(steps):
            if not isinstance(s, Transform):
                raise ConfigError(f"recipe step {i + 1} is a {type(s).__name__}, not a transform")
            if s.kind in RANDOMIZED_STEPS and not _is_int(getattr(s, "seed", None)):
                raise ConfigError(
                    f"recipe step {i + 1} ({s.kind}) has no integer seed; a recipe must "
                    "reproduce its output, so randomized steps carry their seed"
                )
        object.__setattr__(self, "steps", steps)
        if self.roles is not None and not isinstance(self.roles, RoleMap):
            object.__setattr__(self, "roles", RoleMap.from_dict(self.roles))
        if self.direct_identifiers not in RELEASE_MODES:
            raise ConfigError(
                f"recipe direct_identifiers is {self.direct_identifiers!r}; expected one of "
                + ", ".join(RELEASE_MODES)
            )

    # ------------------------------------------------------------------ editing
    def add(self, step: Transform) -> Recipe:
        """A new recipe with ``step`` appended (recipes are never changed in place)."""
        return Recipe((*self.steps, step), self.roles, self.direct_identifiers)

    @property
    def qis(self) -> tuple[str, ...]:
        return tuple(self.roles.quasi_identifiers) if self.roles is not None else ()

    @property
    def sensitive(self) -> tuple[str, ...]:
        return tuple(self.roles.sensitive) if self.roles is not None else ()

    # ------------------------------------------------------------------ running
    def apply(self, data: Any) -> PipelineResult:
        """Run every step on ``data`` (not changed); direct identifiers are still present."""
        return Pipeline(self.steps).apply(data)

    def write(
        self,
        data: Any,
        path: str | Path,
        *,
        key_env: str = DEFAULT_KEY_ENV,
        key_file: str | Path | None = None,
        sources: Sequence[str | Path] = (),
    ) -> RecipeRun:
        """Apply the steps and write the release (the one writer, direct identifiers handled).

        The notebook's "Save" and ``workbench transform`` both call this, which is why they
        write the same bytes. The caller records :meth:`RecipeRun.to_dict` in provenance.
        """
        result = self.apply(data)
        report = result.write(
            path,
            self.direct_identifiers,
            roles=self.roles,
            key_env=key_env,
            key_file=key_file,
            sources=sources,
        )
        return RecipeRun(self, result, report)

    # ------------------------------------------------------------------ serialising
    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready form; :meth:`from_dict` reads it back unchanged."""
        return {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "roles": dict(self.roles.to_dict()["columns"]) if self.roles is not None else None,
            "direct_identifiers": self.direct_identifiers,
            "steps": [_without_paths(_jsonable(s.to_dict())) for s in self.steps],
        }

    def summary(self) -> list[dict[str, Any]]:
        """Steps with their parameters, hierarchies shown by name and height only."""
        out = []
        for s in self.steps:
            d = _jsonable(s.to_dict())
            if "hierarchies" in d:
                d["hierarchies"] = {
                    c: {
                        "name": (h or {}).get("name"),
                        "levels": len((h or {}).get("rows", [[]])[0]),
                    }
                    for c, h in d["hierarchies"].items()
                }
            out.append(d)
        return out

    @classmethod
    def from_dict(cls, d: Any, source: str = "recipe") -> Recipe:
        """Validate strictly and rebuild; errors name the file, the step and the field."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"{source}: a recipe is a mapping with format, version and steps")
        unknown = [k for k in d if k not in _TOP_KEYS]
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {str(unknown[0])!r}; expected only {', '.join(_TOP_KEYS)}"
            )
        if d.get("format") != RECIPE_FORMAT:
            raise ConfigError(f"{source}: not a recipe (expected format: {RECIPE_FORMAT})")
        if d.get("version") != RECIPE_VERSION:
            raise ConfigError(
                f"{source}: recipe version {d.get('version')!r} is not supported; "
                f"expected {RECIPE_VERSION}"
            )
        raw = d.get("steps")
        if not isinstance(raw, list):
            raise ConfigError(f"{source}: 'steps' must be a list of steps")
        roles = d.get("roles")
        if roles is not None and not isinstance(roles, Mapping):
            raise ConfigError(f"{source}: 'roles' must map column names to roles")
        steps = []
        for i, step in enumerate(raw, start=1):
            where = f"{source}: step {i}"
            _check_step(step, where)
            try:
                steps.append(Transform.from_dict(step))
            except WorkbenchError as exc:
                raise ConfigError(f"{where} ({step['type']}): {exc}") from None
        try:
            return cls(
                tuple(steps),
                {"columns": dict(roles)} if roles is not None else None,
                d.get("direct_identifiers", "drop"),
            )
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except WorkbenchError as exc:
            raise ConfigError(f"{source}: roles: {exc}") from None

    def to_yaml(self) -> str:
        """YAML text (keys in a fixed order, so the same recipe always gives the same text)."""
        return yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
        )

    @classmethod
    def from_yaml(cls, text: str, source: str = "recipe") -> Recipe:
        """Read YAML text safely (no aliases, no tags, bounded size)."""
        if len(text.encode("utf-8")) > MAX_RECIPE_BYTES:
            raise ConfigError(f"{source}: recipe larger than {MAX_RECIPE_BYTES:,} bytes")
        try:
            doc = yaml.load(text, Loader=_NoAliasLoader)  # safe loader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}:" if mark is not None else ""
            raise ConfigError(
                f"{source}:{line} not a valid recipe ({getattr(exc, 'problem', None) or 'YAML'})"
            ) from None
        return cls.from_dict(doc, source=source)

    def save(self, path: str | Path, sources: Sequence[str | Path] = ()) -> Path:
        """Write the YAML atomically (never over one of ``sources``)."""
        return atomic_write_text(path, self.to_yaml(), sources=sources)

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        """Read a recipe file written by :meth:`save` (or by hand)."""
        p = Path(path)
        if not p.is_file():
            raise MissingFileError("recipe file not found", p)
        if p.stat().st_size > MAX_RECIPE_BYTES:
            raise ConfigError(f"{p}: recipe larger than {MAX_RECIPE_BYTES:,} bytes")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{p}: a recipe is UTF-8 text") from None
        return cls.from_yaml(text, source=str(p))

    def __repr__(self) -> str:
        kinds = ", ".join(s.kind for s in self.steps)
        return f"Recipe(steps=[{kinds}], direct_identifiers={self.direct_identifiers!r})"


def _without_paths(step: dict[str, Any]) -> dict[str, Any]:
    """Embedded hierarchies keep their file *name* only: a recipe travels, server paths stay."""
    for h in (step.get("hierarchies") or {}).values():
        if isinstance(h, dict) and h.get("source"):
            h["source"] = Path(str(h["source"])).name
    return step


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_step(step: Any, where: str) -> None:
    """Names only, never values: a hostile recipe could hold a key where a name is expected."""
    if not isinstance(step, Mapping) or not isinstance(step.get("type"), str):
        raise ConfigError(f"{where}: a step is a mapping with a 'type'")
    kind = step["type"]
    if kind not in _REGISTRY:
        raise ConfigError(
            f"{where}: unknown step type; expected one of {', '.join(sorted(_REGISTRY))}"
        )
    names = {f.name for f in fields(_REGISTRY[kind])} | _EXTRA_STEP_KEYS.get(kind, set())
    for name in step:
        if name == "type":
            continue
        if not isinstance(name, str):
            raise ConfigError(f"{where} ({kind}): parameter names are text")
        if name.lower() in _SECRET_NAMES:
            raise ConfigError(
                f"{where} ({kind}): field {name!r} looks like a secret; secrets never go in a "
                f"recipe (the pseudonymization key is read from ${DEFAULT_KEY_ENV} or a key file)"
            )
        if name not in names:
            raise ConfigError(
                f"{where} ({kind}): unknown parameter {name!r}; expected {', '.join(sorted(names))}"
            )
