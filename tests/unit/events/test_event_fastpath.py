"""`decode`'s fast path agrees with its step-by-step path: `decode` accepts and refuses exactly what
the slow path does (with the same messages), the fast path builds equal Envelopes, and it takes every
valid latest-version record. The fast path leaves the clock rule (occurred_at against recorded_at)
to `decode`, which checks it on the fast path's result.

`decode(raw, catalogue=SLOW)` forces the slow path: the fast path serves only the global catalogue,
and SLOW is an equal copy of it.
"""

import json

import pytest
from event_samples import all_specs, envelopes, job_offer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import CATALOGUE, Envelope, InvalidEvent, decode, encode
from events.fastpath import decode_valid

SLOW = dict(CATALOGUE)
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WRONG_VALUES = [
    None,
    0,
    5.0,
    -1,
    True,
    "",
    "x",
    "SA",
    "2026-13",
    "1500.00",
    [],
    {},
    ["QA"],
    1e400,
    {"amount": "1", "currency": "USD"},
    "2026-03-01T09:30:00",
    "1949-06-01T00:00:00Z",
    "3b0c6f1e-8a52-4c1e-9a49-2f4d2b0e7a10",
    "a" * 201,
    "\ud800",
    "x\u0000y",
]


def slow(raw):
    try:
        return decode(raw, catalogue=SLOW)
    except InvalidEvent as error:
        return str(error)


def assert_agree(raw) -> None:
    """`decode` as a whole (fast path, then the clock rule, else the slow path) answers exactly as the
    slow path does; what the fast path builds is the slow path's Envelope, type and fields set included."""
    expected = slow(raw)
    fast = decode_valid(raw)
    if fast is not None and isinstance(expected, Envelope):
        assert type(fast) is Envelope
        assert fast == expected and fast.model_fields_set == expected.model_fields_set
        assert encode(fast) == encode(expected)
    try:
        assert decode(raw) == expected
    except InvalidEvent as error:
        assert str(error) == expected


def stamped_record() -> dict:
    record = job_offer()
    record.update(recorded_at="2026-03-01T09:31:00Z", source={"agency_id": "RA-3", "agency_kind": "recruiting_agent"})
    return record


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.event_type)
@SETTINGS
@given(data=st.data())
def test_valid_records_take_the_fast_path_and_equal_the_slow_path(spec, data):
    raw = encode(data.draw(envelopes(spec, stamped=True)))
    assert decode_valid(raw) is not None
    assert_agree(raw)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.event_type)
@SETTINGS
@given(data=st.data())
def test_mutated_records_get_the_slow_paths_answer(spec, data):
    record = json.loads(encode(data.draw(envelopes(spec, stamped=True))))
    containers = [(record, key) for key in record] + [
        (value, key) for value in record.values() if isinstance(value, dict) for key in value
    ]
    node, key = data.draw(st.sampled_from(containers))
    mutation = data.draw(st.sampled_from(["remove", "replace", "add"]))
    if mutation == "remove":
        del node[key]
    elif mutation == "replace":
        node[key] = data.draw(st.sampled_from(WRONG_VALUES))
    else:
        node["unexpected"] = 1
    assert_agree(json.dumps(record).encode())


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({**stamped_record(), "schema_version": 1.0}).encode(),  # 1 in JSON, but not the fast path's
        json.dumps({**stamped_record(), "schema_version": True}).encode(),
        json.dumps({**stamped_record(), "schema_version": 2}).encode(),
        json.dumps({**stamped_record(), "recorded_at": None}).encode(),
        json.dumps({**stamped_record(), "occurred_at": "2026-03-01T09:40:00Z"}).encode(),  # after recorded_at + 5 min
        json.dumps({**stamped_record(), "occurred_at": "1949-12-31T23:00:00-02:00"}).encode(),
        json.dumps({k: v for k, v in stamped_record().items() if k != "source"}).encode(),
        json.dumps({k: v for k, v in stamped_record().items() if k != "correlation_id"}).encode(),  # a default
        json.dumps(stamped_record()).encode("utf-16"),  # Python's json reads it; the fast path does not
        b"\xef\xbb\xbf" + json.dumps(stamped_record()).encode(),
        json.dumps({**stamped_record(), "correlation_id": "\ud800"}).encode(),  # a lone surrogate, escaped
        json.dumps(stamped_record()).replace('"case_id"', '"case_id": "x", "case_id"').encode(),  # duplicate key
        json.dumps(stamped_record()).replace('"contract_months": 24', '"contract_months": NaN').encode(),
        json.dumps(stamped_record()).encode() + b" ",
        json.dumps(stamped_record()),  # str, not bytes
        b"[]",
        b"null",
        b"{",
        b"",
    ],
)
def test_edge_cases_get_the_slow_paths_answer(raw):
    assert_agree(raw)


def test_the_stamped_sample_is_valid():
    assert decode_valid(json.dumps(stamped_record()).encode()) is not None
