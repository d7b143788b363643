"""A real Prometheus scrapes a running slamon worker and has every series deploy/ uses.

Embedded broker, simulated traffic (plus malformed, duplicate, late, too-late and
unknown-contract events, so those counters exist), one ``slamon run`` subprocess,
and Prometheus on loopback with the shipped rule files, scraping every second. Its
query API must return data for every metric name the dashboard, the Prometheus
rules and the Grafana rules use, recording rules included, except the series
listed in ``NOT_PRODUCED_HERE`` with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.domain.alerts import format_instant
from monitor.embedded_broker import free_port
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.simulate import simulate
from tests.deploy.promql import (
    DASHBOARDS,
    GRAFANA_RULES,
    PROMETHEUS_RULES,
    dashboard_exprs,
    grafana_rule_exprs,
    metric_names,
    prometheus_rules,
)
from tests.worker_harness import REPO, WorkerProcess, event_records, produce, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONTRACT = "cta-apc-nj"
START = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)  # Monday morning in New Jersey
HOURS = 8.0

# Series that need something this test does not run, and why.
NOT_PRODUCED_HERE = {
    # Notifications come from the notifier agent and its sinks (docs/notifications.md);
    # a worker without a notifiers file sends none.
    "slamon_notifications_total": "no notifier configured",
    "slamon_notification_retries_total": "no notifier configured",
    "slamon_notification_delivery_seconds_bucket": "no notifier configured",
    "slamon_notifications_pending": "no notifier configured",
    "slamon:notifications_failed:increase15m": "no notifier configured",
    "slamon:notifications_pending:sum": "no notifier configured",
    # The objective gauges are set by the worker from Engine.objective_status(); the
    # worker on main does not export them yet (docs/operations.md, Metrics).
    "slamon_objective_status": "worker does not set objective gauges yet",
    "slamon_objective_sli": "worker does not set objective gauges yet",
    "slamon_objective_target": "worker does not set objective gauges yet",
    "slamon_items_open": "worker does not set objective gauges yet",
    "slamon_items_at_risk": "worker does not set objective gauges yet",
    "slamon_burn_rate": "worker does not set objective gauges yet",
    "slamon_error_budget_remaining_ratio": "worker does not set objective gauges yet",
    "slamon:objective_status:max": "worker does not set objective gauges yet",
    "slamon:objective_sli:max": "worker does not set objective gauges yet",
    "slamon:objective_target:max": "worker does not set objective gauges yet",
}


def used_names() -> set[str]:
    exprs = [e for path in DASHBOARDS for e in dashboard_exprs(path)]
    exprs += list(grafana_rule_exprs().values())
    exprs += [str(rule["expr"]) for rule in prometheus_rules()]
    names = {name for expr in exprs for name in metric_names(expr)}
    names |= {str(rule["record"]) for rule in prometheus_rules() if "record" in rule}
    assert GRAFANA_RULES.exists()
    return names


def traffic() -> list[bytes]:
    """Eight simulated hours of one contract (about 25 alerts), then odd-counter events."""
    agreements, problems = load_rules([REPO / "rules"])
    assert not problems
    chosen = [a for a in agreements if a.contract_id == CONTRACT]
    events = list(simulate(chosen, start=START, duration=timedelta(hours=HOURS), seed=3))
    assert len(events) > 2000
    lines = [json.dumps(e, separators=(",", ":")).encode() for e in events]
    end = START + timedelta(hours=HOURS)

    def ticket(event_id: str, at: datetime, contract: str = CONTRACT) -> bytes:
        body = {
            "event_id": event_id,
            "type": "ticket.created",
            "ts": format_instant(at.timestamp()),
            "contract_id": contract,
            "ticket_id": event_id,
            "channel": "email",
        }
        return json.dumps(body).encode()

    lines += [
        lines[0],  # duplicate
        ticket("late-1", end - timedelta(minutes=30)),  # behind the watermark
        ticket("too-late-1", end - timedelta(days=3)),  # past the dedup horizon
        ticket("nobody-1", end, contract="no-such-contract"),
    ]
    return lines


def malformed(settings: Settings) -> list[tuple[str, bytes, bytes]]:
    """Bad messages on an input topic: they go to the dead-letter topic, counted by reason."""
    topic = settings.topics.tickets
    key = CONTRACT.encode()
    return [
        (topic, key, b"{not json"),
        (topic, key, b'{"type": "ticket.created"}'),
        (
            topic,
            key,
            b'{"event_id": "x", "type": "ticket.exploded", "ts": "2026-11-16T13:00:00Z",'
            b' "contract_id": "cta-apc-nj"}',
        ),
    ]


@pytest.fixture
def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not on PATH: install the Debian package prometheus (.ci/run does)")
    return binary


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{query}", timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def has(self, name: str) -> bool:
        return bool(self.query(f'count({{__name__="{name}"}})'))


@pytest.fixture
def prometheus_for(prometheus_binary: str, tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> Prometheus:
        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in PROMETHEUS_RULES],
            "scrape_configs": [{"job_name": "slamon", "static_configs": [{"targets": [target]}]}],
        }
        path = tmp_path / "prometheus.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        log = (tmp_path / "prometheus.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    prometheus_binary,
                    f"--config.file={path}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return Prometheus(url)
            except OSError:
                time.sleep(0.2)
        raise AssertionError("Prometheus not ready within 30 s")

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.mark.timeout(240)
def test_prometheus_scraping_a_worker_has_every_series_the_dashboard_and_rules_use(
    kafka_settings: Settings, tmp_path: Path, prometheus_for: Any
) -> None:
    lines = traffic()
    produce(kafka_settings, [*event_records(kafka_settings, lines), *malformed(kafka_settings)])
    env = worker_env(kafka_settings, REPO / "rules", follow_wall_clock="false")
    wanted = used_names() - set(NOT_PRODUCED_HERE)

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready()
        prometheus = prometheus_for(f"127.0.0.1:{worker.port}")
        deadline = time.monotonic() + 150
        missing = wanted
        while time.monotonic() < deadline:
            missing = {name for name in wanted if not prometheus.has(name)}
            if not missing:
                break
            time.sleep(1)
        assert missing == set(), (
            f"no data in Prometheus for: {sorted(missing)}\n{worker.log_tail(1500)}"
        )

        up = prometheus.query('up{job="slamon"}')
        assert [float(s["value"][1]) for s in up] == [1.0]
        reasons = {s["metric"]["reason"] for s in prometheus.query("slamon_events_invalid_total")}
        assert {"invalid_json", "missing_field", "unknown_type"} <= reasons
        assert worker.terminate() == 0, worker.log_tail()
