"""`slamon demo` end to end: embedded broker, live simulator, worker, summaries, clean exit."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.stream.embedded_broker import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAMON_")}
    env["SLAMON_METRICS_PORT"] = str(free_port())
    env["SLAMON_SESSION_TIMEOUT_MS"] = "4000"
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(output: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"\bpid (\d+)", output)]


@pytest.mark.timeout(240)
def test_the_demo_shows_objectives_and_alerts_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "monitor.cli", "demo", "--duration", "45", "--out", str(out)]

    done = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=200, check=False
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "embedded Tansu broker" in output
    assert re.search(r"objectives: \d+ breached, \d+ at risk, \d+ ok", output), output[-4000:]
    ended = re.search(r"demo ended \(duration reached\): (\d+) events sent, (\d+) alerts", output)
    assert ended, output[-4000:]
    assert int(ended[1]) > 0
    assert int(ended[2]) >= 1
    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == int(ended[2])
    assert {alert["state"] for alert in alerts} <= {"at_risk", "breached", "resolved"}
    pids = _pids(output)
    assert len(pids) == 2  # the broker and the worker
    assert not [pid for pid in pids if _alive(pid)]


@pytest.mark.timeout(180)
def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "monitor.cli", "demo", "--out", str(tmp_path / "demo")]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:  # the first periodic summary: everything is running
            lines.append(line)
            if line.startswith("objectives:"):
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 0, output[-4000:]
    assert "demo ended (interrupted)" in output
    assert not [pid for pid in _pids(output) if _alive(pid)]
