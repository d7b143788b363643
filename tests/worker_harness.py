"""Live workers as real subprocesses (``python -m monitor run``) for integration tests.

A worker is configured only through ``SLAMON_*`` environment variables, like a
deployed one, and killed with a real SIGKILL where a test needs a crash. Every
process is stopped when its ``with`` block ends, whatever happens in the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from monitor.domain.alerts import Alert
from monitor.settings import Settings
from monitor.stream.embedded_broker import free_port

REPO = Path(__file__).resolve().parents[1]

AlertKey = tuple[str, str, str]


def worker_env(settings: Settings, rules_dir: Path, **overrides: Any) -> dict[str, str]:
    """The environment of a worker subprocess for ``settings`` (test topics, group, broker)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAMON_")}
    env.update(
        {
            "SLAMON_KAFKA_BROKERS": settings.bootstrap_servers,
            "SLAMON_APP_ID": settings.app_id,
            "SLAMON_STATE_DIR": str(settings.state_dir),
            "SLAMON_SESSION_TIMEOUT_MS": str(settings.session_timeout_ms),
            "SLAMON_FETCH_MAX_WAIT_MS": str(settings.fetch_max_wait_ms),
            "SLAMON_RULES_DIR": str(rules_dir),
            "SLAMON_LOG_FORMAT": "json",
            "SLAMON_TICK_INTERVAL_S": "0.5",
            "SLAMON_CHECKPOINT_INTERVAL_S": "1",
            "SLAMON_CHECKPOINT_EVENTS": "500",
        }
    )
    for name, topic in settings.topics.model_dump().items():
        env[f"SLAMON_TOPICS__{name.upper()}"] = topic
    for name, value in overrides.items():
        env[f"SLAMON_{name.upper()}"] = str(value)
    return env


class WorkerProcess:
    """One ``python -m monitor run`` subprocess with its own metrics port and log file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**env, "SLAMON_METRICS_PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()

    def start(self) -> Self:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait_ready(self, timeout_s: float = 40.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError(f"worker exited early:\n{self.log_tail()}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"worker not ready within {timeout_s}s:\n{self.log_tail()}")

    def metric(self, name: str, **labels: str) -> float | None:
        """One sample from /metrics (``None`` when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(self.get("/metrics")[1]):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        return None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, like a crashed host."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout_s: float = 40.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"worker ignored SIGTERM for {timeout_s}s") from None

    def log_events(self, name: str) -> list[dict[str, Any]]:
        """The worker's JSON log records whose ``event`` is ``name``, oldest first."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if f'"{name}"' in line:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("event") == name:
                    found.append(record)
        return found

    def partitions(self) -> set[int]:
        """The partitions this worker resumed at its latest assignment."""
        resumed = self.log_events("partitions_resumed")
        return set(resumed[-1]["partitions"]) if resumed else set()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# -- records ------------------------------------------------------------------------


async def _produce(settings: Settings, records: Iterable[tuple[str, bytes | None, bytes]]) -> int:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), linger_ms=5)
    await producer.start()
    sent = 0
    try:
        futures = []
        for topic, key, value in records:
            futures.append(await producer.send(topic, value=value, key=key))
            sent += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


def produce(settings: Settings, records: Iterable[tuple[str, bytes | None, bytes]]) -> int:
    """Publish ``(topic, key, value)`` records and wait for every acknowledgement."""
    return asyncio.run(_produce(settings, records))


def event_records(settings: Settings, lines: Iterable[bytes]) -> list[tuple[str, bytes, bytes]]:
    """Event lines routed as ``slamon produce`` does: topic by type family, key = contract."""
    from monitor.stream.produce import route_line

    out = []
    for line in lines:
        routed = route_line(line, settings.topics)
        assert routed.key is not None, line
        out.append((routed.topic, routed.key, line))
    return out


async def _read(
    settings: Settings,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout_s: float,
    settle_s: float,
) -> list[Any]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(), enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while not done(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        settled = time.monotonic() + settle_s
        while time.monotonic() < settled:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


def read_topic(
    settings: Settings,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout_s: float = 60.0,
    settle_s: float = 0.0,
) -> list[Any]:
    """Records of ``topic`` from the beginning until ``done(records)`` or the timeout.

    Then ``settle_s`` more seconds, to catch what should not be there.
    """
    return asyncio.run(_read(settings, topic, done, timeout_s, settle_s))


def alert_key(alert: dict[str, Any]) -> AlertKey:
    return (alert["fingerprint"], alert["state"], alert["event_time"])


def expected_keys(alerts: Iterable[Alert]) -> set[AlertKey]:
    return {alert_key(a.to_json()) for a in alerts}


def read_alerts(
    settings: Settings, expected: set[AlertKey], timeout_s: float = 60.0, settle_s: float = 1.5
) -> list[dict[str, Any]]:
    """Alerts until every ``expected`` one arrived (or the timeout), plus ``settle_s`` more."""

    def done(records: list[Any]) -> bool:
        return expected <= {alert_key(json.loads(r.value)) for r in records}

    records = read_topic(settings, settings.topics.alerts, done, timeout_s, settle_s)
    for record in records:
        assert record.key == json.loads(record.value)["fingerprint"].encode()
    return [json.loads(r.value) for r in records]


def assert_repeats_identical(alerts: list[dict[str, Any]]) -> None:
    """An alert delivered more than once (at-least-once) must be byte-for-byte the same."""
    by_id: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        first = by_id.setdefault(alert["alert_id"], alert)
        assert first == alert
