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
from monitor.domain.errors import MonitorError
from monitor.domain.status import ObjectiveStatus
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.stream.faust_app import PRODUCER_MAX_REQUEST_SIZE, SlamonApp, make_app
from monitor.stream.gauges import ObjectiveGauges, partition_of
from monitor.stream.health import HealthServer
from monitor.stream.processor import Outgoing, Processor, Record, watermark_lag
from monitor.stream.ticks import encode_tick
from monitor.stream.topics import ensure_topics

__all__ = ["STATE_TABLE", "Attach", "Worker", "WorkerCrashedError", "run_standalone", "run_worker"]

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
        self.crashed = False
        self.partitions = 0
        self.gauges = ObjectiveGauges(self.metrics)
        self._on_ready: Callable[[], None] | None = None
        self._last_gauges = 0.0
        self._resumed_partitions: set[int] = set()
        self._lag_series: set[tuple[str, str]] = set()
        self._watermark_series: set[str] = set()
        self._from_checkpoint: set[int] = set()

    # -- lifecycle ------------------------------------------------------------------

    async def serve(
        self,
        *,
        stop: asyncio.Event,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Run until ``stop`` is set; ``on_ready`` is called after the first recovery."""
        self._on_ready = on_ready
        partitions = self.partitions = await ensure_topics(self.settings)
        app = self.build(partitions)
        self.metrics.agreements_loaded.set(len(self.agreements))
        self.metrics.build_info.info({"role": "worker"})
        if self.serve_http:
            self.http = HealthServer(
                self.metrics.registry,
                lambda: self.ready,
                alive=lambda: not self.crashed,
                port=self.settings.metrics_port,
            ).start()
            log.info("metrics_serving", port=self.http.port, path="/metrics")
        log.info(
            "worker_starting",
            partitions=partitions,
            agreements=len(self.agreements),
            settings=self.settings.redacted(),
        )
        crash: BaseException | None = None
        try:
            await app.start()
            crash = await _until_stopped_or_crashed(app, stop)
            if crash is not None:
                self.crashed = True
                log.error("worker_crashed", reason=repr(crash))
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
        if crash is not None:
            raise WorkerCrashedError(f"the Faust app crashed: {crash!r}") from crash

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
            # a checkpoint is one record: let a real cluster take what the producer sends
            extra_topic_configs={"max.message.bytes": str(PRODUCER_MAX_REQUEST_SIZE)},
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

        def resume_offsets(tps: set[TP]) -> dict[TP, int]:
            return self._resume_offsets(app, processor, tps)

        async def on_resumed() -> None:
            await self._on_resumed(app, processor)

        app.resume_offsets = resume_offsets
        app.on_resumed = on_resumed

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

    def _resume_offsets(self, app: SlamonApp, processor: Processor, tps: set[TP]) -> dict[TP, int]:
        """Reload the resumed partitions' checkpoints; their sources resume from them."""
        partitions = {tp.partition for tp in tps if tp.topic in processor.sources}
        targets = processor.resume(partitions)
        self._resumed_partitions |= partitions
        self._from_checkpoint |= {p for p in partitions if processor.states[p].restored}
        return {
            TP(topic, p): offset for (topic, p), offset in targets.items() if TP(topic, p) in tps
        }

    async def _on_resumed(self, app: SlamonApp, processor: Processor) -> None:
        """After a rebalance: forget revoked partitions, log, become ready."""
        assigned = set(app.consumer.assignment())
        partitions = {tp.partition for tp in assigned if tp.topic in processor.sources}
        processor.drop(set(processor.states) - partitions)
        fresh = [
            TP(topic, p)
            for p in partitions - self._from_checkpoint
            for topic in processor.sources
            if TP(topic, p) in assigned
        ]
        if fresh:
            for tp, earliest in (await app.consumer.earliest_offsets(*fresh)).items():
                if earliest is not None:
                    processor.raise_position(tp.topic, tp.partition, int(earliest))
        log.info(
            "partitions_resumed",
            partitions=sorted(partitions),
            from_checkpoint=sorted(self._from_checkpoint & partitions),
        )
        self._resumed_partitions = set()
        self._from_checkpoint = set()
        self.ready = True
        self.metrics.worker_ready.set(1)
        if self._on_ready is not None:
            on_ready, self._on_ready = self._on_ready, None
            on_ready()

    def objective_status(self) -> list[ObjectiveStatus]:
        """Objectives of the contracts whose partition this worker owns, at its watermark.

        Safe to call from another thread every few seconds (e.g. a live view).
        """
        processor = self.processor
        if processor is None or not self.partitions:
            return []
        statuses: list[ObjectiveStatus] = []
        for partition, state in list(processor.states.items()):
            owned = {
                a.contract_id
                for a in self.agreements
                if partition_of(a.contract_id, self.partitions) == partition
            }
            if owned:
                statuses.extend(
                    s for s in state.engine.objective_status() if s.contract_id in owned
                )
        return statuses

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
        """Lag gauges of owned partitions; series of partitions that moved away are removed."""
        metrics = self.metrics
        lag_series: set[tuple[str, str]] = set()
        for tp in assigned:
            if tp.topic not in processor.sources:
                continue
            state = processor.states.get(tp.partition)
            progress = state.sources.get(tp.topic) if state is not None else None
            end = processor.end_offset(tp.topic, tp.partition)
            if progress is None or progress.next_offset is None or end is None:
                continue
            labels = (tp.topic, str(tp.partition))
            metrics.consumer_lag.labels(*labels).set(max(0, end - progress.next_offset))
            lag_series.add(labels)
        watermark_series: set[str] = set()
        for partition, state in list(processor.states.items()):
            lag_s = watermark_lag(state, now)
            if lag_s is not None:
                metrics.watermark_lag.labels(str(partition)).set(lag_s)
                watermark_series.add(str(partition))
        for labels in self._lag_series - lag_series:
            metrics.consumer_lag.remove(*labels)
        for partition_label in self._watermark_series - watermark_series:
            metrics.watermark_lag.remove(partition_label)
        self._lag_series, self._watermark_series = lag_series, watermark_series
        self.gauges.update(self.objective_status())


class WorkerCrashedError(MonitorError):
    """A Faust service of the worker crashed; the process should exit and be restarted."""


async def _until_stopped_or_crashed(app: SlamonApp, stop: asyncio.Event) -> BaseException | None:
    """Wait for ``stop`` or for the app (or one of its services) to crash."""
    stopped = asyncio.ensure_future(stop.wait())
    crashed = asyncio.ensure_future(app._crashed.wait())
    try:
        await asyncio.wait({stopped, crashed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in (stopped, crashed):
            future.cancel()
    if app._crashed.is_set() and not stop.is_set():
        reason: BaseException | None = app.crash_reason
        return reason or RuntimeError("crashed")
    return None


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
    try:
        if not settings.embedded:
            run_worker(settings, agreements, metrics, attach=attach)
            return
        warn(EMBEDDED_BROKER_WARNING)
        with EmbeddedBroker() as broker:
            log.warning("embedded_broker_started", bootstrap_servers=broker.bootstrap_servers)
            run_worker(
                settings.with_brokers(broker.bootstrap_servers), agreements, metrics, attach=attach
            )
    except WorkerCrashedError as exc:
        raise SystemExit(f"slamon run: {exc}") from exc
