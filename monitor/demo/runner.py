"""``slamon demo``: embedded broker + live simulator + worker + a live view.

The order is fixed so that everything started is stopped, in reverse:

1. the broker: the configured one, else the embedded Tansu broker, started on
   the main thread (its parent-death signal is tied to that thread) with the
   warning that it keeps nothing;
2. the topics (created if missing, ``settings.partitions`` each);
3. the worker: ``slamon run`` as a subprocess in its own session, output in
   ``OUT/worker.log``, metrics on ``settings.metrics_port`` (another free port if
   that one is taken);
4. inside one asyncio loop: a consumer of the alerts topic (no consumer group,
   every partition from the beginning) folding alerts into an
   :class:`~monitor.demo.board.AlertBoard`, a scraper of the worker's /metrics,
   the simulator publishing live once the worker is ready, and the screen.

It stops at ``--duration``, on Ctrl-C, when the simulated span is over and the
worker has caught up, or when the worker dies; the worker is then stopped
(SIGTERM, SIGKILL after a timeout), then the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

import httpx
from rich.console import Console
from rich.live import Live

from monitor.demo.board import AlertBoard, MetricsSnapshot, objective_rows
from monitor.demo.processes import WorkerProcess, port_is_free
from monitor.demo.view import Header, final_tables, plain_summary, screen
from monitor.domain.agreement import Agreement
from monitor.settings import Settings
from monitor.simulate import simulate
from monitor.stream.embedded_broker import EMBEDDED_BROKER_WARNING, EmbeddedBroker, free_port
from monitor.stream.kafka_commands import stop_on_sigint
from monitor.stream.simulate_live import LiveStats, publish_live
from monitor.stream.topics import ensure_topics

__all__ = ["DemoOptions", "DemoResult", "next_working_day", "run_demo"]

READY_TIMEOUT_S: Final = 90.0  # Tansu delays a new group by ~half the session timeout
DRAIN_S: Final = 3.0  # once the worker caught up with the finished span, for the last alerts
SCRAPE_EVERY_S: Final = 1.0
DEMO_START_HOUR_UTC: Final = 1


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration_s: float | None = None
    speed: float = 360.0
    hours: float = 24.0
    seed: int = 1
    start: datetime | None = None  # default: next_working_day(now)
    out: Path = Path("out/demo")
    refresh_per_s: float = 2.0
    summary_every_s: float = 10.0


@dataclass(slots=True)
class DemoResult:
    alerts: int
    sent: int
    worker_exit: int | None
    reason: str
    objective_status: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Live:
    """Mutable state shared by the demo's tasks (one event loop, no locks needed)."""

    board: AlertBoard = field(default_factory=AlertBoard)
    metrics: MetricsSnapshot | None = None
    publish: LiveStats = field(default_factory=LiveStats)
    worker: str = "starting"
    ready: asyncio.Event = field(default_factory=asyncio.Event)


def next_working_day(now: datetime) -> datetime:
    """01:00 UTC of the first Monday-Friday after ``now``'s UTC date.

    01:00 UTC is 09:00 in Shanghai, when the Chinese agreements' desks open, so
    the demo has traffic and breaches from its first seconds. Simulated time runs
    ahead of the wall clock, never behind it: a worker whose idle watermark
    follows the wall clock then never overtakes the simulation.
    """
    day = (now.astimezone(UTC) + timedelta(days=1)).replace(
        hour=DEMO_START_HOUR_UTC, minute=0, second=0, microsecond=0
    )
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def run_demo(
    settings: Settings, agreements: Sequence[Agreement], options: DemoOptions, console: Console
) -> DemoResult:
    """Run the whole demo; returns after everything it started has stopped."""
    if not settings.embedded:
        return _with_broker(settings, agreements, options, console, embedded=False)
    console.print(f"[yellow]warning:[/yellow] {EMBEDDED_BROKER_WARNING}")
    with EmbeddedBroker() as broker:
        console.print(f"embedded broker on {broker.bootstrap_servers} (pid {broker.pid})")
        settings = settings.with_brokers(broker.bootstrap_servers)
        return _with_broker(settings, agreements, options, console, embedded=True)


