"""A contract's monthly trackers: a write settles the tracker it writes, a read all."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.domain.agreement import AvailabilityObjective, Target
from monitor.domain.alerts import Alert
from monitor.domain.monthly import MonthlyTrackers
from monitor.domain.periods import AvailabilityTracker

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp()
MINUTE = 60


def _monthly() -> tuple[MonthlyTrackers, AvailabilityTracker, AvailabilityTracker]:
    monthly = MonthlyTrackers()
    core, edge = (
        AvailabilityTracker(
            "acme", AvailabilityObjective(name, name, Target(">=", 0.99)), "UTC", {}
        )
        for name in ("core", "edge")
    )
    monthly.add_availability(core)
    monthly.add_availability(edge)
    monthly.start_at(START)
    return monthly, core, edge


def _quiet_hour(monthly: MonthlyTrackers) -> list[Alert]:
    """An hour of minutes in which both services stay up: quiet for both trackers."""
    alerts: list[Alert] = []
    first = int(START // MINUTE)
    for minute in range(first, first + 60):
        monthly.advance(minute * MINUTE + 30, minute, alerts)
    return alerts


def test_a_status_change_settles_only_the_tracker_of_its_service() -> None:
    monthly, core, edge = _monthly()
    assert _quiet_hour(monthly) == []
    assert monthly.owed
    lagging = edge.next_minute
    monthly.record_status("core", START + 3600, "down", "e1")
    minute = int(START // MINUTE) + 59
    assert core.next_minute == minute
    assert edge.next_minute == lagging < minute  # still owed, accounted when read
    monthly.settle()
    assert edge.next_minute == minute


def test_settling_one_tracker_at_a_time_ends_in_the_same_state_as_settling_all() -> None:
    one_at_a_time, _, _ = _monthly()
    all_at_once, _, _ = _monthly()
    for monthly in (one_at_a_time, all_at_once):
        _quiet_hour(monthly)
    all_at_once.settle()  # what a write did before it settled only its own tracker
    for monthly in (one_at_a_time, all_at_once):
        monthly.record_status("core", START + 3600, "down", "e1")
        monthly.record_status("edge", START + 3660, "degraded", "e2")
        alerts: list[Alert] = []
        monthly.advance(START + 7200, int((START + 7200) // MINUTE), alerts)
    assert one_at_a_time.to_state() == all_at_once.to_state()
