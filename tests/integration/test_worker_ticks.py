"""Event time that moves without events: deadlines fire through ticks, never from a backlog.

A test agreement with a 20-second first-response objective; lateness 1 s, ticks
every 0.5 s, the watermark following the wall clock when partitions are idle.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from monitor.domain.alerts import format_instant
from monitor.settings import Settings
from tests.worker_harness import WorkerProcess, produce, read_topic, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULES = """\
version: slamon/v1
contract: live-ticks
title: Deadlines that pass in seconds, for tests of the live worker
objectives:
  - {id: email-20s, kind: first_response, match: {channel: email}, within: 20s}
alerting:
  warn_at: [50%]
"""
WITHIN_S = 20.0


@pytest.fixture
def short_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "live-ticks.yaml").write_text(RULES)
    return folder


def ticket_event(kind: str, ticket_id: str, ts: float, **extra: Any) -> bytes:
    body = {
        "event_id": f"{kind}-{ticket_id}-{uuid.uuid4().hex[:6]}",
        "type": kind,
        "ts": format_instant(round(ts, 3)),
        "contract_id": "live-ticks",
        "ticket_id": ticket_id,
        **extra,
    }
    return json.dumps(body).encode()


def alerts_for(
    settings: Settings, wanted: set[tuple[str, str]], timeout_s: float, settle_s: float
) -> list[dict[str, Any]]:
    """Alerts until every (ticket id, state) in ``wanted`` arrived, then ``settle_s`` more."""

    def seen(records: list[Any]) -> set[tuple[str, str]]:
        return {(a["subject"]["id"], a["state"]) for a in (json.loads(r.value) for r in records)}

    records = read_topic(
        settings, settings.topics.alerts, lambda r: wanted <= seen(r), timeout_s, settle_s
    )
    return [json.loads(r.value) for r in records]


@pytest.mark.timeout(120)
def test_an_unanswered_ticket_breaches_at_its_deadline_with_no_further_events(
    kafka_settings: Settings, short_rules: Path, tmp_path: Path
) -> None:
    env = worker_env(kafka_settings, short_rules, lateness_s=1)
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        created = time.time()
        # keyed by ticket id, not contract: the worker re-keys it first
        produce(
            kafka_settings,
            [
                (
                    kafka_settings.topics.tickets,
                    b"T-silent",
                    ticket_event("ticket.created", "T-silent", created, channel="email"),
                ),
            ],
        )
        alerts = alerts_for(kafka_settings, {("T-silent", "breached")}, timeout_s=60, settle_s=1)
        assert worker.terminate() == 0

    by_state = {a["state"]: a for a in alerts}
    assert set(by_state) == {"at_risk", "breached"}
    assert by_state["breached"]["event_time"] == format_instant(round(created, 3) + WITHIN_S)
    assert by_state["at_risk"]["event_time"] == format_instant(round(created, 3) + WITHIN_S / 2)


@pytest.mark.timeout(120)
def test_a_backlog_produced_while_the_worker_was_down_causes_no_false_breach(
    kafka_settings: Settings, short_rules: Path, tmp_path: Path
) -> None:
    start = time.time() - 120  # two minutes ago: 1500 tickets, each answered within 12 s
    tickets = kafka_settings.topics.tickets
    key = b"live-ticks"
    count = 1500
    created = [
        (tickets, key, ticket_event("ticket.created", f"T{i}", start + i * 0.005, channel="email"))
        for i in range(count)
    ]
    filler = [
        (
            tickets,
            key,
            ticket_event("ticket.status_changed", f"T{i}", start + 8 + i * 0.001, status="open"),
        )
        for i in range(count)
    ]
    replies = [
        (tickets, key, ticket_event("ticket.agent_reply", f"T{i}", start + 10 + i * 0.001))
        for i in range(count)
    ]
    silent = (tickets, key, ticket_event("ticket.created", "T-silent", start, channel="email"))
    produce(kafka_settings, [silent, *created, *filler, *replies])

    env = worker_env(kafka_settings, short_rules, lateness_s=1)
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        alerts = alerts_for(kafka_settings, {("T-silent", "breached")}, timeout_s=60, settle_s=3)
        assert worker.metric("slamon_events_late_total", contract="live-ticks") in (None, 0.0)
        assert worker.terminate() == 0

    breached = {a["subject"]["id"] for a in alerts if a["state"] == "breached"}
    assert breached == {"T-silent"}
    silent_breach = next(a for a in alerts if a["state"] == "breached")
    assert silent_breach["event_time"] == format_instant(round(start, 3) + WITHIN_S)
