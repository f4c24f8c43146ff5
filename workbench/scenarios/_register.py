"""The register of reviewed releases, and re-assessment when the world changes.

When a release is reviewed against threat scenarios, :func:`register_review` appends one record
per release to a hash-chained log (the provenance log format, so it is signed when a provenance
key is configured): the content hash of the release and of everything it was assessed against
(the attacker's external data, the ground truth, the scenarios, the policy in force) and the
risk figures found.

:func:`reassess` recomputes those hashes. A release whose inputs all still match is *current*.
Otherwise it is *stale*: it is re-evaluated against its scenarios with today's data, the risk
delta is reported, and the verdict against today's policy decides whether it now *breaks* its
policy. Run it as a scheduled job (cron, CI) after any external data, department dataset or
policy changes; it exits 1 when a release breaks its policy.

Policy limits apply to every attacker a scenario names: the expected share re-identified against
``max_average_risk``, the highest per-record risk against ``max_highest_risk`` and the share of
records above the policy's risk threshold against ``max_records_at_risk`` (El Emam 2013 defines
these for the prosecutor; applying them to the journalist and marketer too is the stricter
reading, and it is deliberate).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import sha256_file
from ..errors import ConfigError, ProvenanceError
from ._evaluate import Release, ScenarioMatrix, ScenarioOutcome, evaluate_scenarios
from ._model import Scenario

__all__ = [
    "PolicyBreach",
    "ReleaseReassessment",
    "ReassessResult",
    "policy_breaches",
    "register_review",
    "reassess",
]

OPERATION = "release-review"


@dataclass(frozen=True)
class PolicyBreach:
    """A scenario figure above a policy limit, in plain words."""

    scenario: str
    limit: str
    allowed: float
    measured: float

    @property
    def words(self) -> str:
        return (
            f"{self.scenario}: {self.limit} is {self.measured:.3f}, above the policy's "
            f"{self.allowed:.3f}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "limit": self.limit,
            "allowed": self.allowed,
            "measured": self.measured,
            "words": self.words,
        }


def policy_breaches(outcome: ScenarioOutcome, thresholds: Any) -> list[PolicyBreach]:
    """Which limits of a policy's ``thresholds`` a re-identification outcome exceeds.

    A figure exactly at its limit passes (the limits are maxima). Outcomes of other goals, or
    that do not apply, breach nothing here.
    """
    if thresholds is None or not outcome.applicable or outcome.goal != "reidentify":
        return []
    out = []
    avg = getattr(thresholds, "max_average_risk", None)
    if avg is not None and outcome.risk > avg:
        out.append(PolicyBreach(outcome.scenario, "average risk", float(avg), outcome.risk))
    high = getattr(thresholds, "max_highest_risk", None)
    if high is not None and outcome.highest_risk is not None and outcome.highest_risk > high:
        out.append(
            PolicyBreach(outcome.scenario, "highest risk", float(high), outcome.highest_risk)
        )
    rar = getattr(thresholds, "max_records_at_risk", None)
    if (
        rar is not None
        and outcome.records_at_risk is not None
        and outcome.records_at_risk > rar.share
    ):
        out.append(
            PolicyBreach(
                outcome.scenario,
                "share of records at risk",
                float(rar.share),
                outcome.records_at_risk,
            )
        )
    return out


def _json_sha(obj: Any) -> str:
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    ).hexdigest()


def _policy_of(catalog: Any, dataset: str | None) -> tuple[Any, Path | None]:
    if catalog is None or dataset is None or dataset not in catalog.datasets:
        return None, None
    path = catalog.entry(dataset).policy
    if path is None:
        return None, None
    from ..governance.policy import load_policy

    return load_policy(path), Path(path)


def _release_source(catalog: Any, release: Release, files: Mapping[str, str | Path]) -> Path | None:
    if release.name in files:
        return Path(files[release.name])
    if catalog is not None and release.dataset == release.name and release.name in catalog.datasets:
        return Path(catalog.entry(release.name).file)
    return None


def _inputs(
    catalog: Any, release: Release, scenarios: Sequence[Scenario], files: Mapping[str, str | Path]
) -> dict[str, dict[str, str]]:
    """name -> {kind, path, sha256} of everything the release's review depends on."""
    out: dict[str, dict[str, str]] = {}
    src = _release_source(catalog, release, files)
    if src is not None:
        out[f"release:{release.name}"] = {
            "kind": "release",
            "path": str(src.resolve()),
            "sha256": sha256_file(src),
        }
    for s in scenarios:
        out[f"scenario:{s.name}"] = {
            "kind": "scenario",
            "path": s.source or "",
            "sha256": _json_sha(s.to_dict()),
        }
        for held in s.holds:
            path = files.get(held)
            if path is None and catalog is not None and held in catalog.datasets:
                path = catalog.entry(held).file
            if path is not None:
                out[f"data:{held}"] = {
                    "kind": "external data",
                    "path": str(Path(path).resolve()),
                    "sha256": sha256_file(path),
                }
        if s.ground_truth is not None and s.ground_truth.file.is_file():
            gt = s.ground_truth.file
            out[f"truth:{gt.name}"] = {
                "kind": "ground truth",
                "path": str(gt.resolve()),
                "sha256": sha256_file(gt),
            }
    _, ppath = _policy_of(catalog, release.dataset)
    if ppath is not None:
        out[f"policy:{release.dataset}"] = {
            "kind": "policy",
            "path": str(ppath),
            "sha256": sha256_file(ppath),
        }
    return out


