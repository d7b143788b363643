"""Engine.objective_status(): the gauges' view of every objective, against hand-computed values."""

from __future__ import annotations

import json

import pytest

from monitor.domain.agreement import (
    AvailabilityObjective,
    BusinessTime,
    ItemObjective,
    Match,
    Target,
    WindowObjective,
)
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import Engine
from monitor.domain.status import ObjectiveStatus
from tests.support import agreement, at, epoch, event

UTC_24X7 = BusinessCalendar.always_open("UTC")
HOUR = 3600.0


def _status(engine: Engine, objective_id: str) -> ObjectiveStatus:
    (status,) = [s for s in engine.objective_status() if s.objective_id == objective_id]
    return status


def _first_response(**kwargs: object) -> ItemObjective:
    fields: dict = {"calendar": UTC_24X7} | kwargs
    return ItemObjective("fr", "first_response", BusinessTime(4 * HOUR), **fields)


def _created(ts: str, ticket: str) -> object:
    return event("ticket.created", at(ts), ticket_id=ticket, channel="email", priority="high")


def _reply(ts: str, ticket: str) -> object:
    return event("ticket.agent_reply", at(ts), ticket_id=ticket)


def _answered_call(engine: Engine, ts: str, call_id: str, wait: float) -> None:
    engine.apply(event("call.offered", at(ts), call_id=call_id))
    engine.apply(event("call.answered", at(ts), call_id=call_id, wait_s=wait))


def test_an_engine_without_events_reports_every_objective_ok_and_empty() -> None:
    sl = WindowObjective("sl", "service_level", Target(">=", 0.8), 600, threshold=20)
    engine = Engine([agreement(sl, _first_response())])
    empty = ("ok", 0, 0, 0, None, None, None)
    assert engine.objective_status() == [
        ObjectiveStatus("acme", "sl", "service_level", None, 0.8, ">=", *empty),
        ObjectiveStatus("acme", "fr", "first_response", None, 1.0, ">=", *empty),
    ]


def test_a_window_objective_shows_its_rolling_value_and_breach_until_resolved() -> None:
    sl = WindowObjective("sl", "service_level", Target(">=", 0.8), 600, threshold=20)
    engine = Engine([agreement(sl)])
    for number, wait in enumerate([5, 10, 15, 60]):  # 3 of 4 within 20 s
        _answered_call(engine, "2026-11-20 10:00", f"c{number}", wait)
    engine.advance(epoch("2026-11-20 10:02"))
    breached = _status(engine, "sl")
    assert (breached.value, breached.status, breached.breaches) == (0.75, "breached", 1)
    for number in range(4, 8):  # four more within the threshold: 7 of 8
        _answered_call(engine, "2026-11-20 10:03", f"c{number}", 1)
    engine.advance(epoch("2026-11-20 10:05"))
    resolved = _status(engine, "sl")
    assert (resolved.value, resolved.status, resolved.breaches) == (0.875, "ok", 1)
    assert (resolved.open_items, resolved.budget_remaining) == (0, None)


def test_item_objectives_count_running_and_at_risk_clocks_and_open_alerts() -> None:
    engine = Engine([agreement(_first_response(), warn_at=(0.5,))])
    engine.apply_all(
        [
            _created("2026-11-20 07:00", "T3"),  # due 11:00, never answered by 12:30
            _created("2026-11-20 10:00", "T1"),  # 2.5 h of 4 h used at 12:30: past 50 %
            _created("2026-11-20 10:00", "T2"),
            _reply("2026-11-20 10:30", "T2"),  # met
        ]
    )
    engine.advance(epoch("2026-11-20 12:30"))
    status = _status(engine, "fr")
    assert (status.value, status.status, status.breaches) == (0.5, "breached", 1)
    assert (status.open_items, status.at_risk_items) == (2, 1)  # T1 and T3 run; T3 is breached

    engine.apply(_reply("2026-11-20 12:40", "T3"))  # resolves the breach, which still counts
    engine.advance(epoch("2026-11-20 13:00"))
    status = _status(engine, "fr")
    assert (status.value, status.status, status.breaches) == (0.5, "at_risk", 1)
    assert (status.open_items, status.at_risk_items) == (1, 1)

    engine.apply(_reply("2026-11-20 13:10", "T1"))
    engine.advance(epoch("2026-11-20 13:30"))
    status = _status(engine, "fr")
    assert (status.value, status.status, status.breaches) == (pytest.approx(2 / 3), "ok", 1)
    assert (status.open_items, status.at_risk_items) == (0, 0)


