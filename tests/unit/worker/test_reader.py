"""The journey reader over a fake consumer (no Kafka): what it commits, and when. The real broker's
rebalances: tests/integration/worker/test_rewind.py."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from sqlalchemy import func, select

import events
from services.worker.app import Worker, _caught_up
from services.worker.reader import JourneyReader
from services.worker.views import LIVE
from tests.factories import make
from tests.polling import wait_until_async

TOPIC = "unit.journey.v1"


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FakeConsumer:
    """Stands in for AIOKafkaConsumer: a log per partition, the assignment a test changes with
    `rebalance` (calling the listener as aiokafka's coordinator does), and the offsets committed.
    Like aiokafka it hands out no record while a rebalance runs, refuses commits for partitions it
    does not hold, and starts each newly assigned partition at its committed offset (or 0)."""

    def __init__(self, **options: object) -> None:
        self.options = options
        self.log: dict[int, list[FakeRecord]] = {}
        self.assigned: set[TopicPartition] = set()
        self.positions: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.listener = None
        self.rebalancing = False
        self.refuse_commits = False  # as when the group has moved on without this member
        self.stopped = False

    def append(self, partition: int, *values: bytes) -> None:
        records = self.log.setdefault(partition, [])
        for value in values:
            records.append(FakeRecord(TOPIC, partition, len(records), b"CASE-0001", value))

    def subscribe(self, topics, listener) -> None:
        assert topics == [TOPIC]
        self.listener = listener

    async def start(self) -> None:
        await self.rebalance(sorted(self.log))

    async def stop(self) -> None:
        self.stopped = True

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int:
        return len(self.log.get(tp.partition, []))

    async def position(self, tp: TopicPartition) -> int:
        if tp not in self.assigned:
            raise IllegalStateError(f"{tp} is not assigned")
        return self.positions[tp]

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(self.log)

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[FakeRecord]]:
        while self.rebalancing:
            await asyncio.sleep(0.001)
        fetched: dict[TopicPartition, list[FakeRecord]] = {}
        for tp in sorted(self.assigned):
            records = self.log[tp.partition][self.positions[tp] :][: max_records - sum(map(len, fetched.values()))]
            if records:
                fetched[tp] = records
                self.positions[tp] += len(records)
        if not fetched:
            await asyncio.sleep(timeout_ms / 1000)
        return fetched

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        for tp in offsets:
            if tp not in self.assigned:
                raise IllegalStateError(f"Partition {tp} is not assigned")
        if self.refuse_commits:
            raise CommitFailedError("the group has already rebalanced")
        self.committed.update(offsets)

    async def rebalance(self, partitions: list[int]) -> None:
        self.rebalancing = True
        if self.listener is not None:
            await self.listener.on_partitions_revoked(set(self.assigned))
        self.assigned = {TopicPartition(TOPIC, p) for p in partitions}
        self.positions = {tp: self.committed.get(tp, 0) for tp in self.assigned}
        self.rebalancing = False
        if self.listener is not None:
            await self.listener.on_partitions_assigned(set(self.assigned))


def committed(consumer: FakeConsumer) -> dict[int, int]:
    return {tp.partition: offset for tp, offset in consumer.committed.items()}


def timeline_count(pipeline) -> int:
    with pipeline.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LIVE.timeline)).scalar_one()


class Blocking:
    """Wraps the pipeline's store: each call waits until the test lets it go (`release`)."""

    def __init__(self, pipeline) -> None:
        self.store, self.entered, self.go = pipeline.store, threading.Event(), threading.Event()
        pipeline.store = self

    def __call__(self, batch):
        self.entered.set()
        assert self.go.wait(30), "the test never released the store"
        return self.store(batch)

    def release(self) -> None:
        self.go.set()


@pytest.fixture
def consumer() -> FakeConsumer:
    fake = FakeConsumer()
    fake.append(0, b"\x00garbage", events.encode(make("deployment.distress_reported", 5)))
    return fake


def reader_of(settings, worker: Worker, consumer: FakeConsumer) -> JourneyReader:
    settings.worker_batch_wait_s = 0.01
    return JourneyReader(settings, worker, "unit-worker", consumer_factory=lambda **options: consumer)


def test_the_reader_projects_events_dead_letters_the_rest_and_then_commits(
    unit_settings, pipeline, publisher, consumer
):
    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: committed(consumer) == {0: 2}, 10, "the batch committed")
        assert await reader.stop(grace_s=10) and consumer.stopped
        await task

    asyncio.run(scenario())
    assert timeline_count(pipeline) == 1
    [letter] = publisher.on(unit_settings.dlq_topic)
    assert letter.value == b"\x00garbage" and "not valid JSON" in dict(letter.headers)["reason"].decode()
    [alert] = publisher.on(unit_settings.alerts_topic)
    assert json.loads(alert.value)["alert"]["code"] == "DISTRESS"


