"""Cumulative risk of an authorised join: what the merged table reveals that no input did.

When departments join their tables on a shared key (a keyed pseudonym such as ``person_key``),
each merged record carries the union of their quasi-identifiers: a clinic visit gains the
household size and income band from housing. The merged table's risk is compared with each
input's, and the added attributes are ranked by how much of the increase they cause:

* leave-one-out: uniqueness of the merged table minus its uniqueness without the attribute
  (what the attribute adds given everything else; a birth year adds nothing next to a birth
  date);
* single addition: uniqueness of an input's own quasi-identifiers plus the attribute, minus
  without it.

The main driver is the added attribute with the largest leave-one-out drop (ties: largest
single-addition gain). Measures are those of :class:`~workbench.linkage._codes.RiskHeadline`.

Records: the join is an inner join on the key, one merged row per matching combination
(a person with three clinic visits and one housing application gives three rows), which is what
the merged table would hold. Records with a missing key never join.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..dataset import as_pandas, check_columns
from ..errors import ParameterError
from ._codes import RiskHeadline, _pack, headline
from .forms import FieldForm, convert

if TYPE_CHECKING:  # pragma: no cover
    from ..governance.catalog import Catalog

__all__ = [
    "AttributeEffect",
    "InputRisk",
    "CombineResult",
    "combine",
    "combine_catalog",
    "attach_demo_key",
    "join_rows",
    "joint_key_codes",
    "DEMO_KEY_NOTE",
]

DEMO_KEY_NOTE = (
    "demo path: the files carry no join key, so the key was attached in memory from the city's "
    "ground truth (an opaque integer code per resident, never written out); real departments "
    "would join on a keyed pseudonym exported with `workbench samples export NAME --pseudonym`"
)


def join_rows(keys: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Inner join of several tables on integer key codes; row positions per table.

    numpy on integer codes: for each left row the matching right rows are a contiguous run of
    the right rows ordered by key. Dense codes (from a joint factorisation, the usual case) are
    bucketed with ``bincount``; sparse codes fall back to sort-and-search. ``-1`` never joins.
    """
    if not keys:
        return []
    rows = [np.flatnonzero(keys[0] >= 0)]
    current = keys[0][rows[0]]
    for k in keys[1:]:
        valid = np.flatnonzero(k >= 0)
        kv = k[valid]
        top = int(max(kv.max(initial=-1), current.max(initial=-1))) + 1
        if top <= 4 * (len(k) + len(current)) + 16:  # dense: counting sort
            counts = np.bincount(kv, minlength=top)
            starts = np.cumsum(counts) - counts
            order = valid[np.argsort(kv, kind="stable")]
            lo = starts[current]
            cnt = counts[current]
        else:
            order = valid[np.argsort(kv, kind="stable")]
            ks = k[order]
            lo = np.searchsorted(ks, current, side="left")
            cnt = np.searchsorted(ks, current, side="right") - lo
        total = int(cnt.sum())
        left_rep = np.repeat(np.arange(len(current)), cnt)
        offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        right = order[np.repeat(lo, cnt) + offs]
        rows = [r[left_rep] for r in rows] + [right]
        current = current[left_rep]
    return rows


