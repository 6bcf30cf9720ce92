"""Property-based check of the gateway from its own /openapi.json: whatever schemathesis sends
(valid or not), with a real agency key, PostgreSQL and Kafka, no answer is a 5xx.

On topics of its own, so the events it gets accepted never reach tests that read the session's
journey topic."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.kafka.topics import create_topics
from tests.openapi_fuzz import assert_no_server_errors

pytestmark = pytest.mark.integration


def test_no_server_errors_from_schemathesis(settings, agency_keys):
    own = settings.model_copy(update={"topic_prefix": f"fz{uuid.uuid4().hex[:10]}"})
    create_topics(own)
    app = create_app(own)
    with TestClient(app):  # runs the lifespan, so the app's producer is closed at the end
        operations = assert_no_server_errors(app, {"Authorization": f"Bearer {agency_keys['mission']}"})
    assert operations >= 4  # /v1/events, /v1/events/batch, /healthz, /readyz
