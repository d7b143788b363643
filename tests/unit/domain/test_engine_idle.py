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

from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.engine import Engine
from monitor.domain.events import Event
from monitor.domain.observer import attach
from tests.support import event
from tests.unit.domain.test_engine_period_quiet import _Sampler
from tests.unit.domain.test_engine_properties import AGREEMENT, LATENESS, PROPERTY_SETTINGS, streams

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


def test_advancing_every_objective_kind_to_2100_is_bounded_work_not_a_step_per_minute() -> None:
    engine = Engine([AGREEMENT], lateness=LATENESS)
    engine.apply_all(_busy_stream())
    with _counting_lines() as lines:
        engine.advance(YEAR_2100)
    # a walk would execute at least one line per minute of the 73 years (38 million)
    assert lines[0] < MINUTES_TO_2100 // 20
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
