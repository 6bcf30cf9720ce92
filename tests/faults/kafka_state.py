"""What the fault tests ask Kafka: who is in the worker group, how far behind it is, who leads
which journey partition, whether every replica is in sync. Each asks with a short-lived admin
client; the ones polled during a fault treat a coordinator or leader that is moving as "not yet"."""

from __future__ import annotations

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError

from services.config import Settings
from services.kafka.topics import topic_names


def worker_group(settings: Settings) -> str:
    """The consumer group of `passage worker`'s journey reader (services/worker/reader.py)."""
    return f"{settings.topic_prefix}-worker"


def _admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap.split(","), request_timeout_ms=5000, client_id="passage-faults"
    )


def group_members(settings: Settings) -> int:
    """Members of the worker group that hold at least one journey partition (0 while rebalancing)."""
    admin = _admin(settings)
    try:
        group = admin.describe_groups([worker_group(settings)])[worker_group(settings)]
    except KafkaError:  # no coordinator yet (new group, or its broker just died): nobody settled
        return 0
    finally:
        admin.close()
    if group.get("group_state") != "Stable":
        return 0
    return sum(1 for member in group.get("members", []) if _holds_journey(member, settings.journey_topic))


def _holds_journey(member: dict, topic: str) -> bool:
    assignment = member.get("member_assignment") or {}
    return any(t.get("topic") == topic and t.get("partitions") for t in assignment.get("assigned_partitions", []))


def journey_lag(settings: Settings) -> int:
    """Records on the journey topic that the worker group has not committed yet (-1: unknown now)."""
    admin = _admin(settings)
    try:
        partitions = [TopicPartition(settings.journey_topic, p) for p in range(settings.partitions)]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        committed = admin.list_group_offsets({worker_group(settings): partitions})[worker_group(settings)]
    except KafkaError:  # coordinator or leader moving: the lag is unknown, so not zero
        return -1
    finally:
        admin.close()
    return sum(max(0, ends[tp].offset - max(0, _offset(committed.get(tp)))) for tp in partitions)


def _offset(meta) -> int:
    return -1 if meta is None else meta.offset


def _journey_partitions(settings: Settings) -> list[dict]:
    admin = _admin(settings)
    try:
        [topic] = admin.describe_topics([settings.journey_topic])
    finally:
        admin.close()
    return topic["partitions"]


def leaders(settings: Settings) -> dict[int, int]:
    """node id -> how many journey partitions it leads."""
    counts: dict[int, int] = {}
    for partition in _journey_partitions(settings):
        counts[partition["leader_id"]] = counts.get(partition["leader_id"], 0) + 1
    return counts


def fully_in_sync(settings: Settings, replicas: int) -> bool:
    """Whether every journey partition has `replicas` in-sync replicas."""
    try:
        return all(len(p["isr_nodes"]) == replicas for p in _journey_partitions(settings))
    except KafkaError:  # a node just came back: ask again
        return False


def delete_topics(settings: Settings) -> None:
    """Remove a test's topics so runs do not pile them up on a broker others use (best effort)."""
    try:
        admin = _admin(settings)
    except KafkaError:
        return
    try:
        admin.delete_topics(topic_names(settings))
    except KafkaError:
        pass
    finally:
        admin.close()
