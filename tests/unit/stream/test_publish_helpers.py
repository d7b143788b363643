"""The pure parts of `slamon produce` / `simulate --kafka`: start instants, brokers, routing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.settings import Settings, Topics
from monitor.stream.kafka_commands import NoBrokersError, parse_start, require_brokers
from monitor.stream.simulate_live import event_route


def test_now_is_the_current_minute_in_utc() -> None:
    now = datetime(2026, 11, 22, 5, 44, 31, 120_000, tzinfo=UTC)
    assert parse_start("now", now=now) == datetime(2026, 11, 22, 5, 44, tzinfo=UTC)
    assert parse_start(" NOW ", now=now) == datetime(2026, 11, 22, 5, 44, tzinfo=UTC)


def test_an_instant_needs_an_offset() -> None:
    assert parse_start("2026-11-23T08:00:00Z") == datetime(2026, 11, 23, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="needs an offset"):
        parse_start("2026-11-23T08:00:00")


def test_publishing_needs_configured_brokers() -> None:
    with pytest.raises(NoBrokersError, match="SLAMON_KAFKA_BROKERS"):
        require_brokers(Settings(kafka_brokers=[]))
    settings = Settings(kafka_brokers=["k1:9092"])
    assert require_brokers(settings) is settings


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("call.offered", "slamon.calls"),
        ("chat.agent_message", "slamon.chats"),
        ("ticket.status_changed", "slamon.tickets"),
        ("survey.response", "slamon.surveys"),
        ("service.status", "slamon.services"),
    ],
)
def test_simulated_events_go_to_their_family_topic_keyed_by_contract(
    event_type: str, topic: str
) -> None:
    event = {"type": event_type, "contract_id": "\u5317\u4eac-1"}
    assert event_route(event, Topics()) == (topic, "\u5317\u4eac-1".encode())
