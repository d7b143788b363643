"""The Faust app, configured from :class:`~monitor.settings.Settings`.

faust-streaming 0.15's aiokafka driver builds the worker consumer with a
hard-coded ``fetch_max_wait_ms=1500``
(``faust/transport/drivers/aiokafka.py``,
``AIOKafkaConsumerThread._create_worker_consumer``). Brokers that do not answer a
fetch early when data arrives (Tansu, see docs/kafka.md) then add up to 1.5 s to
every hop. :class:`SlamonApp` plugs in a transport whose consumer thread builds
the consumer exactly as Faust does and only then sets the fetch wait from
``Settings.fetch_max_wait_ms``: every other Faust default and future kwarg is
kept. aiokafka reads the value when the consumer starts, so setting it between
construction and ``start()`` is enough.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from monitor.settings import Settings

__all__ = ["FAUST_DEFAULT_FETCH_MAX_WAIT_MS", "SlamonApp", "make_app"]

FAUST_DEFAULT_FETCH_MAX_WAIT_MS = 1500


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
    """Faust's consumer, plus the app's ``on_resumed`` hook after each rebalance's seek."""

    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        hook = cast(SlamonApp, self.app).on_resumed
        if hook is not None:
            await hook()


class _Transport(faust_aiokafka.Transport):
    Consumer: ClassVar[type[Any]] = _Consumer


class SlamonApp(faust.App):
    """A ``faust.App`` whose consumer honours ``fetch_max_wait_ms``.

    ``on_resumed`` is awaited after each rebalance, once Faust has sought its
    partitions to their committed offsets (the notifier re-reads alerts there).
    The engine does not use Faust's consumer: see :mod:`monitor.stream.engine_service`.
    """

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