def test_nothing_is_committed_while_the_batch_cannot_be_published(unit_settings, pipeline, publisher, consumer):
    publisher.down = True

    async def scenario():
        worker = Worker(pipeline, on_fatal=pytest.fail, first_backoff_s=0.001)
        reader = reader_of(unit_settings, worker, consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: publisher.calls >= 3, 10, "publishes retried")
        assert consumer.committed == {} and timeline_count(pipeline) == 1  # stored, not published
        publisher.down = False
        await wait_until_async(lambda: committed(consumer) == {0: 2}, 10, "the batch committed once published")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    assert len(publisher.on(unit_settings.alerts_topic)) == 1


def test_an_unexpected_error_stops_the_worker_with_the_batch_uncommitted(unit_settings, pipeline, consumer):
    def broken_store(batch):
        raise RuntimeError("a bug")

    pipeline.store = broken_store
    failures: list[BaseException] = []

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=failures.append), consumer)
        await asyncio.wait_for(reader.run(), 10)  # it returns: it reads no further batch

    asyncio.run(scenario())
    assert isinstance(failures[0], RuntimeError) and consumer.committed == {}


def test_a_rebalance_waits_for_the_batch_in_flight_and_commits_it_before_the_partitions_go(
    unit_settings, pipeline, consumer
):
    blocking = Blocking(pipeline)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(blocking.entered.is_set, 10, "a batch in flight")
        rebalance = asyncio.create_task(consumer.rebalance([]))  # partition 0 goes to another worker
        await asyncio.sleep(0.05)
        assert not rebalance.done() and consumer.assigned  # the revocation waits for the batch
        blocking.release()
        await asyncio.wait_for(rebalance, 10)
        assert committed(consumer) == {0: 2} and not consumer.assigned  # committed while still held
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())


def test_a_commit_the_group_refuses_leaves_the_records_to_the_next_owner_and_reading_goes_on(
    unit_settings, pipeline, consumer
):
    consumer.refuse_commits = True
    consumer.append(1, events.encode(make("deployment.wage_paid", 6)))
    unit_settings.worker_batch_size = 1

    async def scenario():
        worker = Worker(pipeline, on_fatal=pytest.fail)
        reader = reader_of(unit_settings, worker, consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: worker.batches == 3, 10, "every record processed, batch after batch")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    assert consumer.committed == {}


def test_a_stop_finishes_the_batch_in_flight_commits_it_and_leaves_the_group(unit_settings, pipeline, consumer):
    blocking = Blocking(pipeline)
    consumer.append(0, events.encode(make("deployment.wage_paid", 6)))
    unit_settings.worker_batch_size = 2

    async def scenario():
        worker = Worker(pipeline, on_fatal=pytest.fail)
        reader = reader_of(unit_settings, worker, consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(blocking.entered.is_set, 10, "a batch in flight")
        stopping = asyncio.create_task(reader.stop(grace_s=10))
        await asyncio.sleep(0.05)
        assert not stopping.done()
        blocking.release()
        assert await stopping is True and consumer.stopped
        await task
        assert worker.batches == 1  # the third record is left for the next owner

    asyncio.run(scenario())
    assert committed(consumer) == {0: 2} and timeline_count(pipeline) == 1


def test_a_stop_while_the_reader_waits_for_records_still_finishes_the_batch_in_flight(
    unit_settings, pipeline, consumer
):
    blocking = Blocking(pipeline)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(blocking.entered.is_set, 10, "the only batch in flight")
        stopping = asyncio.create_task(reader.stop(grace_s=10))  # the reader is polling an empty log
        await asyncio.sleep(0.05)
        assert not stopping.done()
        blocking.release()
        assert await stopping is True
        await task

    asyncio.run(scenario())
    assert committed(consumer) == {0: 2}


def test_a_stop_that_outlasts_its_grace_leaves_the_batch_uncommitted(unit_settings, pipeline, consumer):
    blocking = Blocking(pipeline)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(blocking.entered.is_set, 10, "a batch in flight")
        assert await reader.stop(grace_s=0.05) is False and consumer.stopped
        blocking.release()  # (the batch's thread finishes; nothing commits it)
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert consumer.committed == {}


def test_the_sweep_takes_only_partitions_within_a_batch_of_their_end(consumer):
    consumer.append(1, *[b"{}"] * 10)

    async def scenario():
        await consumer.start()
        return await _caught_up(consumer, sorted(consumer.assigned), slack=5)

    assert asyncio.run(scenario()) == {0}  # partition 0 is 2 records behind, partition 1 is 10


def test_the_reader_joins_the_worker_group_with_manual_commits_and_the_kafka_security_settings(
    tmp_path, pipeline, consumer
):
    from services.config import Settings

    settings = Settings(
        env="test",
        var_dir=tmp_path,
        _env_file=None,
        topic_prefix="unit",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="worker",
        kafka_sasl_password="pw",
        worker_session_timeout_s=12.0,
    )
    options: dict = {}

    def factory(**given):
        options.update(given)
        return consumer

    async def scenario():
        reader = JourneyReader(
            settings, Worker(pipeline, on_fatal=pytest.fail), "unit-worker", consumer_factory=factory
        )
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: consumer.listener is not None, 10, "the reader subscribed")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    assert options.pop("ssl_context") is not None
    assert options == {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": "unit-worker",
        "client_id": "passage-worker",
        "enable_auto_commit": False,  # a batch's offsets are committed by the reader, after store and publish
        "auto_offset_reset": "earliest",  # a partition never committed is read from its beginning
        "session_timeout_ms": 12000,
        "heartbeat_interval_ms": 4000,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "worker",
        "sasl_plain_password": "pw",
    }


