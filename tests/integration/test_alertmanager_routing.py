"""deploy/alertmanager/alertmanager.yml in a real Alertmanager on loopback.

The shipped config, with only the outside world swapped for a local recorder
(PagerDuty URL, Slack webhook and keys in temp files) and short group timers:
slamon's alerts are grouped by contract and objective, at-risk is inhibited by a
breach of the same objective, critical pages PagerDuty with the contract's key.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor.sinks.alertmanager import labels_for
from tests.deploy.conftest import DEPLOY

pytestmark = pytest.mark.integration

BINARY = "prometheus-alertmanager"
SECRETS = "/etc/alertmanager/secrets/"


class Recorder(ThreadingHTTPServer):
    """A loopback HTTP server that keeps every POST as (path, JSON body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def posted(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_config(tmp_path: Path, recorder: Recorder) -> Path:
    """The shipped config aimed at the recorder, with second-scale group timers."""
    yaml = YAML()
    config = yaml.load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    config["global"]["pagerduty_url"] = f"{recorder.url}/pagerduty"
    config["route"].update(group_wait="1s", group_interval="1s")
    secrets = {
        "slack-webhook-url": f"{recorder.url}/slack",
        "pagerduty-routing-key": "key-default",
        "pagerduty-routing-key-cta-apc-nj": "key-cta",
    }
    for name, value in secrets.items():
        (tmp_path / name).write_text(value)
    text = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    assert all(SECRETS + name in text for name in secrets), "secret file names changed"
    path = tmp_path / "alertmanager.yml"
    with path.open("w") as out:
        yaml.dump(config, out)
    path.write_text(path.read_text().replace(SECRETS, f"{tmp_path}/"))
    return path


@pytest.fixture
def alertmanager(tmp_path: Path, recorder: Recorder) -> Iterator[str]:
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(f"{BINARY} not on PATH: install the Debian package prometheus-alertmanager")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={local_config(tmp_path, recorder)}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "alertmanager.log").open("w"),
    )
    try:
        wait_for(lambda: _get(f"{url}/-/ready") is not None, 20, "Alertmanager ready")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body: bytes = response.read()
            return body
    except OSError:
        return None


def wait_for(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    for alert in alerts:
        alert["startsAt"] = now.isoformat()
        alert["endsAt"] = (now + timedelta(minutes=10)).isoformat()
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def notifier_alert(state: str, objective: str, severity: str, fingerprint: str) -> dict[str, Any]:
    """An alert with the labels slamon's Alertmanager sink gives it."""
    alert = {"contract_id": "cta-apc-nj", "objective_id": objective, "fingerprint": fingerprint}
    return {
        "labels": labels_for(alert, state, severity),
        "annotations": {"summary": f"{state} {objective} {fingerprint}"},
    }


def test_breach_pages_the_contract_inhibits_its_at_risk_and_groups_by_objective(
    alertmanager: str, recorder: Recorder
) -> None:
    post_alerts(
        alertmanager,
        [
            notifier_alert("breached", "resolution-high", "critical", "f-breach"),
            notifier_alert("at_risk", "resolution-high", "warning", "f-risk-same"),
            notifier_alert("at_risk", "email-first-response", "warning", "f-risk-other"),
            notifier_alert("at_risk", "email-first-response", "warning", "f-risk-other-2"),
        ],
    )

    def states() -> dict[str, dict[str, Any]]:
        body = _get(f"{alertmanager}/api/v2/alerts") or b"[]"
        return {a["labels"]["fingerprint"]: a["status"] for a in json.loads(body)}

    wait_for(lambda: states().get("f-risk-same", {}).get("state") == "suppressed", 15, "inhibit")
    status = states()
    assert status["f-risk-same"]["inhibitedBy"]
    assert status["f-breach"]["state"] == "active"
    assert status["f-risk-other"]["state"] == "active"

    wait_for(lambda: recorder.posted("/pagerduty"), 15, "the PagerDuty event")
    wait_for(lambda: len(recorder.posted("/slack")) >= 2, 15, "two Slack messages")
    time.sleep(2)  # anything misrouted would arrive by now (group timers are 1 s)

    (page,) = recorder.posted("/pagerduty")
    assert page["routing_key"] == "key-cta"
    assert page["event_action"] == "trigger"
    assert "resolution-high" in page["payload"]["summary"]

    slack = recorder.posted("/slack")
    texts = sorted(json.dumps(message) for message in slack)
    assert len(texts) == 2, "one message per (contract, objective) group"
    breach_msg = next(t for t in texts if "resolution-high" in t)
    other_msg = next(t for t in texts if "email-first-response" in t)
    assert "f-breach" in breach_msg
    assert "f-risk-same" not in breach_msg, "the inhibited at-risk alert was sent"
    assert "f-risk-other" in other_msg
    assert "f-risk-other-2" in other_msg, "the two alerts of one objective share a message"
