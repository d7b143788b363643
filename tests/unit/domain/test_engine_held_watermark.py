"""An engine whose watermark is held back (the stream's case) gives replay's alerts.

The live worker applies events from several topics at different speeds with
``auto_advance=False`` and moves event time itself, sometimes hours at once.
Item clocks must then still fire what happened inside the jump: an at-risk,
breach and resolution that all lie between two watermarks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain.alerts import Alert
from monitor.domain.engine import Engine
from monitor.domain.events import Event, EventError, parse_event
from monitor.replay import replay
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate

RULES = Path(__file__).resolve().parents[3] / "rules"
START = datetime(2026, 11, 16, tzinfo=UTC)


def day(hours: float = 6.0) -> tuple[list[bytes], float]:
    agreements, problems = load_rules([RULES])
    assert not problems
    chosen = [a for a in agreements if a.contract_id in ("cta-apc-nj", "cn-branch-support-2024")]
    end = START + timedelta(hours=hours)
    events = simulate(chosen, start=START, duration=end - START, seed=3)
    return [json.dumps(e).encode() for e in events], end.timestamp()


def parsed(lines: list[bytes]) -> list[Event]:
    events = [parse_event(line) for line in lines]
    assert not [e for e in events if isinstance(e, EventError)]
    return [e for e in events if not isinstance(e, EventError)]


def keys(alerts: list[Alert]) -> set[tuple[str, str, float]]:
    return {(a.fingerprint, a.state, a.event_time) for a in alerts}


@pytest.mark.parametrize("family_first", [None, "chat", "call", "ticket"])
def test_applying_everything_then_one_advance_gives_the_replay_alerts(
    family_first: str | None,
) -> None:
    lines, until = day()
    agreements, _ = load_rules([RULES])
    expected = replay(lines, agreements, until=until).alerts
    events = parsed(lines)
    if family_first is not None:
        events.sort(key=lambda e: e.type.split(".")[0] != family_first)
    engine = Engine(agreements, auto_advance=False)
    alerts = [a for e in events for a in engine.apply(e).alerts]
    assert alerts == []
    alerts += engine.advance(until)
    assert len(expected) > 20
    assert keys(alerts) == keys(expected)


def test_without_auto_advance_apply_leaves_the_watermark_alone() -> None:
    lines, _ = day(hours=1)
    agreements, _ = load_rules([RULES])
    engine = Engine(agreements, auto_advance=False)
    for event in parsed(lines[:200]):
        assert not engine.apply(event).alerts
    assert engine.watermark == float("-inf")
    assert engine.max_event_time > START.timestamp()