def _with_broker(
    settings: Settings,
    agreements: Sequence[Agreement],
    options: DemoOptions,
    console: Console,
    *,
    embedded: bool,
) -> DemoResult:
    asyncio.run(ensure_topics(settings))
    port = settings.metrics_port
    if not port_is_free(port):
        port = free_port()
        console.print(f"port {settings.metrics_port} is taken: metrics on {port} instead")
    settings = settings.model_copy(update={"metrics_port": port})
    env = {
        "SLAMON_KAFKA_BROKERS": settings.bootstrap_servers,
        "SLAMON_METRICS_PORT": str(port),
        "SLAMON_RULES_DIR": str(settings.rules_dir),
        # simulated time starts on the next working day and runs faster than the clock
        "SLAMON_MAX_EVENT_FUTURE_S": str(7 * 86400 + options.hours * 3600),
    }
    options.out.mkdir(parents=True, exist_ok=True)
    with WorkerProcess(env, options.out / "worker.log") as worker:
        console.print(
            f"worker pid {worker.pid} (log {options.out / 'worker.log'}); "
            f"metrics at http://127.0.0.1:{port}/metrics"
        )
        run = _Run(settings, agreements, options, console, worker, embedded)
        reason = asyncio.run(run.main())
        live = run.live
        exit_code = worker.stop()
    rows = objective_rows(agreements, live.board, live.metrics)
    for table in final_tables(rows, live.board):
        console.print(table)
    if worker_died := reason == "worker exited":
        console.print(f"[red]the worker exited with code {exit_code}[/red]; its log ends:")
        console.print(worker.log_tail(), markup=False, highlight=False)
    console.print(
        f"demo ended ({reason}): {live.publish.sent} events sent, {live.board.total} alerts "
        f"({live.board.by_state['breached']} breached); alerts in {options.out / 'alerts.jsonl'}"
    )
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    return DemoResult(
        alerts=live.board.total,
        sent=live.publish.sent,
        worker_exit=exit_code if worker_died else None,
        reason=reason,
        objective_status=statuses,
    )


@dataclass
class _Run:
    """One live run: the tasks, the stop conditions and the screen."""

    settings: Settings
    agreements: Sequence[Agreement]
    options: DemoOptions
    console: Console
    worker: WorkerProcess
    embedded: bool
    live: _Live = field(default_factory=_Live)
    began: float = field(default_factory=time.monotonic)
    caught_up_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.metrics_port}/metrics"

    async def main(self) -> str:
        stop = asyncio.Event()
        start = self.options.start or next_working_day(datetime.now(UTC))
        out = self.options.out / "alerts.jsonl"
        with stop_on_sigint(stop), out.open("w", encoding="utf-8") as alerts_file:
            tasks = [
                asyncio.create_task(_consume_alerts(self.settings, self.live, alerts_file)),
                asyncio.create_task(_scrape(self.url, self.live, self.worker)),
                asyncio.create_task(
                    _publish(self.settings, self.agreements, self.options, start, self.live, stop)
                ),
            ]
            try:
                with self._screen() as show:
                    while (reason := self._why_stop(stop)) is None:
                        show()
                        await asyncio.sleep(1 / self.options.refresh_per_s)
            finally:
                stop.set()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        return reason

    def _why_stop(self, stop: asyncio.Event) -> str | None:
        live = self.live
        if stop.is_set():
            return "interrupted"
        if self.worker.returncode is not None:
            return "worker exited"
        duration = self.options.duration_s
        if duration is not None and time.monotonic() - self.began >= duration:
            return "duration reached"
        if not (live.publish.finished and _caught_up(live)):
            self.caught_up_at = None
        elif self.caught_up_at is None:
            self.caught_up_at = time.monotonic()
        elif time.monotonic() - self.caught_up_at >= DRAIN_S:
            return "simulated span done"
        return None

    def _header(self) -> Header:
        metrics = self.live.metrics
        return Header(
            brokers=self.settings.bootstrap_servers,
            embedded=self.embedded,
            metrics_url=self.url,
            elapsed_s=time.monotonic() - self.began,
            duration_s=self.options.duration_s,
            speed=self.options.speed,
            sim_time=self.live.publish.sim_time,
            sent=self.live.publish.sent,
            processed=metrics.total("slamon_events_total") if metrics else None,
            worker=self.live.worker,
        )

    @contextlib.contextmanager
    def _screen(self) -> Iterator[Callable[[], None]]:
        """Yield ``show()``: a rich Live screen on a TTY, a summary every few seconds else."""
        console, live = self.console, self.live
        if console.is_terminal:
            with Live(console=console, auto_refresh=False, transient=True) as screen_live:

                def show_tty() -> None:
                    rows = objective_rows(self.agreements, live.board, live.metrics)
                    frame = screen(self._header(), rows, live.board, console.height, console.width)
                    screen_live.update(frame, refresh=True)

                yield show_tty
            return
        last = -self.options.summary_every_s

        def show_plain() -> None:
            nonlocal last
            header = self._header()
            if header.elapsed_s - last < self.options.summary_every_s:
                return
            last = header.elapsed_s
            rows = objective_rows(self.agreements, live.board, live.metrics)
            console.print(plain_summary(header, rows, live.board), markup=False, highlight=False)

        yield show_plain


