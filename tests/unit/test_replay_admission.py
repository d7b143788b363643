"""What replay admits: events dated too far ahead are invalid, an event the engine
raises on is counted with its error, and a replay never stops for one bad event."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain.agreement import Agreement
from monitor.domain.alerts import Alert
from monitor.domain.engine import Engine
from monitor.replay import TimeRange, replay
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate

RULES = Path(__file__).resolve().parents[2] / "rules"
MONDAY_NINE = datetime(2026, 11, 2, 9, tzinfo=UTC)
NOW = (MONDAY_NINE + timedelta(days=1)).timestamp()  # the wall clock the adapter passes in


def simulated_hours(hours: float = 4) -> tuple[list[Agreement], list[bytes]]:
    agreements, problems = load_rules([RULES])
    assert not problems
    events = simulate(agreements, start=MONDAY_NINE, duration=timedelta(hours=hours), seed=7)
    return agreements, [json.dumps(event).encode() for event in events]


def poison(lines: list[bytes], at: int, **changes: Any) -> list[bytes]:
    """The lines with a copy of line ``at`` changed (a new event_id) inserted before it."""
    fields = json.loads(lines[at]) | {"event_id": "poison"} | changes
    return [*lines[:at], json.dumps(fields).encode(), *lines[at:]]


def alert_json(alerts: list[Alert]) -> list[dict[str, Any]]:
    return [alert.to_json() for alert in alerts]


def test_an_event_in_2100_is_out_of_range_and_every_other_event_is_processed() -> None:
    agreements, lines = simulated_hours()
    middle = len(lines) // 2
    poisoned = poison(lines, middle, ts="2100-01-01T00:00:00Z")

    result = replay(poisoned, agreements, time_range=TimeRange(now=NOW))
    clean = replay(lines, agreements)

    assert [(bad.line, bad.reason) for bad in result.invalid] == [(middle + 1, "time_out_of_range")]
    assert "more than 86400 s ahead of the clock" in result.invalid[0].message
    report = result.report()
    assert report["events"]["too_late"] == 0
    assert report["events"]["total"] == len(poisoned)
    assert report["events"]["invalid_by_reason"] == {"time_out_of_range": 1}
    assert alert_json(result.alerts) == alert_json(clean.alerts)
    assert len(clean.alerts) > 10


def test_the_time_range_is_relative_to_the_clock_passed_in() -> None:
    agreements, lines = simulated_hours(1)
    an_hour_late_clock = TimeRange(now=MONDAY_NINE.timestamp(), max_future_s=300)

    result = replay(lines, agreements, time_range=an_hour_late_clock)

    five_minutes_on = MONDAY_NINE.timestamp() + 300
    expected = sum(json_ts(line) > five_minutes_on for line in lines)
    assert expected > 10
    assert result.invalid_by_reason == {"time_out_of_range": expected}


def json_ts(line: bytes) -> float:
    return datetime.fromisoformat(json.loads(line)["ts"]).timestamp()


def test_without_a_time_range_no_event_time_is_refused_for_its_distance() -> None:
    agreements, lines = simulated_hours(1)

    result = replay(poison(lines, 5, ts="2030-01-01T00:00:00Z"), agreements)

    assert result.invalid_count == 0


@pytest.mark.parametrize("max_future_s", [0.0, -1.0, math.inf, math.nan])
def test_a_time_range_needs_a_positive_finite_bound(max_future_s: float) -> None:
    with pytest.raises(ValueError, match="max_future_s must be a positive number"):
        TimeRange(now=NOW, max_future_s=max_future_s)


@pytest.mark.parametrize("now", [math.nan, math.inf])
def test_a_time_range_needs_a_finite_clock_reading(now: float) -> None:
    with pytest.raises(ValueError, match="now must be a finite instant"):
        TimeRange(now=now)


@pytest.mark.parametrize("lateness", [-1.0, -math.inf, math.inf, math.nan])
def test_replay_refuses_a_negative_or_non_finite_lateness(lateness: float) -> None:
    agreements, lines = simulated_hours(1)

    with pytest.raises(ValueError, match="lateness must be a finite number of seconds >= 0"):
        replay(lines, agreements, lateness=lateness)


def test_an_event_the_engine_raises_on_is_counted_with_its_error_and_the_replay_goes_on() -> None:
    agreements, lines = simulated_hours()
    middle = len(lines) // 2
    poisoned = poison(lines, middle)
    victim = json.loads(poisoned[middle])
    engine = Engine(agreements)
    contract = engine.contracts[victim["contract_id"]]
    handler = contract.handlers[victim["type"]]

    def failing(fields: dict[str, Any], ts: float, watermark: float) -> list[Alert]:
        if fields["event_id"] == "poison":
            raise OverflowError("cannot convert float infinity to integer")
        return handler(fields, ts, watermark)

    contract.handlers[victim["type"]] = failing

    result = replay(poisoned, agreements, engine=engine)
    clean = replay(lines, agreements)

    assert [(bad.line, bad.reason) for bad in result.invalid] == [(middle + 1, "engine_error")]
    assert result.invalid[0].message == (
        "the engine failed on this event: OverflowError: cannot convert float infinity to integer"
    )
    report = result.report()
    assert report["events"]["total"] == len(poisoned)
    assert report["events"]["invalid"] == 1
    assert alert_json(result.alerts) == alert_json(clean.alerts)


def test_a_long_engine_error_is_clipped() -> None:
    agreements, lines = simulated_hours(1)
    engine = Engine(agreements)
    first = json.loads(lines[0])

    def failing(fields: dict[str, Any], ts: float, watermark: float) -> list[Alert]:
        raise ValueError("x" * 5000)

    engine.contracts[first["contract_id"]].handlers[first["type"]] = failing

    result = replay(lines[:1], agreements, engine=engine)

    assert result.invalid[0].reason == "engine_error"
    assert len(result.invalid[0].message) == 300
    assert result.invalid[0].message.endswith("...")


RULES_TEXT = """\
version: slamon/v1
contract: acme
title: Acme
objectives:
  - {id: email-first-response, kind: first_response, match: {channel: email}, within: 1h}
"""


def _ticket(event_id: str, ts: datetime) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "type": "ticket.created",
            "ts": ts.isoformat(),
            "contract_id": "acme",
            "ticket_id": event_id,
            "channel": "email",
        }
    )


def test_the_replay_command_refuses_events_beyond_max_future_of_the_wall_clock(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(RULES_TEXT, encoding="utf-8")
    now = datetime.now(UTC)
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(
            [
                _ticket("past", now - timedelta(days=3)),
                _ticket("soon", now + timedelta(minutes=50)),
                _ticket("later", now + timedelta(days=3)),
            ]
        ),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"

    arguments = ["replay", str(events), "--rules", str(rules), "--report", str(report)]

    outcome = CliRunner().invoke(app, [*arguments, "--max-future", "3600"])

    assert outcome.exit_code == 0, outcome.output
    summary = json.loads(report.read_text("utf-8"))
    assert summary["events"]["total"] == 3
    assert summary["events"]["invalid_by_reason"] == {"time_out_of_range": 1}
    assert [(bad["line"], bad["reason"]) for bad in summary["invalid_lines"]] == [
        (3, "time_out_of_range")
    ]


@pytest.mark.parametrize("bound", ["0", "-5", "nan", "inf"])
def test_the_replay_command_refuses_a_bad_max_future(tmp_path: Path, bound: str) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")

    outcome = CliRunner().invoke(app, ["replay", str(events), "--max-future", bound])

    assert outcome.exit_code == 2
    assert "Invalid value for '--max-future'" in outcome.output
    assert "Traceback" not in outcome.output
