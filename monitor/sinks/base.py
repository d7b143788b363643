"""The notifier contract: a sink turns a :class:`Notification` into HTTP requests, nothing more.

Sending, retries, backoff, Retry-After and rate limits live in
:mod:`monitor.sinks.retry` only. Secrets (``SecretStr``) are unwrapped here, in
``requests()``, and never reach a ``repr`` or a log line: :class:`Request` shows
its sink and method only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.domain.alerts import format_instant
from monitor.domain.escalation import Notification

__all__ = ["RateLimit", "Request", "Sink", "deadline", "json_body", "observed_vs_target"]

Signer = Callable[[bytes, float], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``per_second`` requests a second on average, ``burst`` at once."""

    per_second: float
    burst: int = 1


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request; ``sign(body, now)`` adds headers at each attempt (fresh timestamps)."""

    sink: str
    method: str
    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    sign: Signer | None = field(default=None, repr=False)

    def headers_at(self, now: float) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.headers}
        if self.sign is not None:
            headers.update(self.sign(self.body, now))
        return headers


class Sink(Protocol):
    """One configured integration: its name, type, rate limit and payload builder."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def rate_limit(self) -> RateLimit | None: ...

    def requests(self, note: Notification, now: float) -> list[Request]: ...


def json_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def observed_vs_target(alert: Mapping[str, Any]) -> str:
    """``72% vs target 80%``; ratios (both in [0, 1]) as percents, other values as numbers."""
    observed, target = alert.get("observed"), alert.get("target")
    if target is None:
        return "n/a" if observed is None else _number(observed, ratio=False)
    ratio = 0 <= target <= 1 and (observed is None or 0 <= observed <= 1)
    shown = "n/a" if observed is None else _number(observed, ratio=ratio)
    return f"{shown} vs target {_number(target, ratio=ratio)}"


def deadline(alert: Mapping[str, Any]) -> str | None:
    """The item's deadline (per-item objectives), else None."""
    value = alert.get("annotations", {}).get("deadline")
    return value if isinstance(value, str) and value != "n/a" else None


def summary(note: Notification) -> str:
    annotations = note.alert.get("annotations", {})
    text = annotations.get("summary") or (
        f"{note.alert['contract_id']}/{note.alert['objective_id']} {note.alert['state']}"
    )
    return str(text)


def event_time(note: Notification) -> str:
    return str(note.alert["event_time"])


def now_text(now: float) -> str:
    return format_instant(now)


def _number(value: float, *, ratio: bool) -> str:
    return f"{value * 100:.4g}%" if ratio else f"{value:.6g}"