class Trace:
    """Records, in order, what happens to each batch (named by its first offset on partition 0):
    its decode, the start and end of its store, its publish, and each commit (the offsets). Steps
    of different batches run at the same time on different threads: tests assert the orders the
    reader promises (`before`), not one interleaving."""

    def __init__(self, pipeline, consumer: FakeConsumer) -> None:
        self.steps: list[tuple[str, object]] = []
        decode, store, publish, commit = pipeline.decode, pipeline.store, pipeline.publish, consumer.commit

        def traced_decode(messages):
            self.steps.append(("decode", messages[0].offset))
            return decode(messages)

        def traced_store(batch):
            self.steps.append(("store", batch.messages[0].offset))
            applied = store(batch)
            self.steps.append(("stored", batch.messages[0].offset))
            return applied

        def traced_publish(batch):
            self.steps.append(("publish", batch.messages[0].offset))
            return publish(batch)

        async def traced_commit(offsets):
            await commit(offsets)
            self.steps.append(("commit", {tp.partition: offset for tp, offset in offsets.items()}))

        pipeline.decode, pipeline.store, pipeline.publish = traced_decode, traced_store, traced_publish
        consumer.commit = traced_commit

    def before(self, *steps: tuple[str, object]) -> None:
        """Each of `steps` happened, once, and in this order."""
        for step in steps:
            assert self.steps.count(step) == 1, f"{step} happened {self.steps.count(step)} times: {self.steps}"
        places = [self.steps.index(step) for step in steps]
        assert places == sorted(places), f"not in the order {steps}: {self.steps}"

    async def ahead(self) -> None:
        """Until the first batch is being stored and the second has been decoded meanwhile."""
        overlap = {("store", 0), ("decode", 2)}
        await wait_until_async(lambda: overlap <= set(self.steps), 10, "the second batch decoded ahead")
        assert self.steps[0] == ("decode", 0) and set(self.steps[1:]) == overlap  # nothing stored yet


def two_batches(consumer: FakeConsumer, unit_settings) -> None:
    """Partition 0 holds four records, read as two batches of two: [0, 1] and [2, 3]."""
    consumer.append(0, events.encode(make("deployment.wage_paid", 6)), events.encode(make("deployment.wage_paid", 7)))
    unit_settings.worker_batch_size = 2


class BlockingPublish:
    """Wraps the pipeline's publish: each call waits until the test lets it go (`release`)."""

    def __init__(self, pipeline) -> None:
        self.publish, self.entered, self.go = pipeline.publish, threading.Event(), threading.Event()
        pipeline.publish = self

    def __call__(self, batch):
        self.entered.set()
        assert self.go.wait(30), "the test never released the publish"
        return self.publish(batch)

    def release(self) -> None:
        self.go.set()


