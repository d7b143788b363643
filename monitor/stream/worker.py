"""The live worker: a Faust app for the process, the engine as a service inside it.

Wiring only (docs/design.md):

- the Faust app owns the process: lifecycle, crash handling, attached agents
  (the notifier), timers, health and metrics;
- :class:`~monitor.stream.engine_service.EngineService`, registered on the app,
  reads the five event topics and the re-keying topic (co-partitioned) with its
  own aiokafka group consumer and drives :class:`~monitor.stream.processor.Processor`;
  checkpoints live in a compacted changelog topic and decide where every
  partition resumes;
- a timer refreshes the lag and objective gauges.

Entry points: :func:`run_worker` (blocking; a thread or the main thread) and
:meth:`Worker.serve` (async). ``attach`` callables get the app before it starts,
to add more agents (e.g. the notifier) to the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import structlog
from aiokafka.errors import KafkaError

from monitor.domain.agreement import Agreement
from monitor.domain.errors import MonitorError
from monitor.domain.status import ObjectiveStatus
from monitor.metrics import Metrics
from monitor.settings import Settings
from monitor.stream.engine_service import EngineService
from monitor.stream.faust_app import SlamonApp, make_app
from monitor.stream.gauges import ObjectiveGauges, partition_of
from monitor.stream.health import HealthServer
from monitor.stream.processor import Processor, watermark_lag
from monitor.stream.topics import ensure_topics

__all__ = ["Attach", "Worker", "WorkerCrashedError", "run_standalone", "run_worker"]

log = structlog.get_logger("slamon.worker")

Attach = Callable[[SlamonApp], None]

_STOP_TIMEOUT_S = 30.0
_GAUGE_INTERVAL_S = 5.0
_CRASH_POLL_S = 0.2
_RETRY_FIRST_S = 1.0
_RETRY_MAX_S = 30.0
#: Young-generation collections every 10,000 net allocations instead of 700: a batch
#: of a few thousand events allocates and frees far more than 700 objects, and each
#: collection scans every young object (``gc.freeze`` keeps start-up objects out).
WORKER_GC_THRESHOLDS = (10_000, 10, 100)


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
        self.engine: EngineService | None = None
        self.http: HealthServer | None = None
        self.ready = False
        self.crashed = False
        self.partitions = 0
        self.gauges = ObjectiveGauges(self.metrics)
        self._on_ready: Callable[[], None] | None = None
        self._lag_series: set[tuple[str, str]] = set()
        self._watermark_series: set[str] = set()
        self._contract_partitions: tuple[int, dict[int, list[str]]] = (0, {})

    # -- lifecycle ------------------------------------------------------------------

    async def serve(
        self,
        *,
        stop: asyncio.Event,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Run until ``stop`` is set; ``on_ready`` is called after the first recovery."""
        self._on_ready = on_ready
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
        try:
            partitions = await self._topics_when_reachable(stop)
        except BaseException:
            if self.http is not None:
                self.http.stop()
            raise
        if partitions is None:  # stopped while waiting for Kafka
            if self.http is not None:
                self.http.stop()
            return
        self.partitions = partitions
        app = self.build(partitions)
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

    async def _topics_when_reachable(self, stop: asyncio.Event) -> int | None:
        """``ensure_topics``, retried with backoff while Kafka cannot be reached.

        /readyz stays "not ready" meanwhile; ``None`` when ``stop`` is set first.
        """
        delay = _RETRY_FIRST_S
        attempt = 1
        while not stop.is_set():
            try:
                return await ensure_topics(self.settings)
            except KafkaError as exc:
                log.warning(
                    "kafka_unreachable",
                    brokers=self.settings.bootstrap_servers,
                    attempt=attempt,
                    retry_in_s=delay,
                    error=str(exc) or type(exc).__name__,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, _RETRY_MAX_S)
            attempt += 1
        return None

    def build(self, partitions: int) -> SlamonApp:
        """The Faust app with the engine service, the gauge timer and attached agents."""
        settings = self.settings
        app = make_app(settings, topic_partitions=partitions)
        self.app = app
        processor = Processor(
            settings,
            self.agreements,
            self.metrics,
            end_offset=lambda topic, partition: service.end_offset(topic, partition),
        )
        self.processor = processor
        service = EngineService(
            settings,
            processor,
            self.metrics,
            on_assigned=self._assigned,
            on_revoked=self._revoked,
            on_crash=app.crash,
        )
        self.engine = service
        app.add_dependency(service)

        async def refresh_gauges() -> None:
            self._update_lag_gauges(processor, service, time.time())
            self.gauges.update(await self._objective_status_in_turns(processor))

        app.timer(_GAUGE_INTERVAL_S, on_leader=False, name="slamon-gauges")(refresh_gauges)
        for attach in self.attach:
            attach(app)
        return app

    # -- assignment -----------------------------------------------------------------

    def _assigned(self, partitions: set[int], restored: set[int]) -> None:
        self.ready = True
        self.metrics.worker_ready.set(1)
        if self._on_ready is not None:
            on_ready, self._on_ready = self._on_ready, None
            on_ready()

    def _revoked(self) -> None:
        self.ready = False
        self.metrics.worker_ready.set(0)

    def objective_status(self) -> list[ObjectiveStatus]:
        """Objectives of the contracts whose partition this worker owns, at its watermark.

        Safe to call from another thread every few seconds (e.g. a live view).
        """
        processor = self.processor
        if processor is None:
            return []
        statuses: list[ObjectiveStatus] = []
        for partition, state in list(processor.states.items()):
            statuses.extend(state.engine.objective_status(self._contracts_of(partition)))
        return statuses

    async def _objective_status_in_turns(self, processor: Processor) -> list[ObjectiveStatus]:
        """:meth:`objective_status`, yielding to the engine loop after each contract.

        A contract's item objectives walk its open items (a few microseconds each):
        all contracts at once would hold the loop, and every alert behind it, for
        the sum of those walks.
        """
        statuses: dict[int, list[ObjectiveStatus]] = {}
        for partition in list(processor.states):
            for contract_id in self._contracts_of(partition):
                state = processor.states.get(partition)
                if state is None:
                    break  # revoked meanwhile
                statuses.setdefault(partition, []).extend(
                    state.engine.objective_status([contract_id])
                )
                await asyncio.sleep(0)
        return [s for p, found in statuses.items() if p in processor.states for s in found]

    def _contracts_of(self, partition: int) -> list[str]:
        """The contracts whose events are keyed to ``partition``."""
        if self._contract_partitions[0] != self.partitions:
            by_partition: dict[int, list[str]] = {}
            if self.partitions:
                for agreement in self.agreements:
                    owner = partition_of(agreement.contract_id, self.partitions)
                    by_partition.setdefault(owner, []).append(agreement.contract_id)
            self._contract_partitions = (self.partitions, by_partition)
        return self._contract_partitions[1].get(partition, [])

    # -- gauges -------------------------------------------------------------------

    def _update_lag_gauges(self, processor: Processor, engine: EngineService, now: float) -> None:
        """Lag gauges of owned partitions; series of partitions that moved away are removed."""
        metrics = self.metrics
        lag_series: set[tuple[str, str]] = set()
        for tp in list(engine.owned):
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


