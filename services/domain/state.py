"""What one case's events fold into: the welfare view (SPEC section 5), the facts the alert rules
need, and the case's alerts (section 6). Pure data; `welfare.apply` and `alerts.evaluate` fill it.

The worker stores `state.model_dump(mode="json")` in a JSON column and reloads it with
`CaseState.model_validate`; the derived view fields (stage, stage_since, contract, open_alerts,
top_severity) are computed fields: dumped for readers, ignored on reload, never stale.

Order-independence rests on one sort key per event, `Key = (occurred_at, recorded_at, event_id)`
(SPEC's timeline order), and mergeable structures:
- `written`: a last-writer-wins register per field: a field takes an event's value only when that
  event's key is greater than the key of the event that wrote it last (`CaseState.put`);
- `run` (`StageRun`): the final run of the current stage: its first key (stage_since), its latest
  `WINDOW` keys, and the latest key of another stage before it;
- `recent`: the `WINDOW` greatest keys folded, so a re-delivered event changes nothing;
- `event_count`: a number, one more per event not recognised as a duplicate.

Bounded size, and the trade-off it costs (issue 13: a 20,000-event case had a 3 MB state, every
event_id and every stage kept). The state now grows with the case's business objects (offers,
contracts, destinations, alerts: a handful per journey) and not with its events: the two
per-event structures are capped at `WINDOW` keys each (a few kilobytes). What that gives up:
- Idempotency of the pure fold holds for a duplicate whose event_id is among the `WINDOW` latest
  keys of the case (every redelivery of a recent batch, and a copy republished with another
  recorded_at). An older duplicate cannot be told from a late new event here; the worker never
  folds one: it drops every event_id its timeline table already holds before folding
  (`services.worker.persist`, the timeline's primary key enforcing it in the same transaction),
  which is what makes projection idempotent and event_count exact.
- Order-independence is exact except in one case: an event of another stage that arrives after
  more than `WINDOW` events of the current stage's run that are later than it. The run then
  restarts after it at the oldest key still kept, so stage_since may be later than the exact
  answer (stage itself stays exact: the greatest key alone decides it). A case's events arrive in
  publish order (one partition per case), so this takes an event published more than `WINDOW`
  stage events late; the result is still deterministic (a replay of the log gives it again).
Every other field (the last-writer-wins registers, offers, contracts, clearances) stays exact for
any order, duplicates included; alerts depend on arrival order as before. A state stored before these bounds (with
`stages` and `seen`) is read as it is and converted (`CaseState._from_unbounded`).
"""

from __future__ import annotations

import bisect
import operator
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field, model_validator

from events import SEVERITY_RANK, AlertCode, AlertStatus, Envelope, Money, Severity, Stage
from services.domain.referral import Referral

Key = tuple[datetime, datetime, str]
"""(occurred_at, recorded_at, event_id) in UTC; an unstamped event sorts first among equals."""
UNSTAMPED = datetime.min.replace(tzinfo=UTC)
_CONTAINERS = ("offers", "contracts", "clearances", "wages", "alerts", "referrals", "written", "recent")
WINDOW = 64  # keys kept per windowed structure: enough for any in-order redelivery of a batch
Wellbeing = Literal["unknown", "ok", "concern", "distress"]


def key_of(event: Envelope) -> Key:
    """The SPEC section 5 sort key of an `events.Envelope`."""
    recorded = event.recorded_at.astimezone(UTC) if event.recorded_at else UNSTAMPED
    return (event.occurred_at.astimezone(UTC), recorded, str(event.event_id))


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
    # SPEC section 10: when Passage recorded the event that raised it (escalation counts from
    # it), and when the sweep escalated it for staying open too long.
    recorded_at: datetime | None = None
    escalated_at: datetime | None = None

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


