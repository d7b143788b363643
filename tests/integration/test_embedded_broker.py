"""The embedded Tansu broker: lifecycle, no orphans, topics, and real clients on it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.settings import Settings
from monitor.stream.embedded_broker import (
    EMBEDDED_BROKER_WARNING,
    EmbeddedBroker,
    EmbeddedBrokerError,
    _die_with_parent,
)

TopicFactory = Callable[..., str]
RecordReader = Callable[..., Awaitable[list[Any]]]

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def process_gone(pid: int, within_s: float = 5.0) -> bool:
    """True once ``pid`` no longer exists (or is a zombie awaiting its reaper)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        except OSError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            state = "?"
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# -- lifecycle -------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_the_broker_listens_on_loopback_and_answers_metadata(
    kafka_broker: EmbeddedBroker,
) -> None:
    from aiokafka import AIOKafkaClient

    async def brokers() -> list[Any]:
        client = AIOKafkaClient(bootstrap_servers=kafka_broker.bootstrap_servers)
        await client.bootstrap()
        try:
            return list(client.cluster.brokers())
        finally:
            await client.close()

    assert kafka_broker.host == "127.0.0.1"
    assert kafka_broker.bootstrap_servers == f"127.0.0.1:{kafka_broker.port}"
    assert kafka_broker.url == f"kafka://127.0.0.1:{kafka_broker.port}"
    [node] = asyncio.run(brokers())
    assert (node.host, node.port) == ("127.0.0.1", kafka_broker.port)


@pytest.mark.timeout(30)
def test_leaving_the_block_kills_the_broker_and_frees_its_port() -> None:
    with EmbeddedBroker() as broker:
        pid, port = broker.pid, broker.port
        assert pid is not None
        assert broker.running
    assert not broker.running
    assert process_gone(pid)
    assert port_is_free(port)


@pytest.mark.timeout(30)
def test_an_exception_in_the_block_still_stops_the_broker() -> None:
    pids: list[int | None] = []

    def fail_inside() -> None:
        with EmbeddedBroker() as broker:
            pids.append(broker.pid)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    [pid] = pids
    assert pid is not None
    assert process_gone(pid)


@pytest.mark.timeout(30)
def test_stop_is_idempotent_and_the_address_is_gone_after_it() -> None:
    broker = EmbeddedBroker().start()
    broker.stop()
    broker.stop()
    with pytest.raises(EmbeddedBrokerError, match="not running"):
        _ = broker.bootstrap_servers


