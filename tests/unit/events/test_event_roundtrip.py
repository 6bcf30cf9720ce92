"""Every valid event of every type survives encode/decode unchanged."""

import json

import pytest
from event_samples import NOW, all_specs, envelopes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import decode, encode, validate

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.event_type)
@SETTINGS
@given(data=st.data())
def test_every_event_survives_encode_and_decode(spec, data):
    event = data.draw(envelopes(spec, stamped=True))
    raw = encode(event)
    back = decode(raw)
    assert back == event
    assert type(back.payload) is type(event.payload)
    assert encode(back) == raw  # byte for byte: amounts and offsets are kept as written

    published = event.model_copy(update={"recorded_at": None, "source": None})
    body = json.loads(encode(published))
    assert "recorded_at" not in body and "source" not in body  # the publisher's form, ready to POST
    assert validate(body, now=NOW.replace(year=2030)) == published


def test_money_keeps_the_amount_as_written():
    raw = (
        b'{"event_id":"3b0c6f1e-8a52-4c1e-9a49-2f4d2b0e7a10","event_type":"deployment.wage_paid",'
        b'"schema_version":1,"case_id":"IN-2026-000123","occurred_at":"2026-03-01T09:30:00+05:30",'
        b'"correlation_id":null,"payload":{"period":"2026-02","amount":{"amount":"1500.00",'
        b'"currency":"SAR"}},"recorded_at":"2026-03-01T04:00:01Z",'
        b'"source":{"agency_id":"emp-1","agency_kind":"employer"}}'
    )
    event = decode(raw)
    assert str(event.payload.amount.amount) == "1500.00"
    assert event.occurred_at.utcoffset().total_seconds() == 5.5 * 3600
    assert encode(event) == raw