def test_the_next_batch_is_decoded_while_one_is_stored_and_stored_once_that_store_is_done(
    unit_settings, pipeline, consumer
):
    two_batches(consumer, unit_settings)
    blocking = Blocking(pipeline)
    trace = Trace(pipeline, consumer)  # (sees a store start before it blocks)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await trace.ahead()
        await asyncio.sleep(0.05)
        assert ("store", 2) not in trace.steps and consumer.committed == {}  # waits for the first store
        blocking.release()
        await wait_until_async(lambda: committed(consumer) == {0: 4}, 10, "both batches committed")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    trace.before(("decode", 0), ("store", 0), ("stored", 0), ("store", 2), ("stored", 2))
    trace.before(("stored", 0), ("publish", 0), ("commit", {0: 2}), ("publish", 2), ("commit", {0: 4}))
    trace.before(("decode", 2), ("stored", 0))  # decoded ahead
    assert timeline_count(pipeline) == 3


def test_the_next_batch_is_stored_while_one_is_published_and_published_once_that_one_is_committed(
    unit_settings, pipeline, publisher, consumer
):
    two_batches(consumer, unit_settings)
    blocking = BlockingPublish(pipeline)
    trace = Trace(pipeline, consumer)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: ("stored", 2) in trace.steps, 10, "the second batch stored meanwhile")
        await asyncio.sleep(0.05)
        assert ("publish", 2) not in trace.steps and consumer.committed == {}  # waits for the first commit
        blocking.release()
        await wait_until_async(lambda: committed(consumer) == {0: 4}, 10, "both batches committed")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    trace.before(("publish", 0), ("stored", 2), ("commit", {0: 2}), ("publish", 2), ("commit", {0: 4}))
    [letter] = publisher.on(unit_settings.dlq_topic)  # the first batch's, published before the second's alert
    assert letter.value == b"\x00garbage"


def test_a_rebalance_with_two_batches_in_flight_commits_the_one_started_and_drops_the_other(
    unit_settings, pipeline, consumer
):
    two_batches(consumer, unit_settings)
    blocking = Blocking(pipeline)
    trace = Trace(pipeline, consumer)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await trace.ahead()
        rebalance = asyncio.create_task(consumer.rebalance([0]))  # the group rebalances; partition 0 stays
        await asyncio.sleep(0.05)
        assert not rebalance.done()  # the revocation waits for the batch being stored
        blocking.release()
        await asyncio.wait_for(rebalance, 10)
        await wait_until_async(lambda: committed(consumer) == {0: 4}, 10, "the second batch read again")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    # the second batch, fetched in the old assignment, was decoded but not stored; it was fetched
    # again from the committed offset, decoded again and stored once
    assert trace.steps.count(("decode", 2)) == 2
    trace.before(("stored", 0), ("commit", {0: 2}), ("store", 2), ("commit", {0: 4}))
    assert timeline_count(pipeline) == 3


def test_a_rebalance_waits_for_a_batch_being_published_and_one_being_stored(unit_settings, pipeline, consumer):
    two_batches(consumer, unit_settings)
    blocking = BlockingPublish(pipeline)
    trace = Trace(pipeline, consumer)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: ("stored", 2) in trace.steps, 10, "the second batch stored meanwhile")
        rebalance = asyncio.create_task(consumer.rebalance([]))  # partition 0 goes to another worker
        await asyncio.sleep(0.05)
        assert not rebalance.done() and consumer.assigned  # the revocation waits for both batches
        blocking.release()
        await asyncio.wait_for(rebalance, 10)
        assert committed(consumer) == {0: 4} and not consumer.assigned  # both committed while still held
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    trace.before(("commit", {0: 2}), ("publish", 2), ("commit", {0: 4}))


def test_a_stop_with_two_batches_in_flight_commits_the_one_started_and_drops_the_other(
    unit_settings, pipeline, consumer
):
    two_batches(consumer, unit_settings)
    blocking = Blocking(pipeline)
    trace = Trace(pipeline, consumer)

    async def scenario():
        worker = Worker(pipeline, on_fatal=pytest.fail)
        reader = reader_of(unit_settings, worker, consumer)
        task = asyncio.create_task(reader.run())
        await trace.ahead()
        stopping = asyncio.create_task(reader.stop(grace_s=10))
        await asyncio.sleep(0.05)
        assert not stopping.done()
        blocking.release()
        assert await stopping is True and consumer.stopped
        await task
        assert worker.batches == 1

    asyncio.run(scenario())
    assert ("store", 2) not in trace.steps
    trace.before(("stored", 0), ("publish", 0), ("commit", {0: 2}))
    assert committed(consumer) == {0: 2} and timeline_count(pipeline) == 1


