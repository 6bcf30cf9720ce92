"""SPEC section 7, rules for both services, at the gateway: nesting, text, headers, /docs,
conflicting duplicates and binding through HTTP (tests.gateway_contract: SQLite views here,
PostgreSQL in tests/integration/gateway)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.config import Settings
from services.gateway.app import create_app
from services.hardening import MAX_JSON_DEPTH, json_depth, too_deep
from tests.factories import bearer, new_event
from tests.fakes import FakePublisher
from tests.gateway_contract import (  # noqa: F401 - the shared tests run here against SQLite
    test_an_employer_agency_publishes_as_its_employer_id,
    test_binding_through_http_single_and_batch,
    test_the_same_event_id_with_other_content_is_409_and_identical_content_is_202,
)


def nested(depth: int) -> bytes:
    return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_json_depth_counts_containers_not_brackets_in_strings(document):
    def depth(node) -> int:
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        return 0 if children is None else 1 + max((depth(child) for child in children), default=0)

    assert json_depth(json.dumps(document).encode()) == depth(document)


@given(
    depth=st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH),
    siblings=st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH),
    in_strings=st.text(alphabet="[]{}a", max_size=40),
)
def test_too_deep_refuses_exactly_what_nests_deeper_than_the_limit(depth, siblings, in_strings):
    """Bodies with few brackets skip the scan; the answer is the scan's all the same, whether the
    brackets nest, stand side by side or sit inside strings."""
    body = b"[" * depth + json.dumps(in_strings).encode() + b"]" * depth
    body = b"[" + body + b"".join(b",[]" for _ in range(siblings)) + b"]"
    deepest = max(depth, 1 if siblings else 0) + 1
    assert json_depth(body) == deepest
    assert (too_deep(body) is not None) == (deepest > MAX_JSON_DEPTH)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100, 30_000])
def test_json_nested_deeper_than_32_levels_is_400_never_500(client, helpline, publisher, depth):
    response = client.post(
        "/v1/events", content=nested(depth), headers={**helpline, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_request" and "32" in response.json()["error"]["message"]
    assert publisher.records == []


def test_32_levels_are_still_json(client, helpline):
    response = client.post(
        "/v1/events", content=nested(MAX_JSON_DEPTH), headers={**helpline, "Content-Type": "application/json"}
    )
    assert response.status_code == 422  # parsed, then refused as an event


@pytest.mark.parametrize(
    "field, value",
    [
        ("given_name", "Asha\x00"),
        ("family_name", "\x1b[2J"),
        ("origin_region", "Kerala\x7f"),
        ("given_name", "   "),
        ("family_name", "\t\n"),
        ("date_of_birth", "1899-12-31"),
        ("date_of_birth", (datetime.now(UTC) + timedelta(days=2)).date().isoformat()),
    ],
)
def test_text_rules_are_422(client, keys, publisher, field, value):
    event = new_event("migrant.registered")
    event["payload"][field] = value
    response = client.post("/v1/events", json=event, headers=bearer(keys["skilling_body"]))
    assert response.status_code == 422, response.text
    assert [d["path"] for d in response.json()["error"]["details"]] == [f"payload.{field}"]
    assert publisher.records == []


def test_tab_lf_and_cr_are_text_and_a_birth_today_is_fine(client, keys):
    event = new_event("migrant.registered")
    event["payload"].update(origin_region="Kerala\tSouth\r\nIndia", date_of_birth=date.today().isoformat())
    assert client.post("/v1/events", json=event, headers=bearer(keys["skilling_body"])).status_code == 202


def test_every_response_carries_no_store_and_nosniff(client, helpline):
    for response in (
        client.get("/healthz"),
        client.post("/v1/events", json=new_event(), headers=helpline),
        client.post("/v1/events", json={}, headers={}),
        client.get("/nowhere"),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_load_nothing_from_another_host_and_are_off_in_production(client, sqlite_engine, tmp_path):
    page = client.get("/docs")
    assert page.status_code == 200 and "openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    assert client.get("/openapi.json").status_code == 200
    production = Settings(
        env="production", secret_key="x" * 40, database_url="sqlite://", var_dir=tmp_path, _env_file=None
    )
    from fastapi.testclient import TestClient

    with TestClient(create_app(production, engine=sqlite_engine, publisher=FakePublisher())) as prod:
        assert prod.get("/docs").status_code == 404 and prod.get("/redoc").status_code == 404
        assert prod.get("/openapi.json").status_code == 200
