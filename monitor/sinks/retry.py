"""The one place notifications are sent: classification, backoff, Retry-After, rate limits.

Modelled on alertmanager's ``notify/retry_stage.go``: every sink only builds
requests; :class:`Deliverer` sends them, classifies each answer with
:func:`classify`, waits (exponential backoff with jitter, or the server's
Retry-After, whichever is longer), respects a per-sink token bucket, and after
``max_attempts`` (or a permanent error) hands the notification to the
dead-letter callback. Nothing is dropped silently: every end is counted in
``slamon_notifications_total{sink,outcome}``.

A hostile or broken server cannot hold a sender: each attempt, from connecting
to the last byte of the answer, has one total deadline (``timeout``; httpx's own
timeouts are per read, so a body trickling one byte a second never trips them),
and at most ``max_response_bytes`` of the answer are read (we only need its
status and headers).
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
import structlog

from monitor.domain.escalation import Notification
from monitor.metrics import Metrics
from monitor.sinks.base import RateLimit, Request, Sink

__all__ = [
    "MAX_RESPONSE_BYTES",
    "Classification",
    "DeadLetter",
    "Deliverer",
    "RateLimiter",
    "RetryPolicy",
    "classify",
    "retry_after",
]

Classification = Literal["done", "retry", "permanent"]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]

log = structlog.get_logger("slamon.notify")

MAX_RESPONSE_BYTES = 64 * 1024


def classify(answer: int | BaseException) -> Classification:
    """HTTP status or transport exception → done, retry or permanent.

    2xx is done. 408, 429 and 5xx are retried, and so are timeouts (httpx's or
    the attempt's deadline) and network errors (no answer at all). Everything
    else is permanent: other 4xx (the request itself is wrong), 1xx and 3xx as
    final answers (a misconfigured URL), a malformed URL or unsupported scheme,
    and any non-transport error.
    """
    if isinstance(answer, TimeoutError):
        return "retry"
    if isinstance(answer, BaseException):
        if isinstance(answer, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return "permanent"
        return "retry" if isinstance(answer, httpx.TransportError) else "permanent"
    if 200 <= answer < 300:
        return "done"
    if answer in (408, 429) or 500 <= answer < 600:
        return "retry"
    return "permanent"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt ``n`` waits ``min(max_backoff, initial * 2**(n-1))``, half of it jittered."""

    max_attempts: int = 8
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 300.0
    timeout: float = 10.0
    """Total deadline of one attempt: connect, send, and read the answer."""
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def backoff(self, attempt: int, rand: float) -> float:
        full = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        return full / 2 + full / 2 * rand

    def wait(self, attempt: int, rand: float, server_says: float | None) -> float:
        backoff = self.backoff(attempt, rand)
        if server_says is None:
            return backoff
        return max(backoff, min(server_says, self.max_retry_after))


class RateLimiter:
    """A token bucket; ``hold_until`` pauses it (a 429's Retry-After applies to the whole sink)."""

    def __init__(self, limit: RateLimit | None, clock: Clock, sleep: Sleep) -> None:
        self._limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst) if limit else 0.0
        self._stamp = clock()
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    def hold_until(self, moment: float) -> None:
        self._held_until = max(self._held_until, moment)

    async def acquire(self) -> None:
        async with self._lock:
            while (pause := self._held_until - self._clock()) > 0:
                await self._sleep(pause)
            if self._limit is None:
                return
            self._refill()
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self._limit.per_second)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> None:
        assert self._limit is not None
        now = self._clock()
        self._tokens = min(
            float(self._limit.burst), self._tokens + (now - self._stamp) * self._limit.per_second
        )
        self._stamp = now


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A notification given up on: what, where, why, after how many attempts."""

    sink: str
    notification: Notification
    attempts: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        note = self.notification
        return {
            "sink": self.sink,
            "action": note.action,
            "level": note.level,
            "severity": note.severity,
            "attempts": self.attempts,
            "reason": self.reason,
            "alert": dict(note.alert),
        }


@dataclass(frozen=True, slots=True)
class _Attempted:
    ok: bool
    attempts: int
    reason: str


class Deliverer:
    """Sends notifications through sinks with retries; dead-letters what cannot be sent."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        policy: RetryPolicy,
        dead_letter: Callable[[DeadLetter], Awaitable[None]],
        metrics: Metrics | None = None,
        random: Callable[[], float] = _random.random,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._policy = policy
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._random = random
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[str, RateLimiter] = {}

    async def deliver(
        self, sink: Sink, note: Notification, published_at: float | None = None
    ) -> bool:
        """True once every request of ``note`` was accepted; False after dead-lettering it."""
        metrics = self._metrics
        if metrics is not None:
            metrics.notifications_pending.labels(sink.name).inc()
        try:
            results = [
                await self._send(sink, request) for request in sink.requests(note, self._clock())
            ]
        finally:
            if metrics is not None:
                metrics.notifications_pending.labels(sink.name).dec()
        failed = [r for r in results if not r.ok]
        if not failed:
            if metrics is not None and published_at is not None:
                delay = max(0.0, self._clock() - published_at)
                metrics.notification_delivery.labels(sink.name).observe(delay)
            return True
        worst = failed[0]
        await self._dead_letter(DeadLetter(sink.name, note, worst.attempts, worst.reason))
        self._count(sink.name, "dead_letter")
        log.error(
            "notification_dead_lettered",
            sink=sink.name,
            fingerprint=note.fingerprint,
            action=note.action,
            attempts=worst.attempts,
            reason=worst.reason,
        )
        return False

    def limiter(self, sink: Sink) -> RateLimiter:
        if sink.name not in self._limiters:
            self._limiters[sink.name] = RateLimiter(sink.rate_limit, self._clock, self._sleep)
        return self._limiters[sink.name]

    async def _send(self, sink: Sink, request: Request) -> _Attempted:
        limiter = self.limiter(sink)
        reason = ""
        for attempt in range(1, self._policy.max_attempts + 1):
            await limiter.acquire()
            answer, server_says = await self._attempt(request)
            verdict = classify(answer)
            reason = f"HTTP {answer}" if isinstance(answer, int) else type(answer).__name__
            if verdict == "done":
                self._count(sink.name, "sent")
                return _Attempted(True, attempt, reason)
            if verdict == "permanent":
                self._count(sink.name, "failed")
                return _Attempted(False, attempt, f"permanent: {reason}")
            if attempt == self._policy.max_attempts:
                break
            self._count(sink.name, "retry")
            if self._metrics is not None:
                self._metrics.notification_retries.labels(sink.name).inc()
            wait = self._policy.wait(attempt, self._random(), server_says)
            if server_says is not None:
                limiter.hold_until(self._clock() + wait)
            log.warning(
                "notification_retry",
                sink=sink.name,
                attempt=attempt,
                reason=reason,
                wait_s=round(wait, 3),
            )
            await self._sleep(wait)
        return _Attempted(False, self._policy.max_attempts, f"gave up after {reason}")

    async def _attempt(self, request: Request) -> tuple[int | BaseException, float | None]:
        policy = self._policy
        try:
            async with asyncio.timeout(policy.timeout):
                async with self._client.stream(
                    request.method,
                    request.url,
                    content=request.body,
                    headers=request.headers_at(self._clock()),
                    timeout=policy.timeout,
                ) as response:
                    await _read_at_most(response, policy.max_response_bytes)
        except Exception as exc:
            return exc, None
        return response.status_code, retry_after(response.headers.get("Retry-After"), self._clock())

    def _count(self, sink: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.notifications.labels(sink, outcome).inc()


async def _read_at_most(response: httpx.Response, limit: int) -> None:
    """Read (and drop) the answer's body up to ``limit`` bytes, so a short one frees the
    connection for reuse; a longer one is cut off when the response closes."""
    if response.is_stream_consumed:
        return  # built in memory (a mock transport): nothing left to read
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            return
