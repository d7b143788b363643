"""The traffic simulator: valid, ordered, deterministic events from an exact queueing model."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.agreement import Agreement, AvailabilityObjective, Target
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.events import EventError, parse_event
from monitor.simulate import (
    CallTraffic,
    ChatTraffic,
    Dist,
    Outages,
    Shift,
    TicketTraffic,
    TrafficProfile,
    simulate,
    write_jsonl,
)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)
DEFAULT_PROFILE = TrafficProfile()
IMPATIENT = Dist(90.0)


def agreement(contract_id: str = "acme", **fields: Any) -> Agreement:
    values: dict[str, Any] = {
        "contract_id": contract_id,
        "title": contract_id,
        "timezone": "UTC",
        "calendars": {},
        "objectives": (),
    }
    return Agreement(**(values | fields))


def calls_only(
    agents: int, *, per_hour: float = 120.0, patience: Dist = IMPATIENT
) -> TrafficProfile:
    """Constant arrivals, constant staff, exponential service: an M/M/c+M queue."""
    return TrafficProfile(
        curve=(1.0,) * 24,
        weekend_factor=1.0,
        shifts=(Shift(0.0, 24.0, agents=agents),),
        use_calendar=False,
        calls=CallTraffic(
            per_hour_peak=per_hour, handle=Dist(240.0), patience=patience, survey_share=0.0
        ),
        chats=ChatTraffic(per_hour_peak=0.0),
        tickets=TicketTraffic(per_hour_peak=(("email", 0.0),)),
        outages=Outages(per_day=0.0),
    )


def run(
    hours: float,
    *,
    seed: int = 0,
    profile: TrafficProfile = DEFAULT_PROFILE,
    agreements: Iterable[Agreement] = (),
) -> list[dict[str, Any]]:
    chosen = list(agreements) or [agreement("acme"), agreement("globex", timezone="Asia/Shanghai")]
    return list(
        simulate(chosen, start=MONDAY, duration=timedelta(hours=hours), seed=seed, profile=profile)
    )


def epoch(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


def by_item(events: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if key in event:
            items[event[key]].append(event)
    return items


@pytest.fixture(scope="module")
def two_days() -> list[dict[str, Any]]:
    return run(48)


# --- determinism, validity, order ------------------------------------------------------


def test_the_same_seed_gives_identical_events() -> None:
    assert run(6, seed=7) == run(6, seed=7)


def test_a_different_seed_gives_different_events() -> None:
    assert run(6, seed=7) != run(6, seed=8)


def test_every_event_parses_as_a_v1_event(two_days: list[dict[str, Any]]) -> None:
    for event in two_days:
        parsed = parse_event(json.dumps(event).encode())
        assert not isinstance(parsed, EventError), (parsed, event)
        assert parsed.contract_id == event["contract_id"]


def test_events_come_in_non_decreasing_time_order(two_days: list[dict[str, Any]]) -> None:
    times = [epoch(event) for event in two_days]
    assert times == sorted(times)
    assert MONDAY.timestamp() <= times[0]
    assert times[-1] < MONDAY.timestamp() + 48 * 3600


def test_event_ids_are_unique(two_days: list[dict[str, Any]]) -> None:
    ids = [event["event_id"] for event in two_days]
    assert len(set(ids)) == len(ids)


def test_the_default_profile_makes_every_kind_of_traffic(two_days: list[dict[str, Any]]) -> None:
    kinds = Counter(event["type"] for event in two_days)
    assert set(kinds) >= {
        "call.offered", "call.answered", "call.abandoned", "call.ended",
        "chat.started", "chat.agent_message", "chat.customer_message", "chat.ended",
        "chat.abandoned", "ticket.created", "ticket.agent_reply", "ticket.customer_reply",
        "ticket.status_changed", "survey.response", "service.status",
    }  # fmt: skip
    channels = {e["channel"] for e in two_days if e["type"] == "ticket.created"}
    assert channels == {"email", "portal", "phone", "chat"}
    assert {e["queue"] for e in two_days if e["type"] == "call.offered"} == {
        "general", "billing", "technical",
    }  # fmt: skip


def test_surveys_score_mostly_four_or_five_and_refer_to_a_contact(
    two_days: list[dict[str, Any]],
) -> None:
    surveys = [event for event in two_days if event["type"] == "survey.response"]
    known = {e.get("call_id") or e.get("chat_id") or e.get("ticket_id") for e in two_days}
    assert all(survey["ref"] in known for survey in surveys)
    satisfied = sum(survey["score"] >= 4 for survey in surveys) / len(surveys)
    assert 0.75 < satisfied < 0.98


# --- item lifecycles -------------------------------------------------------------------

TICKET_STEPS = {
    ("new", "open"), ("open", "pending"), ("open", "on_hold"), ("open", "solved"),
    ("pending", "open"), ("on_hold", "open"), ("reopened", "open"), ("solved", "closed"),
}  # fmt: skip


def test_ticket_lifecycles_are_consistent(two_days: list[dict[str, Any]]) -> None:
    tickets = by_item(two_days, "ticket_id")
    assert len(tickets) > 100
    for ticket_id, events in tickets.items():
        created, *rest = events
        assert created["type"] == "ticket.created", ticket_id
        state, replied = "new", False
        for event in rest:
            assert epoch(event) >= epoch(created)
            assert state != "closed", f"{ticket_id}: {event['type']} after closed"
            kind = event["type"]
            if kind == "ticket.status_changed":
                assert (state, event["status"]) in TICKET_STEPS, (ticket_id, state, event)
                state = event["status"]
            elif kind == "ticket.reopened":
                assert state == "solved", ticket_id
                state = "reopened"
            elif kind == "ticket.customer_reply":
                assert state in ("pending", "solved"), ticket_id
            elif kind == "ticket.agent_reply" and event["public"]:
                assert state == "open", ticket_id
                replied = True
            elif kind == "ticket.created":
                pytest.fail(f"{ticket_id} created twice")
        assert replied or state == "new", ticket_id


def test_some_first_replies_miss_the_email_and_portal_targets() -> None:
    events = run(24 * 7, agreements=[agreement("acme")])
    tickets = by_item(events, "ticket_id")
    late: Counter[str] = Counter()
    for events_of_ticket in tickets.values():
        created = events_of_ticket[0]
        replies = [e for e in events_of_ticket if e["type"] == "ticket.agent_reply" and e["public"]]
        target = {"email": 12 * 3600, "portal": 4 * 3600}.get(created["channel"])
        if replies and target and epoch(replies[0]) - epoch(created) > target:
            late[created["channel"]] += 1
    assert late["email"] > 0
    assert late["portal"] > 0


def test_chats_start_then_get_an_agent_message_then_end_or_are_abandoned(
    two_days: list[dict[str, Any]],
) -> None:
    chats = by_item(two_days, "chat_id")
    assert len(chats) > 100
    for chat_id, events in chats.items():
        kinds = [event["type"] for event in events]
        assert kinds[0] == "chat.started", chat_id
        if "chat.abandoned" in kinds:
            assert kinds == ["chat.started", "chat.abandoned"], chat_id
        elif len(kinds) > 1:
            assert kinds[1] == "chat.agent_message", chat_id
            assert "chat.ended" not in kinds[:-1], chat_id


def test_calls_are_offered_then_answered_and_ended_or_abandoned(
    two_days: list[dict[str, Any]],
) -> None:
    for call_id, events in by_item(two_days, "call_id").items():
        kinds = [event["type"] for event in events]
        assert kinds in (
            ["call.offered"],
            ["call.offered", "call.abandoned"],
            ["call.offered", "call.answered"],
            ["call.offered", "call.answered", "call.ended"],
        ), call_id
        if len(events) > 1:
            assert events[1]["wait_s"] == pytest.approx(
                epoch(events[1]) - epoch(events[0]), abs=1e-3
            )
        if len(events) == 3:
            assert events[2]["handle_s"] == pytest.approx(
                epoch(events[2]) - epoch(events[1]), abs=1e-3
            )


def test_outages_go_down_or_degraded_then_up_for_each_monitored_service() -> None:
    availability = [
        AvailabilityObjective(id=f"avail-{name}", service=name, target=Target(">=", 0.995))
        for name in ("portal", "ivr")
    ]
    profile = TrafficProfile(outages=Outages(per_day=6.0))
    events = run(48, profile=profile, agreements=[agreement(objectives=tuple(availability))])
    statuses: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if event["type"] == "service.status":
            statuses[event["service"]].append(event["status"])
    assert set(statuses) == {"portal", "ivr"}
    for history in statuses.values():
        assert history[0] == "up"
        assert len(history) > 3
        assert all(a != b and "up" in (a, b) for a, b in itertools.pairwise(history))


def test_a_contract_without_availability_objectives_reports_a_core_service(
    two_days: list[dict[str, Any]],
) -> None:
    assert {e["service"] for e in two_days if e["type"] == "service.status"} == {"core"}


# --- opening hours and staffing ----------------------------------------------------------


class NineToFive:
    """A stand-in business calendar: open 09:00-17:00 UTC on weekdays."""

    def is_open(self, t: float) -> bool:
        moment = datetime.fromtimestamp(t, UTC)
        return moment.weekday() < 5 and 9 <= moment.hour < 17


def test_calls_arrive_and_agents_reply_only_while_the_business_calendar_is_open() -> None:
    events = run(24 * 3, agreements=[agreement(calendars={"business": NineToFive()})])
    offered = [e for e in events if e["type"] in ("call.offered", "chat.started")]
    replies = [e for e in events if e["type"] == "ticket.agent_reply"]
    assert offered
    assert replies
    calendar = NineToFive()
    assert all(calendar.is_open(epoch(event)) for event in offered + replies)


def test_a_real_business_calendar_closes_lunch_holidays_and_weekends() -> None:
    split_shift = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))
    calendar = BusinessCalendar(
        "business",
        "Asia/Shanghai",
        dict.fromkeys(range(5), split_shift),
        extra_holidays=[date(2026, 11, 18)],
    )
    contract = agreement(timezone="Asia/Shanghai", calendars={"business": calendar})
    events = run(24 * 7, agreements=[contract])
    local_days: Counter[date] = Counter()
    for event in events:
        if event["type"] == "call.offered":
            moment = datetime.fromisoformat(event["ts"]).astimezone(ZoneInfo("Asia/Shanghai"))
            assert moment.hour in (9, 10, 11, 13, 14, 15, 16, 17), moment
            local_days[moment.date()] += 1
    assert set(local_days) == {date(2026, 11, day) for day in (16, 17, 19, 20)}


def test_callers_abandon_when_agents_are_short() -> None:
    def abandon_rate(agents: int) -> float:
        events = run(24, profile=calls_only(agents), agreements=[agreement()])
        kinds = Counter(event["type"] for event in events)
        return kinds["call.abandoned"] / kinds["call.offered"]

    # 8 Erlang offered: 6 agents cannot keep up, 14 agents can.
    assert abandon_rate(6) > 0.15
    assert abandon_rate(14) < 0.02


def test_the_default_staffing_gap_makes_the_afternoon_peak_the_worst_hour() -> None:
    events = run(24 * 5, seed=3, agreements=[agreement()])
    offered: Counter[int] = Counter()
    abandoned: Counter[int] = Counter()
    for event in events:
        hour = datetime.fromisoformat(event["ts"]).hour
        if event["type"] == "call.offered":
            offered[hour] += 1
        elif event["type"] == "call.abandoned":
            abandoned[hour] += 1
    assert offered[10] > offered[12] < offered[14]
    rates = {hour: abandoned[hour] / offered[hour] for hour in offered if offered[hour] > 50}
    assert max(rates, key=rates.__getitem__) == 14
    assert rates[14] > 2 * rates[10]


# --- the queue is exact: Erlang C ------------------------------------------------------


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arriving call must wait in an M/M/c queue (Erlang C)."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    bottom = sum(load**k / math.factorial(k) for k in range(servers))
    return top / (bottom + top)


def batch_mean_and_error(values: list[float], batches: int = 40) -> tuple[float, float]:
    """Mean and its standard error from batch means (waits in a queue are correlated)."""
    size = len(values) // batches
    means = [statistics.fmean(values[i * size : (i + 1) * size]) for i in range(batches)]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(batches)


def test_service_level_and_asa_agree_with_erlang_c() -> None:
    """M/M/10 at 8 Erlang for 1,200 simulated hours (~144,000 calls)."""
    rate, handle, servers, threshold = 2 / 60, 240.0, 10, 20.0
    load = rate * handle
    profile = calls_only(servers, per_hour=rate * 3600, patience=Dist(math.inf))
    events = run(1200, profile=profile, agreements=[agreement()])

    warm_up = (MONDAY + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    offered_at = {e["call_id"]: e["ts"] for e in events if e["type"] == "call.offered"}
    answered = [e for e in events if e["type"] == "call.answered"]
    assert not any(e["type"] == "call.abandoned" for e in events)
    for event in answered[:1000]:
        waited = epoch(event) - datetime.fromisoformat(offered_at[event["call_id"]]).timestamp()
        assert event["wait_s"] == pytest.approx(waited, abs=1e-3)
    waits = [e["wait_s"] for e in answered if offered_at[e["call_id"]] >= warm_up]

    waiting = erlang_c(servers, load)
    expected_sl = 1 - waiting * math.exp(-(servers - load) * threshold / handle)
    expected_asa = waiting * handle / (servers - load)
    delayed, delayed_error = batch_mean_and_error([float(w > 0) for w in waits])
    sl, sl_error = batch_mean_and_error([float(w <= threshold) for w in waits])
    asa, asa_error = batch_mean_and_error(waits)

    assert max(delayed_error, sl_error) < 0.012, "too little data to test anything"
    assert asa_error < 4.0, "too little data to test anything"
    assert abs(delayed - waiting) < 4 * delayed_error, (delayed, waiting, delayed_error)
    assert abs(sl - expected_sl) < 4 * sl_error, (sl, expected_sl, sl_error)
    assert abs(asa - expected_asa) < 4 * asa_error, (asa, expected_asa, asa_error)

    # The engine, fed the same events, measures the same queue.
    engine_sl, engine_asa = _engine_sl_and_asa(events, threshold)
    assert abs(engine_sl - expected_sl) < 4 * sl_error, (engine_sl, expected_sl, sl_error)
    assert abs(engine_asa - expected_asa) < 4 * asa_error, (engine_asa, expected_asa)


def _engine_sl_and_asa(events: list[dict[str, Any]], threshold: float) -> tuple[float, float]:
    from monitor.domain.agreement import Target, WindowObjective
    from monitor.domain.engine import Engine
    from monitor.domain.report import build_report

    measured = agreement(
        objectives=(
            WindowObjective("sl", "service_level", Target(">=", 0.8), 1800, threshold=threshold),
            WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 3600),
        )
    )
    engine = Engine([measured])
    for body in events:
        parsed = parse_event(json.dumps(body).encode())
        assert not isinstance(parsed, EventError), parsed
        engine.apply(parsed)
    engine.advance(engine.max_event_time)
    objectives = build_report(engine)["contracts"]["acme"]["objectives"]
    return objectives["sl"]["value"], objectives["asa"]["value"]


# --- inputs and output -----------------------------------------------------------------


def test_write_jsonl_writes_one_parsable_event_per_line(tmp_path: Path) -> None:
    events = run(2)
    path = tmp_path / "events.jsonl"
    assert write_jsonl(iter(events), path) == len(events)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == events
    assert not any(isinstance(parse_event(line), EventError) for line in lines)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": datetime(2026, 11, 16)}, "timezone-aware"),
        ({"duration": timedelta(hours=-1)}, "negative"),
        ({"agreements": [agreement("a"), agreement("a")]}, "duplicate"),
    ],
)
def test_bad_arguments_are_refused(change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "agreements": [agreement()],
        "start": MONDAY,
        "duration": timedelta(hours=1),
    } | change
    with pytest.raises(ValueError, match=message):
        simulate(arguments.pop("agreements"), **arguments)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TrafficProfile(curve=(1.0,) * 23), "24 non-negative"),
        (lambda: TrafficProfile(curve=(-1.0,) * 24), "24 non-negative"),
        (lambda: TrafficProfile(chats=ChatTraffic(concurrency=0)), "concurrency"),
        (lambda: Dist(0.0), "positive"),
        (lambda: Dist(math.inf, "lognormal"), "infinite"),
    ],
)
def test_an_impossible_profile_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_an_empty_duration_gives_no_events() -> None:
    assert run(0) == []
