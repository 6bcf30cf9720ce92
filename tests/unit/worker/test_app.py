"""The worker that drives the pipeline for each batch, with SQLite views and a fake publisher (no Kafka).
The reader that hands it batches and commits them: test_reader.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

import events
from services.worker.app import Worker
from services.worker.views import LIVE
from tests.factories import make


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def batch_of(*items: events.Envelope | bytes) -> list[FakeMessage]:
    return [
        FakeMessage(
            "unit.journey.v1",
            0,
            offset,
            b"CASE-0001",
            events.encode(item) if isinstance(item, events.Envelope) else item,
        )
        for offset, item in enumerate(items)
    ]


def timeline_count(pipeline) -> int:
    with pipeline.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LIVE.timeline)).scalar_one()


def test_a_broker_outage_is_retried_until_the_batch_is_published(pipeline, publisher, unit_settings):
    publisher.fail_next = 3
    worker = Worker(pipeline, on_fatal=pytest.fail, first_backoff_s=0.001)
    batch = batch_of(make("deployment.distress_reported", 5))
    assert asyncio.run(worker.process(batch)) is True  # done: the reader may commit it
    assert worker.batches == 1 and len(publisher.on(unit_settings.alerts_topic)) == 1
    assert publisher.calls == 4  # three failed publishes, then the one that went through


def test_an_unexpected_error_is_reported_and_the_batch_is_not_done(pipeline):
    def broken_store(batch):
        raise RuntimeError("a bug")

    pipeline.store = broken_store
    failures: list[BaseException] = []
    worker = Worker(pipeline, on_fatal=failures.append)
    batch = batch_of(make("deployment.distress_reported", 5), make("deployment.wage_paid", 6))

    assert asyncio.run(worker.process(batch)) is False  # the reader commits nothing of it
    assert isinstance(failures[0], RuntimeError)
    assert worker.batches == 0 and timeline_count(pipeline) == 0


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

    with capture_logs() as logs:
        assert asyncio.run(worker.process(batch)) is False
    [fatal] = [entry for entry in logs if entry["log_level"] == "error"]
    assert fatal["reason"] == "unexpected error: KeyError"
    assert (fatal["records"], fatal["first"]) == (1, (0, 0)) and "broken_store" in fatal["frames"]
    assert "Asha" not in repr(logs) and "given_name" not in repr(logs)


def test_a_decode_ahead_that_fails_is_done_again_when_the_batch_is_stored(pipeline, unit_settings):
    """`prepare` decodes ahead on a best-effort basis: the key store unreachable then is not an
    error of the batch's; its store decodes it again, with the usual retries."""
    from sqlalchemy.exc import OperationalError

    decode, calls = pipeline.decode, []

    def flaky_decode(messages):
        calls.append(len(messages))
        if len(calls) == 1:
            raise OperationalError("SELECT data_keys", {}, Exception("the server closed the connection"))
        return decode(messages)

    pipeline.decode = flaky_decode
    worker = Worker(pipeline, on_fatal=pytest.fail, first_backoff_s=0.001)
    batch = batch_of(make("deployment.distress_reported", 5))

    async def scenario() -> bool:
        steps = await worker.prepare(batch)
        assert steps.batch is None  # not decoded ahead
        return await worker.store(steps) and await worker.publish(steps)

    assert asyncio.run(scenario()) is True
    assert calls == [1, 1] and timeline_count(pipeline) == 1 and worker.batches == 1
