"""The worker's faust app: the process's lifecycle, the sweep timer and (added by the runner) the
notifier's agent. The journey topic is not a faust stream: a task of the app reads it
with a consumer of its own in `getmany` batches (`services.worker.reader`: the group, offsets and
rebalances) and hands each batch to `Worker`, which drives the `Pipeline` (decode, store, publish).
Built by `build_app`.

A batch's offsets are committed only after its database commit and its publishes. A crash in
between means the batch is delivered again, and the timeline's primary key makes that harmless.

A batch that cannot be finished is never committed: while the database or Kafka is down the
worker retries with backoff; an unexpected error stops the worker (exit 1) with the batch's offsets
uncommitted. A record the database refuses is not such an error: the pipeline dead-letters it and
stores the rest (`refusals`). Log lines carry ids, offsets, types and reasons only: never an
exception's message as it is (it can hold SQL parameters) nor a traceback with values;
`refusals.frames` gives where an unexpected error happened.

Groups: the journey reader is in `<prefix>-worker` (the group every worker joins, where the
journey offsets have always been committed); faust's own consumer, which reads only the alerts
topic for the notifier, is in `<prefix>-worker-notify`. The two cannot share a group: faust's
partition assignor and aiokafka's are different protocols, and a group takes one. A worker
upgraded from the all-faust version therefore reads the alerts topic again from its beginning
once; the delivery ids make every change seen again add nothing (services/notify/store.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as driver
from sqlalchemy.exc import IntegrityError, OperationalError

from services import metrics
from services.config import Settings
from services.errors import PublishFailed
from services.journey import JourneyPublisher
from services.logs import get_logger
from services.privacy import Sealer
from services.worker import refusals
from services.worker.dlq import Message
from services.worker.persist import Conflict
from services.worker.pipeline import Batch, Pipeline
from services.worker.reader import JourneyReader
from services.worker.sweep import sweep_once

log = get_logger(__name__)
TRANSIENT = (OperationalError, IntegrityError, Conflict, PublishFailed, *refusals.DRIVER_TRANSIENT)
MAX_BACKOFF_S = 30.0
OUTBOX_GRACE = timedelta(minutes=1)  # younger outbox rows belong to a batch publishing right now
STOP_GRACE_S = 60.0  # how long a stop waits for the batch in progress to finish and commit


# faust's own services log here, under "faust" (quiet unless something is wrong).
_FAUST_LOG = logging.getLogger("faust.passage")


class Worker:
    """Drives the pipeline for each batch the reader hands it; stops the worker on a fatal error."""

    def __init__(
        self, pipeline: Pipeline, on_fatal: Callable[[BaseException], None], first_backoff_s: float = 0.5
    ) -> None:
        self.pipeline = pipeline
        self.on_fatal = on_fatal
        self.first_backoff_s = first_backoff_s
        self.stopping = False
        self.batches = 0

    async def prepare(self, records: Sequence[Message]) -> _Steps:
        """The batch's steps with its decode done ahead (in a thread, while the batches before it
        are stored and published), for `store` and `publish`. Best effort: a decode that fails here
        is done again, with the usual retries and reports, when `store` takes the batch."""
        steps = _Steps(self.pipeline, records)
        try:
            await asyncio.to_thread(steps.decode)
        except Exception as error:  # reported (or retried) in order, by `store`
            log.debug("decoding ahead failed; the batch is decoded again in its turn", reason=type(error).__name__)
        return steps

    async def store(self, steps: _Steps) -> bool:
        """Decode (unless done ahead) and store the batch, retrying transient failures; False after
        an unexpected error, reported to `on_fatal` (nothing of the batch may be committed)."""
        return await self._through("store", steps)

    async def publish(self, steps: _Steps) -> bool:
        """Publish the stored batch (dead letters, alert changes), retrying transient failures; True
        once done (its offsets may be committed), False after an unexpected error (reported)."""
        if not await self._through("publish", steps):
            return False
        self.batches += 1
        return True

    async def process(self, records: Sequence[Message]) -> bool:
        """All of a batch's steps: decode, store, publish; True once done (see `publish`)."""
        steps = _Steps(self.pipeline, records)
        return await self.store(steps) and await self.publish(steps)

    async def _through(self, last: str, steps: _Steps) -> bool:
        try:
            await self._until_done(steps, last)
        except Exception as error:  # a boundary; the message may hold SQL parameters: log only its kind
            log.error(
                "the worker cannot continue; stopping with this batch uncommitted",
                reason=refusals.reason(error, "unexpected error"),
                frames=refusals.frames(error),
                **_where(steps.messages),
            )
            self.on_fatal(error)
            return False
        return True

    async def _until_done(self, steps: _Steps, last: str) -> None:
        for attempt in itertools.count(1):
            try:
                await asyncio.to_thread(steps.through, last)
                return
            except TRANSIENT as error:
                delay = min(MAX_BACKOFF_S, self.first_backoff_s * 2 ** min(attempt - 1, 10))
                log.warning(
                    "batch step failed; retrying",
                    step=steps.current,
                    attempt=attempt,
                    retry_in_s=delay,
                    reason=refusals.reason(error, "transient error"),
                )
                await asyncio.sleep(delay)


