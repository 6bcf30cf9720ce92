"""Case binding and conflicting duplicates through the gateway, with the views on PostgreSQL: the
tests of tests/gateway_contract.py (run against SQLite in tests/unit/gateway) over a scratch
PostgreSQL database with every table."""

from __future__ import annotations

import pytest

from services.storage.db import create_all, make_engine
from tests.databases import scratch_database
from tests.gateway_contract import (  # noqa: F401 - fixtures  # noqa: F401 - run here against PostgreSQL
    client,
    helpline,
    keys,
    test_an_employer_agency_publishes_as_its_employer_id,
    test_binding_through_http_single_and_batch,
    test_the_same_event_id_with_other_content_is_409_and_identical_content_is_202,
)


@pytest.fixture
def gateway_engine(pg_admin_url):
    with scratch_database(pg_admin_url, "passage_binding") as url:
        engine = make_engine(url)
        create_all(engine)
        yield engine
        engine.dispose()
