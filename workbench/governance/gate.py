"""The privacy gate: measure risk, compare it with the (harmonized) policy, say what to do.

``gate(target, policy=..., catalog=...)`` is meant for pipelines: an ETL step calls it (or the
``workbench check`` command) before releasing data and stops on a violation. Each finding names the
rule, the measured value, the limit, the status (``pass``, ``fail`` or ``review``) and the action
in plain words. Findings a machine cannot settle -- a combination of datasets nobody has reviewed,
roles that were guessed -- are flagged for ``review`` rather than failed; ``strict=True`` treats
them as failures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ParameterError, PolicyError, PolicyViolationError
from .harmonize import Harmonization, harmonize
from .policy import Policy
from .provenance import _iso, current_user, default_log_path, record_operation, utc_now
from .reviews import ReviewRegistry, default_reviews_path

__all__ = [
    "Finding",
    "GateResult",
    "PolicyViolationError",
    "gate",
    "default_gate_log_path",
    "read_gate_log",
]

PASS, FAIL, REVIEW = "pass", "fail", "review"


@dataclass(frozen=True)
class Finding:
    """One rule checked by the gate."""

    rule: str
    status: str
    measured: Any
    limit: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "measured": self.measured,
            "limit": self.limit,
            "message": self.message,
        }


@dataclass(frozen=True)
class GateResult:
    """Everything the gate found for one target."""

    target: str
    datasets: tuple[str, ...]
    policy: str
    policy_sha256: str
    records: int | None
    quasi_identifiers: tuple[str, ...]
    findings: tuple[Finding, ...]
    strict: bool = False
    notes: tuple[str, ...] = ()

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == FAIL)

    @property
    def reviews(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == REVIEW)

    @property
    def passed(self) -> bool:
        """No violation (and, when strict, no open review flag)."""
        return not self.violations and not (self.strict and self.reviews)

    @property
    def exit_code(self) -> int:
        """0 when all pass, 1 on a violation (ETL convention; bad input is 2 via the CLI)."""
        return 0 if self.passed else 1

    def raise_for_violations(self) -> GateResult:
        """Raise :class:`PolicyViolationError` unless the gate passed; return self otherwise."""
        if not self.passed:
            raise PolicyViolationError(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "datasets": list(self.datasets),
            "policy": self.policy,
            "policy_sha256": self.policy_sha256,
            "records": self.records,
            "quasi_identifiers": list(self.quasi_identifiers),
            "passed": self.passed,
            "exit_code": self.exit_code,
            "strict": self.strict,
            "notes": list(self.notes),
            "violations": len(self.violations),
            "reviews": len(self.reviews),
            "findings": [f.to_dict() for f in self.findings],
        }


# ------------------------------------------------------------------------------ target loading
@dataclass(frozen=True)
class _Target:
    label: str
    names: tuple[str, ...]
    data: Any
    qis: tuple[str, ...]
    sensitive: tuple[str, ...]
    files: tuple[str, ...]
    roles_guessed: bool
    catalog_path: str | None
    join_note: str | None = None
    roles: Any = None  # the declared role map (None: suggested roles)


def _roles_from(roles: Any) -> Any:
    from ..profiling.roles import RoleMap

    if roles is None or isinstance(roles, RoleMap):
        return roles
    if isinstance(roles, str | os.PathLike):
        return RoleMap.load(roles)
    if isinstance(roles, Mapping):
        return RoleMap.from_dict(roles)
    raise ParameterError("roles", type(roles).__name__, "a RoleMap, a mapping or a role-map file")


def _data_target(
    data: Any,
    label: str,
    files: tuple[str, ...],
    qis: Sequence[str] | None,
    sensitive: Sequence[str] | None,
    roles: Any,
    catalog_path: str | None,
) -> _Target:
    guessed = False
    rmap = _roles_from(roles)
    if qis is None:
        if rmap is None:
            from ..profiling.roles import suggest_roles

            rmap = suggest_roles(data).role_map
            guessed = True
        qis = rmap.quasi_identifiers
    if sensitive is None:
        sensitive = rmap.sensitive if rmap is not None else ()
    return _Target(
        label,
        (label,),
        data,
        tuple(qis),
        tuple(sensitive),
        files,
        guessed,
        catalog_path,
        roles=None if guessed else rmap,
    )


def _resolve_target(
    target: Any,
    cat: Any,
    cat_path: str | None,
    qis: Sequence[str] | None,
    sensitive: Sequence[str] | None,
    roles: Any,
) -> _Target:
    from ..dataset import Dataset

    if not isinstance(target, str | os.PathLike):
        label = target.name if isinstance(target, Dataset) else "data"
        files = (target.source,) if isinstance(target, Dataset) and target.source else ()
        return _data_target(target, label, files, qis, sensitive, roles, cat_path)
    text = str(target)
    if cat is not None:
        from .catalog_policies import split_target

        names = split_target(text)
        if all(n in cat.datasets for n in names):
            if len(names) == 1:
                entry = cat.datasets[names[0]]
                data = cat.load_dataset(names[0])
                rmap = _roles_from(roles) or entry.roles
                if rmap is None and qis is None:
                    return _data_target(
                        data, names[0], (str(entry.file),), None, sensitive, None, cat_path
                    )
                return _Target(
                    names[0],
                    names,
                    data,
                    tuple(qis if qis is not None else rmap.quasi_identifiers),
                    tuple(
                        sensitive
                        if sensitive is not None
                        else (rmap.sensitive if rmap is not None else ())
                    ),
                    (str(entry.file),),
                    False,
                    cat_path,
                    roles=rmap,
                )
            return _combined_target(cat, names, cat_path, qis, sensitive)
        if "+" in text and not Path(text).exists():
            missing = [n for n in names if n not in cat.datasets]
            raise ConfigError(
                f"combination {text!r}: {', '.join(map(repr, missing))} not in the catalog; "
                f"available: {', '.join(cat.datasets)}"
            )
    from ..loading.postgres import is_database_url

    if is_database_url(text):  # the rows stay in the database; provenance records its fingerprint
        from ..loading.readers import load

        data = load(text)
        return _data_target(data, data.name, (), qis, sensitive, roles, cat_path)
    path = Path(text)
    if not path.exists():
        where = " or a catalog dataset name (give --catalog)" if cat is None else ""
        raise ConfigError(f"target {text!r} is neither an existing data file{where}")
    if cat is not None:  # a catalog dataset's file: the catalog's name, roles and policy
        for entry in cat.datasets.values():
            if Path(entry.file).resolve() == path.resolve():
                return _resolve_target(entry.name, cat, cat_path, qis, sensitive, roles)
    from ..loading.readers import load

    data = load(path)
    return _data_target(data, path.stem, (str(path),), qis, sensitive, roles, cat_path)


def _combined_target(
    cat: Any,
    names: tuple[str, ...],
    cat_path: str | None,
    qis: Sequence[str] | None,
    sensitive: Sequence[str] | None,
) -> _Target:
    """The planned combination, joined the way the linkage module combines datasets."""
    data, c_qis, c_sens, note = _combine(cat, names)
    files = tuple(str(cat.datasets[n].file) for n in names)
    return _Target(
        "+".join(names),
        names,
        data,
        tuple(qis if qis is not None else c_qis),
        tuple(sensitive if sensitive is not None else c_sens),
        files,
        False,
        cat_path,
        note,
    )


def _combine(cat: Any, names: tuple[str, ...]) -> tuple[Any, tuple[str, ...], tuple[str, ...], str]:
    """The merged table of an authorised join, as :mod:`workbench.linkage.combine` builds it.

    An inner join on the shared pseudonym key (one merged row per matching
    combination of records); each merged record carries every input's quasi-identifiers and
    sensitive attributes, named ``dataset.column``. The key column, and for files that carry no
    key the record-to-person table it is attached from, are the catalog's ``join_key``.
    """
    import numpy as np
    import pandas as pd

    from ..linkage.combine import join_rows
    from .catalog import JOIN_KEY_NOTE

    key = cat.join_key_column
    frames, qis, sens = {}, [], []
    demo = False
    for n in names:
        frame = cat.load_dataset(n).to_pandas()
        if key not in frame.columns:
            frame = cat.attach_join_key(n, frame, key)
            demo = True
        frames[n] = frame
    both = pd.concat([frames[n][key].astype("string") for n in names], ignore_index=True)
    codes, _ = pd.factorize(both, use_na_sentinel=True)
    keys, start = [], 0
    for n in names:
        keys.append(codes[start : start + len(frames[n])].astype(np.int64))
        start += len(frames[n])
    rows = join_rows(keys)
    merged: dict[str, Any] = {}
    for i, n in enumerate(names):
        entry = cat.datasets[n]
        for c in (*entry.quasi_identifiers, *entry.sensitive):
            merged[f"{n}.{c}"] = frames[n][c].to_numpy()[rows[i]]
        qis += [f"{n}.{c}" for c in entry.quasi_identifiers]
        sens += [f"{n}.{c}" for c in entry.sensitive]
    note = f"inner join on {key}" + (f" ({JOIN_KEY_NOTE})" if demo else "")
    return pd.DataFrame(merged), tuple(qis), tuple(sens), note


def _direct_identifier_finding(t: _Target) -> Finding | None:
    """``direct_identifier_present``: the release rule of :mod:`workbench.deid.release`.

    Fails when a column has the direct-identifier role (declared, or suggested for columns the
    role map does not list) or values that look like e-mails, phones, national ids or names --
    what ``--direct-identifiers keep`` leaves in a file. Not run on a planned combination, whose
    merged table holds only quasi-identifiers and sensitive attributes.
    """
    if len(t.names) > 1:
        return None
    from ..profiling.roles import find_direct_identifiers

    found = find_direct_identifiers(t.data, t.roles)
    if not found:
        return Finding(
            "direct_identifier_present",
            PASS,
            [],
            [],
            "No direct identifiers: no column has the direct-identifier role or values that look "
            "like e-mails, phones, national ids or person names.",
        )
    why = "; ".join(f"{f.column} ({f.reason})" for f in found)
    return Finding(
        "direct_identifier_present",
        FAIL,
        [f.column for f in found],
        [],
        f"Direct identifiers present: {why}. Drop or pseudonymize them before release "
        "(workbench anonymize --direct-identifiers drop|pseudonymize).",
    )


def _policy_for(policy: Any, cat: Any, names: tuple[str, ...]) -> Harmonization:
    if policy is not None:
        if isinstance(policy, Harmonization):
            return policy
        if isinstance(policy, Policy):
            return harmonize([policy])
        if isinstance(policy, str | os.PathLike):
            return harmonize([Policy.load(policy)])
        if isinstance(policy, Sequence):
            loaded = [p if isinstance(p, Policy) else Policy.load(p) for p in policy]
            return harmonize(
                loaded, name="+".join(p.name for p in loaded) if len(loaded) > 1 else None
            )
        raise ParameterError("policy", type(policy).__name__, "a Policy, a policy file or a list")
    if cat is None:
        raise PolicyError("no policy in force: give --policy FILE or --catalog CATALOG")
    from .catalog_policies import combination_policy

    return combination_policy(cat, names)


# --------------------------------------------------------------------------------- measuring
def _class_view(
    data: Any,
    qis: Sequence[str],
    sensitive: Sequence[str],
    population_table: Any = None,
    research_subset: Any = None,
    population_size: float | None = None,
) -> Any:
    """The equivalence classes of ``data`` on ``qis`` as the privacy models see them.

    A missing QI value is a category of its own (the risk engine's default); a missing
    sensitive value is its own value. A population table and a research subset are counted
    per class of ``data`` (records of other combinations do not matter to any class).
    """
    import numpy as np
    import pandas as pd

    from ..dataset import as_pandas, check_columns
    from ..deid.hierarchy import value_strings
    from ..linkage._codes import record_keys
    from ..models import Classes
    from ..risk.sensitive import sensitive_pairs

    check_columns(data, [*qis, *sensitive], getattr(data, "source", None))
    frame = as_pandas(data)
    tables = {}
    for name, table in (
        ("population_table", population_table),
        ("research_subset", research_subset),
    ):
        if table is not None:
            tables[name] = as_pandas(table)
            check_columns(tables[name], list(qis), name)
    both = pd.concat(
        [frame[list(qis)], *(t[list(qis)] for t in tables.values())], ignore_index=True
    )
    codes, _ = pd.factorize(record_keys(both, list(qis)))
    cid, uniq = pd.factorize(codes[: len(frame)])
    cid = cid.astype(np.int64)
    n = len(uniq)
    per_class = {}
    start = len(frame)
    for name, table in tables.items():
        # map the other table's keys onto the data's classes (-1: a combination not in the data)
        index = pd.Index(uniq)
        where = index.get_indexer(codes[start : start + len(table)])
        start += len(table)
        per_class[name] = np.bincount(where[where >= 0], minlength=n).astype(np.float64)
        if name == "research_subset":  # fail closed: it must be part of the data
            sizes = np.bincount(cid, minlength=n)
            extra = int((where < 0).sum() + np.clip(per_class[name] - sizes, 0, None).sum())
            if extra:
                raise ParameterError(
                    "research_subset",
                    f"{extra} record(s) without a matching data record",
                    "a subset of the data's records (matched on the quasi-identifiers)",
                )
    pairs = {
        c: sensitive_pairs(cid, value_strings(frame[c]).fillna("NA").to_numpy(dtype=object), n, c)
        for c in sensitive
    }
    return Classes(
        np.bincount(cid, minlength=n),
        len(frame),
        pairs,
        population=per_class.get("population_table"),
        research=per_class.get("research_subset"),
        population_size=None if population_size is None else float(population_size),
    )


def _for_columns(model: Any, columns: Sequence[str], data: Any) -> list[Any] | None:
    """A per-attribute model for each matching column; ``None`` when no column matches.

    A policy names plain attributes; in a merged table they are ``dataset.attribute``.
    """
    from dataclasses import replace

    attr = getattr(model, "attribute", None)
    if attr is None:
        return [model]
    cols = [c for c in columns if c == attr or c.endswith(f".{attr}")]
    if not cols and _has_column(data, attr):
        cols = [attr]
    return [replace(model, attribute=c) for c in cols] or None


def _measure(
    t: _Target, pol: Policy, profile: Any = None, **tables: Any
) -> tuple[int | None, list[Finding]]:
    """One finding per privacy model the policy asks for (the registered models of
    :mod:`workbench.models`, in registry order).

    ``profile`` is the risk profile a review shows for this target; it must describe the target
    as the policy measures it (:func:`_check_profile`, fail closed), so the gate's figures and
    the review's are of the same table, QIs and threshold.
    """
    if not t.qis:
        return None, [
            Finding(
                "quasi_identifiers",
                REVIEW,
                None,
                None,
                "No quasi-identifiers are declared, so re-identification risk cannot be measured. "
                "Declare the roles of the columns (catalog 'roles:' or --roles).",
            )
        ]
    if _n_rows(t.data) == 0:
        return 0, [
            Finding(
                "records",
                REVIEW,
                0,
                None,
                "There are no records to measure (for a combination: no record shares the join "
                "key). Check the key before trusting this result.",
            )
        ]
    wanted = []  # (model, rule) per policy threshold, expanded to columns
    findings: list[Finding] = []
    for model in pol.thresholds.models():
        expanded = _for_columns(model, t.sensitive, t.data)
        if expanded is None:
            findings.append(
                Finding(
                    f"{model.policy_key}[{model.attribute}]",
                    REVIEW,
                    None,
                    model.policy_limit,
                    f"The policy requires that {model.describe()}, but the data has no column "
                    f"{model.attribute!r}; check that the policy and the data describe the same "
                    "attribute.",
                )
            )
            continue
        wanted += expanded
    sens_cols = list(dict.fromkeys(m.attribute for m in wanted if getattr(m, "attribute", None)))
    if profile is not None:
        rar = getattr(pol.thresholds, "max_records_at_risk", None)
        l_cols = [m.attribute for m in wanted if m.policy_key == "min_l"]
        _check_profile(profile, t, rar.threshold if rar is not None else None, l_cols)
    view = _class_view(t.data, t.qis, sens_cols, **tables)
    released = view.sizes > 0
    qtext = ", ".join(t.qis)
    for m in wanted:
        attr = getattr(m, "attribute", None)
        rule = m.policy_key + (f"[{attr}]" if attr else "")
        missing = sorted(
            n
            for n in m.needs - {"sensitive"}
            if getattr(view, "population" if n == "population" else n, None) is None
        )
        if missing:
            findings.append(
                Finding(
                    rule,
                    REVIEW,
                    None,
                    m.policy_limit,
                    f"The policy requires that {m.describe()}; this needs the "
                    f"{' and '.join(x.replace('_', ' ') for x in missing)}, which the gate does "
                    "not have, so a reviewer must check it.",
                )
            )
            continue
        measured = m.measure(view, released)
        ok = m.satisfied_by(measured)
        if isinstance(measured, float):
            measured = round(measured, 6)
        findings.append(
            Finding(
                rule, PASS if ok else FAIL, measured, m.policy_limit, m.explain(measured, ok, qtext)
            )
        )
    return int(view.n_records), findings


def _check_profile(
    profile: Any, t: _Target, threshold: float | None, l_columns: Sequence[str]
) -> None:
    """A profile handed to the gate must describe the target as the policy measures it.

    Reusing the profile a review already shows means the gate and the review report the same
    figures (computed once); a profile of other columns or another risk threshold would not.
    """
    if tuple(profile.qis) != tuple(t.qis):
        raise ParameterError("profile", list(profile.qis), f"a profile over the QIs {list(t.qis)}")
    n = _n_rows(t.data)
    if n is not None and profile.records != n:
        raise ParameterError("profile", f"{profile.records} records", f"{n} records (the target)")
    if threshold is not None and profile.threshold != threshold:
        raise ParameterError(
            "profile",
            f"risk threshold {profile.threshold}",
            f"the policy's records-at-risk threshold {threshold}",
        )
    missing = [c for c in l_columns if c not in (getattr(profile, "l_diversity", None) or {})]
    if missing:  # fail closed: never turn a measurable l into "could not be measured"
        raise ParameterError(
            "profile", f"no l-diversity of {missing[0]!r}", "the policy's min_l attributes"
        )


def _n_rows(data: Any) -> int | None:
    from ..dataset import Dataset

    if isinstance(data, Dataset):
        return data.n_rows
    try:
        return len(data)
    except TypeError:
        return None


def _columns(data: Any) -> list[str]:
    from ..dataset import Dataset

    if isinstance(data, Dataset):
        return list(data.columns)
    return [str(c) for c in getattr(data, "columns", [])]


def _has_column(data: Any, col: str) -> bool:
    from ..dataset import Dataset

    if isinstance(data, Dataset):
        return col in data.columns
    cols = getattr(data, "columns", None)
    return cols is not None and col in [str(c) for c in cols]


def _sharing_findings(
    cat: Any,
    cat_path: str | None,
    t: _Target,
    pol: Policy,
    recipient: str | None,
    recipient_kind: str | None,
    purpose: str | None,
    agreements: Any,
) -> list[Finding]:
    """Hosting, sharing and data-use agreement rules (:mod:`workbench.governance.sharing`)."""
    from .sharing import RECIPIENT_KINDS, Agreements, default_governance_file, release_findings

    if recipient_kind is not None and recipient_kind not in RECIPIENT_KINDS:
        raise ParameterError("recipient_kind", recipient_kind, ", ".join(RECIPIENT_KINDS))
    in_catalog = cat is not None and all(n in cat.datasets for n in t.names)
    if agreements is None and in_catalog:
        agreements = default_governance_file(cat_path, "agreements.yaml")
    if agreements is not None and not isinstance(agreements, Agreements):
        agreements = Agreements.load(agreements)
    return release_findings(
        cat if in_catalog else None,
        t.names if in_catalog else (),
        pol,
        recipient=recipient,
        recipient_kind=recipient_kind,
        purpose=purpose,
        agreements=agreements if in_catalog else None,
    )


# -------------------------------------------------------------------------------- gate log
def default_gate_log_path() -> Path | None:
    """``WORKBENCH_GATE_LOG``, else ``gate.jsonl`` next to the provenance log."""
    env = os.environ.get("WORKBENCH_GATE_LOG")
    if env:
        return None if env.strip().lower() in {"off", "none", "0", "false"} else Path(env)
    prov = default_log_path()
    return (prov.parent if prov else Path.cwd() / ".workbench") / "gate.jsonl"


def _board_approval(catalog_path: Any, names: Any, policy_sha256: str) -> Any:
    """The oversight board's ethics review approving this combination under this policy.

    Read from ``governance/ethics.jsonl`` beside the catalog with the board of
    ``governance/oversight.yaml`` (every vote's signature checked again); ``None`` without them.
    """
    if catalog_path is None:
        return None
    gov = Path(catalog_path).parent / "governance"
    if not (gov / "ethics.jsonl").is_file() or not (gov / "oversight.yaml").is_file():
        return None
    from .oversight import load_oversight
    from .reviews import EthicsReviews

    reviews = EthicsReviews(gov / "ethics.jsonl", load_oversight(gov / "oversight.yaml"))
    return reviews.approved(names, policy_sha256)


def read_gate_log(path: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Every gate result recorded, oldest first."""
    p = Path(path) if path is not None else default_gate_log_path()
    if p is None or not p.exists():
        return []
    out = []
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    raise ConfigError(f"{p}: line {lineno} is not JSON") from None
    return out


def _append_gate_log(path: Path, result: GateResult, user: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"timestamp": _iso(utc_now()), "user": user, **result.to_dict()}
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------- gate
def gate(
    target: Any,
    policy: Any = None,
    catalog: Any = None,
    *,
    qis: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    roles: Any = None,
    purpose: str | None = None,
    user: str | None = None,
    strict: bool = False,
    reviews: str | os.PathLike | ReviewRegistry | None = None,
    record: bool = True,
    log: str | os.PathLike | None = None,
    gate_log: str | os.PathLike | None = None,
    access_log: Any = None,
    profile: Any = None,
    population_table: Any = None,
    research_subset: Any = None,
    population_size: float | None = None,
    field_purposes: Any = None,
    recipient: str | None = None,
    recipient_kind: str | None = None,
    agreements: Any = None,
) -> GateResult:
    """Check ``target`` against its policy and return every finding.

    Parameters
    ----------
    target : str, path, Dataset or frame
        A data file, a catalog dataset name, a planned combination ``"a+b"`` of catalog
        datasets, or in-memory data.
    policy : Policy, path or list, optional
        The policy in force; default the catalog entries' policies, harmonized for a combination.
    catalog : path or Catalog, optional
        Where dataset names, roles and policies are looked up.
    qis, sensitive, roles : optional
        Override the quasi-identifiers / sensitive attributes (default: the catalog roles, a role
        map, or roles suggested automatically -- flagged for review).
    purpose : str, optional
        The intended use; it must be among the policy's purposes and consent scope.
    user : str, optional
        Who runs the check (default ``WORKBENCH_USER``/``USER``).
    access_log : AccessLog or path, optional
        When given, the user must hold a role (in this log) that the policy lets see raw rows.
    population_table, research_subset, population_size : optional
        What privacy models beyond the data need (k-map, delta-presence, population
        uniqueness); without them those policy thresholds are flagged for review.
    field_purposes : FieldPurposes or path, optional
        Which fields each purpose needs (default ``purposes.yaml`` beside the catalog); with a
        ``purpose``, fields it does not need fail as ``unneeded_field``.
    recipient, recipient_kind : str, optional
        Who receives the release (kind ``department``, ``vendor`` or ``other government``):
        sharing outside the owning departments fails unless the policy allows sharing.
    agreements : Agreements or path, optional
        Data-use agreements (default ``governance/agreements.yaml`` beside the catalog); a
        combination needs a valid one. Hosting declared in the catalog is checked against
        ``third_party_hosting`` (:mod:`workbench.governance.sharing`).
    strict : bool
        Treat review flags as failures.
    record : bool
        Append the result to the gate log and a ``check`` record to provenance.
    profile : RiskProfile, optional
        The risk profile of ``target`` already computed (same QIs, the policy's risk threshold,
        the policy's l-diversity attributes among its sensitive attributes): the gate judges it
        instead of measuring again, so a review shows one set of figures.
    """
    from ..errors import ParameterTypeError

    if target is None or isinstance(target, (bool, int, float, bytes)):
        raise ParameterTypeError(
            "target", target, "a data file, a catalog dataset name, a Dataset or a data frame"
        )
    cat, cat_path = None, None
    if catalog is not None:
        from .catalog_policies import open_catalog

        cat = open_catalog(catalog)
        if isinstance(catalog, str | os.PathLike):
            cat_path = str(catalog)
        elif getattr(cat, "path", None) is not None:
            cat_path = str(cat.path)
    t = _resolve_target(target, cat, cat_path, qis, sensitive, roles)
    harm = _policy_for(policy, cat, t.names)
    pol = harm.policy
    findings: list[Finding] = []
    for c in harm.conflicts:
        findings.append(Finding(f"conflict:{c.rule}", FAIL, None, None, c.message))
    if purpose is not None:
        norm = " ".join(purpose.casefold().split())
        in_purposes = norm in {" ".join(p.casefold().split()) for p in pol.purposes}
        in_consent = norm in {" ".join(p.casefold().split()) for p in pol.consent_scope}
        ok = in_purposes and in_consent
        findings.append(
            Finding(
                "purpose",
                PASS if ok else FAIL,
                purpose,
                list(pol.purposes),
                f"{purpose!r} is a permitted purpose covered by consent."
                if ok
                else f"{purpose!r} is not "
                + ("a permitted purpose" if not in_purposes else "covered by the consent scope")
                + f" of {pol.name} (permitted: {', '.join(pol.purposes) or 'none'}; consent: "
                f"{', '.join(pol.consent_scope) or 'none'}). Do not use the data for it.",
            )
        )
        from .minimize import open_purposes, unneeded_field_findings

        fp = open_purposes(field_purposes, cat_path)
        if fp is not None:
            columns = _columns(t.data)
            findings += unneeded_field_findings(columns, t.names, purpose, fp)
    findings += _sharing_findings(
        cat, cat_path, t, pol, recipient, recipient_kind, purpose, agreements
    )
    if len(t.names) > 1:
        reg = (
            reviews
            if isinstance(reviews, ReviewRegistry)
            else ReviewRegistry(
                reviews if reviews is not None else default_reviews_path(t.catalog_path)
            )
        )
        rev = reg.find(t.names, pol.sha256)
        board = None if rev is not None else _board_approval(t.catalog_path, t.names, pol.sha256)
        if board is not None:
            votes = ", ".join(f"{v.member} {v.decision}" for v in board.votes)
            findings.append(
                Finding(
                    "review:combination",
                    PASS,
                    [v.member for v in board.votes],
                    None,
                    f"Combination approved by the oversight board in ethics review {board.id} "
                    f"on {(board.decided_at or '')[:10]} ({votes}).",
                )
            )
        elif rev is not None:
            findings.append(
                Finding(
                    "review:combination",
                    PASS,
                    rev.reviewer,
                    None,
                    f"Combination reviewed by {rev.reviewer} on {rev.date[:10]}.",
                )
            )
        else:
            older = reg.find(t.names)
            findings.append(
                Finding(
                    "review:combination",
                    REVIEW,
                    None,
                    None,
                    (
                        "The source policies changed since this combination was reviewed"
                        if older
                        else "This combination of datasets has never been reviewed"
                    )
                    + "; a privacy officer must confirm that the purpose justifies the join "
                    "(workbench check --approve).",
                )
            )
    if t.roles_guessed:
        findings.append(
            Finding(
                "review:roles",
                REVIEW,
                list(t.qis),
                None,
                "Quasi-identifiers were suggested automatically; confirm them in a role map "
                "(--roles) or the catalog.",
            )
        )
    who = current_user(user)
    if access_log is not None:
        from .access import AccessLog

        alog = access_log if isinstance(access_log, AccessLog) else AccessLog(access_log)
        held = alog.roles_of(who)
        ok_roles = [r for r in held if r in pol.access.raw]
        findings.append(
            Finding(
                "access",
                PASS if ok_roles else FAIL,
                list(held),
                list(pol.access.raw),
                f"{who} holds {', '.join(ok_roles)}, which may see raw rows."
                if ok_roles
                else f"{who} holds {', '.join(held) or 'no role'}; the policy lets only "
                f"{', '.join(pol.access.raw) or 'nobody'} see raw rows. Ask the steward for access "
                "or run the check as someone who has it.",
            )
        )
    di = _direct_identifier_finding(t)
    if di is not None:
        findings.append(di)
    records, measured = _measure(
        t,
        pol,
        population_table=population_table,
        research_subset=research_subset,
        population_size=population_size,
        profile=profile,
    )
    findings += measured
    result = GateResult(
        target=t.label,
        datasets=t.names,
        policy=pol.name,
        policy_sha256=pol.sha256,
        records=records,
        quasi_identifiers=t.qis,
        findings=tuple(findings),
        strict=strict,
        notes=tuple(n for n in (t.join_note,) if n),
    )
    if record:
        glog = Path(gate_log) if gate_log is not None else default_gate_log_path()
        if glog is not None:
            _append_gate_log(glog, result, who)
        record_operation(
            "check",
            inputs=[f for f in t.files if f] or [t.data],
            outputs=[],
            parameters={
                "target": t.label,
                "quasi_identifiers": list(t.qis),
                "passed": result.passed,
                "violations": len(result.violations),
                "reviews": len(result.reviews),
                "strict": strict,
            },
            user=who,
            policy=pol,
            log=log,
        )
    return result
