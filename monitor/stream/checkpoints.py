"""Engine checkpoints in a compacted changelog topic, co-partitioned with the event topics.

Partition N's checkpoint (``PartitionState.encode``: engine snapshot plus the next
offset of every source) is one record keyed ``p<N>`` in partition N of
``<app_id>-engine-changelog``. The engine service writes it, flushes the producer,
and only then commits the group offsets to the offsets inside it, so a checkpoint
is the one authority on where a partition resumes: the committed offsets only
follow it (for lag dashboards).

Reading one back goes to the end of the changelog partition and keeps the last
record. The embedded test broker can report an end offset short of a batch's
last records (docs/design.md), so reading stops only once the reported end is
reached *and* a poll came back empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import structlog

from monitor.domain.errors import MonitorError
from monitor.settings import Settings

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

__all__ = [
    "CHECKPOINT_TOPIC_CONFIG",
    "CheckpointReadError",
    "changelog_topic",
    "read_checkpoints",
    "write_checkpoint",
]

log = structlog.get_logger("slamon.worker")

#: A compacted topic keeps the last checkpoint per partition; 4 MB fits a large one.
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


def checkpoint_key(partition: int) -> bytes:
    return f"p{partition}".encode()


async def write_checkpoint(
    producer: AIOKafkaProducer, topic: str, partition: int, blob: bytes
) -> None:
    """Send one checkpoint; the caller flushes before it commits offsets."""
    await producer.send(topic, value=blob, key=checkpoint_key(partition), partition=partition)


async def read_checkpoints(settings: Settings, partitions: Iterable[int]) -> dict[int, bytes]:
    """The last checkpoint of each of ``partitions`` that has one."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topic = changelog_topic(settings)
    tps = [TopicPartition(topic, p) for p in sorted(set(partitions))]
    if not tps:
        return {}
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
        latest: dict[int, bytes] = {}
        deadline = time.monotonic() + _READ_TIMEOUT_S
        while True:
            batches = await consumer.getmany(timeout_ms=_POLL_MS)
            for tp, records in batches.items():
                for record in records:
                    if record.key == checkpoint_key(tp.partition) and record.value is not None:
                        latest[tp.partition] = record.value
            if not batches and await _at_end(consumer, ends):
                return latest
            if time.monotonic() > deadline:
                raise CheckpointReadError(
                    f"{topic}: not read to its end within {_READ_TIMEOUT_S:.0f} s"
                )
    finally:
        await consumer.stop()


async def _at_end(consumer: Any, ends: dict[Any, int]) -> bool:
    for tp, end in ends.items():
        if int(await consumer.position(tp)) < end:
            return False
    return True
