"""What the gateway decides about one submitted event, with no I/O: refused (and why) or admitted
as the stamped Kafka record to publish. The HTTP layer turns these into status codes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events import (
    CATALOGUE,
    Envelope,
    InvalidEvent,
    Source,
    WatchlistEntryAdded,
    WatchlistEntryRemoved,
    carries,
    encode,
    may_publish,
    stamp,
    validate,
    watchlist_refusal,
)
from services.hardening import MAX_JSON_DEPTH, too_deep
from services.kafka.producer import Record

MAX_EVENT_BYTES = 256 * 1024  # SPEC section 7: one event's body
MAX_BATCH_EVENTS = 500
# A batch body may hold 500 events of typical size (a few KiB each); one event over 256 KiB inside
# it is refused on its own.
MAX_BATCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Refused:
    """`status` is what a single-event request answers (403, 413 or 422); `errors` are
    `{"path", "message"}` items; `code` names the kind of refusal."""

    status: int
    code: str
    message: str
    errors: list[dict[str, str]] = field(default_factory=list)
    event_id: str | None = None
    event_type: str | None = None  # as sent, when it is a known type (for metrics)


@dataclass(frozen=True)
class Admitted:
    event_id: str
    case_id: str
    event_type: str
    record: Record
    event: Envelope = field(compare=False)  # the stamped event, for binding


class MalformedJson(ValueError):
    """The body is not JSON at all (HTTP 400)."""


def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, nested at most 32 levels (SPEC section 7; checked on
    the bytes first, so no parser recurses into a deep document). Raises `MalformedJson`."""
    problem = too_deep(body)
    if problem is not None:
        raise MalformedJson(problem)
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:  # a last guard: the depth check above counts every bracket
        raise MalformedJson(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels; flatten it") from None
    except UnicodeDecodeError as error:
        raise MalformedJson(f"the body is not UTF-8 text: {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise MalformedJson(
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:  # NaN / Infinity
        raise MalformedJson(f"the body is not valid JSON: {error}") from None


def admit(data: Any, source: Source, *, topic: str, now: datetime) -> Admitted | Refused:
    """Mandate first (an agency learns nothing about events it may not send), then every field
    problem at once, then the stamp: recorded_at = `now`, source = the authenticated agency."""
    event_id = _raw_event_id(data)
    event_type = data.get("event_type") if isinstance(data, dict) else None
    if isinstance(event_type, str) and (event_type in CATALOGUE or event_type.startswith("case.")):
        if event_type.startswith("case.") or not may_publish(source.agency_kind, event_type):
            message = (
                f"an agency of kind {source.agency_kind.value} may not publish {event_type} "
                "(SPEC section 4); ask Passage to register the agency under the right kind"
            )
            detail = f"{event_type} is outside the mandate of kind {source.agency_kind.value}"
            return Refused(403, "forbidden", message, [{"path": "event_type", "message": detail}], event_id, event_type)
    known_type = event_type if isinstance(event_type, str) and event_type in CATALOGUE else None
    try:
        event = validate(data, now=now)
    except InvalidEvent as error:
        errors = [{"path": p.path, "message": p.message} for p in error.problems]
        return Refused(
            422, "invalid", "the event is invalid; fix the fields listed in details", errors, event_id, known_type
        )
    if (refusal := watchlist_refusal(source.agency_kind, event.event_type, event.payload)) is not None:
        return Refused(
            403, "forbidden", refusal, [{"path": "payload.party_kind", "message": refusal}], event_id, event.event_type
        )
    listing = event if carries(event, WatchlistEntryAdded) or carries(event, WatchlistEntryRemoved) else None
    if listing is not None and event.case_id != listing.payload.party_id:
        detail = (
            f"a watchlist event carries its party id as case_id (SPEC section 12): "
            f"send case_id {listing.payload.party_id!r}"
        )
        return Refused(
            422,
            "invalid",
            "the event is invalid; fix the fields listed in details",
            [{"path": "case_id", "message": detail}],
            event_id,
            event.event_type,
        )
    stamped = stamp(event, recorded_at=now, source=source)
    value = encode(stamped)
    if len(value) > MAX_EVENT_BYTES:
        message = f"the event is {len(value)} bytes once stamped; the limit is {MAX_EVENT_BYTES} (256 KiB)"
        return Refused(413, "payload_too_large", message, [{"path": "", "message": message}], event_id, known_type)
    event_id = str(stamped.event_id)
    headers = (
        ("event_type", stamped.event_type.encode()),
        ("schema_version", str(stamped.schema_version).encode()),
        ("event_id", event_id.encode()),
    )
    return Admitted(
        event_id,
        stamped.case_id,
        stamped.event_type,
        Record(topic, key=stamped.case_id, value=value, headers=headers),
        stamped,
    )


def batch_items(data: Any) -> list[Any] | Refused:
    """The items of a batch body `{"events": [...]}` (at most 500; none is fine), or why the
    whole batch is refused (422: it is JSON, just not a batch)."""
    if not isinstance(data, dict):
        return _bad_batch("", 'the body must be a JSON object {"events": [...]}')
    unknown = sorted(set(data) - {"events"})
    if unknown:
        return _bad_batch(unknown[0], 'unknown field; remove it (a batch is {"events": [...]})')
    items = data.get("events")
    if not isinstance(items, list):
        return _bad_batch("events", "required: a JSON array of events")
    if len(items) > MAX_BATCH_EVENTS:
        return _bad_batch("events", f"{len(items)} events; at most {MAX_BATCH_EVENTS} per batch, split it")
    return items


def _bad_batch(path: str, message: str) -> Refused:
    return Refused(
        422, "invalid", "the batch is invalid; fix the fields listed in details", [{"path": path, "message": message}]
    )


def _raw_event_id(data: Any) -> str | None:
    """The event_id as sent, for results and logs, even when the event is refused."""
    value = data.get("event_id") if isinstance(data, dict) else None
    return value[:64] if isinstance(value, str) else None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")
