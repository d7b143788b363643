"""Item clocks: starts, stops, pauses, re-targeting, reopen, re-arming, warnings, calendars."""

from __future__ import annotations

import pytest

from monitor.domain.agreement import BusinessTime, ItemObjective, Match, Target, Workdays
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import Engine, Outcome
from monitor.domain.report import build_report
from tests.support import NEW_YORK, agreement, at, business_calendar, epoch, event, run, states

UTC_24X7 = BusinessCalendar.always_open("UTC")
HOUR = 3600.0


def resolution(hours: float = 8, **kwargs) -> ItemObjective:
    fields = {"calendar": UTC_24X7} | kwargs
    return ItemObjective("res", "resolution", BusinessTime(hours * HOUR), **fields)


def first_response(within: float = 4 * HOUR, **kwargs) -> ItemObjective:
    fields = {"calendar": UTC_24X7} | kwargs
    return ItemObjective("fr", "first_response", BusinessTime(within), **fields)


def created(ts: str, ticket: str = "T1", **fields) -> object:
    body = {"channel": "email", "priority": "high"} | fields
    return event("ticket.created", ts, ticket_id=ticket, **body)


def status(ts: str, value: str, ticket: str = "T1") -> object:
    return event("ticket.status_changed", ts, ticket_id=ticket, status=value)


def test_an_unanswered_ticket_breaches_at_its_deadline_without_further_events() -> None:
    engine = Engine([agreement(first_response())])
    assert run(engine, [created(at("2026-11-20 10:00"))]) == []
    assert engine.advance(epoch("2026-11-20 13:59")) == []
    assert states(engine.advance(epoch("2026-11-20 14:01"))) == [
        ("fr", "breached", "2026-11-20T14:00:00Z")
    ]


def test_a_reply_before_the_deadline_is_met_and_raises_nothing() -> None:
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.agent_reply", at("2026-11-20 13:59"), ticket_id="T1"),
    ]
    engine = Engine([agreement(first_response())])
    assert run(engine, events, until=epoch("2026-11-21 00:00")) == []
    report = build_report(engine)["contracts"]["acme"]["objectives"]["fr"]
    assert (report["value"], report["samples"], report["breaches"]) == (1.0, 1, 0)


def test_a_reply_exactly_at_the_deadline_is_in_time() -> None:
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.agent_reply", at("2026-11-20 14:00"), ticket_id="T1"),
    ]
    assert run(agreement(first_response()), events, until=epoch("2026-11-21")) == []


def test_private_notes_do_not_stop_the_first_response_clock() -> None:
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.agent_reply", at("2026-11-20 11:00"), ticket_id="T1", public=False),
    ]
    alerts = run(agreement(first_response()), events, until=epoch("2026-11-21"))
    assert states(alerts) == [("fr", "breached", "2026-11-20T14:00:00Z")]


def test_a_late_reply_resolves_the_breach_which_still_counts() -> None:
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.agent_reply", at("2026-11-20 15:30"), ticket_id="T1"),
    ]
    engine = Engine([agreement(first_response())])
    alerts = run(engine, events, until=epoch("2026-11-21"))
    assert states(alerts) == [
        ("fr", "breached", "2026-11-20T14:00:00Z"),
        ("fr", "resolved", "2026-11-20T15:30:00Z"),
    ]
    report = build_report(engine)["contracts"]["acme"]["objectives"]["fr"]
    assert (report["value"], report["breaches"], report["met"]) == (0.0, 1, False)


def test_warn_at_raises_at_risk_at_each_share_of_the_budget() -> None:
    events = [created(at("2026-11-20 10:00"))]
    alerts = run(agreement(first_response(warn_at=(0.5, 0.75))), events, until=epoch("2026-11-21"))
    assert states(alerts) == [
        ("fr", "at_risk", "2026-11-20T12:00:00Z"),
        ("fr", "at_risk", "2026-11-20T13:00:00Z"),
        ("fr", "breached", "2026-11-20T14:00:00Z"),
    ]
    assert [a.severity for a in alerts] == ["warning", "warning", "critical"]


