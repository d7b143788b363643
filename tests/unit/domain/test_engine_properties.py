"""Engine properties: order within lateness, duplicates and state splits change nothing."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from monitor.domain.agreement import (
    AvailabilityObjective,
    BusinessTime,
    ItemObjective,
    Match,
    Target,
    WindowObjective,
    Workdays,
)
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import ENGINE_KEY, Engine
from monitor.domain.events import Event
from tests.support import NEW_YORK, agreement, business_calendar, event

LATENESS = 60.0
START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC).timestamp()
ALWAYS = BusinessCalendar.always_open("UTC")
BUSINESS = business_calendar()

AGREEMENT = agreement(
    WindowObjective(
        "sl", "service_level", Target(">=", 0.8), 600, threshold=20, short_abandon=5, hold_for=120
    ),
    WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 900),
    WindowObjective("aht", "average_handle_time", Target("<=", 200, "seconds"), 900),
    WindowObjective("csat", "satisfaction", Target(">=", 0.9), 3600),
    # monthly contact targets, tight enough that a few bad contacts burn their budget fast
    WindowObjective(
        "sl-month", "service_level", Target(">=", 0.999), 0, threshold=20, period="month"
    ),
    WindowObjective(
        "asa-month", "average_speed_of_answer", Target("<=", 2, "seconds"), 0, period="month"
    ),
    WindowObjective("csat-month", "satisfaction", Target(">=", 0.999), 0, period="month"),
    ItemObjective("fr", "first_response", BusinessTime(1800), ALWAYS, warn_at=(0.5,)),
    ItemObjective(
        "fr-chat",
        "first_response",
        BusinessTime(60),
        ALWAYS,
        match=Match(channel=frozenset({"chat"})),
    ),
    ItemObjective("nr", "next_response", BusinessTime(900), BUSINESS),
    ItemObjective(
        "res",
        "resolution",
        BusinessTime(3600),
        BUSINESS,
        pause_on=frozenset({"pending"}),
        match=Match(priority=frozenset({"high"})),
        target=Target(">=", 0.9),
        period="month",
    ),
    ItemObjective(
        "res-low",
        "resolution",
        Workdays(1),
        BUSINESS,
        match=Match(priority=frozenset({"low", "normal"})),
    ),
    AvailabilityObjective("up", "core", Target(">=", 0.999)),
    timezone=NEW_YORK,
    warn_at=(0.75,),
)

_TICKET_STEPS = [
    "ticket.agent_reply",
    "ticket.customer_reply",
    "status:pending",
    "status:open",
    "status:solved",
    "ticket.reopened",
    "prio:high",
    "prio:low",
]


def _iso(offset: float) -> str:
    return datetime.fromtimestamp(START + offset, UTC).isoformat()


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    """A time-ordered stream of calls, chats, tickets, surveys and outages over ~3 hours."""
    events: list[Event] = []
    for n in range(draw(st.integers(0, 12))):
        t = draw(st.floats(0, 9000))
        wait = draw(st.floats(0, 90))
        answered = draw(st.booleans())
        events.append(event("call.offered", _iso(t), call_id=f"c{n}"))
        kind = "call.answered" if answered else "call.abandoned"
        events.append(event(kind, _iso(t + wait), call_id=f"c{n}"))
        if answered:
            events.append(
                event("call.ended", _iso(t + wait + draw(st.floats(1, 400))), call_id=f"c{n}")
            )
    for n in range(draw(st.integers(0, 4))):
        t = draw(st.floats(0, 9000))
        events.append(event("chat.started", _iso(t), chat_id=f"k{n}"))
        events.append(
            event("chat.agent_message", _iso(t + draw(st.floats(0, 200))), chat_id=f"k{n}")
        )
    for n in range(draw(st.integers(0, 6))):
        t = draw(st.floats(0, 9000))
        events.append(
            event(
                "ticket.created",
                _iso(t),
                ticket_id=f"T{n}",
                channel=draw(st.sampled_from(["email", "chat", "portal"])),
                priority=draw(st.sampled_from(["high", "normal", "low"])),
            )
        )
        for step in draw(st.lists(st.sampled_from(_TICKET_STEPS), max_size=6)):
            t += draw(st.floats(1, 3000))
            name, _, value = step.partition(":")
            if name == "status":
                events.append(
                    event("ticket.status_changed", _iso(t), ticket_id=f"T{n}", status=value)
                )
            elif name == "prio":
                events.append(
                    event("ticket.priority_changed", _iso(t), ticket_id=f"T{n}", priority=value)
                )
            else:
                events.append(event(step, _iso(t), ticket_id=f"T{n}"))
    for _ in range(draw(st.integers(0, 5))):
        events.append(
            event("survey.response", _iso(draw(st.floats(0, 9000))), score=draw(st.integers(1, 5)))
        )
    for _ in range(draw(st.integers(0, 2))):
        t = draw(st.floats(0, 9000))
        events.append(event("service.status", _iso(t), service="core", status="down"))
        events.append(
            event("service.status", _iso(t + draw(st.floats(1, 900))), service="core", status="up")
        )
    events.sort(key=lambda e: (e.ts, e.event_id))
    return events


def _same(got: list[str], expected: list[str]) -> None:
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert got == expected, f"missing: {missing}\nextra: {extra}"


def _alerts(events: list[Event], until: float | None = None) -> list[str]:
    engine = Engine([AGREEMENT], lateness=LATENESS)
    alerts = engine.apply_all(events)
    alerts.extend(engine.advance(until if until is not None else START + 30000))
    return sorted(json.dumps(a.to_json(), sort_keys=True) for a in alerts)


EXAMPLES = int(os.environ.get("SLAMON_PROPERTY_EXAMPLES", "60"))
"""Examples per property; ``SLAMON_PROPERTY_EXAMPLES=1000`` for a thorough run."""

PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(streams(), st.randoms(use_true_random=False))
def test_shuffling_events_within_the_lateness_bound_changes_no_alert(events, rnd) -> None:
    jitter = {e.event_id: rnd.uniform(0, LATENESS * 0.999) for e in events}
    shuffled = sorted(events, key=lambda e: e.epoch + jitter[e.event_id])
    _same(_alerts(shuffled), _alerts(events))


@PROPERTY_SETTINGS
@given(streams(), st.randoms(use_true_random=False))
def test_repeating_events_changes_no_alert(events, rnd) -> None:
    repeated = list(events)
    for e in events:
        if rnd.random() < 0.3:
            repeated.insert(rnd.randint(repeated.index(e), len(repeated)), e)
    _same(_alerts(repeated), _alerts(events))


@PROPERTY_SETTINGS
@given(streams(), st.integers(0, 10_000))
def test_splitting_the_stream_with_serialized_state_changes_no_alert(events, cut) -> None:
    cut = cut % (len(events) + 1)
    first = Engine([AGREEMENT], lateness=LATENESS)
    alerts = first.apply_all(events[:cut])
    snapshot = json.loads(json.dumps(first.snapshot()))
    second = Engine.restore([AGREEMENT], snapshot)
    alerts.extend(second.apply_all(events[cut:]))
    alerts.extend(second.advance(START + 30000))
    _same(sorted(json.dumps(a.to_json(), sort_keys=True) for a in alerts), _alerts(events))


def test_the_property_streams_do_raise_alerts() -> None:
    """Guard against properties that hold only because nothing ever fires."""
    rnd = random.Random(7)
    events = [event("ticket.created", _iso(0), ticket_id="T", channel="email", priority="high")]
    events += [event("call.offered", _iso(i * 10), call_id=f"c{i}") for i in range(20)]
    events += [
        event("call.answered", _iso(i * 10 + rnd.uniform(30, 90)), call_id=f"c{i}")
        for i in range(20)
    ]
    events.sort(key=lambda e: e.ts)
    states = {json.loads(a)["objective_id"] for a in _alerts(events)}
    assert {"sl", "asa", "fr", "res", "sl-month", "asa-month"} <= states


def _move_changed(engine: Engine, store: dict[str, dict[str, object]]) -> None:
    """One checkpoint of the live path: only the changed keys, tombstones deleting."""
    records = engine.state_records(engine.changed_keys())
    engine.clear_changed_keys()
    for key, record in json.loads(json.dumps(records)).items():  # through the wire format
        if record is None:
            store.pop(key, None)
        else:
            store[key] = record


@PROPERTY_SETTINGS
@given(streams(), st.lists(st.integers(0, 10_000), min_size=1, max_size=4), st.booleans())
def test_moving_state_key_by_key_changes_no_alert(events, cuts, advance_at_cuts) -> None:
    """Checkpoints at random cut points write only changed keys over the previous copy;
    an engine loaded from that copy at the last cut ends with the uninterrupted alerts."""
    points = sorted({cut % (len(events) + 1) for cut in cuts})
    first = Engine([AGREEMENT], lateness=LATENESS, track_changes=True)
    store: dict[str, dict[str, object]] = {}
    alerts = []
    done = 0
    for point in points:
        alerts.extend(first.apply_all(events[done:point]))
        done = point
        if advance_at_cuts and events[:point]:
            alerts.extend(first.advance(events[point - 1].epoch - LATENESS))
        _move_changed(first, store)
    # the copy equals the engine's current records: no change went unlisted
    current = json.loads(json.dumps(first.state_records(first.all_keys())))
    assert store == {key: current[key] for key in store}
    assert first.all_keys() - set(store) <= {ENGINE_KEY, "c/acme"}
    second = Engine.from_records([AGREEMENT], store.items())
    alerts.extend(second.apply_all(events[done:]))
    alerts.extend(second.advance(START + 30000))
    _same(sorted(json.dumps(a.to_json(), sort_keys=True) for a in alerts), _alerts(events))
