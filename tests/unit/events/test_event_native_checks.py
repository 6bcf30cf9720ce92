"""`events.types.NATIVE`: each Python check's pydantic-core equivalent, which the fast decode
(`events.fastpath`) runs instead, accepts from JSON only what the check accepts (with the same
value), and accepts the valid values the check accepts, so the log's records keep the fast path.

Each constrained type is validated from JSON twice: by its own TypeAdapter (the Python checks)
and by the same core schema rewritten as the fast path rewrites it (`fastpath._native`)."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from events import fastpath
from events.types import (
    AMOUNT_PATTERN,
    CASE_ID_PATTERN,
    COUNTRY_CODES,
    CURRENCY_CODES,
    DATE_PATTERN,
    DATETIME_PATTERN,
    ISCO_PATTERN,
    NATIVE,
    UUID_PATTERN,
    YEAR_MONTH_PATTERN,
    Amount,
    AwareDatetime,
    BirthDate,
    CaseId,
    CountryCode,
    CurrencyCode,
    Date,
    EventId,
    Id,
    Int,
    IscoCode,
    Level,
    Months,
    Name,
    Phone,
    Text,
    YearMonth,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
# A value of each type that is valid, and JSON values around it that may not be.
TYPES: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "CountryCode": (CountryCode, st.sampled_from(COUNTRY_CODES)),
    "CurrencyCode": (CurrencyCode, st.sampled_from(CURRENCY_CODES)),
    "IscoCode": (IscoCode, st.from_regex(ISCO_PATTERN, fullmatch=True)),
    "YearMonth": (YearMonth, st.from_regex(YEAR_MONTH_PATTERN, fullmatch=True)),
    "CaseId": (CaseId, st.from_regex(CASE_ID_PATTERN, fullmatch=True)),
    "Id": (Id, ANY_TEXT),
    "Name": (Name, ANY_TEXT),
    "Text": (Text, ANY_TEXT),
    "Phone": (Phone, ANY_TEXT),
    "Int": (Int, st.integers()),
    "Level": (Level, st.integers(-2, 12)),
    "Months": (Months, st.integers(-2, 130)),
    "AwareDatetime": (AwareDatetime, st.from_regex(DATETIME_PATTERN, fullmatch=True)),
    "Date": (Date, st.from_regex(DATE_PATTERN, fullmatch=True)),
    "BirthDate": (BirthDate, st.from_regex(DATE_PATTERN, fullmatch=True)),
    "EventId": (EventId, st.from_regex(UUID_PATTERN, fullmatch=True)),
    "Amount": (Amount, st.from_regex(AMOUNT_PATTERN, fullmatch=True)),
}
NEAR_MISSES = st.one_of(
    ANY_TEXT,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.just("2026-03-01T09:30:00"),
    st.just("2026-03-01T09:30:00+05:30\n"),
    st.just("\n2026-03-01"),
    st.just("9111\n"),
    st.just("x\u0000y"),
    st.just("x\u007fy"),
    st.just("   "),
    st.just("sa"),
    st.just("-1.00"),
    st.just("01.5"),
    st.just("1.23456"),
    st.just("1e3"),
)


def _validators(annotation: Any) -> tuple[TypeAdapter[Any], SchemaValidator]:
    checked = TypeAdapter(annotation)
    return checked, fastpath._validator(fastpath._native(checked.core_schema))


VALIDATORS = {name: _validators(annotation) for name, (annotation, _valid) in TYPES.items()}


def _outcome(validate: Any, raw: str) -> tuple[bool, Any]:
    try:
        return True, validate(raw)
    except ValidationError:
        return False, None


@pytest.mark.parametrize("name", TYPES)
@SETTINGS
@given(data=st.data())
def test_the_native_check_accepts_only_what_the_python_check_accepts(name, data):
    checked, native = VALIDATORS[name]
    value = data.draw(st.one_of(TYPES[name][1], NEAR_MISSES))
    raw = json.dumps(value)
    native_ok, native_value = _outcome(native.validate_json, raw)
    checked_ok, checked_value = _outcome(checked.validate_json, raw)
    if native_ok:
        assert checked_ok, f"{name}: the fast path accepts {raw}, which the checks refuse"
        assert repr(native_value) == repr(checked_value)  # the same type and value (an amount's exponent too)


@pytest.mark.parametrize("name", TYPES)
@SETTINGS
@given(data=st.data())
def test_the_native_check_accepts_every_valid_json_value(name, data):
    checked, native = VALIDATORS[name]
    raw = json.dumps(data.draw(TYPES[name][1]))
    checked_ok, checked_value = _outcome(checked.validate_json, raw)
    if checked_ok:
        native_ok, native_value = _outcome(native.validate_json, raw)
        assert native_ok and repr(native_value) == repr(checked_value)


def test_the_rewrites_leave_no_python_check_they_know():
    """The fast path's schema holds no function NATIVE rewrites (the rewrite reached every use)."""
    found: list[Any] = []

    def walk(schema: Any) -> None:
        if isinstance(schema, list):
            for part in schema:
                walk(part)
        elif isinstance(schema, dict):
            if schema.get("type") in ("function-before", "function-after"):
                found.append(schema["function"]["function"])
            for part in schema.values():
                walk(part)

    walk(fastpath._native(TypeAdapter(fastpath._TAGGED).core_schema))
    assert found and not [function for function in found if function in NATIVE]
