"""Monthly trackers: same-instant availability changes, restore by objective id, advance size."""

from __future__ import annotations

import json

from monitor.domain.agreement import AvailabilityObjective, Target
from monitor.domain.engine import Engine
from monitor.domain.events import Event
from tests.support import agreement, at, epoch, event

AGREEMENT = agreement(AvailabilityObjective("up", "core", Target(">=", 0.999)), warn_at=(0.75,))


def _status(clock: str, status: str, event_id: str) -> Event:
    return event(
        "service.status",
        at(f"2026-11-20 {clock}"),
        service="core",
        status=status,
        event_id=event_id,
    )


def _alerts(order: list[int]) -> list[str]:
    events = [
        _status("13:00:00", "down", "e1"),
        _status("13:00:01", "down", "e2"),
        _status("13:00:01", "up", "e3"),
        _status("13:06:00", "up", "e4"),
    ]
    engine = Engine([AGREEMENT], lateness=60)
    alerts = engine.apply_all([events[i] for i in order])
    alerts += engine.advance(epoch("2026-11-20 15:00"))
    return sorted(json.dumps(a.to_json(), sort_keys=True) for a in alerts)


def test_a_down_and_an_up_at_the_same_instant_give_the_same_alerts_in_either_order() -> None:
    in_order = _alerts([0, 1, 2, 3])
    assert in_order, "the outage must raise something for this test to mean anything"
    assert _alerts([0, 2, 1, 3]) == in_order
    assert _alerts([2, 1, 0, 3]) == in_order


def test_ties_apply_in_event_id_order() -> None:
    """e2 (down) then e3 (up) at 13:00:01: the service is up from 13:00:01, down 1 s in all."""
    engine = Engine([AGREEMENT], lateness=60)
    engine.apply_all(
        [
            _status("13:00:00", "down", "e1"),
            _status("13:00:01", "up", "e3"),
            _status("13:00:01", "down", "e2"),
        ]
    )
    engine.advance(epoch("2026-11-20 14:00"))
    [status] = [s for s in engine.objective_status() if s.objective_id == "up"]
    assert status.value is not None
    # month to date since the first event's minute: 1 s down out of 60 min
    assert abs((1 - status.value) * 3600 - 1.0) < 1e-6


def test_monthly_state_is_restored_by_objective_id_when_objectives_are_reordered() -> None:
    from monitor.domain.agreement import BusinessTime, ItemObjective
    from monitor.domain.calendar import BusinessCalendar

    availability = AvailabilityObjective("up", "core", Target(">=", 0.999))
    compliance = ItemObjective(
        "fr",
        "first_response",
        BusinessTime(60),
        BusinessCalendar.always_open("UTC"),
        target=Target(">=", 0.9),
        period="month",
    )
    engine = Engine([agreement(availability, compliance)], lateness=60)
    engine.apply_all(
        [
            event("service.status", at("2026-11-20 13:00"), service="core", status="down"),
            event("service.status", at("2026-11-20 13:30"), service="core", status="up"),
            event("ticket.created", at("2026-11-20 13:00"), ticket_id="T", channel="email"),
        ]
    )
    engine.advance(epoch("2026-11-20 14:00"))
    before = {s.objective_id: s.value for s in engine.objective_status()}
    snapshot = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.restore([agreement(compliance, availability)], snapshot)
    after = {s.objective_id: s.value for s in restored.objective_status()}
    assert before["up"] is not None
    assert before["up"] < 1.0
    assert after == before


def test_monthly_compliance_alerts_do_not_depend_on_how_far_one_advance_goes() -> None:
    """Regression: the projection used the tracker's minute from before the batch."""
    from monitor.domain.agreement import BusinessTime, ItemObjective
    from monitor.domain.calendar import BusinessCalendar

    compliance = ItemObjective(
        "res",
        "resolution",
        BusinessTime(3600),
        BusinessCalendar.always_open("UTC"),
        target=Target(">=", 0.9),
        period="month",
    )
    events = [
        event("ticket.created", at(f"2026-11-20 13:{m:02d}"), ticket_id=f"T{m}", channel="email")
        for m in range(0, 30, 3)
    ]

    def alerts(step: float) -> list[str]:
        engine = Engine([agreement(compliance)], lateness=60)
        out = engine.apply_all(events)
        t, end = epoch("2026-11-20 13:30"), epoch("2026-11-20 16:00")
        while t < end:
            t = min(end, t + step)
            out += engine.advance(t)
        return sorted(json.dumps(a.to_json(), sort_keys=True) for a in out)

    minute_by_minute = alerts(60)
    assert any('"state": "breached"' in a for a in minute_by_minute)
    assert alerts(3 * 3600) == minute_by_minute
    assert alerts(7 * 60) == minute_by_minute
