"""Notification latency: from the POST of a distress report to the webhook receiving its alert,
under a steady background load, next to the publish-to-visible latency of the same probes.

    python -m bench.notify [--quick] [--probes N] [--rate EVENTS_PER_S]

A real `passage gateway`, `passage worker` and `passage query` run as subprocesses on free
loopback ports, on a fresh topic prefix and database, with one webhook subscription (scope `*`)
pointing at a receiver in this process. bench.latency's background thread keeps ordinary events
flowing (default 100 events/s). Each probe is a `deployment.distress_reported` for a fresh case:
from the POST, the receiver notes when the signed DISTRESS delivery arrives, while the query API
is polled (every 20 ms) until the case shows the alert. Both clocks start at the same POST, so
the two figures are directly comparable: the notification goes through the alerts topic, the
notifier agent, the deliveries table and the subscription's sender, after the view commit.
Prints p50/p99 of both and writes JSON to bench/results/. Needs the broker and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import (
    PG_ADMIN,
    create_database,
    drop_scratch,
    free_port,
    start_service,
    stop,
    summary_row,
    wait_http_ok,
    write_result,
)
from bench.latency import POLL_S, Background, Http, envelope, stats
from services.config import Settings
from services.gateway.agencies import add_agency
from services.kafka.topics import create_topics
from services.notify import store
from services.notify.signing import signing_secret, verify
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate

WARMUP = 5


class Receiver:
    """A webhook receiver on loopback: the perf_counter at which each case's DISTRESS arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.bad_signatures = 0
        self.secret = ""
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                at = time.perf_counter()
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(204)
                self.end_headers()
                if not verify(receiver.secret, self.headers.get("Passage-Signature", ""), raw, time.time()):
                    receiver.bad_signatures += 1
                    return
                body = json.loads(raw)
                if body.get("code") == "DISTRESS" and body.get("change") == "raised":
                    with receiver.changed:
                        receiver.arrived.setdefault(body["case_id"], at)
                        receiver.changed.notify_all()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook-receiver").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/passage"


def probe(gateway: Http, query: Http, receiver: Receiver, deadline_s: float) -> tuple[float, float] | None:
    """(ms until the webhook got it, ms until visible through the query API), or None past the deadline."""
    case_id = f"PROBE-{uuid.uuid4().hex[:12]}"
    body = json.dumps(envelope("deployment.distress_reported", case_id, {"channel": "phone"})).encode()
    began = time.perf_counter()
    status, answer = gateway.call("POST", "/v1/events", body)
    if status != 202:
        raise SystemExit(f"the gateway answered {status} to a probe: {answer[:300]!r}")
    visible = None
    deadline = began + deadline_s
    while time.perf_counter() < deadline:
        if visible is None:
            status, answer = query.call("GET", f"/v1/cases/{case_id}")
            if status == 200 and any(a["code"] == "DISTRESS" for a in json.loads(answer)["alerts"]):
                visible = time.perf_counter()
        if visible is not None and case_id in receiver.arrived:
            return (receiver.arrived[case_id] - began) * 1000, (visible - began) * 1000
        with receiver.changed:
            receiver.changed.wait(POLL_S)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 probes instead of 150")
    parser.add_argument("--probes", type=int, help="probes (default 150, quick 40)")
    parser.add_argument("--rate", type=float, default=100.0, help="background events/s (default 100)")
    args = parser.parse_args(argv)
    probes = args.probes or (40 if args.quick else 150)
    tag = uuid.uuid4().hex[:8]
    db_name = f"passage_benchn_{tag}"
    admin_db = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    settings = Settings(
        topic_prefix=f"benchn{tag}",
        sweep_interval_s=3600.0,
        log_format="json",
        database_url=create_database(admin_db, db_name),
        worker_metrics_port=free_port(),
    )
    log_dir = Path(tempfile.mkdtemp(prefix="passage-bench-notify-"))
    processes, background, receiver = [], None, Receiver()
    try:
        create_topics(settings)
        engine = make_engine(settings)
        migrate(engine)
        key = add_agency(engine, settings.secret_key, "bench-helpline", "helpline").key
        token = add_officer(engine, settings.secret_key, "bench-notify", "supervisor", ["*"]).token
        sub = store.add_subscription(engine, "bench-helpline", receiver.url, "medium", ["*"], datetime.now(UTC))
        receiver.secret = signing_secret(settings.secret_key, sub.id, sub.salt)
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
        background = Background(gateway_port, key, args.rate)
        background.start()
        for i in range(WARMUP):  # the first waits for the worker to join its group
            if probe(gateway, query, receiver, 180 if i == 0 else 30) is None:
                raise SystemExit(f"a warm-up probe was not notified in time; see {log_dir}")
        sent_before, measured_from = background.sent, time.monotonic()
        notified, visible, missed = [], [], 0
        for i in range(probes):
            outcome = probe(gateway, query, receiver, 30)
            if outcome is None:
                missed += 1
            else:
                notified.append(outcome[0])
                visible.append(outcome[1])
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{probes} probes", flush=True)
        load_rate = (background.sent - sent_before) / (time.monotonic() - measured_from)
    finally:
        if background is not None:
            background.halt.set()
            background.join(timeout=30)
        for process in processes:
            stop(process)
        receiver.server.shutdown()
        drop_scratch(settings, admin_db, [db_name])
    if not notified:
        raise SystemExit(f"no probe was measured ({missed} missed); see the logs in {log_dir}")
    result = {"notified": stats(notified), "visible": stats(visible)}
    rows = [
        summary_row(
            f"notification latency {q} (POST -> signed webhook received)",
            result["notified"][f"{q}_ms"],
            "ms",
            f"publish-to-visible {q}, same probes",
            result["visible"][f"{q}_ms"],
        )
        for q in ("p50", "p99")
    ]
    out = write_result(
        "notify",
        rows,
        probes=probes,
        missed=missed,
        bad_signatures=receiver.bad_signatures,
        poll_interval_ms=POLL_S * 1000,
        quick=args.quick,
        background={
            "target_events_per_s": args.rate,
            "achieved_events_per_s": round(load_rate, 1),
            "refused": background.refused,
        },
        **result,
    )
    print(
        f"background load {load_rate:.0f} events/s through the gateway (target {args.rate:g}); "
        f"{probes} probes, missed {missed}, bad signatures {receiver.bad_signatures}"
    )
    print(f"{'':<40}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, name in (("POST -> webhook received", "notified"), ("POST -> visible through the query API", "visible")):
        print(f"{label:<40}{result[name]['p50_ms']:>9.1f}{result[name]['p99_ms']:>9.1f}{result[name]['max_ms']:>9.1f}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
