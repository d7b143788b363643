"""``slamon simulate --kafka``: publish simulated traffic live, paced by event time.

Events come from :func:`monitor.simulate.simulate` in event-time order. Each is
sent when the wall clock reaches ``(ts - start) / speed`` after the run began, so
``speed=1`` is real time and ``speed=360`` plays a day in four minutes
(``speed=0`` sends as fast as the producer goes). Routing is the file producer's:
the type family picks the topic, the key is ``contract_id``.

The run is bounded: it ends when the simulated span is exhausted, when
``max_wall_s`` wall seconds have passed, or when ``stop`` is set (Ctrl-C).
Everything handed to the producer is acknowledged before it returns.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import AIOKafkaProducer

from monitor.domain.timestamps import parse_instant
from monitor.settings import Settings, Topics
from monitor.stream.produce import FAMILIES

__all__ = ["LIVE_PRODUCER_TUNING", "LiveStats", "event_route", "publish_live"]

#: Latency over throughput: live events should reach the worker at once.
LIVE_PRODUCER_TUNING: Final[dict[str, Any]] = {"acks": "all", "linger_ms": 5}

_MAX_SLEEP_S: Final = 0.25  # re-check ``stop`` and the wall limit at least this often
_MAX_PENDING: Final = 5_000


@dataclass(slots=True)
class LiveStats:
    """What a live run sent; ``sim_time`` is the event time of the last event sent."""

    sent: int = 0
    elapsed_s: float = 0.0
    sim_time: float | None = None
    finished: bool = False  # the simulated span was exhausted (not cut by time or stop)
    by_topic: Counter[str] = field(default_factory=Counter)


def event_route(event: dict[str, Any], topics: Topics) -> tuple[str, bytes]:
    """Topic and key of a simulated event (always well-formed, unlike file lines)."""
    family = FAMILIES[str(event["type"]).partition(".")[0]]
    return getattr(topics, family), str(event["contract_id"]).encode("utf-8")


def _event_seconds(event: dict[str, Any]) -> float:
    return parse_instant(str(event["ts"]))


async def publish_live(
    events: Iterable[dict[str, Any]],
    settings: Settings,
    *,
    start: float,
    speed: float = 1.0,
    max_wall_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_sent: Callable[[LiveStats], None] | None = None,
) -> LiveStats:
    """Send ``events`` (event-time ordered, from ``start`` epoch seconds) paced by ``speed``."""
    if speed < 0:
        raise ValueError("speed must be >= 0 (0 = as fast as possible)")
    stats = LiveStats()
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), **LIVE_PRODUCER_TUNING)
    began = time.monotonic()
    pending: list[asyncio.Future[Any]] = []
    try:
        await producer.start()  # inside: a failed start (no broker) must still close it
        began = time.monotonic()
        for event in events:
            ts = _event_seconds(event)
            if not await _wait_until(
                began, (ts - start) / speed if speed else 0.0, max_wall_s, stop
            ):
                break
            topic, key = event_route(event, settings.topics)
            pending.append(await producer.send(topic, value=encode(event).encode(), key=key))
            stats.sent += 1
            stats.sim_time = ts
            stats.by_topic[topic] += 1
            if on_sent is not None:
                on_sent(stats)
            if len(pending) >= _MAX_PENDING:
                await asyncio.gather(*pending)
                pending.clear()
        else:
            stats.finished = True
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
        stats.elapsed_s = time.monotonic() - began
    return stats


async def _wait_until(
    began: float, due_s: float, max_wall_s: float | None, stop: asyncio.Event | None
) -> bool:
    """Sleep until ``due_s`` after ``began``; False when stopped or past the wall limit first."""
    while True:
        if stop is not None and stop.is_set():
            return False
        elapsed = time.monotonic() - began
        if max_wall_s is not None and (elapsed >= max_wall_s or due_s >= max_wall_s):
            return False
        if elapsed >= due_s:
            return True
        await asyncio.sleep(min(due_s - elapsed, _MAX_SLEEP_S))
