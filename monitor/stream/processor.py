"""What the worker does with each Kafka record, without Kafka: records in, records out.

:class:`Processor` owns one :class:`~monitor.stream.state.PartitionState` per
partition. ``handle(record, now)`` decodes and validates an event, dead-letters
what is invalid, re-keys what is keyed by something other than its contract_id,
applies the rest to the partition's engine, advances the held watermark and
returns the records to publish (alerts, dead letters, re-keyed events).
``handle_batch`` does the same for a batch of one partition and advances once.
The engine service in :mod:`monitor.stream.engine_service` only moves records
between this class and Kafka, so all of this is unit-tested without a broker.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import structlog

from monitor.domain.admission import TIME_OUT_OF_RANGE, time_out_of_range
from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert, format_instant
from monitor.domain.engine import Outcome
from monitor.domain.errors import StateError
from monitor.domain.events import Event, EventError, parse_event
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.stream.state import ChangelogReader, PartitionState
from monitor.stream.ticks import held_watermark, is_active

__all__ = [
    "ENGINE_ERROR",
    "HEADER_ERROR",
    "HEADER_REASON",
    "HEADER_SOURCE_OFFSET",
    "HEADER_SOURCE_PARTITION",
    "HEADER_SOURCE_TOPIC",
    "HEADER_TRUNCATED",
    "MAX_DEADLETTER_BYTES",
    "UNKNOWN_CONTRACT",
    "Outgoing",
    "Processor",
    "Record",
]

log = structlog.get_logger("slamon.worker")

#: Dead-letter headers (values UTF-8); the record's own headers are kept before them.
HEADER_REASON: Final = "slamon-reason"
HEADER_ERROR: Final = "slamon-error"
HEADER_SOURCE_TOPIC: Final = "slamon-source-topic"
HEADER_SOURCE_PARTITION: Final = "slamon-source-partition"
HEADER_SOURCE_OFFSET: Final = "slamon-source-offset"
HEADER_TRUNCATED: Final = "slamon-truncated"

#: Reason code for valid events naming a contract no agreement defines.
UNKNOWN_CONTRACT: Final = "unknown_contract"
#: Reason code for a valid event the engine raised on (a bug): dead-lettered, the rest goes on.
ENGINE_ERROR: Final = "engine_error"
#: Larger values are cut to this size in the dead-letter topic (header slamon-truncated).
MAX_DEADLETTER_BYTES: Final = 256 * 1024
_MAX_ERROR_CHARS: Final = 500
#: An event this close to the wall clock (plus lateness) makes a partition live.
NEAR_WALL_CLOCK_S: Final = 600.0
#: How long new records on a quiet partition make its other sources hold event time.
WAKE_S: Final = 0.5
#: Too-late events before the backfill warning can fire (then: more than half of them).
_BACKFILL_WARN_AFTER: Final = 100

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Record:
    """The parts of a consumed Kafka record the processor needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp: float | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to publish (partition chosen by the producer from the key)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()


EndOffset = Callable[[str, int], int | None]
LoadCheckpoint = Callable[[int], bytes | None]


