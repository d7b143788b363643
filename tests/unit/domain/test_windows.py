"""A rolling window advanced only from its wake equals one advanced every minute."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.agreement import Target, WindowObjective
from monitor.domain.alerts import Alert
from monitor.domain.windows import Sums, WindowClock, WindowTracker

START = 1_700_000_040  # a minute boundary
MINUTE = 60

# (arrival minute, minutes late, answered): each arrives in its minute, dated up to
# twenty minutes before it, so some land inside the window and some are already gone
Contribution = tuple[int, int, bool]
contributions = st.lists(
    st.tuples(st.integers(0, 180), st.integers(0, 20), st.booleans()), max_size=40
).map(sorted)


def service_level(window_minutes: int = 10, hold_for: float = 120) -> WindowObjective:
    return WindowObjective(
        "sl",
        "service_level",
        Target(">=", 0.8),
        window_minutes * MINUTE,
        threshold=20,
        hold_for=hold_for,
    )


Drive = Callable[[WindowTracker, WindowClock, int, list[Alert]], None]


def every_minute(tracker: WindowTracker, clock: WindowClock, minute: int, out: list[Alert]) -> None:
    tracker.advance(minute * MINUTE + 30, out)


def from_wake(tracker: WindowTracker, clock: WindowClock, minute: int, out: list[Alert]) -> None:
    clock.minute = minute
    if tracker.wake <= minute:
        tracker.advance(minute * MINUTE + 30, out)


def replay(objective: WindowObjective, arrivals: list[Contribution], drive: Drive) -> tuple:
    clock = WindowClock()
    tracker = WindowTracker("acme", objective, {}, clock)
    alerts: list[Alert] = []
    first = START // MINUTE
    tracker.advance((first - 1) * MINUTE + 30, alerts)
    for minute in range(first, first + 240):
        for arrival, late, answered in arrivals:
            if first + arrival == minute:
                tracker.add((minute - late) * MINUTE + 5, (int(answered), 1))
        drive(tracker, clock, minute, alerts)
    return [(a.state, a.event_time) for a in alerts], tracker.to_state()


def in_one_step(objective: WindowObjective, arrivals: list[Contribution]) -> tuple:
    """Advanced only when something arrives (to the minute before, then the minute)."""
    tracker = WindowTracker("acme", objective, {})
    alerts: list[Alert] = []
    first = START // MINUTE
    tracker.advance((first - 1) * MINUTE + 30, alerts)
    for minute in sorted({first + arrival for arrival, _, _ in arrivals}):
        tracker.advance((minute - 1) * MINUTE + 30, alerts)
        for arrival, late, answered in arrivals:
            if first + arrival == minute:
                tracker.add((minute - late) * MINUTE + 5, (int(answered), 1))
        tracker.advance(minute * MINUTE + 30, alerts)
    tracker.advance((first + 239) * MINUTE + 30, alerts)
    return [(a.state, a.event_time) for a in alerts], tracker.to_state()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=contributions, hold_minutes=st.sampled_from([0, 2, 7]))
def test_advancing_from_the_wake_equals_advancing_every_minute(
    arrivals: list[Contribution], hold_minutes: int
) -> None:
    objective = service_level(hold_for=hold_minutes * MINUTE)
    assert replay(objective, arrivals, from_wake) == replay(objective, arrivals, every_minute)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=contributions, hold_minutes=st.sampled_from([0, 2, 7]))
def test_advancing_in_one_step_equals_advancing_minute_by_minute(
    arrivals: list[Contribution], hold_minutes: int
) -> None:
    objective = service_level(hold_for=hold_minutes * MINUTE)
    assert in_one_step(objective, arrivals) == replay(objective, arrivals, every_minute)


def test_a_window_sleeps_until_its_only_bucket_leaves() -> None:
    clock = WindowClock()
    tracker = WindowTracker("acme", service_level(window_minutes=10), {}, clock)
    minute = START // MINUTE
    alerts: list[Alert] = []
    tracker.advance(minute * MINUTE, alerts)
    tracker.add(minute * MINUTE + 5, (0, 1))  # a missed call: the window breaches
    assert tracker.wake == minute + 1  # its bucket enters at the next boundary
    tracker.advance((minute + 1) * MINUTE, alerts)
    assert tracker.status == "pending"
    tracker.advance((minute + 3) * MINUTE, alerts)
    assert [a.state for a in alerts] == ["breached"]
    assert tracker.wake == minute + 11  # nothing changes until the bucket leaves
    assert tracker.next_boundary == minute + 4


def test_a_contribution_to_a_sleeping_window_counts_against_the_watermark() -> None:
    """Buckets gone at the watermark are refused even though the window lags behind it."""
    clock = WindowClock()
    tracker = WindowTracker("acme", service_level(window_minutes=10, hold_for=0), {}, clock)
    minute = START // MINUTE
    tracker.advance(minute * MINUTE, [])
    tracker.advance((minute + 1) * MINUTE, [])
    assert tracker.wake > minute + 30  # empty: it sleeps until something arrives
    clock.minute = minute + 30  # the owner passed thirty minutes without advancing it
    assert not tracker.add((minute + 15) * MINUTE, (0, 1))  # left the window at +26
    assert tracker.add((minute + 25) * MINUTE, (0, 1))  # inside the window at +31
    assert (tracker.window_sum, tracker.next_boundary) == (Sums(0, 1), minute + 31)
    assert tracker.wake == minute + 31
    alerts: list[Alert] = []
    tracker.advance((minute + 31) * MINUTE, alerts)
    assert [(a.state, a.event_time) for a in alerts] == [("breached", (minute + 31) * MINUTE)]


def test_a_long_window_sleeps_until_its_bucket_leaves() -> None:
    """A week of buckets: nothing enters or leaves between a survey's entry and its exit."""
    week = 7 * 24 * 60
    tracker = WindowTracker("acme", service_level(window_minutes=week), {})
    minute = START // MINUTE
    tracker.advance(minute * MINUTE, [])
    tracker.add(minute * MINUTE + 5, (1, 1))
    assert tracker.wake == minute + 1  # its bucket enters at the next boundary
    tracker.advance((minute + 1) * MINUTE, [])
    assert tracker.wake == minute + 1 + week  # and leaves a week later
    assert list(tracker.held) == [minute]
    tracker.advance((minute + 1 + week) * MINUTE, [])
    assert (list(tracker.held), tracker.buckets, tracker.window_sum) == ([], {}, Sums(0, 0))


def test_a_contribution_out_of_order_takes_its_place_among_the_buckets() -> None:
    tracker = WindowTracker("acme", service_level(window_minutes=10), {})
    minute = START // MINUTE
    tracker.advance(minute * MINUTE, [])
    for offset in (3, 1, 2, 5):
        tracker.add((minute + offset) * MINUTE, (1, 1))
    assert list(tracker.held) == [minute + 1, minute + 2, minute + 3, minute + 5]
    tracker.advance((minute + 13) * MINUTE, [])  # the first two left at +12 and +13
    assert list(tracker.held) == [minute + 3, minute + 5]
    assert tracker.wake == minute + 14  # the next leaves at +14
