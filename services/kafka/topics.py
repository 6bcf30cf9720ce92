"""Topic creation: the three topics of SPEC section 1, idempotent."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from services.config import Settings


def topic_names(settings: Settings) -> list[str]:
    return [settings.journey_topic, settings.alerts_topic, settings.dlq_topic]


def create_topics(settings: Settings) -> list[str]:
    """Create the missing topics with the configured partitions, replication factor and
    min.insync.replicas; returns the names created (empty when all existed)."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        client_id="passage-topics",
        **settings.kafka_client_options(),
    )
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                # The DLQ is low-volume and read in order by `passage dlq list`.
                num_partitions=1 if name == settings.dlq_topic else settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs={"min.insync.replicas": str(settings.min_insync_replicas)},
            )
            for name in topic_names(settings)
            if name not in existing
        ]
        if not wanted:
            return []
        try:
            admin.create_topics(wanted)
        except TopicAlreadyExistsError:
            pass  # created concurrently by another process: that is the goal
        return [topic.name for topic in wanted]
    finally:
        admin.close()
