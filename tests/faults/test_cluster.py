"""The three-node cluster: every node answers and topics honour replication settings."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

pytestmark = pytest.mark.faults


def test_topics_are_replicated_three_times_with_min_isr_two(cluster):
    admin = KafkaAdminClient(bootstrap_servers=cluster.kafka_bootstrap.split(","))
    try:
        assert len(admin.describe_cluster()["brokers"]) == 3
        [journey] = admin.describe_topics([cluster.journey_topic])
        assert len(journey["partitions"]) == cluster.partitions
        assert all(len(p["replica_nodes"]) == 3 for p in journey["partitions"])
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, cluster.journey_topic)])
        assert configs["topic"][cluster.journey_topic]["min.insync.replicas"]["value"] == "2"
    finally:
        admin.close()
