"""Each sink through the retry wrapper to a loopback receiver: payloads field by field."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from monitor.domain.agreement import Alerting, EscalationLevel
from monitor.domain.alerts import Alert, Subject
from monitor.domain.escalation import DeliveryState, Notification, Route, decide, observe, record
from monitor.metrics import Metrics
from monitor.sinks.base import Sink
from monitor.sinks.opsgenie import OpsgenieSink
from monitor.sinks.pagerduty import PagerDutySink
from monitor.sinks.retry import DeadLetter, Deliverer, RetryPolicy
from monitor.sinks.slack import SlackSink
from monitor.sinks.webhook import WebhookSink
from tests.receivers import Answer, Receiver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
T0 = 1_795_000_000.0


def item_alert(state: str, at: float = T0, subject: str = "T-42") -> dict[str, Any]:
    return Alert(
        contract_id="acme",
        objective_id="resolution-high",
        state=state,  # type: ignore[arg-type]
        severity="warning" if state == "at_risk" else "critical",
        subject=Subject("ticket", subject, "billing"),
        observed=0.8 if state == "at_risk" else 1.0,
        target=1.0,
        event_time=at,
        summary=f"acme/resolution-high: ticket {subject} {state}",
        description="clause 4.2",
        labels={"team": "care"},
        extra={"deadline": "2026-11-20T17:00:00Z", "within": "8h"},
    ).to_json()


def window_alert() -> dict[str, Any]:
    return Alert(
        "acme",
        "phone-60s",
        "breached",
        "critical",
        Subject("window", "phone-60s"),
        0.72,
        0.8,
        T0,
        "acme/phone-60s: service_level 72% outside target >= 80% over the last 30m",
    ).to_json()


def trigger(alert: dict[str, Any], sink: str = "s") -> Notification:
    severity = "warning" if alert["state"] == "at_risk" else "critical"
    return Notification(sink, "trigger", 1, severity, alert)  # type: ignore[arg-type]


def resolve(alert: dict[str, Any], sink: str = "s") -> Notification:
    return Notification(sink, "resolve", 1, "critical", alert)


async def send_all(
    sink: Sink,
    notes: Sequence[Notification],
    *,
    policy: RetryPolicy | None = None,
    metrics: Metrics | None = None,
) -> tuple[list[bool], list[DeadLetter]]:
    dead: list[DeadLetter] = []

    async def dead_letter(letter: DeadLetter) -> None:
        dead.append(letter)

    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(
            client,
            policy=policy or RetryPolicy(max_attempts=3, initial_backoff=0.01, timeout=2.0),
            dead_letter=dead_letter,
            metrics=metrics,
        )
        results = [await deliverer.deliver(sink, note) for note in notes]
    return results, dead


def run_with_receiver(
    script: Sequence[Answer], body: Callable[[Receiver], Awaitable[Any]], hang_s: float = 1.0
) -> tuple[Receiver, Any]:
    async def main() -> tuple[Receiver, Any]:
        async with Receiver(script, hang_s=hang_s) as receiver:
            result = await body(receiver)
        return receiver, result

    return asyncio.run(main())


def test_pagerduty_trigger_and_resolve() -> None:
    breached, resolved = item_alert("breached"), item_alert("resolved", T0 + 60)

    async def body(receiver: Receiver) -> Any:
        sink = PagerDutySink("pd", SecretStr("R0UT1NG"), f"{receiver.url}/v2/enqueue")
        return await send_all(sink, [trigger(breached), resolve(resolved)])

    receiver, (results, dead) = run_with_receiver([], body)
    assert results == [True, True]
    assert dead == []
    first, second = (seen.json() for seen in receiver.requests)
    assert [seen.path for seen in receiver.requests] == ["/v2/enqueue", "/v2/enqueue"]
    assert first["routing_key"] == "R0UT1NG"
    assert first["event_action"] == "trigger"
    assert first["dedup_key"] == breached["fingerprint"]
    payload = first["payload"]
    assert payload["summary"] == "acme/resolution-high: ticket T-42 breached"
    assert payload["source"] == "slamon/acme"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == breached["event_time"]
    assert payload["component"] == "resolution-high"
    assert payload["group"] == "billing"
    assert payload["class"] == "breached"
    details = payload["custom_details"]
    assert details["deadline"] == "2026-11-20T17:00:00Z"
    assert details["observed_vs_target"] == "100% vs target 100%"
    assert details["subject"] == {"kind": "ticket", "id": "T-42", "queue": "billing"}
    assert details["alert_id"] == breached["alert_id"]
    assert second == {
        "routing_key": "R0UT1NG",
        "dedup_key": breached["fingerprint"],
        "event_action": "resolve",
    }


def test_pagerduty_maps_at_risk_to_warning() -> None:
    async def body(receiver: Receiver) -> Any:
        sink = PagerDutySink("pd", SecretStr("k"), receiver.url)
        return await send_all(sink, [trigger(item_alert("at_risk"))])

    receiver, _ = run_with_receiver([], body)
    assert receiver.requests[0].json()["payload"]["severity"] == "warning"


def test_opsgenie_creates_with_alias_and_closes_by_alias() -> None:
    breached = item_alert("breached")
    fingerprint = breached["fingerprint"]

    async def body(receiver: Receiver) -> Any:
        sink = OpsgenieSink("og", SecretStr("g3n1e"), receiver.url)
        return await send_all(sink, [trigger(breached), resolve(item_alert("resolved", T0 + 9))])

    receiver, (results, _) = run_with_receiver([202, 202], body)
    assert results == [True, True]
    create, close = receiver.requests
    assert (create.method, create.path) == ("POST", "/v2/alerts")
    assert create.headers["Authorization"] == "GenieKey g3n1e"
    body_ = create.json()
    assert body_["alias"] == fingerprint
    assert body_["message"] == "acme/resolution-high: ticket T-42 breached"
    assert body_["priority"] == "P1"
    assert body_["entity"] == "acme"
    assert body_["source"] == "slamon"
    assert body_["tags"] == ["acme", "resolution-high", "breached"]
    assert body_["description"] == "clause 4.2"
    assert body_["details"]["deadline"] == "2026-11-20T17:00:00Z"
    assert (close.path, close.query) == (
        f"/v2/alerts/{fingerprint}/close",
        {"identifierType": "alias"},
    )
    assert close.headers["Authorization"] == "GenieKey g3n1e"
    assert close.json()["source"] == "slamon"


def test_slack_message_is_readable() -> None:
    async def body(receiver: Receiver) -> Any:
        sink = SlackSink("slack", SecretStr(f"{receiver.url}/services/T000/B000/XXXX"))
        return await send_all(sink, [trigger(window_alert()), trigger(item_alert("breached"))])

    receiver, (results, _) = run_with_receiver([], body)
    assert results == [True, True]
    window, item = (seen.json() for seen in receiver.requests)
    assert receiver.requests[0].path == "/services/T000/B000/XXXX"
    assert window["text"].startswith(":red_circle: SLA breached: acme/phone-60s")
    fields = window["blocks"][1]["text"]["text"]
    assert "*Contract:* acme" in fields
    assert "*Objective:* phone-60s" in fields
    assert "*Observed:* 72% vs target 80%" in fields
    assert "*Deadline:* n/a" in fields
    item_fields = item["blocks"][1]["text"]["text"]
    assert "*Deadline:* 2026-11-20T17:00:00Z" in item_fields
    assert "*Subject:* ticket T-42" in item_fields


def docs_verify() -> Callable[..., bool]:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    (snippet,) = [block for block in blocks if "def verify" in block]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def test_webhook_signature_verifies_with_the_documented_recipe() -> None:
    verify = docs_verify()
    alert = item_alert("breached")

    async def body(receiver: Receiver) -> Any:
        sink = WebhookSink("hook", f"{receiver.url}/hook", SecretStr("shared-s3cret"))
        return await send_all(sink, [trigger(alert)])

    receiver, (results, _) = run_with_receiver([], body)
    assert results == [True]
    (seen,) = receiver.requests
    assert seen.headers["Content-Type"] == "application/json"
    assert verify(b"shared-s3cret", seen.headers, seen.body)
    assert not verify(b"wrong-secret", seen.headers, seen.body)
    assert not verify(b"shared-s3cret", seen.headers, seen.body + b" ")
    stale = {**seen.headers, "X-Slamon-Timestamp": str(int(time.time()) - 3600)}
    assert not verify(b"shared-s3cret", stale, seen.body)
    payload = seen.json()
    assert (payload["version"], payload["action"], payload["sink"]) == (1, "trigger", "hook")
    assert (payload["level"], payload["severity"]) == (1, "critical")
    assert payload["alert"] == alert


ALERTING = Alerting(repeat_interval=3600.0, escalation=(EscalationLevel(0.0, ("hook",)),))
ROUTES = {"hook": Route("hook")}


def test_a_receiver_failing_for_a_while_still_gets_each_state_change_exactly_once() -> None:
    """500s, hangs past the client timeout and 429 + Retry-After, then recovery."""
    script: list[Answer] = [500, 500, "hang", (429, "1"), 502, "hang", 500, 503, (429, "0")]
    timeline = [
        (state, subject, T0 + i)
        for i, (state, subject) in enumerate(
            [
                ("at_risk", "T-1"),
                ("breached", "T-2"),
                ("breached", "T-1"),
                ("resolved", "T-2"),
                ("resolved", "T-1"),
                ("breached", "T-3"),
            ]
        )
    ]
    metrics = Metrics(CollectorRegistry())
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.02, max_backoff=0.2, timeout=0.3)

    async def body(receiver: Receiver) -> Any:
        sink = WebhookSink("hook", f"{receiver.url}/hook", SecretStr("s"))
        states: dict[str, DeliveryState] = {}
        results = []
        for state, subject, at in timeline:
            alert = item_alert(state, at, subject)
            current = observe(states.get(alert["fingerprint"]), alert)
            for note in decide(current, alerting=ALERTING, calendar=None, routes=ROUTES, now=at):
                _, dead = await send_all(sink, [note], policy=policy, metrics=metrics)
                results.append(not dead)
                current = record(current, note, ok=not dead, now=at)
            states[alert["fingerprint"]] = current
        return results

    receiver, results = run_with_receiver(script, body, hang_s=0.6)
    assert all(results)
    accepted = Counter(
        (seen.json()["alert"]["subject"]["id"], seen.json()["alert"]["state"])
        for seen in receiver.accepted
    )
    assert accepted == {
        ("T-1", "at_risk"): 1,
        ("T-2", "breached"): 1,
        ("T-1", "breached"): 1,
        ("T-2", "resolved"): 1,
        ("T-1", "resolved"): 1,
        ("T-3", "breached"): 1,
    }
    assert len(receiver.requests) == len(script) + 6
    sent = metrics.registry.get_sample_value(
        "slamon_notifications_total", {"sink": "hook", "outcome": "sent"}
    )
    retried = metrics.registry.get_sample_value(
        "slamon_notification_retries_total", {"sink": "hook"}
    )
    assert (sent, retried) == (6, len(script))


def test_an_unreachable_sink_ends_in_a_dead_letter() -> None:
    async def main() -> tuple[list[bool], list[DeadLetter]]:
        async with Receiver() as receiver:
            url = receiver.url
        sink = WebhookSink("hook", f"{url}/gone", SecretStr("s"))  # the port is closed now
        policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, timeout=0.5)
        return await send_all(sink, [trigger(item_alert("breached"))], policy=policy)

    results, dead = asyncio.run(main())
    assert results == [False]
    (letter,) = dead
    assert letter.attempts == 3
    assert letter.reason == "gave up after ConnectError"
    assert json.loads(json.dumps(letter.to_json()))["sink"] == "hook"
