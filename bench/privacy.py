"""The cost of encrypting personal fields (SPEC section 9): gateway batch ingest and worker drain,
each with and without encryption, in the same run.

    python -m bench.privacy [--quick] [--journeys N] [--rounds R]

1. Gateway ingest: the gateway's own intake (`services.gateway.intake.Intake`: admission, stamp,
   publish with acks=all to the real broker) over demo journeys in batches of up to 500 events per
   agency kind, as `passage demo` sends them. Without encryption (no sealer) into one topic, with
   it (`services.privacy.Sealer`: key store reads and creation in PostgreSQL, AES-256-GCM) into
   another, the sealer built as the gateway builds it (keys remembered for SEALER_MEMORY_S).
   HTTP is left out: it costs the same either way and would only dilute the difference.
   Each round uses new journeys (new cases, so the sealed run also creates their data keys).
2. Worker drain: the worker's pipeline (`services.worker.pipeline.Pipeline`: decode, fold and store
   in one PostgreSQL transaction per batch, publish alert changes) over each topic's records, read
   into memory first (the Kafka consumer costs the same either way), into fresh shadow views.
   With encryption this includes the key store read per batch and the decryption.
Each round runs both, the first of the pair alternating between rounds, so load changes on a shared
host (and whatever the first run of a round warms) hit both alike. Prints the
rates and the slowdown (target: under 15%); writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine

from bench.common import PG_ADMIN, create_database, drop_scratch, summary_row, write_result
from events import AgencyKind, Source
from services.config import Settings
from services.demo.journeys import generate
from services.demo.publish import waves
from services.gateway.bootstrap import SEALER_MEMORY_S
from services.gateway.intake import Intake
from services.kafka.producer import Publisher
from services.kafka.topics import create_topics
from services.privacy import Keyring, Sealer
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker import views as v
from services.worker.dlq import Message
from services.worker.pipeline import Pipeline


def bodies(journeys_count: int, seed: int) -> list[tuple[Source, bytes, int]]:
    """The batch bodies `passage demo` would send: (agency, body, events)."""
    journeys = generate(journeys_count, seed=seed, now=datetime.now(UTC))
    out = []
    for batches in waves(journeys):
        for batch in batches:
            source = Source(agency_id=f"demo-{batch.kind}", agency_kind=AgencyKind(batch.kind))
            out.append((source, json.dumps({"events": list(batch.events)}).encode(), len(batch.events)))
    return out


def ingest(intake: Intake, work: list[tuple[Source, bytes, int]]) -> tuple[int, float]:
    began, accepted = time.monotonic(), 0
    for source, body, _count in work:
        accepted += sum(1 for outcome in intake.batch(body, source) if outcome.__class__.__name__ == "Admitted")
    return accepted, time.monotonic() - began


def read_topic(settings: Settings, topic: str) -> list[Message]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        max_poll_records=2000,
        **settings.kafka_client_options(),
    )
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        out: list[Message] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=1000).values():
                out += [Message(r.topic, r.partition, r.offset, r.key, r.value) for r in records]
        return out
    finally:
        consumer.close()


def drain(settings: Settings, engine, publisher: Publisher, messages: list[Message]) -> float:
    """The pipeline over `messages` in worker-sized batches, into fresh shadow views; seconds."""
    views = v.shadow(engine)
    pipeline = Pipeline(settings, engine, publisher, views=views)
    size = settings.worker_batch_size
    try:
        began = time.monotonic()
        for start in range(0, len(messages), size):
            batch = pipeline.decode(messages[start : start + size])
            if batch.dead:
                raise SystemExit(f"{len(batch.dead)} records could not be decoded: {batch.dead[0][1]}")
            pipeline.store(batch)
            pipeline.publish(batch)
        return time.monotonic() - began
    finally:
        v.drop(engine, views)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 journeys per round instead of 600")
    parser.add_argument("--journeys", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    journeys = args.journeys or (150 if args.quick else 600)

    run = uuid.uuid4().hex[:8]
    admin_db = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    database = f"bench_privacy_{run}"
    base = Settings(
        env="test",
        database_url=create_database(admin_db, database),
        topic_prefix=f"bp{run}",
        partitions=6,
        worker_batch_size=500,
    )
    sealed_settings = base.model_copy(update={"topic_prefix": f"bs{run}"})
    for settings in (base, sealed_settings):
        create_topics(settings)
    engine = make_engine(base)
    migrate(engine)
    publisher = Publisher(base)
    try:
        plain_intake = Intake(publisher, base.journey_topic)
        sealed_intake = Intake(
            publisher,
            sealed_settings.journey_topic,
            sealer=Sealer(engine, Keyring.from_settings(base), remember_s=SEALER_MEMORY_S),
        )
        totals = {"plain": [0, 0.0], "sealed": [0, 0.0]}
        for round_ in range(args.rounds):
            work = bodies(journeys, seed=1000 + round_)
            pair = [("plain", plain_intake), ("sealed", sealed_intake)]
            for name, intake in pair if round_ % 2 == 0 else reversed(pair):  # neither always goes first
                count, seconds = ingest(intake, work)
                totals[name][0] += count
                totals[name][1] += seconds
        gateway = {name: round(count / seconds, 1) for name, (count, seconds) in totals.items()}

        backlogs = {
            "plain": read_topic(base, base.journey_topic),
            "sealed": read_topic(base, sealed_settings.journey_topic),
        }
        drained = {"plain": 0.0, "sealed": 0.0}
        for round_ in range(args.rounds):
            for name in ("plain", "sealed") if round_ % 2 == 0 else ("sealed", "plain"):
                drained[name] += drain(base, engine, publisher, backlogs[name])
        worker = {name: round(args.rounds * len(backlogs[name]) / drained[name], 1) for name in drained}
    finally:
        publisher.close()
        engine.dispose()
        drop_scratch(sealed_settings, create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT"), [])
        drop_scratch(base, admin_db, [database])

    slowdown = {
        "gateway": round(1 - gateway["sealed"] / gateway["plain"], 3),
        "worker": round(1 - worker["sealed"] / worker["plain"], 3),
    }
    print(
        f"gateway batch ingest: {gateway['plain']:,.0f} events/s plain, {gateway['sealed']:,.0f} sealed "
        f"({slowdown['gateway']:+.1%} slower)"
    )
    print(
        f"worker drain: {worker['plain']:,.0f} events/s plain, {worker['sealed']:,.0f} sealed "
        f"({slowdown['worker']:+.1%} slower)"
    )
    rows = [
        summary_row(
            "gateway batch ingest, personal fields encrypted",
            gateway["sealed"],
            "events/s",
            "the same intake without encryption",
            gateway["plain"],
        ),
        summary_row(
            "worker drain, personal fields decrypted",
            worker["sealed"],
            "events/s",
            "the same pipeline over clear-text records",
            worker["plain"],
        ),
    ]
    path = write_result(
        "privacy",
        rows,
        journeys_per_round=journeys,
        rounds=args.rounds,
        events_per_mode={name: len(backlog) for name, backlog in backlogs.items()},
        gateway_events_per_s=gateway,
        worker_events_per_s=worker,
        slowdown=slowdown,
        target="under 15% slower",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
