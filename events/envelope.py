"""The envelope around every event (SPEC section 2) and the gateway's stamp on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic

from pydantic import BaseModel, ConfigDict, SerializeAsAny, ValidationInfo, model_validator
from typing_extensions import TypeIs, TypeVar

from events.payloads import Payload
from events.types import AgencyKind, AwareDatetime, CaseId, EventId, Id, Int

# validate() checks the payload against the catalogue it was given and says so in the context,
# so the check below (for envelopes built directly in Python) does not run twice.
CHECKED = "events.payload_checked"

# The payload model an envelope carries. Covariant: an `Envelope[WagePaid]` is an `Envelope`
# (`Envelope[Payload]`, the default), which is what `decode` and `validate` return.
P = TypeVar("P", bound=Payload, covariant=True, default=Payload)
M = TypeVar("M", bound=Payload)


class Source(BaseModel):
    """The authenticated publisher, as the gateway saw it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    agency_id: Id
    agency_kind: AgencyKind


class Envelope(BaseModel, Generic[P]):
    """One event. `payload` is the typed model of `event_type` at `schema_version`.

    Build from untrusted data with `events.validate` / `events.decode` (which upcast older
    versions, so an Envelope always holds its type's latest version). Direct construction in
    Python is checked against the global catalogue. Statically, `Envelope[WagePaid]` is an
    envelope of `deployment.wage_paid`; `carries(event, WagePaid)` narrows an `Envelope` to it.
    At run time every envelope is a plain `Envelope` (validation never parametrizes it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_id: EventId
    event_type: str  # a key of events.catalogue.CATALOGUE
    schema_version: Int
    case_id: CaseId
    occurred_at: AwareDatetime
    correlation_id: Id | None = None
    payload: SerializeAsAny[P]
    recorded_at: AwareDatetime | None = None  # set by the gateway, UTC
    source: Source | None = None  # set by the gateway

    @model_validator(mode="after")
    def _payload_matches_type(self, info: ValidationInfo[Any]) -> Envelope[P]:
        if info.context and info.context.get(CHECKED):
            return self
        from events.catalogue import CATALOGUE  # the catalogue imports payloads, not envelopes

        spec = CATALOGUE.get(self.event_type)
        if spec is None:
            raise ValueError(f"unknown event type {self.event_type!r}")
        model = spec.models.get(self.schema_version)
        if type(self.payload) is not model:
            expected = model.__name__ if model else f"one of versions {sorted(spec.models)}"
            raise ValueError(
                f"payload of {self.event_type} v{self.schema_version} must be {expected}, "
                f"got {type(self.payload).__name__}"
            )
        return self

    @property
    def stamped(self) -> bool:
        return self.recorded_at is not None and self.source is not None


def carries(event: Envelope, model: type[M]) -> TypeIs[Envelope[M]]:
    """Is `event` of the event type whose payload model is `model` (its latest version)?

    The envelope's validator holds each event type to its own model, so this is the event type
    check (`event.event_type == "deployment.wage_paid"`) in a form a type checker follows: after
    `if carries(event, WagePaid):`, `event.payload.amount` is known to be Money."""
    return type(event.payload) is model


def stamp(event: Envelope[P], *, recorded_at: datetime, source: Source) -> Envelope[P]:
    """A copy of `event` with the gateway's fields set; `recorded_at` is stored in UTC."""
    if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        raise ValueError("recorded_at needs a timezone (use datetime.now(UTC))")
    if not isinstance(source, Source):
        source = Source.model_validate(source)
    return event.model_copy(update={"recorded_at": recorded_at.astimezone(UTC), "source": source})
