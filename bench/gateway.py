"""Gateway ingest throughput: single events and batches of 500 through the real HTTP server
(`passage gateway` in a subprocess, on loopback), next to a raw kafka-python producer with the same
settings (acks=all, idempotent, linger 2 ms) in the same run, on the same broker.

    python -m bench.gateway [--quick] [--events N] [--concurrency C]

Prints a table and writes JSON to bench/results/. Topics get a fresh prefix and are deleted at the
end; the agency registry is a temporary SQLite file. Needs the broker (`passage kafka start`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer

from bench.common import summary_row, write_result
from services.config import ROOT, Settings
from services.gateway.agencies import add_agency
from services.kafka.producer import producer_config
from services.kafka.topics import create_topics, topic_names
from services.storage.db import create_all, make_engine

BATCH = 500


def event(case: int) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "deployment.welfare_check_completed",
        "schema_version": 1,
        "case_id": f"BENCH-{case:08d}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": None,
        "payload": {"channel": "phone", "wellbeing": "ok", "notes": "called, all well"},
    }


def run_concurrently(bodies: list[bytes], concurrency: int, send) -> tuple[float, list[float]]:
    """Send every body with `concurrency` threads; returns (seconds, per-call latencies in ms)."""
    latencies: list[float] = []
    lock, cursor = threading.Lock(), iter(bodies)

    def worker() -> None:
        state: dict = {}
        while True:
            with lock:
                body = next(cursor, None)
            if body is None:
                return
            began = time.perf_counter()
            send(state, body)
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


def http_sender(port: int, path: str, key: str, expect: int):
    def send(state: dict, body: bytes) -> None:
        if "conn" not in state:
            state["conn"] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn = state["conn"]
        conn.request("POST", path, body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        if response.status != expect or (path.endswith("batch") and b'"rejected"' in answer):
            raise RuntimeError(f"{path} answered {response.status}: {answer[:300]!r}")

    return send


def raw_sender(producer: KafkaProducer, topic: str):
    def send(_state: dict, body: bytes) -> None:
        values = json.loads(body)["events"] if body.startswith(b'{"events"') else [json.loads(body)]
        futures = [
            producer.send(
                topic,
                key=v["case_id"].encode(),
                value=json.dumps(v).encode(),
                headers=[
                    ("event_type", v["event_type"].encode()),
                    ("schema_version", b"1"),
                    ("event_id", v["event_id"].encode()),
                ],
            )
            for v in values
        ]
        for future in futures:
            future.get(timeout=30)

    return send


def start_gateway(settings: Settings, db_url: str) -> tuple[subprocess.Popen, int]:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PASSAGE_TOPIC_PREFIX": settings.topic_prefix,
        "PASSAGE_DATABASE_URL": db_url,
        "PASSAGE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PASSAGE_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "gateway", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the gateway did not become ready within 60 s; is Kafka running (`passage kafka start`)?")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the cost per event, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def row(name: str, events: int, seconds: float, latencies: list[float], cpu: float) -> dict:
    ordered = sorted(latencies)
    return {
        "mode": name,
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
        "cpu_ms_per_event": round(cpu * 1000 / events, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer events")
    parser.add_argument("--events", type=int, help="single events to send (default 2000; quick 300)")
    parser.add_argument("--batches", type=int, help="batches of 500 to send (default 20; quick 4)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent single-event clients (default 16)")
    parser.add_argument("--database-url", help="the agency registry (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    singles = args.events or (300 if args.quick else 2000)
    batches = args.batches or (4 if args.quick else 20)

    settings = Settings().model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:8]}"})
    create_topics(settings)
    workdir = Path(tempfile.mkdtemp(prefix="passage-bench-"))
    db_url = args.database_url or f"sqlite:///{workdir / 'registry.db'}"
    engine = make_engine(db_url)
    create_all(engine)
    key = add_agency(engine, settings.secret_key, "bench-helpline", "helpline").key
    engine.dispose()

    single_bodies = [json.dumps(event(i)).encode() for i in range(singles)]
    batch_bodies = [
        json.dumps({"events": [event(b * BATCH + i) for i in range(BATCH)]}).encode() for b in range(batches)
    ]
    concurrency, batch_concurrency = args.concurrency, 2
    rows = []
    process, port = start_gateway(settings, db_url)
    try:
        warm = [json.dumps(event(i)).encode() for i in range(50)]
        run_concurrently(warm, 4, http_sender(port, "/v1/events", key, 202))
        cpu = cpu_seconds(process.pid)
        seconds, lat = run_concurrently(single_bodies, concurrency, http_sender(port, "/v1/events", key, 202))
        cpu, used = cpu_seconds(process.pid), cpu_seconds(process.pid) - cpu
        rows.append(row(f"gateway single (c={concurrency})", singles, seconds, lat, used))
        seconds, lat = run_concurrently(
            batch_bodies, batch_concurrency, http_sender(port, "/v1/events/batch", key, 200)
        )
        rows.append(
            row(
                f"gateway batch {BATCH} (c={batch_concurrency})",
                batches * BATCH,
                seconds,
                lat,
                cpu_seconds(process.pid) - cpu,
            )
        )
    finally:
        process.terminate()
        process.wait(timeout=30)

    producer = KafkaProducer(**producer_config(settings))
    try:
        send = raw_sender(producer, settings.journey_topic)
        run_concurrently(warm, 4, send)
        cpu = time.process_time()  # this process: the raw producer plus JSON work of the sender
        seconds, lat = run_concurrently(single_bodies, concurrency, send)
        cpu, used = time.process_time(), time.process_time() - cpu
        rows.append(row(f"raw kafka-python per event (c={concurrency})", singles, seconds, lat, used))
        seconds, lat = run_concurrently(batch_bodies, batch_concurrency, send)
        rows.append(
            row(
                f"raw kafka-python {BATCH} at once (c={batch_concurrency})",
                batches * BATCH,
                seconds,
                lat,
                time.process_time() - cpu,
            )
        )
    finally:
        producer.close()
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","), **settings.kafka_client_options()
        )
        admin.delete_topics(topic_names(settings))
        admin.close()

    print(f"{'mode':<42}{'events':>8}{'seconds':>9}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/ev':>11}")
    for r in rows:
        print(
            f"{r['mode']:<42}{r['events']:>8}{r['seconds']:>9.2f}{r['events_per_s']:>10}{r['p50_ms']:>9.1f}"
            f"{r['p99_ms']:>9.1f}{r['cpu_ms_per_event']:>11.3f}"
        )
    summary = [
        summary_row(
            f"gateway ingest, {what}",
            passage["events_per_s"],
            "events/s",
            f"raw kafka-python producer, {raw_what}",
            raw["events_per_s"],
        )
        for what, raw_what, passage, raw in (
            (f"single events (c={concurrency})", f"per event (c={concurrency})", rows[0], rows[2]),
            (f"batches of {BATCH}", f"{BATCH} at once", rows[1], rows[3]),
        )
    ]
    out = write_result(
        "gateway",
        summary,
        quick=args.quick,
        kafka=settings.kafka_bootstrap,
        partitions=settings.partitions,
        registry=make_engine(db_url).dialect.name,
        rows=rows,
    )
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