def _figures(o: ScenarioOutcome) -> dict[str, Any]:
    return {
        "applicable": o.applicable,
        "goal": o.goal,
        "risk": o.risk,
        "highest_risk": o.highest_risk,
        "records_at_risk": o.records_at_risk,
        "summary": o.summary,
    }


def register_review(
    matrix: ScenarioMatrix,
    releases: Sequence[Release],
    catalog: Any,
    register: str | Path,
    files: Mapping[str, str | Path] | None = None,
    user: str | None = None,
) -> list[dict[str, Any]]:
    """Append one ``release-review`` record per release of ``matrix`` to ``register``.

    ``files`` maps release (and external-data) names to the files they were loaded from, so a
    later :func:`reassess` can hash and reload them.
    """
    from ..governance.provenance import ProvenanceLog

    files = dict(files or {})
    log = ProvenanceLog(register)
    written = []
    by_name = {r.name: r for r in releases}
    for name in matrix.releases:
        rel = by_name[name]
        policy, _ = _policy_of(catalog, rel.dataset)
        outcomes = [o for o in matrix.outcomes if o.release == name]
        breaches = [
            b for o in outcomes for b in policy_breaches(o, getattr(policy, "thresholds", None))
        ]
        params = {
            "release": name,
            "dataset": rel.dataset,
            "kind": rel.kind,
            "catalog": str(Path(catalog.path).resolve())
            if getattr(catalog, "path", None)
            else None,
            "depends_on": _inputs(catalog, rel, matrix.scenarios, files),
            "scenarios": [s.to_dict() for s in matrix.scenarios],
            "scenario_sources": {s.name: s.source for s in matrix.scenarios},
            "outcomes": {o.scenario: _figures(o) for o in outcomes},
            "breaches": [b.to_dict() for b in breaches],
        }
        written.append(log.append(OPERATION, parameters=params, user=user, policy=policy))
    return written


@dataclass(frozen=True)
class ReleaseReassessment:
    """One registered release, re-checked."""

    release: str
    status: str  # current | stale | breaks policy
    changed: tuple[dict[str, str], ...] = ()
    deltas: tuple[dict[str, Any], ...] = ()
    breaches: tuple[PolicyBreach, ...] = ()
    reviewed_at: str = ""

    @property
    def words(self) -> str:
        if self.status == "current":
            return f"{self.release}: current -- nothing it was assessed against has changed"
        what = ", ".join(f"{c['name']} ({c['kind']})" for c in self.changed)
        worst = max(self.deltas, key=lambda d: d.get("delta") or 0.0, default=None)
        move = ""
        if worst is not None and worst.get("delta") is not None:
            move = (
                f"; {worst['scenario']} risk {100 * worst['old_risk']:.1f} % -> "
                f"{100 * worst['new_risk']:.1f} %"
            )
        tail = "; ".join(b.words for b in self.breaches)
        verdict = f" -- BREAKS its policy: {tail}" if self.breaches else " -- still within policy"
        return f"{self.release}: stale, changed: {what}{move}{verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "status": self.status,
            "changed": list(self.changed),
            "deltas": list(self.deltas),
            "breaches": [b.to_dict() for b in self.breaches],
            "reviewed_at": self.reviewed_at,
            "words": self.words,
        }


@dataclass(frozen=True)
class ReassessResult:
    releases: tuple[ReleaseReassessment, ...] = field(default_factory=tuple)
    signed: bool | None = None

    @property
    def breaks_policy(self) -> bool:
        return any(r.status == "breaks policy" for r in self.releases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "releases": [r.to_dict() for r in self.releases],
            "stale": sum(r.status != "current" for r in self.releases),
            "breaks_policy": self.breaks_policy,
        }


