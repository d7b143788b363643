"""A live worker delivering to Slack never writes the webhook URL (the secret) to its log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from monitor.domain.alerts import Alert, Subject
from monitor.settings import Settings
from tests.receivers import threaded_receiver
from tests.worker_harness import WorkerProcess, produce, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]

RULES = Path(__file__).resolve().parents[2] / "rules"
SECRET = "SECRETSECRETSECRET"


def test_the_worker_log_never_shows_the_slack_webhook_url(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    alert = Alert(
        "cta-apc-nj",
        "asa",
        "breached",
        "critical",
        Subject("window", "asa"),
        45.0,
        30.0,
        time.time(),
        "cta-apc-nj/asa: 45s outside target <= 30s",
    ).to_json()
    log_path = tmp_path / "worker.log"
    with threaded_receiver(200) as (url, handler):
        notifiers = tmp_path / "notifiers.yaml"
        notifiers.write_text(
            "notifiers:\n  alertmanager: {type: slack, url_env: TEST_SLACK_URL}\n",
            encoding="utf-8",
        )
        env = worker_env(kafka_settings, RULES, notifiers_file=notifiers, log_level="INFO")
        env["TEST_SLACK_URL"] = f"{url}/services/T000/B000/{SECRET}"
        with WorkerProcess(env, log_path) as worker:
            worker.wait_ready()
            produce(
                kafka_settings,
                [
                    (
                        kafka_settings.topics.alerts,
                        alert["fingerprint"].encode(),
                        json.dumps(alert).encode(),
                    )
                ],
            )
            deadline = time.monotonic() + 60
            while (
                worker.metric("slamon_notifications_total", sink="alertmanager", outcome="sent")
                != 1
            ):
                assert worker.running, worker.log_tail()
                assert time.monotonic() < deadline, worker.log_tail()
                time.sleep(0.1)
            assert worker.terminate() == 0
    ((path, body),) = handler.received
    assert path == f"/services/T000/B000/{SECRET}"
    assert body["text"].startswith(":red_circle: SLA breached")
    log = log_path.read_text(encoding="utf-8")
    assert '"level": "info"' in log  # the worker did log at INFO
    assert SECRET not in log
