"""The notifier's alert and tick handling over a plain dict table, with a fake clock.

Ticks drive escalation: level 2 fires on the first tick past its delay, only while
the alert is unresolved, without waiting real minutes. The Faust wiring around it
is tested on the real broker in tests/integration/test_notifier_agent.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from monitor.domain.agreement import Agreement, Alerting, EscalationLevel
from monitor.domain.alerts import Alert, Subject
from monitor.domain.escalation import Notification, Route
from monitor.sinks.config import Notifiers
from monitor.sinks.retry import RetryPolicy
from monitor.stream.notifier import Notifier

MIN = 60.0
T0 = 1_795_000_000.0

AGREEMENT = Agreement(
    contract_id="acme",
    title="Acme",
    timezone="UTC",
    calendars={},
    objectives=(),
    alerting=Alerting(
        repeat_interval=3600.0,
        escalation=(EscalationLevel(0.0, ("am",)), EscalationLevel(30 * MIN, ("pd",))),
    ),
)
NOTIFIERS = Notifiers(sinks={}, routes={"am": Route("am"), "pd": Route("pd")}, retry=RetryPolicy())


class Harness:
    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.now = T0
        self.sent: list[tuple[float, str, str, int]] = []
        self.flushes = 0
        self.table: dict[str, bytes] = {}
        self.failing = failing
        self.notifier = Notifier(
            NOTIFIERS, [AGREEMENT], deliver=self.deliver, flush=self.flush, clock=lambda: self.now
        )

    async def deliver(self, note: Notification, published_at: float | None) -> bool:
        self.sent.append((self.now - T0, note.sink, note.action, note.level))
        return note.sink not in self.failing

    async def flush(self) -> None:
        self.flushes += 1

    def alert(self, state: str, at: float = T0, partition: int = 0, **extra: Any) -> None:
        value = Alert(
            "acme",
            "asa",
            state,  # type: ignore[arg-type]
            "critical",
            Subject("window", "asa"),
            40.0,
            30.0,
            at,
            f"asa {state}",
            **extra,
        ).to_json()
        raw = json.dumps(value).encode()
        asyncio.run(self.notifier.on_alert(self.table, raw, partition, published_at=at))

    def tick(self, at: float, partition: int = 0) -> None:
        self.now = T0 + at
        asyncio.run(self.notifier.on_tick(self.table, partition))


def test_level_2_fires_on_the_first_tick_past_its_delay() -> None:
    h = Harness()
    h.alert("breached")
    for minute in range(0, 41):
        h.tick(minute * MIN)
    assert h.sent == [(0, "am", "trigger", 1), (30 * MIN, "pd", "trigger", 2)]


def test_level_2_never_fires_once_resolved() -> None:
    h = Harness()
    h.alert("breached")
    h.tick(10 * MIN)
    h.alert("resolved", at=T0 + 10 * MIN)
    for minute in range(11, 61):
        h.tick(minute * MIN)
    assert h.sent == [(0, "am", "trigger", 1), (10 * MIN, "am", "resolve", 1)]


def test_a_redelivered_alert_sends_nothing_and_writes_nothing() -> None:
    h = Harness()
    h.alert("breached")
    table, flushes = dict(h.table), h.flushes
    h.alert("breached")
    assert h.sent == [(0, "am", "trigger", 1)]
    assert (h.table, h.flushes) == (table, flushes)


def test_ticks_only_touch_their_own_partition() -> None:
    h = Harness()
    h.alert("breached", partition=1)
    h.tick(31 * MIN, partition=0)
    assert h.sent == [(0, "am", "trigger", 1)]
    h.tick(31 * MIN, partition=1)
    assert h.sent[-1] == (31 * MIN, "pd", "trigger", 2)
    assert h.notifier.ticks_handled == {0: 1, 1: 1}


def test_a_dead_lettered_delivery_is_recorded_and_tried_again_later() -> None:
    h = Harness(failing=frozenset({"am"}))
    h.alert("breached")
    (stored,) = h.table.values()
    assert json.loads(stored)["state"]["sinks"]["am"]["ok"] is False
    h.tick(5 * MIN)
    h.tick(10 * MIN)
    assert [s for s in h.sent if s[1] == "am"] == [
        (0, "am", "trigger", 1),
        (10 * MIN, "am", "repeat", 1),
    ]


def test_settled_states_are_dropped_after_a_week() -> None:
    h = Harness()
    h.alert("breached")
    h.alert("resolved", at=T0 + MIN)
    h.tick(2 * MIN)
    assert len(h.table) == 1
    h.tick(8 * 86400)
    assert h.table == {}


def test_malformed_alerts_are_skipped() -> None:
    h = Harness()
    for raw in (b"not json", b"[]", b'{"state": "breached"}'):
        asyncio.run(h.notifier.on_alert(h.table, raw, 0, None))
    bad_state = Alert("acme", "asa", "breached", "critical", Subject("window", "a"), 1, 1, T0, "x")
    value = {**bad_state.to_json(), "state": "exploded"}
    asyncio.run(h.notifier.on_alert(h.table, json.dumps(value).encode(), 0, None))
    assert (h.sent, h.table) == ([], {})
