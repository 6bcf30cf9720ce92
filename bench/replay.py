"""Replay rate: `passage replay` (services.worker.replay) rebuilding both views from offset 0 of an
acknowledged backlog, next to a raw kafka-python consumer reading the same topic in the same run.

    python -m bench.replay [--quick] [--events N]

1. Fill: realistic demo journeys stamped as the gateway stamps them (bench.worker's fill: acks=all,
   every record acknowledged, end offsets add up to the count).
2. Raw baseline: a kafka-python consumer (the client replay uses, same max_poll_records), every
   partition from offset 0, counting records.
3. Replay: `replay()` in this process into a fresh, migrated PostgreSQL database; the rate covers
   the whole call (shadow tables, fold, swap).
Prints both rates and the ratio; writes JSON to bench/results/. Needs the broker and PostgreSQL.
"""

from __future__ import annotations

import argparse
import time
import uuid

from kafka import KafkaConsumer, TopicPartition

from bench.common import PG_ADMIN, create_database, drop_scratch, summary_row, write_result
from bench.worker import fill, records
from services.config import Settings
from services.kafka.topics import create_topics
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker.replay import replay


def raw_read(settings: Settings, count: int) -> dict:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False,
                             max_poll_records=settings.worker_batch_size, **settings.kafka_client_options())
    try:
        partitions = [TopicPartition(settings.journey_topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        began, seen = time.monotonic(), 0
        while seen < count:
            seen += sum(len(records) for records in consumer.poll(timeout_ms=1000).values())
        elapsed = time.monotonic() - began
    finally:
        consumer.close()
    return {"events_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 2)}


def run_replay(settings: Settings, count: int) -> dict:
    engine = make_engine(settings)
    try:
        migrate(engine)
        began = time.monotonic()
        result = replay(settings, engine, progress=False)
        elapsed = time.monotonic() - began
    finally:
        engine.dispose()
    if result.events != count:
        raise SystemExit(f"replay folded {result.events} of {count} events "
                         f"({result.skipped} skipped, {result.failed} failed)")
    return {"events_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 2), "events": result.events}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small backlog (3000 events)")
    parser.add_argument("--events", type=int, help="backlog size (default 20000, quick 3000)")
    args = parser.parse_args(argv)
    count = args.events or (3000 if args.quick else 20000)
    tag = uuid.uuid4().hex[:8]
    db_name = f"passage_benchr_{tag}"
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    settings = Settings(topic_prefix=f"benchr{tag}", log_format="json",
                        database_url=create_database(admin_db, db_name))
    try:
        create_topics(settings)
        backlog = fill(settings, records(settings, count))
        raw = raw_read(settings, count)
        rebuilt = run_replay(settings, count)
    finally:
        drop_scratch(settings, admin_db, [db_name])
    rows = [summary_row("replay rate (passage replay into PostgreSQL)", rebuilt["events_per_s"], "events/s",
                        "raw kafka-python consumer, same topic", raw["events_per_s"])]
    out = write_result("replay", rows, events=count, partitions=settings.partitions, backlog=backlog,
                       raw_consumer=raw, replay=rebuilt, quick=args.quick)
    print(f"backlog {count} events on {settings.partitions} partitions, all acknowledged "
          f"(filled in {backlog['fill_s']}s)")
    print(f"raw kafka-python consumer: {raw['events_per_s']:>10.1f} events/s")
    print(f"passage replay:            {rebuilt['events_per_s']:>10.1f} events/s ({rebuilt['seconds']} s)")
    print(f"ratio replay/raw: {rebuilt['events_per_s'] / raw['events_per_s']:.2%}; {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
