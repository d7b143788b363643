"""Chunked checkpoint writes, without a broker: a recording producer builds real
aiokafka batches and the test acknowledges them by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.domain.agreement import BusinessTime, ItemObjective
from monitor.domain.calendar import BusinessCalendar
from monitor.stream.checkpoints import CHUNK_RECORDS, CheckpointWrite, send_records
from monitor.stream.state import ChangelogRecord, PartitionState
from tests.recording_producer import RecordingProducer
from tests.support import agreement, event

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
AGREEMENTS = [
    agreement(
        ItemObjective(
            "fr", "first_response", BusinessTime(86400), BusinessCalendar.always_open("UTC")
        )
    )
]
TOPIC = "slamon-engine-changelog"
PARTITION = 1
OFFSETS_KEY = b"p1/offsets"


def _state(items: int) -> PartitionState:
    state = PartitionState.fresh(PARTITION, AGREEMENTS, lateness=0.0)
    for n in range(items):
        at = (START + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z")
        state.engine.apply(event("ticket.created", at, ticket_id=f"T{n}", channel="email"))
    state.source("slamon.tickets").next_offset = items
    return state


async def _steps_until_stuck(write: CheckpointWrite, producer: RecordingProducer) -> int:
    """Step until a step sends nothing more; returns how many steps sent something."""
    steps = 0
    while True:
        before = len(producer.sent_keys())
        await write.step(producer)  # type: ignore[arg-type]
        if len(producer.sent_keys()) == before:
            return steps
        steps += 1


async def _chunks_then_offsets(items: int) -> None:
    state = _state(items)
    producer = RecordingProducer()
    write = CheckpointWrite(state, TOPIC)
    data = len(write.records) - 1

    sizes = []
    for _ in range(-(-data // CHUNK_RECORDS)):
        before = len(producer.sent_keys())
        assert not await write.step(producer)  # type: ignore[arg-type]
        sizes.append(len(producer.sent_keys()) - before)
    assert sizes[:-1] == [CHUNK_RECORDS] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= CHUNK_RECORDS
    assert OFFSETS_KEY not in producer.sent_keys()

    assert await _steps_until_stuck(write, producer) == 0  # nothing acknowledged yet
    producer.acknowledge()
    assert await _steps_until_stuck(write, producer) == 1
    assert producer.sent_keys()[-1] == OFFSETS_KEY
    assert producer.sent_keys().count(OFFSETS_KEY) == 1
    assert not write.done

    producer.acknowledge()
    assert await write.step(producer)  # type: ignore[arg-type]
    assert write.done
    assert write.offsets == {"slamon.tickets": items}


def test_a_checkpoint_goes_out_in_chunks_of_at_most_a_thousand_and_its_offsets_last() -> None:
    asyncio.run(_chunks_then_offsets(2_500))


def test_a_small_checkpoint_is_one_chunk_then_its_offsets() -> None:
    asyncio.run(_chunks_then_offsets(10))


async def _outputs_first() -> None:
    loop = asyncio.get_running_loop()
    alert: asyncio.Future[Any] = loop.create_future()
    producer = RecordingProducer()
    write = CheckpointWrite(_state(5), TOPIC, [alert])
    await _steps_until_stuck(write, producer)
    producer.acknowledge()
    await _steps_until_stuck(write, producer)
    assert OFFSETS_KEY not in producer.sent_keys()  # an alert of a covered event is in flight
    alert.set_result(None)
    await _steps_until_stuck(write, producer)
    assert producer.sent_keys()[-1] == OFFSETS_KEY


def test_the_offsets_record_waits_for_the_outputs_sent_before_the_checkpoint() -> None:
    asyncio.run(_outputs_first())


async def _failed_ack() -> None:
    state = _state(5)
    producer = RecordingProducer()
    write = CheckpointWrite(state, TOPIC)
    written = {r.key.decode().removeprefix("p1/") for r in write.records[:-1]}
    await _steps_until_stuck(write, producer)
    producer.sent[0][1].set_exception(RuntimeError("broker said no"))
    with pytest.raises(RuntimeError, match="broker said no"):
        await write.step(producer)  # type: ignore[arg-type]
    assert OFFSETS_KEY not in producer.sent_keys()
    assert not write.done
    assert written <= state.rewrite  # the next checkpoint writes them again


def test_a_failed_acknowledgement_raises_and_sends_no_offsets_record() -> None:
    asyncio.run(_failed_ack())


async def _finish() -> None:
    producer = RecordingProducer()
    write = CheckpointWrite(_state(2_500), TOPIC)
    finishing = asyncio.create_task(write.finish(producer))  # type: ignore[arg-type]
    while len(producer.sent_keys()) < len(write.records) - 1:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert OFFSETS_KEY not in producer.sent_keys()
    producer.acknowledge()
    while OFFSETS_KEY not in producer.sent_keys():
        await asyncio.sleep(0)
    assert not finishing.done()
    producer.acknowledge()
    await finishing
    assert write.done


def test_finishing_at_once_still_waits_for_the_records_before_the_offsets() -> None:
    asyncio.run(_finish())


async def _batches(records: list[ChangelogRecord], batch_size: int) -> list[list[bytes]]:
    producer = RecordingProducer(batch_size)
    acks = await send_records(producer, TOPIC, PARTITION, records)  # type: ignore[arg-type]
    assert len(acks) == len(producer.sent)
    return [keys for keys, _ in producer.sent]


def test_records_that_outgrow_a_batch_go_in_the_next_in_order() -> None:
    records = [ChangelogRecord(f"p1/k{n}".encode(), b"x" * 300, 1) for n in range(50)]
    batches = asyncio.run(_batches(records, 4096))
    assert len(batches) > 1
    assert [key for keys in batches for key in keys] == [r.key for r in records]


def test_a_record_bigger_than_a_batch_still_goes_alone() -> None:
    records = [ChangelogRecord(b"p1/big", b"x" * 10_000, 1)]
    assert asyncio.run(_batches(records, 4096)) == [[b"p1/big"]]
