"""``slamon run`` without brokers: embedded broker with a warning, clean stop, no orphans."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.settings import Settings
from monitor.stream.embedded_broker import EMBEDDED_BROKER_WARNING
from tests.integration.test_embedded_broker import process_gone
from tests.worker_harness import REPO, WorkerProcess, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_run_without_brokers_uses_the_embedded_broker_and_stops_cleanly(
    kafka_settings: Settings, tmp_path: Path, signum: signal.Signals
) -> None:
    env = worker_env(kafka_settings, REPO / "rules")
    env["SLAMON_KAFKA_BROKERS"] = ""
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        worker.wait_ready(60)
        assert worker.process is not None
        brokers = children(worker.process.pid)
        assert brokers, "no embedded broker process"
        worker.process.send_signal(signum)
        assert worker.process.wait(40) == 0, worker.log_tail()
    assert all(process_gone(pid) for pid in brokers)
    assert " ".join(EMBEDDED_BROKER_WARNING.split()[:8]) in " ".join(worker.log_tail(20000).split())
    assert "SLAMON_KAFKA_BROKERS=127.0.0.1:" in worker.log_tail(20000)  # how to produce to it


@pytest.mark.timeout(60)
def test_a_second_run_on_a_taken_metrics_port_says_how_to_choose_another() -> None:
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLAMON_")}
        env |= {"SLAMON_METRICS_PORT": str(port), "SLAMON_KAFKA_BROKERS": "127.0.0.1:9"}

        done = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--rules", str(REPO / "rules")],
            env=env,
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )

    assert done.returncode == 1
    assert done.stderr == (
        f"slamon: error: metrics port {port} is already in use (another slamon?); "
        "choose a free one with SLAMON_METRICS_PORT=<port>\n"
    )


@pytest.mark.timeout(60)
def test_run_with_an_unreachable_broker_retries_not_ready_and_stops_without_a_traceback(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    from monitor.stream.embedded_broker import free_port

    env = worker_env(kafka_settings, REPO / "rules")
    env["SLAMON_KAFKA_BROKERS"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        deadline = time.monotonic() + 30
        while len(worker.log_events("kafka_unreachable")) < 2:
            assert worker.running, worker.log_tail()
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.2)
        assert worker.get("/readyz")[0] == 503
        assert worker.get("/healthz")[0] == 200
        assert worker.terminate() == 0, worker.log_tail()
    attempts = worker.log_events("kafka_unreachable")
    assert [a["attempt"] for a in attempts[:2]] == [1, 2]
    assert attempts[0]["retry_in_s"] < attempts[1]["retry_in_s"]
    assert "Traceback" not in worker.log_tail(20000)
