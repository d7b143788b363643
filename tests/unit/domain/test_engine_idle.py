"""Advancing over idle time: a quiet span of any length costs a bounded amount of work.

One event dated decades ahead must not make the windows and monthly trackers step
through every minute up to it. Windows jump to the next bucket that enters or leaves
them (or to where a running ``for`` turns into a breach); monthly trackers account
quiet minutes in closed form and evaluate only where something can change.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.agreement import Agreement, AvailabilityObjective, Target
from monitor.domain.engine import Engine
from monitor.domain.events import Event
from monitor.domain.observer import attach
from monitor.domain.periods import AvailabilityTracker
from tests.support import NEW_YORK, agreement, business_calendar, event
from tests.unit.domain.test_engine_period_quiet import _Sampler
from tests.unit.domain.test_engine_properties import (
    AGREEMENT as EVERY_KIND,
)
from tests.unit.domain.test_engine_properties import (
    LATENESS,
    PROPERTY_SETTINGS,
    streams,
)

# every objective kind, and availability counted in business hours
AGREEMENT = agreement(
    *EVERY_KIND.objectives,
    AvailabilityObjective("up-business", "core", Target(">=", 0.995), calendar=business_calendar()),
    timezone=NEW_YORK,
    warn_at=(0.75,),
)

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC).timestamp()
YEAR_2100 = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
MINUTES_TO_2100 = int((YEAR_2100 - START) // 60)


def _busy_stream() -> list[Event]:
    """Every objective kind holds something: calls, a survey, a ticket, an outage."""

    def iso(offset: float) -> str:
        return datetime.fromtimestamp(START + offset, UTC).isoformat()

    events = [
        event("ticket.created", iso(0), ticket_id="T1", channel="email", priority="high"),
        event("service.status", iso(30), service="core", status="down"),
        event("service.status", iso(600), service="core", status="up"),
        event("survey.response", iso(40), score=2),
    ]
    for n in range(10):
        events.append(event("call.offered", iso(n * 60), call_id=f"c{n}"))
        events.append(event("call.answered", iso(n * 60 + 45), call_id=f"c{n}"))
        events.append(event("call.ended", iso(n * 60 + 300), call_id=f"c{n}"))
    return sorted(events, key=lambda e: e.epoch)


@contextmanager
def _counting_lines() -> Iterator[list[int]]:
    """Count the Python lines executed inside the block (restoring any tracer before)."""
    count = [0]
    previous = sys.gettrace()

    def tracer(frame: FrameType, what: str, arg: Any) -> Callable[..., Any]:
        count[0] += 1
        return tracer

    sys.settrace(tracer)
    try:
        yield count
    finally:
        sys.settrace(previous)


@pytest.mark.parametrize(
    ("agreement_", "most_lines"),
    [
        # a walk would execute at least one line per minute of the 73 years (38 million)
        (EVERY_KIND, MINUTES_TO_2100 // 20),
        # open seconds vary by minute: the last six hours of each quiet stretch are
        # counted minute by minute (the burn windows hold them), not the stretch
        (AGREEMENT, MINUTES_TO_2100 // 5),
    ],
    ids=["every-kind", "business-hours-availability"],
)
def test_advancing_every_objective_kind_to_2100_is_bounded_work_not_a_step_per_minute(
    agreement_: Agreement, most_lines: int
) -> None:
    engine = Engine([agreement_], lateness=LATENESS)
    engine.apply_all(_busy_stream())
    with _counting_lines() as lines:
        engine.advance(YEAR_2100)
    assert lines[0] < most_lines
    assert engine.watermark == YEAR_2100
    statuses = {status.objective_id: status for status in engine.objective_status()}
    assert statuses["sl"].value is None  # the window emptied long ago
    assert statuses["up"].value == 1.0  # December 2099: up the whole month


def _status(engine: Engine) -> list[str]:
    return [json.dumps(repr(status)) for status in engine.objective_status()]


@PROPERTY_SETTINGS
@given(streams(), st.integers(1, 3 * 1440))
def test_one_jump_over_a_quiet_gap_equals_a_minute_by_minute_walk(
    events: list[Event], gap_minutes: int
) -> None:
    walked = Engine([AGREEMENT], lateness=LATENESS)
    attach(walked, _Sampler())  # observed: monthly trackers evaluate every minute
    jumped = Engine([AGREEMENT], lateness=LATENESS)
    walked_alerts = walked.apply_all(events)
    jumped_alerts = jumped.apply_all(events)
    start = max(walked.watermark, START)
    end = start + gap_minutes * 60 + 17
    for minute in range(1, gap_minutes + 1):
        walked_alerts.extend(walked.advance(start + minute * 60))
    walked_alerts.extend(walked.advance(end))
    jumped_alerts.extend(jumped.advance(end))
    assert [a.to_json() for a in jumped_alerts] == [a.to_json() for a in walked_alerts]
    attach(walked, None)
    assert _status(jumped) == _status(walked)


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]),
    st.integers(0, 400 * 1440),
    st.integers(1, 3000),
)
def test_a_stretch_of_minute_totals_equals_each_minute_counted_alone(
    timezone: str, offset: int, count: int
) -> None:
    tracker = AvailabilityTracker(
        "acme",
        AvailabilityObjective(
            "up", "core", Target(">=", 0.99), calendar=business_calendar(timezone)
        ),
        timezone,
        {},
    )
    first = int(START // 60) + offset
    expected = [tracker._minute_open_seconds(minute) for minute in range(first, first + count)]
    assert tracker._minute_totals(first, first + count) == expected
