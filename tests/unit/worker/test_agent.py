"""The faust agent and the worker around it, with SQLite views and a fake publisher (no Kafka)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

import events
from services.worker.app import Worker, build_app
from services.worker.views import LIVE
from tests.factories import make
from tests.polling import wait_until_async


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    acked: bool = False


@dataclass
class FakeEvent:
    message: FakeMessage


def batch_of(*items: events.Envelope | bytes) -> list[FakeEvent]:
    return [
        FakeEvent(
            FakeMessage(
                "unit.journey.v1",
                0,
                offset,
                b"CASE-0001",
                events.encode(item) if isinstance(item, events.Envelope) else item,
            )
        )
        for offset, item in enumerate(items)
    ]


def timeline_count(pipeline) -> int:
    with pipeline.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LIVE.timeline)).scalar_one()


def test_the_agent_projects_events_and_dead_letters_the_rest(unit_settings, pipeline, publisher):
    unit_settings.worker_batch_wait_s = 0.01

    async def scenario():
        worker = Worker(pipeline, on_fatal=pytest.fail)
        agent = build_app(unit_settings, worker).agents["project-journey"]
        async with agent.test_context() as ctx:
            distress = make("deployment.distress_reported", 5)
            await ctx.put(b"\x00garbage", key=b"CASE-0001")
            await ctx.put(events.encode(distress), key=distress.case_id.encode())
            await wait_until_async(
                lambda: timeline_count(pipeline) == 1 and len(publisher.records) == 2,
                10,
                "the event projected and the garbage dead-lettered",
            )

    asyncio.run(scenario())
    [letter] = publisher.on(unit_settings.dlq_topic)
    assert letter.value == b"\x00garbage" and "not valid JSON" in dict(letter.headers)["reason"].decode()
    [alert] = publisher.on(unit_settings.alerts_topic)
    assert json.loads(alert.value)["alert"]["code"] == "DISTRESS"


def test_a_broker_outage_is_retried_until_the_batch_is_published(pipeline, publisher, unit_settings):
    publisher.fail_next = 3
    worker = Worker(pipeline, on_fatal=pytest.fail, first_backoff_s=0.001)
    batch = batch_of(make("deployment.distress_reported", 5))
    asyncio.run(worker.process(batch))
    assert worker.batches == 1 and len(publisher.on(unit_settings.alerts_topic)) == 1
    assert not batch[0].message.acked  # left for take_events to acknowledge


def test_an_unexpected_error_withholds_the_batch_and_stops_the_worker(pipeline):
    def broken_store(batch):
        raise RuntimeError("a bug")

    pipeline.store = broken_store
    failures: list[BaseException] = []
    worker = Worker(pipeline, on_fatal=failures.append)
    batch = batch_of(make("deployment.distress_reported", 5), make("deployment.wage_paid", 6))

    async def scenario():
        task = asyncio.create_task(worker.process(batch))
        await wait_until_async(lambda: failures, 10, "the fatal error reported")
        assert not task.done()  # parked until the app stops it: it takes no further batch
        task.cancel()

    asyncio.run(scenario())
    assert isinstance(failures[0], RuntimeError)
    assert all(event.message.acked for event in batch)  # faust will never commit these offsets
    assert worker.batches == 0 and worker.idle.is_set()


def test_a_batch_arriving_after_the_stop_began_is_left_for_the_next_owner(pipeline):
    worker = Worker(pipeline, on_fatal=pytest.fail)
    worker.stopping = True
    batch = batch_of(make("deployment.distress_reported", 5))

    async def scenario():
        task = asyncio.create_task(worker.process(batch))
        await wait_until_async(lambda: batch[0].message.acked, 10, "the batch acknowledged")
        task.cancel()

    asyncio.run(scenario())
    assert timeline_count(pipeline) == 0


def test_the_fatal_log_line_holds_no_sql_parameters_or_values(pipeline):
    """An unexpected database error's text carries the statement and its parameters (names):
    the worker's last words name its class, where it happened and the batch's offsets only."""
    from sqlalchemy.exc import StatementError
    from structlog.testing import capture_logs

    name, statement = "Asha Kumari", "UPDATE cases SET given_name=%(n)s"
    text = f"bad value {name} [SQL: {statement}] [parameters: {{'n': {name!r}}}]"

    def broken_store(batch):  # (the frames show this code, not the values it held)
        raise StatementError(text, statement, {"n": name}, KeyError(name))

    pipeline.store = broken_store
    failures: list[BaseException] = []
    worker = Worker(pipeline, on_fatal=failures.append)
    batch = batch_of(make("deployment.distress_reported", 5))

    async def scenario():
        task = asyncio.create_task(worker.process(batch))
        await wait_until_async(lambda: failures, 10, "the fatal error reported")
        task.cancel()

    with capture_logs() as logs:
        asyncio.run(scenario())
    [fatal] = [entry for entry in logs if entry["log_level"] == "error"]
    assert fatal["reason"] == "unexpected error: KeyError"
    assert (fatal["records"], fatal["first"]) == (1, (0, 0)) and "broken_store" in fatal["frames"]
    assert "Asha" not in repr(logs) and "given_name" not in repr(logs)
