"""``slamon notify test --sink NAME`` through the real sink to a loopback receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.receivers import Recorder, threaded_receiver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


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
