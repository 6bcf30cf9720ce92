"""Value types shared by every event: codes, money, times (enums live in `events.enums`).

Each constrained string is an `Annotated[str, ...]` whose pydantic check and JSON Schema say
the same thing (country and currency codes become `enum`s in the schema), so the generated
schemas in `schemas/` accept exactly what `events.validate` accepts. The one rule a schema
cannot state is "occurred_at at most 5 minutes in the future" (it depends on the clock).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, cast
from uuid import UUID

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

# The enums are value types too; re-exported (all of `events.enums.__all__`) so `from events.types import
# Stage` works.
from events.enums import *  # noqa: F403

COUNTRY_CODES: tuple[str, ...] = tuple(sorted(country.alpha_2 for country in pycountry.countries))
CURRENCY_CODES: tuple[str, ...] = tuple(sorted(currency.alpha_3 for currency in pycountry.currencies))
_COUNTRIES = frozenset(COUNTRY_CODES)
_CURRENCIES = frozenset(CURRENCY_CODES)

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$"
ISCO_PATTERN = r"^[0-9]{4}$"
YEAR_MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# Canonical decimal: no sign, no exponent, no leading zeros, at most 4 decimals. Canonical so
# that Decimal(s) prints back as exactly s (the amount round-trips as the publisher wrote it).
AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# RFC 3339 date-time; the offset is mandatory (a naive time is ambiguous across agencies).
DATETIME_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


# What each Python check below accepts, said in pydantic-core's own schema (no Python call per
# value): `events.fastpath` validates the log's records with these instead. Keyed by the check;
# the value turns the schema the check wraps into one that accepts, from JSON, exactly what the
# check and that schema accept together, or less (never more: the fast path must not be laxer;
# a record it refuses takes the checks themselves). A check absent here stays a Python call.
# Patterns run on pydantic-core's Rust regex engine; each is written in the syntax both share.
NativeRewrite = Callable[[core_schema.CoreSchema], core_schema.CoreSchema]
NATIVE: dict[Callable[[Any], Any], NativeRewrite] = {}


def _with_pattern(inner: core_schema.CoreSchema, pattern: str) -> core_schema.CoreSchema:
    """`inner` (a str schema without a pattern of its own) that must also match `pattern`."""
    if inner["type"] != "str" or "pattern" in inner:
        raise TypeError(f"expected a str schema without a pattern, got {inner}")
    return cast(core_schema.CoreSchema, {**inner, "pattern": pattern})


def _pattern_then(inner: core_schema.CoreSchema, pattern: str) -> core_schema.CoreSchema:
    """A JSON string matching `pattern`, then parsed by `inner` (a date, datetime or UUID schema)."""
    return core_schema.chain_schema([core_schema.str_schema(pattern=pattern, strict=True), inner])


def _matching(pattern: str, kind: str, message: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _fail(kind, message)
        return value

    NATIVE[check] = lambda inner: _with_pattern(inner, pattern)
    return check


def _member_of(codes: frozenset[str], kind: str, message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in codes:
            raise _fail(kind, message)
        return value

    NATIVE[check] = lambda inner: core_schema.literal_schema(sorted(codes))
    return check


CountryCode = Annotated[
    str,
    AfterValidator(_member_of(_COUNTRIES, "country_code", "not an ISO 3166-1 alpha-2 country code (e.g. 'SA')")),
    WithJsonSchema({"type": "string", "enum": list(COUNTRY_CODES)}),
]
CurrencyCode = Annotated[
    str,
    AfterValidator(_member_of(_CURRENCIES, "currency_code", "not an ISO 4217 code (e.g. 'SAR')")),
    WithJsonSchema({"type": "string", "enum": list(CURRENCY_CODES)}),
]
IscoCode = Annotated[
    str,
    AfterValidator(_matching(ISCO_PATTERN, "isco_code", "not an ISCO-08 unit group code: 4 digits (e.g. '9111')")),
    WithJsonSchema({"type": "string", "pattern": ISCO_PATTERN}),
]
YearMonth = Annotated[
    str,
    AfterValidator(_matching(YEAR_MONTH_PATTERN, "year_month", "not a month: use 'YYYY-MM' (e.g. '2026-03')")),
    WithJsonSchema({"type": "string", "pattern": YEAR_MONTH_PATTERN}),
]
CaseId = Annotated[
    str,
    AfterValidator(
        _matching(
            CASE_ID_PATTERN,
            "case_id",
            f"not a case id: 4-64 letters, digits, '_' or '-', starting with a letter or digit ({CASE_ID_PATTERN})",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": CASE_ID_PATTERN}),
]

# Free text. Limits are ours (SPEC is silent): ids and names short, descriptions bounded so
# one event stays well under the gateway's 256 KiB body limit.
# SPEC section 7 ("Text"): no control character other than tab, LF and CR in any string field
# (a NUL is refused by PostgreSQL, escape codes reach terminals), and a name holds more than
# whitespace. The patterns say the same in JSON Schema; `\s`/`\S` are Python's (and the schema
# checker's) Unicode whitespace, so both sides agree on what "empty after trimming" means.
CONTROL_CHARACTERS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
PLAIN_TEXT_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
NAME_PATTERN = f"^(?=[\\s\\S]*\\S)[^{CONTROL_CHARACTERS}]*$"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_NOT_BLANK = re.compile(r"\S")
CONTROL_MESSAGE = "contains a control character (U+0000-U+001F other than tab, LF and CR, or U+007F); remove it"


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise _fail("control_character", CONTROL_MESSAGE)
    return value


NATIVE[_plain_text] = lambda inner: _with_pattern(inner, PLAIN_TEXT_PATTERN)


def _name(value: str) -> str:
    _plain_text(value)
    if not _NOT_BLANK.search(value):
        raise _fail("blank_name", "is empty after trimming whitespace; send the name")
    return value


def _text(
    max_length: int, *, pattern: str = PLAIN_TEXT_PATTERN, check: Callable[[str], str] = _plain_text
) -> tuple[object, ...]:
    """The checks of a text field, for `Annotated[str, *_text(...)]` (a type checker sees a str)."""
    return (
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(check),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern}),
    )


Id = Annotated[str, *_text(128)]
Name = Annotated[str, *_text(200, pattern=NAME_PATTERN, check=_name)]
Text = Annotated[str, *_text(10_000)]
Phone = Annotated[str, *_text(32)]


def _strict_int(value: Any) -> Any:
    # JSON Schema's "integer" admits 5.0 but never true or "5"; so do we.
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise _fail("int_type", "not an integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict: only a JSON integer (`5.0` then takes the Python check, which accepts it).
def _strictly(inner: core_schema.CoreSchema) -> core_schema.CoreSchema:
    if inner["type"] != "int":
        raise TypeError(f"expected an int schema, got {inner}")
    return cast(core_schema.CoreSchema, {**inner, "strict": True})


NATIVE[_strict_int] = _strictly
Int = Annotated[int, BeforeValidator(_strict_int)]


def _pattern_string(pattern: str, kind: str, message: str, passthrough: type) -> Callable[[Any], Any]:
    """Before-validator: a python `passthrough` instance as is, else a string matching `pattern`."""
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, passthrough):
            return value
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise _fail(kind, message)
        return value

    NATIVE[check] = lambda inner: _pattern_then(inner, pattern)
    return check


def _require_offset(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:  # naive (tzinfo None), or a tzinfo that knows no offset
        raise _fail("timezone_aware", "needs a UTC offset (e.g. '2026-03-01T09:30:00Z')")
    if offset.total_seconds() % 60:  # RFC 3339 offsets are whole minutes
        raise _fail("timezone_offset", "the UTC offset must be whole minutes")
    return value


_NAIVE = re.compile(DATETIME_PATTERN.split("([Zz]")[0] + "$")
_DATETIME = re.compile(DATETIME_PATTERN)


def _datetime(value: Any) -> Any:
    # The valid case first (every record on the log): one match; the naive check only explains a refusal.
    if isinstance(value, str) and _DATETIME.fullmatch(value) or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _NAIVE.fullmatch(value):
        raise _fail("timezone_aware", "needs a UTC offset (e.g. '2026-03-01T09:30:00Z')")
    raise _fail("datetime_format", "not an RFC 3339 date-time with offset (e.g. '2026-03-01T09:30:00Z')")


NATIVE[_datetime] = lambda inner: _pattern_then(inner, DATETIME_PATTERN)
# From JSON a datetime is a string `_datetime` matched first, and DATETIME_PATTERN demands an
# offset of whole minutes: nothing is left to check.
NATIVE[_require_offset] = lambda inner: inner
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_datetime),
    AfterValidator(_require_offset),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}),
]
Date = Annotated[
    date,
    BeforeValidator(_pattern_string(DATE_PATTERN, "date_format", "not a date: use 'YYYY-MM-DD'", date)),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
EARLIEST_BIRTH = date(1900, 1, 1)
BIRTH_DATE_PATTERN = r"^(19[0-9]{2}|[2-9][0-9]{3})" + DATE_PATTERN.removeprefix("^[0-9]{4}")


def _born_since_1900(value: date) -> date:
    if value < EARLIEST_BIRTH:
        raise _fail("date_of_birth_range", "before 1900-01-01; check the year")
    return value


# The upper bound (not after the day the event is published) depends on the clock: `codec` checks it.
BirthDate = Annotated[
    date,
    BeforeValidator(_pattern_string(DATE_PATTERN, "date_format", "not a date: use 'YYYY-MM-DD'", date)),
    AfterValidator(_born_since_1900),
    WithJsonSchema({"type": "string", "format": "date", "pattern": BIRTH_DATE_PATTERN}),
]
EventId = Annotated[
    UUID,
    BeforeValidator(
        _pattern_string(UUID_PATTERN, "uuid_format", "not a UUID (e.g. '3b0c6f1e-8a52-4c1e-9a49-2f4d2b0e7a10')", UUID)
    ),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_PATTERN}),
]


def _amount(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise _fail("amount_type", 'must be a decimal string (e.g. "1500.00"), not a number: floats lose cents')
    if text.startswith("-"):
        raise _fail("amount_negative", "must not be negative")
    if not re.fullmatch(AMOUNT_PATTERN, text):
        raise _fail(
            "amount_format", 'not a decimal amount: digits with up to 4 decimals, no leading zeros (e.g. "1500.00")'
        )
    try:
        return Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only valid decimals
        raise _fail("amount_format", "not a decimal amount") from error


# A JSON string of AMOUNT_PATTERN (no sign) read by pydantic-core as `Decimal(text)` would be.
NATIVE[_amount] = lambda inner: _pattern_then(inner, AMOUNT_PATTERN)
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}),
]


class Money(BaseModel):
    """`{"amount": "1500.00", "currency": "SAR"}`; amount is a Decimal, written back as given."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: Amount
    currency: CurrencyCode


# Bounds before the validator: the other order leaves raw "ge"/"le" keys in the JSON Schema.
Level = Annotated[int, Field(ge=1, le=10), BeforeValidator(_strict_int)]
Months = Annotated[int, Field(ge=1, le=120), BeforeValidator(_strict_int)]