def test_an_at_risk_item_answered_in_time_is_resolved() -> None:
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.agent_reply", at("2026-11-20 13:30"), ticket_id="T1"),
    ]
    alerts = run(agreement(first_response(warn_at=(0.75,))), events, until=epoch("2026-11-21"))
    assert states(alerts) == [
        ("fr", "at_risk", "2026-11-20T13:00:00Z"),
        ("fr", "resolved", "2026-11-20T13:30:00Z"),
    ]


def test_an_at_risk_deadline_ignores_a_pause_that_arrived_early_but_begins_later() -> None:
    """Regression (CI, property test): the text must not depend on arrival order."""
    objective = resolution(1, pause_on=frozenset({"pending"}), warn_at=(0.75,))
    ticket = created(at("2026-11-20 10:00"))
    call = event("call.offered", at("2026-11-20 10:49:30"), call_id="c1")
    pending = status(at("2026-11-20 10:50"), "pending")
    descriptions = []
    for order in ([ticket, call, pending], [ticket, pending, call]):
        alerts = Engine([agreement(objective)], lateness=60).apply_all(order)
        assert states(alerts) == [("res", "at_risk", "2026-11-20T10:45:00Z")]
        descriptions.append(alerts[0].to_json()["annotations"])
    assert descriptions[0] == descriptions[1]
    assert descriptions[0]["deadline"] == "2026-11-20T11:00:00Z"


def test_a_resolved_deadline_ignores_a_pause_end_that_arrived_early_but_comes_later() -> None:
    """Regression (shuffle property): the resolved alert's text depended on arrival order.

    At risk at 10:45, paused at 10:50, dropped out of the objective at 11:20 (resolved
    then, still paused), reopened at 11:20:30: whether the reopen had arrived when the
    call moved the watermark past 11:20 must not change the alert.
    """
    objective = resolution(
        1,
        match=Match(priority=frozenset({"high"})),
        pause_on=frozenset({"pending"}),
        warn_at=(0.75,),
    )
    steps = [
        created(at("2026-11-20 10:00")),
        status(at("2026-11-20 10:50"), "pending"),
        event("ticket.priority_changed", at("2026-11-20 11:20"), ticket_id="T1", priority="low"),
    ]
    reopen = event("ticket.reopened", at("2026-11-20 11:20:30"), ticket_id="T1")
    call = event("call.offered", at("2026-11-20 11:21:10"), call_id="c1")
    annotations = []
    for order in ([*steps, reopen, call], [*steps, call, reopen]):
        alerts = Engine([agreement(objective)], lateness=60).apply_all(order)
        assert states(alerts) == [
            ("res", "at_risk", "2026-11-20T10:45:00Z"),
            ("res", "resolved", "2026-11-20T11:20:00Z"),
        ]
        annotations.append(alerts[1].to_json()["annotations"])
    assert annotations[0] == annotations[1]
    # paused when it resolved: no deadline stood at that instant
    assert annotations[0]["deadline"] == "n/a"


def test_pending_and_on_hold_pause_the_resolution_clock() -> None:
    objective = resolution(8, pause_on=frozenset({"pending", "on_hold"}))
    events = [
        created(at("2026-11-20 08:00")),
        status(at("2026-11-20 09:00"), "pending"),  # 1 h spent
        status(at("2026-11-20 12:00"), "open"),
        status(at("2026-11-20 14:00"), "on_hold"),  # 3 h spent
        status(at("2026-11-20 20:00"), "open"),  # 5 h left from 20:00
    ]
    alerts = run(agreement(objective), events, until=epoch("2026-11-22"))
    assert states(alerts) == [("res", "breached", "2026-11-21T01:00:00Z")]


def test_a_ticket_paused_for_good_never_breaches() -> None:
    objective = resolution(1, pause_on=frozenset({"pending"}))
    events = [created(at("2026-11-20 08:00")), status(at("2026-11-20 08:30"), "pending")]
    assert run(agreement(objective), events, until=epoch("2026-12-30")) == []


