"""The privacy-loss ledger: one signed, append-only file per population.

Differential privacy makes cumulative risk a number: every release about the residents of the city
spends part of one budget, whichever department publishes it. The ledger is a
:class:`~workbench.governance.provenance.ProvenanceLog` (hash-chained JSON Lines, signed when the
log signs its records), so an edited or removed charge is detected by
``workbench provenance verify``; a ledger whose chain is broken admits no release (fail closed).

Records (``operation``):

``dp-ledger-open``
    population, budget (epsilon, delta) and where it came from, the accounting used.
``dp-budget-lower``
    a newly harmonized (smaller) budget; a budget is never raised.
``dp-charge``
    one release: its charge (``rho``, ``delta``; its own epsilon), the datasets, departments,
    statistics, privacy unit and contribution bound. Never a value or the noise.
``dp-exposure``
    a non-DP release of the same population (k-anonymous extract, linkage result, synthetic
    data) with its risk figures, so an officer sees the whole exposure in one place.

Check-and-charge is atomic: :meth:`Ledger.charge` holds an exclusive lock on a sibling
``.charge.lock`` file while it reads the ledger, checks the budget and appends the charge (the
log's own ``append`` takes the log's lock inside, and ``flock`` is not re-entrant across file
descriptions, hence a second lock file rather than the log's).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import BudgetExceededError, ParameterError, ProvenanceError
from ..governance.provenance import ProvenanceLog, verify_log
from ._accounting import Charge, PrivacyTotal, total

__all__ = ["Budget", "Ledger", "LedgerEntry", "LedgerState", "Exposure", "ACCOUNTING"]

#: The one accounting every ledger states.
ACCOUNTING = (
    "approximate zero-concentrated DP (rho, delta); pure-epsilon charges converted as "
    "rho = epsilon^2/2 by OpenDP; totals reported as (epsilon, delta)-DP at the budget's delta by "
    "OpenDP's zCDP conversion, or by basic composition of each release's own (epsilon, delta) "
    "when that is smaller"
)

_MAX_LEDGER_BYTES = 64 << 20  # a ledger is small; anything larger is not one


@dataclass(frozen=True)
class Budget:
    """A privacy-loss budget: total (epsilon, delta)-DP allowed for one population."""

    epsilon: float
    delta: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.epsilon, int | float) and math.isfinite(self.epsilon)):
            raise ParameterError("budget epsilon", self.epsilon, "a finite number > 0")
        if self.epsilon <= 0:
            raise ParameterError("budget epsilon", self.epsilon, "a number > 0")
        if not (0 <= self.delta < 1):
            raise ParameterError("budget delta", self.delta, "a number in [0, 1)")
        if self.epsilon > 10:
            warnings.warn(
                f"a privacy budget of epsilon = {self.epsilon} protects almost nobody: "
                "published deployments use epsilon of at most a few units",
                UserWarning,
                stacklevel=3,
            )

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"EPSILON"`` or ``"EPSILON,DELTA"`` (the CLI's ``--budget``)."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            if len(parts) == 1:
                return cls(float(parts[0]))
            if len(parts) == 2:
                return cls(float(parts[0]), float(parts[1]))
        except ValueError:
            pass
        raise ParameterError("--budget", text, "EPSILON or EPSILON,DELTA, e.g. 1.0,1e-6")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Budget:
        try:
            return cls(float(d["epsilon"]), float(d.get("delta", 0.0) or 0.0))
        except (KeyError, TypeError, ValueError):
            raise ParameterError("budget", "malformed", "{epsilon: > 0, delta: [0, 1)}") from None

    def to_dict(self) -> dict[str, float]:
        return {"epsilon": self.epsilon, "delta": self.delta}

    def min(self, other: Budget | None) -> Budget:
        """The most protective of two budgets (each component at its smaller value)."""
        if other is None:
            return self
        return Budget(min(self.epsilon, other.epsilon), min(self.delta, other.delta))

    def __le__(self, other: Budget) -> bool:
        return self.epsilon <= other.epsilon and self.delta <= other.delta


@dataclass(frozen=True)
class LedgerEntry:
    """One charged release, as recorded (no values, no noise)."""

    seq: int
    timestamp: str
    user: str
    charge: Charge
    datasets: tuple[str, ...]
    departments: tuple[str, ...]
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "timestamp": self.timestamp,
            "user": self.user,
            "charge": self.charge.to_dict(),
            "datasets": list(self.datasets),
            "departments": list(self.departments),
            "description": self.description,
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True)
class Exposure:
    """A non-DP release of the same population, with its risk figures."""

    seq: int
    timestamp: str
    kind: str
    name: str
    risk: Mapping[str, Any]
    datasets: tuple[str, ...]
    departments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "timestamp": self.timestamp,
            "kind": self.kind,
            "name": self.name,
            "risk": dict(self.risk),
            "datasets": list(self.datasets),
            "departments": list(self.departments),
        }


@dataclass(frozen=True)
class LedgerState:
    """What a ledger says now: population, budget, spent, every release and exposure."""

    path: str
    population: str
    budget: Budget
    budget_source: str
    entries: tuple[LedgerEntry, ...]
    exposures: tuple[Exposure, ...]
    spent: PrivacyTotal

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.budget.epsilon - self.spent.epsilon)

    @property
    def exhausted(self) -> bool:
        return self.spent.epsilon >= self.budget.epsilon

    def after(self, charge: Charge) -> PrivacyTotal:
        """The total once ``charge`` is added (nothing is written)."""
        return total([*(e.charge for e in self.entries), charge], self.budget.delta)

    def admits(self, charge: Charge) -> bool:
        """True when ``charge`` keeps the total within the budget (at the limit is allowed)."""
        return self.after(charge).epsilon <= self.budget.epsilon

    def to_dict(self) -> dict[str, Any]:
        departments = sorted({d for e in self.entries for d in e.departments})
        return {
            "ledger": self.path,
            "population": self.population,
            "accounting": ACCOUNTING,
            "budget": {
                **self.budget.to_dict(),
                "source": self.budget_source,
                "remaining_epsilon": self.remaining_epsilon,
            },
            "spent": self.spent.to_dict(),
            "epsilon_spent": self.spent.epsilon,
            "exhausted": self.exhausted,
            "releases": [e.to_dict() for e in self.entries],
            "departments": departments,
            "non_dp_releases": [x.to_dict() for x in self.exposures],
        }


class Ledger:
    """A population's privacy-loss ledger (see the module docstring).

    Parameters
    ----------
    path : path-like
        The ledger file (JSON Lines). It is created by :meth:`open` or the first charge.

    Examples
    --------
    >>> led = Ledger.open("residents.jsonl", "residents", Budget(1.0, 1e-6))  # doctest: +SKIP
    >>> led.state().remaining_epsilon  # doctest: +SKIP
    1.0
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.log = ProvenanceLog(self.path)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def _charge_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".charge.lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ reading
    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def _records(self) -> list[dict[str, Any]]:
        if self.path.is_file() and self.path.stat().st_size > _MAX_LEDGER_BYTES:
            raise ProvenanceError(
                f"{self.path}: larger than {_MAX_LEDGER_BYTES >> 20} MiB; not a privacy ledger"
            )
        result = verify_log(self.log)
        if not result.ok:
            raise ProvenanceError(
                f"{self.path}: the ledger's hash chain is broken "
                f"({'; '.join(i.message for i in result.issues[:3])}); no release "
                "is admitted until it is restored"
            )
        return self.log.records()

    def state(self) -> LedgerState:
        """Read, verify and sum the ledger."""
        return self._state(self._records())

    def _state(self, records: Sequence[Mapping[str, Any]]) -> LedgerState:
        if not records:
            raise ProvenanceError(f"{self.path}: not a privacy ledger (empty or missing)")
        first = records[0]
        if first.get("operation") != "dp-ledger-open":
            raise ProvenanceError(
                f"{self.path}: record 0 is {first.get('operation')!r}, expected 'dp-ledger-open'"
            )
        p = first.get("parameters") or {}
        population = str(p.get("population") or "")
        budget = Budget.from_dict(p.get("budget") or {})
        source = str(p.get("budget_source") or "")
        entries: list[LedgerEntry] = []
        exposures: list[Exposure] = []
        for rec in records[1:]:
            op, params = rec.get("operation"), rec.get("parameters") or {}
            if op == "dp-budget-lower":
                new = Budget.from_dict(params.get("budget") or {})
                budget = budget.min(new)  # a record can never raise it
                source = str(params.get("budget_source") or source)
            elif op == "dp-charge":
                entries.append(
                    LedgerEntry(
                        seq=int(rec["seq"]),
                        timestamp=str(rec.get("timestamp")),
                        user=str(rec.get("user")),
                        charge=Charge.from_dict(params.get("charge") or {}),
                        datasets=tuple(params.get("datasets") or ()),
                        departments=tuple(params.get("departments") or ()),
                        description=str(params.get("description") or ""),
                        parameters=dict(params.get("release") or {}),
                        hash=str(rec.get("hash") or ""),
                    )
                )
            elif op == "dp-exposure":
                exposures.append(
                    Exposure(
                        seq=int(rec["seq"]),
                        timestamp=str(rec.get("timestamp")),
                        kind=str(params.get("kind") or ""),
                        name=str(params.get("name") or ""),
                        risk=dict(params.get("risk") or {}),
                        datasets=tuple(params.get("datasets") or ()),
                        departments=tuple(params.get("departments") or ()),
                    )
                )
            else:
                raise ProvenanceError(
                    f"{self.path}: record {rec.get('seq')} has operation {op!r}, which is not a "
                    "ledger operation"
                )
        spent = total((e.charge for e in entries), budget.delta)
        return LedgerState(
            str(self.path), population, budget, source, tuple(entries), tuple(exposures), spent
        )

    # ------------------------------------------------------------------ writing
    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        population: str,
        budget: Budget | None = None,
        *,
        budget_source: str = "",
        user: str | None = None,
    ) -> Ledger:
        """Open a ledger, creating it with ``budget`` when it does not exist yet.

        On an existing ledger, a ``budget`` lower than the current one lowers it; a higher one
        raises :class:`~workbench.errors.ParameterError` (a budget can only be lowered).
        """
        led = cls(path)
        with led._charge_lock():
            led._prepare(population, budget, budget_source, user, explicit=True)
        return led

    def _prepare(
        self,
        population: str,
        budget: Budget | None,
        budget_source: str,
        user: str | None,
        *,
        explicit: bool,
        write: bool = True,
    ) -> tuple[LedgerState, list[tuple[str, dict[str, Any]]]]:
        """Work out the ledger's header under the caller's lock.

        Returns the state as it will be and the header records still to append (creation, a
        lowered budget). With ``write`` they are appended now; a charge appends them only once it
        is admitted, so a refused release leaves no trace.
        """
        if not population:
            raise ParameterError("population", population, "the population the ledger covers")
        pending: list[tuple[str, dict[str, Any]]] = []
        if not self.exists():
            if budget is None:
                raise ParameterError(
                    "budget",
                    None,
                    "a dp_budget in the datasets' policies, or --budget EPSILON[,DELTA] for a "
                    "new ledger",
                )
            params = {
                "population": population,
                "budget": budget.to_dict(),
                "budget_source": budget_source,
                "accounting": ACCOUNTING,
            }
            pending.append(("dp-ledger-open", params))
            state = self._state([{"operation": "dp-ledger-open", "parameters": params}])
        else:
            state = self.state()
            if state.population != population:
                raise ParameterError(
                    "population",
                    population,
                    f"the ledger's population {state.population!r} (one ledger per population)",
                )
            if budget is not None and explicit and not (budget <= state.budget):
                raise ParameterError(
                    "budget",
                    budget.to_dict(),
                    f"at most the ledger's budget {state.budget.to_dict()}: a budget can only "
                    "be lowered",
                )
            if budget is not None and state.budget.min(budget) != state.budget:
                lowered = state.budget.min(budget)
                params = {"budget": lowered.to_dict(), "budget_source": budget_source}
                pending.append(("dp-budget-lower", params))
                state = replace(
                    state,
                    budget=lowered,
                    budget_source=budget_source,
                    spent=total((e.charge for e in state.entries), lowered.delta),
                )
        if write and pending:
            for op, params in pending:
                self.log.append(op, parameters=params, user=user)
            state, pending = self.state(), []
        return state, pending

    def charge(
        self,
        charge: Charge,
        *,
        population: str,
        budget: Budget | None = None,
        budget_source: str = "",
        explicit_budget: bool = False,
        datasets: Iterable[str] = (),
        departments: Iterable[str] = (),
        description: str = "",
        release: Mapping[str, Any] | None = None,
        inputs: Iterable[Any] = (),
        user: str | None = None,
    ) -> tuple[LedgerEntry, LedgerState]:
        """Check the budget and append ``charge`` in one atomic step.

        ``budget`` is the budget harmonized from the policies involved (or the user's); a lower one
        lowers the ledger's. Raises :class:`~workbench.errors.BudgetExceededError` when the charge
        would take the total past the budget: then nothing is written (not even the ledger's
        creation or the lowered budget) and the ledger is unchanged.
        """
        with self._charge_lock():
            state, pending = self._prepare(
                population, budget, budget_source, user, explicit=explicit_budget, write=False
            )
            after = state.after(charge)
            if after.epsilon > state.budget.epsilon:
                raise BudgetExceededError(
                    f"{self.path}: this release would bring the privacy loss of population "
                    f"{population!r} to epsilon = {after.epsilon:.4g} (delta = "
                    f"{state.budget.delta:g}); the budget is epsilon = "
                    f"{state.budget.epsilon:g} and {state.spent.epsilon:.4g} is already spent. "
                    "Lower --epsilon, release fewer statistics, or ask for a new budget decision.",
                    spent=state.spent.epsilon,
                    budget=state.budget.epsilon,
                    requested=charge.epsilon,
                )
            for op, params in pending:
                self.log.append(op, parameters=params, user=user)
            rec = self.log.append(
                "dp-charge",
                inputs=list(inputs),
                parameters={
                    "charge": charge.to_dict(),
                    "datasets": list(datasets),
                    "departments": list(departments),
                    "description": description,
                    "release": dict(release or {}),
                    "total_after": after.to_dict(),
                },
                user=user,
            )
            new_state = self.state()
        entry = next(e for e in new_state.entries if e.seq == rec["seq"])
        return entry, new_state

    def record_exposure(
        self,
        kind: str,
        name: str,
        risk: Mapping[str, Any],
        *,
        population: str,
        datasets: Iterable[str] = (),
        departments: Iterable[str] = (),
        user: str | None = None,
    ) -> Exposure:
        """List a non-DP release (k-anonymous extract, linkage result...) with its risk figures.

        ``risk`` holds aggregate figures only (for example ``{"k": 5, "records_at_risk": 0.01}``);
        nested values deeper than one level are refused.
        """
        if not kind or not name:
            raise ParameterError("kind/name", (kind, name), "a kind and a name for the release")
        for k, v in risk.items():
            if not (v is None or isinstance(v, bool | int | float | str)):
                raise ParameterError(f"risk[{k!r}]", type(v).__name__, "a number or short text")
            if isinstance(v, str) and len(v) > 200:
                raise ParameterError(f"risk[{k!r}]", "long text", "at most 200 characters")
        with self._charge_lock():
            state = self.state()
            if state.population != population:
                raise ParameterError(
                    "population", population, f"the ledger's population {state.population!r}"
                )
            rec = self.log.append(
                "dp-exposure",
                parameters={
                    "kind": kind,
                    "name": name,
                    "risk": dict(risk),
                    "datasets": list(datasets),
                    "departments": list(departments),
                },
                user=user,
            )
        return next(x for x in self.state().exposures if x.seq == rec["seq"])
