"""The Faust app, configured from :class:`~monitor.settings.Settings`.

faust-streaming 0.15's aiokafka driver builds the worker consumer with a
hard-coded ``fetch_max_wait_ms=1500``
(``faust/transport/drivers/aiokafka.py``,
``AIOKafkaConsumerThread._create_worker_consumer``). Brokers that do not answer a
fetch early when data arrives (Tansu, see DESIGN.md §7) then add up to 1.5 s to
every hop. :class:`SlamonApp` plugs in a transport whose consumer thread builds
the consumer exactly as Faust does and only then sets the fetch wait from
``Settings.fetch_max_wait_ms``: every other Faust default and future kwarg is
kept. aiokafka reads the value when the consumer starts, so setting it between
construction and ``start()`` is enough.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, cast

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from monitor.settings import Settings

__all__ = ["FAUST_DEFAULT_FETCH_MAX_WAIT_MS", "SlamonApp", "make_app"]

FAUST_DEFAULT_FETCH_MAX_WAIT_MS = 1500
#: Room for checkpoints and dead letters above Faust's 1 MB default.
PRODUCER_MAX_REQUEST_SIZE = 4 * 1024 * 1024


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError(
                "aiokafka.AIOKafkaConsumer no longer has _fetch_max_wait_ms: "
                "update monitor.stream.faust_app for this aiokafka version"
            )
        consumer._fetch_max_wait_ms = cast(SlamonApp, self.app).fetch_max_wait_ms
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, plus resuming source partitions from the app's own offsets.

    After table recovery Faust resumes the stream partitions and then seeks them
    to their committed offsets. When the app sets ``resume_offsets``, the
    partitions it returns offsets for stay paused at that point; ``perform_seek``
    seeks them (in the consumer's thread, which drops anything prefetched) and
    only then resumes them, so no record from the committed position can reach
    the agent before the re-read from the app's offsets. The other partitions
    go to their committed offsets as usual.
    """

    _pending: dict[TP, int]

    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tps = set(tps)
        hook = cast(SlamonApp, self.app).resume_offsets
        if hook is not None and tps:
            targets = dict(hook(tps))
            self._pending = {**getattr(self, "_pending", {}), **targets}
            tps -= set(targets)
        super().resume_partitions(tps)

    async def perform_seek(self) -> None:
        app = cast(SlamonApp, self.app)
        if app.resume_offsets is None:
            await super().perform_seek()
            return
        assigned = set(self.assignment())
        targets = {tp: o for tp, o in getattr(self, "_pending", {}).items() if tp in assigned}
        self._pending = {}
        if not targets:  # not right after a resume (e.g. the flow was stopped)
            targets = dict(app.resume_offsets(assigned))
            self.pause_partitions(targets)
        others = assigned - set(targets)
        thread = self._thread
        consumer = thread._ensure_consumer()
        if others:
            committed = await thread.call_thread(
                consumer.seek_to_committed,
                *(TopicPartition(tp.topic, tp.partition) for tp in others),
            )
            for kafka_tp, offset in committed.items():
                tp = TP(kafka_tp.topic, kafka_tp.partition)
                valid = offset if offset is not None and offset >= 0 else None
                self._read_offset[tp] = valid
                if valid:
                    self._committed_offset[tp] = valid
        if targets:
            await thread.call_thread(_seek_all, consumer, targets)
            for tp, offset in targets.items():
                self._read_offset[tp] = offset if offset else None
            super().resume_partitions(targets)
        if app.on_resumed is not None:
            await app.on_resumed()


async def _seek_all(consumer: Any, targets: Mapping[TP, int]) -> None:
    """Runs in the consumer thread: aiokafka drops records prefetched for these."""
    for tp, offset in targets.items():
        consumer.seek(TopicPartition(tp.topic, tp.partition), offset)


class _Transport(faust_aiokafka.Transport):
    Consumer: ClassVar[type[Any]] = _Consumer


class SlamonApp(faust.App):
    """A ``faust.App`` whose worker consumer honours ``fetch_max_wait_ms``.

    ``resume_offsets``, when set, is called (synchronously) with the stream
    partitions Faust is about to resume after a rebalance and table recovery; it
    returns where some of them must resume instead of the committed offsets: the
    worker resumes every source from the offsets saved in its own state
    (DESIGN.md §7). ``on_resumed`` is awaited once the partitions are sought.
    """

    resume_offsets: Callable[[set[TP]], Mapping[TP, int]] | None = None
    on_resumed: Callable[[], Awaitable[None]] | None = None

    def __init__(
        self,
        *args: Any,
        fetch_max_wait_ms: int = FAUST_DEFAULT_FETCH_MAX_WAIT_MS,
        **kwargs: Any,
    ) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def make_app(settings: Settings, **overrides: Any) -> SlamonApp:
    """Build the app; ``settings.kafka_brokers`` must be set (see ``Settings.with_brokers``).

    ``overrides`` are passed to Faust last, for tests and experiments.
    """
    if not settings.kafka_brokers:
        raise ValueError("make_app needs kafka_brokers: start the embedded broker first")
    session_timeout_s = settings.session_timeout_ms / 1000
    settings.state_dir.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "broker": [f"kafka://{server}" for server in settings.kafka_brokers],
        "broker_credentials": _credentials(settings),
        "broker_session_timeout": session_timeout_s,
        "broker_heartbeat_interval": min(3.0, session_timeout_s / 5),
        "consumer_auto_offset_reset": "earliest",
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "topic_allow_declare": True,
        "store": settings.table_store,
        "datadir": str(settings.state_dir),
        "web_enabled": False,
        "producer_max_request_size": PRODUCER_MAX_REQUEST_SIZE,
        "autodiscover": False,
    }
    options.update(overrides)
    return SlamonApp(settings.app_id, fetch_max_wait_ms=settings.fetch_max_wait_ms, **options)


def _credentials(settings: Settings) -> Any:
    """Faust credentials from the same kwargs every aiokafka client gets."""
    kwargs = settings.kafka_client_kwargs()
    protocol = kwargs["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(kwargs["ssl_context"])
    return faust.SASLCredentials(
        username=kwargs["sasl_plain_username"],
        password=kwargs["sasl_plain_password"],
        ssl_context=kwargs.get("ssl_context"),
        mechanism=kwargs["sasl_mechanism"],
    )
