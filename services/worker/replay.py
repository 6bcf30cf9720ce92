"""`passage replay`: rebuild the views from offset 0 of the journey topic.

The fold goes into fresh shadow tables (`views.shadow`) while the live views keep serving: in
bulk, up to the end offsets seen at the start (services/worker/bulk.py: large fetches, an
in-memory fold with the worker's own `project` and row builders, COPY; `jobs` processes, each in
a session of its own, split the partitions by size; their summed counts and scorecard aggregates
are then written once). After ANALYZE,
one transaction locks the live views (ACCESS EXCLUSIVE on PostgreSQL: see `_lock_live`), folds the
few events that arrived meanwhile, and swaps the rebuilt tables in (`views.swap`: by renaming on
PostgreSQL): readers see the old views until the swap and the rebuilt ones after its commit,
waiting for that transaction only. A worker running alongside is blocked for that transaction
only; its next batch then meets rows it did not load, loses the compare-and-set, reloads and
finds its events already applied.
Records that do not decode, that the database refuses or that conflict with an event_id already
folded are skipped and counted (the running worker has dead-lettered them already).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.synchronize import Event as EventType

import psycopg
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Connection, Table, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from services.config import Settings
from services.domain import RuleConfig
from services.logs import get_logger
from services.privacy import Keyring, Opener, erase_cases
from services.storage.db import make_engine
from services.worker import views as v
from services.worker.bulk import BulkRefused, Folded, fold_partitions, shadow_session, write_totals
from services.worker.dlq import Message
from services.worker.isolate import isolating
from services.worker.persist import Applied, apply_batch, settle_watchlist
from services.worker.pipeline import decode_one

log = get_logger(__name__)
SWAP_ATTEMPTS = 3  # the swap's locks may deadlock with a reader's or a worker's transaction; PostgreSQL aborts one


@dataclass
class Replayed:
    events: int = 0
    skipped: int = 0  # records that do not decode
    failed: int = 0  # events the domain could not fold


def replay(settings: Settings, engine: Engine, progress: bool = True, jobs: int = 1) -> Replayed:
    """Rebuild the views from the whole journey topic; `jobs` processes fold the log in bulk.

    What does not grow with the log runs side by side where it can (on a 2-core host it was a
    third of a 50,000-event rebuild): the broker's offsets are read while the database makes the
    shadow tables, and after the fold the tables only the fold writes are analysed on a second
    connection while the totals are written and the watchlist settled."""
    rules = RuleConfig.from_settings(settings)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-offsets") as side:
        offsets = side.submit(_offsets, settings)  # done (and the thread gone) before any job is forked
        # The timeline only: the fold streams into it from its first fetch; the other tables are
        # made while it runs (`_rest`).
        rebuilt = v.shadow(engine, tables=[v.shadow_tables().timeline])
    result = Replayed()
    try:
        ends, sizes = offsets.result()
        began, cpu = time.monotonic(), time.process_time()
        folded = _bulk(settings, engine, rebuilt, ends, sizes, jobs, progress)
        result.events, result.skipped, result.failed = folded.events, folded.skipped, folded.failed
        # The planner's statistics, before the tables go live: those of the tables final once the
        # fold is done on a second connection, while the others are written and settled.
        # Another makes the tail's consumer ready meanwhile (connected, its metadata known).
        final = _final(rebuilt)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="replay-side") as side:
            analysing = side.submit(v.analyze, engine, final)
            ready = side.submit(_tail_consumer, settings, ends)
            try:
                with engine.begin() as connection:
                    shadow_session(connection)
                    write_totals(connection, rebuilt, folded)  # nothing after the fallback: its batches kept them
                _settle_watchlist(engine, rebuilt, rules)
                v.analyze(engine, [table for table in rebuilt.folded if table not in final])
                analysing.result()
            except BaseException:
                ready.cancel()
                ready.add_done_callback(_close_unused)
                raise
        bulk_s = time.monotonic() - began
        consumer = ready.result()
        try:
            for attempt in range(1, SWAP_ATTEMPTS + 1):
                try:
                    tail = _tail_and_swap(
                        consumer, engine, rebuilt, ends, rules, result, Keyring.from_settings(settings)
                    )
                    break
                except OperationalError as error:
                    if attempt == SWAP_ATTEMPTS or not isinstance(error.orig, psycopg.errors.DeadlockDetected):
                        raise
                    log.info("the swap deadlocked with a reader or a worker; trying again", attempt=attempt)
        finally:
            consumer.close()
        log.info(
            "replay swapped in the rebuilt views",
            events=result.events,
            arrived_during_replay=tail,
            skipped=result.skipped,
            failed=result.failed,
            jobs=jobs,
            bulk_s=round(bulk_s, 2),
            tail_and_swap_s=round(time.monotonic() - began - bulk_s, 2),
            cpu_s=round(time.process_time() - cpu, 2),  # this process's (with one job, the fold's)
        )
        return result
    except BaseException:
        v.drop(engine, rebuilt)
        raise


def _tail_consumer(settings: Settings, ends: dict[TopicPartition, int]) -> KafkaConsumer:
    """A consumer on the journey topic's partitions, connected and its metadata fetched (a first
    end-offsets request: about 0.1 s that would otherwise fall inside the swap's locks)."""
    consumer = _consumer(settings)
    try:
        consumer.assign(list(ends))
        consumer.end_offsets(list(ends))
    except BaseException:
        consumer.close()
        raise
    return consumer


