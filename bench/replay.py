"""Rebuild rate: `passage replay` (services.worker.replay, the bulk path in services.worker.bulk)
rebuilding the views from offset 0 of an acknowledged backlog, with 1 and 2 jobs, next to
baselines read from the same topic in the same run.

    python -m bench.replay [--quick] [--events N] [--rounds R]

1. Fill: realistic demo journeys stamped as the gateway stamps them (bench.worker's fill: acks=all,
   every record acknowledged, end offsets add up to the count).
2. Baselines: a raw aiokafka consumer (`getmany`) that also validates each record with
   `events.decode` (the least a rebuild must do per record); a raw kafka-python consumer only
   counting; the per-batch path the replay used before the bulk one, as it runs today
   (kafka-python polls folded batch by batch with today's live `persist.apply_batch` into shadow
   tables); and `passage replay` exactly as it was when issue 20 was filed (`FILED`: that commit's
   tree, from `git archive`, run with this venv in a subprocess against the same topic and a
   scratch database its own migrations made; timed around its `replay()` call, as ours is).
3. Replay: `replay()` into a fresh, migrated PostgreSQL database, with --jobs 1 and --jobs 2; the
   rate covers the whole call (shadow tables, bulk fold, tail, swap).
With --rounds R the four replays are measured R times in turn; each round's ratios are printed,
and the round whose 1-job rate is the median is reported (ratios stay within one round; every
run is kept in the JSON). Each measure also gets its CPU time per event: the process's own (the jobs and the old tree's
`replay()` call included) plus that of the PostgreSQL backends serving it (`Cpu`, from /proc: only
when PostgreSQL runs on this host). On a shared host the rates follow the load, while the CPU an
event costs hardly moves.
Prints the rates and ratios; writes JSON to bench/results/. Needs the broker and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import text

from bench.common import PG_ADMIN, create_database, drop_scratch, service_env, summary_row, write_result
from bench.gateway import cpu_seconds
from bench.worker import fill, raw_consume, records
from services.config import ROOT, Settings
from services.domain import RuleConfig
from services.kafka.topics import create_topics
from services.privacy import Keyring
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker import replay as replay_module
from services.worker import views
from services.worker.replay import replay

# `passage replay` when issue 20 was filed (2026-12-06): main's head before that day's work
# (every branch of the day forked from it; `git log --first-parent main --until=2026-12-06T20:19`),
# the per-batch replay: a kafka-python poll of 500 records folded by that day's `apply_batch` in a
# transaction per poll, then a locked swap that copies the rows back.
FILED = "3127782ed92641dd7eaa297f3930bc960e2822fc"
# Run inside the old tree: its own Settings, engine, migrations and replay; one JSON line out.
FILED_DRIVER = """
import json, time
import services
from services.config import Settings
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker.replay import replay
settings = Settings()
engine = make_engine(settings)
migrate(engine)
began, cpu = time.monotonic(), time.process_time()
result = replay(settings, engine, progress=False)
seconds, cpu = time.monotonic() - began, time.process_time() - cpu
engine.dispose()
print(json.dumps({"seconds": seconds, "cpu_s": cpu, "events": result.events, "skipped": result.skipped,
                  "failed": result.failed, "services": services.__file__}))