def _caught_up(live: _Live) -> bool:
    """The worker has processed everything that was sent (dead letters included)."""
    if live.metrics is None:
        return False
    processed = live.metrics.total("slamon_events_total") + live.metrics.total(
        "slamon_events_invalid_total"
    )
    return processed >= live.publish.sent


async def _consume_alerts(settings: Settings, live: _Live, sink: IO[str]) -> None:
    """Fold every alert on the alerts topic into the board (and copy it to a file)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        **settings.kafka_client_kwargs(),
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(settings.topics.alerts, number)
            for number in sorted(await _partitions(consumer, settings.topics.alerts))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, KeyError):
                        alert = json.loads(record.value)
                        live.board.add(alert)
                        sink.write(record.value.decode("utf-8", "replace") + "\n")
            sink.flush()
    finally:
        await consumer.stop()


async def _partitions(consumer: Any, topic: str) -> set[int]:
    for _ in range(50):
        await consumer.topics()
        found: set[int] | None = consumer.partitions_for_topic(topic)
        if found:
            return found
        await asyncio.sleep(0.2)
    raise RuntimeError(f"topic {topic} has no partitions")


async def _scrape(url: str, live: _Live, worker: WorkerProcess) -> None:
    """Read the worker's /metrics every second; readiness from ``slamon_worker_ready``."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                response = await client.get(url)
                if response.status_code == 200:
                    live.metrics = MetricsSnapshot.parse(response.text)
                    if live.metrics.get("slamon_worker_ready") == 1.0:
                        live.worker = "ready"
                        live.ready.set()
                    elif not live.ready.is_set():
                        live.worker = "joining"
            if worker.returncode is not None:
                live.worker = f"exited {worker.returncode}"
            await asyncio.sleep(SCRAPE_EVERY_S)


async def _publish(
    settings: Settings,
    agreements: Sequence[Agreement],
    options: DemoOptions,
    start: datetime,
    live: _Live,
    stop: asyncio.Event,
) -> None:
    """Start the simulator once the worker is ready (or after a timeout), then publish."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(live.ready.wait(), READY_TIMEOUT_S)
    events = simulate(
        agreements, start=start, duration=timedelta(hours=options.hours), seed=options.seed
    )

    def on_sent(stats: LiveStats) -> None:
        live.publish = stats

    live.publish = await publish_live(
        events,
        settings,
        start=start.timestamp(),
        speed=options.speed,
        stop=stop,
        on_sent=on_sent,
    )
