"""Monthly trackers: quiet minutes are accounted without evaluation, to the same result.

A monthly tracker skips the evaluation of minutes that cannot change anything (state
ok, every burn window clean, nothing recorded, a budget idle minutes cannot exhaust),
and leaves its rolling sums alone where ``sum - leaving + entering`` would give them
back unchanged. With an observer attached every minute is sampled and evaluated, so
an observed engine is the reference: alerts, burn rates and state must not differ.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.agreement import AvailabilityObjective, BusinessTime, ItemObjective, Target
from monitor.domain.calendar import BusinessCalendar
from monitor.domain.engine import Engine
from monitor.domain.events import Event
from monitor.domain.observer import attach
from monitor.domain.periods import WINDOWS_MINUTES, RollingSums
from tests.support import NEW_YORK, agreement, at, business_calendar, epoch, event

# 10:00 on Nov 30 in New York: the month ends 14 hours into the stream
START = datetime(2026, 11, 30, 15, 0, tzinfo=UTC).timestamp()
END = START + 20 * 3600
ALWAYS = BusinessCalendar.always_open(NEW_YORK)
AGREEMENT = agreement(
    AvailabilityObjective("up", "core", Target(">=", 0.999)),
    AvailabilityObjective("up-degraded", "core", Target(">=", 0.99), degraded_is_down=True),
    AvailabilityObjective("up-business", "core", Target(">=", 0.995), calendar=business_calendar()),
    ItemObjective(
        "res",
        "resolution",
        BusinessTime(1800),
        ALWAYS,
        target=Target(">=", 0.8),
        period="month",
    ),
    timezone=NEW_YORK,
    min_volume=3,
)


class _Sampler:
    """An observer that keeps nothing: attached only so that every minute is evaluated."""

    def window_sample(self, *args: object) -> None: ...

    def item_decided(self, *args: object) -> None: ...

    def item_finished(self, *args: object) -> None: ...

    def period_sample(self, *args: object) -> None: ...

    def availability_change(self, *args: object) -> None: ...


def _iso(offset: float) -> str:
    return datetime.fromtimestamp(START + offset, UTC).isoformat()


@st.composite
def _streams(draw: st.DrawFn) -> list[Event]:
    """Outages and tickets over 10 hours before a month end, quiet stretches between."""
    events: list[Event] = []
    for _ in range(draw(st.integers(0, 5))):
        t = draw(st.floats(0, 36000))
        events.append(
            event(
                "service.status",
                _iso(t),
                service="core",
                status=draw(st.sampled_from(["down", "degraded"])),
            )
        )
        events.append(
            event("service.status", _iso(t + draw(st.floats(1, 5400))), service="core", status="up")
        )
    for n in range(draw(st.integers(0, 12))):
        t = draw(st.floats(0, 36000))
        events.append(event("ticket.created", _iso(t), ticket_id=f"T{n}", channel="email"))
        if draw(st.booleans()):
            solved = t + draw(st.floats(60, 3600))
            events.append(
                event("ticket.status_changed", _iso(solved), ticket_id=f"T{n}", status="solved")
            )
    events.sort(key=lambda e: (e.ts, e.event_id))
    return events


def _run(
    events: list[Event], steps: list[float], observed: bool, looks: list[object] | None = None
) -> tuple[list[str], dict]:
    """Apply, then advance by ``steps``; with ``looks``, after each step read the status
    of every objective into it and carry the engine over a snapshot and a restore."""
    engine = Engine([AGREEMENT], lateness=60)
    if observed:
        attach(engine, _Sampler())
    alerts = engine.apply_all(events)
    watermark = START
    for step in steps:
        watermark += step
        alerts.extend(engine.advance(watermark))
        if looks is not None:
            state = json.loads(json.dumps(engine.snapshot()))
            looks.append((engine.objective_status(), state))
            engine = Engine.restore([AGREEMENT], state)
            if observed:
                attach(engine, _Sampler())
    alerts.extend(engine.advance(END))  # past the month end
    return [json.dumps(a.to_json(), sort_keys=True) for a in alerts], engine.snapshot()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams(), st.lists(st.floats(1, 2 * 3600), min_size=1, max_size=8))
def test_skipping_quiet_minutes_changes_no_alert_and_no_state(
    events: list[Event], steps: list[float]
) -> None:
    plain_alerts, plain_state = _run(events, steps, observed=False)
    observed_alerts, observed_state = _run(events, steps, observed=True)
    assert plain_alerts == observed_alerts
    assert plain_state == observed_state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams(), st.lists(st.floats(1, 2 * 3600), min_size=1, max_size=6))
def test_quiet_minutes_skipped_by_the_contract_show_in_status_and_snapshots(
    events: list[Event], steps: list[float]
) -> None:
    """The contract lets trackers skip quiet minutes and accounts them when they are
    read: a status or a snapshot taken between steps must equal the observed engine's,
    which walks every minute, and carrying state over must change no alert."""
    plain_alerts = _assert_looks_match_the_observed_engine(events, steps)
    assert plain_alerts == _run(events, steps, observed=False)[0]


def _assert_looks_match_the_observed_engine(events: list[Event], steps: list[float]) -> list[str]:
    """Status and snapshots between steps, alerts and the final state: the same with the
    contract skipping quiet minutes as with an observed engine walking every minute."""
    plain_looks: list[object] = []
    observed_looks: list[object] = []
    plain_alerts, plain_state = _run(events, steps, observed=False, looks=plain_looks)
    observed_alerts, observed_state = _run(events, steps, observed=True, looks=observed_looks)
    assert plain_looks == observed_looks
    assert plain_alerts == observed_alerts
    assert plain_state == observed_state
    return plain_alerts


def test_the_contract_skips_quiet_minutes_until_a_tracker_is_read() -> None:
    """Guard for the property above: the skipping it is about does happen."""
    engine = Engine([AGREEMENT], lateness=60)
    engine.apply_all([event("service.status", _iso(0), service="core", status="up")])
    for minute in range(60, 70):  # one minute at a time, as a stream moves
        engine.advance(START + minute * 60)
    now = int(START // 60) + 69
    contract = engine.contracts[AGREEMENT.contract_id]
    lagging = [
        p for p in contract.monthly.trackers if p.next_minute is not None and p.next_minute < now
    ]
    assert contract.monthly.owed
    assert [p.objective_id for p in lagging] == ["up", "up-degraded", "res"]  # calendar: no
    engine.objective_status()
    assert not contract.monthly.owed
    assert [p.next_minute for p in contract.monthly.trackers] == [now] * 4


def test_the_quiet_stream_does_alert_and_close_the_month() -> None:
    """Guard: the property's streams reach the alerts and the month end they are about."""
    events = [
        event("service.status", _iso(600), service="core", status="down"),
        event("service.status", _iso(600 + 1800), service="core", status="up"),
    ]
    alerts, _ = _run(events, [6 * 3600], observed=False)
    states = [(json.loads(a)["objective_id"], json.loads(a)["state"]) for a in alerts]
    assert ("up", "at_risk") in states
    assert ("up", "resolved") in states