def test_solving_stops_the_resolution_clock_and_reopen_restarts_it() -> None:
    events = [
        created(at("2026-11-20 08:00")),
        status(at("2026-11-20 09:00"), "solved"),
        event("ticket.reopened", at("2026-11-20 12:00"), ticket_id="T1"),
    ]
    engine = Engine([agreement(resolution(2))])
    alerts = run(engine, events, until=epoch("2026-11-21"))
    # the second cycle starts at the reopen, with a fresh 2 h budget
    assert states(alerts) == [("res", "breached", "2026-11-20T14:00:00Z")]
    report = build_report(engine)["contracts"]["acme"]["objectives"]["res"]
    assert (report["samples"], report["breaches"]) == (2, 1)


def test_raising_priority_retargets_keeping_the_time_already_spent() -> None:
    high = ItemObjective(
        "res-high",
        "resolution",
        BusinessTime(4 * HOUR),
        UTC_24X7,
        match=Match(priority=frozenset({"urgent", "high"})),
    )
    normal = ItemObjective(
        "res-normal",
        "resolution",
        BusinessTime(24 * HOUR),
        UTC_24X7,
        match=Match(priority=frozenset({"normal", "low"})),
    )
    events = [
        created(at("2026-11-20 08:00"), priority="normal"),
        event("ticket.priority_changed", at("2026-11-20 10:00"), ticket_id="T1", priority="high"),
    ]
    alerts = run(agreement(high, normal), events, until=epoch("2026-11-22"))
    # 2 h spent under normal count against the 4 h high budget: due at 12:00, not 14:00
    assert states(alerts) == [("res-high", "breached", "2026-11-20T12:00:00Z")]


def test_raising_priority_past_the_new_deadline_breaches_at_the_change() -> None:
    high = ItemObjective(
        "res-high",
        "resolution",
        BusinessTime(1 * HOUR),
        UTC_24X7,
        match=Match(priority=frozenset({"high"})),
    )
    events = [
        created(at("2026-11-20 08:00"), priority="normal"),
        event("ticket.priority_changed", at("2026-11-20 10:00"), ticket_id="T1", priority="high"),
    ]
    alerts = run(agreement(high), events, until=epoch("2026-11-21"))
    assert states(alerts) == [("res-high", "breached", "2026-11-20T10:00:00Z")]


def test_lowering_priority_drops_the_stricter_clock() -> None:
    high = ItemObjective(
        "res-high",
        "resolution",
        BusinessTime(4 * HOUR),
        UTC_24X7,
        match=Match(priority=frozenset({"high"})),
    )
    events = [
        created(at("2026-11-20 08:00"), priority="high"),
        event("ticket.priority_changed", at("2026-11-20 09:00"), ticket_id="T1", priority="low"),
    ]
    engine = Engine([agreement(high)])
    assert run(engine, events, until=epoch("2026-11-22")) == []
    assert build_report(engine)["contracts"]["acme"]["objectives"]["res-high"]["samples"] == 0


def test_next_response_rearms_on_each_customer_reply() -> None:
    objective = ItemObjective("nr", "next_response", BusinessTime(HOUR), UTC_24X7)
    events = [
        created(at("2026-11-20 08:00")),
        event("ticket.customer_reply", at("2026-11-20 08:10"), ticket_id="T1"),  # before 1st
        event("ticket.agent_reply", at("2026-11-20 08:30"), ticket_id="T1"),
        event("ticket.customer_reply", at("2026-11-20 09:00"), ticket_id="T1"),  # arms
        event("ticket.customer_reply", at("2026-11-20 09:20"), ticket_id="T1"),  # still armed
        event("ticket.agent_reply", at("2026-11-20 09:45"), ticket_id="T1"),  # met
        event("ticket.customer_reply", at("2026-11-20 11:00"), ticket_id="T1"),  # arms
        event("ticket.agent_reply", at("2026-11-20 12:30"), ticket_id="T1"),  # late
    ]
    engine = Engine([agreement(objective)])
    alerts = run(engine, events, until=epoch("2026-11-21"))
    assert states(alerts) == [
        ("nr", "breached", "2026-11-20T12:00:00Z"),
        ("nr", "resolved", "2026-11-20T12:30:00Z"),
    ]
    report = build_report(engine)["contracts"]["acme"]["objectives"]["nr"]
    assert (report["samples"], report["breaches"]) == (2, 1)


