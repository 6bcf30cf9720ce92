"""Fixtures for fault tests: a private three-node KRaft cluster (ports 19092-19094), a private single
broker, a private PostgreSQL server, fresh databases, one `Stack` per test, and the figures report.

Every fault is injected into something private to the test run: the shared broker on 9092 and the
shared PostgreSQL on 5432 that other engineers' tests use are never stopped or restarted.
Each test's figures (published, accepted, applied, time to recover) go to the terminal summary and
to bench/results/faults.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from services.config import ROOT, Settings
from services.kafka import broker
from services.storage.db import make_engine
from tests.faults import postgres
from tests.faults.stack import Stack
from tests.servers import free_port

RESULTS = ROOT / "bench" / "results" / "faults.json"
FIGURES = pytest.StashKey[list]()


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


@dataclass
class PrivateBroker:
    own: Settings  # where the broker listens and keeps its files
    base: Settings  # the session's settings, pointed at this broker

    def stop(self) -> None:
        broker.stop(self.own)

    def start(self) -> None:
        broker.start(self.own)


@pytest.fixture
def private_broker(settings: Settings, tmp_path: Path) -> Iterator[PrivateBroker]:
    """A single broker of its own (own port, own var dir), stopped at the end."""
    for attempt in range(5):  # the controller takes port + 1, which may be taken
        own = Settings(env="test", kafka_bootstrap=f"127.0.0.1:{free_port()}", var_dir=tmp_path / f"broker{attempt}")
        try:
            broker.start(own)
            break
        except broker.BrokerError as error:
            if "is taken" not in str(error) or attempt == 4:
                raise
    try:
        yield PrivateBroker(own, settings.model_copy(update={"kafka_bootstrap": own.kafka_bootstrap}))
    finally:
        broker.stop(own)


@pytest.fixture
def private_postgres() -> Iterator[postgres.PrivatePostgres]:
    reason = postgres.why_unavailable()
    if reason:
        pytest.skip(reason)
    server = postgres.PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def new_database(pg_admin_url: str) -> Iterator[Callable[..., str]]:
    """`new_database()` -> the URL of a fresh, empty database (on the shared server unless another
    admin URL is given); the ones on the shared server are dropped at the end."""
    made: list[str] = []

    def create(admin_url: str = pg_admin_url) -> str:
        name = f"passage_faults_{uuid.uuid4().hex[:10]}"
        engine = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        if admin_url == pg_admin_url:
            made.append(name)
        return admin_url.rsplit("/", 1)[0] + f"/{name}"

    yield create
    admin = make_engine(pg_admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def make_stack(new_database, tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """`make_stack(base_settings, database_url=None, **overrides)`: this test's Passage; closed at the end."""
    stacks: list[Stack] = []

    def make(base: Settings, database_url: str | None = None, **overrides) -> Stack:
        stack = Stack(base, database_url or new_database(), new_database(), tmp_path, **overrides)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture(scope="session")
def fault_figures(request: pytest.FixtureRequest) -> Iterator[list[dict]]:
    figures: list[dict] = []
    request.config.stash[FIGURES] = figures
    yield figures
    if figures:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "tests": figures,
                },
                indent=2,
            )
            + "\n"
        )


@pytest.fixture
def report(fault_figures: list[dict], request: pytest.FixtureRequest) -> Callable[..., None]:
    """`report(**figures)`: this test's figures, for the summary and bench/results/faults.json."""
    began = time.monotonic()

    def record(**figures: object) -> None:
        fault_figures.append({"test": request.node.name, **figures, "test_s": round(time.monotonic() - began, 1)})

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    figures = config.stash.get(FIGURES, [])
    if not figures:
        return
    terminalreporter.section("fault figures (also in bench/results/faults.json)")
    for row in figures:
        shown = ", ".join(f"{k}={v}" for k, v in row.items() if k != "test")
        terminalreporter.write_line(f"{row['test']}: {shown}")
