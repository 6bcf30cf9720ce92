"""Every SQL table of Passage, in one place.

Views (written only by the worker, from the log): `cases` (welfare view, one row per case, its
fields declared once in `services.storage.welfare_view.CaseBase`, plus the case's folded state as
JSON so the worker can continue the fold), `timeline` (every applied event; its primary key on
event_id is what makes projection idempotent), `alerts` (protection view), `job_offers` (for the
skills picture), `alert_outbox` (alert changes not yet on the alerts topic).
Registries (written by the CLI): `agencies`, `officers`. Audit trail (query service): `audit`.
API responses are separate models in each service: these rows are never returned as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Table, inspect
from sqlmodel import Field, SQLModel

from services.storage.welfare_view import CaseBase


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a table model maps, for SQL statements: what `Model.__table__` is at run
    time, which SQLModel's type hints do not declare (so every module asks here, typed)."""
    return cast(Table, inspect(model).local_table)


def _tz(**kwargs: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kwargs))


class Case(CaseBase, table=True):
    """The welfare view's table: every field of `CaseBase` (declared there, once), plus what only
    the worker and the sweep read."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_dest_stage", "destination_country", "stage", "case_id"),
        Index("ix_cases_origin_stage", "origin_region", "stage", "case_id"),
        Index("ix_cases_stage", "stage", "case_id"),
        Index("ix_cases_next_deadline", "next_deadline"),
        Index("ix_cases_occupation_stage", "occupation_code", "stage"),
        Index("ix_cases_assigned", "assigned_officer_id", "case_id"),
    )

    top_severity_rank: int = 0  # 3 critical, 2 high, 1 medium, 0 none: for min_severity filters
    # SPEC section 10: the case's referrals (each with its history) as the API shows them.
    referrals: list | None = Field(default=None, sa_column=Column(JSON))
    # When the next time rule would fire (NULL: none can); the sweep reads only due cases.
    next_deadline: datetime | None = _tz()
    state: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TimelineEvent(SQLModel, table=True):
    __tablename__ = "timeline"
    __table_args__ = (Index("ix_timeline_case_order", "case_id", "occurred_at", "recorded_at", "event_id"),)

    event_id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(max_length=64)
    event_type: str
    occurred_at: datetime = _tz(nullable=False)
    recorded_at: datetime | None = _tz()
    # The whole stamped envelope (payload, source, recorded_at) as it was on the log.
    envelope: dict = Field(sa_column=Column(JSON, nullable=False))
    topic_partition: int | None = None
    topic_offset: int | None = None


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_inbox", "status", "severity_rank", "raised_at", "alert_id"),
        Index("ix_alerts_inbox_all", "severity_rank", "raised_at", "alert_id"),
        Index("ix_alerts_case", "case_id", "code"),
        # Jurisdiction walks of the inbox (query service): a dest:/origin: officer's first page reads
        # its own range in inbox order instead of filtering the whole inbox (bench/query.py).
        Index("ix_alerts_dest", "destination_country", "severity_rank", "raised_at", "alert_id"),
        Index("ix_alerts_origin", "origin_region", "severity_rank", "raised_at", "alert_id"),
    )

    alert_id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(max_length=64)
    code: str
    severity: str
    # Sort key for the inbox: critical first. Stored negated (-3 critical .. -1 medium) so an
    # ascending index walks critical first, oldest first.
    severity_rank: int
    status: str
    raised_at: datetime = _tz(nullable=False)
    trigger_event_id: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _tz()
    resolved_by: str | None = None
    resolved_at: datetime | None = _tz()
    note: str | None = None
    # SPEC section 10: when Passage recorded the raising event (escalation counts from it), and
    # when the sweep escalated the alert.
    recorded_at: datetime | None = _tz()
    escalated_at: datetime | None = _tz()
    # Copied from the case for scoping and filtering the inbox without a join.
    destination_country: str | None = None
    origin_region: str | None = None


class JobOffer(SQLModel, table=True):
    __tablename__ = "job_offers"
    __table_args__ = (Index("ix_job_offers_made", "occurred_at", "occupation_code", "destination_country"),)

    event_id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(max_length=64)
    offer_id: str
    occupation_code: str
    destination_country: str
    origin_region: str | None = None
    occurred_at: datetime = _tz(nullable=False)


class AlertOutbox(SQLModel, table=True):
    """Alert changes committed with the view change and not yet acknowledged by Kafka on the alerts
    topic. The worker deletes each row once published, so a crash between the database commit and
    the publish delays a change instead of losing it."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_created", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)  # uuid5 of (event_id, alert_id, change)
    case_id: str = Field(max_length=64)
    message: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _tz(nullable=False)


