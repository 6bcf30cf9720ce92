"""What the worker does with one batch of records, in three steps `app.Worker` drives:

1. `decode`: each record becomes an event, or a dead letter (not JSON, unknown type, invalid);
2. `store`: one database transaction folds the events into the views and writes the alert
   changes to the outbox (`persist.apply_batch`);
   A record the database refuses does not fail the batch: the batch is stored in halves until that
   record is alone, and it becomes a dead letter (`refusals`); so does a conflicting duplicate;
3. `publish`: dead letters to the DLQ, alert changes to the alerts topic, each waited for; then
   the published outbox rows are deleted.
Only after all three does the journey reader commit the batch's offsets. Each step can be retried alone:
a batch remembers which steps are done. Everything here is synchronous (SQLAlchemy, kafka-python);
the worker runs it in threads.

Decode may run ahead: the worker decodes batch n+1 while batch n is stored (`app.Worker.prepare`).
Decoding reads the key store (sealed fields are opened with the case's key), and a stored batch can
erase a case (crypto-shredding). So each batch notes how many stores had committed when its decode
began (`Batch.after_store`), each store notes the cases it erased, and `store` decodes a batch
again when a store that committed after that decode began erased one of its cases: an event that
follows an erasure on the log is never stored with the fields the erasure destroyed. A batch
stored in halves (a record refused) is the same case within one batch: each half's transaction
also erases again the cases an earlier half erased.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

import events
from events.types import CASE_ID_PATTERN
from services import metrics
from services.config import Settings
from services.domain import RuleConfig
from services.journey import Publishes
from services.kafka.producer import Record
from services.logs import get_logger
from services.privacy import Keyring, Opener, erase_case_ids, erase_cases
from services.worker import dlq, refusals
from services.worker.dlq import Message, dead_letter
from services.worker.isolate import isolating
from services.worker.persist import Applied, Conflict, apply_batch
from services.worker.rows import Delivered
from services.worker.views import LIVE, Views

log = get_logger(__name__)
CONFLICT_RETRIES = 5
CASE_ID = re.compile(CASE_ID_PATTERN)
ERASURES_KEPT = 64  # stores whose erased cases are remembered (a batch decoded earlier is decoded again)


@dataclass
class Batch:
    messages: Sequence[Message]
    delivered: list[Delivered] = field(default_factory=list)
    dead: list[tuple[Message, str]] = field(default_factory=list)
    applied: Applied | None = None  # set once the transaction committed
    published: bool = False
    after_store: int = 0  # how many stores had committed when this batch's decode began


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        publisher: Publishes,
        views: Views = LIVE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keyring: Keyring | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.views = views
        self.rules = RuleConfig.from_settings(settings)
        self.clock = clock
        self.keyring = keyring if keyring is not None else Keyring.from_settings(settings)
        self.stores = 0  # transactions committed by `store` (see the module's docstring on erasures)
        self._erased: deque[tuple[int, frozenset[str]]] = deque(maxlen=ERASURES_KEPT)  # (store, its cases)
        self._erasures_lock = threading.Lock()  # decode (ahead, on one thread) reads what store writes

    def decode(self, messages: Sequence[Message]) -> Batch:
        batch = Batch(messages, after_store=self.stores)  # read before the key store is
        opener = Opener.for_batch(self.engine, self.keyring, [m.key for m in messages])
        for message in messages:
            delivered, reason = decode_one(message, opener)
            if delivered is None:
                batch.dead.append((message, reason))
            else:
                batch.delivered.append(delivered)
        return batch

    def store(self, batch: Batch) -> Applied:
        """The batch in one transaction; if the database refuses it, in halves down to the records
        it refuses, which go to the dead letters (see `refusals`). Transient errors propagate."""
        if batch.applied is not None:
            return batch.applied
        if self._erased_since(batch):  # decoded ahead, before a case of it was erased: open it again
            fresh = self.decode(batch.messages)
            batch.delivered, batch.dead, batch.after_store = fresh.delivered, fresh.dead, fresh.after_store
        since = batch.after_store
        applied = isolating(lambda delivered: self._store_once(delivered, since), batch.delivered)
        batch.applied = applied
        metrics.observe_batch(len(batch.messages), applied.recorded_at)  # duplicates are not new to the view
        batch.dead += [(_message_of(d, batch), reason) for d, reason in applied.failed]
        return applied

    def _store_once(self, delivered: Sequence[Delivered], since: int) -> Applied:
        """One transaction; retried from scratch when another worker raced on a case. `since`: the
        stores that had committed when these records were decoded (see `_erased_cases_since`)."""
        for attempt in range(1, CONFLICT_RETRIES + 1):
            try:
                with self.engine.begin() as connection:
                    applied = apply_batch(connection, self.views, delivered, self.rules, self.clock())
                    # crypto-shredding, same transaction
                    erased = erase_cases(connection, self.views, delivered, self.clock())
                    # A half of a batch stored in halves (`isolating`) after the half that erased
                    # one of its cases holds records opened before that erasure: blank them too.
                    erased_meanwhile = self._erased_cases_since(since) & {d.event.case_id for d in delivered}
                    erase_case_ids(connection, self.views, erased_meanwhile - erased, self.clock())
                self._stored(erased)
                return applied
            except (Conflict, IntegrityError) as error:
                if attempt == CONFLICT_RETRIES:
                    raise
                log.info(
                    "batch raced with another writer; retrying",
                    attempt=attempt,
                    reason=refusals.reason(error, "conflict"),
                )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _stored(self, erased: set[str]) -> None:
        with self._erasures_lock:
            self.stores += 1
            if erased:
                self._erased.append((self.stores, frozenset(erased)))

    def _erased_cases_since(self, since: int) -> set[str]:
        """The cases erased by the stores that committed after the first `since`."""
        if since == self.stores:
            return set()
        with self._erasures_lock:
            return set().union(*(cases for store, cases in self._erased if store > since))

    def _erased_since(self, batch: Batch) -> bool:
        """Did a store that committed after `batch`'s decode began erase one of its cases?"""
        if batch.after_store == self.stores:
            return False
        if self.stores - batch.after_store > ERASURES_KEPT:
            return True  # older than what is remembered: decode again to be sure
        erased = self._erased_cases_since(batch.after_store)
        return bool(erased) and any(
            m.key is not None and m.key.decode(errors="replace") in erased for m in batch.messages
        )

    def publish(self, batch: Batch) -> None:
        if batch.published:
            return
        assert batch.applied is not None, "store the batch before publishing it"
        now = self.clock()
        records = [dead_letter(self.settings, message, reason, now) for message, reason in batch.dead]
        records += [self.alert_record(message) for message in batch.applied.changes]
        self.publisher.publish(records)
        for message, reason in batch.dead:
            metrics.dead_lettered(reason)
            log.warning(
                "dead-lettered a record",
                reason=reason[:300],
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                **_identity(message),
            )
        self._forget(batch.applied.outbox_ids)
        batch.published = True

    def flush_outbox(self, older_than: timedelta = timedelta(0)) -> int:
        """Publish alert changes left in the outbox by a worker that stopped between its commit and
        its publish. A change may so reach the alerts topic twice; it never goes missing."""
        if self.views.outbox is None:
            return 0
        outbox = self.views.outbox
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.message)
                .where(outbox.c.created_at <= self.clock() - older_than)
                .order_by(outbox.c.created_at)
                .limit(5000)
            ).all()
        if rows:
            self.publisher.publish([self.alert_record(_json(row.message)) for row in rows])
            self._forget([row.id for row in rows])
            log.info("published alert changes left in the outbox", count=len(rows))
        return len(rows)

    def alert_record(self, message: dict) -> Record:
        return Record(
            self.settings.alerts_topic, message["alert"]["case_id"], json.dumps(message, separators=(",", ":")).encode()
        )

    def _forget(self, outbox_ids: list[str]) -> None:
        if outbox_ids and self.views.outbox is not None:
            with self.engine.begin() as connection:
                connection.execute(delete(self.views.outbox).where(self.views.outbox.c.id.in_(outbox_ids)))


