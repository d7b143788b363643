"""Window objectives: every formula against hand-computed values, then alert timing."""

from __future__ import annotations

import pytest

from monitor.domain.agreement import Match, Target, WindowObjective
from monitor.domain.engine import Engine
from monitor.domain.report import build_report
from tests.support import agreement, at, epoch, event, run, states

# Ten calls leaving the queue: (answered?, wait seconds).
CALLS = [
    (True, 5),
    (True, 10),
    (True, 20),
    (True, 21),
    (True, 45),
    (True, 80),
    (False, 3),
    (False, 4),
    (False, 30),
    (False, 90),
]


def _calls(calls: list[tuple[bool, float]], *, derive_wait: bool = False) -> list:
    events = []
    for number, (answered, wait) in enumerate(calls):
        offered = epoch("2026-11-20 10:00") + number
        left = offered + wait
        kind = "call.answered" if answered else "call.abandoned"
        events.append(event("call.offered", _iso(offered), call_id=f"c{number}", queue="billing"))
        fields = {} if derive_wait else {"wait_s": wait}
        events.append(event(kind, _iso(left), call_id=f"c{number}", queue="billing", **fields))
        if answered:
            events.append(event("call.ended", _iso(left + 100 + number), call_id=f"c{number}"))
    return sorted(events, key=lambda e: e.ts)


def _iso(value: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(value, UTC).isoformat()


def _value(objective: WindowObjective, calls=CALLS, **kwargs) -> float | None:
    engine = Engine([agreement(objective)])
    run(engine, _calls(calls, **kwargs), until=epoch("2026-11-20 12:00"))
    return build_report(engine)["contracts"]["acme"]["objectives"][objective.id]["value"]


def sl(formula: str, short_abandon: float = 0.0) -> WindowObjective:
    return WindowObjective(
        "sl",
        "service_level",
        Target(">=", 0.8),
        1800,
        threshold=20,
        formula=formula,
        short_abandon=short_abandon,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        # answered within 20 s: 3 (5, 10, 20); offered 10
        (sl("answered_within_over_offered"), 3 / 10),
        # short abandons (< 5 s: 3 and 4) leave the offered count
        (sl("answered_within_over_offered", short_abandon=5), 3 / 8),
        # over answered: 3 of 6
        (sl("answered_within_over_answered"), 3 / 6),
        (sl("answered_within_over_answered", short_abandon=5), 3 / 6),
        # answered or abandoned within 20 s: 3 answered + 2 abandoned (3, 4), of 10
        (sl("removed_within_over_offered"), 5 / 10),
        # short abandons excluded from both sides: 3 of 8
        (sl("removed_within_over_offered", short_abandon=5), 3 / 8),
        # ASA over answered calls only: (5+10+20+21+45+80)/6
        (
            WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 3600),
            181 / 6,
        ),
        # average wait over every dequeued call: (181 + 3+4+30+90)/10
        (WindowObjective("awt", "average_wait", Target("<=", 30, "seconds"), 3600), 308 / 10),
        # abandonment: 4 of 10, or 2 of 8 without the short abandons
        (WindowObjective("ab", "abandonment_rate", Target("<=", 0.05), 3600), 4 / 10),
        (
            WindowObjective("ab", "abandonment_rate", Target("<=", 0.05), 3600, short_abandon=5),
            2 / 8,
        ),
        # handle time: 100 + call number for the six answered calls (0..5)
        (
            WindowObjective("aht", "average_handle_time", Target("<=", 300, "seconds"), 3600),
            (600 + 15) / 6,
        ),
    ],
    ids=lambda v: (
        v.id
        + (
            "/" + v.formula + f"/{v.short_abandon:g}"
            if hasattr(v, "formula") and v.kind == "service_level"
            else ""
        )
        if hasattr(v, "id")
        else ""
    ),
)
def test_window_formulas_match_hand_computed_values(objective, expected) -> None:
    assert _value(objective) == pytest.approx(expected, abs=1e-6)


def test_wait_is_derived_from_offered_when_wait_s_is_absent() -> None:
    asa = WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 3600)
    assert _value(asa, derive_wait=True) == pytest.approx(181 / 6)


