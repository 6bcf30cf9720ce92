"""Property-based check of the query API from its own /openapi.json: whatever schemathesis sends
(valid or not) against PostgreSQL and Kafka, no answer is a 5xx."""

from __future__ import annotations

import pytest

from tests.factories import bearer
from tests.openapi_fuzz import assert_no_server_errors

pytestmark = pytest.mark.integration


def test_no_server_errors_from_schemathesis(api):
    # As a `*` supervisor, so requests reach the handlers instead of stopping at 401.
    operations = assert_no_server_errors(api.client.app, bearer(api.tokens["sup-all"]), max_examples=30)
    assert (
        operations == 18
    )  # 12 + assign and referrals (SPEC 10) + employer and agent scorecards (12) + erasure and export (9)