def test_business_hours_deadline_skips_nights_weekends_and_lunch() -> None:
    calendar = business_calendar()
    objective = ItemObjective("email", "first_response", BusinessTime(12 * HOUR), calendar)
    # Friday 2026-11-20 10:00 New York: Fri 7 h (10-12, 13-18), Mon 9-12 3 h, 13-15 2 h
    events = [created(at("2026-11-20 10:00", NEW_YORK))]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-25"))
    assert states(alerts) == [("email", "breached", "2026-11-23T20:00:00Z")]


def test_a_budget_used_up_at_closing_time_is_due_at_the_close() -> None:
    calendar = business_calendar()
    objective = ItemObjective("fr", "first_response", BusinessTime(2 * HOUR), calendar)
    # Thursday 16:00 + 2 business hours is used up at the 18:00 close: due then, and a
    # reply at 08:30 the next morning, in the closed time after it, is late
    events = [
        created(at("2026-11-19 16:00", NEW_YORK)),
        event("ticket.agent_reply", at("2026-11-20 08:30", NEW_YORK), ticket_id="T1"),
    ]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-21"))
    assert states(alerts) == [
        ("fr", "breached", "2026-11-19T23:00:00Z"),
        ("fr", "resolved", "2026-11-20T13:30:00Z"),
    ]


def test_a_reply_exactly_at_a_closing_time_deadline_is_in_time() -> None:
    calendar = business_calendar()
    objective = ItemObjective("fr", "first_response", BusinessTime(HOUR), calendar)
    # Friday 17:00 + 1 business hour is due Friday 18:00, not Monday 09:00
    events = [
        created(at("2026-11-20 17:00", NEW_YORK)),
        event("ticket.agent_reply", at("2026-11-20 18:00", NEW_YORK), ticket_id="T1"),
    ]
    assert run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-24")) == []


@pytest.mark.parametrize(
    ("weekly", "created_at", "hours", "due"),
    [
        # 8 business hours from an overnight ticket on 9-12/13-18: Monday 18:00
        (None, "2026-11-23 02:00", 8, "2026-11-23T23:00:00Z"),
        # 4 hours from 08:00 on 8-12/13-17: 12:00, not 13:00 after lunch
        (
            {day: [(480, 720), (780, 1020)] for day in range(5)},
            "2026-11-23 08:00",
            4,
            "2026-11-23T17:00:00Z",
        ),
        # a Friday 18:00 deadline is not a Monday 09:00 one
        (None, "2026-11-20 10:00", 7, "2026-11-20T23:00:00Z"),
    ],
)
def test_a_deadline_is_the_earliest_instant_the_budget_is_used_up(
    weekly, created_at: str, hours: float, due: str
) -> None:
    calendar = business_calendar() if weekly is None else BusinessCalendar("b", NEW_YORK, weekly)
    objective = ItemObjective("fr", "first_response", BusinessTime(hours * HOUR), calendar)
    events = [created(at(created_at, NEW_YORK))]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-28"))
    assert states(alerts) == [("fr", "breached", due)]


def test_at_risk_warnings_fall_at_the_closing_instant_too() -> None:
    calendar = business_calendar()
    objective = ItemObjective("fr", "first_response", BusinessTime(10 * HOUR), calendar)
    # Monday 09:00: half of 10 business hours (5 h: 9-12, 13-15) is used at 15:00, the
    # whole of it at Tuesday 11:00; 80 % (8 h) is used up at the Monday 18:00 close
    events = [created(at("2026-11-23 09:00", NEW_YORK))]
    alerts = run(
        agreement(objective, timezone=NEW_YORK, warn_at=(0.5, 0.8)),
        events,
        until=epoch("2026-11-25"),
    )
    assert states(alerts) == [
        ("fr", "at_risk", "2026-11-23T20:00:00Z"),
        ("fr", "at_risk", "2026-11-23T23:00:00Z"),
        ("fr", "breached", "2026-11-24T16:00:00Z"),
    ]


