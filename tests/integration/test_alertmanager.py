"""A real Alertmanager (Debian ``prometheus-alertmanager``) receives slamon's alerts.

Two instances on loopback, each with its own config and storage: the sink sends to
both, and each one's own API shows the alert firing with slamon's labels, the
at-risk alert replaced by the breach, then resolved.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.domain.alerts import Alert, Subject
from monitor.domain.escalation import Delivered, Notification, parse_instant
from monitor.sinks.alertmanager import AlertmanagerSink
from monitor.sinks.retry import DeadLetter, Deliverer, RetryPolicy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    assert BINARY is not None
    directory.mkdir()
    (directory / "alertmanager.yml").write_text(CONFIG, encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={directory / 'alertmanager.yml'}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (directory / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"alertmanager exited with {process.returncode}: {log[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("alertmanager did not become ready within 20 s")


@pytest.fixture
def alertmanagers(tmp_path: Path) -> Iterator[list[str]]:
    if BINARY is None:
        pytest.skip(
            "prometheus-alertmanager not installed (Debian package prometheus-alertmanager; "
            ".ci/run installs it)"
        )
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for index in range(2):
            process, url = _start(tmp_path / f"am{index}")
            processes.append(process)
            urls.append(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def alert(state: str, at: float) -> dict[str, Any]:
    return Alert(
        contract_id="cta-apc-nj",
        objective_id="resolution-high",
        state=state,  # type: ignore[arg-type]
        severity="warning" if state == "at_risk" else "critical",
        subject=Subject("ticket", "T-7", "billing"),
        observed=0.9,
        target=1.0,
        event_time=at,
        summary=f"ticket T-7 {state}",
        labels={"region": "nj"},
        extra={"deadline": "2026-11-20T17:00:00Z"},
    ).to_json()


def firing(url: str, fingerprint: str) -> list[dict[str, Any]]:
    """Active alerts of this fingerprint, as the Alertmanager itself reports them."""
    answer = httpx.get(
        f"{url}/api/v2/alerts",
        params={"filter": f'fingerprint="{fingerprint}"', "active": "true"},
        timeout=5,
    )
    answer.raise_for_status()
    now = time.time()
    return [
        item
        for item in answer.json()
        if item["status"]["state"] == "active" and _epoch(item["endsAt"]) > now
    ]


def _epoch(text: str) -> float:
    return parse_instant(text)


def test_alerts_show_in_every_alertmanager_firing_then_resolved(alertmanagers: list[str]) -> None:
    sink = AlertmanagerSink("alertmanager", tuple(alertmanagers), resolve_timeout=300)
    now = time.time()
    at_risk, breached, resolved = (
        alert("at_risk", now - 120),
        alert("breached", now - 60),
        alert("resolved", now),
    )
    fingerprint = breached["fingerprint"]
    told_at_risk = Delivered(at_risk["alert_id"], "at_risk", "warning", 1, now - 120)
    told_breached = Delivered(breached["alert_id"], "breached", "critical", 1, now - 60)

    async def send(note: Notification) -> None:
        dead: list[DeadLetter] = []

        async def dead_letter(letter: DeadLetter) -> None:
            dead.append(letter)

        async with httpx.AsyncClient() as client:
            deliverer = Deliverer(
                client, policy=RetryPolicy(max_attempts=3), dead_letter=dead_letter
            )
            assert await deliverer.deliver(sink, note)
        assert dead == []

    asyncio.run(send(Notification("alertmanager", "trigger", 1, "warning", at_risk)))
    for url in alertmanagers:
        (shown,) = firing(url, fingerprint)
        assert shown["labels"]["alertname"] == "SLAAtRisk"
        assert shown["labels"]["severity"] == "warning"

    asyncio.run(
        send(Notification("alertmanager", "trigger", 1, "critical", breached, told_at_risk))
    )
    for url in alertmanagers:
        (shown,) = firing(url, fingerprint)
        assert shown["labels"] == {
            "alertname": "SLABreach",
            "contract": "cta-apc-nj",
            "objective": "resolution-high",
            "severity": "critical",
            "fingerprint": fingerprint,
            "queue": "billing",
            "region": "nj",
        }
        annotations = shown["annotations"]
        assert annotations["summary"] == "ticket T-7 breached"
        assert annotations["deadline"] == "2026-11-20T17:00:00Z"
        assert annotations["subject"] == "ticket T-7"
        assert annotations["alert_id"] == breached["alert_id"]
        assert abs(_epoch(shown["startsAt"]) - (now - 60)) < 1
        assert _epoch(shown["endsAt"]) > now + 200

    asyncio.run(
        send(Notification("alertmanager", "resolve", 1, "critical", resolved, told_breached))
    )
    for url in alertmanagers:
        assert firing(url, fingerprint) == []
        everything = httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
        mine = [a for a in everything if a["labels"].get("fingerprint") == fingerprint]
        assert all(_epoch(a["endsAt"]) <= time.time() for a in mine)
