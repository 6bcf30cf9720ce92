"""Session fixtures for the real parts: a Kafka broker and a PostgreSQL database.

Kafka: PASSAGE_KAFKA_BOOTSTRAP when set; else testcontainers' Kafka when a Docker engine answers;
else the local broker, started by the same code as `passage kafka start`.
PostgreSQL: PASSAGE_TEST_DATABASE_URL (an admin URL) when set; else testcontainers' PostgreSQL when
Docker answers; else the local server `.ci/run` starts (postgres:postgres@127.0.0.1:5432).
Every test session gets a fresh topic prefix and a fresh database, so runs never see each other.

For tests that run the services in-process without the real parts: `unit_settings` (no broker:
nothing listens on its bootstrap port, so anything that reaches for Kafka fails at once) and
`publisher`, a `tests.fakes.FakePublisher` to pass in where the services take a Publisher.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from services.config import Settings
from services.storage.db import create_all, make_engine
from tests.databases import scratch_database
from tests.fakes import FakePublisher

LOCAL_PG_ADMIN = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no engine, no socket, no permission: all mean "no Docker here"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("PASSAGE_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    from services.kafka import broker

    bootstrap, _started = broker.start(Settings(env="test"))
    yield bootstrap  # left running: later sessions reuse it; `passage kafka stop` stops it


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("PASSAGE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    yield LOCAL_PG_ADMIN


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped at the end."""
    with scratch_database(pg_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def settings(kafka_bootstrap: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real parts with a fresh topic prefix; the tables exist."""
    s = Settings(
        env="test",
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        partitions=4,
        var_dir=tmp_path_factory.mktemp("var"),
    )
    engine = make_engine(s)
    create_all(engine)
    engine.dispose()
    return s


@pytest.fixture(scope="session")
def topics(settings: Settings) -> Settings:
    """The session's topics exist."""
    from services.kafka.topics import create_topics

    create_topics(settings)
    return settings


@pytest.fixture
def unit_settings(tmp_path) -> Settings:
    """Settings for in-process tests: topics `unit.*`, a SQLite view database and var/ in the test's
    tmp dir, and a Kafka bootstrap on port 9, where nothing listens."""
    return Settings(
        env="test",
        topic_prefix="unit",
        kafka_bootstrap="127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'views.db'}",
        var_dir=tmp_path,
    )


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def sqlite_engine(tmp_path):
    """A throwaway SQLite view database with every table (unit-level storage tests)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'passage.db'}")
    create_all(engine)
    yield engine
    engine.dispose()
