"""The notifier's pure decisions: filter, outcome of an answer, backoff, delivery ids, signatures."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify import policy
from services.notify.signing import signature, signing_secret, verify

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def message(
    severity: str = "critical", dest: str | None = "SA", origin: str | None = "Kerala", change: str = "raised"
) -> dict:
    alert = {
        "alert_id": "a1",
        "case_id": "IN-1234",
        "code": "DISTRESS",
        "severity": severity,
        "status": "open",
        "destination_country": dest,
        "origin_region": origin,
    }
    return {"change": change, "event_id": "e1", "alert": alert}


@pytest.mark.parametrize(
    ("min_severity", "scopes", "severity", "dest", "origin", "wanted"),
    [
        ("medium", ("*",), "medium", None, None, True),
        ("high", ("*",), "medium", "SA", "Kerala", False),
        ("high", ("*",), "critical", "SA", "Kerala", True),
        ("critical", ("*",), "high", "SA", "Kerala", False),
        ("medium", ("dest:SA",), "high", "SA", "Kerala", True),
        ("medium", ("dest:AE",), "high", "SA", "Kerala", False),
        ("medium", ("dest:AE", "origin:Kerala"), "high", "SA", "Kerala", True),
        ("medium", ("origin:Kerala",), "high", None, "kerala", False),  # exact match, like officers' scopes
        ("medium", ("dest:SA",), "high", None, "Kerala", False),  # no destination yet: only origin scopes see it
    ],
)
def test_a_subscription_wants_changes_in_its_scope_and_severity(min_severity, scopes, severity, dest, origin, wanted):
    assert policy.Filter(min_severity, scopes).wants(message(severity, dest, origin)["alert"]) is wanted


@pytest.mark.parametrize(
    ("status_code", "outcome"),
    [
        (200, "delivered"),
        (202, "delivered"),
        (204, "delivered"),
        (None, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (400, "rejected"),
        (401, "rejected"),
        (404, "rejected"),
        (410, "rejected"),
        (301, "rejected"),
    ],
)
def test_what_an_answer_means(status_code, outcome):
    assert policy.outcome(status_code).value == outcome


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=2**32))
def test_backoff_grows_within_its_jitter_band_and_never_past_the_cap(attempts, seed):
    backoff = policy.Backoff(base_s=10, max_delay_s=3600)
    ceiling = min(3600, 10 * 2 ** (attempts - 1))
    assert ceiling / 2 <= backoff.delay(attempts, random.Random(seed)) <= ceiling


def test_retries_stop_after_the_retry_window():
    backoff = policy.Backoff(base_s=10, max_delay_s=3600, retry_for_s=24 * 3600)
    rng = random.Random(1)
    assert backoff.next_attempt(NOW, NOW + timedelta(hours=1), 3, rng) is not None
    assert backoff.next_attempt(NOW, NOW + timedelta(hours=23, minutes=59), 20, rng) is None


def test_a_delivery_id_is_stable_per_subscription_and_change():
    assert policy.delivery_id("s1", message()) == policy.delivery_id("s1", message())
    assert policy.delivery_id("s1", message()) != policy.delivery_id("s2", message())
    assert policy.delivery_id("s1", message()) != policy.delivery_id("s1", message(change="resolved"))


def test_the_body_is_the_alert_plus_change_and_case_id():
    body = json.loads(policy.body(message()))
    assert body["change"] == "raised" and body["case_id"] == "IN-1234" and body["code"] == "DISTRESS"
    assert body["alert_id"] == "a1" and body["severity"] == "critical"


@given(st.binary(max_size=500), st.integers(min_value=1_600_000_000, max_value=2_000_000_000))
def test_a_signature_verifies_and_any_change_to_the_body_breaks_it(body, timestamp):
    secret = signing_secret("server", "sub", "salt")
    header = signature(secret, timestamp, body)
    assert verify(secret, header, body, now=timestamp)
    assert not verify(secret, header, body + b"x", now=timestamp)
    assert not verify(signing_secret("server", "sub", "other"), header, body, now=timestamp)
    assert not verify(secret, header, body, now=timestamp + 3600)  # a replay long after


def test_the_signature_header_has_the_documented_form():
    header = signature("whsec_x", 1700000000, b'{"a":1}')
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_x", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
