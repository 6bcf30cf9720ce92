"""Invalid events are refused with every problem, each at its dotted field path."""

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from event_samples import NOW, job_offer, registration

from events import InvalidEvent, Problem, decode, validate


def problems(data, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidEvent) as caught:
        validate(data, now=kwargs.pop("now", NOW), **kwargs)
    return {p.path: p.message for p in caught.value.problems}


def changed(base: dict, path: str, value) -> dict:
    """A copy of `base` with the value at dotted `path` replaced (or removed when value is ...)."""
    data = copy.deepcopy(base)
    *parents, leaf = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return data


def test_the_samples_are_valid():
    assert validate(job_offer(), now=NOW).payload.monthly_wage.amount == Decimal("1500.00")
    assert validate(registration(), now=NOW).payload.aspirations.countries == ("QA", "MY")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("surprise", 1, "unknown field; remove it"),
        ("payload.surprise", 1, "unknown field; remove it"),
        ("payload.monthly_wage.tip", "5", "unknown field; remove it"),
        ("payload.destination_country", "XX", "not an ISO 3166-1 alpha-2"),
        ("payload.destination_country", "sa", "not an ISO 3166-1 alpha-2"),
        ("payload.monthly_wage.currency", "RIY", "not an ISO 4217 code"),
        ("payload.monthly_wage.amount", "-5.00", "must not be negative"),
        ("payload.monthly_wage.amount", 1500.0, "decimal string"),
        ("payload.monthly_wage.amount", "1,500", "not a decimal amount"),
        ("payload.occupation_code", "711", "ISCO-08"),
        ("payload.occupation_code", 7112, "Input should be a valid string"),
        ("payload.contract_months", 0, "greater than or equal to 1"),
        ("payload.contract_months", 121, "less than or equal to 120"),
        ("payload.contract_months", "24", "not an integer"),
        ("payload.contract_months", True, "not an integer"),
        ("payload.employer_name", "", "at least 1 character"),
        ("payload.offer_id", ..., "required field is missing"),
        ("case_id", "IN!", "not a case id"),
        ("case_id", "-IN-2026", "not a case id"),
        ("event_id", "not-a-uuid", "not a UUID"),
        ("occurred_at", "2026-03-01T09:30:00", "needs a UTC offset"),
        ("occurred_at", "2026-03-01", "not an RFC 3339 date-time"),
        ("occurred_at", "1949-12-31T23:59:59Z", "before 1950"),
        ("occurred_at", (NOW + timedelta(minutes=5, seconds=1)).isoformat(), "more than 5 minutes in the future"),
        ("schema_version", 7, "unknown schema_version 7"),
        ("event_type", "recruitment.offer_made", "unknown event type 'recruitment.offer_made'"),
        ("payload", [], "must be a JSON object"),
        ("payload", ..., "required field is missing"),
    ],
)
def test_a_bad_field_is_refused_at_its_path(path, value, message):
    found = problems(changed(job_offer(), path, value))
    assert path in found, found
    assert message in found[path]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("payload.sex", "f", "'female', 'male', 'other' or 'undisclosed'"),
        ("payload.aspirations.countries", ["QA", "ZZ"], "not an ISO 3166-1 alpha-2"),
        ("payload.consent.data_sharing", "yes", "valid boolean"),
        ("payload.date_of_birth", "1998-02-30", "day value is outside expected range"),
    ],
)
def test_nested_and_enum_fields_are_refused_at_their_path(path, value, message):
    found = problems(changed(registration(), path, value))
    key = path + ".1" if path.endswith("countries") else path
    assert message in found[key], found


def test_every_problem_is_reported_at_once():
    data = changed(
        changed(changed(job_offer(), "case_id", "x"), "payload.monthly_wage.currency", "XYZ"), "payload.extra", True
    )
    assert set(problems(data)) == {"case_id", "payload.monthly_wage.currency", "payload.extra"}


def test_the_message_names_paths_and_reasons():
    error = InvalidEvent([Problem("payload.level", "too high"), Problem("", "odd")])
    assert str(error) == "payload.level: too high; (event): odd"


def test_gateway_fields_are_refused_from_publishers_and_required_from_the_log():
    stamped = {
        **job_offer(),
        "recorded_at": "2026-03-01T09:30:01Z",
        "source": {"agency_id": "ra-3", "agency_kind": "recruiting_agent"},
    }
    found = problems(stamped)
    assert found["recorded_at"] == found["source"] == "set by the gateway; remove it"
    assert validate(stamped, stamped=True).source.agency_kind == "recruiting_agent"
    assert set(problems(job_offer(), stamped=True)) == {"recorded_at", "source"}
    assert "agency_kind" in str(problems(changed(stamped, "source.agency_kind", "bank"), stamped=True))


def test_a_log_record_is_judged_against_its_recorded_at_not_the_clock():
    record = {
        **changed(job_offer(), "occurred_at", "2026-03-01T09:34:00Z"),
        "recorded_at": "2026-03-01T09:30:00Z",
        "source": {"agency_id": "a", "agency_kind": "mission"},
    }
    far_later = datetime(2040, 1, 1, tzinfo=UTC)
    assert validate(record, stamped=True, now=far_later).occurred_at.minute == 34
    late = changed(record, "occurred_at", "2026-03-01T09:36:00Z")
    assert "occurred_at" in problems(late, stamped=True, now=far_later)


def test_five_minutes_ahead_is_still_fine():
    data = changed(job_offer(), "occurred_at", (NOW + timedelta(minutes=5)).isoformat())
    assert validate(data, now=NOW).occurred_at == NOW + timedelta(minutes=5)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe\x00", b'{"amount": NaN}'])
def test_decode_refuses_what_is_not_a_json_object(raw):
    with pytest.raises(InvalidEvent) as caught:
        decode(raw)
    assert [p.path for p in caught.value.problems] == [""]


def test_a_naive_now_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone"):
        validate(job_offer(), now=datetime(2026, 3, 1))
