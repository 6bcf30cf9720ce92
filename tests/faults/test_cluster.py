"""The three-node cluster: every node answers and topics honour replication settings."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

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


def test_status_and_topics_create_through_the_cli(cluster, tmp_path):
    """`passage kafka status --nodes 3` names every node; `passage topics create` takes the
    replication settings from PASSAGE_REPLICATION_FACTOR / PASSAGE_MIN_INSYNC_REPLICAS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSAGE_")}
    status = subprocess.run(
        [sys.executable, "-m", "services", "kafka", "status", "--nodes", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert "answers" in status.stdout and "not running" not in status.stdout
    assert all(f"node {n}: " in status.stdout for n in (1, 2, 3))

    prefix = f"cli{uuid.uuid4().hex[:8]}"
    env.update(
        PASSAGE_KAFKA_BOOTSTRAP=cluster.kafka_bootstrap,
        PASSAGE_TOPIC_PREFIX=prefix,
        PASSAGE_PARTITIONS="2",
        PASSAGE_REPLICATION_FACTOR="3",
        PASSAGE_MIN_INSYNC_REPLICAS="2",
        PASSAGE_VAR_DIR=str(tmp_path),
    )
    created = subprocess.run(
        [sys.executable, "-m", "services", "topics", "create"], env=env, capture_output=True, text=True, timeout=120
    )
    assert created.returncode == 0, created.stderr
    admin = KafkaAdminClient(bootstrap_servers=cluster.kafka_bootstrap.split(","))
    try:
        journey = f"{prefix}.journey.v1"
        [described] = admin.describe_topics([journey])
        assert [len(p["replica_nodes"]) for p in described["partitions"]] == [3, 3]
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, journey)])
        assert configs["topic"][journey]["min.insync.replicas"]["value"] == "2"
    finally:
        admin.delete_topics([f"{prefix}.journey.v1", f"{prefix}.alerts.v1", f"{prefix}.journey.dlq"])
        admin.close()
