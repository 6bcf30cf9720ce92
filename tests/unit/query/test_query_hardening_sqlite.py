"""The query API's hardening rules (tests/query_hardening_contract.py) against SQLite."""

from __future__ import annotations

import pytest

from tests.query_hardening_contract import *  # noqa: F403 - the shared tests run here against SQLite


@pytest.fixture
def views_engine(sqlite_engine):
    return sqlite_engine
