"""Fixtures for fault tests: a private three-node KRaft cluster (ports 19092-19094)."""

from __future__ import annotations

import pytest

from services.config import Settings
from services.kafka import broker


@pytest.fixture(scope="session")
def cluster(settings: Settings) -> Settings:
    """Settings pointing at a running local three-node cluster (RF 3, min.insync.replicas 2), with
    this session's topics created on it. Started if needed; left running for later sessions."""
    # The cluster lives under the repo's var/ (like the single broker), not the session's tmp dir.
    bootstrap, _ = broker.start(Settings(env="test"), nodes=3)
    cluster_settings = settings.model_copy(
        update={"kafka_bootstrap": bootstrap, "replication_factor": 3, "min_insync_replicas": 2}
    )
    from services.kafka.topics import create_topics

    create_topics(cluster_settings)
    return cluster_settings
