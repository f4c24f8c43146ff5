"""The policy in force for a command's inputs: found once, recorded and enforced everywhere.

Why: retention and encryption at rest bite only if every output knows the policy of the data it
came from. A command names files, not policies, so the policy is found through the catalog that
declares those files:

1. the catalog the command names (``--catalog``), else
2. ``WORKBENCH_CATALOG``, else
3. a ``catalog.yaml`` in the directory of each input file (as the sample city ships); one that
   cannot be read is an error (fail closed: it may declare a policy that requires encryption).

Each input file declared by a dataset of that catalog contributes its dataset's policy; several
are harmonized (:func:`workbench.governance.harmonize.harmonize`, the one rule). Explicit
``--policy`` files are added to the set. An encrypted input (:func:`workbench._crypto
.is_encrypted`) makes the outputs encrypted too: data encrypted at rest stays encrypted,
whatever the catalog says (fail closed).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._crypto import is_encrypted
from ..errors import ConfigError, PolicyError

__all__ = ["InForce", "CATALOG_ENV", "policy_in_force"]

CATALOG_ENV = "WORKBENCH_CATALOG"
_CATALOG_NAME = "catalog.yaml"


@dataclass(frozen=True)
class InForce:
    """The policy (a Policy or a Harmonization, or None) and why outputs must be encrypted."""

    policy: Any
    datasets: tuple[str, ...]
    encrypted_inputs: tuple[str, ...]
    catalog: str | None = None

    @property
    def effective(self) -> Any:
        """The effective :class:`Policy` (a harmonization's result), or None."""
        return getattr(self.policy, "policy", self.policy)

    @property
    def encryption_reasons(self) -> tuple[str, ...]:
        """Plain-words reasons the outputs must be encrypted (empty: they need not be)."""
        out = []
        pol = self.effective
        if pol is not None and pol.encryption_at_rest is True:
            out.append(f"policy {pol.name!r} (encryption_at_rest: true)")
        out += [f"the encrypted input {p}" for p in self.encrypted_inputs]
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        pol = self.effective
        return {
            "policy": None if pol is None else pol.reference(),
            "datasets": list(self.datasets),
            "encrypted_inputs": list(self.encrypted_inputs),
            "catalog": self.catalog,
            "encryption_required": bool(self.encryption_reasons),
        }


def _catalogs(files: Sequence[Path], catalog: Any) -> list[Any]:
    def open_catalog(path: Any) -> Any:  # catalogs, policies and YAML load only when one exists
        from .catalog_policies import open_catalog

        return open_catalog(path)

    if catalog is not None:
        return [open_catalog(catalog)]
    env = os.environ.get(CATALOG_ENV, "").strip()
    if env:
        return [open_catalog(env)]
    seen: dict[Path, Any] = {}
    for f in files:
        c = f.parent / _CATALOG_NAME
        if c not in seen and c.is_file():
            try:
                seen[c] = open_catalog(c)
            except (ConfigError, PolicyError, OSError) as exc:
                # fails closed: the catalog may declare a policy that requires encryption
                raise ConfigError(
                    f"{c}: the catalog beside {f.name} cannot be read, so the policy in force "
                    f"for it is unknown ({exc})"
                ) from None
    return list(seen.values())


def policy_in_force(
    inputs: Iterable[str | os.PathLike | None],
    catalog: Any = None,
    policies: Iterable[str | os.PathLike] = (),
) -> InForce:
    """The policy in force for ``inputs`` (see the module docstring for the rule).

    Examples
    --------
    >>> policy_in_force([]).policy is None
    True
    """
    files = []
    for i in inputs:
        if i is None:
            continue
        try:
            p = Path(i)
            if p.is_file():
                files.append(p.resolve())
        except (OSError, ValueError):
            continue  # a SQL query, not a file
    resolved = []
    names = []
    cat_path = None
    policies = list(policies)
    catalogs = _catalogs(files, catalog)
    if catalogs or policies:  # policies, YAML and schemas load only when there is one to read
        from .policy import Policy
    for cat in catalogs:
        by_file = {e.file.resolve(): n for n, e in cat.datasets.items()}
        for f in files:
            name = by_file.get(f)
            if name is None or name in names:
                continue
            entry = cat.datasets[name]
            if entry.policy is None:
                continue
            names.append(name)
            resolved.append(Policy.load(entry.policy))
            cat_path = cat_path or str(getattr(cat, "path", "") or "") or None
    for p in policies:  # named ones join (the same policy twice counts once)
        pol = Policy.load(p)
        if all(pol.sha256 != r.sha256 for r in resolved):
            resolved.append(pol)
    if not resolved:
        policy = None
    elif len(resolved) == 1:
        policy = resolved[0]
    else:
        from .harmonize import harmonize

        labels = names + [""] * (len(resolved) - len(names))
        pairs = sorted(zip(labels, resolved, strict=True), key=lambda x: x[0])
        policy = harmonize([p for _, p in pairs], name="+".join(sorted(names)) or None)
    encrypted = tuple(str(f) for f in files if is_encrypted(f))
    return InForce(policy, tuple(names), encrypted, cat_path)
