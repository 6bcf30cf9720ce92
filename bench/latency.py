"""Publish-to-visible latency under a steady background load, next to a raw Kafka round trip.

    python -m bench.latency [--quick] [--probes N] [--rate EVENTS_PER_S]

A real `passage gateway`, `passage worker` and `passage query` run as subprocesses on free
loopback ports, on a fresh topic prefix and a fresh PostgreSQL database. A thread keeps a steady
background load of ordinary events (welfare checks, batches of 10 through the gateway, default
100 events/s). Probes are `deployment.distress_reported` events for fresh cases: a probe's latency
runs from the POST to the moment `GET /v1/cases/{id}` (polled every 20 ms) answers with the case
and its DISTRESS alert.
Baseline, in the same run and interleaved probe by probe: the same envelope produced with
kafka-python (acks=all, the gateway's producer settings) to a plain topic and read back by a
consumer already positioned at its end. The gap between the two is what the pipeline adds
(HTTP, validation, the worker's batching and transaction, the query service).
Prints p50/p99 of both and writes JSON to bench/results/. Needs the broker and PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from sqlalchemy import text

from bench.common import (
    PG_ADMIN,
    create_database,
    free_port,
    percentile,
    start_service,
    stop,
    summary_row,
    wait_http_ok,
    write_result,
)
from services.config import Settings
from services.gateway.agencies import add_agency
from services.kafka.producer import producer_config
from services.kafka.topics import create_topics, topic_names
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.factories import new_event

POLL_S = 0.02
WARMUP = 5


class Http:
    """One keep-alive connection, reopened if the server closed it."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.headers = port, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body, self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class Background(threading.Thread):
    """Ordinary events through the gateway at a steady rate, in batches of 10 on a fixed schedule."""

    def __init__(self, port: int, key: str, rate: float) -> None:
        super().__init__(daemon=True, name="background-load")
        self.http, self.rate, self.halt = Http(port, key), rate, threading.Event()
        self.sent, self.refused, self.began, self.ended = 0, 0, 0.0, 0.0

    def run(self) -> None:
        batch, rng = 10, random.Random(3)
        interval = batch / self.rate
        self.began = next_at = time.monotonic()
        while not self.halt.is_set():
            body = {
                "events": [
                    new_event(
                        "deployment.welfare_check_completed",
                        {"channel": "phone", "wellbeing": "ok"},
                        case_id=f"BG-{rng.randrange(2000):06d}",
                    )
                    for _ in range(batch)
                ]
            }
            try:
                status, answer = self.http.call("POST", "/v1/events/batch", json.dumps(body).encode())
            except OSError:
                status, answer = 0, b""
            if status == 200 and b'"rejected"' not in answer:
                self.sent += batch
            else:
                self.refused += batch
            next_at += interval
            self.halt.wait(max(0.0, next_at - time.monotonic()))  # behind schedule: send at once
        self.ended = time.monotonic()

    def achieved(self) -> float:
        return self.sent / max(1e-9, (self.ended or time.monotonic()) - self.began)


def probe_pipeline(gateway: Http, query: Http, deadline_s: float) -> tuple[float, float] | None:
    """(ms until visible, ms until the gateway's 202) for one distress report; None past the deadline."""
    case_id = f"PROBE-{uuid.uuid4().hex[:12]}"
    body = json.dumps(new_event("deployment.distress_reported", {"channel": "phone"}, case_id=case_id)).encode()
    began = time.perf_counter()
    status, answer = gateway.call("POST", "/v1/events", body)
    if status != 202:
        raise SystemExit(f"the gateway answered {status} to a probe: {answer[:300]!r}")
    accepted = time.perf_counter()
    deadline = began + deadline_s
    while time.perf_counter() < deadline:
        status, answer = query.call("GET", f"/v1/cases/{case_id}")
        if status == 200 and any(a["code"] == "DISTRESS" for a in json.loads(answer)["alerts"]):
            return (time.perf_counter() - began) * 1000, (accepted - began) * 1000
        time.sleep(POLL_S)
    return None


def probe_raw(producer: KafkaProducer, consumer: KafkaConsumer, topic: str, deadline_s: float) -> float | None:
    """ms from producing one envelope (acks=all) to the consumer holding it; None past the deadline."""
    case_id = f"PROBE-{uuid.uuid4().hex[:12]}"
    value = json.dumps(new_event("deployment.distress_reported", {"channel": "phone"}, case_id=case_id)).encode()
    began = time.perf_counter()
    producer.send(topic, key=case_id.encode(), value=value).get(timeout=30)
    deadline = began + deadline_s
    while time.perf_counter() < deadline:
        for records in consumer.poll(timeout_ms=100).values():
            if any(r.key == case_id.encode() for r in records):
                return (time.perf_counter() - began) * 1000
    return None