class StageRun(BaseModel):
    """The final run of equal stages among a case's stage-bearing events, ordered by key.

    `since` is the run's first key (stage_since), `tail` its latest keys (at most `WINDOW`; all of
    them, starting at `since`, while fewer), `before` the greatest key of a stage-bearing event of
    another stage that precedes the run (None: none does). `insert` returns a new run; the one
    change made in place is `extend` (the run goes on: the common case, an event per stage event),
    on the run a `CaseState` owns (`CaseState.fork` copies it, so no two states share one).
    """

    model_config = ConfigDict(frozen=True)

    stage: Stage
    since: Key
    tail: list[Key]
    before: Key | None = None

    @classmethod
    def first(cls, key: Key, stage: Stage) -> StageRun:
        return cls(stage=stage, since=key, tail=[key])

    def goes_on(self, key: Key, stage: Stage) -> bool:
        """Is this the newest stage event, of this run's stage (what `extend` takes)?"""
        return stage == self.stage and key > self.tail[-1]

    def extend(self, key: Key) -> None:
        """In place, what `insert` returns when `goes_on(key, stage)`: `key` ends the run (the oldest
        kept key dropped past `WINDOW`). Only on a run that one state owns (see the class)."""
        tail = self.tail
        tail.append(key)
        if len(tail) > WINDOW:
            del tail[0]

    def owned(self) -> StageRun:
        """A copy whose `tail` is its own, for a state that may `extend` it."""
        return self._with(tail=list(self.tail))

    def insert(self, key: Key, stage: Stage) -> StageRun:
        """The run once an event with `key` and `stage` is among the case's events (idempotent)."""
        tail = self.tail
        if key > tail[-1]:  # the newest stage event: the run goes on, or a new one starts
            if stage == self.stage:
                return self._with(tail=_latest([*tail, key]))
            return StageRun(stage=stage, since=key, tail=[key], before=tail[-1])
        if key >= self.since:  # inside the run
            if stage == self.stage:
                if _holds(tail, key) or (len(tail) >= WINDOW and key < tail[0]):
                    return self  # known, or older than the window (the run's start is unchanged)
                return self._with(tail=_latest(_inserted(tail, key)))
            # A late event of another stage splits the run: it now starts after that event (at
            # the oldest key kept when the event lies before the window: see the module's docstring).
            after = [kept for kept in tail if kept > key]
            return StageRun(stage=self.stage, since=after[0], tail=after, before=key)
        if self.before is not None and key <= self.before:
            return self  # behind another stage: it cannot touch the final run
        if stage == self.stage:  # the run started earlier than known
            return self._with(since=key, tail=tail if len(tail) >= WINDOW else _inserted(tail, key))
        return self._with(before=key)

    def _with(self, **changes: Any) -> StageRun:
        clone = self.__copy__()  # model_copy(update=...) without its per-call machinery
        clone.__dict__.update(changes)
        return clone


def _holds(keys: list[Key], key: Key) -> bool:
    at = bisect.bisect_left(keys, key)
    return at < len(keys) and keys[at] == key


def _inserted(keys: list[Key], key: Key) -> list[Key]:
    copy = list(keys)
    bisect.insort(copy, key)
    return copy


def _latest(keys: list[Key]) -> list[Key]:
    return keys[-WINDOW:] if len(keys) > WINDOW else keys