"""


def as_filed(settings: Settings, database_url: str, count: int) -> dict:
    """The replay exactly as it was when the issue was filed, over the same topic: FILED's tree
    extracted with `git archive`, its `replay()` run with this venv's Python and libraries
    (PYTHONPATH=the tree) into `database_url` migrated by that tree. {"error": why} when the
    checkout lacks the commit (a shallow clone) or the old code fails."""
    with tempfile.TemporaryDirectory(prefix="passage-filed-") as tree:
        archive = subprocess.run(["git", "archive", FILED], cwd=ROOT, capture_output=True)
        if archive.returncode != 0:
            return {
                "error": f"git archive {FILED[:7]} failed ({archive.stderr.decode().strip()}); "
                "run the bench in a full clone (git fetch --unshallow)"
            }
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        env = service_env(settings.model_copy(update={"database_url": database_url}))
        env["PYTHONPATH"] = tree
        ran = subprocess.run(
            [sys.executable, "-c", FILED_DRIVER], cwd=tree, env=env, capture_output=True, text=True, timeout=3600
        )
    if ran.returncode != 0:
        return {"error": f"the replay of {FILED[:7]} exited with {ran.returncode}: {ran.stderr.strip()[-2000:]}"}
    out = json.loads(ran.stdout.strip().splitlines()[-1])
    if not Path(out.pop("services")).resolve().is_relative_to(Path(tree).resolve()):
        return {"error": f"the old replay imported today's services, not {FILED[:7]}'s: check PYTHONPATH"}
    if out["events"] != count:
        return {"error": f"the replay of {FILED[:7]} folded {out['events']} of {count} events ({out})"}
    return {**out, "events_per_s": round(count / out["seconds"], 1), "seconds": round(out["seconds"], 2)}


class Cpu:
    """CPU seconds spent during a `with` block by this process and its children (the replay's
    jobs, the old tree's subprocess) and by the PostgreSQL backends connected to `database`
    (found through `admin_db` and read from /proc every 0.1 s, so only when PostgreSQL runs on
    this host; a backend's last tenth of a second may be missed). Unlike a rate, CPU per event
    moves little with the host's load, and it shows which side of the socket the work is on."""

    def __init__(self, admin_db, database: str) -> None:
        self.admin_db, self.database = admin_db, database
        self.backends: dict[int, float] = {}
        self._done = threading.Event()

    def __enter__(self) -> Cpu:
        self._began = self._own()
        self._first = {pid: used for pid in self._pids() if (used := _cpu_of(pid)) is not None}  # later ones: from 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.process_s = self._own() - self._began
        self._done.set()
        self._sampler.join()

    def figures(self, events: int, process_s: float | None = None) -> dict:
        """CPU seconds of the process side (`process_s` when the measured code timed its own) and
        of PostgreSQL, and both together per event."""
        own = self.process_s if process_s is None else process_s
        postgres = sum(self.backends.values())
        return {
            "cpu_s": round(own, 2),
            "postgres_cpu_s": round(postgres, 2),
            "cpu_us_per_event": round((own + postgres) * 1e6 / events, 1),
        }

    @staticmethod
    def _own() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def _pids(self) -> list[int]:
        with self.admin_db.connect() as connection:
            query = text("SELECT pid FROM pg_stat_activity WHERE datname = :name")
            return list(connection.execute(query, {"name": self.database}).scalars())

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            for pid in self._pids():
                used = _cpu_of(pid)
                if used is not None:
                    self.backends[pid] = used - self._first.get(pid, 0.0)


def _cpu_of(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:  # gone meanwhile, or PostgreSQL runs on another host
        return None


def migrate_scratch(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def raw_read(settings: Settings, count: int) -> dict:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        max_poll_records=settings.worker_batch_size,
        **settings.kafka_client_options(),
    )
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


def per_batch(settings: Settings, count: int) -> dict:
    """The replay before the bulk path: batches of worker_batch_size folded by `apply_batch` into
    the shadow tables, then the same swap."""
    engine = make_engine(settings)
    consumer = replay_module._consumer(settings)
    try:
        migrate(engine)
        began = time.monotonic()
        rebuilt = views.shadow(engine, like_live=False)  # as it did: primary keys only
        partitions = replay_module._partitions(consumer, settings.journey_topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        result = replay_module.Replayed()
        rules, keyring = RuleConfig.from_settings(settings), Keyring.from_settings(settings)
        for messages in replay_module._read_until(consumer, consumer.end_offsets(partitions)):
            with engine.begin() as connection:
                replay_module._fold(connection, rebuilt, messages, rules, result, keyring)
        with engine.begin() as connection:  # as it did: lock the live views and swap
            replay_module._lock_live(connection)
            views.copy_swap(connection, rebuilt)
        elapsed = time.monotonic() - began
    finally:
        consumer.close()
        engine.dispose()
    return {"events_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 2), "events": result.events}


def run_replay(settings: Settings, count: int, jobs: int) -> dict:
    engine = make_engine(settings)
    try:
        migrate(engine)
        began = time.monotonic()
        result = replay(settings, engine, progress=False, jobs=jobs)
        elapsed = time.monotonic() - began
    finally:
        engine.dispose()
    if result.events != count:
        raise SystemExit(
            f"replay folded {result.events} of {count} events ({result.skipped} skipped, {result.failed} failed)"
        )
    return {"events_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 2), "events": result.events}


REPLAYS = ("per_batch", "as_filed", "replay_1_job", "replay_2_jobs")


def replays(settings: Settings, admin_db, db_name: str, filed_db: str, filed_url: str, count: int) -> dict[str, dict]:
    """One round: the per-batch replay, the replay as filed and ours with 1 and 2 jobs, each with
    its CPU time, one after the other on the same topic."""
    measured: dict[str, dict] = {}
    with Cpu(admin_db, db_name) as cpu:
        measured["per_batch"] = per_batch(settings, count)
    measured["per_batch"].update(cpu.figures(count))
    with Cpu(admin_db, filed_db) as cpu:
        filed = measured["as_filed"] = as_filed(settings, filed_url, count)
    filed.update(cpu.figures(count, filed.get("cpu_s")))  # its replay() call's own CPU, not its imports
    for name, jobs in (("replay_1_job", 1), ("replay_2_jobs", 2)):
        with Cpu(admin_db, db_name) as cpu:
            measured[name] = run_replay(settings, count, jobs=jobs)
        measured[name].update(cpu.figures(count))
    rate = {name: measure.get("events_per_s", float("nan")) for name, measure in measured.items()}
    print(
        f"round at load {os.getloadavg()[0]:.1f}: "
        + ", ".join(f"{name} {value:.0f}" for name, value in rate.items())
        + f"; 1 job / per-batch {rate['replay_1_job'] / rate['per_batch']:.2f}x, "
        f"1 job / as filed {rate['replay_1_job'] / rate['as_filed']:.2f}x, "
        f"2 jobs / 1 job {rate['replay_2_jobs'] / rate['replay_1_job']:.2f}x"
    )
    return measured


def median_round(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """The round whose 1-job rate is the median (the lower middle one of an even number)."""
    ordered = sorted(rounds, key=lambda measured: measured["replay_1_job"]["events_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def _cpu(measure: dict) -> str:
    return f"{measure['cpu_us_per_event']:>6.1f} ({measure['cpu_s']} + {measure['postgres_cpu_s']} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small backlog (20000 events)")
    parser.add_argument("--events", type=int, help="backlog size (default 100000, quick 20000)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the replays this many times, one after the other in turn, and report the round "
        "whose 1-job rate is the median (a shared host's load drifts; default 1)",
    )
    args = parser.parse_args(argv)
    count = args.events or (20000 if args.quick else 100000)
    tag = uuid.uuid4().hex[:8]
    db_name, filed_db = f"passage_benchr_{tag}", f"passage_benchr_{tag}_filed"
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    settings = Settings(topic_prefix=f"benchr{tag}", log_format="json", database_url=create_database(admin_db, db_name))
    load = [os.getloadavg()[0]]
    try:
        create_topics(settings)
        backlog = fill(settings, records(settings, count))
        load.append(os.getloadavg()[0])
        with Cpu(admin_db, db_name) as cpu:
            decoding = asyncio.run(raw_consume(settings, count, decode=True))
        decoding.update(cpu.figures(count))
        raw = raw_read(settings, count)
        migrate_scratch(settings)  # outside the measures: each starts on a migrated database
        filed_url = create_database(admin_db, filed_db)
        rounds = [replays(settings, admin_db, db_name, filed_db, filed_url, count) for _ in range(max(args.rounds, 1))]
        chosen = median_round(rounds)
        batched, filed, one, two = (chosen[name] for name in REPLAYS)
        load.append(os.getloadavg()[0])
    finally:
        drop_scratch(settings, admin_db, [db_name, filed_db])
    rows = [
        summary_row(
            "rebuild rate (passage replay, 1 job)",
            one["events_per_s"],
            "events/s",
            "raw aiokafka consumer + events.decode",
            decoding["events_per_s"],
        ),
        summary_row(
            "rebuild rate (passage replay, 1 job)",
            one["events_per_s"],
            "events/s",
            "per-batch replay (apply_batch per poll), same topic",
            batched["events_per_s"],
        ),
        *(
            [
                summary_row(
                    "rebuild rate (passage replay, 1 job)",
                    one["events_per_s"],
                    "events/s",
                    f"passage replay as filed (issue 20, {FILED[:7]}), same topic",
                    filed["events_per_s"],
                )
            ]
            if "error" not in filed
            else []
        ),
        summary_row(
            "rebuild rate (passage replay, 2 jobs)",
            two["events_per_s"],
            "events/s",
            "passage replay, 1 job",
            one["events_per_s"],
        ),
        summary_row(
            "rebuild rate (passage replay, 1 job)",
            one["events_per_s"],
            "events/s",
            "raw kafka-python consumer, same topic",
            raw["events_per_s"],
        ),
    ]
    out = write_result(
        "replay",
        rows,
        events=count,
        partitions=settings.partitions,
        backlog=backlog,
        raw_consumer=raw,
        raw_consumer_with_decode=decoding,
        per_batch=batched,
        as_filed={"commit": FILED, **filed},
        replay_1_job=one,
        replay_2_jobs=two,
        rounds=rounds,
        load_average_1m=load,
        quick=args.quick,
    )
    print(
        f"backlog {count} events on {settings.partitions} partitions, all acknowledged "
        f"(filled in {backlog['fill_s']}s); load average {load}; replays: the median of {len(rounds)} round(s)"
    )
    print("                               events/s   CPU us/event (process + PostgreSQL)")
    print(f"raw aiokafka + events.decode: {decoding['events_per_s']:>10.1f}   {_cpu(decoding)}")
    print(f"raw kafka-python consumer:    {raw['events_per_s']:>10.1f}")
    print(f"per-batch replay (today's):   {batched['events_per_s']:>10.1f}   {_cpu(batched)}")
    if "error" in filed:
        print(f"replay as filed ({FILED[:7]}):    not measured: {filed['error']}")
    else:
        print(f"replay as filed ({FILED[:7]}):   {filed['events_per_s']:>10.1f}   {_cpu(filed)}")
    print(f"passage replay, 1 job:        {one['events_per_s']:>10.1f}   {_cpu(one)}")
    print(f"passage replay, 2 jobs:       {two['events_per_s']:>10.1f}   {_cpu(two)}")
    print(
        f"1 job / raw+decode {one['events_per_s'] / decoding['events_per_s']:.2f}x; "
        f"1 job / per-batch {one['events_per_s'] / batched['events_per_s']:.2f}x; "
        + ("" if "error" in filed else f"1 job / as filed {one['events_per_s'] / filed['events_per_s']:.2f}x; ")
        + f"2 jobs / 1 job {two['events_per_s'] / one['events_per_s']:.2f}x; {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
