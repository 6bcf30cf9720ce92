"""The journey topic, read in batches by the worker's own aiokafka consumer (issue 20).

faust's stream hands an agent one record at a time through a few tasks and loop turns each (about
60-70 us a record on the loop thread, sharing the GIL with the pipeline: the worker's ceiling at
about 16,000 events/s with nothing done). `getmany` hands over what the fetcher already holds in
one call. The faust app keeps the process's lifecycle, the sweep timer and the notifier's agent;
this reader owns the journey topic's membership of the worker group, its offsets and rebalances:

- Group `<prefix>-worker` (the one every worker joins), offsets committed by hand: a batch's
  offsets (its last offset + 1 per partition) only after its store AND publish are done. A crash in
  between means the batch is delivered again; the timeline's primary key makes that harmless.
- A partition never committed starts from its beginning (auto_offset_reset "earliest": aiokafka
  seeks every partition of a new assignment to its committed offset, or there).
- Three batches in flight at most (issue 20), one in each stage: batch n published and committed,
  n+1 stored, n+2 fetched and decoded (`Worker.prepare`, a thread). A store starts once the store
  before it is done (the fold of a case depends on the stored state: persist's compare-and-set);
  a publish once the batch before is committed; so stores, alert publishes and commits keep the
  log's order. An error in batch n means nothing from n onward is committed (n+1 may be stored:
  delivered again, it is a duplicate). Decoding ahead reads the key store before the erasures of
  the batches before it commit: the pipeline decodes such a batch again (`pipeline` docstring).
- A rebalance waits for the batches in flight: `on_partitions_revoked` stops batches from starting
  their store and waits for every batch started to be published and committed before its
  partitions go. Records the fetcher held for a partition that then goes are dropped by aiokafka
  and never reach the pipeline; a batch a rebalance overtook before its store started (the one
  decoded ahead, say) is dropped too (the new assignment reads from the committed offsets); a
  commit the group refuses (the worker was dropped from it while a batch ran past its session)
  leaves those records to the partition's next owner. Persist's compare-and-set keeps two workers
  briefly on one case correct.
- Transient failures (database or broker down) are retried with backoff by `Worker` without
  committing; an unexpected error stops the worker (exit 1) with the batch uncommitted.
- A stop finishes the batches in flight (stored or being stored), commits them and leaves the group
  (`consumer.stop()`); records fetched but not started (a batch decoded ahead included) are left
  for the next owner.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from services.config import Settings
from services.logs import get_logger
from services.worker import refusals
from services.worker.dlq import Message

log = get_logger(__name__)
Result = TypeVar("Result")


class JourneyReader:
    """Reads the journey topic in batches for `worker.process`: `run` (the app's task) until `stop`."""

    def __init__(
        self,
        settings: Settings,
        worker: Processes,
        group: str,
        consumer_factory: Callable[..., AIOKafkaConsumer] = AIOKafkaConsumer,
    ) -> None:
        self.settings, self.worker, self.group = settings, worker, group
        self.consumer_factory = consumer_factory  # tests pass a fake consumer
        self.consumer: AIOKafkaConsumer | None = None
        self.generation = 0  # counts assignments: a batch commits only in the one it was fetched in
        self.handing_over = False  # a rebalance is waiting for the batches in flight
        self._in_flight: set[asyncio.Task] = set()  # the stores, publishes and commits of started batches
        self._failed = False  # a batch failed (reported): no batch is started after it
        self._task: asyncio.Task | None = None
        self.finished = asyncio.Event()

    async def run(self) -> None:
        """Join the group and read until `stop` (or a fatal error, reported to `worker.on_fatal`)."""
        self._task = asyncio.current_task()
        try:
            self.consumer = self.consumer_factory(
                bootstrap_servers=self.settings.kafka_bootstrap,
                group_id=self.group,
                client_id="passage-worker",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=int(self.settings.worker_session_timeout_s * 1000),
                heartbeat_interval_ms=max(100, int(self.settings.worker_session_timeout_s * 1000 / 3)),
                **self.settings.aiokafka_options(),
            )
            self.consumer.subscribe([self.settings.journey_topic], listener=_Handover(self))
            await self.consumer.start()
            await self._read(self.consumer)
        except Exception as error:  # a boundary: Kafka refused us (unreachable, authorization, ...)
            log.error(
                "the journey reader cannot continue; stopping the worker with the batch uncommitted",
                reason=refusals.reason(error, "Kafka error"),
                frames=refusals.frames(error),
            )
            self.worker.on_fatal(error)
        finally:
            self.finished.set()

    async def stop(self, grace_s: float) -> bool:
        """Let the batches in flight finish and commit (for up to `grace_s`), then leave the group.
        False when the batch had to be abandoned (its offsets stay uncommitted)."""
        self.worker.stopping = True
        finished = True
        if self._task is not None and not self.finished.is_set():
            try:
                await asyncio.wait_for(self.finished.wait(), timeout=grace_s)
            except TimeoutError:
                finished = False
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.finished.wait()
        if self.consumer is not None:
            await self.consumer.stop()
        return finished

    def owned(self) -> list[TopicPartition]:
        """The journey partitions this worker holds now (none before its first assignment)."""
        if self.consumer is None:
            return []
        try:
            return [tp for tp in self.consumer.assignment() if tp.topic == self.settings.journey_topic]
        except IllegalStateError:  # not subscribed (yet, or any more)
            return []

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        """Up to three batches at a time, one in each stage, in the log's order: batch n published
        and committed, n+1 stored, n+2 fetched and decoded (`Worker.prepare`). A batch's store
        starts once the store before it is done; its publish once the batch before it is committed."""
        wait_ms = max(1, int(self.settings.worker_batch_wait_s * 1000))
        stored: asyncio.Task[bool | None] | None = None  # the last batch started: its store
        committed: asyncio.Task[bool] | None = None  # ... and its publish and commit
        try:
            while not (self.worker.stopping or self._failed):
                fetched = await consumer.getmany(timeout_ms=wait_ms, max_records=self.settings.worker_batch_size)
                generation = self.generation  # getmany returns only records of the assignment in force
                if not fetched:
                    continue
                records = [record for batch in fetched.values() for record in batch]
                steps = await self.worker.prepare(records)  # decoded while the batches before are stored
                if stored is not None and await stored is False:
                    break  # the batch before could not be stored: nothing from it onward is committed
                if self.worker.stopping or self._failed:
                    break  # fetched while the stop began (or after a failure): the next owner reads these
                stored = self._started(self._store(generation, steps))
                committed = self._started(self._publish_and_commit(fetched, generation, steps, stored, committed))
        except asyncio.CancelledError:  # a stop past its grace: the batches in flight are abandoned
            for task in self._in_flight:
                task.cancel()
            raise
        if committed is not None:
            await committed  # a stop waits for the batches in flight and their commits

    async def settled(self) -> None:
        """Until no batch is in flight (each started one is committed, dropped or failed)."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    def _started(self, step: Coroutine[Any, Any, Result]) -> asyncio.Task[Result]:
        task = asyncio.ensure_future(step)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _store(self, generation: int, steps: Any) -> bool | None:
        """The batch's store; None when it is not started: the stop began, or a rebalance (begun or
        done) overtook it, and the partitions' owner reads it again from the committed offsets."""
        if self.worker.stopping or self.handing_over or generation != self.generation:
            return None
        if not await self.worker.store(steps):
            self._failed = True
            return False
        return True

    async def _publish_and_commit(
        self,
        fetched: dict[TopicPartition, list],
        generation: int,
        steps: Any,
        stored: asyncio.Task[bool | None],
        before: asyncio.Task[bool] | None,
    ) -> bool:
        """Once the batch is stored and the batch before it committed: publish it, commit its
        offsets. False after an unexpected error here or in a batch before (reported)."""
        try:
            outcome = await stored
            if before is not None and not await before:
                return False  # the batch before failed: nothing from it onward is committed
            if not outcome:
                return outcome is None  # not started (dropped), or it failed
            if not await self.worker.publish(steps):
                self._failed = True
                return False
            await self._commit({tp: batch[-1].offset + 1 for tp, batch in fetched.items()}, generation)
            return True
        except BaseException:  # (an error the commit raised): no batch starts after it; `run` reports it
            self._failed = True
            raise

    async def _commit(self, offsets: dict[TopicPartition, int], generation: int) -> None:
        assert self.consumer is not None
        partitions = sorted(tp.partition for tp in offsets)
        if generation != self.generation:  # (a rebalance waits for the batches in flight: only when dropped)
            log.warning(
                "the group rebalanced while this batch was processed; its offsets are left to the "
                "partitions' next owner, which reads these records again (duplicates change nothing)",
                partitions=partitions,
            )
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            log.warning(
                "the group gave these partitions to another worker before this batch's offsets were "
                "committed; the next owner reads these records again (duplicates change nothing)",
                partitions=partitions,
                reason=type(error).__name__,
            )


class Processes(Protocol):
    """What the reader drives (services.worker.app.Worker)."""

    stopping: bool

    async def prepare(self, records: Sequence[Message]) -> Any: ...

    async def store(self, steps: Any) -> bool: ...

    async def publish(self, steps: Any) -> bool: ...

    def on_fatal(self, error: BaseException) -> None: ...


class _Handover(ConsumerRebalanceListener):
    """Partitions leave this worker only once the batches in flight are committed."""

    def __init__(self, reader: JourneyReader) -> None:
        self.reader = reader

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.reader.handing_over = True  # no batch starts its store from now on
        await self.reader.settled()  # the batches started: stored, published and committed
        self.reader.generation += 1
        self.reader.handing_over = False
        if revoked:
            log.info("journey partitions handed back to the group", partitions=sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.reader.generation += 1
        log.info("journey partitions assigned", partitions=sorted(tp.partition for tp in assigned))