def test_workdays_end_at_the_same_local_time_on_the_nth_workday() -> None:
    calendar = business_calendar()
    objective = ItemObjective(
        "complaint",
        "resolution",
        Workdays(2),
        calendar,
        match=Match(category=frozenset({"complaint"})),
    )
    events = [created(at("2026-11-20 10:30", NEW_YORK), category="complaint")]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-30"))
    # Friday 10:30 + 2 workdays = Tuesday 10:30 (EST, UTC-5)
    assert states(alerts) == [("complaint", "breached", "2026-11-24T15:30:00Z")]


def test_workdays_started_after_hours_count_from_the_next_opening() -> None:
    calendar = business_calendar()
    objective = ItemObjective("complaint", "resolution", Workdays(2), calendar)
    events = [created(at("2026-11-20 20:00", NEW_YORK))]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-30"))
    # from the next opening, Monday 09:00, 2 workdays end Wednesday 09:00; their budget
    # (Monday and Tuesday) is used up at the Tuesday 18:00 close, which is the deadline
    assert states(alerts) == [("complaint", "breached", "2026-11-24T23:00:00Z")]


def test_business_deadline_is_exact_across_the_autumn_dst_change() -> None:
    calendar = business_calendar()
    objective = ItemObjective("fr", "first_response", BusinessTime(10 * HOUR), calendar)
    # Friday 2026-10-30 14:00 EDT: Fri 4 h; Mon 2026-11-02 (EST) 9-12 3 h, 13-16 3 h
    events = [created(at("2026-10-30 14:00", NEW_YORK))]
    alerts = run(agreement(objective, timezone=NEW_YORK), events, until=epoch("2026-11-05"))
    assert states(alerts) == [("fr", "breached", "2026-11-02T21:00:00Z")]


def test_chats_have_first_response_clocks_when_the_objective_selects_chat() -> None:
    objective = first_response(180, match=Match(channel=frozenset({"chat"})))
    events = [
        event("chat.started", at("2026-11-20 10:00:00"), chat_id="k1"),
        event("chat.agent_message", at("2026-11-20 10:02:00"), chat_id="k1"),
        event("chat.started", at("2026-11-20 10:00:00"), chat_id="k2"),
        event("chat.agent_message", at("2026-11-20 10:04:00"), chat_id="k2"),
        event("chat.started", at("2026-11-20 10:00:00"), chat_id="k3"),
        event("chat.abandoned", at("2026-11-20 10:01:00"), chat_id="k3"),
    ]
    engine = Engine([agreement(objective)])
    alerts = run(engine, events, until=epoch("2026-11-21"))
    assert [(a.subject.kind, a.subject.id, a.state) for a in alerts] == [
        ("chat", "k2", "breached"),
        ("chat", "k2", "resolved"),
    ]
    report = build_report(engine)["contracts"]["acme"]["objectives"]["fr"]
    assert (report["samples"], report["breaches"]) == (2, 1)


def test_item_alerts_carry_the_contract_objective_and_subject() -> None:
    events = [created(at("2026-11-20 10:00"), queue="billing")]
    alert = run(agreement(first_response()), events, until=epoch("2026-11-21"))[0]
    body = alert.to_json()
    assert body["subject"] == {"kind": "ticket", "id": "T1", "queue": "billing"}
    assert body["event_time"] == "2026-11-20T14:00:00Z"
    assert body["severity"] == "critical"
    assert body["escalation_level"] == 1
    assert body["annotations"]["deadline"] == "2026-11-20T14:00:00Z"
    assert len(body["fingerprint"]) == 32


def test_monthly_compliance_is_the_share_of_items_in_time() -> None:
    objective = resolution(1, target=Target(">=", 0.95), period="month")
    events = []
    for number in range(10):
        ticket = f"T{number}"
        events.append(created(at(f"2026-11-20 0{number}:00"), ticket=ticket))
        solved_after = "30" if number < 8 else "59" if number == 8 else "01"
        hour = number if number < 9 else number + 1
        events.append(status(at(f"2026-11-20 {hour:02d}:{solved_after}"), "solved", ticket))
    engine = Engine([agreement(objective)])
    run(engine, sorted(events, key=lambda e: e.ts), until=epoch("2026-11-21"))
    report = build_report(engine)["contracts"]["acme"]["objectives"]["res"]
    assert (report["value"], report["samples"], report["met"]) == (0.9, 10, False)
    assert report["months"]["2026-11"]["value"] == 0.9


