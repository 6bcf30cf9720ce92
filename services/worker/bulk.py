"""The bulk part of `passage replay`: some partitions of the journey topic, read whole, folded in
memory, and written into the shadow tables with COPY.

The live worker reads a batch, loads its cases, folds, and writes with a few statements per
batch: right for a stream, slow for a rebuild, where every case would be read back and rewritten
once per batch it appears in. A rebuild owns the shadow tables, so here:
- the log is read in large fetches (aiokafka `getmany`) up to the end offsets the replay saw at
  its start, and each record decoded with the same `decode_one` (fast path first) as the worker;
- each event is folded with the same domain `project`, in memory: a case's state lives in a dict
  for the whole run, and only the final states are written;
- rows are built by the same builders the worker's `persist` uses (services/worker/rows.py, and
  services/worker/counts.py for the counts), and written with COPY (`copy_rows`, generic over the
  table's columns). The timeline streams to the database while reading, as lines of COPY's text
  format (`timeline_line`); the cases, alerts, offers and scorecard rows go at the end, in the
  same transaction. The counts and scorecard aggregates are returned in `Folded`, not written.
What the views hold therefore equals what the live worker builds from the same log (the
integration test compares them on the demo's log with time rules and officer actions):
- an event_id seen before changes nothing (first copy wins, as the timeline's primary key makes it
  in the live worker); one with other content is counted as failed (the live worker dead-letters
  it as a conflicting duplicate);
- a record the database refuses fails the whole COPY: the fold raises `BulkRefused` and the
  replay starts again batch by batch, where such records are set aside one by one;
- each case's state is changed in place, event after event (`project(..., in_place=True)`: no
  copy per event, about a fifth of the domain's cost); an event the domain refuses before changing
  anything (another case's, an unknown type) is left out (the live worker dead-letters it); one
  that fails half-way leaves no exact state to go on from, so it fails the bulk fold like a
  refused row (`BulkRefused`);
- an alert row is its latest change, with the case's final destination and origin (the live
  worker writes the latest change and moves every alert of a case when the case moves).

`--jobs N` runs N such folds in parallel processes, the partitions dealt out to them by size
(`replay.shares`): a case's events all live on one partition (key = case_id), so the jobs share no
case; their totals (counts, scorecard aggregates) are summed by the replay and written once
(`write_totals`), so no two jobs write the same row. Memory: one job holds the folded state of
each of its cases (a few KB each) and one event_id per event.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import JSON, Connection, Table, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from events import WATCHLIST_EVENTS
from services.config import Settings
from services.domain import AlertChange, CaseState, RuleConfig, project
from services.domain.state import key_of
from services.domain.watchlist import entry_of
from services.logs import get_logger
from services.privacy import Keyring, Opener, erase_case_ids
from services.storage.db import driver_connection
from services.worker import accountability, counts, refusals
from services.worker.persist import same_content
from services.worker.pipeline import decode_one
from services.worker.rows import Delivered, alert_row, case_row, offer_row, timeline_row
from services.worker.views import Views

log = get_logger(__name__)
GC_YOUNG_THRESHOLD = 20_000  # as the worker's (services/worker/runner.py)
FETCH_RECORDS = 20_000  # records per getmany: large enough that the loop's overhead is noise


class BulkRefused(RuntimeError):
    """A record the bulk fold cannot take exactly: the database refused it (the whole COPY failed),
    or the domain raised after it had begun changing the case (the fold keeps no earlier state to
    go back to). The reason, redacted; the replay starts again batch by batch."""


@dataclass
class Folded:
    """What a fold did, and the totals its cases add to the tables several jobs share (summed over
    the jobs by the replay, then written once: `write_totals`)."""

    events: int = 0
    skipped: int = 0  # records that do not decode
    failed: int = 0  # events the domain could not fold
    tally: counts.Tally = field(default_factory=Counter)  # stage, skill and offer counts
    party: accountability.Aggregates = field(default_factory=lambda: (defaultdict(Counter), Counter()))

    def add(self, other: Folded) -> None:
        self.events += other.events
        self.skipped += other.skipped
        self.failed += other.failed
        self.tally.update(other.tally)
        stats, gaps = self.party
        for key, change in other.party[0].items():
            stats[key].update(change)
        gaps.update(other.party[1])


@dataclass
class Fold:
    """Events in, rows out: the live worker's `project` and row builders over a whole log."""

    rules: RuleConfig
    states: dict[str, CaseState] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    repeats: list[Delivered] = field(default_factory=list)  # event_ids seen before: compared at the end
    alerts: dict[str, AlertChange] = field(default_factory=dict)  # the latest change of each alert
    offers: list[dict] = field(default_factory=list)
    listings: list[Delivered] = field(default_factory=list)  # watchlist events (services/worker/accountability.py)
    result: Folded = field(default_factory=Folded)
    opener: Opener | None = None  # decrypts personal fields (services/privacy)

    def add(self, record) -> Delivered | None:
        """Fold one record (anything with .value, .partition, .offset); the event for the timeline,
        or None when it changes nothing."""
        added = self.add_keyed(record)
        return added[0] if added is not None else None

    def add_keyed(self, record) -> tuple[Delivered, str] | None:
        """`add`, with the event's id as text next to the event (the timeline line takes it)."""
        delivered, _reason = decode_one(record, self.opener)
        if delivered is None:
            self.result.skipped += 1
            return None
        event = delivered.event
        key = key_of(event)  # made once: the fold takes it, and its event_id text serves here too
        event_id = key[2]
        if event_id in self.seen:  # never applied; same content or not is told apart in `write`
            if event.event_type not in WATCHLIST_EVENTS:  # a watchlist repeat is not in the timeline
                self.repeats.append(delivered)
            return None
        if event.event_type in WATCHLIST_EVENTS:  # no case: kept for the watchlist table
            self.seen.add(event_id)
            self.listings.append(delivered)
            self.result.events += 1
            return None
        state = self.states.get(event.case_id)
        counted = state.event_count if state is not None else 0
        try:
            state, changes = project(state, event, self.rules, in_place=True, key=key)  # one state per case, no copies
        except Exception as error:  # as the live worker: one event must not stop the rebuild
            reason = refusals.reason(error, "projection failed")
            if state is not None and state.event_count != counted:  # changed half-way: no exact state left
                raise BulkRefused(f"the domain failed half-way through event {event_id}: {reason}") from None
            self.result.failed += 1
            log.warning("replay could not fold an event", event_id=event_id, reason=reason)
            return None
        self.seen.add(event_id)
        self.states[event.case_id] = state
        self.result.events += 1
        if event.event_type == "recruitment.job_offer_made":
            self.offers.append(offer_row(event, state))
        for change in changes:
            self.alerts[change.alert.alert_id] = change
        return delivered, event_id

    def write(self, conn: Connection, views: Views) -> None:
        """The folded cases, alerts, offers and counts into `views` (the timeline went while reading)."""
        # Generators: the server takes each row while the next is built (a case's row is most of
        # the cost on both sides: its state as JSON, compressed by the server).
        copy_rows(conn, views.cases, (case_row(state, self.rules) for state in self.states.values()))
        copy_rows(
            conn,
            views.alerts,
            (alert_row(change, self.states[change.alert.case_id]) for change in self.alerts.values()),
        )
        copy_rows(conn, views.job_offers, self.offers)
        self.result.tally = counts.tally_of(self.states.values(), self.offers)
        if views.party_cases is not None:  # scorecards; the replay refolds for the watchlist after every job
            copy_rows(conn, views.party_cases, accountability.party_rows(self.states))
            self.result.party = accountability.aggregates(self.states, {})
        if views.watchlist is not None and self.listings:
            copy_rows(
                conn, views.watchlist, [accountability.watchlist_row(d, entry_of(d.event)) for d in self.listings]
            )
        self._tell_repeats(conn, views)
        erase_case_ids(conn, views, {state.case_id for state in self.states.values() if state.erased})

    def _tell_repeats(self, conn: Connection, views: Views) -> None:
        """A repeated event_id with other content is a conflicting duplicate (counted as failed, as
        the live worker dead-letters it, `persist.same_content`); with the same content, nothing."""
        if not self.repeats:
            return
        t = views.timeline.c
        ids = list({str(d.event.event_id) for d in self.repeats})
        held = {
            row.event_id: row.envelope
            for row in conn.execute(select(t.event_id, t.envelope).where(t.event_id.in_(ids)))
        }
        for delivered in self.repeats:
            if not same_content(delivered.event, held[str(delivered.event.event_id)]):
                self.result.failed += 1
                log.warning(
                    "replay set aside a conflicting duplicate",
                    event_id=str(delivered.event.event_id),
                    partition=delivered.partition,
                    offset=delivered.offset,
                )


