"""The engine service's gap guard, without a broker: a stub consumer records the seeks."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import TopicPartition

from monitor.domain.agreement import Agreement
from monitor.metrics import Metrics
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.stream.engine_service import EngineService
from monitor.stream.processor import Processor

SETTINGS = Settings(kafka_brokers=["k:9092"])
TICKETS = SETTINGS.topics.tickets
RULES = """\
version: slamon/v1
contract: live
title: One objective
objectives:
  - {id: email-20s, kind: first_response, match: {channel: email}, within: 20s}
"""


class StubConsumer:
    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


@pytest.fixture
def agreements(tmp_path: Path) -> list[Agreement]:
    (tmp_path / "live.yaml").write_text(RULES)
    loaded, problems = load_rules([tmp_path])
    assert not problems
    return loaded


def service_at(agreements: list[Agreement], next_offset: int) -> tuple[EngineService, StubConsumer]:
    metrics = Metrics()
    processor = Processor(SETTINGS, agreements, metrics, end_offset=lambda t, p: None)
    processor.resume([0])
    processor.states[0].source(TICKETS).next_offset = next_offset
    service = EngineService(
        SETTINGS,
        processor,
        metrics,
        on_assigned=lambda partitions, restored: None,
        on_revoked=lambda: None,
        on_crash=lambda exc: None,  # type: ignore[arg-type,return-value]
    )
    consumer = StubConsumer()
    service.consumer = consumer  # type: ignore[assignment]
    return service, consumer


def gaps(service: EngineService) -> float:
    return (
        service.metrics.registry.get_sample_value("slamon_offset_gaps_total", {"topic": TICKETS})
        or 0
    )


@pytest.mark.parametrize("first", [5, 3])
def test_a_batch_that_starts_at_or_before_the_expected_offset_is_taken(
    agreements: list[Agreement], first: int
) -> None:
    service, consumer = service_at(agreements, 5)
    assert not service._gap(TopicPartition(TICKETS, 0), first)
    assert consumer.seeks == []
    assert gaps(service) == 0


def test_a_batch_past_the_expected_offset_is_dropped_and_the_partition_re_sought(
    agreements: list[Agreement],
) -> None:
    service, consumer = service_at(agreements, 5)
    tp = TopicPartition(TICKETS, 0)
    assert service._gap(tp, 9)
    assert consumer.seeks == [(tp, 5)]
    assert gaps(service) == 1
    assert not service._gap(tp, 5)  # the re-read starts where expected


def test_the_same_gap_twice_is_a_hole_in_the_log_and_is_accepted(
    agreements: list[Agreement],
) -> None:
    service, consumer = service_at(agreements, 5)
    tp = TopicPartition(TICKETS, 0)
    assert service._gap(tp, 9)
    assert not service._gap(tp, 9)  # offsets 5-8 are gone (retention, transaction markers)
    assert consumer.seeks == [(tp, 5)]
    assert gaps(service) == 1


def test_a_failed_restore_crashes_the_worker_instead_of_fetching_without_state() -> None:
    import asyncio

    from monitor.stream.engine_service import _Listener

    crashes: list[BaseException] = []

    class FailingService:
        async def partitions_assigned(self, assigned: set[TopicPartition]) -> None:
            raise OSError("changelog unreadable")

        async def on_crash(self, exc: BaseException) -> None:
            crashes.append(exc)

    listener = _Listener(FailingService())  # type: ignore[arg-type]
    asyncio.run(listener.on_partitions_assigned([TopicPartition(TICKETS, 0)]))
    assert [str(c) for c in crashes] == ["changelog unreadable"]


class CommitRecorder(StubConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.commits: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


def test_group_offsets_are_committed_only_once_the_offsets_record_is_acknowledged(
    agreements: list[Agreement],
) -> None:
    import asyncio

    from tests.recording_producer import RecordingProducer
    from tests.support import event

    async def run() -> None:
        service, _ = service_at(agreements, 5)
        consumer = CommitRecorder()
        producer = RecordingProducer()
        service.consumer = consumer  # type: ignore[assignment]
        service.producer = producer  # type: ignore[assignment]
        service.owned = {TopicPartition(TICKETS, 0)}
        state = service.processor.states[0]
        state.engine.apply(
            event(
                "ticket.created",
                "2026-11-20T13:00:00Z",
                contract_id="live",
                ticket_id="T1",
                channel="email",
            )
        )
        state.events_since_checkpoint = 1
        for _ in range(5):
            await service._checkpoint_step(now=1.0)
        offsets_key = b"p0/offsets"
        assert offsets_key not in producer.sent_keys()  # the state records are not acknowledged
        producer.acknowledge()
        for _ in range(5):
            await service._checkpoint_step(now=1.0)
        assert producer.sent_keys()[-1] == offsets_key
        assert consumer.commits == []
        producer.acknowledge()
        await service._checkpoint_step(now=1.0)
        assert consumer.commits == [{TopicPartition(TICKETS, 0): 5}]

    asyncio.run(run())
