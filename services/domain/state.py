"""What one case's events fold into: the welfare view (SPEC section 5), the facts the alert rules
need, and the case's alerts (section 6). Pure data; `welfare.apply` and `alerts.evaluate` fill it.

The worker stores `state.model_dump(mode="json")` in a JSON column and reloads it with
`CaseState.model_validate`; the derived view fields (stage, stage_since, contract, event_count,
open_alerts, top_severity) are computed fields: dumped for readers, ignored on reload, never stale.

Order-independence rests on one sort key per event, `Key = (occurred_at, recorded_at, event_id)`
(SPEC's timeline order), and three mergeable structures:
- `written`: a last-writer-wins register per field: a field takes an event's value only when that
  event's key is greater than the key of the event that wrote it last (`CaseState.put`);
- `stages`: the sorted (key, stage) of every stage-bearing event; the stage is the last one's;
- `seen`: the event_ids already folded, so a duplicate changes nothing.
Each is a function of the set of events, not of the order they arrived in.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_serializer

from events import AlertCode, AlertStatus, Envelope, Money, Severity, Stage

Key = tuple[datetime, datetime, str]
"""(occurred_at, recorded_at, event_id) in UTC; an unstamped event sorts first among equals."""
UNSTAMPED = datetime.min.replace(tzinfo=UTC)
_CONTAINERS = ("offers", "contracts", "clearances", "wages", "alerts", "written", "stages", "seen")
Wellbeing = Literal["unknown", "ok", "concern", "distress"]


def key_of(event: Envelope) -> Key:
    """The SPEC section 5 sort key of an `events.Envelope`."""
    recorded = event.recorded_at.astimezone(UTC) if event.recorded_at else UNSTAMPED
    return (event.occurred_at.astimezone(UTC), recorded, str(event.event_id))


SEVERITY_RANK = {Severity.critical: 3, Severity.high: 2, Severity.medium: 1}  # critical > high > medium


class Alert(BaseModel):
    """One alert of the protection view (SPEC section 6)."""

    alert_id: str
    case_id: str
    code: AlertCode
    severity: Severity
    status: AlertStatus = AlertStatus.open
    raised_at: datetime
    trigger_event_id: str | None  # None for time rules
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None

    @property
    def unresolved(self) -> bool:
        return self.status != AlertStatus.resolved


class Contract(BaseModel):
    """The welfare view's contract; wage and months are unknown for a contract never signed here."""

    contract_id: str
    monthly_wage: Money | None = None
    contract_months: int | None = None


class Offer(BaseModel):
    key: Key
    employer_id: str
    monthly_wage: Money
    contract_months: int
    recruiting_agent_id: str | None = None  # offers only (a contract names no agent); None in older states


class Wage(BaseModel):
    """A wage_paid for one period (the latest by key, if a period was paid twice): the scorecards
    compare what was paid with what was contracted."""

    key: Key
    amount: Money


class Signed(Offer):
    """A signed contract: the offer's terms as signed, plus which offer it answers."""

    offer_id: str


class CaseState(BaseModel):
    # The stored dump carries the computed fields for readers; reloading ignores them.
    model_config = ConfigDict(extra="ignore")

    case_id: str
    # Welfare view registers (each written last-writer-wins by key, see `put`).
    given_name: str | None = None
    family_name: str | None = None
    nationality: str | None = None
    origin_region: str | None = None
    occupation_code: str | None = None
    destination_country: str | None = None
    employer_id: str | None = None
    contract_id: str | None = None
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    last_wage_period: str | None = None
    last_wage_at: datetime | None = None
    last_welfare_check_at: datetime | None = None
    wellbeing: Wellbeing = "unknown"
    returned_at: datetime | None = None
    return_reason: str | None = None
    last_event_at: datetime | None = None
    # Facts only the alert rules read.
    employment_started_at: datetime | None = None
    visa_valid_until: date | None = None
    insurance_valid_until: date | None = None
    offers: dict[str, Offer] = Field(default_factory=dict)  # by offer_id
    contracts: dict[str, Signed] = Field(default_factory=dict)  # by contract_id
    clearances: dict[str, datetime] = Field(default_factory=dict)  # destination -> earliest grant
    wages: dict[str, Wage] = Field(default_factory=dict)  # by period YYYY-MM
    alerts: dict[str, Alert] = Field(default_factory=dict)  # by alert_id, every status
    # Bookkeeping that makes the fold order-independent and idempotent.
    written: dict[str, Key] = Field(default_factory=dict)
    stages: list[tuple[Key, Stage]] = Field(default_factory=list)
    seen: set[str] = Field(default_factory=set)

    @field_serializer("seen")
    def _sorted(self, seen: set[str]) -> list[str]:
        return sorted(seen)  # the same events give the same JSON, whatever the arrival order

    def fork(self) -> CaseState:
        """A copy that is safe to change: containers are copied, their items shared (every
        change replaces an item rather than mutating it), which is far cheaper than a deep copy."""
        clone = self.__copy__()  # what model_copy does, without its per-call update machinery
        fields = clone.__dict__
        for name in _CONTAINERS:
            fields[name] = fields[name].copy()
        return clone

    def put(self, key: Key, **values: Any) -> None:
        """Last-writer-wins: set each field unless a later event (by key) already wrote it."""
        for name, value in values.items():
            if name not in self.written or key > self.written[name]:
                setattr(self, name, value)
                self.written[name] = key

    def add_stage(self, key: Key, stage: Stage) -> None:
        bisect.insort(self.stages, (key, stage))

    @computed_field
    @property
    def stage(self) -> Stage | None:
        return self.stages[-1][1] if self.stages else None

    @computed_field
    @property
    def stage_since(self) -> datetime | None:
        """occurred_at of the first event of the final run of the current stage."""
        since = None
        for key, stage in reversed(self.stages):
            if stage != self.stage:
                break
            since = key[0]
        return since

    @computed_field
    @property
    def contract(self) -> Contract | None:
        if self.contract_id is None:
            return None
        signed = self.contracts.get(self.contract_id)
        if signed is None:
            return Contract(contract_id=self.contract_id)
        return Contract(
            contract_id=self.contract_id,
            monthly_wage=signed.monthly_wage,
            contract_months=signed.contract_months,
        )

    @computed_field
    @property
    def event_count(self) -> int:
        return len(self.seen)

    @computed_field
    @property
    def open_alerts(self) -> int:
        return sum(1 for alert in self.alerts.values() if alert.unresolved)

    @computed_field
    @property
    def top_severity(self) -> Severity | None:
        severities = [a.severity for a in self.alerts.values() if a.unresolved]
        return max(severities, key=SEVERITY_RANK.__getitem__) if severities else None

    def latest_offer(self) -> Offer | None:
        return max(self.offers.values(), key=lambda offer: offer.key, default=None)

    def latest_contract(self) -> Signed | None:
        return max(self.contracts.values(), key=lambda signed: signed.key, default=None)

    def unresolved(self, code: str) -> Alert | None:
        """The case's unresolved alert with this code; SPEC allows at most one."""
        return next((a for a in self.alerts.values() if a.code == code and a.unresolved), None)