def _load_release(rec: Mapping[str, Any], catalog: Any) -> Release:
    from ..loading.readers import load

    name, dataset = rec["release"], rec.get("dataset")
    dep = rec["depends_on"].get(f"release:{name}")
    if dep is None and catalog is not None and name in catalog.datasets:
        return Release(name, catalog.load_dataset(name), dataset=name)
    if dep is None:
        raise ConfigError(f"register: release {name!r} has no recorded source to reload")
    return Release(name, load(dep["path"]), dataset=dataset, kind=rec.get("kind", "file"))


def reassess(catalog: Any, register: str | Path, force: bool = False) -> ReassessResult:
    """Re-check every release in ``register`` (its latest review) against today's world."""
    from ..governance.provenance import ProvenanceLog, verify_log

    path = Path(register)
    if not path.is_file():
        raise ConfigError(
            f"register {path} not found: review releases with "
            "`workbench scenarios ... --register` first"
        )
    check = verify_log(path)
    if not check.ok:
        raise ProvenanceError(f"register {path} failed verification; refusing to trust it")
    latest: dict[str, dict[str, Any]] = {}
    for rec in ProvenanceLog(path).records():
        if rec.get("operation") == OPERATION:
            latest[rec["parameters"]["release"]] = rec
    out = []
    for name, rec in latest.items():
        params = rec["parameters"]
        changed = []
        for key, dep in params["depends_on"].items():
            kind, _, dname = key.partition(":")
            if kind == "scenario":
                continue  # compared below from the scenario definitions themselves
            p = _current_path(catalog, kind, dname, Path(dep["path"]))
            now = sha256_file(p) if p.is_file() else None
            if now != dep["sha256"]:
                changed.append(
                    {
                        "name": dname,
                        "kind": dep["kind"],
                        "path": p.name,
                        "was": dep["sha256"][:12],
                        "now": (now or "missing")[:12],
                    }
                )
        rel = _load_release(params, catalog) if changed or force else None
        if catalog is not None and params.get("dataset") in (catalog.datasets or {}):
            _, ppath = _policy_of(catalog, params["dataset"])
            key = f"policy:{params['dataset']}"
            old = params["depends_on"].get(key)
            if ppath is not None and old is None:
                changed.append(
                    {
                        "name": params["dataset"],
                        "kind": "policy",
                        "path": ppath.name,
                        "was": "none",
                        "now": sha256_file(ppath)[:12],
                    }
                )
        if not changed and not force:
            out.append(ReleaseReassessment(name, "current", reviewed_at=rec.get("timestamp", "")))
            continue
        scenarios = tuple(
            Scenario.from_dict(
                d,
                base_dir=Path(catalog.path).parent / "scenarios"
                if getattr(catalog, "path", None)
                else None,
            )
            for d in params["scenarios"]
        )
        scenarios = tuple(_with_truth(s, params) for s in scenarios)
        if rel is None:
            rel = _load_release(params, catalog)
        matrix = evaluate_scenarios([rel], scenarios, catalog)
        policy, _ = _policy_of(catalog, rel.dataset)
        deltas, breaches = [], []
        for o in matrix.outcomes:
            was = params["outcomes"].get(o.scenario, {})
            old_risk = was.get("risk")
            deltas.append(
                {
                    "scenario": o.scenario,
                    "old_risk": old_risk,
                    "new_risk": o.risk,
                    "delta": None if old_risk is None else o.risk - old_risk,
                    "summary": o.summary,
                }
            )
            breaches += policy_breaches(o, getattr(policy, "thresholds", None))
        status = "breaks policy" if breaches else "stale"
        out.append(
            ReleaseReassessment(
                name,
                status,
                tuple(changed),
                tuple(deltas),
                tuple(breaches),
                rec.get("timestamp", ""),
            )
        )
    return ReassessResult(tuple(out))


def _with_truth(s: Scenario, params: Mapping[str, Any]) -> Scenario:
    """Re-attach the ground-truth file recorded with the review (to_dict keeps only its name)."""
    if s.ground_truth is None:
        return s
    for key, dep in params["depends_on"].items():
        if key == f"truth:{s.ground_truth.file.name}":
            from dataclasses import replace

            return replace(s, ground_truth=replace(s.ground_truth, file=Path(dep["path"])))
    return s


def _current_path(catalog: Any, kind: str, name: str, recorded: Path) -> Path:
    """Where a dependency lives *today*: the catalog's current file for a dataset or policy
    (a department may point its entry at a new file), else the recorded path."""
    if catalog is not None and name in (catalog.datasets or {}):
        entry = catalog.entry(name)
        if kind in ("data", "release"):
            return Path(entry.file)
        if kind == "policy" and entry.policy is not None:
            return Path(entry.policy)
    return recorded