CHILD = textwrap.dedent(
    """
    import signal, time
    from monitor.stream.embedded_broker import EmbeddedBroker
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    broker = EmbeddedBroker().start()
    print(broker.pid, flush=True)
    time.sleep(30)
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name
)
def test_the_broker_dies_with_its_owner(signum: signal.Signals) -> None:
    """Ctrl-C, a kill and even SIGKILL of the owning process leave no orphan broker."""
    owner = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the KeyboardInterrupt traceback is expected
        preexec_fn=_die_with_parent,  # the owner itself must not outlive a killed pytest
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert owner.stdout is not None
        broker_pid = int(owner.stdout.readline())
        assert not process_gone(broker_pid, within_s=0.2)
        owner.send_signal(signum)
        # stopping the broker may take SIGTERM + 5 s + SIGKILL + 5 s; a loaded machine adds more
        owner.wait(timeout=40)
        assert process_gone(broker_pid), f"broker {broker_pid} outlived its owner ({signum.name})"
    finally:
        owner.kill()
        owner.wait(timeout=5)


@pytest.mark.timeout(30)
def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedBrokerError, match="cannot run the Tansu binary"):
        EmbeddedBroker(binary=str(tmp_path / "no-tansu")).start()


def test_the_warning_says_nothing_is_kept() -> None:
    assert "keeps NOTHING across restarts" in EMBEDDED_BROKER_WARNING


# -- topics and clients ------------------------------------------------------------


@pytest.mark.timeout(30)
def test_create_topics_sets_partitions_and_tolerates_existing_topics(
    kafka_broker: EmbeddedBroker, topic_factory: TopicFactory
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    name = topic_factory("parts", partitions=3)
    kafka_broker.create_topics([name], partitions=3)

    async def partitions() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap_servers)
        await admin.start()
        try:
            [description] = await admin.describe_topics([name])
            return len(description["partitions"])
        finally:
            await admin.close()

    assert asyncio.run(partitions()) == 3


@pytest.mark.timeout(30)
def test_create_topics_also_works_inside_a_running_event_loop(
    kafka_broker: EmbeddedBroker, topic_factory: TopicFactory
) -> None:
    name = f"{topic_factory('seed')}.in-loop"

    async def from_a_coroutine() -> None:
        kafka_broker.create_topics([name], partitions=2)
        await kafka_broker.acreate_topics([name], partitions=2)

    asyncio.run(from_a_coroutine())


@pytest.mark.timeout(60)
def test_records_round_trip_with_keys_through_a_consumer_group(
    kafka_broker: EmbeddedBroker, unique_topic: str
) -> None:
    """A plain aiokafka group consumer reads back every keyed record produced."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    count = 100
    sent = {f"k{i % 10}:{i}".encode() for i in range(count)}

    async def roundtrip() -> set[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
        await producer.start()
        try:
            for value in sent:
                await producer.send(unique_topic, value=value, key=value.split(b":")[0])
            await producer.flush()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            unique_topic,
            bootstrap_servers=kafka_broker.bootstrap_servers,
            group_id=f"group-{unique_topic}",
            auto_offset_reset="earliest",
            session_timeout_ms=4000,
            heartbeat_interval_ms=500,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        received: set[bytes] = set()
        try:
            async with asyncio.timeout(40):
                async for record in consumer:
                    assert record.value.split(b":")[0] == record.key
                    received.add(record.value)
                    if len(received) == count:
                        break
        finally:
            await consumer.stop()
        return received

    assert asyncio.run(roundtrip()) == sent


@pytest.mark.timeout(60)
def test_the_reader_fixture_sees_exactly_what_was_produced(
    kafka_broker: EmbeddedBroker, unique_topic: str, read_records: RecordReader
) -> None:
    from aiokafka import AIOKafkaProducer

    async def produce_then_read() -> list[Any]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers)
        await producer.start()
        try:
            for i in range(20):
                await producer.send(unique_topic, value=str(i).encode(), key=b"c")
            await producer.flush()
        finally:
            await producer.stop()
        return await read_records([unique_topic], 20)

    records = asyncio.run(produce_then_read())
    assert sorted(int(r.value) for r in records) == list(range(20))


# -- Faust on Tansu ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_faust_agent_counts_messages_into_a_table(kafka_settings: Settings) -> None:
    """The Faust app joins, consumes with the low fetch wait and writes a memory table."""
    from aiokafka import AIOKafkaProducer

    from monitor.stream.faust_app import make_app

    count = 300
    app = make_app(kafka_settings)
    source = app.topic(kafka_settings.topics.calls, value_serializer="raw")
    counts = app.Table("counts", default=int)
    processed = 0
    all_done = asyncio.Event()

    @app.agent(source)
    async def count_by_key(stream: Any) -> None:
        nonlocal processed
        async for key, _value in stream.items():
            counts[key.decode()] += 1
            processed += 1
            if processed == count:
                all_done.set()

    async def run() -> dict[str, float]:
        producer = AIOKafkaProducer(**kafka_settings.kafka_client_kwargs())
        await producer.start()
        started = time.monotonic()
        try:
            await app.start()
            thread = app.consumer._thread
            assert thread._consumer._fetcher._fetch_max_wait_ms == kafka_settings.fetch_max_wait_ms
            joined = time.monotonic()
            for i in range(count):
                await producer.send(
                    kafka_settings.topics.calls, value=b"{}", key=f"contract-{i % 5}".encode()
                )
            await producer.flush()
            produced = time.monotonic()
            await asyncio.wait_for(all_done.wait(), timeout=30)
            return {
                "join_s": joined - started,
                "drain_s": time.monotonic() - produced,
            }
        finally:
            await producer.stop()
            await asyncio.wait_for(app.stop(), timeout=15)

    timings = asyncio.run(run())
    print(f"faust on tansu: {timings}")
    assert dict(counts.items()) == {f"contract-{i}": count // 5 for i in range(5)}
    assert timings["join_s"] < kafka_settings.session_timeout_ms / 1000 + 10
    assert timings["drain_s"] < 10
