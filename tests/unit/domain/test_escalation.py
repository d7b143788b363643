"""Escalation policy: timelines of alerts and ticks in, the notifications each sink gets out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.domain.agreement import Alerting, EscalationLevel
from monitor.domain.alerts import Alert, Subject
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.escalation import (
    FAILED_RETRY_S,
    DeliveryState,
    Route,
    decide,
    observe,
    record,
    settled,
    unrouted_names,
)

MIN = 60.0
HOUR = 3600.0
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC).timestamp()
FRIDAY_17 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC).timestamp()
NEXT_MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
NINE_TO_SIX = BusinessCalendar("business", "UTC", dict.fromkeys(range(5), ((9 * 60, 18 * 60),)))

ALERTING = Alerting(
    repeat_interval=4 * HOUR,
    escalation=(
        EscalationLevel(0.0, ("am",)),
        EscalationLevel(30 * MIN, ("pd",)),
        EscalationLevel(2 * HOUR, ("mgr",), business_hours_only=True),
    ),
)
ROUTES = {name: Route(name) for name in ("am", "pd", "mgr")}


def alert(state: str, at: float, *, subject: str = "T-1", level: int = 1) -> dict[str, Any]:
    return Alert(
        contract_id="acme",
        objective_id="resolution-high",
        state=state,  # type: ignore[arg-type]
        severity="warning" if state == "at_risk" else "critical",
        subject=Subject("ticket", subject),
        observed=None,
        target=None,
        event_time=at,
        summary=f"T-1 {state}",
        escalation_level=level,
    ).to_json()


@dataclass(frozen=True)
class Step:
    """At ``at`` (seconds from the scenario's start) an alert arrives, or just a tick."""

    at: float
    alert: str | None = None
    failing: frozenset[str] = frozenset()
    level: int = 1


Sent = tuple[float, str, str, int, str]  # (at, sink, action, level, severity)


def run(
    steps: Sequence[Step],
    *,
    start: float = MONDAY_10,
    alerting: Alerting = ALERTING,
    routes: Mapping[str, Route] = ROUTES,
    calendar: BusinessCalendar | None = NINE_TO_SIX,
) -> tuple[list[Sent], DeliveryState | None]:
    state: DeliveryState | None = None
    sent: list[Sent] = []
    for step in steps:
        now = start + step.at
        if step.alert is not None:
            state = observe(state, alert(step.alert, now, level=step.level))
        if state is None:
            continue
        for note in decide(state, alerting=alerting, calendar=calendar, routes=routes, now=now):
            ok = note.sink not in step.failing
            sent.append((step.at, note.sink, note.action, note.level, note.severity))
            state = record(state, note, ok=ok, now=now)
    return sent, state


def ticks(first: float, last: float, every: float = MIN) -> list[Step]:
    count = int((last - first) // every)
    return [Step(first + i * every) for i in range(count + 1)]


SCENARIOS: dict[str, tuple[list[Step], list[Sent]]] = {
    "a breach notifies level 1 at once": (
        [Step(0, "breached")],
        [(0, "am", "trigger", 1, "critical")],
    ),
    "level 2 fires after its delay while unresolved": (
        [Step(0, "breached"), *ticks(MIN, 40 * MIN)],
        [(0, "am", "trigger", 1, "critical"), (30 * MIN, "pd", "trigger", 2, "critical")],
    ),
    "a breach resolved before level 2 never reaches level 2": (
        [Step(0, "breached"), Step(10 * MIN, "resolved"), *ticks(11 * MIN, 3 * HOUR)],
        [(0, "am", "trigger", 1, "critical"), (10 * MIN, "am", "resolve", 1, "critical")],
    ),
    "resolve goes to every sink the episode reached, once": (
        [Step(0, "breached"), *ticks(MIN, 31 * MIN), Step(45 * MIN, "resolved"), Step(50 * MIN)],
        [
            (0, "am", "trigger", 1, "critical"),
            (30 * MIN, "pd", "trigger", 2, "critical"),
            (45 * MIN, "am", "resolve", 1, "critical"),
            (45 * MIN, "pd", "resolve", 2, "critical"),
        ],
    ),
    "at_risk goes to level 1 with warning severity and never escalates": (
        [Step(0, "at_risk"), *ticks(MIN, 3 * HOUR, every=10 * MIN)],
        [(0, "am", "trigger", 1, "warning")],
    ),
    "at_risk then breached: level 1 hears both, escalation counts from the breach": (
        [Step(0, "at_risk"), Step(20 * MIN, "breached"), *ticks(21 * MIN, 55 * MIN)],
        [
            (0, "am", "trigger", 1, "warning"),
            (20 * MIN, "am", "trigger", 1, "critical"),
            (50 * MIN, "pd", "trigger", 2, "critical"),
        ],
    ),
    "an unresolved alert repeats every repeat_interval per sink": (
        [Step(0, "breached"), *ticks(10 * MIN, 5 * HOUR, every=10 * MIN)],
        [
            (0, "am", "trigger", 1, "critical"),
            (30 * MIN, "pd", "trigger", 2, "critical"),
            (2 * HOUR, "mgr", "trigger", 3, "critical"),
            (4 * HOUR, "am", "repeat", 1, "critical"),
            (4 * HOUR + 30 * MIN, "pd", "repeat", 2, "critical"),
        ],
    ),
    "a redelivered alert is not sent again": (
        [Step(0, "breached"), Step(0, "breached"), Step(MIN)],
        [(0, "am", "trigger", 1, "critical")],
    ),
    "a failed delivery is tried again after the failed-retry wait": (
        [
            Step(0, "breached", failing=frozenset({"am"})),
            Step(FAILED_RETRY_S - 1),
            Step(FAILED_RETRY_S),
            Step(FAILED_RETRY_S + MIN),
        ],
        [(0, "am", "trigger", 1, "critical"), (FAILED_RETRY_S, "am", "repeat", 1, "critical")],
    ),
    "a failed resolve is tried again, a delivered one never": (
        [
            Step(0, "breached"),
            Step(MIN, "resolved", failing=frozenset({"am"})),
            Step(MIN + FAILED_RETRY_S),
            Step(MIN + 2 * FAILED_RETRY_S),
        ],
        [
            (0, "am", "trigger", 1, "critical"),
            (MIN, "am", "resolve", 1, "critical"),
            (MIN + FAILED_RETRY_S, "am", "resolve", 1, "critical"),
        ],
    ),
    "an alert starting at escalation_level 2 reaches level 2 at once": (
        [Step(0, "breached", level=2)],
        [(0, "am", "trigger", 1, "critical"), (0, "pd", "trigger", 2, "critical")],
    ),
    "a new breach after a resolve is a new episode": (
        [Step(0, "breached"), Step(MIN, "resolved"), Step(HOUR, "breached")],
        [
            (0, "am", "trigger", 1, "critical"),
            (MIN, "am", "resolve", 1, "critical"),
            (HOUR, "am", "trigger", 1, "critical"),
        ],
    ),
}


@pytest.mark.parametrize(("steps", "expected"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_escalation_timeline(steps: list[Step], expected: list[Sent]) -> None:
    assert run(steps)[0] == expected


def test_a_business_hours_only_level_waits_for_the_next_opening() -> None:
    sent, _ = run([Step(0, "breached"), *ticks(HOUR, 3 * 24 * HOUR, every=HOUR)], start=FRIDAY_17)
    mgr = [s for s in sent if s[1] == "mgr" and s[2] == "trigger"]
    assert mgr == [(NEXT_MONDAY_9 - FRIDAY_17, "mgr", "trigger", 3, "critical")]


def test_without_a_calendar_business_hours_only_levels_always_send() -> None:
    sent, _ = run([Step(0, "breached"), Step(2 * HOUR)], start=FRIDAY_17, calendar=None)
    assert (2 * HOUR, "mgr", "trigger", 3, "critical") in sent


def test_a_stale_breach_after_the_resolve_is_ignored() -> None:
    _, state = run([Step(0, "breached"), Step(MIN, "resolved")])
    assert state is not None
    stale = observe(state, alert("breached", MONDAY_10))
    assert stale == state
    now = MONDAY_10 + HOUR
    assert decide(stale, alerting=ALERTING, calendar=None, routes=ROUTES, now=now) == []


@pytest.mark.parametrize(
    ("route", "state", "expected"),
    [
        (Route("am", severities=frozenset({"critical"})), "at_risk", []),
        (Route("am", severities=frozenset({"critical"})), "breached", ["am"]),
        (Route("am", contracts=frozenset({"other"})), "breached", []),
        (Route("am", contracts=frozenset({"acme"})), "breached", ["am"]),
    ],
    ids=["severity-filter-drops", "severity-filter-keeps", "contract-drops", "contract-keeps"],
)
def test_route_filters(route: Route, state: str, expected: list[str]) -> None:
    current = observe(None, alert(state, MONDAY_10))
    notes = decide(current, alerting=ALERTING, calendar=None, routes={"am": route}, now=MONDAY_10)
    assert [n.sink for n in notes] == expected


def test_a_route_can_take_a_level_the_agreement_does_not_name_it_in() -> None:
    routes = {**ROUTES, "audit": Route("audit", levels=frozenset({1}))}
    current = observe(None, alert("breached", MONDAY_10))
    notes = decide(current, alerting=ALERTING, calendar=None, routes=routes, now=MONDAY_10)
    assert [(n.sink, n.level) for n in notes] == [("am", 1), ("audit", 1)]


def test_a_route_repeat_interval_overrides_the_agreement() -> None:
    routes = {**ROUTES, "am": Route("am", repeat_interval=MIN)}
    sent, _ = run([Step(0, "breached"), Step(30), Step(MIN), Step(2 * MIN)], routes=routes)
    assert [(at, a) for at, sink, a, *_ in sent if sink == "am"] == [
        (0, "trigger"),
        (MIN, "repeat"),
        (2 * MIN, "repeat"),
    ]


def test_names_without_a_route_are_skipped_and_reported() -> None:
    routes = {"am": Route("am")}
    sent, _ = run([Step(0, "breached"), Step(3 * HOUR)], routes=routes)
    assert {s[1] for s in sent} == {"am"}
    assert unrouted_names(ALERTING, routes) == ["mgr", "pd"]


def test_the_previous_delivery_is_passed_to_the_sink() -> None:
    _, state = run([Step(0, "at_risk")])
    assert state is not None
    state = observe(state, alert("breached", MONDAY_10 + MIN))
    (note,) = decide(state, alerting=ALERTING, calendar=None, routes=ROUTES, now=MONDAY_10 + MIN)
    assert note.previous is not None
    assert (note.previous.state, note.previous.severity) == ("at_risk", "warning")


def test_state_survives_a_json_round_trip() -> None:
    _, state = run([Step(0, "breached"), Step(31 * MIN)])
    assert state is not None
    assert DeliveryState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_a_state_is_settled_once_resolved_everywhere_and_old() -> None:
    _, state = run([Step(0, "breached"), Step(MIN, "resolved")])
    assert state is not None
    assert not settled(state, now=MONDAY_10 + MIN, keep=HOUR)
    assert settled(state, now=MONDAY_10 + 2 * HOUR, keep=HOUR)
    _, failed = run([Step(0, "breached"), Step(MIN, "resolved", failing=frozenset({"am"}))])
    assert failed is not None
    assert not settled(failed, now=MONDAY_10 + 2 * HOUR, keep=HOUR)