def _close_unused(ready: Future[KafkaConsumer]) -> None:
    if not ready.cancelled() and ready.exception() is None:
        ready.result().close()


def _tail_and_swap(
    consumer: KafkaConsumer,
    engine: Engine,
    rebuilt: v.Views,
    ends: dict[TopicPartition, int],
    rules: RuleConfig,
    result: Replayed,
    keyring: Keyring,
) -> int:
    """One transaction: lock the live views, fold what arrived after `ends` into the rebuilt ones
    (read with `consumer`, from `_tail_consumer`), swap them in. `result` is only added to once it
    commits; returns the number of records read."""
    tail_result = Replayed()
    for tp, end in ends.items():  # again on each attempt: a failed one may have read on
        consumer.seek(tp, end)
    with engine.begin() as connection:
        _lock_live(connection)
        tail = 0
        for messages in _read_until(consumer, consumer.end_offsets(list(ends))):
            _fold(connection, rebuilt, messages, rules, tail_result, keyring)
            tail += len(messages)
        v.swap(connection, rebuilt)
    result.events += tail_result.events
    result.skipped += tail_result.skipped
    result.failed += tail_result.failed
    return tail


def _settle_watchlist(engine: Engine, rebuilt: v.Views, rules: RuleConfig) -> None:
    """The bulk fold judged every offer without the watchlist (a job reads only its partitions):
    refold the cases the stored entries concern, as the live worker does when an entry comes late
    (services/worker/accountability.py), so WATCHLISTED_PARTY is what the in-order fold gives."""
    with engine.begin() as connection:
        shadow_session(connection)
        settle_watchlist(connection, rebuilt, rules)


def _offsets(settings: Settings) -> tuple[dict[TopicPartition, int], dict[int, int]]:
    """Every partition of the journey topic and its end offset now (where the bulk fold stops),
    and how many records each holds up to there (to deal the partitions out to the jobs)."""
    consumer = _consumer(settings)
    try:
        partitions = _partitions(consumer, settings.journey_topic)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        return ends, {tp.partition: ends[tp] - starts[tp] for tp in partitions}
    finally:
        consumer.close()


def _bulk(
    settings: Settings,
    engine: Engine,
    rebuilt: v.Views,
    ends: dict[TopicPartition, int],
    sizes: dict[int, int],
    jobs: int,
    progress: bool,
) -> Folded:
    """The log up to `ends` into the shadow views (services/worker/bulk.py): in this process, or in
    `jobs` processes, each folding its share of the partitions (`shares`). The jobs are forked
    where the platform can (no second import of everything, a second or more per job on a busy
    host); the parent holds no open connection while forking (no Kafka client, engine pool
    emptied, no other thread), so no socket is shared with a child. The totals the jobs return are
    written by the caller (`write_totals`)."""
    by_partition = {tp.partition: end for tp, end in ends.items()}
    try:

        def make_rest() -> None:
            v.shadow(engine, tables=_rest(rebuilt))

        folded = _bulk_jobs(settings, engine, rebuilt, by_partition, shares(sizes, jobs), progress, make_rest)
    except BulkRefused as refused:
        # A record the database refuses fails a whole COPY; an event the domain fails on half-way
        # leaves its case's state (changed in place) inexact. Rare (the contract refuses most such
        # values at the gateway; a domain failure is a bug), so the replay starts again batch by
        # batch, where such records are set aside one by one as the live worker dead-lettered them.
        log.warning(
            "the bulk fold met a record it cannot take exactly; rebuilding batch by batch instead", reason=str(refused)
        )
        v.shadow(engine)  # the same tables, emptied
        return _batch_by_batch(settings, engine, rebuilt, by_partition)
    return folded


