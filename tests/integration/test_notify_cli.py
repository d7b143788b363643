"""``slamon notify test --sink NAME`` through the real sink to a loopback receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.logging_support import restored_logging
from tests.receivers import Recorder, threaded_receiver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """``notify test`` configures logging in this process; later tests get theirs back."""
    with restored_logging():
        yield


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Recorder]]]:
    with threaded_receiver() as served:
        yield served


def write_notifiers(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "notifiers.yaml"
    path.write_text(
        "retry: {max_attempts: 2, initial_backoff: 0.01, timeout: 5s}\n"
        "notifiers:\n"
        f"  pd: {{type: pagerduty, url: '{url}/v2/enqueue', routing_key_env: TEST_PD_KEY}}\n",
        encoding="utf-8",
    )
    return path


def test_notify_test_triggers_and_resolves_through_the_sink(
    receiver: tuple[str, type[Recorder]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = receiver
    monkeypatch.setenv("SLAMON_NOTIFIERS_FILE", str(write_notifiers(tmp_path, url)))
    monkeypatch.setenv("TEST_PD_KEY", "k3y")
    result = CliRunner().invoke(app, ["notify", "test", "--sink", "pd"])
    assert result.exit_code == 0, result.output
    assert [body["event_action"] for _, body in handler.received] == ["trigger", "resolve"]
    path, trigger = handler.received[0]
    assert path == "/v2/enqueue"
    assert trigger["routing_key"] == "k3y"
    assert trigger["payload"]["source"] == "slamon/slamon-test"
    assert "k3y" not in result.output


def test_notify_test_fails_when_the_sink_refuses(
    receiver: tuple[str, type[Recorder]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = receiver
    handler.status = 400
    monkeypatch.setenv("TEST_PD_KEY", "k3y")
    notifiers = write_notifiers(tmp_path, url)
    result = CliRunner().invoke(
        app, ["notify", "test", "--sink", "pd", "--notifiers", str(notifiers)]
    )
    assert result.exit_code == 1
    assert "permanent: HTTP 400" in result.output
    assert len(handler.received) == 1


def test_notify_test_names_an_unknown_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PD_KEY", "k3y")
    notifiers = write_notifiers(tmp_path, "http://127.0.0.1:9")
    result = CliRunner().invoke(
        app, ["notify", "test", "--sink", "slack", "--notifiers", str(notifiers)]
    )
    assert result.exit_code == 2
    assert "no sink 'slack'" in result.output


SLACK_SECRET = "T000/B000/SECRETSECRETSECRET"


def run_notify_test(url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``slamon notify test --sink chat`` in its own process, logging as configured at DEBUG."""
    notifiers = tmp_path / "notifiers.yaml"
    notifiers.write_text(
        "retry: {max_attempts: 2, initial_backoff: 0.01, max_backoff: 0.02, timeout: 5s}\n"
        "notifiers:\n  chat: {type: slack, url_env: TEST_SLACK_URL}\n",
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "SLAMON_LOG_LEVEL": "DEBUG",
        "SLAMON_LOG_FORMAT": "json",
        "TEST_SLACK_URL": url,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "monitor", "notify", "test", "--sink", "chat"],
        env={**environment, "SLAMON_NOTIFIERS_FILE": str(notifiers)},
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_notify_test_never_logs_the_slack_webhook_url(
    tmp_path: Path, status: int, exit_code: int
) -> None:
    with threaded_receiver(status) as (url, handler):
        result = run_notify_test(f"{url}/services/{SLACK_SECRET}", tmp_path)

    assert result.returncode == exit_code, result.stderr
    assert handler.received  # the secret URL was really used
    assert {path for path, _ in handler.received} == {f"/services/{SLACK_SECRET}"}
    assert "SECRETSECRETSECRET" not in result.stdout + result.stderr
    if status != 200:
        assert '"event": "notification_retry"' in result.stderr


def test_notify_test_with_a_bad_port_in_the_slack_url_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    result = run_notify_test(f"http://127.0.0.1:99999/services/{SLACK_SECRET}", tmp_path)

    assert result.returncode == 2
    assert "notifiers.chat.url_env: environment variable TEST_SLACK_URL:" in result.stderr
    assert "port must be a number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ExceptionGroup" not in result.stderr
    assert "SECRETSECRETSECRET" not in result.stdout + result.stderr
