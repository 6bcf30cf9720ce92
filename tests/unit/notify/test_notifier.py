"""One delivery attempt end to end against a fake receiver (httpx.MockTransport) and SQLite: what
is sent, and what is recorded for each kind of answer, retries and the end of the retry window."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.config import Settings
from services.notify import store
from services.notify.notifier import Notifier
from services.notify.signing import signing_secret, verify

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
CHANGE = {
    "change": "raised",
    "event_id": "e1",
    "alert": {
        "alert_id": "a1",
        "case_id": "IN-1234",
        "code": "DISTRESS",
        "severity": "critical",
        "status": "open",
        "destination_country": "SA",
        "origin_region": "Kerala",
    },
}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def run(sqlite_engine, answers: list[int], moments: list[timedelta]) -> tuple[list[httpx.Request], list[dict], str]:
    """Attempt the one delivery at each moment (after NOW), the receiver answering `answers` in turn."""
    sent: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(answers[min(len(sent), len(answers)) - 1])

    settings = Settings(webhook_retry_base_s=10, webhook_retry_max_delay_s=60, webhook_retry_for_s=120)
    clock = Clock()
    notifier = Notifier(
        settings,
        sqlite_engine,
        owned=lambda: {0},
        clock=clock,
        rng=random.Random(1),
        transport=httpx.MockTransport(receive),
    )
    sub = store.add_subscription(sqlite_engine, "helpline-1", "http://receiver.test/hook", "medium", ["*"], NOW)
    store.enqueue(sqlite_engine, [(0, CHANGE)], [sub], NOW)
    secret = signing_secret(settings.secret_key, sub.id, sub.salt)

    async def attempts() -> None:
        async with notifier.client() as client:
            for moment in moments:
                clock.now = NOW + moment
                for delivery in store.due(sqlite_engine, sub.id, {0}, clock.now):
                    await notifier.attempt(client, sub, secret, delivery)

    asyncio.run(attempts())
    return sent, store.deliveries(sqlite_engine, sub.id), secret


def test_a_delivery_is_signed_and_carries_the_alert(sqlite_engine):
    [request], [row], secret = run(sqlite_engine, [204], [timedelta(0)])
    body = json.loads(request.content)
    assert (body["code"], body["change"], body["case_id"]) == ("DISTRESS", "raised", "IN-1234")
    assert request.headers["Passage-Delivery-Id"] == row["delivery_id"]
    assert request.headers["Content-Type"] == "application/json"
    assert verify(secret, request.headers["Passage-Signature"], request.content, now=datetime.now(UTC).timestamp())
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 204)


@pytest.mark.parametrize(
    ("answers", "status", "attempts"),
    [
        ([500, 429, 200], "delivered", 3),  # retried on 5xx and 429, then delivered
        ([404], "rejected", 1),  # a 4xx is final
        ([410], "rejected", 1),
        ([503], "expired", None),  # still failing when the 120 s window ends
    ],
)
def test_what_each_answer_leads_to(sqlite_engine, answers, status, attempts):
    moments = [timedelta(seconds=s) for s in range(0, 181, 5)]  # try whatever is due every 5 s for 3 min
    sent, [row], _secret = run(sqlite_engine, answers, moments)
    assert row["status"] == status
    assert row["attempts"] == (attempts or len(sent)) == len(sent)
    assert len({request.headers["Passage-Delivery-Id"] for request in sent}) == 1
    if status == "expired":
        assert 3 <= len(sent) <= 6 and row["last_status_code"] == 503  # backoff 5-10 s, 10-20 s, 20-40 s, ...
