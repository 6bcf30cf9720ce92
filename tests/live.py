"""The live parts for integration and e2e tests: journeys published on the real log, `passage worker`
as a process, and the views read back (a snapshot to compare with a replay)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import events
from services.config import ROOT, Settings
from services.demo.journeys import generate
from services.kafka.producer import Publisher, Record
from services.worker.views import LIVE


def stamped(envelope: dict, kind: str, recorded_at: datetime | None = None) -> bytes:
    """The record the gateway would have written for this publisher-form envelope."""
    data = dict(
        envelope,
        recorded_at=(recorded_at or datetime.now(UTC)).isoformat(),
        source={"agency_id": f"test-{kind}", "agency_kind": kind},
    )
    return json.dumps(data).encode()


def journey_records(settings: Settings, count: int, seed: int) -> list[Record]:
    """`count` realistic journeys (services.demo), each case's events in order."""
    return [
        Record(settings.journey_topic, j.case_id, stamped(e.envelope, e.kind))
        for j in generate(count, seed=seed, now=datetime.now(UTC))
        for e in j.events
    ]


def event_records(settings: Settings, stream: Iterable[events.Envelope]) -> list[Record]:
    return [Record(settings.journey_topic, e.case_id, events.encode(e)) for e in stream]


def publish(settings: Settings, records: list[Record]) -> None:
    """Publish and wait until the broker acknowledged every record."""
    publisher = Publisher(settings)
    try:
        for start in range(0, len(records), 2000):
            publisher.publish(records[start : start + 2000])
    finally:
        publisher.close()


def event_ids(records: Iterable[Record]) -> set[str]:
    ids = set()
    for record in records:
        try:
            ids.add(json.loads(record.value)["event_id"])
        except (ValueError, KeyError, TypeError):
            pass  # a poison record
    return ids


def timeline_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(LIVE.timeline.c.event_id)).scalars())


def timeline_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LIVE.timeline)).scalar_one()


def snapshot(engine: Engine) -> dict[str, list[dict]]:
    """Every row of the folded views (the counts included), in primary key order."""
    with engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in LIVE.folded
        }


class WorkerProcess:
    """`passage worker` in its own process, configured through the environment like in production."""

    def __init__(self, settings: Settings, log_path: Path, **overrides: object) -> None:
        self.env = {
            **os.environ,
            **{
                f"PASSAGE_{k.upper()}": str(v)
                for k, v in {
                    "env": "test",
                    "kafka_bootstrap": settings.kafka_bootstrap,
                    "database_url": settings.database_url,
                    "topic_prefix": settings.topic_prefix,
                    "partitions": settings.partitions,
                    "var_dir": settings.var_dir,
                    "sweep_interval_s": settings.sweep_interval_s,
                    "worker_batch_size": settings.worker_batch_size,
                    "log_format": "json",
                    **overrides,
                }.items()
            },
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill9(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self, timeout_s: float = 90.0) -> int:
        """SIGTERM, as systemd or Kubernetes would, and the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def started(self) -> bool:
        """It logged "worker started": its app runs and it handles SIGTERM (before, SIGTERM kills it)."""
        return '"worker started"' in self.log_path.read_text(errors="replace")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]