def write_totals(conn: Connection, views: Views, folded: Folded) -> None:
    """The counts and scorecard aggregates of every job's cases (summed in `folded`) into the
    empty shadow tables, with COPY: written once by the replay after its jobs, so jobs never add
    to the same rows (an upsert per key would make the second job wait on the first's locks)."""
    if views.counts:
        counts.insert_all(conn, views.counts, folded.tally)
    stats, buckets = accountability.aggregate_rows(folded.party)
    if views.party_stats is not None:
        copy_rows(conn, views.party_stats, stats)
    if views.party_wage_gaps is not None:
        copy_rows(conn, views.party_wage_gaps, buckets)


def fold_partitions(
    settings: Settings,
    engine: Engine,
    views: Views,
    partitions: list[int],
    ends: dict[int, int],
    on_read: Callable[[int], object] = lambda records: None,
    before_write: Callable[[], object] = lambda: None,
) -> Folded:
    """Fold `partitions` of the journey topic up to `ends` (partition -> end offset) into `views`,
    in one transaction. `on_read(n)` after each fetch of n records (a progress bar);
    `before_write()` once the log is read, before the tables other than the timeline are written
    (the replay makes them meanwhile: it returns once they exist, or raises)."""
    try:
        return _fold_partitions(settings, engine, views, partitions, ends, on_read, before_write)
    except (DBAPIError, psycopg.Error) as error:  # the database's verdict on a row; Kafka's errors propagate
        if refusals.is_record_fault(error):
            raise BulkRefused(refusals.reason(error)) from None
        raise


