"""``slamon produce``: publish a JSONL events file to the event topics.

Each line is routed by its type family (``call.*`` → calls topic, ``chat.*`` →
chats, ``ticket.*`` → tickets, ``survey.*`` → surveys, ``service.*`` → services)
and keyed by ``contract_id``; the value is the line's original bytes. Only
routing is checked here (a JSON object with string ``type`` and ``contract_id``
and a known family): the worker validates every field and dead-letters the rest
with the source offset. A line that cannot be routed is not lost: it goes to the
dead-letter topic with its original bytes and ``slamon-reason`` /
``slamon-error`` / ``slamon-source`` headers (a line too long to be an event:
its first bytes, reason ``too_large``; it is never read whole). Blank lines
are skipped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaProducer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from monitor.domain.events import (
    INVALID_ENCODING,
    INVALID_JSON,
    MISSING_FIELD,
    NOT_OBJECT,
    TOO_LARGE,
    UNKNOWN_TYPE,
    WRONG_TYPE,
)
from monitor.replay import CutLine, read_lines
from monitor.settings import Settings, Topics

__all__ = [
    "HEADER_ERROR",
    "HEADER_REASON",
    "HEADER_SOURCE",
    "ProduceStats",
    "Routed",
    "produce_file",
    "route_line",
]

HEADER_REASON: Final = "slamon-reason"
HEADER_ERROR: Final = "slamon-error"
HEADER_SOURCE: Final = "slamon-source"

#: Type family (the part of ``type`` before the first dot) → attribute of :class:`Topics`.
FAMILIES: Final = {
    "call": "calls",
    "chat": "chats",
    "ticket": "tickets",
    "survey": "surveys",
    "service": "services",
}

#: Throughput over latency: a file is a backlog, not live traffic.
PRODUCER_TUNING: Final[dict[str, Any]] = {
    "acks": "all",
    "linger_ms": 20,
    "max_batch_size": 512 * 1024,
    "max_request_size": 4 * 1024 * 1024,
}

_FLUSH_EVERY: Final = 10_000
_BAR_CHUNK_BYTES: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Routed:
    """Where one input line goes: a topic and key, plus the reason if it is dead-lettered."""

    topic: str
    key: bytes | None
    reason: str | None = None
    error: str | None = None


@dataclass(slots=True)
class ProduceStats:
    """What ``produce_file`` did; ``by_topic`` includes the dead-letter topic."""

    lines: int = 0
    blank: int = 0
    produced: int = 0
    deadlettered: int = 0
    bytes: int = 0
    elapsed_s: float = 0.0
    by_topic: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Records per second, dead letters included."""
        sent = self.produced + self.deadlettered
        return sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def route_line(line: bytes, topics: Topics) -> Routed:
    """Decide the topic and key of one non-blank line (pure: no I/O)."""
    dead = topics.deadletter
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Routed(dead, None, INVALID_ENCODING, f"not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return Routed(dead, None, INVALID_JSON, f"not JSON: {exc}")
    if not isinstance(obj, dict):
        return Routed(dead, None, NOT_OBJECT, "an event must be a JSON object")
    for name in ("type", "contract_id"):
        if name not in obj:
            return Routed(dead, None, MISSING_FIELD, f"{name}: field required")
        if not isinstance(obj[name], str) or not obj[name]:
            return Routed(dead, None, WRONG_TYPE, f"{name}: must be a non-empty string")
    event_type: str = obj["type"]
    prefix, dot, _action = event_type.partition(".")
    family = FAMILIES.get(prefix) if dot else None
    if family is None:
        return Routed(dead, None, UNKNOWN_TYPE, f"type: unknown event type {event_type[:60]!r}")
    contract_id: str = obj["contract_id"]
    return Routed(getattr(topics, family), contract_id.encode("utf-8"))


async def produce_file(path: Path, settings: Settings, *, progress: bool) -> ProduceStats:
    """Publish every line of ``path``; returns once all records are acknowledged."""
    stats = ProduceStats()
    started = time.monotonic()
    producer = AIOKafkaProducer(**settings.kafka_client_kwargs(), **PRODUCER_TUNING)
    try:
        await producer.start()  # inside: a failed start (no broker) must still close it
        with _progress_bar(path, enabled=progress) as advance:

            def read(size: int) -> None:
                stats.bytes += size
                advance(size)

            pending: list[asyncio.Future[Any]] = []
            for number, line in enumerate(read_lines(path, read), start=1):
                stats.lines += 1
                if not line.strip():
                    stats.blank += 1
                    continue
                if isinstance(line, CutLine):  # only its first bytes were read into memory
                    routed = Routed(settings.topics.deadletter, None, TOO_LARGE, line.problem())
                else:
                    routed = route_line(line, settings.topics)
                pending.append(
                    await producer.send(
                        routed.topic,
                        value=line,
                        key=routed.key,
                        headers=_headers(routed, path, number),
                    )
                )
                _count(stats, routed)
                if len(pending) >= _FLUSH_EVERY:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    stats.elapsed_s = time.monotonic() - started
    return stats


def _headers(routed: Routed, path: Path, number: int) -> list[tuple[str, bytes]] | None:
    if routed.reason is None:
        return None
    return [
        (HEADER_REASON, routed.reason.encode()),
        (HEADER_ERROR, (routed.error or "").encode()),
        (HEADER_SOURCE, f"{path}:{number}".encode()),
    ]


def _count(stats: ProduceStats, routed: Routed) -> None:
    stats.by_topic[routed.topic] += 1
    if routed.reason is None:
        stats.produced += 1
    else:
        stats.deadlettered += 1
        stats.by_reason[routed.reason] += 1


@contextmanager
def _progress_bar(path: Path, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(nbytes)``: a rich progress bar over the file's bytes, or a no-op.

    Bytes are handed to rich in chunks so the bar costs nothing per line.
    """
    if not enabled:
        yield lambda _n: None
        return
    columns = (
        TextColumn("[bold]produce[/bold] {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(path.name, total=path.stat().st_size)
        unreported = 0

        def advance(nbytes: int) -> None:
            nonlocal unreported
            unreported += nbytes
            if unreported >= _BAR_CHUNK_BYTES:
                bar.advance(task, unreported)
                unreported = 0

        yield advance
        bar.advance(task, unreported)
