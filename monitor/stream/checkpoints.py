"""Engine checkpoints in a compacted changelog topic, co-partitioned with the event topics.

Partition N's checkpoint (``PartitionState.checkpoint_records``: the engine state
keys changed since the last one, then one offsets record with the next offset of
every source) goes to partition N of ``<app_id>-engine-changelog``, keys prefixed
``p<N>/``. A :class:`CheckpointWrite` sends it a chunk of at most
:data:`CHUNK_RECORDS` records per turn of the engine loop, so a checkpoint of many
keys never holds the loop for long; the offsets record goes out only once every
state record and every output sent before the checkpoint began is acknowledged,
and the group offsets are committed only once it is acknowledged too. A
checkpoint is thus the one authority on where a partition resumes: the committed
offsets only follow it (for lag dashboards). Compaction keeps the latest record
per key; a tombstone (an item forgotten) removes one.

Reading back goes to the end of the changelog partition (``ChangelogReader``
keeps the latest record per key of the checkpoints that finished). The embedded
test broker can report an end offset short of a batch's last records
(docs/design.md), so reading stops only once the reported end is reached *and* a
poll came back empty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import structlog

from monitor.domain.errors import MonitorError
from monitor.settings import Settings
from monitor.stream.state import SEQ_HEADER, ChangelogReader, ChangelogRecord, PartitionState

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

__all__ = [
    "CHECKPOINT_TOPIC_CONFIG",
    "CHUNK_RECORDS",
    "CheckpointReadError",
    "CheckpointWrite",
    "changelog_topic",
    "read_changelog",
    "send_records",
]

log = structlog.get_logger("slamon.worker")

#: A compacted topic keeps the latest record per state key; records are small (one
#: item or one contract's aggregates), 4 MB leaves room for a contract's contacts.
#: The compaction lag keeps an hour of history uncompacted: a restore between two
#: checkpoints reads the records of the last finished one even while a newer one,
#: whose offsets record has not landed, is being written over the same keys.
CHECKPOINT_TOPIC_CONFIG: Final = {
    "cleanup.policy": "compact",
    "max.message.bytes": str(4 * 1024 * 1024),
    "min.compaction.lag.ms": str(3_600_000),
}
#: State records handed to the producer per turn of the engine loop.
CHUNK_RECORDS: Final = 1_000
_POLL_MS: Final = 300
_READ_TIMEOUT_S: Final = 60.0


class CheckpointReadError(MonitorError):
    """The changelog could not be read to its end in time: the partition cannot resume."""


def changelog_topic(settings: Settings) -> str:
    return f"{settings.app_id}-engine-changelog"


async def send_records(
    producer: AIOKafkaProducer, topic: str, partition: int, records: Sequence[ChangelogRecord]
) -> list[asyncio.Future[Any]]:
    """Hand ``records`` to the producer in order, in as few batches as fit; returns one
    future per batch, done when the broker has acknowledged it."""
    acks: list[asyncio.Future[Any]] = []
    batch = producer.create_batch()
    for record in records:
        headers = [(SEQ_HEADER, str(record.seq).encode())]
        if batch.append(key=record.key, value=record.value, timestamp=None, headers=headers):
            continue
        acks.append(await producer.send_batch(batch, topic, partition=partition))
        batch = producer.create_batch()  # a batch always takes its first record
        batch.append(key=record.key, value=record.value, timestamp=None, headers=headers)
    if batch.record_count():
        acks.append(await producer.send_batch(batch, topic, partition=partition))
    return acks


class CheckpointWrite:
    """One partition's checkpoint on its way to the changelog.

    Built when the checkpoint is taken: the changed keys are encoded and the offsets
    captured at once, so the records describe one instant of the engine. Each
    :meth:`step` (one per turn of the engine loop) then does one thing: hand the
    next chunk of state records to the producer, or, once every state record and
    every output in ``outputs`` (the sends made before the checkpoint, whose events
    it covers) is acknowledged, the offsets record. :attr:`done` turns true when the
    offsets record is acknowledged: only then may the group offsets be committed.
    A failed send marks the state's keys for rewriting and raises.
    """

    def __init__(
        self,
        state: PartitionState,
        topic: str,
        outputs: Iterable[asyncio.Future[Any]] = (),
    ) -> None:
        self.state = state
        self.topic = topic
        self.offsets = state.offsets()
        self.records = state.checkpoint_records()
        self._unsent = len(self.records) - 1  # the offsets record is the last one
        self._sent = 0
        self._acks = list(outputs)
        self._offsets_ack: asyncio.Future[Any] | None = None

    @property
    def partition(self) -> int:
        return self.state.partition

    @property
    def done(self) -> bool:
        ack = self._offsets_ack
        return ack is not None and ack.done() and ack.exception() is None

    async def step(self, producer: AIOKafkaProducer) -> bool:
        """Move the write one step on without waiting; True once it is done."""
        try:
            if self._sent < self._unsent:
                await self._send_chunk(producer)
            elif self._offsets_ack is None:
                if _all_acknowledged(self._acks):
                    await self._send_offsets(producer)
            else:
                _all_acknowledged([self._offsets_ack])
        except BaseException:
            self.state.checkpoint_failed(self.records)
            raise
        return self.done

    async def finish(self, producer: AIOKafkaProducer) -> None:
        """Write the rest at once and wait for it (a revoke or a stop cannot wait for turns)."""
        try:
            while self._sent < self._unsent:
                await self._send_chunk(producer)
            if self._offsets_ack is None:
                await asyncio.gather(*self._acks)
                await self._send_offsets(producer)
            assert self._offsets_ack is not None
            await self._offsets_ack
        except BaseException:
            self.state.checkpoint_failed(self.records)
            raise

    async def _send_chunk(self, producer: AIOKafkaProducer) -> None:
        end = min(self._sent + CHUNK_RECORDS, self._unsent)
        chunk = self.records[self._sent : end]
        self._sent = end
        self._acks.extend(await send_records(producer, self.topic, self.partition, chunk))

    async def _send_offsets(self, producer: AIOKafkaProducer) -> None:
        (ack,) = await send_records(producer, self.topic, self.partition, self.records[-1:])
        self._offsets_ack = ack


def _all_acknowledged(acks: list[asyncio.Future[Any]]) -> bool:
    """True when every future is done; raises the first failure; drops the done ones."""
    pending = []
    for ack in acks:
        if not ack.done():
            pending.append(ack)
        else:
            ack.result()
    acks[:] = pending
    return not pending


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
