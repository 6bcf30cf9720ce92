"""SPEC section 11 on the real parts: a worker process, Kafka, PostgreSQL, and real HTTP receivers
on loopback. Retries are fast here (base 0.3 s, cap 1 s, 1 s timeout) through the settings."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.notify import store
from services.notify.signing import signing_secret, verify
from services.storage.tables import WebhookDelivery
from tests.factories import make
from tests.integration.notify.receiver import HANG, Receiver
from tests.live import event_records, publish
from tests.polling import wait_until

pytestmark = pytest.mark.integration
DELIVERIES = WebhookDelivery.__table__


def subscribe(engine, settings, url: str, min_severity: str = "medium", scopes=("*",)) -> tuple[str, str]:
    sub = store.add_subscription(engine, "helpline-1", url, min_severity, list(scopes), datetime.now(UTC))
    return sub.id, signing_secret(settings.secret_key, sub.id, sub.salt)


def new_case() -> str:
    return f"IN-NOTIFY-{uuid.uuid4().hex[:10]}"


def report(settings, case_id: str, *types: tuple[str, dict]) -> None:
    now = datetime.now(UTC)
    publish(
        settings,
        event_records(
            settings,
            [make(event_type, now, case_id=case_id, recorded_at=now, **payload) for event_type, payload in types],
        ),
    )


DISTRESS = ("deployment.distress_reported", {})
DEPARTED_SA = ("deployment.departed", {"destination_country": "SA"})


def rows(engine, subscription_id: str, case_id: str) -> list:
    query = select(DELIVERIES).where(DELIVERIES.c.subscription_id == subscription_id, DELIVERIES.c.case_id == case_id)
    with engine.connect() as connection:
        return connection.execute(query.order_by(DELIVERIES.c.seq)).all()


def test_a_distress_alert_reaches_the_webhook_within_5_s_with_a_valid_signature(
    notify_settings, notify_engine, notifying_worker
):
    case_id = new_case()
    with Receiver() as receiver:
        _sub, secret = subscribe(notify_engine, notify_settings, receiver.url)
        report(notify_settings, case_id, DISTRESS)
        [got] = wait_until(lambda: receiver.of_case(case_id), timeout_s=5, what="the DISTRESS webhook")
    assert verify(secret, got.signature, got.raw, now=time.time())
    assert not verify("whsec_wrong", got.signature, got.raw, now=time.time())
    body = got.body
    assert (body["code"], body["severity"], body["status"], body["change"]) == (
        "DISTRESS",
        "critical",
        "open",
        "raised",
    )
    assert body["case_id"] == case_id and body["alert_id"] and body["raised_at"]
    uuid.UUID(got.delivery_id)


def test_a_receiver_failing_three_times_gets_the_same_delivery_once_more(
    notify_settings, notify_engine, notifying_worker
):
    case_id = new_case()
    with Receiver(script=[500, 503, 500]) as receiver:
        sub_id, _secret = subscribe(notify_engine, notify_settings, receiver.url)
        report(notify_settings, case_id, DISTRESS)
        wait_until(lambda: len(receiver.of_case(case_id)) >= 4, timeout_s=30, what="the fourth attempt")
        [row] = wait_until(
            lambda: [r for r in rows(notify_engine, sub_id, case_id) if r.status == "delivered"],
            timeout_s=10,
            what="the delivery recorded as delivered",
        )
    attempts = receiver.of_case(case_id)
    assert [a.answered for a in attempts] == [500, 503, 500, 200]
    assert len({a.delivery_id for a in attempts}) == 1 and attempts[0].delivery_id == row.delivery_id
    assert row.attempts == 4 and row.last_status_code == 200


def test_a_hanging_receiver_does_not_slow_another_subscriber(notify_settings, notify_engine, notifying_worker):
    cases = [new_case() for _ in range(3)]
    with Receiver(default=HANG) as stuck, Receiver() as healthy:
        subscribe(notify_engine, notify_settings, stuck.url)
        subscribe(notify_engine, notify_settings, healthy.url)
        for case_id in cases:
            report(notify_settings, case_id, DISTRESS)
        wait_until(
            lambda: all(healthy.of_case(c) for c in cases),
            timeout_s=5,
            what="every case at the healthy receiver while the other hangs",
        )
        assert stuck.received, "the hanging receiver was never called"


def test_a_410_is_final_and_recorded(notify_settings, notify_engine, notifying_worker):
    case_id = new_case()
    with Receiver(script=[410]) as receiver:
        sub_id, _secret = subscribe(notify_engine, notify_settings, receiver.url)
        report(notify_settings, case_id, DISTRESS)
        [row] = wait_until(
            lambda: [r for r in rows(notify_engine, sub_id, case_id) if r.status != "pending"],
            timeout_s=10,
            what="the delivery's final status",
        )
    assert (row.status, row.last_status_code, row.attempts) == ("rejected", 410, 1)
    assert len(receiver.of_case(case_id)) == 1


def test_scope_and_min_severity_filter_what_is_sent(notify_settings, notify_engine, notifying_worker):
    case_id = new_case()  # departs to SA without clearance (high), then reports distress (critical)
    with Receiver() as saudi_critical, Receiver() as emirates, Receiver() as everywhere_high:
        critical_id, _ = subscribe(notify_engine, notify_settings, saudi_critical.url, "critical", ["dest:SA"])
        emirates_id, _ = subscribe(notify_engine, notify_settings, emirates.url, "medium", ["dest:AE"])
        subscribe(notify_engine, notify_settings, everywhere_high.url, "high", ["*"])
        report(notify_settings, case_id, DEPARTED_SA, DISTRESS)
        wait_until(
            lambda: len(everywhere_high.of_case(case_id)) == 2, timeout_s=10, what="both alerts at the * webhook"
        )
        wait_until(lambda: saudi_critical.of_case(case_id), timeout_s=10, what="the DISTRESS alert at dest:SA")
    assert [r.body["code"] for r in everywhere_high.of_case(case_id)] == ["DEPARTED_WITHOUT_CLEARANCE", "DISTRESS"]
    assert [r.body["code"] for r in saudi_critical.of_case(case_id)] == ["DISTRESS"]
    assert len(rows(notify_engine, critical_id, case_id)) == 1
    assert emirates.of_case(case_id) == [] and rows(notify_engine, emirates_id, case_id) == []
