"""The SLA engine: events and watermarks in, alerts out. Pure and splittable.

One :class:`Engine` holds the state of a set of contracts (in the stream: the
contracts of one partition). ``apply(event)`` applies an event and advances the
watermark to ``max event time - lateness``; ``advance(watermark)`` moves event
time forward without an event, which is how deadlines fire when nothing arrives.
With ``auto_advance=False`` the caller owns the watermark: ``apply`` only
records the event time and only ``advance`` moves event time (the stream does
this to hold the watermark at the slowest of several inputs).
``snapshot()`` returns plain JSON-ready data and ``Engine.restore`` rebuilds an
engine from it: running a stream in one pass or in two halves with a snapshot in
between gives the same alerts.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert
from monitor.domain.contract import ContractRuntime
from monitor.domain.errors import StateError
from monitor.domain.events import Event
from monitor.domain.lateness import DEFAULT_LATENESS as DEFAULT_LATENESS
from monitor.domain.status import ObjectiveStatus
from monitor.domain.topcounts import TopCounter

STATE_VERSION: Final = 1
DEFAULT_DEDUP_HORIZON: Final = 86400.0
_HOUR: Final = 3600


class Outcome(enum.StrEnum):
    """What became of one event handed to :meth:`Engine.apply`."""

    APPLIED = "applied"
    LATE = "late"  # behind the watermark but inside the dedup horizon: applied all the same
    TOO_LATE = "too_late"  # behind the dedup horizon: ignored
    DUPLICATE = "duplicate"  # its event_id was seen: ignored
    UNKNOWN_CONTRACT = "unknown_contract"  # no agreement defines its contract: ignored


@dataclass(frozen=True, slots=True)
class Applied:
    """The one result of :meth:`Engine.apply`: the event's outcome and the alerts it caused.

    A late event can settle an item at once, so every outcome that applies the event
    (``APPLIED``, ``LATE``) may carry alerts; the callers publish them all.
    """

    outcome: Outcome
    alerts: Sequence[Alert] = ()


_DUPLICATE: Final = Applied(Outcome.DUPLICATE)
_TOO_LATE: Final = Applied(Outcome.TOO_LATE)
_UNKNOWN_CONTRACT: Final = Applied(Outcome.UNKNOWN_CONTRACT)


class Counters:
    __slots__ = ("duplicates", "late", "too_late", "total", "unknown_contract")

    def __init__(self) -> None:
        self.total = 0
        self.duplicates = 0
        self.late = 0
        self.too_late = 0
        self.unknown_contract = 0

    def to_state(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def load_state(self, state: dict[str, int]) -> None:
        for name in self.__slots__:
            setattr(self, name, state.get(name, 0))


class Engine:
    def __init__(
        self,
        agreements: Sequence[Agreement],
        *,
        lateness: float = DEFAULT_LATENESS,
        dedup_horizon: float = DEFAULT_DEDUP_HORIZON,
        auto_advance: bool = True,
    ) -> None:
        self.lateness = lateness
        self.auto_advance = auto_advance
        self.dedup_horizon = max(dedup_horizon, lateness)
        self.contracts = {a.contract_id: ContractRuntime(a) for a in agreements}
        self.watermark: float = -math.inf
        self.max_event_time: float = -math.inf
        self.counters = Counters()
        self.unknown_contracts = TopCounter()  # bounded: a flood of ids must not grow memory
        self._seen: set[str] = set()  # the ids of _seen_by_hour, for the duplicate test
        self._seen_by_hour: dict[int, list[str]] = {}
        self._next_cleanup_hour: int | None = None
        self._due_head = math.inf  # derived: _earliest_due(), kept current on every push
        self._minute_end = -math.inf  # derived: the minute boundary after the watermark

    # -- the two ways in ----------------------------------------------------------

    def apply(self, event: Event) -> Applied:
        """Apply one event, then advance the watermark; returns its outcome and alerts."""
        ts = event.epoch
        fields = event.fields
        counters = self.counters
        counters.total += 1
        event_id = fields["event_id"]
        if event_id in self._seen:
            counters.duplicates += 1
            return _DUPLICATE
        contract_id = fields["contract_id"]
        contract = self.contracts.get(contract_id)
        if contract is None:
            counters.unknown_contract += 1
            self.unknown_contracts.add(contract_id)
            return _UNKNOWN_CONTRACT
        outcome = Outcome.APPLIED
        if ts < self.watermark:
            counters.late += 1
            if ts < self.watermark - self.dedup_horizon:
                counters.too_late += 1
                return _TOO_LATE
            outcome = Outcome.LATE
        hour = math.floor(ts // _HOUR)
        self._seen.add(event_id)
        bucket = self._seen_by_hour.get(hour)
        if bucket is None:
            self._seen_by_hour[hour] = [event_id]
        else:
            bucket.append(event_id)
        if ts < contract.earliest:
            contract.start_earlier(ts)
        # a late event may settle an item at once
        alerts = contract.handlers[fields["type"]](fields, ts, self.watermark)
        due = contract.due
        if due and due[0][0] < self._due_head:
            self._due_head = due[0][0]
        if ts > self.max_event_time:
            self.max_event_time = ts
            if self.auto_advance:
                watermark = ts - self.lateness
                if watermark > self.watermark:
                    if watermark < self._minute_end and self._due_head >= watermark:
                        self.watermark = watermark  # same minute, nothing due: no pass needed
                    else:
                        alerts.extend(self.advance(watermark))
        return Applied(outcome, alerts)

    def advance(self, watermark: float) -> list[Alert]:
        """Move event time forward to ``watermark``: fire what became due."""
        previous = self.watermark
        if watermark <= previous:
            return []
        self.watermark = watermark
        self._minute_end = (watermark // 60 + 1) * 60
        if not self._anything_due(previous, watermark):
            return []
        alerts: list[Alert] = []
        minute = math.floor(watermark // 60)
        head = math.inf  # _earliest_due(), gathered on the way
        for contract in self.contracts.values():
            due = contract.due
            if contract.trackers_minute != minute or (due and due[0][0] < watermark):
                contract.advance(watermark, alerts)
                due = contract.due
            if due and due[0][0] < head:
                head = due[0][0]
        self._due_head = head
        if self._next_cleanup_hour is None or watermark // _HOUR >= self._next_cleanup_hour:
            self._cleanup(watermark)
        if len(alerts) > 1:
            alerts.sort(key=Alert.sort_key)
        return alerts

    def _anything_due(self, previous: float, watermark: float) -> bool:
        """Windows and months move on minute boundaries, items at their due instants."""
        if math.isinf(previous) or watermark // 60 != previous // 60:
            return True
        return self._due_head < watermark

    def _earliest_due(self) -> float:
        """The earliest head of the contracts' due heaps (stale entries included)."""
        return min((c.due[0][0] for c in self.contracts.values() if c.due), default=math.inf)

    def apply_all(self, events: Iterable[Event]) -> list[Alert]:
        alerts: list[Alert] = []
        for event in events:
            alerts.extend(self.apply(event).alerts)
        return alerts

    # -- views -------------------------------------------------------------------

    def objective_status(self) -> list[ObjectiveStatus]:
        """Every objective of every contract at the watermark (for gauges; not per event)."""
        return [
            status
            for contract in self.contracts.values()
            for status in contract.objective_status(self.watermark)
        ]

    # -- housekeeping ------------------------------------------------------------

    def _cleanup(self, watermark: float) -> None:
        """Forget what is older than the horizons; once an hour (``advance`` checks)."""
        self._next_cleanup_hour = int(watermark // _HOUR) + 1
        horizon = watermark - self.dedup_horizon
        oldest_kept = int(horizon // _HOUR)
        for old in [h for h in self._seen_by_hour if h < oldest_kept]:
            self._seen.difference_update(self._seen_by_hour.pop(old))
        for contract in self.contracts.values():
            contract.cleanup(watermark, horizon)

    # -- state -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "lateness": self.lateness,
            "watermark": _finite(self.watermark),
            "max_event_time": _finite(self.max_event_time),
            "counters": self.counters.to_state(),
            "unknown_contracts": self.unknown_contracts.to_state(),
            "seen": [[h, list(ids)] for h, ids in sorted(self._seen_by_hour.items())],
            "next_cleanup_hour": self._next_cleanup_hour,
            "contracts": {cid: c.to_state() for cid, c in self.contracts.items()},
        }

    @classmethod
    def restore(
        cls,
        agreements: Sequence[Agreement],
        state: dict[str, Any],
        *,
        lateness: float | None = None,
        dedup_horizon: float = DEFAULT_DEDUP_HORIZON,
        auto_advance: bool = True,
    ) -> Engine:
        if state.get("version") != STATE_VERSION:
            raise StateError(f"engine state version {state.get('version')!r} is not supported")
        engine = cls(
            agreements,
            lateness=state["lateness"] if lateness is None else lateness,
            dedup_horizon=dedup_horizon,
            auto_advance=auto_advance,
        )
        try:
            engine.watermark = _infinite(state["watermark"])
            if math.isfinite(engine.watermark):
                engine._minute_end = (engine.watermark // 60 + 1) * 60
            engine.max_event_time = _infinite(state["max_event_time"])
            engine.counters.load_state(state["counters"])
            engine.unknown_contracts = TopCounter.from_state(state["unknown_contracts"])
            for hour, ids in state["seen"]:
                engine._seen_by_hour[hour] = list(ids)
                engine._seen.update(ids)
            engine._next_cleanup_hour = state["next_cleanup_hour"]
            for contract_id, contract_state in state["contracts"].items():
                contract = engine.contracts.get(contract_id)
                if contract is not None:
                    contract.load_state(contract_state)
            engine._due_head = engine._earliest_due()
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"engine state is corrupt: {exc!r}") from exc
        return engine


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _infinite(value: float | None) -> float:
    return -math.inf if value is None else value
