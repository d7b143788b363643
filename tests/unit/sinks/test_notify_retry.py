"""The retry wrapper: one classification table, Retry-After, backoff, rate limits, dead letters.

HTTP here goes through httpx's own MockTransport (no sockets); the loopback
receivers in tests/integration/test_sinks.py cover the real wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from monitor.domain.alerts import Alert, Subject
from monitor.domain.escalation import Notification
from monitor.metrics import Metrics
from monitor.sinks.base import RateLimit
from monitor.sinks.retry import (
    DeadLetter,
    Deliverer,
    RateLimiter,
    RetryPolicy,
    classify,
    retry_after,
)
from monitor.sinks.webhook import WebhookSink

STATUS_TABLE = [
    (100, "permanent"),
    (101, "permanent"),
    (103, "permanent"),
    (200, "done"),
    (201, "done"),
    (202, "done"),
    (204, "done"),
    (206, "done"),
    (299, "done"),
    (300, "permanent"),
    (301, "permanent"),
    (302, "permanent"),
    (304, "permanent"),
    (307, "permanent"),
    (308, "permanent"),
    (400, "permanent"),
    (401, "permanent"),
    (402, "permanent"),
    (403, "permanent"),
    (404, "permanent"),
    (405, "permanent"),
    (406, "permanent"),
    (407, "permanent"),
    (408, "retry"),
    (409, "permanent"),
    (410, "permanent"),
    (411, "permanent"),
    (413, "permanent"),
    (414, "permanent"),
    (415, "permanent"),
    (421, "permanent"),
    (422, "permanent"),
    (425, "permanent"),
    (426, "permanent"),
    (428, "permanent"),
    (429, "retry"),
    (431, "permanent"),
    (451, "permanent"),
    (499, "permanent"),
    (500, "retry"),
    (501, "retry"),
    (502, "retry"),
    (503, "retry"),
    (504, "retry"),
    (505, "retry"),
    (507, "retry"),
    (511, "retry"),
    (599, "retry"),
]


@pytest.mark.parametrize(
    ("status", "expected"), STATUS_TABLE, ids=[str(s) for s, _ in STATUS_TABLE]
)
def test_status_codes_are_classified(status: int, expected: str) -> None:
    assert classify(status) == expected


def test_the_table_covers_every_status_class() -> None:
    assert {status // 100 for status, _ in STATUS_TABLE} == {1, 2, 3, 4, 5}


REQUEST = httpx.Request("POST", "http://127.0.0.1:1/")
EXCEPTIONS = [
    (httpx.ConnectError("refused", request=REQUEST), "retry"),
    (httpx.ConnectTimeout("slow", request=REQUEST), "retry"),
    (httpx.ReadTimeout("slow", request=REQUEST), "retry"),
    (httpx.WriteTimeout("slow", request=REQUEST), "retry"),
    (httpx.PoolTimeout("busy", request=REQUEST), "retry"),
    (httpx.ReadError("reset", request=REQUEST), "retry"),
    (httpx.RemoteProtocolError("hung up", request=REQUEST), "retry"),
    (httpx.UnsupportedProtocol("ftp://", request=REQUEST), "permanent"),
    (httpx.InvalidURL("no host"), "permanent"),
    (TimeoutError(), "retry"),  # the attempt's total deadline
    (OverflowError("port out of range"), "permanent"),
    (ExceptionGroup("pool", [OSError("bad port")]), "permanent"),
    (ValueError("bug"), "permanent"),
]


@pytest.mark.parametrize(
    ("error", "expected"), EXCEPTIONS, ids=[type(e).__name__ for e, _ in EXCEPTIONS]
)
def test_transport_errors_are_classified(error: BaseException, expected: str) -> None:
    assert classify(error) == expected


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        (format_datetime(datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC), usegmt=True), 30.0),
        ("Fri, 20 Nov 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_takes_seconds_or_an_http_date(
    header: str | None, expected: float | None
) -> None:
    assert retry_after(header, NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [(1, 0.0, 0.5), (1, 1.0, 1.0), (2, 0.5, 1.5), (3, 0.0, 2.0), (10, 1.0, 60.0), (10, 0.0, 30.0)],
)
def test_backoff_doubles_with_half_of_it_jittered(
    attempt: int, rand: float, expected: float
) -> None:
    assert RetryPolicy(initial_backoff=1.0, max_backoff=60.0).backoff(attempt, rand) == expected


@pytest.mark.parametrize(
    ("server_says", "expected"), [(None, 1.0), (0.2, 1.0), (7.0, 7.0), (1000.0, 300.0)]
)
def test_retry_after_wins_over_a_shorter_backoff_up_to_a_cap(
    server_says: float | None, expected: float
) -> None:
    assert RetryPolicy(initial_backoff=1.0).wait(1, 1.0, server_says) == expected


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_the_token_bucket_spaces_requests_after_the_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RateLimit(per_second=2.0, burst=2), fake.clock, fake.sleep)

    async def take(count: int) -> None:
        for _ in range(count):
            await limiter.acquire()

    asyncio.run(take(5))
    assert fake.sleeps == [0.5, 0.5, 0.5]


def test_a_hold_pauses_the_sink_even_without_a_rate_limit() -> None:
    fake = FakeTime()
    limiter = RateLimiter(None, fake.clock, fake.sleep)
    limiter.hold_until(NOW + 3)
    asyncio.run(limiter.acquire())
    assert fake.sleeps == [3.0]


def note() -> Notification:
    alert = Alert(
        "acme",
        "asa",
        "breached",
        "critical",
        Subject("window", "asa"),
        45.0,
        30.0,
        NOW,
        "acme/asa: 45s outside target <= 30s",
    ).to_json()
    return Notification("hook", "trigger", 1, "critical", alert)


Handler = Callable[[httpx.Request], httpx.Response]


def deliver(answers: list[int | tuple[int, str] | Exception], attempts: int = 4):  # type: ignore[no-untyped-def]
    """Run one delivery against scripted answers; returns (ok, fake time, dead letters, metrics)."""
    fake = FakeTime()
    script = list(answers)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = script.pop(0) if script else 200
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):
            return httpx.Response(answer[0], headers={"Retry-After": answer[1]})
        return httpx.Response(answer)

    metrics = Metrics(CollectorRegistry())
    dead: list[DeadLetter] = []

    async def dead_letter(letter: DeadLetter) -> None:
        dead.append(letter)

    async def run() -> bool:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            deliverer = Deliverer(
                client,
                policy=RetryPolicy(max_attempts=attempts, initial_backoff=1.0, max_backoff=8.0),
                dead_letter=dead_letter,
                metrics=metrics,
                random=lambda: 1.0,
                clock=fake.clock,
                sleep=fake.sleep,
            )
            sink = WebhookSink("hook", "http://127.0.0.1:9/hook", SecretStr("s3cret"))
            return await deliverer.deliver(sink, note(), published_at=NOW)

    ok = asyncio.run(run())
    return ok, fake, dead, metrics, seen


def count(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "slamon_notifications_total", {"sink": "hook", "outcome": outcome}
    )
    return value or 0.0


def test_retries_until_accepted_honouring_retry_after() -> None:
    timeout = httpx.ReadTimeout("slow", request=REQUEST)
    ok, fake, dead, metrics, seen = deliver([500, (429, "5"), timeout])
    assert ok
    assert dead == []
    assert len(seen) == 4
    assert fake.sleeps == [1.0, 5.0, 4.0]
    assert (count(metrics, "sent"), count(metrics, "retry")) == (1, 3)
    retries = metrics.registry.get_sample_value(
        "slamon_notification_retries_total", {"sink": "hook"}
    )
    assert retries == 3
    assert metrics.registry.get_sample_value("slamon_notifications_pending", {"sink": "hook"}) == 0


def test_each_attempt_is_signed_with_its_own_timestamp() -> None:
    _, _, _, _, seen = deliver([503])
    stamps = [r.headers["X-Slamon-Timestamp"] for r in seen]
    assert stamps == [str(int(NOW)), str(int(NOW + 1))]


def test_after_max_attempts_the_notification_is_dead_lettered() -> None:
    ok, fake, dead, metrics, seen = deliver([500] * 10, attempts=4)
    assert not ok
    assert len(seen) == 4
    assert fake.sleeps == [1.0, 2.0, 4.0]
    (letter,) = dead
    assert (letter.sink, letter.attempts) == ("hook", 4)
    assert letter.reason == "gave up after HTTP 500"
    assert letter.to_json()["alert"]["fingerprint"] == note().fingerprint
    assert (count(metrics, "retry"), count(metrics, "dead_letter"), count(metrics, "sent")) == (
        3,
        1,
        0,
    )


def test_a_permanent_error_is_dead_lettered_at_once() -> None:
    ok, fake, dead, metrics, _ = deliver([400])
    assert not ok
    assert fake.sleeps == []
    assert [d.reason for d in dead] == ["permanent: HTTP 400"]
    assert (count(metrics, "failed"), count(metrics, "dead_letter")) == (1, 1)