def test_a_compliance_budget_runs_out_on_time_while_nothing_happens() -> None:
    """1 of 3 items missed: the projection (3 items / share of the month elapsed) shrinks
    as the month goes on, and past 60 % of November the 20 % budget can no longer hold.
    November in New York has 721 hours (the clocks go back on the 1st): 60 % is
    432 h 36 min after Nov 1 00:00 EDT, Nov 19 04:36 UTC. Nothing is recorded for
    20 hours before: the breach must still come at that minute, as it does when every
    minute is evaluated."""
    compliance = ItemObjective(
        "res", "resolution", BusinessTime(1800), ALWAYS, target=Target(">=", 0.8), period="month"
    )
    contract = agreement(compliance, timezone=NEW_YORK, min_volume=3)
    events = [
        event(
            "ticket.created",
            at(f"2026-11-18 0{n}:00", NEW_YORK),
            ticket_id=f"T{n}",
            channel="email",
        )
        for n in range(3)
    ] + [
        event(
            "ticket.status_changed",
            at(f"2026-11-18 0{n}:10", NEW_YORK),
            ticket_id=f"T{n}",
            status="solved",
        )
        for n in range(2)
    ]
    events.sort(key=lambda e: e.ts)

    def breaches(observed: bool) -> list[str]:
        engine = Engine([contract], lateness=60)
        if observed:
            attach(engine, _Sampler())
        alerts = engine.apply_all(events) + engine.advance(epoch("2026-11-19 06:00", NEW_YORK))
        return [
            a.to_json()["event_time"]
            for a in alerts
            if a.subject.kind == "period" and a.state == "breached"
        ]

    assert breaches(observed=False) == ["2026-11-19T04:36:00Z"]
    assert breaches(observed=True) == ["2026-11-19T04:36:00Z"]


