"""Make sure slamon's topics exist, co-partitioned, before the worker joins its group.

The five event topics and the re-keying topic are read by the engine service
and must have the same partition count, and so must the engine's checkpoint
changelog (compacted; partition N holds partition N's checkpoint). Existing
event topics decide that count; missing topics are created with it
(``settings.partitions`` when none exists yet). A mismatch is an
error, not something to paper over: state would be split across workers.
"""

from __future__ import annotations

import contextlib

from monitor.domain.errors import MonitorError
from monitor.settings import Settings
from monitor.stream.checkpoints import CHECKPOINT_TOPIC_CONFIG, changelog_topic

__all__ = ["TopicLayoutError", "ensure_topics"]


class TopicLayoutError(MonitorError):
    """Topics that must be co-partitioned have different partition counts."""


async def partition_counts(settings: Settings, names: list[str]) -> dict[str, int]:
    """Partition count of each existing topic among ``names``."""
    from aiokafka import AIOKafkaClient

    client = AIOKafkaClient(**settings.kafka_client_kwargs())
    await client.bootstrap()
    try:
        cluster = await client.fetch_all_metadata()
        counts = {}
        for name in names:
            partitions = cluster.partitions_for_topic(name)
            if partitions:
                counts[name] = len(partitions)
        return counts
    finally:
        await client.close()


async def ensure_topics(settings: Settings) -> int:
    """Create missing slamon topics; return the shared partition count."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    topics = settings.topics
    changelog = changelog_topic(settings)
    copartitioned = [*topics.inputs(), topics.rekey, changelog]
    wanted = list(dict.fromkeys([*copartitioned, topics.alerts, topics.deadletter]))
    existing = await partition_counts(settings, wanted)
    inputs = {existing[name] for name in topics.inputs() if name in existing}
    if len(inputs) > 1:
        raise TopicLayoutError(f"the event topics have different partition counts: {existing}")
    count = inputs.pop() if inputs else settings.partitions
    wrong = {name: existing[name] for name in copartitioned if existing.get(name, count) != count}
    if wrong:
        raise TopicLayoutError(
            f"topics {sorted(wrong)} must have {count} partitions like the event topics "
            f"(found {wrong}); recreate them or use other names"
        )
    missing = [name for name in wanted if name not in existing]
    if missing:
        admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
        await admin.start()
        try:
            new = [
                NewTopic(
                    name,
                    num_partitions=count,
                    replication_factor=settings.replication_factor,
                    topic_configs=dict(CHECKPOINT_TOPIC_CONFIG) if name == changelog else {},
                )
                for name in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
        finally:
            await admin.close()
    return count
