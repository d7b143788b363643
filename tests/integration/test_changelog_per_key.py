"""Checkpoints per state key on the embedded broker: written, read back, and a
checkpoint whose offsets record never landed ignored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from monitor.domain.agreement import BusinessTime, ItemObjective
from monitor.domain.calendar import BusinessCalendar
from monitor.settings import Settings
from monitor.stream.checkpoints import changelog_topic, read_changelog, send_records
from monitor.stream.embedded_broker import EmbeddedBroker
from monitor.stream.state import ChangelogRecord, PartitionState
from tests.support import agreement, event

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
AGREEMENTS = [
    agreement(
        ItemObjective(
            "fr", "first_response", BusinessTime(86400), BusinessCalendar.always_open("UTC")
        )
    )
]
PARTITION = 2


def _iso(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def _write(settings: Settings, *checkpoints: list[ChangelogRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_brokers)
    await producer.start()
    try:
        for records in checkpoints:
            await send_records(producer, changelog_topic(settings), PARTITION, records)
        await producer.flush()
    finally:
        await producer.stop()


def test_a_restore_keeps_finished_checkpoints_and_ignores_an_unfinished_one(
    kafka_broker: EmbeddedBroker, kafka_settings: Settings
) -> None:
    kafka_broker.create_topics([changelog_topic(kafka_settings)], 4)
    state = PartitionState.fresh(PARTITION, AGREEMENTS, lateness=0.0)
    engine = state.engine
    engine.apply(event("ticket.created", _iso(0), ticket_id="kept", channel="email"))
    engine.apply(event("ticket.created", _iso(1), ticket_id="gone", channel="email"))
    engine.apply(event("ticket.status_changed", _iso(2), ticket_id="gone", status="closed"))
    state.source("slamon.tickets").next_offset = 3
    first = state.checkpoint_records()
    engine.advance(START.timestamp() + 9 * 86400)  # "gone" is forgotten: a tombstone
    state.source("slamon.tickets").next_offset = 4
    second = state.checkpoint_records()
    assert any(r.value is None for r in second)
    engine.apply(event("ticket.created", _iso(9 * 86400), ticket_id="lost", channel="email"))
    state.source("slamon.tickets").next_offset = 5
    third = state.checkpoint_records()
    asyncio.run(_write(kafka_settings, first, second, third[:-1]))  # died before offsets

    readers = asyncio.run(read_changelog(kafka_settings, [PARTITION, 0]))
    assert readers[0].state(AGREEMENTS, lateness=0.0) is None  # nothing on partition 0
    restored = readers[PARTITION].state(AGREEMENTS, lateness=0.0)
    assert restored is not None
    assert restored.offsets() == {"slamon.tickets": 4}
    assert set(restored.engine.contracts["acme"].items.items) == {"ticket:kept"}
    assert restored.seq == 3
    assert "i/acme/ticket:lost" in restored.rewrite
