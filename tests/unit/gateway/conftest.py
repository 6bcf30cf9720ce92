"""The gateway app over a throwaway SQLite registry and a fake publisher (no Kafka, no network):
the fixtures of tests.gateway_contract over `sqlite_engine`."""

from __future__ import annotations

import pytest

from tests.gateway_contract import client, helpline, keys  # noqa: F401 - fixtures


@pytest.fixture
def gateway_engine(sqlite_engine):
    return sqlite_engine