def test_availability_shows_month_to_date_budget_left_and_burn_rates() -> None:
    engine = Engine([agreement(AvailabilityObjective("up", "core", Target(">=", 0.99)))])
    engine.apply(event("service.status", at("2026-11-10 00:00"), service="core", status="down"))
    engine.apply(event("service.status", at("2026-11-10 00:30"), service="core", status="up"))
    engine.advance(epoch("2026-11-10 00:45"))
    status = _status(engine, "up")
    allowed = 0.01 * 30 * 86400  # the budget: 1 % of November's seconds
    assert status.value == pytest.approx(1 - 1800 / 2700)
    assert status.budget_remaining == pytest.approx(1 - 1800 / allowed)
    # 1 h and 6 h windows both hold the 45 accounted minutes, 30 of them down.
    assert status.burn_rate_fast == pytest.approx(1800 / 2700 / 0.01)
    assert status.burn_rate_slow == pytest.approx(1800 / 2700 / 0.01)
    assert (status.status, status.breaches, status.open_items) == ("at_risk", 0, 0)

    engine.advance(epoch("2026-11-10 06:00"))
    status = _status(engine, "up")
    assert status.value == pytest.approx(1 - 1800 / 21600)
    assert status.burn_rate_fast == 0.0  # nothing down in the last hour
    assert status.burn_rate_slow == pytest.approx(1800 / 21600 / 0.01)
    assert status.status == "ok"


def test_a_monthly_item_objective_shows_its_month_and_budget() -> None:
    objective = ItemObjective(
        "res",
        "resolution",
        BusinessTime(HOUR),
        UTC_24X7,
        target=Target(">=", 0.5),
        period="month",
    )
    engine = Engine([agreement(objective)])
    engine.apply_all(
        [
            _created("2026-11-01 00:00", "T1"),
            event("ticket.status_changed", at("2026-11-01 00:30"), ticket_id="T1", status="solved"),
            _created("2026-11-01 00:00", "T2"),  # breaches at 01:00 and stays open
        ]
    )
    engine.advance(epoch("2026-11-01 06:00"))
    status = _status(engine, "res")
    month = 30 * 86400
    projected = 2 / ((6 * HOUR + 60) / month)  # decided so far at the pace so far
    assert (status.value, status.target, status.status) == (0.5, 0.5, "breached")
    assert status.budget_remaining == pytest.approx(1 - 1 / (0.5 * projected))
    assert (status.burn_rate_fast, status.burn_rate_slow) == (0.0, pytest.approx(1.0))
    assert (status.open_items, status.breaches) == (1, 1)


def test_the_status_survives_a_snapshot_and_restore() -> None:
    fr = _first_response()
    availability = AvailabilityObjective("up", "core", Target(">=", 0.99))
    engine = Engine([agreement(fr, availability, warn_at=(0.5,))])
    engine.apply_all(
        [
            _created("2026-11-20 07:00", "T3"),
            _created("2026-11-20 10:00", "T1"),
            event("service.status", at("2026-11-20 11:00"), service="core", status="down"),
        ]
    )
    engine.advance(epoch("2026-11-20 12:30"))
    restored = Engine.restore(
        [agreement(fr, availability, warn_at=(0.5,))], json.loads(json.dumps(engine.snapshot()))
    )
    assert restored.objective_status() == engine.objective_status()
    assert [s.status for s in restored.objective_status()] == ["breached", "at_risk"]


def test_a_clock_out_of_its_objective_is_not_running_whether_or_not_the_change_back_arrived() -> (
    None
):
    """A priority change back that arrived early (within the lateness) changes no count."""
    res = ItemObjective(
        "res",
        "resolution",
        BusinessTime(8 * HOUR),
        UTC_24X7,
        match=Match(priority=frozenset({"high"})),
    )
    steps = [
        _created("2026-11-20 10:00", "T1"),
        event("ticket.priority_changed", at("2026-11-20 11:00"), ticket_id="T1", priority="low"),
    ]
    back = event("ticket.priority_changed", at("2026-11-20 11:01"), ticket_id="T1", priority="high")
    counts = []
    for arrived in ([], [back]):
        engine = Engine([agreement(res)], lateness=60)
        engine.apply_all([*steps, *arrived])
        engine.advance(epoch("2026-11-20 11:00:30"))
        counts.append(_status(engine, "res").open_items)
    assert counts == [0, 0]
