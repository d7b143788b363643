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
between gives the same alerts. The live path checkpoints the same state key by key
(``changed_keys``, ``state_records``, ``from_records``), so a checkpoint costs what
changed since the last one, not what the engine holds.
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
ENGINE_KEY: Final = "engine"
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


# The results that carry no alerts are shared: most events change nothing visible,
# and one immutable instance each answers them all.
_QUIET: Final = Applied(Outcome.APPLIED)
_QUIET_LATE: Final = Applied(Outcome.LATE)
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
        track_changes: bool = False,
    ) -> None:
        self.lateness = lateness
        self.auto_advance = auto_advance
        self.dedup_horizon = max(dedup_horizon, lateness)
        self.contracts = {a.contract_id: ContractRuntime(a) for a in agreements}
        self.track_changes = track_changes  # items' keys are kept only when asked
        for contract in self.contracts.values():
            contract.items.track_changes = track_changes
        self.watermark: float = -math.inf
        self.max_event_time: float = -math.inf
        self.counters = Counters()
        self.unknown_contracts = TopCounter()  # bounded: a flood of ids must not grow memory
        self._seen: set[str] = set()  # the ids of _seen_by_minute, for the duplicate test
        # by minute of event time: one small state record each (an hour's ids of a busy
        # partition would be one record of megabytes, rewritten at every checkpoint)
        self._seen_by_minute: dict[int, list[str]] = {}
        self._next_cleanup_hour: int | None = None
        self._due_head = math.inf  # derived: _earliest_due(), kept current on every push
        self._minute_end = -math.inf  # derived: the minute boundary after the watermark
        # changed since clear_changed_keys(): the engine's own record, minute buckets,
        # contracts' aggregates (the items' keys are kept by each contract's item clocks)
        self._engine_changed = False
        self._changed_minutes: set[int] = set()
        self._changed_contracts: set[str] = set()

    # -- the two ways in ----------------------------------------------------------

    def apply(self, event: Event) -> Applied:
        """Apply one event, then advance the watermark; returns its outcome and alerts."""
        ts = event.epoch
        fields = event.fields
        counters = self.counters
        counters.total += 1
        self._engine_changed = True
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
        late = ts < self.watermark
        if late:
            counters.late += 1
            if ts < self.watermark - self.dedup_horizon:
                counters.too_late += 1
                return _TOO_LATE
        minute = math.floor(ts // 60)
        self._seen.add(event_id)
        if self.track_changes:
            self._changed_minutes.add(minute)
            self._changed_contracts.add(contract_id)
        bucket = self._seen_by_minute.get(minute)
        if bucket is None:
            self._seen_by_minute[minute] = [event_id]
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
        if not alerts:
            return _QUIET_LATE if late else _QUIET
        return Applied(Outcome.LATE if late else Outcome.APPLIED, alerts)

    def advance(self, watermark: float) -> list[Alert]:
        """Move event time forward to ``watermark``: fire what became due."""
        previous = self.watermark
        if watermark <= previous:
            return []
        self.watermark = watermark
        self._engine_changed = True
        self._minute_end = (watermark // 60 + 1) * 60
        if not self._anything_due(previous, watermark):
            return []
        alerts: list[Alert] = []
        minute = math.floor(watermark // 60)
        head = math.inf  # _earliest_due(), gathered on the way
        for contract_id, contract in self.contracts.items():
            due = contract.due
            if contract.trackers_minute != minute or (due and due[0][0] < watermark):
                if self.track_changes:
                    self._changed_contracts.add(contract_id)
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

    def objective_status(self, contract_ids: Iterable[str] | None = None) -> list[ObjectiveStatus]:
        """Every objective of every contract (or of ``contract_ids``) at the watermark.

        For gauges, not per event: an item objective's status walks its open items.
        """
        contracts = (
            self.contracts.values()
            if contract_ids is None
            else [c for cid in contract_ids if (c := self.contracts.get(cid)) is not None]
        )
        return [
            status for contract in contracts for status in contract.objective_status(self.watermark)
        ]

    # -- housekeeping ------------------------------------------------------------

    def _cleanup(self, watermark: float) -> None:
        """Forget what is older than the horizons; once an hour (``advance`` checks)."""
        self._next_cleanup_hour = int(watermark // _HOUR) + 1
        horizon = watermark - self.dedup_horizon
        oldest_kept = int(horizon // _HOUR) * 60  # whole hours, as ever
        forgotten = [m for m in self._seen_by_minute if m < oldest_kept]
        for old in forgotten:
            self._seen.difference_update(self._seen_by_minute.pop(old))
        if self.track_changes:
            self._changed_minutes.update(forgotten)
            self._changed_contracts.update(self.contracts)
        for contract in self.contracts.values():
            contract.cleanup(watermark, horizon)

    # -- state per key -----------------------------------------------------------
    #
    # The live path checkpoints only what changed: each piece of state is one record
    # under a key (ENGINE_KEY; "d/<minute>" per minute of dedup event ids; "c/<contract>" per
    # contract's windows, months and contacts; "i/<contract>/<kind>:<id>" per item).
    # Each record is plain JSON-ready data and names what it holds, so loading needs
    # no key parsing; None is a tombstone (the bucket or item is gone).

    def changed_keys(self) -> set[str]:
        """The keys whose record changed since :meth:`clear_changed_keys`.

        Items are tracked only by an engine made with ``track_changes``.
        """
        if not self.track_changes:
            raise StateError("this engine does not track changed keys (track_changes=False)")
        keys = {f"d/{minute}" for minute in self._changed_minutes}
        keys.update(f"c/{contract_id}" for contract_id in self._changed_contracts)
        for contract_id, contract in self.contracts.items():
            keys.update(f"i/{contract_id}/{key}" for key in contract.items.changed)
        if self._engine_changed or keys:
            keys.add(ENGINE_KEY)
        return keys

    def clear_changed_keys(self) -> None:
        self._engine_changed = False
        self._changed_minutes.clear()
        self._changed_contracts.clear()
        for contract in self.contracts.values():
            contract.items.changed.clear()

    def all_keys(self) -> set[str]:
        """The keys of every record the engine holds now (a full checkpoint)."""
        keys = {ENGINE_KEY}
        keys.update(f"d/{minute}" for minute in self._seen_by_minute)
        for contract_id, contract in self.contracts.items():
            keys.add(f"c/{contract_id}")
            keys.update(f"i/{contract_id}/{key}" for key in contract.items.items)
        return keys

    def state_records(self, keys: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """The current record of each key; None (a tombstone) where the engine holds no
        such state (an item forgotten, a dedup minute dropped, a key it never had)."""
        return {key: self._state_record(key) for key in keys}

    def _state_record(self, key: str) -> dict[str, Any] | None:
        if key == ENGINE_KEY:
            return {
                "kind": "engine",
                "version": STATE_VERSION,
                "lateness": self.lateness,
                "watermark": _finite(self.watermark),
                "max_event_time": _finite(self.max_event_time),
                "counters": self.counters.to_state(),
                "unknown_contracts": self.unknown_contracts.to_state(),
                "next_cleanup_hour": self._next_cleanup_hour,
            }
        family, _, rest = key.partition("/")
        if family == "d":
            minute = int(rest) if rest.lstrip("-").isdigit() else None
            ids = None if minute is None else self._seen_by_minute.get(minute)
            return None if ids is None else {"kind": "seen", "minute": minute, "ids": list(ids)}
        if family == "c":
            contract = self.contracts.get(rest)
            if contract is None:
                return None
            return {"kind": "contract", "contract": rest, **contract.aggregate_state()}
        if family == "i":
            found = self._find_item(rest)
            if found is None:
                return None
            contract_id, item_key = found
            state = self.contracts[contract_id].items.item_state(item_key)
            if state is None:
                return None
            return {"kind": "item", "contract": contract_id, "item": item_key, **state}
        return None  # no state of this engine: a key written by another version, say

    def _find_item(self, rest: str) -> tuple[str, str] | None:
        """Split ``<contract>/<item key>``; a contract id may itself hold a slash."""
        start = 0
        while (slash := rest.find("/", start)) != -1:
            contract = self.contracts.get(rest[:slash])
            if contract is not None and rest[slash + 1 :] in contract.items.items:
                return rest[:slash], rest[slash + 1 :]
            start = slash + 1
        return None

    @classmethod
    def from_records(
        cls,
        agreements: Sequence[Agreement],
        records: Iterable[tuple[str, dict[str, Any] | None]],
        *,
        lateness: float | None = None,
        dedup_horizon: float = DEFAULT_DEDUP_HORIZON,
        auto_advance: bool = True,
        track_changes: bool = True,
    ) -> Engine:
        """An engine from its state records (latest per key; tombstones are skipped).

        Without an engine record the state is empty: a fresh engine.
        """
        latest = dict(records)
        own = latest.pop(ENGINE_KEY, None)
        if own is None:
            return cls(
                agreements,
                lateness=DEFAULT_LATENESS if lateness is None else lateness,
                dedup_horizon=dedup_horizon,
                auto_advance=auto_advance,
                track_changes=track_changes,
            )
        try:
            state: dict[str, Any] = {**own, "seen_minutes": [], "contracts": {}}
            items: dict[str, dict[str, dict[str, Any]]] = {}
            aggregates: dict[str, dict[str, Any]] = {}
            for record in latest.values():
                if record is None:
                    continue
                kind = record["kind"]
                if kind == "seen":
                    state["seen_minutes"].append([record["minute"], record["ids"]])
                elif kind == "contract":
                    aggregates[record["contract"]] = record
                elif kind == "item":
                    items.setdefault(record["contract"], {})[record["item"]] = record
                else:
                    raise StateError(f"unknown state record kind {kind!r}")
            state["seen_minutes"].sort()
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"engine state record is corrupt: {exc!r}") from exc
        engine = cls.restore(
            agreements,
            state,
            lateness=lateness,
            dedup_horizon=dedup_horizon,
            auto_advance=auto_advance,
            track_changes=track_changes,
        )
        try:
            for contract_id in aggregates.keys() | items.keys():
                contract = engine.contracts.get(contract_id)
                if contract is not None:
                    contract.load_records(aggregates.get(contract_id), items.get(contract_id, {}))
            engine._due_head = engine._earliest_due()
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"engine state record is corrupt: {exc!r}") from exc
        return engine

    # -- state -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "lateness": self.lateness,
            "watermark": _finite(self.watermark),
            "max_event_time": _finite(self.max_event_time),
            "counters": self.counters.to_state(),
            "unknown_contracts": self.unknown_contracts.to_state(),
            "seen_minutes": [[m, list(ids)] for m, ids in sorted(self._seen_by_minute.items())],
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
        track_changes: bool = False,
    ) -> Engine:
        if state.get("version") != STATE_VERSION:
            raise StateError(f"engine state version {state.get('version')!r} is not supported")
        engine = cls(
            agreements,
            lateness=state["lateness"] if lateness is None else lateness,
            dedup_horizon=dedup_horizon,
            auto_advance=auto_advance,
            track_changes=track_changes,
        )
        try:
            engine.watermark = _infinite(state["watermark"])
            if math.isfinite(engine.watermark):
                engine._minute_end = (engine.watermark // 60 + 1) * 60
            engine.max_event_time = _infinite(state["max_event_time"])
            engine.counters.load_state(state["counters"])
            engine.unknown_contracts = TopCounter.from_state(state["unknown_contracts"])
            # "seen" by hour: a snapshot from before the minute buckets
            for hour, ids in state.get("seen", ()):
                engine._seen_by_minute.setdefault(hour * 60, []).extend(ids)
                engine._seen.update(ids)
            for minute, ids in state.get("seen_minutes", ()):
                engine._seen_by_minute.setdefault(minute, []).extend(ids)
                engine._seen.update(ids)
            engine._next_cleanup_hour = state["next_cleanup_hour"]
            for contract_id, contract_state in state["contracts"].items():
                contract = engine.contracts.get(contract_id)
                if contract is not None:
                    contract.load_state(contract_state)
            engine._due_head = engine._earliest_due()
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"engine state is corrupt: {exc!r}") from exc
        engine.clear_changed_keys()
        return engine


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _infinite(value: float | None) -> float:
    return -math.inf if value is None else value