class Agency(SQLModel, table=True):
    __tablename__ = "agencies"
    __table_args__ = (Index("ux_agencies_key_hash", "key_hash", unique=True),)

    id: str = Field(primary_key=True, max_length=64)
    kind: str
    key_hash: str  # HMAC-SHA256 of the key under PASSAGE_SECRET_KEY; the key itself is never stored
    created_at: datetime = _tz(nullable=False)
    disabled: bool = False
    # SPEC section 4a: the employer id an employer agency publishes as (default: the agency id).
    employer_id: str | None = Field(default=None, max_length=128)


class Officer(SQLModel, table=True):
    __tablename__ = "officers"
    __table_args__ = (Index("ux_officers_token_hash", "token_hash", unique=True),)

    id: str = Field(primary_key=True, max_length=64)
    role: str  # officer | supervisor
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    token_hash: str
    created_at: datetime = _tz(nullable=False)
    disabled: bool = False


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_case", "case_id", "id"),
        Index("ix_audit_officer", "officer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    officer_id: str
    # One case read (read_case, read_timeline, and their refused_* forms); NULL for a page.
    case_id: str | None = None
    action: str  # read_case | read_timeline | list_cases | list_alerts | refused_read_case | refused_read_timeline
    at: datetime = _tz(nullable=False)
    # A page of /v1/cases or /v1/alerts: the case_ids it returned, in order (NULL for one case).
    case_ids: list | None = Field(default=None, sa_column=Column(JSON))


class OfficerActionKey(SQLModel, table=True):
    """`Idempotency-Key` of an officer action (SPEC section 7): the answer given to the first
    request, so the same key from the same officer gets the same event_id."""

    __tablename__ = "officer_action_keys"

    officer_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str = Field(max_length=64)  # sha256 of method, path and body: a key names one request
    event_id: str = Field(max_length=36)
    status: str = Field(max_length=16)  # pending while publishing, then answered
    created_at: datetime = _tz(nullable=False)


class OfficerActionClaim(SQLModel, table=True):
    """An officer action that may happen once per subject (resolve an alert, acknowledge it):
    the primary key makes concurrent requests, in any number of query processes, race on one
    INSERT that exactly one wins."""

    __tablename__ = "officer_action_claims"

    subject: str = Field(primary_key=True, max_length=64)  # e.g. the alert_id
    action: str = Field(primary_key=True, max_length=32)  # e.g. resolve
    event_id: str = Field(max_length=36)
    officer_id: str = Field(max_length=64)
    claimed_at: datetime = _tz(nullable=False)


# Counts the worker keeps in the same transaction as the case (services/worker/counts.py), so the
# stats endpoints read a few thousand rows instead of aggregating every case. Each count is kept
# twice: `by_origin` false summed over every origin region (origin_region ''), for `*` and `dest:`
# officers; `by_origin` true per origin region, for officers with `origin:` scopes. A missing value
# (no destination yet, no stage) is stored as '' because key columns cannot be NULL.
class StageHeadcount(SQLModel, table=True):
    __tablename__ = "stage_counts"

    by_origin: bool = Field(primary_key=True)
    destination_country: str = Field(primary_key=True, max_length=2)
    origin_region: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    count: int


class SkillHeadcount(SQLModel, table=True):
    """Cases in the job_ready and deployed stages per occupation and destination."""

    __tablename__ = "skill_counts"
    # An `origin:` officer's supply: their regions' rows only, not a scan of every region's (0013).
    __table_args__ = (Index("ix_skill_counts_origin", "by_origin", "origin_region"),)

    by_origin: bool = Field(primary_key=True)
    occupation_code: str = Field(primary_key=True, max_length=4)
    destination_country: str = Field(primary_key=True, max_length=2)
    origin_region: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    count: int


class OfferTally(SQLModel, table=True):
    """Job offers per UTC day (`grain` 'day'), per calendar month ('month', `starts` the 1st) and per
    calendar year ('year', `starts` January 1st; migration 0013)."""

    __tablename__ = "offer_counts"
    # An `origin:` officer's window: their regions' rows only, not every region's (bench/query.py).
    __table_args__ = (Index("ix_offer_counts_origin", "by_origin", "origin_region", "grain", "starts"),)

    by_origin: bool = Field(primary_key=True)
    grain: str = Field(primary_key=True, max_length=5)
    starts: date = Field(primary_key=True)
    occupation_code: str = Field(primary_key=True, max_length=4)
    destination_country: str = Field(primary_key=True, max_length=2)
    origin_region: str = Field(primary_key=True)
    count: int


class WebhookSubscription(SQLModel, table=True):
    """An agency's webhook (SPEC section 11). The signing secret is not stored: it is derived from
    PASSAGE_SECRET_KEY and `salt` (services.notify.signing), so a database dump cannot sign."""

    __tablename__ = "webhook_subscriptions"

    id: str = Field(primary_key=True, max_length=36)
    agency_id: str = Field(max_length=64)
    url: str
    min_severity: str  # medium | high | critical
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=64)
    created_at: datetime = _tz(nullable=False)
    disabled: bool = False


