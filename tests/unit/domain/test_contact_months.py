"""Contact objectives with ``period: month``: month values, burn-rate alerts, status, report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.agreement import Target, WindowObjective
from monitor.domain.engine import Engine
from monitor.domain.events import Event
from monitor.domain.report import build_report
from tests.support import NEW_YORK, agreement, at, epoch, event

MONTH_END = epoch("2026-12-01 00:00", NEW_YORK)


def _monthly(objective_id: str, kind: str, target: Target, **fields: object) -> WindowObjective:
    return WindowObjective(objective_id, kind, target, 0, period="month", **fields)  # type: ignore[arg-type]


def _call(
    call_id: str, offered: str, wait: float, *, answered: bool = True, handle: float | None = None
) -> list[Event]:
    """A call offered at a New York local time, answered or abandoned after ``wait``."""
    start = epoch(offered, NEW_YORK)
    left = datetime.fromtimestamp(start + wait, ZoneInfo(NEW_YORK)).isoformat()
    kind = "call.answered" if answered else "call.abandoned"
    events = [
        event("call.offered", at(offered, NEW_YORK), call_id=call_id),
        event(kind, left, call_id=call_id, wait_s=wait),
    ]
    if handle is not None:
        ended = datetime.fromtimestamp(start + wait + handle, ZoneInfo(NEW_YORK)).isoformat()
        events.append(event("call.ended", ended, call_id=call_id, handle_s=handle))
    return events


# November in New York: c3 is offered at 23:30 local on the 30th (December in UTC)
CALLS = [
    *_call("c1", "2026-11-02 10:00", 10, handle=100),
    *_call("c2", "2026-11-10 10:00", 30, handle=200),
    *_call("c3", "2026-11-30 23:30", 20, handle=300),
    *_call("c4", "2026-11-15 10:00", 40, answered=False),
    *_call("c5", "2026-12-01 00:10", 5),
]


def _months(objective: WindowObjective, events: list[Event]) -> dict[str, dict[str, object]]:
    engine = Engine([agreement(objective, timezone=NEW_YORK)])
    engine.apply_all(sorted(events, key=lambda e: e.epoch))
    engine.advance(epoch("2026-12-02 00:00", NEW_YORK))
    report = build_report(engine)["contracts"]["acme"]["objectives"][objective.id]
    return {key: month["value"] for key, month in report["months"].items()}


@pytest.mark.parametrize(
    ("objective", "november", "december"),
    [
        (_monthly("sl", "service_level", Target(">=", 0.8), threshold=20), 2 / 4, 1.0),
        (_monthly("asa", "average_speed_of_answer", Target("<=", 30, "seconds")), 20.0, 5.0),
        (_monthly("wait", "average_wait", Target("<=", 30, "seconds")), 25.0, 5.0),
        (_monthly("aband", "abandonment_rate", Target("<=", 0.05)), 1 / 4, 0.0),
        (_monthly("aht", "average_handle_time", Target("<=", 240, "seconds")), 200.0, None),
    ],
    ids=lambda value: getattr(value, "kind", None) or "",
)
def test_a_month_of_calls_gives_the_kinds_value_in_the_contracts_time_zone(
    objective: WindowObjective, november: float, december: float | None
) -> None:
    months = _months(objective, CALLS)
    assert months["2026-11"] == pytest.approx(november)
    assert months["2026-12"] == (None if december is None else pytest.approx(december))


def test_a_month_of_surveys_gives_the_share_of_satisfied_customers() -> None:
    scores = [5, 4, 3, 5, 1]
    surveys = [
        event("survey.response", at(f"2026-11-{day + 3:02d} 12:00", NEW_YORK), score=score)
        for day, score in enumerate(scores)
    ]
    csat = _monthly("csat", "satisfaction", Target(">=", 0.9))
    assert _months(csat, surveys)["2026-11"] == pytest.approx(3 / 5)


# -- burn-rate alerts -----------------------------------------------------------------

SL_99 = _monthly("sl", "service_level", Target(">=", 0.99), threshold=20)


def _good_calls(count: int, first_day: int, last_day: int) -> list[Event]:
    """``count`` calls answered in 5 s, spread evenly over the days given."""
    start, end = (
        epoch(f"2026-11-{first_day:02d} 08:00", NEW_YORK),
        epoch(f"2026-11-{last_day:02d} 08:00", NEW_YORK),
    )
    step = (end - start) / count
    events: list[Event] = []
    for n in range(count):
        offered = datetime.fromtimestamp(start + n * step, ZoneInfo(NEW_YORK))
        events += _call(f"g{first_day}-{n}", offered.strftime("%Y-%m-%d %H:%M:%S"), 5)
    return events


def _missed_calls(count: int, day: int, hour: str) -> list[Event]:
    """``count`` calls abandoned after 60 s, one a minute from ``hour`` local time."""
    events: list[Event] = []
    for n in range(count):
        events += _call(f"m{day}-{n}", f"2026-11-{day:02d} {hour}:{n:02d}", 60, answered=False)
    return events


def _run(events: list[Event], until: float) -> tuple[Engine, list[tuple[str, str, str]]]:
    engine = Engine([agreement(SL_99, timezone=NEW_YORK)])
    alerts = engine.apply_all(sorted(events, key=lambda e: e.epoch))
    alerts += engine.advance(until)
    return engine, [(a.state, a.severity, a.to_json()["event_time"]) for a in alerts]


def test_a_burst_of_missed_calls_burns_fast_then_slow_then_resolves() -> None:
    # 300 good calls by the 10th leave room for 5 misses in the month's budget (1 %)
    events = _good_calls(300, 1, 10) + _missed_calls(5, 10, "10")
    _, alerts = _run(events, epoch("2026-11-11 00:00", NEW_YORK))
    assert [(state, severity) for state, severity, _ in alerts] == [
        ("at_risk", "critical"),  # 1 h and 5 m windows: every call missed
        ("at_risk", "warning"),  # the 5 m window is clean again, the 30 m one is not
        ("resolved", "warning"),
    ]
    assert alerts[0][2] == "2026-11-10T15:02:00Z"  # the first minute whose 5 m window burns


def test_a_month_that_spent_its_budget_is_breached_until_it_ends() -> None:
    # good calls all month long: the pace projection keeps the budget until the 20th
    events = _good_calls(600, 1, 29) + _missed_calls(5, 10, "10") + _missed_calls(20, 20, "10")
    _, alerts = _run(events, epoch("2026-12-01 12:00", NEW_YORK))
    breached = [alert for alert in alerts if alert[0] == "breached"]
    assert len(breached) == 1
    assert breached[0][2].startswith("2026-11-20T15:")
    assert alerts[-1] == ("resolved", "critical", "2026-12-01T05:00:00Z")  # midnight, New York


def test_status_shows_month_to_date_budget_left_and_burn_rates() -> None:
    events = _good_calls(300, 1, 10) + _missed_calls(5, 10, "10")
    watermark = epoch("2026-11-10 10:30", NEW_YORK)
    engine, _ = _run(events, watermark)
    (status,) = engine.objective_status()
    assert status.value == pytest.approx(300 / 305)
    assert status.status == "at_risk"
    start = epoch("2026-11-01 00:00", NEW_YORK)
    elapsed = (watermark + 60 - start) / (MONTH_END - start)  # through the minute accounted
    allowed = 0.01 * 305 / elapsed
    assert status.budget_remaining == pytest.approx(1 - 5 / allowed)
    assert status.burn_rate_fast is not None
    assert status.burn_rate_fast > 14.4
    assert status.burn_rate_slow is not None
    assert status.burn_rate_slow > 6


def test_the_replay_report_gives_the_value_over_the_input_and_each_month() -> None:
    events = _good_calls(300, 1, 10) + _missed_calls(5, 10, "10") + _missed_calls(20, 20, "10")
    engine, _ = _run(events, epoch("2026-12-01 12:00", NEW_YORK))
    entry = build_report(engine)["contracts"]["acme"]["objectives"]["sl"]
    assert {k: entry[k] for k in ("kind", "value", "target", "met", "samples", "breaches")} == {
        "kind": "service_level",
        "value": round(300 / 325, 6),
        "target": 0.99,
        "met": False,
        "samples": 325,
        "breaches": 1,
    }
    assert entry["months"]["2026-11"]["value"] == pytest.approx(300 / 325)


def test_an_average_burns_its_budget_in_seconds_over_the_target() -> None:
    asa = _monthly("asa", "average_speed_of_answer", Target("<=", 20, "seconds"))
    events = [e for n in range(30) for e in _call(f"a{n}", f"2026-11-0{1 + n % 9} 09:{n:02d}", 10)]
    # three calls waiting 300 s: 15 times the target average, within the month's budget
    events += [e for n in range(3) for e in _call(f"s{n}", f"2026-11-10 10:0{n}", 300)]
    engine = Engine([agreement(asa, timezone=NEW_YORK)])
    alerts = engine.apply_all(sorted(events, key=lambda e: e.epoch))
    alerts += engine.advance(epoch("2026-11-10 12:00", NEW_YORK))
    assert [a.state for a in alerts][:1] == ["at_risk"]
    assert alerts[0].observed == pytest.approx((30 * 10 + 300) / 31)  # at the first long wait
    assert "s" in alerts[0].summary  # shown in seconds, not as a percentage
    assert "%" not in alerts[0].summary


def test_a_rolling_window_and_a_monthly_target_on_one_metric_count_the_same_calls() -> None:
    window = WindowObjective("sl-30m", "service_level", Target(">=", 0.8), 1800, threshold=20)
    month = _monthly("sl-month", "service_level", Target(">=", 0.8), threshold=20)
    engine = Engine([agreement(window, month, timezone=NEW_YORK)])
    engine.apply_all(sorted(CALLS, key=lambda e: e.epoch))
    engine.advance(epoch("2026-12-02 00:00", NEW_YORK))
    objectives = build_report(engine)["contracts"]["acme"]["objectives"]
    assert objectives["sl-30m"]["value"] == objectives["sl-month"]["value"] == 3 / 5
    assert objectives["sl-30m"]["samples"] == objectives["sl-month"]["samples"] == 5


def test_a_snapshot_taken_mid_burst_resumes_to_the_same_alerts_and_report() -> None:
    events = sorted(_good_calls(300, 1, 10) + _missed_calls(5, 10, "10"), key=lambda e: e.epoch)
    cut = next(n for n, e in enumerate(events) if e.epoch >= epoch("2026-11-10 10:02", NEW_YORK))
    until = epoch("2026-11-11 00:00", NEW_YORK)
    whole, expected = _run(events, until)

    first = Engine([agreement(SL_99, timezone=NEW_YORK)])
    alerts = first.apply_all(events[:cut])
    second = Engine.restore([agreement(SL_99, timezone=NEW_YORK)], first.snapshot())
    alerts += second.apply_all(events[cut:])
    alerts += second.advance(until)

    assert [(a.state, a.severity, a.to_json()["event_time"]) for a in alerts] == expected
    assert build_report(second)["contracts"] == build_report(whole)["contracts"]


def _survey(survey_id: str, local: str, score: int) -> list[Event]:
    return [event("survey.response", at(local, NEW_YORK), score=score, event_id=survey_id)]


def _handled(call_id: str, local: str, handle: float) -> list[Event]:
    return _call(call_id, local, 5, handle=handle)


# kind -> (objective, one good contact, one bad contact); a contact is (id, local time)
BURN_CASES = {
    "service_level": (
        SL_99,
        lambda cid, t: _call(cid, t, 5),
        lambda cid, t: _call(cid, t, 60, answered=False),
    ),
    "abandonment_rate": (
        _monthly("ab", "abandonment_rate", Target("<=", 0.01)),
        lambda cid, t: _call(cid, t, 5),
        lambda cid, t: _call(cid, t, 60, answered=False),
    ),
    "average_speed_of_answer": (
        _monthly("asa", "average_speed_of_answer", Target("<=", 20, "seconds")),
        lambda cid, t: _call(cid, t, 5),
        lambda cid, t: _call(cid, t, 600),
    ),
    "average_wait": (
        _monthly("wait", "average_wait", Target("<=", 20, "seconds")),
        lambda cid, t: _call(cid, t, 5),
        lambda cid, t: _call(cid, t, 600, answered=False),
    ),
    "average_handle_time": (
        _monthly("aht", "average_handle_time", Target("<=", 20, "seconds")),
        lambda cid, t: _handled(cid, t, 5),
        lambda cid, t: _handled(cid, t, 600),
    ),
    "satisfaction": (
        _monthly("csat", "satisfaction", Target(">=", 0.99)),
        lambda cid, t: _survey(cid, t, 5),
        lambda cid, t: _survey(cid, t, 1),
    ),
}


@pytest.mark.parametrize("kind", sorted(BURN_CASES))
def test_every_kind_burns_on_a_burst_of_bad_contacts_and_resolves(kind: str) -> None:
    objective, good, bad = BURN_CASES[kind]
    events: list[Event] = []
    for n in range(300):  # one good contact every 40 minutes from the 2nd
        local = datetime.fromtimestamp(
            epoch("2026-11-02 00:00", NEW_YORK) + n * 2400, ZoneInfo(NEW_YORK)
        )
        events += good(f"g{n}", local.strftime("%Y-%m-%d %H:%M:%S"))
    for n in range(5):  # then five bad ones, a minute apart
        events += bad(f"b{n}", f"2026-11-10 10:0{n}")
    engine = Engine([agreement(objective, timezone=NEW_YORK)])
    alerts = engine.apply_all(sorted(events, key=lambda e: e.epoch))
    alerts += engine.advance(epoch("2026-11-11 00:00", NEW_YORK))

    states = [(a.state, a.severity) for a in alerts]
    assert states[0] == ("at_risk", "critical")
    assert states[-1][0] == "resolved"
    assert "breached" not in {state for state, _ in states}
    assert all(a.subject.kind == "period" and a.subject.id == "2026-11" for a in alerts)