class _Steps:
    """A batch's decode, store and publish, run by thread hops: the decode ahead (`Worker.prepare`),
    then decode-if-not-yet and store in ONE hop, then publish in another (each hop waits for the GIL
    while another thread is busy; the issue-20 probe put three hops per batch at a third of the
    worker's rate: the store and publish hops overlap other batches' work instead). A retry runs
    a hop again; the batch remembers the steps already done."""

    def __init__(self, pipeline: Pipeline, messages: Sequence[Message]) -> None:
        self.pipeline, self.messages = pipeline, messages
        self.batch: Batch | None = None
        self.stored = False
        self.current = "decode"

    def decode(self) -> Batch:
        if self.batch is None:
            self.batch = self.pipeline.decode(self.messages)
        return self.batch

    def through(self, last: str) -> None:
        """The steps not done yet, up to `last` ("store" or "publish")."""
        self.current = "decode"
        batch = self.decode()
        if not self.stored:
            self.current = "store"
            self.pipeline.store(batch)
            self.stored = True
        if last == "publish":
            self.current = "publish"
            self.pipeline.publish(batch)


class _RewindUncommittedThread(driver.AIOKafkaConsumerThread):
    """faust's consumer (the notifier's, on the alerts topic). aiokafka seeks to the committed offset
    only where one exists. After a rebalance, faust drops records it had fetched and seeks back; a
    partition never committed would keep its advanced fetch position and lose those first records.
    Such partitions go back to their beginning (what auto_offset_reset=earliest means); records
    seen twice are duplicates the delivery ids drop."""

    logger = _FAUST_LOG

    async def seek_to_committed(self):
        committed = await super().seek_to_committed()
        uncommitted = [tp for tp, offset in committed.items() if not offset or offset < 0]
        if uncommitted:
            await self.seek_to_beginning(*uncommitted)
        return committed


class _Consumer(driver.Consumer):
    logger = _FAUST_LOG

    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _RewindUncommittedThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(driver.Transport):
    logger = _FAUST_LOG
    Consumer = _Consumer


class WorkerApp(faust.App):
    """faust's App with the journey reader: stopping the app stops the reader first (gracefully)."""

    logger = _FAUST_LOG
    reader: JourneyReader

    def _new_transport(self) -> driver.Transport:
        return _Transport(self.conf.broker_consumer, self)

    async def on_started(self) -> None:
        # The reader's task, started here rather than as an `@app.task`: faust starts those only
        # once its own consumer has joined its group and recovered its tables; the reader needs
        # neither (it has its own group and no tables), and must run in an app with no agent.
        self.add_future(self.reader.run())
        await super().on_started()

    async def on_stop(self) -> None:
        await self.reader.stop(STOP_GRACE_S)
        await super().on_stop()