def joint_key_codes(columns: Sequence[pd.Series]) -> list[np.ndarray]:
    """Dense int64 codes of a join key across tables (equal values, equal codes; missing -1)."""

    def text(c: pd.Series) -> pd.Series:
        return (
            c if pd.api.types.is_string_dtype(c.dtype) and c.dtype != object else c.astype("string")
        )

    both = pd.concat([text(c) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(both, use_na_sentinel=True)
    out, start = [], 0
    for c in columns:
        out.append(codes[start : start + len(c)].astype(np.int64))
        start += len(c)
    return out


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Factorised codes with missing as its own category (the risk engine's default)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.where(codes < 0, len(uniques), codes).astype(np.int64), len(uniques) + 1


@dataclass(frozen=True)
class AttributeEffect:
    """How much one quasi-identifier of the merged table contributes to its risk."""

    attribute: str
    dataset: str
    column: str
    leave_one_out_uniqueness_drop: float
    leave_one_out_at_risk_drop: float
    gain_over: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "dataset": self.dataset,
            "column": self.column,
            "leave_one_out_uniqueness_drop": self.leave_one_out_uniqueness_drop,
            "leave_one_out_at_risk_drop": self.leave_one_out_at_risk_drop,
            "uniqueness_gain_over": dict(self.gain_over),
        }


@dataclass(frozen=True)
class InputRisk:
    """One input table: its own risk, and the same QIs measured on the joined records."""

    name: str
    qis: tuple[str, ...]
    risk: RiskHeadline
    on_joined: RiskHeadline

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "qis": list(self.qis),
            "risk": self.risk.to_dict(),
            "on_joined_records": self.on_joined.to_dict(),
        }


@dataclass(frozen=True, eq=False)
class CombineResult:
    """Risk of the merged table next to each input's, with the delta and its drivers.

    ``delta[name]`` is the merged table minus the input's own QIs measured on the same joined
    records (what the join adds), for uniqueness, records at risk and average risk;
    ``delta_vs_inputs`` compares with the input tables as they stand. ``profile`` is the full :class:`~workbench.risk.RiskProfile` of the
    merged table when requested.
    """

    datasets: tuple[str, ...]
    key: str
    joined_records: int
    qis: tuple[str, ...]
    inputs: tuple[InputRisk, ...]
    combined: RiskHeadline
    effects: tuple[AttributeEffect, ...]
    main_driver: str | None
    key_source: str = "column"
    sensitive: tuple[str, ...] = ()
    profile: Any = field(default=None, repr=False)

    def _delta(self, attr: str) -> dict[str, dict[str, float]]:
        out = {}
        for inp in self.inputs:
            base = getattr(inp, attr)
            out[inp.name] = {
                "uniqueness": self.combined.uniqueness - base.uniqueness,
                "records_at_risk": self.combined.records_at_risk - base.records_at_risk,
                "average_risk": self.combined.average_risk - base.average_risk,
            }
        return out

    @property
    def delta(self) -> dict[str, dict[str, float]]:
        """Merged minus each input's QIs on the same (joined) records: the join's own effect."""
        return self._delta("on_joined")

    @property
    def delta_vs_inputs(self) -> dict[str, dict[str, float]]:
        """Merged minus each input table as it stands (different record sets)."""
        return self._delta("risk")

    def to_dict(self) -> dict[str, Any]:
        """The ``workbench combine --json`` document."""
        out = {
            "datasets": list(self.datasets),
            "key": self.key,
            "key_source": self.key_source,
            "joined_records": self.joined_records,
            "qis": list(self.qis),
            "sensitive": list(self.sensitive),
            "inputs": [i.to_dict() for i in self.inputs],
            "combined": self.combined.to_dict(),
            "delta": self.delta,
            "delta_vs_inputs": self.delta_vs_inputs,
            "main_driver": self.main_driver,
            "drivers": [e.to_dict() for e in self.effects],
        }
        if self.profile is not None and hasattr(self.profile, "to_dict"):
            out["profile"] = self.profile.to_dict()
        return out


class _Table:
    """One input: its frame, key codes and cached per-column codes (by release form)."""

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        qis: Sequence[str],
        forms: Mapping[str, FieldForm] | None = None,
    ) -> None:
        self.name = name
        self.frame = frame
        self.qis = tuple(qis)
        self.forms = dict(forms or {})
        self._codes: dict[tuple, tuple[np.ndarray, int]] = {}
        self._fact: dict[str, tuple[np.ndarray, Any]] = {}

    def factorized(self, column: str) -> tuple[np.ndarray, Any]:
        """``pd.factorize`` of a raw column (missing -> -1), computed once."""
        if column not in self._fact:
            self._fact[column] = pd.factorize(self.frame[column], use_na_sentinel=True)
        return self._fact[column]

    def per_value(
        self, column: str, target: FieldForm, reference_date: date | None
    ) -> tuple[np.ndarray, pd.Series]:
        """(raw codes, ``target`` form of each distinct raw value)."""
        raw, uniques = self.factorized(column)
        conv = convert(pd.Series(uniques), self.forms[column], target, reference_date)
        return raw, conv

    def codes(
        self, column: str, target: FieldForm | None = None, reference_date: date | None = None
    ) -> tuple[np.ndarray, int]:
        """Codes of a column in the ``target`` release form; missing is a category."""
        tkey = None if target is None else (target.form, tuple(target.params.get("cuts", ())))
        k = (column, tkey)
        if k not in self._codes:
            raw, uniques = self.factorized(column)
            if target is None:
                lut = np.append(np.arange(len(uniques), dtype=np.int64), len(uniques))
                card = len(uniques) + 1
            else:
                _, conv = self.per_value(column, target, reference_date)
                vcodes, vuniq = pd.factorize(conv, use_na_sentinel=True)
                m = len(vuniq)
                lut = np.append(np.where(vcodes < 0, m, vcodes), m).astype(np.int64)
                card = m + 1
            self._codes[k] = (lut[raw], card)
        return self._codes[k]


