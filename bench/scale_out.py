"""Scale-out: does a second `passage worker` in the consumer group drain a backlog faster?

    python -m bench.scale_out [--quick] [--events N]

1. Fill a backlog: realistic demo journeys, stamped exactly as the gateway stamps them, published
   to a fresh journey topic with the one producer code path (acks=all); every record must be
   acknowledged and the topic's end offsets must add up to the count.
2. Drain it with one worker (fresh database, fresh consumer group), then with two (another fresh
   database; the group deleted, so it starts from offset 0 again). Workers are real subprocesses.
3. Report events/s of each and the ratio, measured in the same run on the same backlog, and check
   that both drains built the same views. JSON goes to bench/results/.

The rate counts from the moment every worker holds partitions in a stable group (what a running
deployment sees) to the last event applied; start-up and the first rebalance are reported apart.
Needs the broker (`passage kafka start`) and PostgreSQL (PASSAGE_TEST_DATABASE_URL or the local one).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from sqlalchemy import func, select

from bench.common import PG_ADMIN, create_database, drop_scratch, summary_row, write_result
from events import AgencyKind, Source
from services.config import Settings
from services.demo.journeys import iter_journeys
from services.gateway.admission import Admitted, admit
from services.kafka.producer import Publisher
from services.kafka.topics import create_topics
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.storage.tables import TimelineEvent
from tests.faults.harness import Worker
from tests.faults.kafka_state import group_members, worker_group
from tests.faults.verdict import differences
from tests.polling import wait_until

CHUNK = 500


def fill(settings: Settings, count: int) -> int:
    """Publish `count` stamped events; returns how many the broker acknowledged (all, or raises)."""
    publisher = Publisher(settings)
    now = datetime.now(UTC)
    acknowledged, chunk = 0, []
    try:
        for journey in iter_journeys(count, seed=7, now=now):  # far more journeys than needed
            for event in journey.events:
                source = Source(agency_id=f"bench-{event.kind}", agency_kind=AgencyKind(event.kind))
                outcome = admit(event.envelope, source, topic=settings.journey_topic, now=now)
                assert isinstance(outcome, Admitted), f"the demo produced an event the gateway refuses: {outcome}"
                chunk.append(outcome.record)
                if acknowledged + len(chunk) == count or len(chunk) == CHUNK:
                    publisher.publish(chunk)  # returns only once every record is acknowledged
                    acknowledged, chunk = acknowledged + len(chunk), []
                if acknowledged == count:
                    return acknowledged
    finally:
        publisher.close()
    raise AssertionError(f"the demo journeys held fewer than {count} events")


def on_topic(settings: Settings) -> int:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        specs = {TopicPartition(settings.journey_topic, p): OffsetSpec.LATEST for p in range(settings.partitions)}
        return sum(offset.offset for offset in admin.list_partition_offsets(specs).values())
    finally:
        admin.close()


def drain(settings: Settings, workers: int, count: int, log_dir: Path) -> dict[str, float]:
    """Start `workers` workers on an empty database; time them until all `count` events are applied."""
    engine = make_engine(settings)
    migrate(engine)
    applied = lambda: _applied(engine)  # noqa: E731
    began = time.monotonic()
    processes = [
        Worker(settings, log_dir, f"worker-{workers}-{i}", PASSAGE_VAR_DIR=str(log_dir / f"w{workers}-{i}"))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        wait_until(lambda: group_members(settings) == workers, 180, f"{workers} workers in a stable group", 0.1)
        stable_at, done_before = time.monotonic(), applied()
        wait_until(
            lambda: applied() >= count,
            900,
            f"{count} events applied",
            0.2,
            lambda: f"{applied()} applied\n" + "\n".join(p.tail(5) for p in processes),
        )
        finished = time.monotonic()
    finally:
        for process in processes:
            process.stop(grace_s=30)
        engine.dispose()
    measured = count - done_before
    return {
        "workers": workers,
        "events_per_s": round(measured / (finished - stable_at), 1),
        "measured_events": measured,
        "drain_s": round(finished - stable_at, 2),
        "startup_s": round(stable_at - began, 2),
        "wall_s": round(finished - began, 2),
    }


def _applied(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(TimelineEvent)).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small backlog (a smoke run, not a figure)")
    parser.add_argument("--events", type=int, default=None, help="backlog size (default 30000, quick 5000)")
    args = parser.parse_args()
    count = args.events or (5000 if args.quick else 30000)
    tag = uuid.uuid4().hex[:8]
    base = Settings(topic_prefix=f"scale{tag}", sweep_interval_s=3600.0, log_format="json")
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    names = [f"passage_scale_{tag}_{n}" for n in (1, 2)]
    log_dir = Path(tempfile.mkdtemp(prefix="passage-scale-out-"))
    try:
        create_topics(base)
        began = time.monotonic()
        acknowledged = fill(base, count)
        fill_s = time.monotonic() - began
        assert on_topic(base) == count, f"{on_topic(base)} records on the topic, {count} acknowledged"
        runs = []
        for workers, name in zip((1, 2), names, strict=True):
            settings = base.model_copy(update={"database_url": create_database(admin_db, name)})
            runs.append(drain(settings, workers, count, log_dir))
            _delete_group(base)  # the next run starts a fresh group from offset 0
        one, two = (make_engine(base.model_copy(update={"database_url": _url(n)})) for n in names)
        mismatches = differences(one, two)
        one.dispose()
        two.dispose()
        result = {
            "bench": "scale_out",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count()},
            "events": count,
            "partitions": base.partitions,
            "backlog": {"acknowledged": acknowledged, "on_topic": count, "fill_s": round(fill_s, 2)},
            "one_worker": runs[0],
            "two_workers": runs[1],
            "ratio": round(runs[1]["events_per_s"] / runs[0]["events_per_s"], 2),
            "views_identical": not mismatches,
            "quick": args.quick,
        }
    finally:
        drop_scratch(base, admin_db, names)
    summary = [
        summary_row(
            "scale-out: 2 workers in one group drain",
            runs[1]["events_per_s"],
            "events/s",
            "1 worker, same backlog",
            runs[0]["events_per_s"],
        )
    ]
    out = write_result("scale_out", summary, **{k: v for k, v in result.items() if k not in ("bench", "measured_at")})
    print(f"backlog {count} events on {base.partitions} partitions (filled in {fill_s:.1f}s, all acknowledged)")
    for run in runs:
        print(
            f"{run['workers']} worker(s): {run['events_per_s']:>8.1f} events/s "
            f"({run['measured_events']} events in {run['drain_s']}s after a {run['startup_s']}s start)"
        )
    print(f"ratio two/one: {result['ratio']}; views identical: {result['views_identical']}; {out}")
    if mismatches:
        raise SystemExit(f"the two drains built different views: {mismatches[:3]}")


def _url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _delete_group(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        admin.delete_groups([worker_group(settings)])
    finally:
        admin.close()


if __name__ == "__main__":
    main()
