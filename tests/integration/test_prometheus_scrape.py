"""A real Prometheus scrapes a running slamon worker and has every series deploy/ uses.

Embedded broker, simulated traffic (plus malformed, duplicate, late, too-late and
unknown-contract events, so those counters exist), one ``slamon run`` subprocess
whose notifier delivers to a loopback receiver that fails on purpose at first, and
Prometheus on loopback with the shipped rule files, scraping every second. Its query
API must return data for every metric name the dashboard, the Prometheus rules and
the Grafana rules use, recording rules included.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.domain.alerts import format_instant
from monitor.rulespec.loader import load_rules
from monitor.settings import Settings
from monitor.simulate import simulate
from monitor.stream.embedded_broker import free_port
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

NOTIFIERS = """
retry: {max_attempts: 3, initial_backoff: 0.05, max_backoff: 0.2, timeout: 2}
notifiers:
  alertmanager:
    type: alertmanager
    urls: [BASE/ok, BASE/flaky, BASE/fail]
    refresh_interval: 1
  pagerduty-leads: {type: pagerduty, url: BASE/pagerduty, routing_key_env: SLAMON_TEST_PD_KEY}
  pagerduty-account-manager:
    {type: pagerduty, url: BASE/pagerduty, routing_key_env: SLAMON_TEST_PD_KEY}
  service-team-lead: {type: opsgenie, url: BASE/opsgenie, api_key_env: SLAMON_TEST_OG_KEY}
"""


class Receiver(ThreadingHTTPServer):
    """Loopback sink: /flaky answers its first request 503, /fail its first 400, then 200.

    So the notifier sends, retries, fails and dead-letters once, and then delivers:
    every notification series exists.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0].rstrip("/").split("/")[1]
        with self.server.lock:
            first = path not in self.server.seen
            self.server.seen.add(path)
        status = {"flaky": 503, "fail": 400}.get(path, 200) if first else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


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
    kafka_settings: Settings, tmp_path: Path, prometheus_for: Any, receiver: Receiver
) -> None:
    lines = traffic()
    produce(kafka_settings, [*event_records(kafka_settings, lines), *malformed(kafka_settings)])
    notifiers = tmp_path / "notifiers.yaml"
    notifiers.write_text(NOTIFIERS.replace("BASE", receiver.base))
    env = worker_env(
        kafka_settings,
        REPO / "rules",
        follow_wall_clock="false",
        notifiers_file=notifiers,
        test_pd_key="k" * 32,
        test_og_key="og-key",
    )
    wanted = used_names()

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
        outcomes = {s["metric"]["outcome"] for s in prometheus.query("slamon_notifications_total")}
        assert {"sent", "retry", "failed", "dead_letter"} <= outcomes
        statuses = prometheus.query(f'slamon:objective_status:max{{contract="{CONTRACT}"}}')
        assert {s["metric"]["objective"] for s in statuses} >= {"email-first-response"}
        assert worker.terminate() == 0, worker.log_tail()