def _fold_partitions(
    settings: Settings,
    engine: Engine,
    views: Views,
    partitions: list[int],
    ends: dict[int, int],
    on_read: Callable[[int], object],
    before_write: Callable[[], object],
) -> Folded:
    fold = Fold(RuleConfig.from_settings(settings), opener=Opener.reading(engine, Keyring.from_settings(settings)))
    # As in the worker (services/worker/runner.py): millions of short-lived objects per fold, so
    # young collections far less often; restored after. What survives a fetch (the states, the
    # event_ids seen) is frozen after it (`_read`), so the older collections, which would scan
    # the whole growing fold again and again, find little to scan.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        with engine.begin() as conn:
            shadow_session(conn)
            with TimelineCopy(conn, views.timeline) as timeline:
                asyncio.run(_read(settings, partitions, ends, fold, timeline, on_read))
            before_write()
            fold.write(conn, views)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()  # collectable again once the fold is dropped
    return fold.result


def shadow_session(conn: Connection) -> None:
    """PostgreSQL settings for a transaction that writes only shadow tables (nothing reads them
    before the swap):
    - lz4 for the values TOAST compresses (a case's state is about 9 KB of JSON): a COPY of the
      bench's 1,740 cases took 0.18-0.24 s of the server's CPU instead of 0.39-0.48 s with pglz,
      and the table came out smaller (7.0 against 8.6 MB); readers decompress either kind, and
      rows the live worker writes later keep the server's default. Only where the server has it.
    - synchronous_commit off: the commit does not wait for the WAL to reach the disk. The swap's
      commit flushes it (WAL is flushed in order); a crash before that loses shadow tables only,
      which the replay makes anew."""
    if conn.dialect.name != "postgresql":
        return
    lz4 = conn.execute(
        text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    if lz4:
        conn.execute(text("SET LOCAL default_toast_compression = 'lz4'"))
    conn.execute(text("SET LOCAL synchronous_commit = off"))


async def _read(
    settings: Settings,
    partitions: list[int],
    ends: dict[int, int],
    fold: Fold,
    timeline,
    on_read: Callable[[int], object],
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        client_id="passage-replay",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        **settings.aiokafka_options(),
    )
    await consumer.start()
    try:
        tps = {TopicPartition(settings.journey_topic, p): ends[p] for p in partitions}
        consumer.assign(list(tps))
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp, end in tps.items() if await consumer.position(tp) < end}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=FETCH_RECORDS)
            for tp, records in fetched.items():
                end = tps[tp]
                for record in records:
                    if record.offset >= end:
                        break
                    added = fold.add_keyed(record)
                    if added is not None:
                        timeline.write(*added)
                if (records and records[-1].offset >= end - 1) or await consumer.position(tp) >= end:
                    remaining.discard(tp)
                on_read(len(records))
            gc.freeze()
    finally:
        await consumer.stop()


