"""`passage replay`: rebuild both views from offset 0 of the journey topic.

The fold goes into fresh shadow tables (`views.shadow`) while the live views keep serving. When
the replay has reached the end offsets seen at its start, one transaction locks the live views
against writers, folds the few events that arrived meanwhile, and swaps the rebuilt rows in
(`views.swap`): readers see the old views until the commit and the rebuilt ones after it. A
worker running alongside is blocked for that transaction only; its next batch then meets rows it
did not load, loses the compare-and-set, reloads and finds its events already applied.
Records that do not decode, that the database refuses or that conflict with an event_id already
folded are skipped and counted (the running worker has dead-lettered them already).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from tqdm import tqdm

from services.config import Settings
from services.domain import RuleConfig
from services.logs import get_logger
from services.worker import views as v
from services.worker.dlq import Message
from services.worker.isolate import isolating
from services.worker.persist import Applied, apply_batch
from services.worker.pipeline import decode_one

log = get_logger(__name__)


@dataclass
class Replayed:
    events: int = 0
    skipped: int = 0  # records that do not decode
    failed: int = 0  # events the domain could not fold


def replay(settings: Settings, engine: Engine, progress: bool = True) -> Replayed:
    rules = RuleConfig.from_settings(settings)
    rebuilt = v.shadow(engine)
    result = Replayed()
    consumer = _consumer(settings)
    try:
        partitions = _partitions(consumer, settings.journey_topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        total = sum(ends[tp] - consumer.position(tp) for tp in partitions)
        with tqdm(total=total, unit="event", desc="replay", disable=not progress) as bar:
            for messages in _read_until(consumer, ends):
                with engine.begin() as connection:
                    _fold(connection, rebuilt, messages, rules, result)
                bar.update(len(messages))
        with engine.begin() as connection:
            _lock_live(connection)
            tail = 0
            for messages in _read_until(consumer, consumer.end_offsets(partitions)):
                _fold(connection, rebuilt, messages, rules, result)
                tail += len(messages)
            v.swap(connection, rebuilt)
        log.info("replay swapped in the rebuilt views", events=result.events, arrived_during_replay=tail,
                 skipped=result.skipped, failed=result.failed)
        return result
    except BaseException:
        v.drop(engine, rebuilt)
        raise
    finally:
        consumer.close()


def _fold(connection: Connection, rebuilt: v.Views, messages: list[Message], rules: RuleConfig,
          result: Replayed) -> None:
    delivered = []
    for message in messages:
        event, _reason = decode_one(message)
        if event is None:
            result.skipped += 1
        else:
            delivered.append(event)
    applied = _apply_isolating(connection, rebuilt, delivered, rules)
    result.events += applied.applied
    result.failed += len(applied.failed)
    for failed, reason in applied.failed:
        log.warning("replay could not fold an event", event_id=str(failed.event.event_id), reason=reason[:300])


def _apply_isolating(connection: Connection, rebuilt: v.Views, delivered: list, rules: RuleConfig) -> Applied:
    """The messages into the rebuilt views; on PostgreSQL each try in a savepoint, so a record the
    database refuses is set aside (as the live worker dead-lettered it) and the replay goes on.
    SQLite refuses no text, and its driver's savepoints are unreliable: one try there."""
    def attempt(part) -> Applied:
        with connection.begin_nested():
            return apply_batch(connection, rebuilt, part, rules, datetime.now(UTC))

    if connection.dialect.name != "postgresql":
        return apply_batch(connection, rebuilt, delivered, rules, datetime.now(UTC))
    return isolating(attempt, delivered)


def _read_until(consumer: KafkaConsumer, ends: dict[TopicPartition, int]):
    """Batches of messages until every partition's position reaches its end offset in `ends`."""
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        polled = consumer.poll(timeout_ms=1000)
        messages = [Message(r.topic, r.partition, r.offset, r.key, r.value)
                    for tp, records in polled.items() for r in records if r.offset < ends[tp]]
        for tp in polled:  # records past the end belong to the next read, not this one
            first_past = next((r.offset for r in polled[tp] if r.offset >= ends[tp]), None)
            if first_past is not None:
                consumer.seek(tp, first_past)
        if messages:
            yield messages


def _lock_live(connection: Connection) -> None:
    """Keep the live workers from writing until the swap commits (readers are not blocked)."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(table.name for table in v.LIVE.folded)
        connection.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    else:  # SQLite: the first write takes the database's single write lock
        connection.execute(text(f"UPDATE {v.LIVE.cases.name} SET event_count = event_count WHERE 0"))


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False,
        client_id="passage-replay", max_poll_records=settings.worker_batch_size,
        **settings.kafka_client_options(),
    )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    ids = consumer.partitions_for_topic(topic)
    if not ids:
        raise LookupError(f"topic {topic} does not exist; run `passage topics create`")
    return [TopicPartition(topic, p) for p in sorted(ids)]

