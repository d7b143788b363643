"""What every objective reports: its status at the watermark and its report entry.

``Engine.objective_status()`` returns one :class:`ObjectiveStatus` per objective (the
current SLI, whether the objective has open alerts, how many item clocks are running
or at risk, and for monthly objectives the error budget left and the burn rates); the
report has one :func:`report_entry` per objective. Each tracker builds its own from
its state, so a restored engine reports the same; :class:`ObjectiveTracker` is what
every kind of tracker answers. Status is meant to be read every few seconds, not per
event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from monitor.domain.agreement import Objective

OK: Final = "ok"
AT_RISK: Final = "at_risk"
BREACHED: Final = "breached"


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    """One objective of one contract as of the engine's watermark.

    ``value`` is the SLI now: over the rolling window for window objectives, the
    share of items decided in time so far for item objectives, month to date for
    monthly ones (availability, item and contact objectives with ``period: month``).
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


class ObjectiveTracker(Protocol):
    """What every objective's tracker answers, whatever its kind."""

    @property
    def objective(self) -> Objective: ...

    def objective_status(self, watermark: float) -> ObjectiveStatus: ...

    def report(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Budget:
    """A monthly objective at the watermark: month to date, budget left, burn rates."""

    value: float | None
    remaining: float | None
    fast: float | None
    slow: float | None


NO_BUDGET: Final = Budget(None, None, None, None)


def report_entry(
    kind: str,
    value: float | None,
    target: float,
    comparator: str,
    met: bool | None,
    samples: int,
    breaches: int,
) -> dict[str, Any]:
    """One objective in the report: its SLI over the whole input against its target."""
    return {
        "kind": kind,
        "value": None if value is None else round(value, 6),
        "target": target,
        "comparator": comparator,
        "met": met,
        "samples": samples,
        "breaches": breaches,
    }
