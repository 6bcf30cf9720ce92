"""Validate, decode and encode envelopes, reporting every problem with its field path.

`validate(data)` is the publisher's form (what an agency POSTs); `decode(raw)` reads a record
back from the log (stamped by the gateway). Both upcast older schema versions to the latest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from events.catalogue import CATALOGUE, EventSpec
from events.envelope import CHECKED, Envelope
from events.fastpath import decode_valid
from events.payloads import Payload
from events.types import AwareDatetime
from events.upcasting import upcast

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks drift; a later occurred_at is a mistake
EARLIEST = datetime(1950, 1, 1, tzinfo=UTC)
GATEWAY_FIELDS = ("recorded_at", "source")
_PLACEHOLDER = Payload()  # stands in for an invalid payload so envelope problems still show
_DATETIME = TypeAdapter(AwareDatetime)
_MESSAGES = {
    "extra_forbidden": "unknown field; remove it",
    "missing": "required field is missing",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an event: a dotted field path ('' for the whole event) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(event)'}: {self.message}"


class InvalidEvent(ValueError):
    """The event was refused; `problems` lists every reason, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def validate(
    data: Any, *, now: datetime | None = None, stamped: bool = False, catalogue: Mapping[str, EventSpec] = CATALOGUE
) -> Envelope:
    """Check an envelope and its payload; return it with the payload upcast to the latest version.

    `stamped=False`: the publisher's form, where recorded_at/source are refused (the gateway
    sets them). `stamped=True`: a record from the log, which must carry them; occurred_at is then
    judged against recorded_at instead of `now`, so a replay years later gives the same answer.
    """
    if not isinstance(data, dict):
        raise InvalidEvent([Problem("", "an event must be a JSON object")])
    problems: list[Problem] = []
    for name in GATEWAY_FIELDS:
        if stamped and name not in data:
            problems.append(Problem(name, "required on records from the log (the gateway stamps it)"))
        elif not stamped and name in data:
            problems.append(Problem(name, "set by the gateway; remove it"))

    payload, version, payload_problems = _payload(data, catalogue)
    fields = {name: value for name, value in data.items() if stamped or name not in GATEWAY_FIELDS}
    fields["payload"] = payload if payload is not None else _PLACEHOLDER
    if payload is not None:
        fields["schema_version"] = version  # after upcasting, the envelope says what it holds
    flagged = {problem.path for problem in payload_problems}
    try:
        event = Envelope.model_validate(fields, context={CHECKED: True})
    except ValidationError as error:
        event = None
        problems += [problem for problem in _problems(error) if problem.path not in flagged]
    problems += payload_problems + _time_problems(data, now, stamped, event)
    if problems or event is None:
        raise InvalidEvent(problems)
    return event


def decode(raw: bytes | str, *, catalogue: Mapping[str, EventSpec] = CATALOGUE) -> Envelope:
    """Read one record from the log: JSON, stamped form, upcast to the latest version."""
    if catalogue is CATALOGUE:  # the common case in one call; anything else gets the full report
        event = decode_valid(raw)
        if event is not None and not _time_problems({}, None, True, event):
            return event
    try:
        if isinstance(raw, (bytes, bytearray)):  # as json.loads does: UTF-8, -16 or -32
            raw = raw.decode(json.detect_encoding(raw), "surrogatepass")
        data = _JSON.decode(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidEvent([Problem("", f"not valid JSON: {error}")]) from None
    return validate(data, stamped=True, catalogue=catalogue)


def encode(event: Envelope) -> bytes:
    """Compact UTF-8 JSON. Unset gateway fields are left out, so an unstamped event encodes to
    the publisher's form; money amounts are written exactly as read, datetimes as RFC 3339."""
    unset = {name for name in GATEWAY_FIELDS if getattr(event, name) is None}
    return event.model_dump_json(exclude=unset).encode()


def _payload(data: dict[str, Any], catalogue: Mapping[str, EventSpec]) -> tuple[Payload | None, int, list[Problem]]:
    """The payload as the latest model, the version it now has, and the problems found."""
    event_type = data.get("event_type")
    spec = catalogue.get(event_type) if isinstance(event_type, str) else None
    if spec is None:
        if "event_type" not in data:
            return None, 0, []  # the envelope check reports the missing field
        return None, 0, [Problem("event_type", f"unknown event type {event_type!r}; see schemas/ for the catalogue")]
    version = data.get("schema_version")
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # 1.0 is the integer 1 in JSON (and JSON Schema)
    if type(version) is not int or version not in spec.models:  # `type`: True is not a version
        if "schema_version" not in data:
            return None, 0, []
        known = ", ".join(str(known_version) for known_version in sorted(spec.models))
        return (
            None,
            0,
            [Problem("schema_version", f"unknown schema_version {version!r} for {spec.event_type}; known: {known}")],
        )
    model = spec.models[version]
    if "payload" not in data:
        return None, 0, [Problem("payload", _MESSAGES["missing"])]
    if not isinstance(data["payload"], dict):
        return None, 0, [Problem("payload", "must be a JSON object")]
    try:
        payload = model.model_validate(data["payload"])
    except ValidationError as error:
        return None, 0, _problems(error, "payload")
    if version == spec.latest_version:
        return payload, version, []
    try:
        upgraded = upcast(spec, payload.model_dump(mode="json"), version)
        return spec.models[spec.latest_version].model_validate(upgraded), spec.latest_version, []
    except (ValidationError, LookupError) as error:  # a bug in an upcaster, not in the event
        return None, 0, [Problem("payload", f"could not upgrade v{version} to v{spec.latest_version}: {error}")]


def _time_problems(data: dict[str, Any], now: datetime | None, stamped: bool, event: Envelope | None) -> list[Problem]:
    if event is not None:  # the envelope check parsed both times already (a quarter of decode's cost)
        occurred_at, reference = event.occurred_at, event.recorded_at if stamped else now or datetime.now(UTC)
        if reference is None:
            return []  # a null recorded_at: nothing to judge occurred_at against
    else:
        try:
            occurred_at = _DATETIME.validate_python(data.get("occurred_at"))
        except ValidationError:
            return []  # the envelope check reports the malformed value
        reference = now or datetime.now(UTC)
        if stamped:
            try:
                reference = _DATETIME.validate_python(data.get("recorded_at"))
            except ValidationError:
                return []
    if reference.tzinfo is None:
        raise ValueError("now needs a timezone (use datetime.now(UTC))")
    problems = []
    if occurred_at > reference + FUTURE_TOLERANCE:
        problems.append(
            Problem("occurred_at", "more than 5 minutes in the future; send the time it happened, with its UTC offset")
        )
    elif occurred_at < EARLIEST:
        problems.append(Problem("occurred_at", "before 1950; check the year"))
    # Any payload's birth date; read from the fields themselves, since `getattr` on a payload
    # without one goes through pydantic's `__getattr__` and an AttributeError (most of this check's cost).
    born = event.payload.__dict__.get("date_of_birth") if event is not None else None
    # SPEC section 7: not after the day it is published (the UTC day of recorded_at, or of `now`
    # at the gateway), so a replay judges a record exactly as the gateway did.
    if born is not None and born > reference.astimezone(UTC).date():
        problems.append(Problem("payload.date_of_birth", "after the day the event is published; check the date"))
    return problems


def _problems(error: ValidationError, prefix: str = "") -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "")
        message = _MESSAGES.get(detail["type"]) or detail["msg"].removeprefix("Value error, ")
        problems.append(Problem(path, message))
    return problems


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_no_constants)  # built once: json.loads builds one per call
