"""Engine checkpoints in a compacted changelog topic, co-partitioned with the event topics.

Partition N's checkpoint (``PartitionState.checkpoint_records``: the engine state
keys changed since the last one, then one offsets record with the next offset of
every source) goes to partition N of ``<app_id>-engine-changelog``, keys prefixed
``p<N>/``. The engine service writes it, flushes the producer, and only then
commits the group offsets to the offsets inside it, so a checkpoint is the one
authority on where a partition resumes: the committed offsets only follow it (for
lag dashboards). Compaction keeps the latest record per key; a tombstone (an item
forgotten) removes one.

Reading back goes to the end of the changelog partition (``ChangelogReader``
keeps the latest record per key of the checkpoints that finished). The embedded
test broker can report an end offset short of a batch's last records
(docs/design.md), so reading stops only once the reported end is reached *and* a
poll came back empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import structlog

from monitor.domain.errors import MonitorError
from monitor.settings import Settings
from monitor.stream.state import SEQ_HEADER, ChangelogReader, ChangelogRecord

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

__all__ = [
    "CHECKPOINT_TOPIC_CONFIG",
    "CheckpointReadError",
    "changelog_topic",
    "read_changelog",
    "write_checkpoint",
]

log = structlog.get_logger("slamon.worker")

#: A compacted topic keeps the latest record per state key; records are small (one
#: item or one contract's aggregates), 4 MB leaves room for a contract's contacts.
CHECKPOINT_TOPIC_CONFIG: Final = {
    "cleanup.policy": "compact",
    "max.message.bytes": str(4 * 1024 * 1024),
}
_POLL_MS: Final = 300
_READ_TIMEOUT_S: Final = 60.0


class CheckpointReadError(MonitorError):
    """The changelog could not be read to its end in time: the partition cannot resume."""


def changelog_topic(settings: Settings) -> str:
    return f"{settings.app_id}-engine-changelog"


async def write_checkpoint(
    producer: AIOKafkaProducer, topic: str, partition: int, records: Iterable[ChangelogRecord]
) -> None:
    """Send one checkpoint's records to the partition, in order (its offsets record
    last); the caller flushes before it commits offsets."""
    for record in records:
        await producer.send(
            topic,
            value=record.value,
            key=record.key,
            partition=partition,
            headers=[(SEQ_HEADER, str(record.seq).encode())],
        )


async def read_changelog(
    settings: Settings, partitions: Iterable[int]
) -> dict[int, ChangelogReader]:
    """Each of ``partitions``' changelog records, read to the end."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topic = changelog_topic(settings)
    tps = [TopicPartition(topic, p) for p in sorted(set(partitions))]
    if not tps:
        return {}
    readers = {tp.partition: ChangelogReader(tp.partition) for tp in tps}
    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(),
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends: dict[Any, int] = await consumer.end_offsets(tps)
        deadline = time.monotonic() + _READ_TIMEOUT_S
        while True:
            batches = await consumer.getmany(timeout_ms=_POLL_MS)
            if batches:
                deadline = time.monotonic() + _READ_TIMEOUT_S  # a bound on a stall, not on size
            for tp, records in batches.items():
                reader = readers[tp.partition]
                for record in records:
                    reader.add(record.key, record.value, _seq(record.headers))
            if not batches and await _at_end(consumer, ends):
                return readers
            if time.monotonic() > deadline:
                raise CheckpointReadError(
                    f"{topic}: no progress reading to its end for {_READ_TIMEOUT_S:.0f} s"
                )
    finally:
        await consumer.stop()


def _seq(headers: Any) -> int:
    """The checkpoint sequence of a record; 0 when it has none (written before it)."""
    for name, value in headers or ():
        if name == SEQ_HEADER:
            try:
                return int(value)
            except (TypeError, ValueError):
                return 0
    return 0


async def _at_end(consumer: Any, ends: dict[Any, int]) -> bool:
    for tp, end in ends.items():
        if int(await consumer.position(tp)) < end:
            return False
    return True
