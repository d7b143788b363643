"""Monthly targets of contact objectives: "80 % of calls answered within 20 s, monthly".

A service level, speed of answer, wait, handle time, abandonment or satisfaction
objective with ``period: month`` takes the same per-contact contributions as its
rolling-window sibling (:func:`monitor.domain.windows.call_contribution`), but sums
them per calendar month in the contract's time zone. The months, the pace
projection, the error budget and the multi-window burn-rate alerts are those of
the item compliance targets (:class:`monitor.domain.periods.ComplianceTracker`);
this tracker only says what a contact spends of the budget:

=============================  =====================================  ===========
target                         bad amount per contact                 budget
=============================  =====================================  ===========
``>= x`` (service level, CSAT)  1 if it misses (``den - num``)          ``1 - x``
``<= x`` (abandonment)         1 if abandoned (``num``)               ``x``
``<= Ns`` (ASA, wait, handle)  its seconds (``num``, in ms)           ``N`` s
=============================  =====================================  ===========

So the month's value is the objective's usual SLI over the month's contacts, and a
burn rate of 1.0 spends the budget exactly by the end of the month: for an average,
an hour at twice the target average burns at 2.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, Protocol

from monitor.domain.agreement import Match, WindowObjective
from monitor.domain.periods import MINUTE, ComplianceTracker, PeriodTracker
from monitor.domain.status import ObjectiveStatus, report_entry
from monitor.domain.windows import Contribution

_MS_PER_SECOND: Final = 1000.0


class ContactCounter(Protocol):
    """What the contact records and surveys feed: a window or a monthly tracker."""

    @property
    def objective(self) -> WindowObjective: ...

    @property
    def selects_all(self) -> bool: ...

    def selects(self, queue: str | None, attributes: dict[str, str]) -> bool: ...

    def add(self, ts: float, contribution: Contribution) -> bool: ...


def _no_settling(tracker: PeriodTracker) -> None:
    return None


class ContactMonthTracker(ComplianceTracker):
    """One contact objective with ``period: month`` of one contract."""

    kind = "contact_month"

    def __init__(
        self,
        contract_id: str,
        objective: WindowObjective,
        timezone: str,
        labels: dict[str, str],
        settle: Callable[[PeriodTracker], None] = _no_settling,
    ) -> None:
        super().__init__(contract_id, objective, timezone, labels, objective.min_volume)
        self._objective = objective
        self._match: Match = objective.match
        self.selects_all = objective.match.queue is None and not objective.match.attributes
        self._higher_is_better = objective.target.higher_is_better
        # contributions in ms for averages, so the sums stay whole (and exact)
        self._scale = _MS_PER_SECOND if objective.target.unit == "seconds" else 1.0
        # the owner settles its skipped quiet minutes before any write (MonthlyTrackers)
        self._settle = settle

    @property
    def objective(self) -> WindowObjective:
        return self._objective

    @property
    def budget(self) -> float:
        """The bad amount one contact may spend on average."""
        if self._higher_is_better:
            return max(1e-9, 1.0 - self.target.value)
        return max(1e-9, self.target.value * self._scale)

    def selects(self, queue: str | None, attributes: dict[str, str]) -> bool:
        """Whether a contact or survey of this queue and attributes counts here."""
        match = self._match
        if match.queue is not None and queue not in match.queue:
            return False
        return all(attributes.get(name) in allowed for name, allowed in match.attributes)

    def add(self, ts: float, contribution: Contribution) -> bool:
        """Count one contact (or survey) in the month of ``ts``.

        Like an item decided late, a contact counted after its minute was accounted
        goes into the first minute not yet accounted.
        """
        self._settle(self)
        num, den = contribution
        if self.observer is not None:
            self.observer.window_sample(self.contract_id, self.objective_id, ts, num, den)
        minute = math.floor(ts // MINUTE)
        if self.next_minute is not None:
            minute = max(minute, self.next_minute)
        self.quiet_until = min(self.quiet_until, minute)
        pair = self.pending.setdefault(minute, [0.0, 0.0])
        pair[0] += den - num if self._higher_is_better else num
        pair[1] += den
        return True

    # -- values --------------------------------------------------------------------

    def _value(self, bad: float, total: float) -> float | None:
        if total <= 0:
            return None
        if self._higher_is_better:
            return 1.0 - bad / total
        return bad / total / self._scale

    def month_value(self, key: str) -> float | None:
        bad, total = self.months.get(key, (0.0, 0.0))
        return self._value(bad, total)

    def projected_value(self, key: str, until: float | None = None) -> float | None:
        """The month's value if the contacts still to come spend nothing of the budget."""
        bad, total = self.months.get(key, (0.0, 0.0))
        year, month = (int(part) for part in key.split("-"))
        return self._value(bad, self.expected_total(year, month, total, until))

    def show_value(self, value: float | None) -> str:
        if value is None or self._scale == 1.0:
            return super().show_value(value)
        return f"{value:.1f}s"

    # -- views ---------------------------------------------------------------------

    def objective_status(self, watermark: float) -> ObjectiveStatus:
        return self.month_status(self._objective.kind, watermark)

    def report(self) -> dict[str, Any]:
        """The SLI over every contact counted, and each month's value and projection."""
        target = self._objective.target
        bad, total = self.overall
        value = self._value(bad, total)
        entry = report_entry(
            self._objective.kind,
            value,
            target.value,
            target.comparator,
            None if value is None else target.met(value),
            int(total),
            self.breaches,
        )
        entry["months"] = self.months_report()
        return entry
