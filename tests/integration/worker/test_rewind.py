"""After a rebalance faust drops the records it had fetched and seeks back to the committed offsets.
aiokafka skips partitions that never committed, so their fetch position stayed past the dropped
records and those were lost. The worker's consumer sends such partitions back to their beginning."""

from __future__ import annotations

import asyncio

import pytest

from services.worker.app import Worker, build_app
from tests.factories import make
from tests.live import event_records, publish
from tests.polling import wait_until_async

pytestmark = pytest.mark.integration


class RecordingPipeline:
    """Keeps the position of every record the agent is given and stores nothing."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def decode(self, messages):
        return messages

    def store(self, batch):
        self.seen.extend((m.partition, m.offset) for m in batch)

    def publish(self, batch):
        pass


def test_never_committed_partitions_are_read_again_from_their_beginning(worker_settings):
    stream = [make("migrant.registered", 0, case_id=f"REWIND-{i:04d}") for i in range(300)]
    publish(worker_settings, event_records(worker_settings, stream))
    pipeline = RecordingPipeline()

    async def scenario() -> None:
        app = build_app(worker_settings, Worker(pipeline, on_fatal=pytest.fail))
        app.conf.broker_commit_interval = 3600  # nothing gets committed during this test
        await app.start()
        try:
            await wait_until_async(lambda: len(pipeline.seen) == 300, 60, "the 300 records given to the agent")
            await app.consumer.perform_seek()  # what faust does when a rebalance completes
            await wait_until_async(lambda: len(pipeline.seen) == 600, 60, "the 300 records given again after the seek")
        finally:
            await app.stop()

    asyncio.run(scenario())
    first, second = pipeline.seen[:300], pipeline.seen[300:]
    assert sorted(first) == sorted(second)  # every record once more: none skipped