def test_an_error_in_the_first_of_two_batches_in_flight_commits_neither(unit_settings, pipeline, consumer):
    two_batches(consumer, unit_settings)
    blocking = Blocking(pipeline)
    store = blocking.store

    def broken_first_store(batch):
        if batch.messages[0].offset == 0:
            raise RuntimeError("a bug")
        return store(batch)

    blocking.store = broken_first_store
    trace = Trace(pipeline, consumer)
    failures: list[BaseException] = []

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=failures.append), consumer)
        task = asyncio.create_task(reader.run())
        await trace.ahead()
        blocking.release()
        await asyncio.wait_for(task, 10)  # it returns: it starts no further batch

    asyncio.run(scenario())
    assert [type(error) for error in failures] == [RuntimeError]
    assert ("store", 2) not in trace.steps and not any(step == "publish" for step, _ in trace.steps)
    assert consumer.committed == {} and timeline_count(pipeline) == 0


def test_an_error_publishing_the_first_of_two_batches_in_flight_commits_neither(
    unit_settings, pipeline, publisher, consumer
):
    two_batches(consumer, unit_settings)
    blocking = BlockingPublish(pipeline)
    publish = blocking.publish

    def broken_first_publish(batch):
        if batch.messages[0].offset == 0:
            raise RuntimeError("a bug")
        return publish(batch)

    blocking.publish = broken_first_publish
    trace = Trace(pipeline, consumer)
    failures: list[BaseException] = []

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=failures.append), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: ("stored", 2) in trace.steps, 10, "the second batch stored meanwhile")
        blocking.release()
        await asyncio.wait_for(task, 10)  # it returns: it starts no further batch

    asyncio.run(scenario())
    assert [type(error) for error in failures] == [RuntimeError]
    assert ("publish", 2) not in trace.steps and publisher.records == []
    assert consumer.committed == {}  # the second batch is stored, not committed: read again, a duplicate


def test_a_batch_decoded_before_its_case_was_erased_is_opened_again_and_stored_blank(unit_settings, pipeline, consumer):
    from services.kafka.producer import Record
    from services.privacy import Sealer

    def sealed(event: events.Envelope) -> bytes:
        [record] = Sealer(pipeline.engine, pipeline.keyring).seal([Record(TOPIC, event.case_id, events.encode(event))])
        return record.value

    note = make("case.note_added", 11, text="she is hiding at the address on Mill Road")
    consumer.log.clear()
    consumer.append(
        0,
        sealed(make("migrant.registered", 0, given_name="Asha")),
        events.encode(make("case.erasure_requested", 10)),
        sealed(note),
    )
    for record in consumer.log[0]:
        record.key = note.case_id.encode()  # keyed by case, as the gateway produces them
    unit_settings.worker_batch_size = 2
    blocking = Blocking(pipeline)
    trace = Trace(pipeline, consumer)

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=pytest.fail), consumer)
        task = asyncio.create_task(reader.run())
        await trace.ahead()  # the note decoded ahead, with the key
        blocking.release()
        await wait_until_async(lambda: committed(consumer) == {0: 3}, 10, "both batches committed")
        await reader.stop(grace_s=10)
        await task

    asyncio.run(scenario())
    assert trace.steps.count(("decode", 2)) == 2  # decoded again, by its store
    trace.before(("stored", 0), ("store", 2), ("stored", 2))
    with pipeline.engine.connect() as conn:
        envelope = conn.execute(
            select(LIVE.timeline.c.envelope).where(LIVE.timeline.c.event_id == str(note.event_id))
        ).scalar_one()
    assert envelope["payload"]["text"] is None  # stored after the erasure: blank, not opened


def test_an_error_committing_the_first_of_two_batches_stops_the_reader_and_is_reported(
    unit_settings, pipeline, consumer
):
    two_batches(consumer, unit_settings)
    blocking = BlockingPublish(pipeline)
    commit = consumer.commit

    async def broken_first_commit(offsets):
        if offsets == {TopicPartition(TOPIC, 0): 2}:
            raise RuntimeError("the broker answered something unexpected")
        await commit(offsets)

    consumer.commit = broken_first_commit
    trace = Trace(pipeline, consumer)
    failures: list[BaseException] = []

    async def scenario():
        reader = reader_of(unit_settings, Worker(pipeline, on_fatal=failures.append), consumer)
        task = asyncio.create_task(reader.run())
        await wait_until_async(lambda: ("stored", 2) in trace.steps, 10, "the second batch stored meanwhile")
        blocking.release()
        await asyncio.wait_for(task, 10)  # it returns: it starts no further batch

    asyncio.run(scenario())
    assert [type(error) for error in failures] == [RuntimeError]
    assert ("publish", 2) not in trace.steps and consumer.committed == {}