_EVENT_ID = operator.itemgetter(2)
_STAGES_V1 = TypeAdapter(list[tuple[Key, Stage]])


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
    assigned_officer_id: str | None = None  # SPEC section 10, last case.assigned by key
    # Personal data (SPEC section 9): identity fields consent may hide, the latest consent, erasure.
    date_of_birth: date | None = None
    passport_number: str | None = None
    phone: str | None = None
    data_sharing: bool | None = None
    erased: bool = False
    erased_at: datetime | None = None
    # Facts only the alert rules read.
    employment_started_at: datetime | None = None
    visa_valid_until: date | None = None
    insurance_valid_until: date | None = None
    offers: dict[str, Offer] = Field(default_factory=dict)  # by offer_id
    contracts: dict[str, Signed] = Field(default_factory=dict)  # by contract_id
    clearances: dict[str, datetime] = Field(default_factory=dict)  # destination -> earliest grant
    wages: dict[str, Wage] = Field(default_factory=dict)  # by period YYYY-MM
    alerts: dict[str, Alert] = Field(default_factory=dict)  # by alert_id, every status
    referrals: dict[str, Referral] = Field(default_factory=dict)  # by referral_id (SPEC section 10)
    # Bookkeeping that makes the fold order-independent and idempotent, bounded (see above).
    written: dict[str, Key] = Field(default_factory=dict)
    run: StageRun | None = None
    recent: list[Key] = Field(default_factory=list)
    event_count: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_unbounded(cls, data: Any) -> Any:
        """A state stored before the bounds (every stage in `stages`, every event_id in `seen`):
        its stages become the run; its event_count was dumped with it (else: len(seen))."""
        if not isinstance(data, dict) or "stages" not in data:
            return data
        data = dict(data)
        stages, seen = data.pop("stages"), data.pop("seen", ())
        data.setdefault("event_count", len(seen))
        run = None
        for key, stage in sorted(_STAGES_V1.validate_python(stages)):
            run = StageRun.first(key, stage) if run is None else run.insert(key, stage)
        data.setdefault("run", run)
        return data

    def fork(self) -> CaseState:
        """A copy that is safe to change: containers are copied, their items shared (every
        change replaces an item rather than mutating it), which is far cheaper than a deep copy."""
        clone = self.__copy__()  # what model_copy does, without its per-call update machinery
        fields = clone.__dict__
        for name in _CONTAINERS:
            fields[name] = fields[name].copy()
        if self.run is not None:  # the one item changed in place (`add_stage`)
            fields["run"] = self.run.owned()
        return clone

    def put(self, key: Key, **values: Any) -> None:
        """Last-writer-wins: set each field unless a later event (by key) already wrote it.
        The values come from validated payloads and keys, so they are stored as they are (no
        assignment validation is configured; this skips pydantic's `__setattr__` dispatch, the
        fold's most frequent call)."""
        fields, written = self.__dict__, self.written
        for name, value in values.items():
            last = written.get(name)
            if last is None or key > last:
                fields[name] = value
                written[name] = key

    def add_stage(self, key: Key, stage: Stage) -> None:
        # Fields are set through __dict__, as in `put`: no assignment validation is configured.
        run = self.run
        if run is None:
            self.__dict__["run"] = StageRun.first(key, stage)
        elif run.goes_on(key, stage):  # this state's own run (`fork` copies it): no new run per event
            run.extend(key)
        else:
            self.__dict__["run"] = run.insert(key, stage)

    def folded(self, key: Key) -> bool:
        """Is this event_id among the latest `WINDOW` folded (a redelivery, or a copy published
        again with another recorded_at, that must change nothing)?"""
        return key[2] in map(_EVENT_ID, self.recent)

    def remember(self, key: Key) -> None:
        """Count the event and keep its key if it is among the `WINDOW` latest (`recent` is this
        state's own list: `fork` copies it)."""
        self.__dict__["event_count"] = self.event_count + 1  # as in `put`
        recent = self.recent
        if len(recent) < WINDOW or key > recent[0]:
            bisect.insort(recent, key)
            if len(recent) > WINDOW:
                del recent[0]

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def stage(self) -> Stage | None:
        return self.run.stage if self.run is not None else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def stage_since(self) -> datetime | None:
        """occurred_at of the first event of the final run of the current stage."""
        return self.run.since[0] if self.run is not None else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
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

    def contracted_wage(self) -> Money | None:
        """`contract.monthly_wage`, without building the contract (the UNDERPAID rule asks at every wage)."""
        signed = self.contracts.get(self.contract_id) if self.contract_id is not None else None
        return signed.monthly_wage if signed is not None else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def open_alerts(self) -> int:
        return sum(1 for alert in self.alerts.values() if alert.unresolved)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator on a property
    @property
    def top_severity(self) -> Severity | None:
        severities = [alert.severity for alert in self.alerts.values() if alert.unresolved]
        return max(severities, key=SEVERITY_RANK.__getitem__) if severities else None

    def latest_offer(self) -> Offer | None:
        return max(self.offers.values(), key=lambda offer: offer.key, default=None)

    def latest_contract(self) -> Signed | None:
        return max(self.contracts.values(), key=lambda signed: signed.key, default=None)

    def unresolved(self, code: str) -> Alert | None:
        """The case's unresolved alert with this code; SPEC allows at most one."""
        return next((alert for alert in self.alerts.values() if alert.code == code and alert.unresolved), None)
