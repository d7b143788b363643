"""The Faust internals ``SlamonApp`` relies on, all in monitor/stream/faust_app.py.

Each test fails when a Faust upgrade moves what the app overrides, instead of the
override silently never running.
"""

from __future__ import annotations

import inspect

from faust.tables import recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

from monitor.stream import faust_app


def test_faust_builds_its_consumer_thread_and_worker_consumer_where_the_app_hooks_in() -> None:
    thread = faust_aiokafka.AIOKafkaConsumerThread
    assert callable(getattr(thread, "_create_worker_consumer", None))
    assert callable(getattr(faust_aiokafka.Consumer, "_new_consumer_thread", None))
    assert faust_app._Transport.Consumer is faust_app._Consumer


def test_faust_still_seeks_after_a_rebalance_through_perform_seek() -> None:
    # the notifier's rewind runs from SlamonApp's perform_seek override
    assert "perform_seek" in vars(faust_consumer.Consumer)
    assert "consumer.perform_seek()" in inspect.getsource(recovery.Recovery)
    assert "perform_seek" in vars(faust_app._Consumer)


def test_faust_seek_to_committed_returns_the_committed_offsets() -> None:
    source = inspect.getsource(faust_consumer.Consumer.perform_seek)
    assert "await self.seek_to_committed()" in source