def _headline_from(
    cols: Sequence[tuple[np.ndarray, int]], n: int, threshold: float
) -> RiskHeadline:
    key = (
        _pack([c for c, _ in cols], [k for _, k in cols], n)
        if cols
        else np.zeros(n, dtype=np.int64)
    )
    return headline(pd.DataFrame(index=range(0)), [], threshold, keys=key)


def combine(
    datasets: Mapping[str, Any],
    key: str,
    qis: Mapping[str, Sequence[str]],
    sensitive: Mapping[str, Sequence[str]] | None = None,
    threshold: float = 0.2,
    profile: bool = False,
    key_source: str = "column",
) -> CombineResult:
    """Risk of joining ``datasets`` on ``key``, next to each input's own risk.

    Parameters
    ----------
    datasets : mapping name -> Dataset / frame
        Two or more tables holding ``key``.
    key : str
        Join key column present in every table (a shared pseudonym).
    qis : mapping name -> columns
        Each table's quasi-identifiers; the merged table has their union, named
        ``dataset.column``.
    sensitive : mapping name -> columns, optional
        Sensitive attributes carried into the merged table (listed; used by ``profile``).
    threshold : float
        Records-at-risk threshold on ``1 / f_k``.
    profile : bool
        Also compute the full :func:`workbench.risk.assess` profile of the merged table.
    """
    if len(datasets) < 2:
        raise ParameterError("datasets", list(datasets), "at least two datasets to combine")
    if not 0 < threshold <= 1:
        raise ParameterError("threshold", threshold, "a risk threshold in (0, 1]")
    frames = {n: as_pandas(d) for n, d in datasets.items()}
    for n, df in frames.items():
        src = getattr(datasets[n], "source", None) or n
        check_columns(df, [key], src)
        check_columns(df, list(qis.get(n, ())), src)
    tables = {n: _Table(n, frames[n], qis.get(n, ())) for n in frames}
    rows = join_rows(joint_key_codes([frames[n][key] for n in frames]))
    return _combine_tables(tables, rows, key, sensitive or {}, threshold, profile, key_source)