def build_app(
    settings: Settings, worker: Worker, group: str | None = None, sweep_out: JourneyPublisher | None = None
) -> WorkerApp:
    """The app whose journey reader is in consumer group `group` (default `<prefix>-worker`, the one
    every worker joins); faust's own consumer (the notifier's) is in `<group>-notify`.
    `sweep_out`: what the sweep publishes through (`services.bootstrap`'s journey publisher);
    default: the pipeline's publisher behind a sealer of its own."""
    group = group or f"{settings.topic_prefix}-worker"
    app = WorkerApp(f"{group}-notify", **faust_options(settings))
    reader = app.reader = JourneyReader(settings, worker, group)  # runs in a task of the app (`on_started`)

    @app.timer(settings.sweep_interval_s, name="sweep-time-rules")
    async def sweep_time_rules() -> None:
        if worker.stopping or reader.consumer is None:
            return
        owned = await _caught_up(reader.consumer, reader.owned(), slack=settings.worker_batch_size)
        partitions = len(reader.consumer.partitions_for_topic(settings.journey_topic) or ())
        if not owned or not partitions:
            return
        try:
            with metrics.SWEEP_SECONDS.time():
                out = sweep_out or _sealing(worker.pipeline)
                await asyncio.to_thread(sweep_once, settings, worker.pipeline.engine, out, owned, partitions)
            await asyncio.to_thread(worker.pipeline.flush_outbox, OUTBOX_GRACE)
        except TRANSIENT as error:  # the next interval tries again; deadlines stay in the index
            log.warning("sweep failed; will retry next interval", reason=refusals.reason(error, "transient error"))
        except Exception as error:  # a boundary: a broken sweep must not stop the projection of events
            log.error(
                "sweep failed unexpectedly; will retry next interval",
                reason=refusals.reason(error, "unexpected error"),
                frames=refusals.frames(error),
            )

    return app


async def _caught_up(consumer: AIOKafkaConsumer, tps: list[TopicPartition], slack: int) -> set[int]:
    """The partitions whose backlog is at most `slack` records. A partition still catching up holds
    half-folded cases: sweeping them would publish time alerts that later events in the backlog
    already disprove (no-ops when applied, but they swell the log and slow the catch-up)."""
    ready = set()
    for tp in tps:
        try:
            highwater, position = consumer.highwater(tp), await consumer.position(tp)
        except IllegalStateError:  # handed back to the group meanwhile
            continue
        if highwater is None or position is None or highwater - position <= slack:
            ready.add(tp.partition)
    return ready


def _sealing(pipeline: Pipeline) -> JourneyPublisher:
    """The pipeline's publisher behind a sealer (when `build_app` was given no journey publisher)."""
    return JourneyPublisher(pipeline.publisher, Sealer(pipeline.engine, pipeline.keyring))


def _where(records: Sequence[Message]) -> dict:
    """The batch's place on the log (partitions and offsets only), for the fatal log line."""
    offsets = [(record.partition, record.offset) for record in records]
    return {"records": len(offsets), "first": offsets[0] if offsets else None, "last": offsets[-1] if offsets else None}


def faust_options(settings: Settings) -> dict[str, Any]:
    """The worker's faust settings (also those of `bench.worker`'s no-op faust agent baseline)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level of its datadir
    return dict(
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        broker_credentials=_credentials(settings),
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        # A worker that dies without leaving the group holds its partitions this long (faust: 60 s).
        broker_session_timeout=settings.worker_session_timeout_s,
        datadir=str(settings.var_dir / "faust"),
    )


def _credentials(settings: Settings):
    if not settings.kafka_sasl_mechanism:
        if settings.kafka_security_protocol == "SSL":
            return faust.SSLCredentials(_ssl_context(settings))
        return None
    ssl = _ssl_context(settings) if settings.kafka_security_protocol == "SASL_SSL" else None
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=ssl,
    )


def _ssl_context(settings: Settings):
    from aiokafka.helpers import create_ssl_context

    return create_ssl_context(cafile=settings.kafka_ssl_cafile)