class WorkerCrashedError(MonitorError):
    """A Faust service of the worker crashed; the process should exit and be restarted."""


async def _until_stopped_or_crashed(app: SlamonApp, stop: asyncio.Event) -> BaseException | None:
    """Wait for ``stop`` or for the app (or one of its services) to crash."""
    while not stop.is_set() and not app.crashed:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _CRASH_POLL_S)
    if app.crashed and not stop.is_set():
        reason: BaseException | None = app.crash_reason
        return reason or RuntimeError("crashed")
    return None


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
    from monitor.logs import configure_logging
    from monitor.stream.embedded_broker import EMBEDDED_BROKER_WARNING, EmbeddedBroker
    from monitor.stream.notifier import notifier_attachments

    configure_logging(settings.log_level, settings.log_format)
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    metrics = Metrics()
    attach = notifier_attachments(settings, agreements, metrics)
    try:
        if not settings.embedded:
            run_worker(settings, agreements, metrics, attach=attach)
            return
        warn(EMBEDDED_BROKER_WARNING)
        with EmbeddedBroker() as broker:
            servers = broker.bootstrap_servers
            log.warning("embedded_broker_started", bootstrap_servers=servers)
            warn(
                f"embedded broker listening on {servers}; to send it events: "
                f"SLAMON_KAFKA_BROKERS={servers} slamon produce EVENTS.jsonl"
            )
            run_worker(
                settings.with_brokers(broker.bootstrap_servers), agreements, metrics, attach=attach
            )
    except WorkerCrashedError as exc:
        raise SystemExit(f"slamon run: {exc}") from exc
