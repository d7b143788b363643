"""The engine service: an aiokafka group consumer inside the Faust app (docs/design.md).

Faust's agent path costs more per record than the engine itself and its
seek-after-rebalance races lost events on takeover, so the engine reads Kafka
directly:

- its own consumer group (``<app_id>-engine``), auto-commit off, the range
  assignor (partition N of every source topic goes to the same member);
- ``on_partitions_assigned`` restores each new partition from its changelog
  records (the latest per state key of the checkpoints that finished) and seeks
  every source to the checkpoint's offsets before anything is fetched;
  ``on_partitions_revoked`` writes a last checkpoint for the partitions it loses;
- one loop: ``getmany``, each partition's batch applied and advanced once, outputs
  sent without awaiting each send, idle partitions advanced on a wall-clock timer;
- a checkpoint (every ``checkpoint_interval_s`` or ``checkpoint_events``; one
  partition's at a time) writes the state keys changed since the last one in
  chunks, one chunk per turn of the loop (:class:`CheckpointWrite`), then, once
  they and every output sent before it are acknowledged, its offsets record; only
  once that is acknowledged are the group offsets committed to its offsets;
- a batch that starts past the next expected offset is dropped and its partition
  re-sought (``slamon_offset_gaps_total``); the same start twice is a real hole in
  the log (retention, transaction markers) and is accepted.

One lock serialises batches, checkpoints and rebalance callbacks, so a
rebalance never sees half a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import mode
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.stream.checkpoints import CheckpointWrite, changelog_topic, read_changelog
from monitor.stream.processor import Outgoing, Processor, Record

__all__ = ["PRODUCER_MAX_REQUEST_SIZE", "EngineService", "engine_group"]

log = structlog.get_logger("slamon.worker")

#: Room for checkpoints and dead letters above the 1 MB default.
PRODUCER_MAX_REQUEST_SIZE = 4 * 1024 * 1024
#: A checkpoint chunk of 1,000 state records fits a few batches, not a hundred.
PRODUCER_BATCH_SIZE = 1024 * 1024
#: The loop's longest wait for records while a checkpoint is being written.
WRITING_POLL_MS = 10

OnAssigned = Callable[[set[int], set[int]], None]
OnCrash = Callable[[BaseException], Awaitable[None]]


def engine_group(settings: Settings) -> str:
    return f"{settings.app_id}-engine"


class EngineService(mode.Service):
    """Runs :class:`Processor` on batches from an aiokafka group consumer."""

    def __init__(
        self,
        settings: Settings,
        processor: Processor,
        metrics: Metrics,
        *,
        on_assigned: OnAssigned,
        on_revoked: Callable[[], None],
        on_crash: OnCrash,
        **kwargs: Any,
    ) -> None:
        self.settings = settings
        self.processor = processor
        self.metrics = metrics
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.on_crash = on_crash
        self.changelog = changelog_topic(settings)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.owned: set[TopicPartition] = set()
        self._lock = asyncio.Lock()
        self._pending: list[asyncio.Future[Any]] = []
        self._gap_at: dict[TopicPartition, int] = {}
        self._tps: dict[tuple[str, int], TopicPartition] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._write: CheckpointWrite | None = None
        self._frozen = False
        super().__init__(**kwargs)

    # -- lifecycle ------------------------------------------------------------------

    async def on_start(self) -> None:
        settings = self.settings
        kafka = settings.kafka_client_kwargs()
        self.producer = AIOKafkaProducer(
            **kafka,
            linger_ms=5,
            acks="all",
            max_request_size=PRODUCER_MAX_REQUEST_SIZE,
            max_batch_size=PRODUCER_BATCH_SIZE,
        )
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(
            **kafka,
            group_id=engine_group(settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=min(3000, settings.session_timeout_ms // 5),
        )
        self.consumer.subscribe(list(self.processor.sources), listener=_Listener(self))
        await self.consumer.start()
        self._loop_task = asyncio.create_task(self._run(), name="slamon-engine")

    async def on_stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        try:
            async with self._lock:
                await self._checkpoint_now(self._owned_partitions(), time.time(), force=False)
        except Exception as exc:  # the next owner re-reads from the last good checkpoint
            log.warning("final_checkpoint_failed", error=repr(exc))
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()

    def end_offset(self, topic: str, partition: int) -> int | None:
        """The last end offset the consumer saw for an owned source (None: not known yet)."""
        consumer = self.consumer
        if consumer is None:
            return None
        tp = self._tp(topic, partition)
        if tp not in self.owned:
            return None
        highwater = consumer.highwater(tp)
        return int(highwater) if highwater is not None else None

    # -- the loop -------------------------------------------------------------------

    async def _run(self) -> None:
        assert self.consumer is not None
        consumer = self.consumer
        tick_ms = int(self.settings.tick_interval_s * 1000)
        max_records = self.settings.max_batch_records
        next_tick = 0.0
        try:
            while True:
                wait_ms = tick_ms if self._write is None else WRITING_POLL_MS
                batches = await consumer.getmany(timeout_ms=wait_ms, max_records=max_records)
                now = time.time()
                async with self._lock:
                    touched = await self._process(batches, now)
                    if now >= next_tick:
                        next_tick = now + self.settings.tick_interval_s
                        for partition in self._owned_partitions() - touched:
                            await self._publish(self.processor.tick(partition, now))
                    self._check_sends()
                    await self._checkpoint_step(now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("engine_crashed", error=repr(exc))
            await self.on_crash(exc)

    async def _process(self, batches: dict[TopicPartition, list[Any]], now: float) -> set[int]:
        """Apply every partition's records; returns the partitions that got records."""
        by_partition: dict[int, list[Record]] = {}
        for tp, batch in batches.items():
            if not batch or tp not in self.owned or self._gap(tp, batch[0].offset):
                continue
            records = by_partition.setdefault(tp.partition, [])
            records.extend(
                Record(
                    r.topic,
                    r.partition,
                    r.offset,
                    r.key,
                    r.value,
                    tuple(r.headers) if r.headers else (),
                    r.timestamp / 1000 if r.timestamp is not None and r.timestamp >= 0 else None,
                )
                for r in batch
            )
        for partition, records in by_partition.items():
            await self._publish(self.processor.handle_batch(partition, records, now))
        return set(by_partition)

    def _gap(self, tp: TopicPartition, first: int) -> bool:
        """True (and the partition re-sought) when a batch starts past the expected offset."""
        state = self.processor.states.get(tp.partition)
        expected = state.source(tp.topic).next_offset if state is not None else None
        if expected is None or first <= expected or self._gap_at.get(tp) == first:
            self._gap_at.pop(tp, None)
            return False
        self._gap_at[tp] = first
        self.metrics.offset_gaps.labels(tp.topic).inc()
        log.warning(
            "offset_gap", topic=tp.topic, partition=tp.partition, expected=expected, got=first
        )
        assert self.consumer is not None
        self.consumer.seek(tp, expected)
        return True

    async def _publish(self, outgoing: Iterable[Outgoing]) -> None:
        """Hand records to the producer in order, without waiting for each acknowledgement."""
        assert self.producer is not None
        send = self.producer.send
        pending = self._pending
        for out in outgoing:
            headers = list(out.headers) or None
            pending.append(await send(out.topic, value=out.value, key=out.key, headers=headers))

    def _check_sends(self) -> None:
        """Raise the first failed send; forget the acknowledged ones."""
        still: list[asyncio.Future[Any]] = []
        for future in self._pending:
            if future.done():
                future.result()
            else:
                still.append(future)
        self._pending = still

    # -- checkpoints ----------------------------------------------------------------

    def _most_overdue(self, now: float) -> int | None:
        due = [
            (state.last_checkpoint_at, p)
            for p, state in self.processor.states.items()
            if self.processor.checkpoint_due(state, now)
        ]
        return min(due)[1] if due else None

    def _begin(self, partition: int, now: float) -> CheckpointWrite:
        """Take the partition's checkpoint: the outputs sent so far must land before it."""
        state = self.processor.states[partition]
        write = CheckpointWrite(state, self.changelog, self._pending)
        Processor.checkpointed(state, now)
        return write

    async def _checkpoint_step(self, now: float) -> None:
        """One turn's share of checkpointing: start the most overdue partition's
        checkpoint, or move the one being written on by one chunk."""
        assert self.producer is not None
        if self._write is None:
            due = self._most_overdue(now)
            if due is None:
                return
            self._write = self._begin(due, now)
        if await self._write.step(self.producer):
            write, self._write = self._write, None
            await self._commit([write])

    async def _checkpoint_now(
        self, partitions: set[int], now: float, *, force: bool = True
    ) -> None:
        """Finish the checkpoint being written, then write the partitions' at once (a
        revoke or a stop) and commit their offsets."""
        assert self.producer is not None
        writes = [self._write] if self._write is not None else []
        self._write = None
        writes += [
            self._begin(p, now)
            for p in sorted(partitions)
            if (state := self.processor.states.get(p)) is not None
            and (force or state.events_since_checkpoint)
        ]
        for write in writes:
            await write.finish(self.producer)
        await self._commit(writes)

    async def _commit(self, writes: list[CheckpointWrite]) -> None:
        """Group offsets follow the checkpoints (lag dashboards); failure is not fatal."""
        assert self.consumer is not None
        offsets = {
            tp: offset
            for write in writes
            for topic, offset in write.offsets.items()
            if (tp := self._tp(topic, write.partition)) in self.owned
        }
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("offsets_commit_failed", error=repr(exc))

    # -- rebalances -----------------------------------------------------------------

    async def partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self.on_revoked()
            partitions = {tp.partition for tp in revoked if tp.topic in self.processor.sources}
            await self._checkpoint_now(partitions, time.time(), force=False)
            self.owned -= revoked

    async def partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Restore new partitions, seek every source to its state's offsets, become ready."""
        assert self.consumer is not None
        async with self._lock:
            processor = self.processor
            sources = [tp for tp in assigned if tp.topic in processor.sources]
            partitions = {tp.partition for tp in sources}
            if self._write is not None and self._write.partition not in partitions:
                self._write = None  # another member owns it now: its writes would interleave
            processor.drop(set(processor.states) - partitions)
            new = partitions - set(processor.states)
            changelog = await read_changelog(self.settings, new)
            processor.resume(new, changelog)
            restored = {p for p in new if processor.states[p].restored}
            fresh = [tp for tp in sources if tp.partition in new - restored]
            if fresh:
                for tp, earliest in (await self.consumer.beginning_offsets(fresh)).items():
                    processor.raise_position(tp.topic, tp.partition, int(earliest))
            self.owned = set(assigned)
            self._gap_at.clear()
            for tp in sources:
                offset = processor.states[tp.partition].source(tp.topic).next_offset
                self.consumer.seek(tp, offset or 0)
            log.info(
                "partitions_resumed",
                partitions=sorted(partitions),
                from_checkpoint=sorted(restored),
                kept=sorted(partitions - new),
            )
            if not self._frozen:
                self._frozen = True
                gc.freeze()  # start-up objects (rules, calendars) leave the collector's scans
            self.on_assigned(partitions, restored)

    def _owned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.owned if tp.topic in self.processor.sources}

    def _tp(self, topic: str, partition: int) -> TopicPartition:
        tp = self._tps.get((topic, partition))
        if tp is None:
            tp = self._tps[(topic, partition)] = TopicPartition(topic, partition)
        return tp


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Rebalance callbacks; a failure crashes the worker (aiokafka would only log it
    and go on fetching partitions whose state was never restored)."""

    def __init__(self, service: EngineService) -> None:
        self.service = service

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        try:
            await self.service.partitions_revoked(set(revoked))
        except Exception as exc:
            log.error("partitions_revoked_failed", error=repr(exc))
            await self.service.on_crash(exc)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        try:
            await self.service.partitions_assigned(set(assigned))
        except Exception as exc:
            log.error("partitions_assigned_failed", error=repr(exc))
            await self.service.on_crash(exc)
