"""A read-only view of every objective at the watermark, for the live worker's gauges.

:func:`contract_status` is what ``Engine.objective_status()`` returns per contract:
the current SLI, whether the objective has open alerts, how many item clocks are
running or at risk, and for monthly objectives the error budget left and the burn
rates. Everything is derived from the engine's state, so a restored engine reports
the same. It is meant to be called every few seconds, not per event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from monitor.domain.agreement import AvailabilityObjective, ItemObjective, WindowObjective
from monitor.domain.contract import ContractRuntime
from monitor.domain.items import ItemTally
from monitor.domain.periods import (
    FAST_LONG,
    SLOW_LONG,
    PeriodTracker,
    month_key,
    month_of,
)
from monitor.domain.windows import BREACHED as WINDOW_BREACHED

OK: Final = "ok"
AT_RISK: Final = "at_risk"
BREACHED: Final = "breached"


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    """One objective of one contract as of the engine's watermark.

    ``value`` is the SLI now: over the rolling window for window objectives, the
    share of items decided in time so far for item objectives, month to date for
    monthly ones (availability, item objectives with ``period: month``).
    ``status`` comes from the objective's open alerts: ``breached`` while a breach
    is not resolved, else ``at_risk`` while a warning is open, else ``ok``.
    ``budget_remaining`` is the share of this month's error budget left (negative
    once overspent); the burn rates are the 1 h and 6 h error rates over the budget
    (1.0 spends the budget exactly by the end of the month).
    """

    contract_id: str
    objective_id: str
    kind: str
    value: float | None
    target: float
    comparator: str
    status: str
    open_items: int
    at_risk_items: int
    breaches: int
    budget_remaining: float | None
    burn_rate_fast: float | None
    burn_rate_slow: float | None


@dataclass(frozen=True, slots=True)
class _Budget:
    value: float | None
    remaining: float | None
    fast: float | None
    slow: float | None
    state: str


_NO_BUDGET: Final = _Budget(None, None, None, None, OK)


def contract_status(contract: ContractRuntime, watermark: float) -> list[ObjectiveStatus]:
    contract.settle_periods()
    tallies = contract.items.tallies(watermark)
    statuses: list[ObjectiveStatus] = []
    for objective in contract.agreement.objectives:
        if isinstance(objective, WindowObjective):
            statuses.append(_window(contract, objective))
        elif isinstance(objective, ItemObjective):
            statuses.append(_item(contract, objective, tallies[objective.id], watermark))
        elif isinstance(objective, AvailabilityObjective):
            statuses.append(_availability(contract, objective, watermark))
    return statuses


def _window(contract: ContractRuntime, objective: WindowObjective) -> ObjectiveStatus:
    tracker = contract.windows[objective.id]
    return ObjectiveStatus(
        contract_id=contract.contract_id,
        objective_id=objective.id,
        kind=objective.kind,
        value=tracker.value,
        target=objective.target.value,
        comparator=objective.target.comparator,
        status=BREACHED if tracker.status == WINDOW_BREACHED else OK,
        open_items=0,
        at_risk_items=0,
        breaches=tracker.breaches,
        budget_remaining=None,
        burn_rate_fast=None,
        burn_rate_slow=None,
    )


def _item(
    contract: ContractRuntime, objective: ItemObjective, tally: ItemTally, watermark: float
) -> ObjectiveStatus:
    stats = contract.items.stats[objective.id]
    met, missed = stats.met, stats.missed
    decided = met + missed
    tracker = contract.compliance.get(objective.id)
    budget = _NO_BUDGET if tracker is None else _budget(tracker, watermark)
    value = met / decided if decided else None
    if tracker is not None:
        value = budget.value
    if tally.open_breaches or budget.state == BREACHED:
        status = BREACHED
    elif tally.open_warnings or budget.state == AT_RISK:
        status = AT_RISK
    else:
        status = OK
    target = objective.target
    return ObjectiveStatus(
        contract_id=contract.contract_id,
        objective_id=objective.id,
        kind=objective.kind,
        value=value,
        target=1.0 if target is None else target.value,
        comparator=">=" if target is None else target.comparator,
        status=status,
        open_items=tally.open,
        at_risk_items=tally.at_risk,
        breaches=missed,
        budget_remaining=budget.remaining,
        burn_rate_fast=budget.fast,
        burn_rate_slow=budget.slow,
    )


def _availability(
    contract: ContractRuntime, objective: AvailabilityObjective, watermark: float
) -> ObjectiveStatus:
    tracker = next(t for t in contract.availability[objective.service] if t.objective is objective)
    budget = _budget(tracker, watermark)
    return ObjectiveStatus(
        contract_id=contract.contract_id,
        objective_id=objective.id,
        kind=objective.kind,
        value=budget.value,
        target=objective.target.value,
        comparator=objective.target.comparator,
        status=budget.state,
        open_items=0,
        at_risk_items=0,
        breaches=tracker.breaches,
        budget_remaining=budget.remaining,
        burn_rate_fast=budget.fast,
        burn_rate_slow=budget.slow,
    )


def _budget(tracker: PeriodTracker, watermark: float) -> _Budget:
    """Month to date at the watermark's month, the budget left and the burn rates."""
    state = tracker.alert_state if tracker.alert_state in (AT_RISK, BREACHED) else OK
    if not math.isfinite(watermark) or tracker.next_minute is None:
        return _Budget(None, None, None, None, state)
    year, month = month_of(tracker.timezone, watermark)
    key = month_key(year, month)
    bad, total = tracker.months.get(key, (0.0, 0.0))
    expected = tracker.expected_total(year, month, total)
    allowed = tracker.budget * expected
    remaining = 1.0 - bad / allowed if allowed > 0 else 1.0
    burn = tracker.burn
    return _Budget(
        value=tracker.month_value(key),
        remaining=remaining,
        fast=burn.error_rate(FAST_LONG) / tracker.budget,
        slow=burn.error_rate(SLOW_LONG) / tracker.budget,
        state=state,
    )
