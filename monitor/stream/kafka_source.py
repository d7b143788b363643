"""Read the events of a running deployment for a report: offsets by time, then to the end.

Each input topic partition is read from the first offset whose record timestamp
is at or after ``since`` (``offsets_for_times``; Kafka's timestamps are the
producers' create times) up to the end offset seen when reading began. The
first records are checked as well: until a partition's first record stamped at
or after ``since``, records are skipped, which is what the lookup means. (Tansu
0.6 answers every timestamp lookup with offset 0, so on it this check does the
work; on Kafka it skips nothing.) A
partition also stops at its first event whose *event* time is past ``until``:
producers write roughly in event-time order, and a backfill published later
carries new timestamps, so the record timestamp cannot bound the end. Tansu may
report an end offset short of the last records of a batch, so reading goes on
until a poll comes back empty with every partition at or past its end.

The events are returned sorted by event time (stable, so events of one item,
which share a partition, keep their order): a report from the topics equals the
report from the time-ordered file that was published to them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.domain.errors import MonitorError
from monitor.domain.timestamps import parse_instant
from monitor.settings import Settings

POLL_MS: Final = 500
DEFAULT_TIMEOUT_S: Final = 600.0


class KafkaSourceError(MonitorError):
    """The topics could not be read in time (brokers down, topics missing)."""


@dataclass(slots=True)
class KafkaRead:
    lines: list[bytes]
    start_offsets: dict[str, int] = field(default_factory=dict)
    records: int = 0
    skipped_before: int = 0
    skipped_after: int = 0


async def read_events(
    settings: Settings, since: float, until: float, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> KafkaRead:
    """Raw event values from the input topics, for events from ``since`` to ``until``."""
    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(),
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    try:
        await consumer.start()  # inside: a failed start (no broker) must still close it
        return await _read(consumer, settings, since, until, timeout_s)
    finally:
        await consumer.stop()


async def _read(
    consumer: Any, settings: Settings, since: float, until: float, timeout_s: float
) -> KafkaRead:
    await consumer.topics()
    partitions = [
        TopicPartition(topic, partition)
        for topic in settings.topics.inputs()
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        raise KafkaSourceError(
            f"none of the input topics {', '.join(settings.topics.inputs())} exist on "
            f"{settings.bootstrap_servers}"
        )
    consumer.assign(partitions)
    ends: dict[Any, int] = await consumer.end_offsets(partitions)
    found = await consumer.offsets_for_times({tp: int(since * 1000) for tp in partitions})
    read = KafkaRead(lines=[])
    for tp in partitions:
        at = found.get(tp)
        offset = at.offset if at is not None else ends[tp]
        consumer.seek(tp, offset)
        read.start_offsets[f"{tp.topic}/{tp.partition}"] = offset
    done: set[Any] = set()
    started: set[Any] = set()
    since_ms = int(since * 1000)
    keyed: list[tuple[float, int, bytes]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        if time.monotonic() > deadline:
            raise KafkaSourceError(f"reading the input topics took longer than {timeout_s:g}s")
        batches = await consumer.getmany(timeout_ms=POLL_MS)
        for tp, records in batches.items():
            if tp in done:
                continue
            for record in records:
                read.records += 1
                if tp not in started:
                    if record.timestamp < since_ms:
                        read.skipped_before += 1
                        continue
                    started.add(tp)
                ts = _event_time(record.value)
                if ts is not None and ts > until:
                    done.add(tp)
                    consumer.pause(tp)
                    read.skipped_after += 1
                    break
                keyed.append((ts if ts is not None else since, len(keyed), record.value))
        if batches:
            continue
        positions = {tp: await consumer.position(tp) for tp in partitions if tp not in done}
        if all(position >= ends[tp] for tp, position in positions.items()):
            break
    keyed.sort()
    read.lines = [value for _ts, _n, value in keyed]
    return read


def _event_time(value: bytes | None) -> float | None:
    """The event's ``ts`` for ordering; ``None`` for what the parser will reject anyway."""
    if not value:
        return None
    try:
        text = json.loads(value).get("ts")
        return parse_instant(text)
    except (ValueError, AttributeError, TypeError):
        return None
