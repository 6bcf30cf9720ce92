"""The rows the worker writes, built from the domain's state and events (no SQL statements here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import overload
from uuid import UUID, uuid5

from events import SEVERITY_RANK, Envelope, JobOfferMade, carries
from services.domain import AlertChange, CaseState, RuleConfig, next_deadline
from services.storage.welfare_view import CaseBase

OUTBOX_NAMESPACE = UUID("b7e1c0a2-4f5d-4e83-9b6a-2d8f0c1e5a37")
# The welfare view's fields (declared once, in services/storage/welfare_view.py) that case_row
# converts: enums to their values, the contract to JSON. Every other one is copied from the state
# under its own name, as it is (datetimes stay datetimes).
CONVERTED = frozenset({"stage", "contract", "top_severity"})
PLAIN_COLUMNS = tuple(name for name in CaseBase.model_fields if name not in CONVERTED)


@dataclass(frozen=True)
class Delivered:
    """A decoded event, its envelope as JSON text (for the timeline), and where it was on the log."""

    event: Envelope
    envelope: str
    partition: int | None = None
    offset: int | None = None


def alert_message(change: AlertChange, state: CaseState, event_id: str) -> dict:
    """The alerts-topic message: the alert after the change, the change, and the event behind it."""
    alert = change.alert.model_dump(mode="json", exclude={"note"})  # free text stays off the alerts topic
    alert.update(destination_country=state.destination_country, origin_region=state.origin_region)
    return {"change": change.change, "event_id": event_id, "alert": alert}


def case_row(state: CaseState, rules: RuleConfig) -> dict:
    row = {name: getattr(state, name) for name in PLAIN_COLUMNS}
    top = state.top_severity
    contract = state.contract
    row.update(
        stage=state.stage.value if state.stage is not None else None,
        contract=contract.model_dump(mode="json") if contract is not None else None,
        top_severity=top.value if top is not None else None,
        # What only the table holds (services.storage.tables.Case).
        top_severity_rank=SEVERITY_RANK[top] if top is not None else 0,
        next_deadline=next_deadline(state, rules),
        referrals=referrals_column(state),
        state_json=state.model_dump_json(),
    )
    return row


def referrals_column(state: CaseState) -> list[dict] | None:
    """The case's referrals as the API shows them (SPEC section 10), oldest first; None for none."""
    made = sorted((r for r in state.referrals.values() if r.made), key=lambda r: (r.made_key, r.referral_id))
    return [_json(referral.public()) for referral in made] or None


def _json(value):
    if isinstance(value, datetime):
        return utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value


def timeline_row(delivered: Delivered) -> dict:
    event = delivered.event
    return {
        "event_id": str(event.event_id),
        "case_id": event.case_id,
        "event_type": event.event_type,
        "occurred_at": utc(event.occurred_at),
        "recorded_at": utc(event.recorded_at),
        "envelope_json": delivered.envelope,
        "topic_partition": delivered.partition,
        "topic_offset": delivered.offset,
    }


def offer_row(event: Envelope, state: CaseState) -> dict:
    if not carries(event, JobOfferMade):
        raise ValueError(f"an offer row is made from a recruitment.job_offer_made event, not {event.event_type}")
    offer = event.payload
    return {
        "event_id": str(event.event_id),
        "case_id": event.case_id,
        "offer_id": offer.offer_id,
        "occupation_code": offer.occupation_code,
        "destination_country": offer.destination_country,
        "origin_region": state.origin_region,
        "occurred_at": utc(event.occurred_at),
    }


def alert_row(change: AlertChange, state: CaseState) -> dict:
    row = {name: value.value if isinstance(value, Enum) else value for name, value in change.alert.model_dump().items()}
    row.update(
        severity_rank=-SEVERITY_RANK[change.alert.severity],  # negated: an ascending index lists critical first
        destination_country=state.destination_country,
        origin_region=state.origin_region,
    )
    return row


def outbox_row(message: dict, now: datetime) -> dict:
    alert = message["alert"]
    key = f"{message['event_id']}|{alert['alert_id']}|{message['change']}"
    return {"id": str(uuid5(OUTBOX_NAMESPACE, key)), "case_id": alert["case_id"], "message": message, "created_at": now}


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
@overload
def utc(moment: datetime | None) -> datetime | None: ...
def utc(moment: datetime | None) -> datetime | None:
    """In UTC: SQLite keeps no offset, so every stored instant must already be UTC to compare right."""
    return moment.astimezone(UTC) if moment is not None else None