class _Reference:
    """Window sums kept the plain way: every window moves by ``sum - leaving + entering``."""

    def __init__(self) -> None:
        self.minutes: list[tuple[float, float]] = []
        self.sums = {w: [0.0, 0.0] for w in WINDOWS_MINUTES}

    def push(self, bad: float, total: float) -> None:
        size = len(self.minutes)
        for window, pair in self.sums.items():
            if size >= window:
                old_bad, old_total = self.minutes[size - window]
                pair[0] = pair[0] - old_bad + bad
                pair[1] = pair[1] - old_total + total
            else:
                pair[0] += bad
                pair[1] += total
        self.minutes.append((bad, total))

    def assert_same(self, sums: RollingSums) -> None:
        for index, window in enumerate(WINDOWS_MINUTES):
            expected = tuple(self.sums[window])
            assert (sums.bad_sums[index], sums.total(window)) == expected, window
        kept = self.minutes[-max(WINDOWS_MINUTES) :]
        assert sums.to_state() == [list(pair) for pair in kept]


@pytest.mark.parametrize("seed", range(6))
def test_rolling_sums_left_alone_equal_the_sums_pushed_one_by_one(seed: int) -> None:
    rnd = random.Random(seed)
    sums, reference = RollingSums(), _Reference()
    amounts = [0.0, 0.1, 0.2, 0.3, 7.0, 59.9, 60.0]
    for _ in range(3000):
        if sums.quiet_pushes == max(WINDOWS_MINUTES) and rnd.random() < 0.8:
            total = rnd.choice([60, 60, 60, 0.0, 0.1])
            count = rnd.choice([1, 1, 2, 400])
            sums.push_idle(total, count)
            for _ in range(count):
                reference.push(0.0, total)
        else:
            bad = rnd.choice(amounts) if rnd.random() < 0.4 else 0.0
            total = rnd.choice(amounts) if rnd.random() < 0.2 else 60
            sums.push(bad, total)
            reference.push(bad, total)
        reference.assert_same(sums)


def test_rolling_sums_stay_exact_when_a_fraction_left_a_residue() -> None:
    """A 0.01 that entered and left the 6 h window leaves 21600.000000000004, not a whole
    number: idle minutes must then move the sums the long way, as pushes would."""
    sums, reference = RollingSums(), _Reference()
    sums.push(0.0, 0.01)
    reference.push(0.0, 0.01)
    sums.push_idle(60, 800)
    for _ in range(800):
        reference.push(0.0, 60)
    assert not sums.total(max(WINDOWS_MINUTES)).is_integer()  # the residue is there
    reference.assert_same(sums)


def test_a_late_item_decision_lands_in_the_same_minute_when_minutes_were_skipped() -> None:
    """A decision recorded while a tracker lags behind the skipped quiet minutes goes into
    the minute it would have gone to had every minute been walked (the trackers' minute,
    not an earlier one): a late solve, 90 s behind the newest event, after an hour of
    quiet minutes."""
    ticks = [
        event("survey.response", _iso(offset), score=5, scale_max=5)
        for offset in range(600, 3661, 60)
    ]
    created = event("ticket.created", _iso(3000), ticket_id="T1", channel="email")
    events = [
        event("service.status", _iso(0), service="core", status="up"),
        *sorted([created, *ticks], key=lambda e: e.ts),
        # arrives last, behind the watermark (newest event 3660 s, lateness 60 s)
        event("ticket.status_changed", _iso(3660 - 90), ticket_id="T1", status="solved"),
    ]
    _assert_looks_match_the_observed_engine(events, [3720.0, 60.0, 60.0])  # from START
    engine = Engine([AGREEMENT], lateness=60)
    engine.apply_all(events)
    assert engine.counters.late == 1
    assert engine.snapshot()["contracts"]["acme"]["items"]["ticket:T1"]["fx"]  # decided (met)
