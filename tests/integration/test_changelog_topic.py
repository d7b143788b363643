"""The changelog topic as the worker creates it, read back from the broker."""

from __future__ import annotations

import asyncio

from monitor.settings import Settings
from monitor.stream.checkpoints import changelog_topic
from monitor.stream.topics import ensure_topics


async def _topic_config(settings: Settings, topic: str) -> dict[str, str]:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    (resource,) = [r for response in responses for r in response.resources]
    error_code, _, _, name, entries = resource[:5]
    assert (error_code, name) == (0, topic)
    return {entry[0]: entry[1] for entry in entries}


def test_the_changelog_is_compacted_and_keeps_an_hour_uncompacted(
    kafka_settings: Settings,
) -> None:
    asyncio.run(ensure_topics(kafka_settings))
    config = asyncio.run(_topic_config(kafka_settings, changelog_topic(kafka_settings)))
    assert config["cleanup.policy"] == "compact"
    assert config["min.compaction.lag.ms"] == "3600000"
    assert config["max.message.bytes"] == str(4 * 1024 * 1024)
