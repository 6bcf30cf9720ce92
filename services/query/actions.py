"""Officer actions become events on the journey topic (SPEC section 3, "Officer actions").

The query service never writes the views: it publishes `case.note_added`,
`case.alert_acknowledged` or `case.alert_resolved` through the one Publisher, stamped with
Passage's own source, and the worker folds them like any other event. The route answers 202
only after Kafka acknowledged the record; 503 when it did not (nothing was promised).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from events import CATALOGUE, InvalidEvent, Source, encode, stamp, validate
from events.types import AgencyKind
from services.kafka.producer import PublishFailed, Record
from services.logs import get_logger
from services.privacy import Keyring, Sealer
from services.query.deps import Clients
from services.web import ApiError

log = get_logger(__name__)
QUERY_SOURCE = Source(agency_id="passage-query", agency_kind=AgencyKind.passage)


def publish_officer_event(clients: Clients, event_type: str, case_id: str, payload: dict[str, Any]) -> str:
    """Validate, stamp and publish one officer event; returns its event_id once Kafka acknowledged it."""
    now = datetime.now(UTC)
    data = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": CATALOGUE[event_type].latest_version,
        "case_id": case_id,
        "occurred_at": now.isoformat(),
        "payload": payload,
    }
    try:
        event = stamp(validate(data, now=now), recorded_at=now, source=QUERY_SOURCE)
    except InvalidEvent as error:  # the request models carry the same limits; this is a last guard
        details = [{"path": p.path, "message": p.message} for p in error.problems]
        raise ApiError(422, "the officer event would be invalid; fix the fields listed in details", details) from None
    record = Record(
        topic=clients.settings.journey_topic,
        key=case_id,
        value=encode(event),
        headers=(
            ("event_type", event_type.encode()),
            ("schema_version", str(event.schema_version).encode()),
            ("event_id", data["event_id"].encode()),
        ),
    )
    try:
        clients.publisher.publish(Sealer(clients.engine, Keyring.from_settings(clients.settings)).seal([record]))
    except PublishFailed as error:
        log.warning("officer event not acknowledged", event_type=event_type, case_id=case_id, error=str(error))
        raise ApiError(
            503, "Kafka did not acknowledge the event, so nothing was recorded; retry in a few seconds",
            headers={"Retry-After": "5"},
        ) from None
    log.info("officer event published", event_type=event_type, case_id=case_id, event_id=data["event_id"])
    return data["event_id"]