def decode_one(message: Message, opener: Opener | None = None) -> tuple[Delivered | None, str]:
    """The record as an event, or None and why it cannot be used. With an `opener`, its personal
    fields are decrypted (or blank for an erased case) first; the timeline gets the opened text."""
    if message.value is None:
        return None, "empty record (a tombstone): the journey topic holds only events"
    try:
        opened = opener.open(message.key, message.value) if opener is not None else None
        event = events.decode(message.value if opened is None else opened.value)
        if opened is not None:
            return Delivered(opened.finish(event), opened.text, message.partition, message.offset), ""
        try:
            text = message.value.decode()
        except UnicodeDecodeError:  # JSON in UTF-16/32: valid, but stored as UTF-8 text
            text = json.dumps(json.loads(message.value))
    except events.InvalidEvent as error:
        return None, f"invalid event: {error}"
    except Exception as error:  # e.g. RecursionError from JSON nested too deep: one record, not the worker
        return None, refusals.reason(error, "undecodable record")
    return Delivered(event, text, message.partition, message.offset), ""


def _identity(message: Message) -> dict:
    """case_id, event_id and event_type of a record, each only when well-formed (a key from another
    producer may be any text): ids only, safe to log."""
    event_id, event_type = dlq.identity(message.value)
    key = message.key.decode(errors="replace") if message.key else ""
    return {"case_id": key if CASE_ID.fullmatch(key) else None, "event_id": event_id, "event_type": event_type}


def _message_of(delivered: Delivered, batch: Batch) -> Message:
    return next(m for m in batch.messages if m.partition == delivered.partition and m.offset == delivered.offset)


def _json(value: Any) -> dict[str, Any]:  # a JSON column: its value, or its text on SQLite
    return json.loads(value) if isinstance(value, str) else value