class WebhookDelivery(SQLModel, table=True):
    """One alert change to send to one subscription; kept after it is done, with how it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ux_webhook_deliveries_id", "delivery_id", unique=True),
        Index("ix_webhook_deliveries_due", "subscription_id", "status", "seq"),
    )

    seq: int | None = Field(default=None, primary_key=True)  # enqueue order: in order per case
    delivery_id: str = Field(max_length=36)  # uuid5 of (subscription, event, alert, change): stable
    subscription_id: str = Field(max_length=36)
    case_id: str = Field(max_length=64)
    alert_partition: int  # the alerts-topic partition: the worker owning it sends the delivery
    body: str  # the exact JSON bytes signed and sent, the same on every attempt
    status: str  # pending | delivered | rejected | expired | cancelled
    attempts: int = 0
    created_at: datetime = _tz(nullable=False)
    next_attempt_at: datetime = _tz(nullable=False)
    last_attempt_at: datetime | None = _tz()
    last_status_code: int | None = None
    last_error: str | None = None


class ConsoleSession(SQLModel, table=True):
    """A signed-in officer console session (services/console/sessions.py). The cookie holds a random
    token; only its HMAC is stored, so a database dump opens no session. Signing out deletes the row,
    which is what makes a copied cookie useless afterwards."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires", "expires_at"),)

    token_hash: str = Field(primary_key=True, max_length=64)
    officer_id: str = Field(max_length=64)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _tz(nullable=False)
    expires_at: datetime = _tz(nullable=False)


class PartyCase(SQLModel, table=True):
    """One case's contribution to one employer's or recruiting agent's scorecard (SPEC section 12),
    replaced by the worker in the transaction that changes the case (`services.domain.scorecards`).
    The query service sums these rows within the officer's scope; the watchlist finds a party's
    cases through them."""

    __tablename__ = "party_cases"
    __table_args__ = (Index("ix_party_cases_party", "party_kind", "party_id", "destination_country"),)

    case_id: str = Field(primary_key=True, max_length=64)
    party_kind: str = Field(primary_key=True, max_length=32)  # employer | recruiting_agent
    party_id: str = Field(primary_key=True, max_length=128)
    destination_country: str | None = Field(default=None, max_length=2)
    origin_region: str | None = None
    placed: int = 0
    abuse: int = 0
    wages: int = 0
    contract: int = 0
    fees: int = 0
    open_critical: int = 0
    wage_paid_pct: float | None = None


class WatchlistEntry(SQLModel, table=True):
    """Every watchlist event (SPEC section 12), kept as history: rules read it as of an instant."""

    __tablename__ = "watchlist"
    __table_args__ = (Index("ix_watchlist_party", "party_kind", "party_id", "recorded_at"),)

    event_id: str = Field(primary_key=True, max_length=36)
    party_kind: str = Field(max_length=32)
    party_id: str = Field(max_length=128)
    listed: bool
    reason: str | None = None
    recorded_at: datetime = _tz(nullable=False)
    occurred_at: datetime = _tz(nullable=False)
    source_agency_id: str | None = None
    # The stamped envelope as it was on the log: a republish with other content is a conflict.
    envelope: dict = Field(sa_column=Column(JSON, nullable=False))


class PartyStats(SQLModel, table=True):
    """Scorecard counts per (party, destination, origin region), moved by the worker with each
    case change (`services.domain.scorecards.delta`): a scope's scorecard is a sum of a few rows per
    party. An unknown destination or region is stored as '' (key columns cannot be NULL)."""

    __tablename__ = "party_stats"

    party_kind: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=128)
    destination_country: str = Field(primary_key=True, max_length=2)
    origin_region: str = Field(primary_key=True)
    cases: int = 0
    placed: int = 0
    abuse: int = 0
    wages: int = 0
    contract: int = 0
    fees: int = 0
    open_critical: int = 0


class PartyWageGap(SQLModel, table=True):
    """How many of a party's cases (per destination and origin region) were paid `bucket` % of
    their contracted wage (rounded down): the histogram the median wage gap is read from."""

    __tablename__ = "party_wage_gaps"

    party_kind: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=128)
    destination_country: str = Field(primary_key=True, max_length=2)
    origin_region: str = Field(primary_key=True)
    bucket: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    cases: int = 0


class DataKey(SQLModel, table=True):
    """One case's data key (SPEC section 9), wrapped by a master key (services/privacy/keyring.py).
    Erasure keeps the row with wrapped_key NULL and erased_at set: the tombstone that stops the
    gateway from creating a new key for an erased case."""

    __tablename__ = "data_keys"

    case_id: str = Field(primary_key=True, max_length=64)
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    master_key_id: str | None = Field(default=None, max_length=16)
    created_at: datetime = _tz(nullable=False)
    erased_at: datetime | None = _tz()