def _rest(rebuilt: v.Views) -> list[Table]:
    """The shadow tables the fold writes only once the log is read: made while it reads (the 10
    `CREATE TABLE .. LIKE` took 0.15-0.3 s before the fold could start)."""
    return [table for table in rebuilt.folded if table is not rebuilt.timeline]


def _final(rebuilt: v.Views) -> list[Table]:
    """The tables final once the fold is done: the totals and the watchlist's settling write the
    others (counts, scorecards, cases, alerts). The timeline's ANALYZE is most of the replay's
    fixed cost (0.3-0.7 s at 50,000 events, its envelope column the larger half)."""
    return [table for table in (rebuilt.timeline, rebuilt.job_offers, rebuilt.watchlist) if table is not None]


def shares(sizes: dict[int, int], jobs: int) -> list[list[int]]:
    """The partitions (partition -> records) dealt out to `jobs` jobs, the largest first to the
    job holding the fewest records so far: the jobs finish together (dealing by p mod jobs left
    one job with 11% more records than the other on the bench's log). A case lives on one
    partition (key = case_id), so jobs share no case. Jobs left without a partition are dropped."""
    dealt: list[list[int]] = [[] for _ in range(max(jobs, 1))]
    held = [0] * len(dealt)
    for partition in sorted(sizes, key=lambda p: (-sizes[p], p)):
        job = min(range(len(dealt)), key=lambda j: (held[j], j))
        dealt[job].append(partition)
        held[job] += sizes[partition]
    return [sorted(share) for share in dealt if share]


def _bulk_jobs(
    settings: Settings,
    engine: Engine,
    rebuilt: v.Views,
    ends: dict[int, int],
    dealt: list[list[int]],
    progress: bool,
    make_rest: Callable[[], None],
) -> Folded:
    """The fold in this process or in one process per share; `make_rest` meanwhile (here, on a
    thread, or in the parent once the jobs are forked), the fold writing the other tables only
    once it has returned."""
    if len(dealt) <= 1:
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-tables") as side,
            tqdm(total=sum(ends.values()), unit="event", desc="replay", disable=not progress) as bar,
        ):
            making = side.submit(make_rest)
            return fold_partitions(settings, engine, rebuilt, sorted(ends), ends, bar.update, making.result)
    engine.dispose()
    context = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
    made, failed = context.Event(), context.Event()
    total = Folded()
    with ProcessPoolExecutor(
        max_workers=len(dealt), mp_context=context, initializer=_job_start, initargs=(made, failed)
    ) as pool:
        jobs = [pool.submit(_job, settings, share, ends) for share in dealt]  # all forked by the first
        try:
            make_rest()
            made.set()
            for job in jobs:
                total.add(job.result())
        except BaseException:  # failed, or interrupted: the jobs stop at their next fetch
            failed.set()
            raise
    return total


_tables: tuple[EventType, EventType] | None = None  # in a job process: (made, failed), from the replay


def _job_start(made: EventType, failed: EventType) -> None:
    """A job process's start: a session of its own, and the events by which the replay says its
    other tables exist, or that it failed.

    The session: where the kernel shares the CPU between sessions rather than processes (Linux's
    autogroup, on by default in many distributions), jobs forked into the replay's session share
    one session's part of a busy host, however many they are; each in its own, N jobs get N parts,
    as N workers started apart would. On the shared 2-core test host at load 4-5, two jobs went
    from 0.82-1.16x to 1.25-2.06x of one job in the same rounds. An interrupt of the replay (the
    terminal's Ctrl-C) then no longer reaches the jobs with it: the replay tells them through
    `failed`, which each job looks at after every fetch (`_go_on`) and while it waits for its
    tables; its transaction rolls back and the replay drops the shadow tables."""
    global _tables
    if hasattr(os, "setsid"):
        os.setsid()
    _tables = (made, failed)


def _go_on(records: int) -> None:
    """In a job, after each fetch: stop if the replay failed or was interrupted meanwhile."""
    if _tables is not None and _tables[1].is_set():
        raise RuntimeError("the replay failed or was interrupted (its log says why); this job stops")


