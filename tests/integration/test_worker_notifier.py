"""``slamon run`` with a notifiers file runs the notifier agent in the worker's own app."""

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


def test_the_worker_delivers_alerts_when_a_notifiers_file_is_set(
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
    with threaded_receiver() as (url, handler):
        notifiers = tmp_path / "notifiers.yaml"
        notifiers.write_text(
            "notifiers:\n"
            f"  alertmanager: {{type: webhook, url: '{url}/am', secret_env: HOOK_SECRET}}\n",
            encoding="utf-8",
        )
        env = worker_env(kafka_settings, RULES, notifiers_file=notifiers)
        env["HOOK_SECRET"] = "s"
        with WorkerProcess(env, tmp_path / "worker.log") as worker:
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
            while not handler.received:
                assert worker.running, worker.log_tail()
                assert time.monotonic() < deadline, worker.log_tail()
                time.sleep(0.1)
            while (
                worker.metric("slamon_notifications_total", sink="alertmanager", outcome="sent")
                != 1
            ):
                assert time.monotonic() < deadline, worker.log_tail()
                time.sleep(0.1)
            assert worker.terminate() == 0
    ((path, body),) = handler.received
    assert path == "/am"
    assert (body["action"], body["alert"]["alert_id"]) == ("trigger", alert["alert_id"])