class TimelineCopy:
    """One COPY into the timeline, open while the log is read (rows written as they come). On
    PostgreSQL each row goes as a line of COPY's text format built straight from the event
    (`timeline_line`: the rebuild writes one per event, so no dict and no per-value adaptation),
    sent in chunks; elsewhere the rows of `timeline_row` are inserted at the end."""

    CHUNK = 500  # lines per write: fewer calls into the driver, a few hundred KB at most

    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn, self.table = conn, table
        self.rows: list[dict] = []
        self._lines: list[str] = []
        self._copy = None

    def __enter__(self) -> TimelineCopy:
        if self.conn.dialect.name == "postgresql":
            self._cursor = driver_connection(self.conn).cursor()
            self._context = self._cursor.copy(_copy_statement(self.conn, self.table, TIMELINE_COLUMNS))
            self._copy = self._context.__enter__()
        return self

    def write(self, delivered: Delivered, event_id: str | None = None) -> None:
        if self._copy is None:
            self.rows.append(timeline_row(delivered))
            return
        self._lines.append(timeline_line(delivered, event_id))
        if len(self._lines) >= self.CHUNK:
            self._copy.write("".join(self._lines))
            self._lines.clear()

    def __exit__(self, *exc_info) -> None:
        if self._copy is None:
            copy_rows(self.conn, self.table, self.rows)
            return
        if self._lines and exc_info[0] is None:
            self._copy.write("".join(self._lines))
        self._context.__exit__(*exc_info)
        self._cursor.close()


# The timeline's columns in `timeline_line`'s order: those of `rows.timeline_row` (a test holds them equal).
TIMELINE_COLUMNS = (
    "event_id",
    "case_id",
    "event_type",
    "occurred_at",
    "recorded_at",
    "envelope",
    "topic_partition",
    "topic_offset",
)
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def timeline_line(delivered: Delivered, event_id: str | None = None) -> str:
    """`rows.timeline_row(delivered)` as a line of COPY's text format (TIMELINE_COLUMNS). The
    instants keep their offset (the contract requires one; the columns are timestamptz, so the
    server converts): one f-string, about a third less CPU than joining converted fields.
    `event_id`: the event's id as text, when the caller has it (else formatted here)."""
    event = delivered.event
    recorded, partition, offset = event.recorded_at, delivered.partition, delivered.offset
    return (
        f"{event.event_id if event_id is None else event_id}\t{copy_text(event.case_id)}\t{copy_text(event.event_type)}\t"
        f"{event.occurred_at.isoformat()}\t{NULL if recorded is None else recorded.isoformat()}\t"
        f"{copy_text(delivered.envelope)}\t{NULL if partition is None else partition}\t"
        f"{NULL if offset is None else offset}\n"
    )


def copy_text(value: str) -> str:
    """A text field of COPY's text format: backslash, newline, carriage return and tab escaped."""
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return value.translate(_ESCAPES)
    return value


def copy_rows(conn: Connection, table: Table, rows: Iterable[dict]) -> None:
    """Rows as the worker's row builders make them (JSON columns as `<name>_json` text or as
    values) into `table`: COPY on PostgreSQL, one executemany elsewhere. `rows` is read once, as
    the COPY goes (a generator's rows are built while the server takes the ones before)."""
    remaining = iter(rows)
    first = next(remaining, None)
    if first is None:
        return
    rows = chain((first,), remaining)
    json_columns = _json_columns(table)
    names = [column.name for column in table.columns]
    if conn.dialect.name != "postgresql":
        conn.execute(
            insert(table),
            [{name: _plain(row, name, json_columns) for name in names if _has(row, name)} for row in rows],
        )
        return
    # The plain columns first, then the JSON ones: a plain value is the row's, as it is.
    plain = [name for name in names if name not in json_columns]
    encoded = [(name, f"{name}_json") for name in names if name in json_columns]
    cursor = driver_connection(conn).cursor()
    with cursor, cursor.copy(_copy_statement(conn, table, [*plain, *(name for name, _ in encoded)])) as copy:
        for row in rows:
            values = [row.get(name) for name in plain]
            for name, key in encoded:
                values.append(_json_text(row, name, key))
            copy.write_row(values)


def _copy_statement(conn: Connection, table: Table, names: Iterable[str] | None = None) -> str:
    quote = conn.dialect.identifier_preparer.quote
    names = [column.name for column in table.columns] if names is None else names
    return f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"


def _json_columns(table: Table) -> set[str]:
    return {column.name for column in table.columns if isinstance(column.type, JSON)}


def _has(row: dict, name: str) -> bool:
    return name in row or f"{name}_json" in row


def _json_text(row: dict, name: str, key: str) -> str | None:
    """A JSON column's COPY field: the row's JSON text under `key` (`<name>_json`), else its value
    under `name` as JSON text."""
    encoded = row.get(key)
    if encoded is not None:
        return encoded
    value = row.get(name)
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _plain(row: dict, name: str, json_columns: set[str]):
    """An executemany value: JSON columns as Python values."""
    if name in json_columns and f"{name}_json" in row:
        return json.loads(row[f"{name}_json"])
    return row.get(name)
