"""The worker's record handling without Kafka: dead letters, re-keying, held watermark, state."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from monitor.domain.agreement import Agreement
from monitor.metrics import Metrics
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.stream.processor import (
    HEADER_ERROR,
    HEADER_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
    HEADER_TRUNCATED,
    MAX_DEADLETTER_BYTES,
    Outgoing,
    Processor,
    Record,
)
from monitor.stream.state import PartitionState, SourceProgress
from monitor.stream.ticks import held_watermark

RULES = """\
version: slamon/v1
contract: live
title: Seconds-long deadlines
objectives:
  - {id: email-20s, kind: first_response, match: {channel: email}, within: 20s}
"""
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
SETTINGS = Settings(kafka_brokers=["k:9092"], lateness_s=5, tick_interval_s=1)
TOPICS = SETTINGS.topics


@pytest.fixture(scope="module")
def agreements(tmp_path_factory: pytest.TempPathFactory) -> list[Agreement]:
    folder = tmp_path_factory.mktemp("rules")
    (folder / "live.yaml").write_text(RULES)
    loaded, problems = load_rules([Path(folder)])
    assert not problems
    return loaded


class Harness:
    """A processor over one partition whose end offsets the test sets."""

    def __init__(self, agreements: list[Agreement], settings: Settings = SETTINGS) -> None:
        self.ends: dict[tuple[str, int], int] = {}
        self.saved: dict[int, bytes] = {}
        self.metrics = Metrics()
        self.offsets: dict[str, int] = {}
        self.processor = Processor(
            settings,
            agreements,
            self.metrics,
            end_offset=lambda topic, partition: self.ends.get((topic, partition), 0),
            load_checkpoint=self.saved.get,
        )
        self.processor.resume([0])

    def send(
        self, topic: str, value: bytes, *, key: bytes | None = b"live", now: float
    ) -> list[Outgoing]:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        self.ends[(topic, 0)] = max(self.ends.get((topic, 0), 0), offset + 1)
        return self.processor.handle(Record(topic, 0, offset, key, value, (), now), now)

    def tick(self, now: float) -> list[Outgoing]:
        return self.processor.tick(0, now)

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def ticket(kind: str, ts: float, **extra: Any) -> bytes:
    body = {
        "event_id": f"{kind}-{extra.get('ticket_id', 'T1')}-{ts}",
        "type": kind,
        "ts": f"{ts}",
        "contract_id": "live",
        "ticket_id": "T1",
        **extra,
    }
    from monitor.domain.alerts import format_instant

    body["ts"] = format_instant(ts)
    return json.dumps(body).encode()


def alerts(out: list[Outgoing]) -> list[dict[str, Any]]:
    return [json.loads(o.value) for o in out if o.topic == TOPICS.alerts]


# -- dead letters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_encoding"),
        (b"[1, 2]", "not_object"),
        (b'{"type": "ticket.created", "contract_id": "live"}', "missing_field"),
        (
            b'{"event_id": 7, "type": "ticket.created", "ts": "2027-01-01T00:00:00Z",'
            b' "contract_id": "live", "ticket_id": "T", "channel": "email"}',
            "wrong_type",
        ),
        (
            b'{"event_id": "e", "type": "fax.sent", "ts": "2027-01-01T00:00:00Z",'
            b' "contract_id": "live"}',
            "unknown_type",
        ),
        (
            b'{"event_id": "e", "type": "ticket.created", "ts": "2027-01-01T00:00:00Z",'
            b' "contract_id": "nobody", "ticket_id": "T", "channel": "email"}',
            "unknown_contract",
        ),
        (b"", "invalid_json"),
    ],
)
def test_invalid_records_go_to_the_deadletter_topic_with_reason_and_source(
    agreements: list[Agreement], value: bytes, reason: str
) -> None:
    harness = Harness(agreements)
    harness.send(TOPICS.tickets, b"{}", now=T0)  # offset 0
    before = harness.sample("slamon_events_invalid_total", reason=reason)
    [out] = harness.send(TOPICS.tickets, value, key=b"k", now=T0)
    headers = dict(out.headers)
    assert (out.topic, out.key, out.value) == (TOPICS.deadletter, b"k", value)
    assert headers[HEADER_REASON] == reason.encode()
    assert headers[HEADER_ERROR]
    assert headers[HEADER_SOURCE_TOPIC] == TOPICS.tickets.encode()
    assert (headers[HEADER_SOURCE_PARTITION], headers[HEADER_SOURCE_OFFSET]) == (b"0", b"1")
    assert harness.sample("slamon_events_invalid_total", reason=reason) == before + 1


def test_a_huge_value_is_dead_lettered_cut_to_size_with_its_length(
    agreements: list[Agreement],
) -> None:
    value = b'{"junk": "' + b"x" * (MAX_DEADLETTER_BYTES * 2) + b'"}'
    [out] = Harness(agreements).send(TOPICS.calls, value, now=T0)
    headers = dict(out.headers)
    assert headers[HEADER_REASON] == b"too_large"
    assert len(out.value) == MAX_DEADLETTER_BYTES
    assert headers[HEADER_TRUNCATED] == str(len(value)).encode()


def test_the_records_own_headers_are_kept_before_the_reason(agreements: list[Agreement]) -> None:
    processor = Harness(agreements).processor
    record = Record(TOPICS.calls, 0, 0, None, b"nope", (("trace", b"abc"),), T0)
    [out] = processor.handle(record, T0)
    assert out.headers[0] == ("trace", b"abc")


# -- re-keying ------------------------------------------------------------------------


def test_an_event_keyed_otherwise_is_rekeyed_by_contract_and_applied_from_there(
    agreements: list[Agreement],
) -> None:
    harness = Harness(agreements)
    created = ticket("ticket.created", T0, channel="email")
    [out] = harness.send(TOPICS.tickets, created, key=b"T1", now=T0)
    assert (out.topic, out.key, out.value) == (TOPICS.rekey, b"live", created)
    assert harness.sample("slamon_events_total", type="ticket.created") == 0
    assert harness.send(TOPICS.rekey, created, key=b"live", now=T0) == []
    assert harness.sample("slamon_events_total", type="ticket.created") == 1


# -- event time -------------------------------------------------------------------------


def test_ticks_hold_event_time_while_a_source_lags(agreements: list[Agreement]) -> None:
    harness = Harness(agreements)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    harness.ends[(TOPICS.tickets, 0)] = 5  # the reply may be among the unread records
    assert harness.tick(T0 + 600) == []  # held at the last event's time - lateness
    assert harness.processor.states[0].engine.watermark == T0 - 5
    harness.send(TOPICS.tickets, ticket("ticket.agent_reply", T0 + 10), now=T0 + 600)
    harness.ends[(TOPICS.tickets, 0)] = 2
    assert alerts(harness.tick(T0 + 700)) == []
    assert harness.processor.states[0].engine.watermark == T0 + 700 - 5


def test_the_deadline_of_an_unanswered_ticket_fires_by_wall_clock(
    agreements: list[Agreement],
) -> None:
    harness = Harness(agreements)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    assert alerts(harness.tick(T0 + 20)) == []  # 20 - 5 s lateness: not yet
    fired = alerts(harness.tick(T0 + 26))
    assert [(a["state"], a["event_time"]) for a in fired] == [
        ("at_risk", "2027-01-15T08:00:15Z"),  # the default warn_at, 75 %
        ("breached", "2027-01-15T08:00:20Z"),
    ]


def test_without_wall_clock_idle_partitions_stop_at_their_last_event(
    agreements: list[Agreement],
) -> None:
    settings = SETTINGS.model_copy(update={"follow_wall_clock": False})
    harness = Harness(agreements, settings)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    assert harness.tick(T0 + 3600) == []
    assert harness.processor.states[0].engine.watermark == T0 - 5


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ([], 95.0),  # nothing to wait for: the wall clock
        ([(SourceProgress(3, 50.0, 99.0), 3)], 45.0),  # caught up, not idle yet
        ([(SourceProgress(3, 50.0, 10.0), 3)], 95.0),  # caught up and idle
        ([(SourceProgress(3, 50.0, 10.0), 9)], 45.0),  # lagging
        ([(SourceProgress(3, 50.0, 10.0), None)], 45.0),  # end unknown: lagging
        ([(SourceProgress(1, 70.0, 99.0), 2), (SourceProgress(4, 40.0, 99.0), 8)], 35.0),
        ([(SourceProgress(1, 70.0, 99.0), 2), (SourceProgress(), 8)], -math.inf),
    ],
)
def test_the_held_watermark_is_the_slowest_active_source(
    sources: list[tuple[SourceProgress, int | None]], expected: float
) -> None:
    got = held_watermark(
        sources, now=100.0, lateness=5.0, idle_s=2.0, follow_wall_clock=True, max_event_time=70.0
    )
    assert got == expected


# -- state ------------------------------------------------------------------------------


def test_a_checkpoint_restores_the_engine_and_the_source_offsets(
    agreements: list[Agreement],
) -> None:
    harness = Harness(agreements)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    harness.send(TOPICS.calls, b"junk", now=T0)
    state = harness.processor.states[0]
    assert harness.processor.checkpoint_due(state, T0)
    blob = state.encode()

    again = Harness(agreements)
    again.saved[0] = blob
    targets = again.processor.resume([0])
    restored = again.processor.states[0]
    assert restored.restored
    assert targets[(TOPICS.tickets, 0)] == 1
    assert targets[(TOPICS.calls, 0)] == 1
    assert targets[(TOPICS.chats, 0)] == 0
    assert restored.engine.snapshot() == state.engine.snapshot()
    # a record inside the checkpoint is not applied again
    old = Record(TOPICS.tickets, 0, 0, b"live", ticket("ticket.created", T0, channel="email"))
    assert again.processor.handle(old, T0) == []
    assert restored.engine.counters.total == 1


def test_checkpoints_are_due_after_n_events_or_t_seconds(agreements: list[Agreement]) -> None:
    settings = SETTINGS.model_copy(update={"checkpoint_events": 3, "checkpoint_interval_s": 10})
    processor = Harness(agreements, settings).processor
    state = processor.states[0]
    processor.checkpointed(state, T0)
    assert not processor.checkpoint_due(state, T0 + 60)  # nothing new
    state.events_since_checkpoint = 1
    assert not processor.checkpoint_due(state, T0 + 5)
    assert processor.checkpoint_due(state, T0 + 10)
    state.events_since_checkpoint = 3
    assert processor.checkpoint_due(state, T0 + 1)


def test_a_corrupt_checkpoint_starts_the_partition_afresh(agreements: list[Agreement]) -> None:
    harness = Harness(agreements)
    harness.saved[0] = b"not a checkpoint"
    harness.processor.resume([0])
    assert not harness.processor.states[0].restored
    assert isinstance(harness.processor.states[0], PartitionState)


# -- robustness -------------------------------------------------------------------------


def test_an_event_dated_too_far_ahead_of_the_clock_is_dead_lettered(
    agreements: list[Agreement],
) -> None:
    harness = Harness(agreements)  # max_event_future_s: one day by default
    value = ticket("ticket.created", T0 + 2 * 86400, channel="email")
    [out] = harness.send(TOPICS.tickets, value, now=T0)
    headers = dict(out.headers)
    assert (out.topic, out.value) == (TOPICS.deadletter, value)
    assert headers[HEADER_REASON] == b"time_out_of_range"
    assert b"ahead of the clock" in headers[HEADER_ERROR]
    assert harness.processor.states[0].engine.counters.total == 0
    assert (
        harness.send(TOPICS.tickets, ticket("ticket.created", T0 + 3600, channel="email"), now=T0)
        == []
    )


def test_an_event_the_engine_raises_on_is_dead_lettered_and_the_next_one_applied(
    agreements: list[Agreement], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(agreements)
    engine = harness.processor.states[0].engine
    real_apply = engine.apply

    def apply(event: Any) -> Any:
        if event.fields["event_id"].startswith("ticket.created"):
            raise ZeroDivisionError("a handler bug")
        return real_apply(event)

    monkeypatch.setattr(engine, "apply", apply)
    bad = ticket("ticket.created", T0, channel="email")
    [out] = harness.send(TOPICS.tickets, bad, now=T0)
    headers = dict(out.headers)
    assert (out.topic, out.value) == (TOPICS.deadletter, bad)
    assert headers[HEADER_REASON] == b"engine_error"
    assert headers[HEADER_ERROR] == b"ZeroDivisionError: a handler bug"
    assert harness.sample("slamon_events_invalid_total", reason="engine_error") == 1
    harness.send(TOPICS.tickets, ticket("ticket.agent_reply", T0 + 1), now=T0)
    assert engine.counters.total == 1
    assert harness.processor.states[0].source(TOPICS.tickets).next_offset == 2


# -- batches and late events ------------------------------------------------------------


def test_a_late_event_that_settles_an_item_is_published_while_caught_up(
    agreements: list[Agreement],
) -> None:
    settings = SETTINGS.model_copy(update={"follow_wall_clock": False})
    harness = Harness(agreements, settings)
    harness.send(
        TOPICS.tickets, ticket("ticket.created", T0 + 100, ticket_id="T0", channel="email"), now=T0
    )
    assert harness.tick(T0 + 10) == []  # caught up and idle: watermark = T0 + 95
    assert harness.processor.states[0].engine.watermark == T0 + 95
    # created 60 s before the watermark: its 20 s deadline has passed already
    late = ticket("ticket.created", T0 + 35, ticket_id="T9", channel="email")
    fired = alerts(harness.send(TOPICS.tickets, late, now=T0 + 11))
    assert [(a["subject"]["id"], a["state"]) for a in fired] == [
        ("T9", "at_risk"),
        ("T9", "breached"),
    ]
    assert harness.processor.states[0].engine.watermark == T0 + 95  # not moved by the event


def test_records_on_a_quiet_partition_wake_every_source_so_none_turns_late(
    agreements: list[Agreement],
) -> None:
    settings = SETTINGS.model_copy(update={"follow_wall_clock": False})
    harness = Harness(agreements, settings)
    harness.send(TOPICS.calls, b"junk", now=T0)  # calls: caught up, no event time
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    harness.send(TOPICS.chats, ticket("ticket.customer_reply", T0, ticket_id="X"), now=T0)
    assert harness.tick(T0 + 10) == []  # quiet since: watermark = T0 - 5
    # tickets wakes up ten minutes ahead; chats' records are still on their way
    harness.send(
        TOPICS.tickets, ticket("ticket.status_changed", T0 + 600, status="open"), now=T0 + 11
    )
    assert harness.processor.states[0].engine.watermark == T0 - 5  # chats holds it
    harness.send(TOPICS.chats, ticket("ticket.agent_reply", T0 + 15), now=T0 + 11.3)
    assert harness.sample("slamon_events_late_total", contract="live") == 0
    assert harness.tick(T0 + 11.4) == []  # the reply came in time: no breach
    fired = harness.tick(T0 + 20)  # both idle again: event time moves on
    assert harness.processor.states[0].engine.watermark == T0 + 595
    assert alerts(fired) == []


# -- backfills ----------------------------------------------------------------------------


def test_a_backfill_into_a_fresh_partition_keeps_event_time_off_the_wall_clock(
    agreements: list[Agreement],
) -> None:
    harness = Harness(agreements)
    month_ago = T0 - 30 * 86400
    harness.send(TOPICS.tickets, ticket("ticket.created", month_ago, channel="email"), now=T0)
    harness.tick(T0 + 10)  # idle: without events near the clock, no jump to it
    assert harness.processor.states[0].engine.watermark == month_ago - 5
    harness.send(TOPICS.tickets, ticket("ticket.agent_reply", month_ago + 10), now=T0 + 11)
    assert harness.sample("slamon_events_too_late_total", contract="live") == 0
    assert not harness.processor.states[0].live


def test_old_events_into_a_live_partition_are_counted_and_warned_about_once(
    agreements: list[Agreement],
) -> None:
    from structlog.testing import capture_logs

    harness = Harness(agreements)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    harness.tick(T0 + 10)  # live and idle: the watermark follows the clock
    assert harness.processor.states[0].live
    month_ago = T0 - 30 * 86400
    with capture_logs() as logs:
        for i in range(250):
            old = ticket("ticket.created", month_ago + i, ticket_id=f"B{i}", channel="email")
            harness.send(TOPICS.tickets, old, now=T0 + 11)
    warnings = [e for e in logs if e["event"] == "events_too_late_backfill"]
    assert len(warnings) == 1
    assert warnings[0]["too_late"] == 100
    assert "SLAMON_FOLLOW_WALL_CLOCK" in warnings[0]["hint"]
    assert harness.sample("slamon_events_too_late_total", contract="live") == 250


def test_a_checkpoint_remembers_that_its_partition_is_live(agreements: list[Agreement]) -> None:
    harness = Harness(agreements)
    harness.send(TOPICS.tickets, ticket("ticket.created", T0, channel="email"), now=T0)
    again = Harness(agreements)
    again.saved[0] = harness.processor.states[0].encode()
    again.processor.resume([0])
    assert again.processor.states[0].live


def test_the_per_contract_and_per_topic_counters_exist_at_zero_before_any_event(
    agreements: list[Agreement],
) -> None:
    registry = Harness(agreements).metrics.registry

    for name in ("late", "too_late", "duplicate"):
        labels = {"contract": "live"}
        assert registry.get_sample_value(f"slamon_events_{name}_total", labels) == 0.0
    for topic in (*TOPICS.inputs(), TOPICS.rekey):
        assert registry.get_sample_value("slamon_offset_gaps_total", {"topic": topic}) == 0.0
