"""Hypothesis strategies for every event type, built from the payload models' annotations,
plus a few hand-written samples. Shared by the event tests (a helper, not a test module)."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

from hypothesis import strategies as st
from pydantic import BaseModel

from events import CATALOGUE, Envelope, EventSpec, Source
from events.types import (
    AMOUNT_PATTERN,
    CASE_ID_PATTERN,
    COUNTRY_CODES,
    CURRENCY_CODES,
    AgencyKind,
    Amount,
    AwareDatetime,
    BirthDate,
    CountryCode,
    CurrencyCode,
    Date,
    Id,
    IscoCode,
    Level,
    Months,
    Name,
    Phone,
    Text,
    YearMonth,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # validate(now=NOW) in tests: no wall clock
# Strings as SPEC section 7 admits them: no control character but tab, LF, CR; names not blank.
_plain = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)],
)
_text = st.text(_plain, min_size=1, max_size=12)
_name = _text.filter(lambda value: not value.isspace() and bool(value.split()))
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def aware_datetimes(low: datetime = datetime(1950, 1, 2), high: datetime = datetime(2026, 2, 28)):
    return st.builds(lambda naive, tz: naive.replace(tzinfo=tz), st.datetimes(min_value=low, max_value=high), _offsets)


_BY_ALIAS = [
    (CountryCode, st.sampled_from(COUNTRY_CODES)),
    (CurrencyCode, st.sampled_from(CURRENCY_CODES)),
    (IscoCode, st.from_regex(r"[0-9]{4}", fullmatch=True)),
    (YearMonth, st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1950, 2100), st.integers(1, 12))),
    (Amount, st.from_regex(AMOUNT_PATTERN, fullmatch=True).map(Decimal)),
    (Id, _text),
    (Name, _name),
    (Phone, _text),
    (Text, st.text(_plain, min_size=1, max_size=40)),
    (Level, st.integers(1, 10)),
    (Months, st.integers(1, 120)),
    (Date, st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))),
    # Born before every generated occurred_at (1950 on), so never after the day it is published.
    (BirthDate, st.dates(min_value=date(1900, 1, 1), max_value=date(1949, 12, 31))),
    (AwareDatetime, aware_datetimes()),
]


def for_annotation(annotation) -> st.SearchStrategy:
    for alias, strategy in _BY_ALIAS:
        if annotation == alias:
            return strategy
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([st.none() if a is type(None) else for_annotation(a) for a in args])
    if origin is tuple:  # tuple[X, ...]
        return st.lists(for_annotation(args[0]), max_size=3).map(tuple)
    if annotation is bool:
        return st.booleans()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from(list(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return for_model(annotation)
    raise TypeError(f"no strategy for {annotation!r}: add it to event_samples._BY_ALIAS")


def for_model(model: type[BaseModel]) -> st.SearchStrategy:
    hints = typing.get_type_hints(model, include_extras=True)
    fields = {name: for_annotation(hints[name]) for name in model.model_fields}
    return st.fixed_dictionaries(fields).map(lambda values: model(**values))


@st.composite
def envelopes(draw, spec: EventSpec, *, stamped: bool) -> Envelope:
    occurred_at = draw(aware_datetimes())
    fields = dict(
        event_id=draw(st.uuids()),
        event_type=spec.event_type,
        schema_version=spec.latest_version,
        case_id=draw(st.from_regex(CASE_ID_PATTERN, fullmatch=True)),
        occurred_at=occurred_at,
        correlation_id=draw(st.none() | _text),
        payload=draw(for_model(spec.models[spec.latest_version])),
    )
    if stamped:
        fields["recorded_at"] = occurred_at.astimezone(UTC) + timedelta(seconds=draw(st.integers(-300, 10**8)))
        fields["source"] = Source(agency_id=draw(_text), agency_kind=draw(st.sampled_from(list(AgencyKind))))
    return Envelope(**fields)


def job_offer() -> dict:
    """A valid publisher-form event, as an agency would POST it."""
    return {
        "event_id": "3b0c6f1e-8a52-4c1e-9a49-2f4d2b0e7a10",
        "event_type": "recruitment.job_offer_made",
        "schema_version": 1,
        "case_id": "IN-2026-000123",
        "occurred_at": "2026-03-01T09:30:00Z",
        "correlation_id": None,
        "payload": {
            "offer_id": "OF-1",
            "employer_id": "EMP-7",
            "employer_name": "Gulf Build LLC",
            "destination_country": "SA",
            "occupation_code": "7112",
            "monthly_wage": {"amount": "1500.00", "currency": "SAR"},
            "contract_months": 24,
            "recruiting_agent_id": "RA-3",
        },
    }


def registration() -> dict:
    return {
        "event_id": "7d5e2c59-1111-4c1e-9a49-2f4d2b0e7a10",
        "event_type": "migrant.registered",
        "schema_version": 1,
        "case_id": "NP_2026_42",
        "occurred_at": "2026-01-10T08:00:00+05:45",
        "payload": {
            "given_name": "Sita",
            "family_name": "Rai",
            "date_of_birth": "1998-04-12",
            "sex": "female",
            "nationality": "NP",
            "origin_region": "Koshi",
            "phone": "+9779800000000",
            "aspirations": {"occupations": ["5322"], "countries": ["QA", "MY"]},
            "consent": {"data_sharing": True},
        },
    }


def all_specs() -> list[EventSpec]:
    return list(CATALOGUE.values())