def test_a_late_reply_behind_the_watermark_still_resolves_the_breach() -> None:
    """Regression: alerts a late event settles at once were dropped by Engine.apply."""
    engine = Engine([agreement(first_response(30 * 60))], lateness=60)
    alerts = run(
        engine,
        [
            created(at("2026-11-20 10:00")),
            event("call.offered", at("2026-11-20 11:01"), call_id="c1"),
        ],
    )
    assert states(alerts) == [("fr", "breached", "2026-11-20T10:30:00Z")]
    late = engine.apply(event("ticket.agent_reply", at("2026-11-20 10:45"), ticket_id="T1")).alerts
    assert states(late) == [("fr", "resolved", "2026-11-20T10:45:00Z")]


def test_a_clock_ended_by_a_priority_change_and_reactivated_counts_in_any_order() -> None:
    """Regression (shuffle property): an ended cycle was marked decided and never counted."""
    objective = resolution(
        1, match=Match(priority=frozenset({"high"})), pause_on=frozenset({"pending"})
    )
    steps = [
        created(at("2026-11-20 14:02")),
        status(at("2026-11-20 14:07"), "pending"),
        event("ticket.priority_changed", at("2026-11-20 14:14"), ticket_id="T1", priority="low"),
        event(
            "ticket.priority_changed", at("2026-11-20 14:53:32"), ticket_id="T1", priority="high"
        ),
        event("ticket.customer_reply", at("2026-11-20 14:53:33"), ticket_id="T1"),
        status(at("2026-11-20 14:53:35"), "solved"),
    ]
    for late_first in (False, True):
        order = steps[:3] + (steps[3:][::-1] if late_first else steps[3:])
        engine = Engine([agreement(objective)], lateness=60)
        run(engine, order, until=epoch("2026-11-20 16:00"))
        report = build_report(engine)["contracts"]["acme"]["objectives"]["res"]
        assert (report["samples"], report["value"]) == (1, 1.0), late_first


def test_a_breach_is_resolved_when_its_clock_stops_applying_even_if_it_applies_again() -> None:
    """Regression (shuffle property): whether the change back to high arrived before the
    watermark passed the drop to low decided whether the breach was resolved at all."""
    objective = resolution(1, match=Match(priority=frozenset({"high"})))
    steps = [
        created(at("2026-11-20 10:00")),
        event("ticket.priority_changed", at("2026-11-20 11:30"), ticket_id="T1", priority="low"),
    ]
    back_to_high = event(
        "ticket.priority_changed", at("2026-11-20 11:45"), ticket_id="T1", priority="high"
    )
    reopen = event("ticket.reopened", at("2026-11-20 11:45:01"), ticket_id="T1")
    for order in ([*steps, back_to_high, reopen], [*steps, reopen, back_to_high]):
        alerts = run(Engine([agreement(objective)], lateness=60), order, until=epoch("2026-11-21"))
        assert states(alerts) == [
            ("res", "breached", "2026-11-20T11:00:00Z"),
            ("res", "resolved", "2026-11-20T11:30:00Z"),
        ], order[2].type


def test_an_at_risk_warning_in_an_earlier_span_of_the_clock_fires_in_any_order() -> None:
    """Regression: a change back that arrived before the watermark passed the warning hid it."""
    objective = resolution(1, match=Match(priority=frozenset({"high"})), warn_at=(0.75,))
    steps = [
        created(at("2026-11-20 10:00")),
        event("ticket.priority_changed", at("2026-11-20 10:45:30"), ticket_id="T1", priority="low"),
    ]
    back_to_high = event(
        "ticket.priority_changed", at("2026-11-20 10:46"), ticket_id="T1", priority="high"
    )
    solved = status(at("2026-11-20 10:50"), "solved")
    for until_back in (epoch("2026-11-20 10:45:10"), epoch("2026-11-20 10:44:50")):
        engine = Engine([agreement(objective)], lateness=60)
        alerts = run(engine, steps, until=until_back)
        alerts += run(engine, [back_to_high, solved], until=epoch("2026-11-21"))
        assert states(alerts) == [
            ("res", "at_risk", "2026-11-20T10:45:00Z"),
            ("res", "resolved", "2026-11-20T10:45:30Z"),
        ], until_back


