"""Item clocks: an item's refresh waits for the next watermark pass past its event."""

from __future__ import annotations

import json

import pytest

from monitor.domain import clocks
from monitor.domain.agreement import BusinessTime, ItemObjective, Match
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import Engine
from tests.support import agreement, at, epoch, event, states

ALWAYS = BusinessCalendar.always_open("UTC")


def first_response(seconds: float, channel: str | None = None) -> ItemObjective:
    match = Match(channel=frozenset({channel})) if channel else Match()
    return ItemObjective("fr", "first_response", BusinessTime(seconds), ALWAYS, match=match)


def test_a_call_touched_three_times_before_a_pass_is_refreshed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_at: list[float] = []
    cycle_effects = clocks.cycle_effects

    def counting(cycle, objective, flags, watermark, warn_at, effects):  # type: ignore[no-untyped-def]
        looked_at.append(watermark)
        return cycle_effects(cycle, objective, flags, watermark, warn_at, effects)

    monkeypatch.setattr(clocks, "cycle_effects", counting)
    engine = Engine([agreement(first_response(60, "phone"))], lateness=60)
    engine.advance(epoch("2026-11-20 09:30"))
    for kind, ts in [
        ("call.offered", "2026-11-20 10:00:00"),
        ("call.answered", "2026-11-20 10:00:10"),
        ("call.ended", "2026-11-20 10:00:50"),
    ]:
        assert engine.apply(event(kind, at(ts), call_id="c1")).alerts == ()
    assert looked_at == []  # nothing of the call can fire before 10:00:00 is passed
    engine.advance(epoch("2026-11-20 10:05"))
    assert looked_at == [epoch("2026-11-20 10:05")]
    assert engine.contracts["acme"].items.stats["fr"].met == 1


def test_a_chat_answered_late_within_the_minute_breaches_and_resolves_at_its_instants() -> None:
    engine = Engine([agreement(first_response(20, "chat"))], lateness=5)
    alerts = []
    for kind, ts in [
        ("chat.started", "2026-11-20 10:00:00"),
        ("chat.customer_message", "2026-11-20 10:00:15"),
        ("chat.agent_message", "2026-11-20 10:00:40"),
        ("chat.customer_message", "2026-11-20 10:00:50"),
    ]:
        alerts += engine.apply(event(kind, at(ts), chat_id="k1")).alerts
    alerts += engine.advance(epoch("2026-11-20 10:02"))
    assert states(alerts) == [
        ("fr", "breached", "2026-11-20T10:00:20Z"),
        ("fr", "resolved", "2026-11-20T10:00:40Z"),
    ]


def test_a_snapshot_taken_before_the_pass_keeps_the_waiting_item_due() -> None:
    objectives = [first_response(1800)]
    engine = Engine([agreement(*objectives)], lateness=60)
    created = event("ticket.created", at("2026-11-20 10:00"), ticket_id="T1", channel="email")
    engine.apply(created)
    state = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.restore([agreement(*objectives)], state)
    alerts = restored.advance(epoch("2026-11-20 11:00"))
    assert states(alerts) == [("fr", "breached", "2026-11-20T10:30:00Z")]
