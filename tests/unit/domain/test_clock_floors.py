"""Cycle effects decided from floors equal those decided from the exact instants.

Until its exact deadline and warnings are needed, a cycle's timing answers from cheap
lower bounds. Whatever the watermarks a cycle is looked at, it must emit the same
effects as with the exact instants, and never ask to be woken later than they would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain import clocks
from monitor.domain.agreement import BusinessTime, ItemObjective, Workdays
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.clocks import Cycle, Effect, Timing
from tests.support import business_calendar

START = datetime(2026, 10, 30, 20, 0, tzinfo=UTC).timestamp()  # a Friday evening before DST ends
HOUR = 3600.0
CALENDARS = [
    BusinessCalendar.always_open("UTC"),
    business_calendar(),
    business_calendar("Asia/Shanghai"),
]
WITHIN = [BusinessTime(60), BusinessTime(HOUR), BusinessTime(12 * HOUR), Workdays(1), Workdays(3)]


@st.composite
def cycles(draw: st.DrawFn) -> Cycle:
    """A cycle with pauses, perhaps stopped or ended, perhaps applying only later."""
    t = START + draw(st.floats(0, 4 * 86400))
    cycle = Cycle(t, t + draw(st.sampled_from([0.0, 0.0, 600.0])))
    pauses: list[list[float | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        t += draw(st.floats(0, 10 * HOUR))
        end = t + draw(st.floats(0, 20 * HOUR))
        pauses.append([t, None if draw(st.integers(0, 5)) == 0 else end])
        if pauses[-1][1] is None:
            break
        t = end
    cycle.pauses = pauses
    finish = draw(st.one_of(st.none(), st.floats(0, 5 * 86400)))
    if finish is not None:
        if draw(st.booleans()):
            cycle.stop = cycle.start + finish
        else:
            cycle.ended = cycle.start + finish
    return cycle


def _look(
    cycle: Cycle,
    objective: ItemObjective,
    flags: clocks.CycleFlags,
    watermark: float,
    warn_at: tuple[float, ...],
) -> tuple[list[Effect], float | None]:
    effects: list[Effect] = []
    due = clocks.cycle_effects(cycle, objective, flags, watermark, warn_at, effects)
    return effects, due


@settings(max_examples=400, deadline=None)
@given(
    cycles(),
    st.sampled_from(CALENDARS),
    st.sampled_from(WITHIN),
    st.sampled_from([(), (0.5,), (0.25, 0.75, 0.9)]),
    st.lists(st.floats(0, 8 * 86400), min_size=1, max_size=8),
)
def test_floors_decide_like_the_exact_instants(
    cycle: Cycle,
    calendar: BusinessCalendar,
    within: BusinessTime | Workdays,
    warn_at: tuple[float, ...],
    offsets: list[float],
) -> None:
    objective = ItemObjective("fr", "first_response", within, calendar)
    exact = replace(cycle)
    exact.timing = Timing(exact, objective, warn_at)
    assert exact.timing.deadline == clocks.deadline_as_of(cycle, objective, float("inf"))
    floored_flags, exact_flags = clocks.CycleFlags(), clocks.CycleFlags()
    for watermark in sorted(START + offset for offset in offsets):
        got, floored_due = _look(cycle, objective, floored_flags, watermark, warn_at)
        expected, exact_due = _look(exact, objective, exact_flags, watermark, warn_at)
        assert got == expected
        assert floored_flags == exact_flags
        if exact_due is not None:
            assert floored_due is not None
            assert floored_due <= exact_due
        if floored_due is not None:
            assert floored_due >= watermark


def test_a_cycle_answered_before_its_first_warning_needs_no_calendar_instants() -> None:
    objective = ItemObjective("fr", "first_response", BusinessTime(HOUR), business_calendar())
    cycle = Cycle(START, START, stop=START + 600)
    flags = clocks.CycleFlags()
    assert _look(cycle, objective, flags, START + 60, (0.75,)) == ([], START + 600)
    met = [Effect("met", START + 600)]
    assert _look(cycle, objective, flags, START + 700, (0.75,)) == (met, None)
    assert cycle.timing is None
