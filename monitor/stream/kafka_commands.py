"""``slamon produce`` and ``slamon simulate --kafka``: the CLI side of publishing to Kafka.

Both need configured brokers (``SLAMON_KAFKA_BROKERS`` or the config file): the
embedded broker lives only as long as the process that starts it, so publishing
into a fresh one and exiting would lose everything. ``slamon demo`` is the
command that brings its own broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.domain.agreement import Agreement
from monitor.domain.errors import RuntimeFailureError, UsageError
from monitor.settings import Settings
from monitor.simulate import simulate
from monitor.stream.produce import ProduceStats, produce_file
from monitor.stream.simulate_live import LiveStats, publish_live

__all__ = [
    "NoBrokersError",
    "kafka_failures",
    "parse_start",
    "produce",
    "require_brokers",
    "simulate_to_kafka",
    "stop_on_sigint",
]

NO_BROKERS: Final = (
    "no Kafka brokers configured: set SLAMON_KAFKA_BROKERS=host:port[,host:port] "
    "(or kafka_brokers in the SLAMON_CONFIG file). `slamon demo` starts an embedded broker "
    "of its own."
)


class NoBrokersError(UsageError):
    """A command that publishes to Kafka was run without brokers configured."""


@contextlib.contextmanager
def kafka_failures(settings: Settings) -> Iterator[None]:
    """Turn a Kafka client error (brokers unreachable, request timed out) into one line.

    aiokafka also logs each failed connection attempt; a short-lived command says it
    once, in its own error, so those records are held back while it runs.
    """
    from aiokafka.errors import KafkaConnectionError, KafkaError

    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    servers = settings.bootstrap_servers
    try:
        yield
    except KafkaConnectionError as exc:
        raise RuntimeFailureError(
            f"cannot reach the Kafka brokers at {servers}: check that they are up and that "
            "SLAMON_KAFKA_BROKERS names them"
        ) from exc
    except KafkaError as exc:
        raise RuntimeFailureError(
            f"Kafka at {servers} failed the request: {type(exc).__name__} {exc}"
        ) from exc
    finally:
        client_log.setLevel(level)


def require_brokers(settings: Settings) -> Settings:
    if settings.embedded:
        raise NoBrokersError(NO_BROKERS)
    return settings


def parse_start(text: str, *, now: datetime | None = None) -> datetime:
    """An RFC 3339 instant with an offset, or ``now`` (the current minute, UTC)."""
    if text.strip().lower() == "now":
        moment = now or datetime.now(UTC)
        return moment.replace(second=0, microsecond=0)
    example = "e.g. 2026-11-20T18:00:00Z"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 instant or 'now', {example}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs an offset, {example}")
    return moment


def produce(path: Path, settings: Settings, console: Console) -> ProduceStats:
    """Publish a JSONL file; a progress bar on a TTY, a summary line always."""
    require_brokers(settings)
    with kafka_failures(settings):
        stats = asyncio.run(produce_file(path, settings, progress=console.is_terminal))
    dead = f", {stats.deadlettered} dead-lettered" if stats.deadlettered else ""
    console.print(
        f"produced {stats.produced} events from {path} to {settings.bootstrap_servers}{dead} "
        f"in {stats.elapsed_s:.1f}s ({stats.rate:,.0f}/s)"
    )
    for topic, count in sorted(stats.by_topic.items()):
        console.print(f"  {topic}: {count}")
    return stats


def simulate_to_kafka(
    agreements: Sequence[Agreement],
    settings: Settings,
    console: Console,
    *,
    start: datetime,
    hours: float,
    seed: int,
    speed: float,
    max_wall_s: float | None,
) -> LiveStats:
    """Publish simulated traffic live until the span ends, ``max_wall_s`` passes or Ctrl-C."""
    require_brokers(settings)
    span = timedelta(hours=hours)
    events = simulate(agreements, start=start, duration=span, seed=seed)
    pace = f"{speed:g}x real time" if speed else "as fast as possible"
    announced = False

    def announce() -> None:
        """Said once the brokers took the first event, so a failure is the only line."""
        nonlocal announced
        if not announced:
            announced = True
            console.print(
                f"publishing simulated traffic for {len(agreements)} contract(s) from "
                f"{start.isoformat()} ({hours:g} h, {pace}) to {settings.bootstrap_servers}; "
                "Ctrl-C stops"
            )

    async def run() -> LiveStats:
        stop = asyncio.Event()
        with stop_on_sigint(stop), _sim_progress(console, span.total_seconds()) as show:

            def on_sent(stats: LiveStats) -> None:
                announce()
                show(stats, start.timestamp())

            return await publish_live(
                events,
                settings,
                start=start.timestamp(),
                speed=speed,
                max_wall_s=max_wall_s,
                stop=stop,
                on_sent=on_sent,
            )

    with kafka_failures(settings):
        stats = asyncio.run(run())
    announce()
    reached = datetime.fromtimestamp(stats.sim_time, UTC).isoformat() if stats.sim_time else "-"
    why = "end of the simulated span" if stats.finished else "stopped"
    console.print(
        f"sent {stats.sent} events in {stats.elapsed_s:.1f}s, simulated time reached "
        f"{reached} ({why})"
    )
    return stats


@contextlib.contextmanager
def stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """First Ctrl-C sets ``stop`` (a clean finish); the handler is then removed."""
    loop = asyncio.get_running_loop()

    def first_interrupt() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, first_interrupt)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


@contextlib.contextmanager
def _sim_progress(console: Console, span_s: float) -> Iterator[Callable[[LiveStats, float], None]]:
    """A bar over simulated time on a TTY; a no-op elsewhere."""
    if not console.is_terminal or span_s <= 0:
        yield lambda _stats, _start: None
        return
    columns = (
        TextColumn("[bold]simulate[/bold]"),
        BarColumn(),
        TextColumn("{task.fields[sim]}  {task.fields[sent]} sent"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("simulate", total=span_s, sim="", sent=0)

        def show(stats: LiveStats, start: float) -> None:
            if stats.sim_time is None or stats.sent % 50:
                return
            sim = datetime.fromtimestamp(stats.sim_time, UTC).strftime("%a %H:%M UTC")
            bar.update(task, completed=stats.sim_time - start, sim=sim, sent=stats.sent)

        yield show
