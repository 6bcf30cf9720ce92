"""Worker throughput: how fast `passage worker` drains a backlog into PostgreSQL, next to a raw
aiokafka consumer reading the same topic in the same run.

    python -m bench.worker [--quick] [--events N] [--profile]

1. Fill: realistic demo journeys, stamped exactly as the gateway stamps them, sent with a raw
   kafka-python producer (acks=all); every send's future must succeed and the topic's end offsets
   must add up to the count.
2. Raw baseline: an aiokafka consumer (no group, every partition from offset 0) reads every record;
   it only counts them. Its rate is what the broker and the client can deliver to one process.
   A second pass also validates each record with `events.decode`: the floor no projector can go
   under, shown so the gap can be split between the contract's validation and the views.
   A third reads it through the faust agent the worker had until issue 20's reader (its app
   settings, `take_events` batching and thread hop), in a group of its own, with a pipeline that
   only counts: the ceiling the stream framework set before any work (issue 20's baseline, kept
   as the issue defines it). A fourth reads it through the worker's own app, journey reader and
   batching with the same counting pipeline: the worker's ceiling now.
3. Worker: `passage worker` as a subprocess on a fresh PostgreSQL database; the rate counts from
   the first event applied to the last (start-up and the group join are reported apart).
4. Gateway batch ingest: `passage gateway` taking batches of 500 from 2 clients (as
   `bench.gateway` measures it) into topics of its own: the rate one worker must keep up with.
5. `--profile`: the same backlog through the worker's pipeline in this process under cProfile
   (decode, one transaction per batch, publish), printing where the time goes.
Prints the rates and the ratios (issue 20's targets: worker >= 0.7x the no-op faust agent and
>= 1x the gateway's batch ingest, both in the same run) and writes JSON to bench/results/.
The machine's load average is recorded with the figures: other work on the host slows both.
Needs the broker (`passage kafka start`) and PostgreSQL (PASSAGE_TEST_DATABASE_URL or the local one).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaProducer
from sqlalchemy import func, select

import events
from bench.common import PG_ADMIN, create_database, drop_scratch, summary_row, write_result
from bench.gateway import cpu_seconds
from events import AgencyKind, Source
from services.config import ROOT, Settings
from services.demo.journeys import iter_journeys
from services.gateway.admission import Admitted, admit
from services.kafka.topics import create_topics
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker.runner import new_event_loop
from services.worker.views import LIVE

TARGET = 0.5


def records(settings: Settings, count: int) -> list[tuple[bytes, bytes, list]]:
    """`count` gateway-stamped records (key, value, headers) from the demo journeys, in case order."""
    now, out = datetime.now(UTC), []
    for journey in iter_journeys(count, seed=7, now=now):
        for event in journey.events:
            source = Source(agency_id=f"bench-{event.kind}", agency_kind=AgencyKind(event.kind))
            outcome = admit(event.envelope, source, topic=settings.journey_topic, now=now)
            assert isinstance(outcome, Admitted), f"the demo produced an event the gateway refuses: {outcome}"
            out.append((outcome.record.key.encode(), outcome.record.value, list(outcome.record.headers)))
            if len(out) == count:
                return out
    raise AssertionError(f"the demo journeys held fewer than {count} events")


def fill(settings: Settings, backlog: list[tuple[bytes, bytes, list]]) -> dict:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
        enable_idempotence=True,
    )
    began = time.monotonic()
    futures = [producer.send(settings.journey_topic, key=k, value=v, headers=h) for k, v, h in backlog]
    producer.flush(timeout=300)
    acknowledged = sum(1 for f in futures if f.succeeded())
    producer.close()
    fill_s = time.monotonic() - began
    on_topic = end_offsets_total(settings)
    assert acknowledged == len(backlog) == on_topic, (
        f"{acknowledged} acknowledged, {on_topic} on the topic, {len(backlog)} sent"
    )
    return {"acknowledged": acknowledged, "on_topic": on_topic, "fill_s": round(fill_s, 2)}


def end_offsets_total(settings: Settings) -> int:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as TP

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        tps = [TP(settings.journey_topic, p) for p in consumer.partitions_for_topic(settings.journey_topic)]
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


async def raw_consume(settings: Settings, count: int, decode: bool = False) -> dict:
    """Read every record from offset 0 and count it (`decode`: also validate it with events.decode,
    the contract check every record must pass before the worker may fold it)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        max_poll_records=settings.worker_batch_size,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(settings.journey_topic, p) for p in range(settings.partitions)]  # as created
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, first = 0, None
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=settings.worker_batch_size)
            got = sum(len(batch) for batch in batches.values())
            if decode:
                for batch in batches.values():
                    for record in batch:
                        events.decode(record.value)
            if got and first is None:
                first = time.monotonic()
            seen += got
        elapsed = time.monotonic() - first
    finally:
        await consumer.stop()
    return {"events_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 3)}


class _Counting:
    """A pipeline that does nothing but count what it is handed (see `faust_noop`, `reader_noop`)."""

    def __init__(self, count: int, loop: asyncio.AbstractEventLoop) -> None:
        self.count, self.loop, self.seen = count, loop, 0
        self.first: float | None = None
        self.last = 0.0
        self.done = asyncio.Event()

    def decode(self, messages):  # runs in a worker thread, as the real pipeline's steps do
        self.last = time.monotonic()
        self.first = self.first or self.last
        self.seen += len(messages)
        if self.seen >= self.count:
            self.loop.call_soon_threadsafe(self.done.set)
        return messages

    def store(self, batch) -> None:
        pass

    def publish(self, batch) -> None:
        pass


def faust_agent_app(settings: Settings, counting: _Counting, group: str):
    """Issue 20's baseline, kept as the issue defines it: the worker's journey agent as it was
    before the reader (services/worker/app.py until 2026-12-07): the worker's faust app settings, an
    `@app.agent` on the journey topic taking `take_events` batches of PASSAGE_WORKER_BATCH_SIZE
    within PASSAGE_WORKER_BATCH_WAIT_S, each batch's steps in one thread hop, on the same loop."""
    import faust

    from services.worker.app import faust_options

    app = faust.App(group, **faust_options(settings))
    journey = app.topic(settings.journey_topic, key_serializer="raw", value_serializer="raw")

    def steps(messages) -> None:
        batch = counting.decode(messages)
        counting.store(batch)
        counting.publish(batch)

    @app.agent(journey, name="project-journey", concurrency=1)
    async def project_journey(stream):
        async for batch_events in stream.take_events(settings.worker_batch_size, within=settings.worker_batch_wait_s):
            await asyncio.to_thread(steps, [event.message for event in batch_events])

    return app


async def faust_noop(settings: Settings, count: int) -> dict:
    """The backlog through the faust agent the worker had (`faust_agent_app`) with a pipeline that
    only counts; timed from the first batch to the last, like the worker."""
    counting = _Counting(count, asyncio.get_running_loop())
    app = faust_agent_app(settings, counting, group=f"{settings.topic_prefix}-noop")
    return await _drain(app, counting, count, "the no-op faust agent")


async def reader_noop(settings: Settings, count: int) -> dict:
    """The backlog through the worker's own app, journey reader and `Worker` (batches, the one
    thread hop, the commits) with a pipeline that only counts: the ceiling the worker's reading
    machinery sets before any work."""
    from services.worker.app import Worker, build_app

    counting = _Counting(count, asyncio.get_running_loop())
    worker = Worker(counting, on_fatal=lambda error: counting.done.set())
    app = build_app(settings, worker, group=f"{settings.topic_prefix}-readnoop")
    return await _drain(app, counting, count, "the no-op journey reader")


async def _drain(app, counting: _Counting, count: int, what: str) -> dict:
    await app.start()
    try:
        await asyncio.wait_for(counting.done.wait(), timeout=600)
    finally:
        await app.stop()
    assert counting.seen >= count, f"{what} stopped after {counting.seen} of {count} records"
    return {
        "events_per_s": round(count / (counting.last - counting.first), 1),
        "seconds": round(counting.last - counting.first, 3),
    }


def run_worker(settings: Settings, count: int, log_dir: Path) -> dict:
    engine = make_engine(settings)
    migrate(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSAGE_")}
    env.update({f"PASSAGE_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None})
    log = (log_dir / "worker.log").open("ab")
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        first_at, first_count = _poll(engine, lambda n: n > 0, process, 180)
        cpu_first = cpu_seconds(process.pid)
        done_at, _ = _poll(engine, lambda n: n >= count, process, 1800)
        cpu_used = cpu_seconds(process.pid) - cpu_first
    finally:
        process.terminate()
        process.wait(timeout=90)
        log.close()
        engine.dispose()
    measured = count - first_count
    return {
        "events_per_s": round(measured / (done_at - first_at), 1),
        "measured_events": measured,
        "drain_s": round(done_at - first_at, 2),
        "startup_s": round(first_at - began, 2),
        # The worker process's own CPU per event while draining: what a busy host does not change
        # much (PostgreSQL's share of the work runs in its own processes and is not in it).
        "cpu_us_per_event": round(cpu_used * 1e6 / measured, 1),
        "batch_size": settings.worker_batch_size,
    }


def _poll(engine, done, process, timeout_s: float) -> tuple[float, int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            applied = connection.execute(select(func.count()).select_from(LIVE.timeline)).scalar_one()
        if done(applied):
            return time.monotonic(), applied
        if process.poll() is not None:
            raise SystemExit(f"the worker exited with {process.returncode}; see its log")
        time.sleep(0.05)
    raise SystemExit(f"the worker did not get there within {timeout_s:.0f}s ({applied} applied)")


def gateway_batch_ingest(settings: Settings, batches: int) -> dict:
    """The gateway's batch ingest as `bench.gateway` measures it (batches of 500 through the real
    HTTP server, 2 clients, acks=all), on this run's broker and host, into topics of its own: the
    rate one worker must at least match to keep up with a gateway taking batches."""
    from bench.gateway import BATCH, event, http_sender, run_concurrently, start_gateway
    from services.gateway.agencies import add_agency
    from services.storage.db import create_all

    workdir = Path(tempfile.mkdtemp(prefix="passage-bench-worker-gateway-"))
    db_url = f"sqlite:///{workdir / 'registry.db'}"
    engine = make_engine(db_url)
    create_all(engine)
    key = add_agency(engine, settings.secret_key, "bench-helpline", "helpline").key
    engine.dispose()
    create_topics(settings)
    bodies = [json.dumps({"events": [event(b * BATCH + i) for i in range(BATCH)]}).encode() for b in range(batches)]
    process, port = start_gateway(settings, db_url)
    try:
        send = http_sender(port, "/v1/events/batch", key, 200)
        run_concurrently(bodies[:1], 1, send)  # warm up (the first batch is not counted)
        seconds, _latencies = run_concurrently(bodies[1:], 2, send)
    finally:
        process.terminate()
        process.wait(timeout=30)
    events_sent = (batches - 1) * BATCH
    return {"events_per_s": round(events_sent / seconds, 1), "events": events_sent, "seconds": round(seconds, 3)}


def profile(settings: Settings, count: int) -> str:
    """The backlog through the pipeline in this process, under cProfile; the top of the profile."""
    from kafka import KafkaConsumer
    from kafka import TopicPartition as TP

    from services.kafka.producer import Publisher
    from services.worker.dlq import Message
    from services.worker.pipeline import Pipeline

    engine = make_engine(settings)
    migrate(engine)
    pipeline = Pipeline(settings, engine, Publisher(settings))
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        max_poll_records=settings.worker_batch_size,
    )
    tps = [TP(settings.journey_topic, p) for p in consumer.partitions_for_topic(settings.journey_topic)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    profiler, seen = cProfile.Profile(), 0
    began = time.monotonic()
    while seen < count:
        polled = consumer.poll(timeout_ms=1000)
        messages = [Message(r.topic, r.partition, r.offset, r.key, r.value) for rs in polled.values() for r in rs]
        if not messages:
            continue
        seen += len(messages)
        profiler.enable()
        batch = pipeline.decode(messages)
        pipeline.store(batch)
        pipeline.publish(batch)
        profiler.disable()
    elapsed = time.monotonic() - began
    consumer.close()
    pipeline.publisher.close()
    engine.dispose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return f"in-process pipeline under cProfile: {count / elapsed:.0f} events/s\n{out.getvalue()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small backlog (a smoke run, not a figure)")
    parser.add_argument("--events", type=int, default=None, help="backlog size (default 30000, quick 5000)")
    parser.add_argument("--profile", action="store_true", help="also profile the pipeline in this process")
    args = parser.parse_args()
    count = args.events or (5000 if args.quick else 30000)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(topic_prefix=f"benchw{tag}", sweep_interval_s=3600.0, log_format="json")
    gateway_settings = settings.model_copy(update={"topic_prefix": f"benchwg{tag}"})
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    names = [f"passage_benchw_{tag}", f"passage_benchw_{tag}_profile"]
    log_dir = Path(tempfile.mkdtemp(prefix="passage-bench-worker-"))
    load_before = os.getloadavg()
    try:
        create_topics(settings)
        backlog = fill(settings, records(settings, count))
        raw = asyncio.run(raw_consume(settings, count))
        decoding = asyncio.run(raw_consume(settings, count, decode=True))
        with asyncio.Runner(loop_factory=new_event_loop) as runner:  # the worker's own loop (uvloop)
            framework = runner.run(faust_noop(settings, count))
        with asyncio.Runner(loop_factory=new_event_loop) as runner:  # a fresh one: faust leaves threads behind
            reading = runner.run(reader_noop(settings, count))
        with_db = settings.model_copy(update={"database_url": create_database(admin_db, names[0])})
        worker = run_worker(with_db, count, log_dir)
        gateway = gateway_batch_ingest(gateway_settings, 5 if args.quick else 21)
        report = (
            profile(settings.model_copy(update={"database_url": create_database(admin_db, names[1])}), count)
            if args.profile
            else None
        )
    finally:
        drop_scratch(gateway_settings, make_engine(PG_ADMIN), [])
        drop_scratch(settings, admin_db, names)
    ratio = round(worker["events_per_s"] / raw["events_per_s"], 4)
    result = {
        "bench": "worker",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "events": count,
        "partitions": settings.partitions,
        "backlog": backlog,
        "raw_aiokafka_consumer": raw,
        "raw_consumer_with_events_decode": decoding,
        "faust_agent_noop_pipeline": framework,
        "journey_reader_noop_pipeline": reading,
        "worker_into_postgresql": worker,
        "ratio": ratio,
        "target_ratio": TARGET,
        "meets_target": ratio >= TARGET,
        "ratio_to_decoding_consumer": round(worker["events_per_s"] / decoding["events_per_s"], 4),
        "ratio_to_noop_faust_agent": round(worker["events_per_s"] / framework["events_per_s"], 4),
        "ratio_to_noop_journey_reader": round(worker["events_per_s"] / reading["events_per_s"], 4),
        "gateway_batch_ingest": gateway,
        "ratio_to_gateway_batch_ingest": round(worker["events_per_s"] / gateway["events_per_s"], 4),
        "quick": args.quick,
    }
    summary = [
        summary_row(
            "worker drain into PostgreSQL (1 worker)",
            worker["events_per_s"],
            "events/s",
            "raw aiokafka consumer, same backlog",
            raw["events_per_s"],
        ),
        summary_row(
            "worker drain into PostgreSQL (1 worker)",
            worker["events_per_s"],
            "events/s",
            "raw consumer + events.decode",
            decoding["events_per_s"],
        ),
        summary_row(
            "worker drain into PostgreSQL (1 worker)",
            worker["events_per_s"],
            "events/s",
            "the worker's former faust agent, no-op pipeline",
            framework["events_per_s"],
        ),
        summary_row(
            "worker drain into PostgreSQL (1 worker)",
            worker["events_per_s"],
            "events/s",
            "the worker's journey reader, no-op pipeline",
            reading["events_per_s"],
        ),
        summary_row(
            "worker drain into PostgreSQL (1 worker)",
            worker["events_per_s"],
            "events/s",
            "gateway batch ingest (batches of 500, 2 clients)",
            gateway["events_per_s"],
        ),
    ]
    out = write_result("worker", summary, **{k: v for k, v in result.items() if k not in ("bench", "measured_at")})
    if report:
        print(report)
    print(
        f"backlog {count} events on {settings.partitions} partitions, all acknowledged "
        f"(filled in {backlog['fill_s']}s); load average {load_before[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"raw aiokafka consumer: {raw['events_per_s']:>10.1f} events/s")
    print(f"raw consumer + decode: {decoding['events_per_s']:>10.1f} events/s (validation alone, no views)")
    print(
        f"faust agent, no-op:    {framework['events_per_s']:>10.1f} events/s (the former agent and batching, nothing done)"
    )
    print(
        f"journey reader, no-op: {reading['events_per_s']:>10.1f} events/s (the worker's reader and batching, nothing done)"
    )
    print(
        f"worker -> PostgreSQL:  {worker['events_per_s']:>10.1f} events/s "
        f"({worker['measured_events']} events in {worker['drain_s']}s after a {worker['startup_s']}s start; "
        f"{worker['cpu_us_per_event']} us of the worker's CPU per event)"
    )
    print(f"gateway batch ingest: {gateway['events_per_s']:>11.1f} events/s (batches of 500, 2 clients)")
    print(
        f"worker/no-op agent: {result['ratio_to_noop_faust_agent']:.2f}x (target >= 0.7x); "
        f"worker/no-op reader: {result['ratio_to_noop_journey_reader']:.2f}x; "
        f"worker/gateway batch ingest: {result['ratio_to_gateway_batch_ingest']:.2f}x (target >= 1x)"
    )
    print(f"ratio worker/raw: {ratio:.2%} (target {TARGET:.0%}); {out}")


if __name__ == "__main__":
    main()
