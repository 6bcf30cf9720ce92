"""PassageClient against a tiny fake gateway (httpx.MockTransport): retries reuse the event_id."""

import json
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from events import InvalidEvent, Money, WagePaid
from events.client import PassageClient, PublishError


class FakeGateway:
    """Answers each POST with the next scripted reply ("connect-error" raises instead)."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if reply == "connect-error":
            raise httpx.ConnectError("connection refused", request=request)
        if reply == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        status, body = reply
        return httpx.Response(status, json=body)

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


def client(gateway: FakeGateway, retries: int = 5) -> PassageClient:
    return PassageClient(
        "http://gateway.test",
        "agency-key",
        retries=retries,
        transport=httpx.MockTransport(gateway),
        sleep=lambda _: None,
    )


def wage_event(c: PassageClient) -> dict:
    return c.new_event(
        "deployment.wage_paid",
        "IN-2026-000123",
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        WagePaid(period="2026-02", amount=Money(amount="1500.00", currency="SAR")),
    )


def test_new_event_is_checked_json_with_a_fresh_id_at_the_latest_version():
    c = client(FakeGateway())
    first, second = wage_event(c), wage_event(c)
    assert UUID(first["event_id"]).version == 4 and first["event_id"] != second["event_id"]
    assert first["schema_version"] == 1 and first["occurred_at"] == "2026-03-01T09:30:00Z"
    assert first["payload"] == {"period": "2026-02", "amount": {"amount": "1500.00", "currency": "SAR"}}
    with pytest.raises(InvalidEvent, match="payload.period"):
        c.new_event(
            "deployment.wage_paid",
            "IN-1-x",
            datetime.now(UTC),
            {"period": "2026-13", "amount": {"amount": "1", "currency": "SAR"}},
        )
    with pytest.raises(ValueError, match="unknown event type"):
        c.new_event("deployment.paid", "IN-1-x", datetime.now(UTC), {})


def test_publish_retries_unavailability_with_the_same_event_id():
    gateway = FakeGateway(
        (503, {"error": {"code": "kafka_unavailable", "message": "try again"}}),
        "connect-error",
        "timeout",
        (202, {"event_id": "x", "status": "accepted"}),
    )
    c = client(gateway)
    event = wage_event(c)
    assert c.publish(event) == {"event_id": "x", "status": "accepted"}
    assert [b["event_id"] for b in gateway.bodies()] == [event["event_id"]] * 4
    assert all(r.headers["Authorization"] == "Bearer agency-key" for r in gateway.requests)


def test_publish_batch_retries_the_whole_batch_unchanged():
    gateway = FakeGateway((503, {}), (200, {"results": [{"status": "accepted"}] * 2}))
    c = client(gateway)
    events = [wage_event(c), wage_event(c)]
    assert c.publish_batch(events)["results"] == [{"status": "accepted"}] * 2
    assert gateway.requests[0].url.path == "/v1/events/batch"
    assert gateway.bodies()[0] == gateway.bodies()[1] == {"events": events}


def test_a_refusal_is_raised_at_once_with_the_servers_error_body():
    error = {
        "error": {
            "code": "invalid_event",
            "message": "event is invalid",
            "details": [{"path": "payload.period", "message": "not a month"}],
        }
    }
    gateway = FakeGateway((422, error))
    with pytest.raises(PublishError, match="422: event is invalid") as caught:
        client(gateway).publish({"event_id": "e"})
    assert caught.value.status_code == 422 and caught.value.body == error
    assert len(gateway.requests) == 1  # no retry: the same body would be refused again


def test_giving_up_after_the_retries_says_retrying_later_is_safe():
    gateway = FakeGateway(*[(503, {})] * 3)
    with pytest.raises(PublishError, match="after 3 attempts .*same event_id is safe"):
        client(gateway, retries=2).publish({"event_id": "e"})
    assert len(gateway.requests) == 3
