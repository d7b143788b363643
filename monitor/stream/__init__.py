"""Everything that talks to Kafka: the worker, the notifier agent, producing, reading.

The worker (Faust app, engine service, processor, checkpoints), topics, the
producer and live simulator, the report's Kafka source, the Kafka commands and
the embedded broker used by tests and the demo.

Thin adapters around the pure engine in :mod:`monitor.domain`; nothing here
decides what an event means.
"""
