"""An engine observer that keeps what a report needs about one period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from monitor.reporting.period import ReportPeriod


@dataclass(slots=True)
class ItemOutcome:
    """One item clock the engine counted as met or missed inside the period."""

    objective_id: str
    kind: str
    item_id: str
    queue: str | None
    channel: str | None
    started: float
    deadline: float | None
    finished: float | None
    met: bool
    instant: float


@dataclass(slots=True)
class ContractSamples:
    windows: dict[str, list[tuple[float, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    items: dict[str, list[ItemOutcome]] = field(default_factory=lambda: defaultdict(list))
    periods: dict[str, list[tuple[float, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    status_changes: dict[str, list[tuple[float, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    status_before: dict[str, str] = field(default_factory=dict)


class Recorder:
    """Implements :class:`monitor.domain.observer.Observer` for one period per contract.

    Samples of other contracts, and outside ``[period.start, period.end)``, are
    dropped as they arrive, so memory follows the period, not the input. Items
    finished after their breach are matched back to the breach (the engine's
    ``resolved`` effect).
    """

    def __init__(self, periods: dict[str, ReportPeriod]) -> None:
        self.periods = periods
        self.contracts: dict[str, ContractSamples] = {}
        self._open_breaches: dict[tuple[str, str, str, str, float], ItemOutcome] = {}

    def samples(self, contract_id: str) -> ContractSamples:
        found = self.contracts.get(contract_id)
        if found is None:
            found = self.contracts[contract_id] = ContractSamples()
        return found

    def _in_period(self, contract_id: str, instant: float) -> bool:
        period = self.periods.get(contract_id)
        return period is not None and period.start <= instant < period.end

    def window_sample(
        self, contract_id: str, objective_id: str, ts: float, numerator: int, denominator: int
    ) -> None:
        if self._in_period(contract_id, ts):
            self.samples(contract_id).windows[objective_id].append((ts, numerator, denominator))

    def item_decided(
        self,
        contract_id: str,
        objective_id: str,
        kind: str,
        item_id: str,
        queue: str | None,
        channel: str | None,
        started: float,
        deadline: float | None,
        finished: float | None,
        met: bool,
        instant: float,
    ) -> None:
        if not self._in_period(contract_id, instant):
            return
        outcome = ItemOutcome(
            objective_id, kind, item_id, queue, channel, started, deadline, finished, met, instant
        )
        self.samples(contract_id).items[objective_id].append(outcome)
        if not met:
            self._open_breaches[(contract_id, objective_id, kind, item_id, started)] = outcome

    def item_finished(
        self,
        contract_id: str,
        objective_id: str,
        kind: str,
        item_id: str,
        started: float,
        finished: float,
    ) -> None:
        outcome = self._open_breaches.pop((contract_id, objective_id, kind, item_id, started), None)
        if outcome is not None:
            outcome.finished = finished

    def period_sample(
        self, contract_id: str, objective_id: str, minute_start: float, bad: float, total: float
    ) -> None:
        if self._in_period(contract_id, minute_start):
            self.samples(contract_id).periods[objective_id].append((minute_start, bad, total))

    def availability_change(
        self, contract_id: str, objective_id: str, ts: float, status: str
    ) -> None:
        period = self.periods.get(contract_id)
        if period is None:
            return
        samples = self.samples(contract_id)
        if ts < period.start:
            samples.status_before[objective_id] = status
        elif ts < period.end:
            samples.status_changes[objective_id].append((ts, status))