def test_wait_is_derived_even_when_the_answer_arrives_before_the_offer() -> None:
    asa = WindowObjective("asa", "average_speed_of_answer", Target("<=", 30, "seconds"), 3600)
    events = [
        event("call.answered", at("2026-11-20 10:00:40"), call_id="x"),
        event("call.offered", at("2026-11-20 10:00:00"), call_id="x"),
    ]
    engine = Engine([agreement(asa)])
    run(engine, events, until=epoch("2026-11-20 11:00"))
    assert build_report(engine)["contracts"]["acme"]["objectives"]["asa"]["value"] == 40


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([(5, 5), (4, 5), (3, 5), (2, 5)], 2 / 4),
        # a 10-point scale is normalised to 5: 8/10 -> 4 satisfied, 7/10 -> 3.5 not
        ([(8, 10), (7, 10), (10, 10), (1, 10)], 2 / 4),
        ([(4.0, 5), (3.99, 5)], 1 / 2),
    ],
)
def test_satisfaction_counts_scores_at_or_above_the_minimum(scores, expected) -> None:
    csat = WindowObjective(
        "csat", "satisfaction", Target(">=", 0.9), 7 * 86400, satisfied_min_score=4
    )
    events = [
        event("survey.response", at(f"2026-11-20 10:0{n}"), score=score, scale_max=scale)
        for n, (score, scale) in enumerate(scores)
    ]
    engine = Engine([agreement(csat)])
    run(engine, events, until=epoch("2026-11-21 00:00"))
    assert build_report(engine)["contracts"]["acme"]["objectives"]["csat"]["value"] == (
        pytest.approx(expected)
    )


def test_service_level_breaches_at_the_first_boundary_after_a_bad_minute() -> None:
    objective = sl("answered_within_over_offered")
    alerts = run(agreement(objective), _calls(CALLS), until=epoch("2026-11-20 12:00"))
    assert states(alerts) == [
        ("sl", "breached", "2026-11-20T10:01:00Z"),
        # the last call left at 10:01:39; its minute leaves the 30-minute window at 10:32
        ("sl", "resolved", "2026-11-20T10:32:00Z"),
    ]


def test_for_holds_the_breach_until_the_condition_lasted_long_enough() -> None:
    objective = WindowObjective(
        "sl", "service_level", Target(">=", 0.8), 1800, threshold=20, hold_for=600
    )
    alerts = run(agreement(objective), _calls(CALLS), until=epoch("2026-11-20 12:00"))
    assert states(alerts)[0] == ("sl", "breached", "2026-11-20T10:11:00Z")


def test_for_suppresses_a_short_dip() -> None:
    objective = WindowObjective(
        "sl", "service_level", Target(">=", 0.8), 300, threshold=20, hold_for=600
    )
    assert run(agreement(objective), _calls(CALLS), until=epoch("2026-11-20 12:00")) == []


def test_min_volume_suppresses_tiny_samples() -> None:
    objective = WindowObjective(
        "sl", "service_level", Target(">=", 0.8), 1800, threshold=20, min_volume=11
    )
    assert run(agreement(objective), _calls(CALLS), until=epoch("2026-11-20 12:00")) == []


def test_queue_selector_counts_only_that_queue() -> None:
    objective = WindowObjective(
        "sl",
        "service_level",
        Target(">=", 0.8),
        1800,
        threshold=20,
        match=Match(queue=frozenset({"sales"})),
    )
    assert _value(objective) is None


def test_chats_count_only_for_objectives_selecting_the_chat_channel() -> None:
    chat_sl = WindowObjective(
        "chat-sl",
        "service_level",
        Target(">=", 0.8),
        1800,
        threshold=60,
        match=Match(channel=frozenset({"chat"})),
    )
    call_sl = sl("answered_within_over_offered")
    events = [
        event("chat.started", at("2026-11-20 10:00:00"), chat_id="k1"),
        event("chat.customer_message", at("2026-11-20 10:00:10"), chat_id="k1"),
        event("chat.agent_message", at("2026-11-20 10:00:30"), chat_id="k1"),
        event("chat.agent_message", at("2026-11-20 10:05:00"), chat_id="k1"),
        event("chat.started", at("2026-11-20 10:01:00"), chat_id="k2"),
        event("chat.agent_message", at("2026-11-20 10:03:00"), chat_id="k2"),
    ]
    engine = Engine([agreement(chat_sl, call_sl)])
    run(engine, events, until=epoch("2026-11-20 12:00"))
    objectives = build_report(engine)["contracts"]["acme"]["objectives"]
    assert objectives["chat-sl"]["value"] == 0.5
    assert objectives["chat-sl"]["samples"] == 2
    assert objectives["sl"]["samples"] == 0