def test_apply_says_what_became_of_each_event() -> None:
    engine = Engine([agreement(first_response(30 * 60))], lateness=60, dedup_horizon=3600)
    first = created(at("2026-11-20 10:00"))
    assert engine.apply(first).outcome is Outcome.APPLIED
    assert engine.apply(first).outcome is Outcome.DUPLICATE
    stranger = event("call.offered", at("2026-11-20 10:01"), call_id="c1", contract_id="other")
    assert engine.apply(stranger).outcome is Outcome.UNKNOWN_CONTRACT
    engine.apply(event("call.offered", at("2026-11-20 14:00"), call_id="c2"))
    late = engine.apply(event("ticket.agent_reply", at("2026-11-20 13:30"), ticket_id="T1"))
    assert late.outcome is Outcome.LATE
    too_late = event("call.offered", at("2026-11-20 12:00"), call_id="c3")
    assert engine.apply(too_late).outcome is Outcome.TOO_LATE
    counters = engine.counters
    assert (counters.duplicates, counters.unknown_contract, counters.late) == (1, 1, 2)
    assert counters.too_late == 1


def test_events_that_raise_nothing_share_one_immutable_result() -> None:
    engine = Engine([agreement(first_response(30 * 60))], lateness=60, dedup_horizon=3600)
    first = engine.apply(created(at("2026-11-20 10:00")))
    second = engine.apply(created(at("2026-11-20 10:01"), ticket="T2"))
    assert first is second
    assert (first.outcome, first.alerts) == (Outcome.APPLIED, ())
    engine.apply(event("call.offered", at("2026-11-20 10:20"), call_id="c1"))
    late = engine.apply(event("ticket.agent_reply", at("2026-11-20 10:10"), ticket_id="T2"))
    assert (late.outcome, late.alerts) == (Outcome.LATE, ())
    breach = engine.apply(event("call.offered", at("2026-11-20 10:40"), call_id="c2"))
    assert breach.outcome is Outcome.APPLIED
    assert states(list(breach.alerts)) == [("fr", "breached", "2026-11-20T10:30:00Z")]
    assert breach is not first


def test_an_alert_raised_after_the_clock_applies_again_is_resolved_too() -> None:
    """At risk, then out of the objective (resolved), back in, breached, solved: the breach
    is resolved when the ticket is solved, however far the watermark jumps at a time."""
    objective = resolution(1, match=Match(priority=frozenset({"high"})), warn_at=(0.5,))
    events = [
        created(at("2026-11-20 10:00")),
        event("ticket.priority_changed", at("2026-11-20 10:40"), ticket_id="T1", priority="low"),
        event("ticket.priority_changed", at("2026-11-20 10:50"), ticket_id="T1", priority="high"),
        status(at("2026-11-20 11:30"), "solved"),
    ]
    expected = [
        ("res", "at_risk", "2026-11-20T10:30:00Z"),
        ("res", "resolved", "2026-11-20T10:40:00Z"),
        ("res", "breached", "2026-11-20T11:00:00Z"),
        ("res", "resolved", "2026-11-20T11:30:00Z"),
    ]
    step_by_step = Engine([agreement(objective)], lateness=60)
    assert states(run(step_by_step, events, until=epoch("2026-11-21"))) == expected
    at_once = Engine([agreement(objective)], lateness=60, auto_advance=False)
    alerts = run(at_once, events, until=epoch("2026-11-21"))
    assert sorted(states(alerts), key=lambda state: state[2]) == expected
    status_now = at_once.objective_status()[0]
    assert (status_now.status, status_now.breaches) == ("ok", 1)
