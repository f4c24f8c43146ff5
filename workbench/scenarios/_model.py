"""Threat scenarios: who the attacker is, what they hold and know, and what they want.

A scenario is a small YAML document kept beside the catalog (``scenarios/*.yaml``), so a privacy
officer can add "a journalist with next year's voter roll" without touching code::

    name: journalist_voter_roll
    description: A journalist joins the release to the public voter roll.
    attacker:
      model: journalist        # prosecutor | journalist | marketer (El Emam 2013, ch. 8)
      holds: [voters]          # catalog datasets or release names the attacker has, identified
      knows: [birth, sex, postal]   # facts (birth, postal, sex) or column names of a target
    matching: {method: exact}  # exact | probabilistic (Splink), with a threshold
    goal: reidentify           # reidentify | infer | membership
    ground_truth: {file: ground_truth.csv, person: resident_id}   # optional, for actual counts

Goals:

* ``reidentify`` -- expected re-identifications under the attacker model and, where ground truth
  exists, the actual correct ones;
* ``infer`` -- share of released records whose sensitive value the attacker learns with
  confidence >= ``confidence`` (homogeneity; with ``rule_out: b`` the attacker can also exclude
  ``b`` other values: the background-knowledge attack of Machanavajjhala et al. 2007);
* ``membership`` -- how well the attacker tells who is in the release from who is not
  (delta-presence, Nergiz et al. 2007; advantage = true-positive rate - false-positive rate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingFileError

__all__ = ["Scenario", "GroundTruth", "load_scenarios", "ATTACKER_MODELS", "GOALS"]

ATTACKER_MODELS = ("prosecutor", "journalist", "marketer")
GOALS = ("reidentify", "infer", "membership")
METHODS = ("exact", "probabilistic")
_MAX_BYTES = 256 * 1024  # a scenario is a few lines; refuse anything huge before parsing
_TOP = {
    "name",
    "description",
    "attacker",
    "matching",
    "goal",
    "sensitive",
    "confidence",
    "rule_out",
    "risk_threshold",
    "ground_truth",
}
_MODEL_WORDS = {
    "prosecutor": "knows the target is in the release",
    "journalist": "does not know whether the target is in the release and matches it to "
    "identified data",
    "marketer": "tries to re-identify as many people as possible at once",
}


@dataclass(frozen=True)
class GroundTruth:
    """Where true identities are kept (for scoring only): a table of (dataset, record, person).

    Columns: ``dataset`` (catalog dataset name), ``record_id`` (the dataset's record id) and
    ``person`` (default ``person_id``). The attack never sees it.
    """

    file: Path
    person: str = "person_id"
    dataset_column: str = "dataset"
    record_column: str = "record_id"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file.name, "person": self.person}


@dataclass(frozen=True)
class Scenario:
    """One attacker: model, holdings, knowledge, matching and goal (see the module docstring)."""

    name: str
    description: str = ""
    attacker_model: str = "journalist"
    holds: tuple[str, ...] = ()
    knows: tuple[str, ...] = ()
    method: str = "exact"
    threshold: float = 0.9
    goal: str = "reidentify"
    sensitive: tuple[str, ...] = ()
    confidence: float = 0.8
    rule_out: int = 0
    risk_threshold: float = 0.2
    ground_truth: GroundTruth | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = f"scenario {self.name!r}" + (f" ({self.source})" if self.source else "")
        if not self.name or not str(self.name).replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"{where}: name must be letters, digits, '-' or '_'")
        if self.attacker_model not in ATTACKER_MODELS:
            raise ConfigError(
                f"{where}: attacker.model {self.attacker_model!r} is not one of "
                f"{', '.join(ATTACKER_MODELS)}"
            )
        if self.goal not in GOALS:
            raise ConfigError(f"{where}: goal {self.goal!r} is not one of {', '.join(GOALS)}")
        if self.method not in METHODS:
            raise ConfigError(
                f"{where}: matching.method {self.method!r} is not one of {', '.join(METHODS)}"
            )
        if not self.knows:
            raise ConfigError(f"{where}: attacker.knows must name at least one fact or column")
        for label, value, lo, hi in (
            ("matching.threshold", self.threshold, 0.0, 1.0),
            ("confidence", self.confidence, 0.0, 1.0),
            ("risk_threshold", self.risk_threshold, 0.0, 1.0),
        ):
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not (lo < value <= hi if label != "risk_threshold" else lo <= value <= hi)
            ):
                raise ConfigError(f"{where}: {label} = {value!r} must be a number in ({lo}, {hi}]")
        if self.method == "probabilistic" and not 0 < self.threshold < 1:
            raise ConfigError(f"{where}: matching.threshold must be in (0, 1)")
        if (
            not isinstance(self.rule_out, int)
            or isinstance(self.rule_out, bool)
            or self.rule_out < 0
        ):
            raise ConfigError(f"{where}: rule_out = {self.rule_out!r} must be a whole number >= 0")
        if self.goal == "membership" and not self.holds:
            raise ConfigError(
                f"{where}: a membership attack needs attacker.holds (a population table or "
                "register to test people against)"
            )

    @property
    def plain(self) -> str:
        """The scenario in one sentence, for matrices and reports."""
        holds = f" holding {', '.join(self.holds)}" if self.holds else ""
        goal = {
            "reidentify": "re-identify people",
            "infer": f"learn {', '.join(self.sensitive) or 'the sensitive value'}",
            "membership": "learn who is in the release",
        }[self.goal]
        return (
            f"a {self.attacker_model}{holds} who knows {', '.join(self.knows)} and tries to "
            f"{goal} ({_MODEL_WORDS[self.attacker_model]})"
        )

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], base_dir: Path | None = None, source: str | None = None
    ) -> Scenario:
        """Validate a parsed scenario document; unknown keys are errors (typos protect nobody)."""
        where = source or "scenario"
        if not isinstance(d, Mapping):
            raise ConfigError(f"{where}: a scenario must be a mapping")
        unknown = sorted(set(map(str, d)) - _TOP)
        if unknown:
            raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(_TOP)}")
        attacker = d.get("attacker") or {}
        matching = d.get("matching") or {}
        if not isinstance(attacker, Mapping) or not isinstance(matching, Mapping):
            raise ConfigError(f"{where}: attacker and matching must be mappings")
        bad = sorted(set(map(str, attacker)) - {"model", "holds", "knows"})
        bad += sorted(set(map(str, matching)) - {"method", "threshold"})
        if bad:
            raise ConfigError(f"{where}: unknown attacker/matching keys {bad}")

        def names(value: Any, label: str) -> tuple[str, ...]:
            if value is None:
                return ()
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {label} must be a list of names")
            return tuple(value)

        gt = d.get("ground_truth")
        truth = None
        if gt is not None:
            if not isinstance(gt, Mapping) or not isinstance(gt.get("file"), str):
                raise ConfigError(f"{where}: ground_truth needs a file")
            path = Path(gt["file"])
            if not path.is_absolute():
                path = (base_dir or Path.cwd()) / path
            truth = GroundTruth(file=path, person=str(gt.get("person", "person_id")))
        kwargs: dict[str, Any] = {
            "name": str(d.get("name", "")),
            "description": str(d.get("description", "")),
            "attacker_model": str(attacker.get("model", "journalist")),
            "holds": names(attacker.get("holds"), "attacker.holds"),
            "knows": names(attacker.get("knows"), "attacker.knows"),
            "method": str(matching.get("method", "exact")),
            "threshold": matching.get("threshold", 0.9),
            "goal": str(d.get("goal", "reidentify")),
            "sensitive": names(d.get("sensitive"), "sensitive"),
            "confidence": d.get("confidence", 0.8),
            "rule_out": d.get("rule_out", 0),
            "risk_threshold": d.get("risk_threshold", 0.2),
            "ground_truth": truth,
            "source": source,
        }
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "attacker": {
                "model": self.attacker_model,
                "holds": list(self.holds),
                "knows": list(self.knows),
            },
            "matching": {"method": self.method, "threshold": self.threshold},
            "goal": self.goal,
            "sensitive": list(self.sensitive),
            "confidence": self.confidence,
            "rule_out": self.rule_out,
            "risk_threshold": self.risk_threshold,
        }
        if self.ground_truth is not None:
            out["ground_truth"] = self.ground_truth.to_dict()
        return out


def _read_yaml(path: Path) -> Any:
    import yaml

    if not path.is_file():
        raise MissingFileError("scenario file not found", path)
    if path.stat().st_size > _MAX_BYTES:
        raise ConfigError(f"{path}: a scenario file may hold at most {_MAX_BYTES} bytes")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{line} not valid YAML") from None


def load_scenarios(paths: Iterable[str | Path]) -> tuple[Scenario, ...]:
    """Load scenarios from YAML files or folders of ``*.yaml`` (sorted by file name).

    A file may hold one scenario or a list of them; names must be unique.
    """
    out: list[Scenario] = []
    for p in paths:
        path = Path(p)
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            doc = _read_yaml(f)
            for i, d in enumerate(doc if isinstance(doc, list) else [doc]):
                src = f"{f.name}" + (f"[{i}]" if isinstance(doc, list) else "")
                out.append(Scenario.from_dict(d, base_dir=f.parent, source=src))
    seen: set[str] = set()
    for s in out:
        if s.name in seen:
            raise ConfigError(f"scenario name {s.name!r} is used twice")
        seen.add(s.name)
    return tuple(out)
