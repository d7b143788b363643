"""The notifier agent on the embedded broker: each state change delivered once, across a kill -9.

``slamon notify run`` runs as a real process against the session's Tansu broker
and a loopback receiver. Alerts go to the alerts topic; the receiver must get
each notification once; the process is then killed with SIGKILL (after its state
reached the changelog, before it could commit offsets cleanly) and restarted;
marker alerts on every partition, escalated by ticks, prove the restarted agent
recovered and ticked, and nothing was sent twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from monitor.domain.alerts import Alert, Subject
from monitor.settings import Settings
from tests.receivers import Receiver, Seen

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

RecordReader = Callable[..., Awaitable[list[Any]]]
PARTITIONS = 4
SECRET = "agent-test-secret"

AGREEMENT = """\
version: slamon/v1
contract: acme
title: Acme notifier test
objectives:
  - {id: asa, kind: average_speed_of_answer, target: "<= 30s", window: 1h}
alerting:
  repeat_interval: 1h
  escalation:
    - {after: 0m, notify: [hook]}
    - {after: 1s, notify: [hook-l2]}
"""


def notifiers_file(url: str) -> str:
    return f"""\
retry: {{max_attempts: 3, initial_backoff: 0.05, timeout: 5s}}
notifiers:
  hook: {{type: webhook, url: "{url}/l1", secret_env: HOOK_SECRET}}
  hook-l2: {{type: webhook, url: "{url}/l2", secret_env: HOOK_SECRET}}
  broken:
    type: webhook
    url: "{url}/broken"
    secret_env: HOOK_SECRET
    routing: {{levels: [1], severities: [warning]}}