class Processor:
    """Per-partition engines driven by records; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        agreements: Sequence[Agreement],
        metrics: Metrics,
        *,
        end_offset: EndOffset,
        load_checkpoint: LoadCheckpoint = lambda partition: None,
    ) -> None:
        self.topics = settings.topics
        self.sources: tuple[str, ...] = (*settings.topics.inputs(), settings.topics.rekey)
        self.agreements = list(agreements)
        self.contracts = frozenset(a.contract_id for a in agreements)
        self.metrics = metrics
        self.lateness = settings.lateness_s
        self.max_future_s = settings.max_event_future_s
        self.idle_s = max(1.0, 2 * settings.tick_interval_s)
        self.follow_wall_clock = settings.follow_wall_clock
        self.checkpoint_events = settings.checkpoint_events
        self.checkpoint_interval_s = settings.checkpoint_interval_s
        self.end_offset = end_offset
        self.load_checkpoint = load_checkpoint
        self.states: dict[int, PartitionState] = {}
        self._create_series()

    def _create_series(self) -> None:
        """Labelled counters start at 0, so `rate()` and `increase()` see their first rise."""
        metrics = self.metrics
        for contract_id in sorted(self.contracts):
            metrics.events_duplicate.labels(contract_id)
            metrics.events_late.labels(contract_id)
            metrics.events_too_late.labels(contract_id)
        for topic in self.sources:
            metrics.offset_gaps.labels(topic)

    # -- assignment ---------------------------------------------------------------

    def resume(
        self, partitions: Iterable[int], changelog: Mapping[int, ChangelogReader] | None = None
    ) -> dict[tuple[str, int], int]:
        """(Re)load ``partitions`` from their checkpoints; return where each source resumes.

        ``changelog`` (each partition's records, read by the caller) comes first, then
        ``load_checkpoint`` (a whole-state blob).
        Offset 0 (the beginning; raised with ``raise_position`` to the earliest offset
        kept) where the partition has no checkpoint.
        """
        targets: dict[tuple[str, int], int] = {}
        for partition in sorted(set(partitions)):
            reader = changelog.get(partition) if changelog is not None else None
            state = self._load(partition, reader)
            self.states[partition] = state
            for topic in self.sources:
                progress = state.source(topic)
                if progress.next_offset is None:
                    progress.next_offset = 0
                targets[(topic, partition)] = progress.next_offset
        return targets

    def raise_position(self, topic: str, partition: int, earliest: int) -> None:
        """A source's first offset still kept, where it is past the resume position."""
        progress = self.state_for(partition).source(topic)
        if progress.next_offset is None or progress.next_offset < earliest:
            progress.next_offset = earliest

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.states.pop(partition, None)

    def state_for(self, partition: int) -> PartitionState:
        state = self.states.get(partition)
        if state is None:
            state = self.states[partition] = self._load(partition)
        return state

    def _load(self, partition: int, reader: ChangelogReader | None = None) -> PartitionState:
        try:
            if reader is not None:
                state = reader.state(self.agreements, lateness=self.lateness)
                if state is not None:
                    return state
            blob = self.load_checkpoint(partition)
            if blob is not None:
                return PartitionState.decode(blob, self.agreements, lateness=self.lateness)
        except StateError as exc:
            log.error("checkpoint_unreadable", partition=partition, error=str(exc))
        fresh = PartitionState.fresh(partition, self.agreements, lateness=self.lateness)
        # a fresh start overrides whatever the changelog holds at its first checkpoint
        return fresh if reader is None else reader.follow(fresh)

    # -- records ------------------------------------------------------------------

    def handle(self, record: Record, now: float) -> list[Outgoing]:
        """Process one record from a source topic (a batch of one)."""
        return self.handle_batch(record.partition, [record], now)

    def handle_batch(self, partition: int, records: Sequence[Record], now: float) -> list[Outgoing]:
        """Apply a batch of one partition's records (any of its sources), then advance once."""
        state = self.state_for(partition)
        if records and state.quiet:
            self._wake(state, now)
        out: list[Outgoing] = []
        types: Counter[str] = Counter()
        for record in records:
            out.extend(self._apply(state, record, now, types))
        for event_type, count in types.items():
            self.metrics.events.labels(event_type).inc(count)
        if records and records[0].timestamp is not None:
            self.metrics.processing_latency.observe(max(0.0, now - records[0].timestamp))
        out.extend(self.advance(state, now))
        return out

    def tick(self, partition: int, now: float) -> list[Outgoing]:
        """Re-evaluate an owned partition's watermark with no new records (the idle timer)."""
        return self.advance(self.state_for(partition), now)

    def _wake(self, state: PartitionState, now: float) -> None:
        """New records on a quiet partition: every source that had events is active again.

        Records produced together on several topics arrive over several fetches. Without
        this, the first topic's events would move event time past the others' (which
        look caught up and idle), and those would then be late: the alerts would depend
        on fetch timing. For ``WAKE_S`` each source holds the watermark at its own last
        event time, as it did before the partition went quiet: long enough for records
        produced together to arrive, short enough not to delay the first alerts much.
        """
        state.quiet = False
        active_until = now - self.idle_s + min(self.idle_s, WAKE_S)
        for progress in state.sources.values():
            if math.isfinite(progress.max_event_time):
                progress.last_message_at = max(progress.last_message_at, active_until)

    def _apply(
        self, state: PartitionState, record: Record, now: float, types: Counter[str]
    ) -> list[Outgoing]:
        progress = state.source(record.topic)
        if progress.next_offset is not None and record.offset < progress.next_offset:
            return []  # already inside the checkpoint this partition resumed from
        progress.next_offset = record.offset + 1
        progress.last_message_at = now
        state.events_since_checkpoint += 1
        value = record.value if record.value is not None else b""
        event = parse_event(value)
        if isinstance(event, EventError):
            return [self._deadletter(record, event.reason, event.message)]
        contract_id = event.contract_id
        if contract_id not in self.contracts:
            self.metrics.events_unknown_contract.inc()
            message = f"contract_id: no agreement defines {contract_id[:60]!r}"
            return [self._deadletter(record, UNKNOWN_CONTRACT, message)]
        ts = event.epoch
        too_far = time_out_of_range(ts, now, self.max_future_s)
        if too_far is not None:
            return [self._deadletter(record, TIME_OUT_OF_RANGE, too_far)]
        if not state.live and now - ts <= self.lateness + NEAR_WALL_CLOCK_S:
            state.live = True
        key = contract_id.encode()
        if record.key != key and record.topic != self.topics.rekey:
            return [Outgoing(self.topics.rekey, key, value, record.headers)]
        types[event.type] += 1
        try:
            applied = state.engine.apply(event)
        except Exception as exc:  # a bug in one handler must not stop the partition
            log.exception("engine_error", topic=record.topic, offset=record.offset)
            return [self._deadletter(record, ENGINE_ERROR, f"{type(exc).__name__}: {exc}")]
        self._count_outcome(applied.outcome, event, record, state)
        if ts > progress.max_event_time:
            progress.max_event_time = ts
        if not applied.alerts:
            return []
        state.events_since_checkpoint += len(applied.alerts)
        return [self._alert(alert) for alert in applied.alerts]  # a late event's, at once

    def _count_outcome(
        self, outcome: Outcome, event: Event, record: Record, state: PartitionState
    ) -> None:
        contract_id = event.contract_id
        if outcome is Outcome.DUPLICATE:
            self.metrics.events_duplicate.labels(contract_id).inc()
        elif outcome is Outcome.LATE or outcome is Outcome.TOO_LATE:
            self.metrics.events_late.labels(contract_id).inc()
            log.debug(
                "event_late",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_time=event.ts.isoformat(),
                watermark=state.engine.watermark,
            )
            if outcome is Outcome.TOO_LATE:
                self.metrics.events_too_late.labels(contract_id).inc()
                state.too_late += 1
        state.applied += 1
        if (
            state.too_late >= _BACKFILL_WARN_AFTER
            and 2 * state.too_late > state.applied
            and not state.backfill_warned
        ):
            state.backfill_warned = True
            log.warning(
                "events_too_late_backfill",
                partition=state.partition,
                too_late=state.too_late,
                applied=state.applied,
                watermark=format_instant(state.engine.watermark),
                hint=(
                    "most events are older than the watermark minus the dedup horizon and "
                    "are dropped; the watermark follows the wall clock "
                    "(SLAMON_FOLLOW_WALL_CLOCK). Replay history with `slamon replay`, or "
                    "run a worker with SLAMON_FOLLOW_WALL_CLOCK=false on fresh topics"
                ),
            )

    def advance(self, state: PartitionState, now: float) -> list[Outgoing]:
        """Move the partition's watermark as far as its sources allow; publish the alerts."""
        partition = state.partition
        sources = [(state.source(t), self.end_offset(t, partition)) for t in self.sources]
        state.quiet = not any(is_active(p, end, now, self.idle_s) for p, end in sources)
        target = held_watermark(
            sources,
            now=now,
            lateness=self.lateness,
            idle_s=self.idle_s,
            follow_wall_clock=self.follow_wall_clock and state.live,
            max_event_time=state.engine.max_event_time,
        )
        alerts = state.engine.advance(target)
        if not alerts:
            return []
        state.events_since_checkpoint += len(alerts)
        return [self._alert(alert) for alert in alerts]

    def checkpoint_due(self, state: PartitionState, now: float) -> bool:
        if state.events_since_checkpoint == 0:
            return False
        return (
            state.events_since_checkpoint >= self.checkpoint_events
            or now - state.last_checkpoint_at >= self.checkpoint_interval_s
        )

    @staticmethod
    def checkpointed(state: PartitionState, now: float) -> None:
        state.events_since_checkpoint = 0
        state.last_checkpoint_at = now

    # -- outputs ------------------------------------------------------------------

    def _alert(self, alert: Alert) -> Outgoing:
        m = self.metrics
        m.alerts.labels(alert.contract_id, alert.objective_id, alert.state).inc()
        if alert.state == "breached":
            queue = alert.subject.queue or ""
            # item alerts carry the channel in their annotations, window alerts in labels
            channel = alert.labels.get("channel") or alert.extra.get("channel", "")
            m.breaches.labels(alert.contract_id, alert.objective_id, queue, channel).inc()
        value = json.dumps(alert.to_json(), ensure_ascii=False, separators=(",", ":"))
        return Outgoing(self.topics.alerts, alert.fingerprint.encode(), value.encode())

    def _deadletter(self, record: Record, reason: str, error: str) -> Outgoing:
        self.metrics.events_invalid.labels(reason).inc()
        value = record.value if record.value is not None else b""
        headers = [
            *record.headers,
            (HEADER_REASON, reason.encode()),
            (HEADER_ERROR, error[:_MAX_ERROR_CHARS].encode("utf-8", "replace")),
            (HEADER_SOURCE_TOPIC, record.topic.encode()),
            (HEADER_SOURCE_PARTITION, str(record.partition).encode()),
            (HEADER_SOURCE_OFFSET, str(record.offset).encode()),
        ]
        if len(value) > MAX_DEADLETTER_BYTES:
            headers.append((HEADER_TRUNCATED, str(len(value)).encode()))
            value = value[:MAX_DEADLETTER_BYTES]
        return Outgoing(self.topics.deadletter, record.key, value, tuple(headers))


def watermark_lag(state: PartitionState, now: float) -> float | None:
    """Wall clock minus the partition's watermark, when it has one."""
    watermark = state.engine.watermark
    return now - watermark if math.isfinite(watermark) else None
