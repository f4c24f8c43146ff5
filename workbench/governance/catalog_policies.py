"""Policies found through the catalog: one dataset's policy, or a combination's harmonized one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, PolicyError
from .harmonize import Harmonization, harmonize
from .policy import Policy

__all__ = ["open_catalog", "split_target", "dataset_policy", "combination_policy"]


def open_catalog(catalog: Any) -> Any:
    """A :class:`workbench.governance.catalog.Catalog` from a path (or the catalog itself)."""
    from .catalog import Catalog

    if isinstance(catalog, Catalog):
        return catalog
    if isinstance(catalog, str | os.PathLike):
        return Catalog.load(catalog)
    raise ConfigError(f"expected a catalog file or Catalog, got {type(catalog).__name__}")


def split_target(target: str) -> tuple[str, ...]:
    """``"clinic+transit"`` -> ``("clinic", "transit")``; a single name -> one-tuple."""
    parts = tuple(p.strip() for p in str(target).split("+"))
    return parts


def dataset_policy(catalog: Any, name: str) -> Policy:
    """The policy of catalog dataset ``name`` (error naming the dataset when it has none)."""
    cat = open_catalog(catalog)
    if name not in cat.datasets:
        raise ConfigError(
            f"dataset {name!r} is not in the catalog; available: {', '.join(cat.datasets)}"
        )
    entry = cat.datasets[name]
    if entry.policy is None:
        raise PolicyError(
            f"catalog dataset {name!r} has no policy; add 'policy: policies/{name}.yaml' to its "
            "catalog entry"
        )
    policy_path = Path(entry.policy)
    return Policy.load(policy_path)


def combination_policy(catalog: Any, names: tuple[str, ...] | list[str] | str) -> Harmonization:
    """Harmonized policy of one or more catalog datasets (``"a+b"`` accepted).

    The sources are taken in sorted order so that ``a+b`` and ``b+a`` have the same effective
    policy (and hash, which ties reviews to it).
    """
    if isinstance(names, str):
        names = split_target(names)
    names = tuple(sorted(names))
    policies = [dataset_policy(catalog, n) for n in names]
    return harmonize(policies, name="+".join(names) if len(names) > 1 else None)