"""


def alert(subject: str, state: str, at: float) -> dict[str, Any]:
    return Alert(
        contract_id="acme",
        objective_id="asa",
        state=state,  # type: ignore[arg-type]
        severity="warning" if state == "at_risk" else "critical",
        subject=Subject("ticket", subject),
        observed=None,
        target=None,
        event_time=at,
        summary=f"{subject} {state}",
    ).to_json()


def delivered(seen: Seen) -> tuple[str, str, str, str]:
    body = seen.json()
    return (seen.path, body["alert"]["subject"]["id"], body["alert"]["state"], body["action"])


class NotifierProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "SLAMON_CONFIG": str(self.config), "HOOK_SECRET": SECRET}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor.cli",
            "notify",
            "run",
            env=env,
            stdout=self.log.open("ab"),
            stderr=self.log.open("ab"),
        )

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 30)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            await self.kill()


async def wait_for(
    condition: Callable[[], bool], what: str, notifier: NotifierProcess, timeout_s: float
) -> None:
    """Poll ``condition``; fail (with the notifier's log) on a deadline or if it exited."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        process = notifier.process
        exited = process is not None and process.returncode is not None
        if exited or time.monotonic() > deadline:
            log = notifier.log
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            why = "the notifier exited" if exited else f"timed out after {timeout_s}s"
            pytest.fail(f"{why} waiting for {what}\n{tail}")
        await asyncio.sleep(0.1)


def notifier_process(settings: Settings, tmp_path: Path, notifiers: str) -> NotifierProcess:
    """A notifier configured like a deployed one: a config file, a rules dir, env secrets."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "acme.yaml").write_text(AGREEMENT, encoding="utf-8")
    (tmp_path / "notifiers.yaml").write_text(notifiers, "utf-8")
    config = {
        **settings.model_dump(mode="json", include={"kafka_brokers", "topics"}),
        "app_id": settings.app_id,
        "state_dir": str(tmp_path / "state"),
        "session_timeout_ms": settings.session_timeout_ms,
        "fetch_max_wait_ms": 50,
        "notifiers_file": str(tmp_path / "notifiers.yaml"),
        "rules_dir": str(rules),
        "metrics_port": 0,
        "tick_interval_s": 0.5,
    }
    (tmp_path / "config.yaml").write_text(json.dumps(config), "utf-8")
    return NotifierProcess(tmp_path / "config.yaml", tmp_path / "notifier.log")


def test_each_state_change_is_delivered_once_across_a_kill_and_restart(
    kafka_settings: Settings, read_records: RecordReader, tmp_path: Path
) -> None:
    topics = kafka_settings.topics
    changelog = f"{kafka_settings.app_id}-notifier-notifier-deliveries-changelog"

    async def main() -> None:
        async with Receiver(fail_paths={"/broken": 400}) as receiver:
            notifier = notifier_process(kafka_settings, tmp_path, notifiers_file(receiver.url))
            producer = AIOKafkaProducer(**kafka_settings.kafka_client_kwargs())
            await producer.start()

            async def publish(item: dict[str, Any], partition: int | None = None) -> None:
                await producer.send_and_wait(
                    topics.alerts,
                    json.dumps(item).encode(),
                    key=item["fingerprint"].encode(),
                    partition=partition,
                )

            try:
                await notifier.start()
                hour_ago = time.time() - 3600
                for item in [
                    alert("T-1", "breached", hour_ago),
                    alert("T-1", "resolved", hour_ago + 60),
                    alert("T-2", "breached", hour_ago),
                    alert("T-3", "at_risk", hour_ago),
                    alert("T-4", "breached", hour_ago),
                    alert("T-4", "breached", hour_ago),  # redelivered outbox record
                ]:
                    await publish(item)
                expected = {
                    ("/l1", "T-1", "breached", "trigger"),
                    ("/l2", "T-1", "breached", "trigger"),
                    ("/l1", "T-1", "resolved", "resolve"),
                    ("/l2", "T-1", "resolved", "resolve"),
                    ("/l1", "T-2", "breached", "trigger"),
                    ("/l2", "T-2", "breached", "trigger"),
                    ("/l1", "T-3", "at_risk", "trigger"),
                    ("/l1", "T-4", "breached", "trigger"),
                    ("/l2", "T-4", "breached", "trigger"),
                }
                await wait_for(
                    lambda: (
                        {delivered(s) for s in receiver.accepted} >= expected
                        and any(s.path == "/broken" for s in receiver.requests)
                    ),
                    "the first deliveries",
                    notifier,
                    90,
                )
                (dead,) = await read_records([topics.notifications_deadletter], 1)
                letter = json.loads(dead.value)
                assert (letter["sink"], letter["reason"]) == ("broken", "permanent: HTTP 400")
                assert letter["alert"]["subject"]["id"] == "T-3"
                # Every state write is on the changelog before the crash.
                await read_records([changelog], 5)
                await notifier.kill()

                await notifier.start()
                for round_ in ("M", "N"):
                    now = time.time()
                    markers = [alert(f"{round_}-{p}", "breached", now) for p in range(PARTITIONS)]
                    for partition, marker in enumerate(markers):
                        await publish(marker, partition)
                    wanted = {("/l2", m["subject"]["id"], "breached", "trigger") for m in markers}
                    await wait_for(
                        lambda wanted=wanted: wanted <= {delivered(s) for s in receiver.accepted},
                        f"escalated markers {round_}-*",
                        notifier,
                        90,
                    )
            finally:
                await notifier.stop()
                await producer.stop()

        counts = Counter(delivered(s) for s in receiver.accepted)
        originals = {key: n for key, n in counts.items() if key[1].startswith("T-")}
        assert originals == dict.fromkeys(expected, 1)
        markers = {key: n for key, n in counts.items() if not key[1].startswith("T-")}
        assert set(markers.values()) == {1}
        assert len(markers) == 2 * 2 * PARTITIONS
        assert [s.path for s in receiver.requests].count("/broken") == 1

    asyncio.run(main())


def test_a_kill_during_delivery_loses_nothing_and_opens_one_incident(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """The first PagerDuty request hangs; the notifier is killed while it waits.

    After the restart the alert is delivered again (nothing is lost) with the same
    dedup_key, so PagerDuty would hold one incident for the fingerprint.
    """
    breached = alert("T-9", "breached", time.time())
    pagerduty = """\
retry: {max_attempts: 3, initial_backoff: 0.05, timeout: 60s}
notifiers:
  hook: {type: pagerduty, url: "URL/v2/enqueue", routing_key_env: HOOK_SECRET}
"""

    async def main() -> Receiver:
        async with Receiver(["hang"], hang_s=30) as receiver:
            notifier = notifier_process(
                kafka_settings, tmp_path, pagerduty.replace("URL", receiver.url)
            )
            producer = AIOKafkaProducer(**kafka_settings.kafka_client_kwargs())
            await producer.start()
            try:
                await notifier.start()
                await producer.send_and_wait(
                    kafka_settings.topics.alerts,
                    json.dumps(breached).encode(),
                    key=breached["fingerprint"].encode(),
                )
                await wait_for(
                    lambda: len(receiver.requests) == 1, "the hung request", notifier, 90
                )
                await notifier.kill()
                await notifier.start()
                await wait_for(lambda: len(receiver.accepted) == 1, "the re-send", notifier, 90)
            finally:
                await notifier.stop()
                await producer.stop()
            return receiver

    receiver = asyncio.run(main())
    bodies = [seen.json() for seen in receiver.requests]
    assert [seen.status for seen in receiver.requests] == [503, 200]
    assert {body["dedup_key"] for body in bodies} == {breached["fingerprint"]}
    assert [body["event_action"] for body in bodies] == ["trigger", "trigger"]
    assert bodies[0]["payload"] == bodies[1]["payload"]
