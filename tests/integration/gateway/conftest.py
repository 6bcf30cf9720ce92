"""The gateway as it runs: uvicorn on loopback, the session's Kafka topics and PostgreSQL database."""

from __future__ import annotations

import pytest

from services.gateway.agencies import AGENCY_KINDS, add_agency
from services.gateway.app import create_app
from services.storage.db import make_engine
from tests.servers import serving


@pytest.fixture(scope="module")
def agency_keys(settings) -> dict[str, str]:
    """kind -> key of an agency `gw-<kind>` registered in the session's PostgreSQL database."""
    engine = make_engine(settings)
    try:
        return {kind: add_agency(engine, settings.secret_key, f"gw-{kind}", kind).key for kind in AGENCY_KINDS}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def gateway_url(topics, agency_keys) -> str:
    """A gateway built exactly as `passage gateway` builds it (its own engine and Kafka producer)."""
    with serving(create_app(topics)) as url:
        yield url
