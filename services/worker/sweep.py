"""The time rules' sweep: due cases -> `case.time_alert_raised` events on the journey topic, and
`case.alert_escalated` for open alerts past their severity's limit (SPEC section 10).

Every PASSAGE_SWEEP_INTERVAL_S each worker reads only the cases whose next_deadline has passed
(an indexed range scan), keeps those whose journey partition it owns, asks the domain's `sweep`
what is due, and publishes each due alert as an event. The worker then projects that event like
any other, so the views stay a pure fold of the one log. Its records are built like the gateway's
(`services.journey.journey_record`: key, value and headers); the worker passes its journey
publisher, which seals personal fields as the gateway's does (these event types have none today).

Once per case: a case's events all live on one partition (key = case_id) and each partition has
one owner in the consumer group, so each due case is swept by exactly one worker. During a
rebalance two workers may both believe they own a partition for a moment; the event_id derives
from the alert id, so a second copy is dropped by the timeline like any duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from kafka.partitioner.default import murmur2
from sqlalchemy import select, tuple_
from sqlalchemy.engine import Engine

import events
from services.config import Settings
from services.domain import CaseState, RuleConfig, escalation_event, escalations, sweep, time_alert_event
from services.journey import PublishesRecords, journey_record
from services.kafka.producer import Record
from services.logs import get_logger
from services.privacy import retention
from services.worker.views import LIVE, Views

log = get_logger(__name__)
SOURCE = {"agency_id": "passage-worker", "agency_kind": "passage"}
PAGE = 1000


def partition_of(case_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as in the Java client) puts a key in."""
    return (murmur2(case_id.encode()) & 0x7FFFFFFF) % partitions


def due_events(
    engine: Engine, rules: RuleConfig, now: datetime, owned: set[int], partitions: int, views: Views = LIVE
) -> Iterable[events.Envelope]:
    """The `case.time_alert_raised` and `case.alert_escalated` events due at `now` for cases on
    the `owned` partitions."""
    cases = views.cases.c
    after: tuple[datetime, str] | None = None
    while True:
        query = (
            select(cases.case_id, cases.next_deadline, cases.state)
            .where(cases.next_deadline <= now)
            .order_by(cases.next_deadline, cases.case_id)
            .limit(PAGE)
        )
        if after is not None:
            query = query.where(tuple_(cases.next_deadline, cases.case_id) > after)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            if partition_of(row.case_id, partitions) not in owned:
                continue
            state = CaseState.model_validate(row.state)
            due = [time_alert_event(alert) for alert in sweep(state, now, rules)]
            due += [escalation_event(escalation) for escalation in escalations(state, now, rules)]
            for data in due:
                data.update(recorded_at=now.isoformat(), source=SOURCE)
                yield events.validate(data, stamped=True)
        if len(rows) < PAGE:
            return
        after = (rows[-1].next_deadline, rows[-1].case_id)


def sweep_once(
    settings: Settings,
    engine: Engine,
    publisher: PublishesRecords,
    owned: set[int],
    partitions: int,
    now: datetime | None = None,
) -> int:
    """Publish every due time alert of the owned partitions; returns how many were published."""
    now = now or datetime.now(UTC)
    rules = RuleConfig.from_settings(settings)
    published, records = 0, []
    for event in due_events(engine, rules, now, owned, partitions):
        records.append(journey_record(settings.journey_topic, event))
        if len(records) >= PAGE:
            publisher.publish(records)
            published, records = published + len(records), []
    publisher.publish(records)
    published += len(records)
    published += _request_retention_erasures(settings, engine, publisher, owned, partitions, now)
    if published:
        log.info("sweep published time alerts", count=published, partitions=sorted(owned))
    return published


def _request_retention_erasures(
    settings: Settings, engine: Engine, publisher: PublishesRecords, owned: set[int], partitions: int, now: datetime
) -> int:
    """PASSAGE_RETENTION_DAYS: erasure requests for the owned cases returned longer ago (SPEC section 9)."""
    if settings.retention_days is None:
        return 0
    records: list[Record] = []
    for case_id in retention.due_for_erasure(engine, settings.retention_days, now):
        if partition_of(case_id, partitions) in owned:
            event = events.validate(
                retention.erasure_request(case_id, settings.retention_days, now, SOURCE), stamped=True
            )
            records.append(journey_record(settings.journey_topic, event))
    for start in range(0, len(records), PAGE):
        publisher.publish(records[start : start + PAGE])
    if records:
        log.info("sweep requested erasure of cases past retention", count=len(records))
    return len(records)
