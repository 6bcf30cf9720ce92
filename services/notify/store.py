"""The webhook tables: subscriptions (written by the CLI) and deliveries (enqueued by the notifier
agent, updated by the senders). Synchronous SQLAlchemy Core; callers in the event loop use a thread."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from events import SEVERITY_RANK
from services.notify import policy
from services.storage.tables import WebhookDelivery, WebhookSubscription, table_of

SUBSCRIPTIONS = table_of(WebhookSubscription)
DELIVERIES = table_of(WebhookDelivery)
PENDING = "pending"


@dataclass(frozen=True)
class Subscription:
    id: str
    agency_id: str
    url: str
    min_severity: str
    scopes: tuple[str, ...]
    salt: str
    created_at: datetime
    disabled: bool

    @property
    def filter(self) -> policy.Filter:
        return policy.Filter(self.min_severity, self.scopes)


def add_subscription(
    engine: Engine, agency_id: str, url: str, min_severity: str, scopes: Sequence[str], now: datetime
) -> Subscription:
    if min_severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {min_severity!r}; use one of {', '.join(SEVERITY_RANK)}")
    row = {
        "id": str(uuid.uuid4()),
        "agency_id": agency_id,
        "url": url,
        "min_severity": min_severity,
        "scopes": list(scopes),
        "salt": secrets.token_hex(16),
        "created_at": now,
        "disabled": False,
    }
    with engine.begin() as connection:
        connection.execute(insert(SUBSCRIPTIONS), row)
    return _subscription(row)


def subscriptions(engine: Engine, enabled_only: bool = False) -> list[Subscription]:
    query = select(SUBSCRIPTIONS).order_by(SUBSCRIPTIONS.c.created_at, SUBSCRIPTIONS.c.id)
    if enabled_only:
        query = query.where(SUBSCRIPTIONS.c.disabled.is_(False))
    with engine.connect() as connection:
        return [_subscription(row._mapping) for row in connection.execute(query)]


def disable(engine: Engine, subscription_id: str) -> int:
    """Disable a subscription and cancel its pending deliveries; how many were cancelled.
    Raises LookupError for an unknown id."""
    with engine.begin() as connection:
        found = connection.execute(
            update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id).values(disabled=True)
        ).rowcount
        if not found:
            raise LookupError(f"no webhook subscription {subscription_id!r}; `passage webhook list` shows them")
        return connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.subscription_id == subscription_id, DELIVERIES.c.status == PENDING)
            .values(status="cancelled")
        ).rowcount


def enqueue(
    engine: Engine, messages: Iterable[tuple[int, dict]], subs: Sequence[Subscription], now: datetime
) -> set[str]:
    """A pending delivery per (alert change, subscription that wants it); a change seen again
    (the alerts topic is at least once) adds nothing. Returns the subscription ids that got work."""
    rows = []
    for partition, message in messages:
        for sub in subs:
            if sub.filter.wants(message["alert"]):
                rows.append(
                    {
                        "delivery_id": policy.delivery_id(sub.id, message),
                        "subscription_id": sub.id,
                        "case_id": message["alert"]["case_id"],
                        "alert_partition": partition,
                        "body": policy.body(message),
                        "status": PENDING,
                        "attempts": 0,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                )
    if rows:
        with engine.begin() as connection:
            dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(dialect_insert(DELIVERIES).on_conflict_do_nothing(index_elements=["delivery_id"]), rows)
    return {row["subscription_id"] for row in rows}


@dataclass(frozen=True)
class Delivery:
    seq: int
    delivery_id: str
    case_id: str
    body: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


def due(engine: Engine, subscription_id: str, partitions: set[int], now: datetime, limit: int = 100) -> list[Delivery]:
    """Pending deliveries of the owned partitions that may be sent now, oldest first. In order per
    case: a delivery waits while an older one of the same case is still pending (retrying)."""
    d = DELIVERIES.c
    query = (
        select(d.seq, d.delivery_id, d.case_id, d.body, d.attempts, d.created_at, d.next_attempt_at, d.alert_partition)
        .where(d.subscription_id == subscription_id, d.status == PENDING)
        .order_by(d.seq)
        .limit(5000)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    ready, blocked = [], set()
    for row in rows:
        if row.case_id in blocked or row.alert_partition not in partitions:
            blocked.add(row.case_id)
            continue
        blocked.add(row.case_id)
        if _aware(row.next_attempt_at) <= now:
            ready.append(
                Delivery(
                    row.seq,
                    row.delivery_id,
                    row.case_id,
                    row.body,
                    row.attempts,
                    _aware(row.created_at),
                    _aware(row.next_attempt_at),
                )
            )
            if len(ready) >= limit:
                break
    return ready


def record_attempt(
    engine: Engine,
    seq: int,
    now: datetime,
    status: str,
    status_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
) -> None:
    values = {
        "status": status,
        "attempts": DELIVERIES.c.attempts + 1,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_error": error,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with engine.begin() as connection:
        connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.seq == seq, DELIVERIES.c.status == PENDING).values(**values)
        )


def deliveries(engine: Engine, subscription_id: str, limit: int = 100) -> list[dict]:
    """The subscription's latest deliveries, newest first."""
    d = DELIVERIES.c
    query = (
        select(
            d.delivery_id,
            d.case_id,
            d.status,
            d.attempts,
            d.created_at,
            d.last_attempt_at,
            d.last_status_code,
            d.last_error,
        )
        .where(d.subscription_id == subscription_id)
        .order_by(d.seq.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def _subscription(row) -> Subscription:
    return Subscription(
        row["id"],
        row["agency_id"],
        row["url"],
        row["min_severity"],
        tuple(row["scopes"]),
        row["salt"],
        row["created_at"],
        bool(row["disabled"]),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