def _combine_tables(
    tables: Mapping[str, _Table],
    rows: Sequence[np.ndarray],
    key: str,
    sensitive: Mapping[str, Sequence[str]],
    threshold: float,
    profile: bool,
    key_source: str,
    release: Mapping[str, FieldForm] | None = None,
    reference_date: date | None = None,
    effects: bool = True,
) -> CombineResult:
    names = list(tables)
    n_joined = len(rows[0]) if rows else 0
    attrs: list[tuple[str, str, str]] = [(n, c, f"{n}.{c}") for n in names for c in tables[n].qis]

    def col_codes(n: str, c: str) -> tuple[np.ndarray, int]:
        t = tables[n]
        target = None
        if release and c in t.forms and t.forms[c].fact in release:
            from .harmonize import coarsen_form

            target = coarsen_form(t.forms[c], release[t.forms[c].fact])
        return t.codes(c, target, reference_date)

    joined_cols = {}
    for i, n in enumerate(names):
        for c in tables[n].qis:
            codes, card = col_codes(n, c)
            joined_cols[f"{n}.{c}"] = (codes[rows[i]], card)
    combined = _headline_from(list(joined_cols.values()), n_joined, threshold)
    if not effects:  # the matrix's scenarios need only the merged headline
        return CombineResult(
            tuple(names), key, n_joined, tuple(joined_cols), (), combined, (), None, key_source
        )
    inputs = []
    for n in names:
        t = tables[n]
        own = [col_codes(n, c) for c in t.qis]
        inputs.append(
            InputRisk(
                n,
                t.qis,
                _headline_from(own, len(t.frame), threshold),
                _headline_from([joined_cols[f"{n}.{c}"] for c in t.qis], n_joined, threshold),
            )
        )
    eff: list[AttributeEffect] = []
    main = None
    if n_joined:
        base_inputs = {inp.name: inp for inp in inputs}
        for n, c, label in attrs:
            rest = [v for k, v in joined_cols.items() if k != label]
            loo = _headline_from(rest, n_joined, threshold)
            gains = {}
            for other in names:
                if other == n:
                    continue
                with_it = [joined_cols[f"{other}.{oc}"] for oc in tables[other].qis]
                with_it.append(joined_cols[label])
                gains[other] = (
                    _headline_from(with_it, n_joined, threshold).uniqueness
                    - base_inputs[other].on_joined.uniqueness
                )
            eff.append(
                AttributeEffect(
                    label,
                    n,
                    c,
                    combined.uniqueness - loo.uniqueness,
                    combined.records_at_risk - loo.records_at_risk,
                    gains,
                )
            )
        eff.sort(
            key=lambda e: (
                -e.leave_one_out_uniqueness_drop,
                -max(e.gain_over.values(), default=0.0),
                e.attribute,
            )
        )
        main = (
            eff[0].attribute
            if eff
            and (
                eff[0].leave_one_out_uniqueness_drop > 0
                or max(eff[0].gain_over.values(), default=0) > 0
            )
            else None
        )
    prof = None
    if profile:
        from ..risk import assess

        merged = pd.DataFrame({k: v[0] for k, v in joined_cols.items()})
        prof = assess(merged, list(joined_cols), threshold=threshold)
    sens = tuple(f"{n}.{c}" for n in names for c in sensitive.get(n, ()))
    return CombineResult(
        tuple(names),
        key,
        n_joined,
        tuple(joined_cols),
        tuple(inputs),
        combined,
        tuple(eff),
        main,
        key_source,
        sens,
        prof,
    )


# --------------------------------------------------------------------------- catalogs


def attach_demo_key(
    catalog: Catalog, name: str, frame: pd.DataFrame, key: str = "person_key"
) -> pd.DataFrame:
    """Add ``key`` in memory from the record-to-person table the catalog declares.

    Delegates to :meth:`workbench.governance.catalog.Catalog.attach_join_key` (the catalog's ``join_key``
    says where the table is; the synthetic city declares its ground truth).
    """
    return catalog.attach_join_key(name, frame, key)


def combine_catalog(
    catalog: Catalog,
    names: Sequence[str],
    key: str = "person_key",
    threshold: float = 0.2,
    profile: bool = False,
) -> CombineResult:
    """:func:`combine` for catalog datasets, QIs and sensitive attributes from their roles.

    If a dataset has no ``key`` column and the catalog is the synthetic city, the key is
    attached in memory from the ground truth (:func:`attach_demo_key`, the demo path).
    """
    if len(names) < 2:
        raise ParameterError("datasets", list(names), "at least two catalog datasets")
    frames, qis, sens = {}, {}, {}
    demo = False
    for n in names:
        entry = catalog.entry(n)
        df = catalog.load_dataset(n).to_pandas()
        if key not in df.columns:
            df = attach_demo_key(catalog, n, df, key)
            demo = True
        frames[n] = df
        qis[n] = entry.quasi_identifiers
        sens[n] = entry.sensitive
    return combine(
        frames, key, qis, sens, threshold, profile, key_source=DEMO_KEY_NOTE if demo else "column"
    )
