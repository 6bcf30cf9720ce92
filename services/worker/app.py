"""The faust app: one thin agent over the journey topic and the sweep timer. Built by `build_app`.

The agent takes batches (`take_events`: bounded by PASSAGE_WORKER_BATCH_SIZE records and
PASSAGE_WORKER_BATCH_WAIT_S seconds) and hands each to the `Pipeline` (decode, store, publish).
`take_events` acknowledges a batch only when the agent asks for the next one, so faust commits a
batch's offsets only after its database commit and its publishes. A crash in between means the
batch is delivered again, and the timeline's primary key makes that harmless.

A batch that cannot be finished is never acknowledged ("withheld"): while the database or Kafka
is down the agent retries with backoff; an unexpected error stops the worker (exit 1) with the
batch's offsets uncommitted. A record the database refuses is not such an error: the pipeline
dead-letters it and stores the rest (`refusals`). Log lines carry ids, offsets, types and
reasons only: never an exception's message as it is (it can hold SQL parameters) nor a traceback
with values; `refusals.frames` gives where an unexpected error happened.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

import faust
from faust.transport.drivers import aiokafka as driver
from sqlalchemy.exc import IntegrityError, OperationalError

from services import metrics
from services.config import Settings
from services.kafka.producer import PublishFailed
from services.logs import get_logger
from services.worker import refusals
from services.worker.persist import Conflict
from services.worker.pipeline import Batch, Pipeline
from services.worker.sweep import sweep_once

log = get_logger(__name__)
TRANSIENT = (OperationalError, IntegrityError, Conflict, PublishFailed, *refusals.DRIVER_TRANSIENT)
MAX_BACKOFF_S = 30.0
OUTBOX_GRACE = timedelta(minutes=1)  # younger outbox rows belong to a batch publishing right now


# faust's own services log here, under "faust" (quiet unless something is wrong).
_FAUST_LOG = logging.getLogger("faust.passage")


class _RewindUncommittedThread(driver.AIOKafkaConsumerThread):
    """aiokafka seeks to the committed offset only where one exists. After a rebalance, faust drops
    records it had fetched and seeks back; a partition never committed would keep its advanced
    fetch position and lose those first records. Such partitions go back to their beginning
    (what auto_offset_reset=earliest means); records seen twice are duplicates the timeline drops."""

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
    logger = _FAUST_LOG

    def _new_transport(self) -> driver.Transport:
        return _Transport(self.conf.broker_consumer, self)


class Worker:
    """The agent's state: drives the pipeline, knows when it is idle, stops on a fatal error."""

    def __init__(
        self, pipeline: Pipeline, on_fatal: Callable[[BaseException], None], first_backoff_s: float = 0.5
    ) -> None:
        self.pipeline = pipeline
        self.on_fatal = on_fatal
        self.first_backoff_s = first_backoff_s
        self.stopping = False
        self.idle = asyncio.Event()
        self.idle.set()
        self.batches = 0

    async def process(self, batch_events: Sequence[faust.EventT]) -> None:
        if self.stopping:
            _withhold(batch_events)  # buffered when the stop began: the next owner reads them
            await asyncio.Event().wait()
        self.idle.clear()
        done = False
        try:
            # The records as faust holds them (they have Message's fields): no copy per record.
            messages = [event.message for event in batch_events]
            await self._until_done(_Steps(self.pipeline, messages))
            done = True
            self.batches += 1
        except Exception as error:  # a boundary; the message may hold SQL parameters: log only its kind
            log.error(
                "the worker cannot continue; stopping with this batch unacknowledged",
                reason=refusals.reason(error, "unexpected error"),
                frames=refusals.frames(error),
                **_where(batch_events),
            )
            self.on_fatal(error)
        finally:
            if not done:
                _withhold(batch_events)
            self.idle.set()
        if not done:
            await asyncio.Event().wait()  # park until the app stops us

    async def _until_done(self, steps: _Steps) -> None:
        for attempt in itertools.count(1):
            try:
                await asyncio.to_thread(steps)
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
    """A batch's decode, store and publish in ONE thread hop (the loop thread is busy with faust, so
    each hop waits for the GIL: three hops per batch cost about a third of the worker's rate in
    the issue-20 probe). A retry runs it again; the batch remembers the steps already done."""

    def __init__(self, pipeline: Pipeline, messages: Sequence) -> None:
        self.pipeline, self.messages = pipeline, messages
        self.batch: Batch | None = None
        self.current = "decode"

    def __call__(self) -> None:
        if self.batch is None:
            self.batch = self.pipeline.decode(self.messages)
        self.current = "store"
        self.pipeline.store(self.batch)
        self.current = "publish"
        self.pipeline.publish(self.batch)


def build_app(settings: Settings, worker: Worker, group: str | None = None) -> WorkerApp:
    """The app in consumer group `group` (default `<prefix>-worker`, the one every worker joins)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level of its datadir
    app = WorkerApp(
        group or f"{settings.topic_prefix}-worker",
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
    journey = app.topic(settings.journey_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(journey, name="project-journey", concurrency=1)
    async def project_journey(stream):
        async for batch_events in stream.take_events(settings.worker_batch_size, within=settings.worker_batch_wait_s):
            await worker.process(batch_events)

    @app.timer(settings.sweep_interval_s, name="sweep-time-rules")
    async def sweep_time_rules() -> None:
        if worker.stopping:
            return
        owned = await _caught_up(
            app,
            [tp for tp in app.consumer.assignment() if tp.topic == settings.journey_topic],
            slack=settings.worker_batch_size,
        )
        partitions = app.consumer.topic_partitions(settings.journey_topic)
        if not owned or not partitions:
            return
        try:
            with metrics.SWEEP_SECONDS.time():
                await asyncio.to_thread(
                    sweep_once, settings, worker.pipeline.engine, worker.pipeline.publisher, owned, partitions
                )
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


async def _caught_up(app: faust.App, tps: list, slack: int) -> set[int]:
    """The partitions whose backlog is at most `slack` records. A partition still catching up holds
    half-folded cases: sweeping them would publish time alerts that later events in the backlog
    already disprove (no-ops when applied, but they swell the log and slow the catch-up)."""
    ready = set()
    for tp in tps:
        highwater, position = app.consumer.highwater(tp), await app.consumer.position(tp)
        if highwater is None or position is None or highwater - position <= slack:
            ready.add(tp.partition)
    return ready


def _where(batch_events: Sequence[faust.EventT]) -> dict:
    """The batch's place on the log (partitions and offsets only), for the fatal log line."""
    offsets = [(e.message.partition, e.message.offset) for e in batch_events]
    return {"records": len(offsets), "first": offsets[0] if offsets else None, "last": offsets[-1] if offsets else None}


def _withhold(batch_events: Sequence[faust.EventT]) -> None:
    """Keep faust from ever committing these offsets: a message marked acked is skipped by the
    consumer's ack bookkeeping (so its offset, and every later one of its partition, stays
    uncommitted) and no longer holds up a graceful stop."""
    for event in batch_events:
        event.message.acked = True


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
