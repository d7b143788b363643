"""The live worker: one stateful Faust agent around :class:`~monitor.stream.processor.Processor`.

Wiring only (DESIGN.md §1, §7):

- one agent, ``concurrency=1``, reads the five event topics, the re-keying topic
  and the ticks topic (all co-partitioned) and hands each record to the processor;
- what the processor returns is published (alerts keyed by fingerprint, dead
  letters, re-keyed events);
- every ``checkpoint_events`` records or ``checkpoint_interval_s`` seconds the
  partition's checkpoint (engine snapshot + source offsets) is written to the
  changelog-backed table ``engine-state``, from inside stream iteration and after
  the producer flushed everything sent before it;
- after each (re)assignment and table recovery, every source is sought to the
  offsets saved in the checkpoint, not to Faust's committed offsets;
- a timer on every worker sends one tick per owned partition to the ticks topic
  and refreshes the lag gauges.

Entry points: :func:`run_worker` (blocking; a thread or the main thread) and
:meth:`Worker.serve` (async). ``attach`` callables get the app before it starts,
to add more agents (e.g. the notifier) to the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog
from faust.types import TP

from monitor.domain.agreement import Agreement
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.stream.faust_app import SlamonApp, make_app
from monitor.stream.health import HealthServer
from monitor.stream.processor import Outgoing, Processor, Record, watermark_lag
from monitor.stream.ticks import encode_tick
from monitor.stream.topics import ensure_topics

__all__ = ["STATE_TABLE", "Attach", "Worker", "run_worker"]

log = structlog.get_logger("slamon.worker")

Attach = Callable[[SlamonApp], None]

#: The changelog-backed table holding one checkpoint per partition (key ``p<N>``).
STATE_TABLE = "engine-state"
_STOP_TIMEOUT_S = 30.0
_GAUGE_INTERVAL_S = 5.0


def _state_key(partition: int) -> str:
    return f"p{partition}"


class Worker:
    """A slamon worker process: build the app, run it, stop it cleanly."""

    def __init__(
        self,
        settings: Settings,
        agreements: Sequence[Agreement],
        metrics: Metrics | None = None,
        *,
        attach: Iterable[Attach] = (),
        serve_http: bool = True,
    ) -> None:
        if settings.embedded:
            raise ValueError("Worker needs kafka_brokers: start the embedded broker first")
        self.settings = settings
        self.agreements = list(agreements)
        self.metrics = metrics or Metrics()
        self.attach = list(attach)
        self.serve_http = serve_http
        self.app: SlamonApp | None = None
        self.processor: Processor | None = None
        self.http: HealthServer | None = None
        self.ready = False
        self._on_ready: Callable[[], None] | None = None
        self._last_gauges = 0.0

    # -- lifecycle ------------------------------------------------------------------

    async def serve(
        self,
        *,
        stop: asyncio.Event,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Run until ``stop`` is set; ``on_ready`` is called after the first recovery."""
        self._on_ready = on_ready
        partitions = await ensure_topics(self.settings)
        app = self.build(partitions)
        self.metrics.agreements_loaded.set(len(self.agreements))
        self.metrics.build_info.info({"role": "worker"})
        if self.serve_http:
            self.http = HealthServer(
                self.metrics.registry, lambda: self.ready, port=self.settings.metrics_port
            ).start()
            log.info("metrics_serving", port=self.http.port, path="/metrics")
        log.info(
            "worker_starting",
            partitions=partitions,
            agreements=len(self.agreements),
            settings=self.settings.redacted(),
        )
        try:
            await app.start()
            await stop.wait()
        finally:
            log.info("worker_stopping")
            self.ready = False
            self.metrics.worker_ready.set(0)
            try:
                await asyncio.wait_for(app.stop(), _STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("worker_stop_timeout", timeout_s=_STOP_TIMEOUT_S)
            if self.http is not None:
                self.http.stop()
            log.info("worker_stopped")

    def build(self, partitions: int) -> SlamonApp:
        """The Faust app with the stateful agent, the tick timer and attached agents."""
        settings = self.settings
        topics = settings.topics
        app = make_app(settings, topic_partitions=partitions)
        self.app = app
        raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
        source = app.topic(*topics.inputs(), topics.rekey, topics.ticks, **raw)
        table = app.Table(
            STATE_TABLE,
            default=None,
            partitions=partitions,
            key_type=str,
            value_type=bytes,
        )
        tps: dict[tuple[str, int], TP] = {}

        def end_offset(topic: str, partition: int) -> int | None:
            tp = tps.get((topic, partition))
            if tp is None:
                tp = tps[(topic, partition)] = TP(topic, partition)
            try:
                highwater = app.consumer.highwater(tp)
            except (AssertionError, KeyError, AttributeError):
                return None
            return int(highwater) if highwater is not None else None

        processor = Processor(
            settings,
            self.agreements,
            self.metrics,
            end_offset=end_offset,
            load_checkpoint=lambda partition: table.get(_state_key(partition)),
        )
        self.processor = processor

        async def publish(outgoing: list[Outgoing]) -> None:
            producer = app.producer
            for out in outgoing:
                await producer.send(out.topic, out.key, out.value, None, None, list(out.headers))

        async def engine_agent(stream: Any) -> None:
            async for event in stream.events():
                message = event.message
                now = time.time()
                record = Record(
                    message.topic,
                    message.partition,
                    message.offset,
                    message.key,
                    message.value,
                    _headers(message.headers),
                    message.timestamp,
                )
                outgoing = processor.handle(record, now)
                if outgoing:
                    await publish(outgoing)
                state = processor.states.get(message.partition)
                if state is not None and processor.checkpoint_due(state, now):
                    await app.producer.flush()
                    table[_state_key(message.partition)] = state.encode()
                    processor.checkpointed(state, now)

        app.agent(source, name="slamon-engine", concurrency=1)(engine_agent)

        async def resume_from_state() -> None:
            await self._resume(app, processor)

        app.after_seek = resume_from_state

        async def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            revoked: set[TP] = args[0] if args else kwargs.get("revoked", set())
            self.ready = False
            self.metrics.worker_ready.set(0)
            processor.drop({tp.partition for tp in revoked if tp.topic in processor.sources})

        app.on_partitions_revoked.connect(on_revoked)

        async def tick() -> None:
            await self._tick(app, processor)

        app.timer(settings.tick_interval_s, on_leader=False, name="slamon-ticks")(tick)
        for attach in self.attach:
            attach(app)
        return app

    # -- assignment -----------------------------------------------------------------

    async def _resume(self, app: SlamonApp, processor: Processor) -> None:
        """Seek every assigned source to its checkpoint's offset (or the beginning)."""
        consumer = app.consumer
        assigned = set(consumer.assignment())
        partitions = {tp.partition for tp in assigned if tp.topic in processor.sources}
        processor.drop(set(processor.states) - partitions)
        targets = processor.resume(partitions)
        from_start: list[TP] = []
        for (topic, partition), offset in sorted(targets.items()):
            tp = TP(topic, partition)
            if tp not in assigned:
                continue
            if offset is None:
                from_start.append(tp)
            else:
                await consumer.seek(tp, offset)
        if from_start:
            earliest = await consumer.earliest_offsets(*from_start)
            for tp in from_start:
                offset = int(earliest.get(tp) or 0)
                await consumer.seek(tp, offset)
                processor.set_position(tp.topic, tp.partition, offset)
        log.info(
            "partitions_resumed",
            partitions=sorted(partitions),
            from_checkpoint=sorted({p for (_, p), o in targets.items() if o is not None}),
        )
        self.ready = True
        self.metrics.worker_ready.set(1)
        if self._on_ready is not None:
            on_ready, self._on_ready = self._on_ready, None
            on_ready()

    # -- timer ----------------------------------------------------------------------

    async def _tick(self, app: SlamonApp, processor: Processor) -> None:
        """Send one tick per owned partition; refresh the lag gauges."""
        ticks = self.settings.topics.ticks
        try:
            assigned = set(app.consumer.assignment())
        except Exception:  # consumer not started yet
            return
        now = time.time()
        for partition in sorted({tp.partition for tp in assigned if tp.topic == ticks}):
            await app.producer.send(ticks, None, encode_tick(partition, now), partition, None, None)
        if now - self._last_gauges >= min(_GAUGE_INTERVAL_S, self.settings.tick_interval_s * 5):
            self._last_gauges = now
            self._update_gauges(processor, assigned, now)

    def _update_gauges(self, processor: Processor, assigned: set[TP], now: float) -> None:
        metrics = self.metrics
        for tp in assigned:
            if tp.topic not in processor.sources:
                continue
            state = processor.states.get(tp.partition)
            progress = state.sources.get(tp.topic) if state is not None else None
            end = processor.end_offset(tp.topic, tp.partition)
            if progress is None or progress.next_offset is None or end is None:
                continue
            lag = max(0, end - progress.next_offset)
            metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
        for partition, state in list(processor.states.items()):
            lag_s = watermark_lag(state, now)
            if lag_s is not None:
                metrics.watermark_lag.labels(str(partition)).set(lag_s)


def _headers(headers: Any) -> tuple[tuple[str, bytes], ...]:
    if not headers:
        return ()
    items = headers.items() if isinstance(headers, dict) else headers
    return tuple((str(k), bytes(v) if v is not None else b"") for k, v in items)


def run_worker(
    settings: Settings,
    agreements: Sequence[Agreement],
    metrics: Metrics | None = None,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    attach: Iterable[Attach] = (),
    serve_http: bool = True,
) -> None:
    """Run a worker until ``stop`` is set, or SIGINT/SIGTERM on the main thread.

    ``settings.kafka_brokers`` must be set (start the embedded broker first, from
    the main thread). ``ready`` is set once partitions are assigned and recovered.
    """
    worker = Worker(settings, agreements, metrics, attach=attach, serve_http=serve_http)

    async def main() -> None:
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop_event.set)
        watcher = asyncio.create_task(_watch(stop, stop_event)) if stop is not None else None
        try:
            await worker.serve(stop=stop_event, on_ready=ready.set if ready else None)
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    asyncio.run(main())


async def _watch(stop: threading.Event, stop_event: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.1)
    stop_event.set()


def run_standalone(
    settings: Settings,
    agreements: Sequence[Agreement],
    *,
    warn: Callable[[str], None],
) -> None:
    """``slamon run``: logging, then the worker on the configured brokers or an embedded one."""
    from monitor.embedded_broker import EMBEDDED_BROKER_WARNING, EmbeddedBroker
    from monitor.logs import configure_logging
    from monitor.stream.notifier import notifier_attachments

    configure_logging(settings.log_level, settings.log_format)
    metrics = Metrics()
    attach = notifier_attachments(settings, agreements, metrics)
    if not settings.embedded:
        run_worker(settings, agreements, metrics, attach=attach)
        return
    warn(EMBEDDED_BROKER_WARNING)
    with EmbeddedBroker() as broker:
        log.warning("embedded_broker_started", bootstrap_servers=broker.bootstrap_servers)
        run_worker(
            settings.with_brokers(broker.bootstrap_servers), agreements, metrics, attach=attach
        )
