"""No log line shows a sink's secret: every sink, accepted, retried, refused or unreachable.

Logging is configured exactly as the worker does it (``configure_logging``), at
DEBUG so that every library logger that could talk does; the sinks come from a
notifiers file whose secrets are recognisable fakes (a Slack webhook path, a
PagerDuty routing key, an Opsgenie API key, a webhook HMAC key and URL token, an
Alertmanager password). Whatever reaches stdout or stderr must hold none of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog

from monitor import logs
from monitor.domain.escalation import Notification
from monitor.logs import configure_logging
from monitor.sinks.config import Notifiers, load_notifiers
from monitor.sinks.retry import DeadLetter, Deliverer
from tests.integration.test_sinks import item_alert, trigger
from tests.logging_support import restored_logging
from tests.receivers import Answer, Receiver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SLACK_PATH = "services/T000/B000/SECRETSECRETSECRET"
SECRETS = {
    "T_PD_KEY": "PDROUTINGKEY0SECRET0001",
    "T_OG_KEY": "OPSGENIE0KEY0SECRET0002",
    "T_HOOK_KEY": "WEBHOOK0HMAC0SECRET0003",
}
URL_TOKEN = "WEBHOOK0URL0TOKEN0004"
AM_PASSWORD = "AMPASSWORD0SECRET0005"
EVERY_SECRET = [SLACK_PATH, "SECRETSECRETSECRET", URL_TOKEN, AM_PASSWORD, *SECRETS.values()]
SINKS = ["slack", "pd", "og", "hook", "am"]
SCENARIOS: dict[str, tuple[list[Answer], str | None]] = {
    "accepted": ([200], None),
    "retried": ([503, 200], "notification_retry"),
    "refused": ([400], "notification_dead_lettered"),
    "unreachable": ([], "notification_dead_lettered"),
}


def notifiers_text(url: str, port: int) -> str:
    fast = "rate_limit: {per_second: 100, burst: 10}"
    return (
        "retry: {max_attempts: 2, initial_backoff: 0.01, max_backoff: 0.02, timeout: 2s}\n"
        "notifiers:\n"
        f"  slack: {{type: slack, url_env: T_SLACK_URL, {fast}}}\n"
        f"  pd: {{type: pagerduty, url: '{url}/v2/enqueue', routing_key_env: T_PD_KEY, {fast}}}\n"
        f"  og: {{type: opsgenie, url: '{url}', api_key_env: T_OG_KEY}}\n"
        f"  hook: {{type: webhook, url: '{url}/hook?token={URL_TOKEN}', secret_env: T_HOOK_KEY}}\n"
        f"  am: {{type: alertmanager, urls: ['http://am:{AM_PASSWORD}@127.0.0.1:{port}']}}\n"
    )


def load(tmp_path: Path, receiver: Receiver) -> Notifiers:
    path = tmp_path / "notifiers.yaml"
    path.write_text(notifiers_text(receiver.url, receiver.port), encoding="utf-8")
    return load_notifiers(path, {**SECRETS, "T_SLACK_URL": f"{receiver.url}/{SLACK_PATH}"})


@pytest.fixture
def saved_logging() -> Iterator[None]:
    with restored_logging():
        yield


async def deliver(notifiers: Notifiers, sink: str, note: Notification) -> list[DeadLetter]:
    dead: list[DeadLetter] = []

    async def dead_letter(letter: DeadLetter) -> None:
        dead.append(letter)

    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(client, policy=notifiers.retry, dead_letter=dead_letter)
        await deliverer.deliver(notifiers.sinks[sink], note)
    return dead


def worker_logging() -> None:
    """The worker's logging, at DEBUG, writing to this test's captured stderr."""
    configure_logging("DEBUG", "json", force=True)


def logged(output: str, event: str) -> bool:
    return f'"event": "{event}"' in output


def assert_no_secret(output: str) -> None:
    assert "Logging error" not in output, output
    for secret in EVERY_SECRET:
        assert secret not in output, f"{secret} leaked:\n{output}"


@pytest.mark.usefixtures("saved_logging")
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("sink", SINKS)
def test_no_secret_reaches_the_log_whatever_the_sink_answers(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], sink: str, scenario: str
) -> None:
    script, expected_event = SCENARIOS[scenario]
    worker_logging()

    async def main() -> list[DeadLetter]:
        async with Receiver(script) as receiver:
            notifiers = load(tmp_path, receiver)
            if scenario != "unreachable":
                return await deliver(notifiers, sink, trigger(item_alert("breached"), sink))
        return await deliver(notifiers, sink, trigger(item_alert("breached"), sink))

    dead = asyncio.run(main())

    output = "".join(capfd.readouterr())
    assert_no_secret(output)
    assert bool(dead) == (scenario in ("refused", "unreachable"))
    if expected_event is not None:
        assert logged(output, expected_event), output
    assert_no_secret(" ".join(repr(letter.to_json()) for letter in dead))


@pytest.mark.usefixtures("saved_logging")
@pytest.mark.parametrize("sink", SINKS)
def test_an_exception_that_quotes_the_url_is_logged_without_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], sink: str
) -> None:
    worker_logging()

    async def main() -> None:
        async with Receiver([500]) as receiver:
            notifiers = load(tmp_path, receiver)
            (request,) = notifiers.sinks[sink].requests(trigger(item_alert("breached")), 0.0)[:1]
            async with httpx.AsyncClient() as client:
                response = await client.post(request.url, content=request.body)
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError:
                structlog.get_logger("slamon.test").exception("delivery_crashed")
                logging.getLogger("faust").exception("agent crashed")

    asyncio.run(main())

    output = "".join(capfd.readouterr())
    assert logged(output, "delivery_crashed")
    assert logged(output, "agent crashed")
    assert f"/{logs.MASK}" in output
    assert_no_secret(output)