def _wait_for_tables() -> None:
    if _tables is None:
        return
    made, failed = _tables
    while not made.wait(0.1):
        if failed.is_set():
            raise RuntimeError(
                "the replay could not make its shadow tables, or failed otherwise (its log says why); this job stops"
            )


def _job(settings: Settings, partitions: list[int], ends: dict[int, int]) -> Folded:
    """One job process: its own database engine, the shadow tables the parent created. Its log
    line has its CPU time next to its wall time: a job paired with others on too few cores waits
    for one (wall above CPU) without doing more work."""
    began, cpu = time.monotonic(), time.process_time()
    engine = make_engine(settings)
    try:
        folded = fold_partitions(
            settings, engine, v.shadow_tables(), partitions, ends, on_read=_go_on, before_write=_wait_for_tables
        )
    finally:
        engine.dispose()
    log.info(
        "replay job folded its partitions",
        partitions=partitions,
        events=folded.events,
        seconds=round(time.monotonic() - began, 2),
        cpu_s=round(time.process_time() - cpu, 2),
    )
    return folded


def _batch_by_batch(settings: Settings, engine: Engine, rebuilt: v.Views, ends: dict[int, int]) -> Folded:
    """The log up to `ends` folded as the live worker does, a transaction per poll."""
    rules = RuleConfig.from_settings(settings)
    result = Replayed()
    consumer = _consumer(settings)
    try:
        partitions = {TopicPartition(settings.journey_topic, p): end for p, end in ends.items()}
        consumer.assign(list(partitions))
        consumer.seek_to_beginning(*partitions)
        for messages in _read_until(consumer, partitions):
            with engine.begin() as connection:
                _fold(connection, rebuilt, messages, rules, result, Keyring.from_settings(settings))
    finally:
        consumer.close()
    return Folded(result.events, result.skipped, result.failed)


def _fold(
    connection: Connection,
    rebuilt: v.Views,
    messages: list[Message],
    rules: RuleConfig,
    result: Replayed,
    keyring: Keyring,
) -> None:
    delivered = []
    opener = Opener.for_batch(connection, keyring, [m.key for m in messages])  # personal fields (SPEC 9)
    for message in messages:
        event, _reason = decode_one(message, opener)
        if event is None:
            result.skipped += 1
        else:
            delivered.append(event)
    applied = _apply_isolating(connection, rebuilt, delivered, rules)
    erase_cases(connection, rebuilt, delivered)
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
        messages = [
            Message(r.topic, r.partition, r.offset, r.key, r.value)
            for tp, records in polled.items()
            for r in records
            if r.offset < ends[tp]
        ]
        for tp in polled:  # records past the end belong to the next read, not this one
            first_past = next((r.offset for r in polled[tp] if r.offset >= ends[tp]), None)
            if first_past is not None:
                consumer.seek(tp, first_past)
        if messages:
            yield messages


def _lock_live(connection: Connection) -> None:
    """Keep the live workers (and on PostgreSQL the readers) off the live views until the swap
    commits. PostgreSQL: ACCESS EXCLUSIVE from the start, the mode the swap's DROP TABLE needs (a
    weaker lock raised later deadlocks with a worker that read a view and waits to write it), taken
    in the order a worker's batch reads the tables (the timeline first, then the watchlist, then
    the cases), so a batch under way finishes first rather than deadlocking; a deadlock left
    (PostgreSQL aborts one side) makes the replay try the swap again (`SWAP_ATTEMPTS`)."""
    if connection.dialect.name == "postgresql":
        first = [v.LIVE.timeline, v.LIVE.watchlist, v.LIVE.cases]
        tables = [table for table in first if table is not None]
        tables += [table for table in v.LIVE.folded if table not in tables]
        names = ", ".join(table.name for table in tables)
        connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    else:  # SQLite: the first write takes the database's single write lock
        connection.execute(text(f"UPDATE {v.LIVE.cases.name} SET event_count = event_count WHERE 0"))


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        client_id="passage-replay",
        max_poll_records=settings.worker_batch_size,
        **settings.kafka_client_options(),
    )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    ids = consumer.partitions_for_topic(topic)
    if not ids:
        raise LookupError(f"topic {topic} does not exist; run `passage topics create`")
    return [TopicPartition(topic, p) for p in sorted(ids)]
