"""A rebalance in the middle of a backlog, on the real broker: the worker's journey reader has fetched
records ahead of the batch it is storing when a second worker joins its group. The rebalance waits
for that batch and its commit; the records fetched ahead are dropped, and every partition, the
never-committed ones included, is read again from its committed offset or its beginning. Nothing
is skipped, and at the end the group has committed every record."""

from __future__ import annotations

import asyncio
import threading

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

from services.worker.app import Worker
from services.worker.reader import JourneyReader
from tests.factories import make
from tests.live import event_records, publish
from tests.polling import wait_until, wait_until_async

pytestmark = pytest.mark.integration
RECORDS = 300


class RecordingPipeline:
    """Keeps the position of every record it is given and stores nothing; `hold` makes each store
    wait until `go` is set (a batch that is slow to store)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []
        self.storing = threading.Event()
        self.go = threading.Event()

    def decode(self, messages):
        return messages

    def store(self, batch):
        self.storing.set()
        assert self.go.wait(60), "the test never let the batch finish"
        self.seen.extend((m.partition, m.offset) for m in batch)

    def publish(self, batch):
        pass


def test_a_worker_joining_mid_backlog_makes_the_group_skip_no_record(worker_settings):
    stream = [make("migrant.registered", 0, case_id=f"REWIND-{i:04d}") for i in range(RECORDS)]
    publish(worker_settings, event_records(worker_settings, stream))
    worker_settings.worker_batch_size = 40
    group = f"{worker_settings.topic_prefix}-worker"
    admin = KafkaAdminClient(bootstrap_servers=worker_settings.kafka_bootstrap.split(","))
    first, second = RecordingPipeline(), RecordingPipeline()
    second.go.set()

    async def scenario() -> None:
        readers = [JourneyReader(worker_settings, Worker(p, on_fatal=pytest.fail), group) for p in (first, second)]
        tasks = [asyncio.create_task(readers[0].run())]
        await wait_until_async(first.storing.is_set, 60, "the first worker storing its first batch")
        tasks.append(asyncio.create_task(readers[1].run()))
        await wait_until_async(lambda: readers[0].handing_over, 60, "the group rebalancing for the newcomer")
        first.go.set()  # the revocation was waiting for this batch
        await wait_until_async(
            lambda: len(set(first.seen) | set(second.seen)) == RECORDS, 90, "every record read by the group"
        )
        assert all(reader.owned() for reader in readers)  # both hold partitions now
        assert all([await reader.stop(grace_s=30) for reader in readers])
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
        partitions = [TopicPartition(worker_settings.journey_topic, p) for p in range(worker_settings.partitions)]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        wait_until(
            lambda: (
                {tp: m.offset for tp, m in admin.list_group_offsets({group: partitions})[group].items()}
                == {tp: ends[tp].offset for tp in partitions}
            ),
            30,
            "every record committed by the group",
        )
    finally:
        admin.close()
    assert len(first.seen) < RECORDS  # the newcomer took partitions over