def stats(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.5), 1),
        "p99_ms": round(percentile(samples, 0.99), 1),
        "max_ms": round(max(samples), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 probes instead of 200")
    parser.add_argument("--probes", type=int, help="probes of each kind (default 200, quick 50)")
    parser.add_argument("--rate", type=float, default=100.0, help="background events/s (default 100)")
    args = parser.parse_args(argv)
    probes = args.probes or (50 if args.quick else 200)
    tag = uuid.uuid4().hex[:8]
    db_name = f"passage_benchl_{tag}"
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    settings = Settings(
        topic_prefix=f"benchl{tag}",
        sweep_interval_s=3600.0,
        log_format="json",
        database_url=create_database(admin_db, db_name),
    )
    raw_topic = f"{settings.topic_prefix}.raw"
    log_dir = Path(tempfile.mkdtemp(prefix="passage-bench-latency-"))
    processes, background, clients = [], None, []
    try:
        create_topics(settings)
        kafka_admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","), **settings.kafka_client_options()
        )
        kafka_admin.create_topics([NewTopic(raw_topic, settings.partitions, 1)])
        kafka_admin.close()
        engine = make_engine(settings)
        migrate(engine)
        key = add_agency(engine, settings.secret_key, "bench-helpline", "helpline").key
        token = add_officer(engine, settings.secret_key, "bench-latency", "supervisor", ["*"]).token
        engine.dispose()
        gateway_port, query_port = free_port(), free_port()
        processes = [
            start_service(["worker"], settings, log_dir / "worker.log"),
            start_service(["gateway", "--port", str(gateway_port)], settings, log_dir / "gateway.log"),
            start_service(["query", "--port", str(query_port)], settings, log_dir / "query.log"),
        ]
        wait_http_ok(gateway_port, "/readyz", processes[1])
        wait_http_ok(query_port, "/readyz", processes[2])
        gateway, query = Http(gateway_port, key), Http(query_port, token)
        producer = KafkaProducer(**producer_config(settings))
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap.split(","),
            enable_auto_commit=False,
            **settings.kafka_client_options(),
        )
        clients = [producer, consumer]
        partitions = [TopicPartition(raw_topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_end(*partitions)
        for tp in partitions:
            consumer.position(tp)  # resolve the end offsets now, not during the first probe
        background = Background(gateway_port, key, args.rate)
        background.start()
        # The first probe waits for the worker to join its group; warm-up probes are not counted.
        for i in range(WARMUP):
            if probe_pipeline(gateway, query, 180 if i == 0 else 30) is None:
                raise SystemExit(f"a warm-up probe was not visible in time; see {log_dir}")
            probe_raw(producer, consumer, raw_topic, 30)
        sent_before, measured_from = background.sent, time.monotonic()
        visible, accepted, raw, missed = [], [], [], {"pipeline": 0, "raw": 0}
        rng = random.Random(11)
        for i in range(probes):
            outcome = probe_pipeline(gateway, query, 30)
            if outcome is None:
                missed["pipeline"] += 1
            else:
                visible.append(outcome[0])
                accepted.append(outcome[1])
            direct = probe_raw(producer, consumer, raw_topic, 30)
            if direct is None:
                missed["raw"] += 1
            else:
                raw.append(direct)
            time.sleep(rng.uniform(0, 0.05))  # probes off the background's beat
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{probes} probes", flush=True)
        load_rate = (background.sent - sent_before) / (time.monotonic() - measured_from)
    finally:
        if background is not None:
            background.halt.set()
            background.join(timeout=30)
        for client in clients:
            client.close()
        for process in processes:
            stop(process)
        _cleanup(settings, raw_topic, admin_db, db_name)
    if not visible or not raw:
        raise SystemExit(f"no probe was measured (missed {missed}); see the logs in {log_dir}")
    result = {"visible": stats(visible), "gateway_accepted": stats(accepted), "raw_round_trip": stats(raw)}
    rows = [
        summary_row(
            f"publish-to-visible latency {q} (POST -> case + alert readable)",
            result["visible"][f"{q}_ms"],
            "ms",
            f"raw produce acks=all -> consume {q}",
            result["raw_round_trip"][f"{q}_ms"],
        )
        for q in ("p50", "p99")
    ]
    out = write_result(
        "latency",
        rows,
        probes=probes,
        missed=missed,
        poll_interval_ms=POLL_S * 1000,
        background={
            "target_events_per_s": args.rate,
            "achieved_events_per_s": round(load_rate, 1),
            "refused": background.refused,
        },
        quick=args.quick,
        **result,
    )
    print(
        f"background load {load_rate:.0f} events/s through the gateway (target {args.rate:g}); "
        f"{probes} probes of each kind, missed {missed}"
    )
    print(f"{'':<40}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, name in (
        ("POST -> visible through the query API", "visible"),
        ("POST -> gateway 202", "gateway_accepted"),
        ("raw produce acks=all -> consumed", "raw_round_trip"),
    ):
        print(f"{label:<40}{result[name]['p50_ms']:>9.1f}{result[name]['p99_ms']:>9.1f}{result[name]['max_ms']:>9.1f}")
    print(f"written to {out}")
    return 0


def _cleanup(settings: Settings, raw_topic: str, admin_db, db_name: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), **settings.kafka_client_options())
    try:
        admin.delete_topics([*topic_names(settings), raw_topic])
    finally:
        admin.close()
    with admin_db.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    admin_db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
