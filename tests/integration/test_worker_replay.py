"""The live worker's alerts equal ``slamon replay`` of the same events (the main oracle)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain.agreement import Agreement
from monitor.domain.alerts import format_instant
from monitor.replay import replay
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.simulate import simulate
from tests.worker_harness import (
    REPO,
    WorkerProcess,
    alert_key,
    assert_repeats_identical,
    event_records,
    expected_keys,
    produce,
    read_alerts,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULES = REPO / "rules"
CONTRACTS = ("cta-apc-nj", "cn-branch-support-2024", "call-center-services-sample")
START = datetime(2026, 11, 16, tzinfo=UTC)
LATENESS_S = 60.0


def rules() -> list[Agreement]:
    agreements, problems = load_rules([RULES])
    assert not problems
    return agreements


def simulated_day(hours: float = 8.0, seed: int = 3) -> tuple[list[bytes], float]:
    """Simulated traffic for CONTRACTS, then one marker event per contract.

    The markers sit ``LATENESS_S`` after the end, so every partition's watermark
    reaches exactly the end of the simulation, as a replay ``--until`` the end does.
    """
    chosen = [a for a in rules() if a.contract_id in CONTRACTS]
    end = START + timedelta(hours=hours)
    lines = [
        json.dumps(event, separators=(",", ":")).encode()
        for event in simulate(chosen, start=START, duration=end - START, seed=seed)
    ]
    for contract in CONTRACTS:
        marker = {
            "event_id": f"end-of-day-{contract}",
            "type": "ticket.customer_reply",
            "ts": format_instant(end.timestamp() + LATENESS_S),
            "contract_id": contract,
            "ticket_id": "end-of-day",
        }
        lines.append(json.dumps(marker).encode())
    return lines, end.timestamp()


@pytest.mark.timeout(150)
def test_live_alerts_for_a_simulated_day_equal_replay(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    lines, until = simulated_day()
    expected = replay(lines, rules(), lateness=LATENESS_S, until=until).alerts
    assert len(expected) > 50
    produce(kafka_settings, event_records(kafka_settings, lines))
    env = worker_env(kafka_settings, RULES, follow_wall_clock="false")

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        alerts = read_alerts(kafka_settings, expected_keys(expected), timeout_s=90)
        assert worker.metric("slamon_worker_ready") == 1
        assert worker.terminate() == 0, worker.log_tail()

    assert {alert_key(a) for a in alerts} == expected_keys(expected)
    assert_repeats_identical(alerts)
    assert {a["alert_id"]: a for a in alerts} == {a.alert_id: a.to_json() for a in expected}


def reordered(lines: list[bytes], every: int = 40, within_s: float = 30.0) -> list[bytes]:
    """Every ``every``-th pair of neighbours swapped where they are ``within_s`` apart."""
    out = list(lines)
    for i in range(0, len(out) - 1, every):
        first, second = (json.loads(out[j])["ts"] for j in (i, i + 1))
        gap = datetime.fromisoformat(second).timestamp() - datetime.fromisoformat(first).timestamp()
        if 0 < gap < within_s:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def late_tickets(until: float) -> list[bytes]:
    """Chat tickets created an hour before the end: their 3-minute business-hours
    deadline (cn-branch-support-2024, Shanghai 09-12/13-18) has passed on arrival."""
    return [
        json.dumps(
            {
                "event_id": f"late-{n}",
                "type": "ticket.created",
                "ts": format_instant(until - 3600 + n * 60),
                "contract_id": "cn-branch-support-2024",
                "ticket_id": f"late-{n}",
                "channel": "chat",
            }
        ).encode()
        for n in range(3)
    ]


@pytest.mark.timeout(150)
def test_reordered_events_and_late_events_sent_while_caught_up_equal_replay(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    day, until = simulated_day()
    lines = reordered(day)
    assert lines != day
    late = late_tickets(until)
    expected = replay([*lines, *late], rules(), lateness=LATENESS_S, until=until).alerts
    on_time = replay(lines, rules(), lateness=LATENESS_S, until=until).alerts
    late_ids = {a.alert_id for a in expected} - {a.alert_id for a in on_time}
    assert {a.subject.id for a in expected if a.alert_id in late_ids} == {
        "late-0",
        "late-1",
        "late-2",
    }
    produce(kafka_settings, event_records(kafka_settings, lines))
    env = worker_env(kafka_settings, RULES, follow_wall_clock="false")

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        read_alerts(kafka_settings, expected_keys(on_time), timeout_s=90, settle_s=1)  # caught up
        produce(kafka_settings, event_records(kafka_settings, late))
        alerts = read_alerts(kafka_settings, expected_keys(expected), timeout_s=60)
        late_count = worker.metric("slamon_events_late_total", contract="cn-branch-support-2024")
        assert late_count is not None
        assert late_count >= 3
        assert worker.terminate() == 0, worker.log_tail()

    assert {alert_key(a) for a in alerts} == expected_keys(expected)
    assert_repeats_identical(alerts)
    assert {a["alert_id"]: a for a in alerts} == {a.alert_id: a.to_json() for a in expected}
