"""What the query API says and accepts: response models separate from the table models.

Rows are read column by column (`sql.fields(cases, CasePublic)`), so a case's folded `state`
JSON and the sweep's bookkeeping never leave the database. Request bodies forbid unknown fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from fastapi import Response
from pydantic import BaseModel, ConfigDict
from sqlmodel._compat import SQLModelConfig

from events.types import Text
from services.storage.welfare_view import CaseBase, UtcDatetime


def respond(model: BaseModel, status: int = 200) -> Response:
    """The model as JSON, serialized once by pydantic. Routes return this rather than the model:
    they build it from validated rows already, and FastAPI would validate it again (in one more
    worker-thread hop for a sync route). `response_model=` on each route still documents it."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


class MoneyPublic(BaseModel):
    amount: str
    currency: str


class ContractPublic(BaseModel):
    contract_id: str
    monthly_wage: MoneyPublic | None = None
    contract_months: int | None = None


class CasePublic(CaseBase):
    """The welfare view of one case (SPEC sections 5, 9, 10): the fields of `CaseBase`, declared
    there once, in that order. Identity fields are null to officers a withheld consent hides them from."""

    # Every field is in every answer: the OpenAPI document says so, though the base gives defaults.
    model_config = SQLModelConfig(json_schema_serialization_defaults_required=True)

    # The stored JSON, validated into its typed shape on the way out (the field keeps its place;
    # a narrower type than the base's, as the FastAPI template's `UserUpdate` overrides `email`).
    contract: ContractPublic | None = None  # type: ignore[assignment]

    # An answer is never a table row, so it is built as pydantic builds any model: SQLModel's own
    # construction (its __new__, __init__ and model_validate, there for SQLAlchemy's instrumentation
    # of table models) costs half as much again per case, on every case of a list page.
    def __new__(cls, *args: Any, **kwargs: Any) -> CasePublic:
        return object.__new__(cls)

    __init__ = BaseModel.__init__

    @classmethod
    def model_validate(  # type: ignore[override]
        cls, obj: Any, *, strict: bool | None = None, from_attributes: bool | None = None, context: Any | None = None
    ) -> Self:
        return cls.__pydantic_validator__.validate_python(
            obj, strict=strict, from_attributes=from_attributes, context=context
        )


class AlertPublic(BaseModel):
    """One alert of the protection view (SPEC section 6)."""

    alert_id: str
    case_id: str
    code: str
    severity: str
    status: str
    raised_at: UtcDatetime
    trigger_event_id: str | None
    acknowledged_by: str | None
    acknowledged_at: UtcDatetime | None
    resolved_by: str | None
    resolved_at: UtcDatetime | None
    note: str | None
    escalated_at: UtcDatetime | None = None  # SPEC section 10


class ReferralStepPublic(BaseModel):
    status: str
    at: UtcDatetime
    by: str | None


class ReferralPublic(BaseModel):
    """One referral of the case and its answers (SPEC section 10)."""

    referral_id: str
    service: str
    to_agency_id: str
    officer_id: str
    status: str  # made | accepted | declined | completed
    made_at: UtcDatetime
    answered_at: UtcDatetime | None
    outcome: str | None
    reason: str | None
    history: list[ReferralStepPublic]


class CaseDetail(CasePublic):
    alerts: list[AlertPublic]  # the case's unresolved alerts, most severe first
    referrals: list[ReferralPublic] = []  # oldest first


class CasePage(BaseModel):
    items: list[CasePublic]
    next_cursor: str | None


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


class SourcePublic(BaseModel):
    agency_id: str
    agency_kind: str


class TimelineEntry(BaseModel):
    """One event as it was on the log: the envelope plus the gateway's recorded_at and source."""

    event_id: str
    event_type: str
    schema_version: int
    case_id: str
    occurred_at: datetime
    correlation_id: str | None = None
    payload: dict[str, Any]
    recorded_at: datetime | None = None
    source: SourcePublic | None = None


class Timeline(BaseModel):
    events: list[TimelineEntry]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(Body):
    text: Text


class AcknowledgeIn(Body):
    note: Text | None = None


class ResolveIn(Body):
    note: Text


class Accepted(BaseModel):
    event_id: str


class StageCount(BaseModel):
    destination_country: str | None
    stage: str | None
    count: int


class StageStats(BaseModel):
    items: list[StageCount]


class SkillCount(BaseModel):
    occupation_code: str | None
    destination_country: str | None
    job_ready: int
    offers_365d: int
    deployed: int


class SkillStats(BaseModel):
    items: list[SkillCount]


class AuditPublic(BaseModel):
    id: int
    officer_id: str
    case_id: str | None  # one case read; null for a page
    action: str
    at: UtcDatetime
    case_ids: list[str] | None = None  # a page of /v1/cases or /v1/alerts: the cases it returned


class AuditPage(BaseModel):
    items: list[AuditPublic]
    next_cursor: str | None
