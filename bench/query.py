"""Query API latency at scale: 1,000,000 cases and 3,000,000 alerts in PostgreSQL (--quick: 100k/300k).

    python -m bench.query [--quick | --cases N] [--admin-url URL] [--keep | --reuse NAME]

Creates a dedicated database (dropped at the end unless --keep), builds the schema with the real
migrations, bulk-loads synthetic rows with COPY (indexes dropped during the load and rebuilt from
services/storage/tables.py after it), VACUUM ANALYZEs, then measures p50/p99 latency of
  GET /v1/cases/{id} (random ids), the first inbox page, GET /v1/stats/stages and /stats/skills
over HTTP against `passage query` in a subprocess (real uvicorn on loopback, one keep-alive
connection, sequential requests), next to the same SQL statements the endpoint runs, executed
directly with psycopg, interleaved with the requests (baseline; see `interleaved`). The stats endpoints read the counts the worker
keeps (services/worker/counts.py; here rebuilt by `recount` after the load): their baseline is
the aggregate over every case (and job offer) they ran before. Prints a table; writes JSON to
bench/results/. `--keep` leaves the database in place and `--reuse NAME` measures it again (same
--cases; migrations and the counts are brought up to date first), so an iteration skips the load.
Targets: case lookup p99 < 10 ms and at most 2x its SQL's p99, inbox first page p99 < 50 ms, stats
p99 < 20 ms. A stats row makes 300 requests and its baseline (the old aggregate, about a second a
call at 1M cases) 20 calls.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from bench.common import create_scratch, drop_database, summary_row, write_result
from bench.query_data import ALERT_COLUMNS, CASE_COLUMNS, OFFER_COLUMNS, World
from bench.query_sql import Baseline
from services.config import ROOT
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.storage.tables import Alert, Case, JobOffer
from services.worker.counts import recount
from services.worker.views import LIVE

LOCAL_ADMIN = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"
TARGETS_MS = {"case": 10.0, "inbox": 50.0, "stats": 20.0}
SECRET = "bench-secret-" + "x" * 32


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process has used, from /proc: the server's cost per request,
    which machine load does not inflate the way it inflates wall-clock latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(call: Callable[[int], None], n: int, warmup: int) -> list[float]:
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(warmup, warmup + n):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def interleaved(
    over_http: Callable[[int], None], direct: Callable[[int], None], n: int, n_direct: int, warmup: int
) -> tuple[list[float], list[float]]:
    """`n` timed calls of `over_http` and `n_direct` of `direct`, interleaved (a direct call after
    every `n // n_direct` HTTP calls, the same index), after `warmup` of each (at most `n_direct`
    direct ones). Both sides of a ratio then run in the same seconds, under the same load from
    the rest of the host, with the same client concurrency (one call at a time): measured one
    after the other, a minute's change of load on a shared host moved the ratio more than the code."""
    for i in range(warmup):
        over_http(i)
    for i in range(min(warmup, n_direct)):
        direct(i)
    every = max(1, n // n_direct)
    http_ms: list[float] = []
    direct_ms: list[float] = []
    for i in range(warmup, warmup + n):
        began = time.perf_counter()
        over_http(i)
        http_ms.append((time.perf_counter() - began) * 1000)
        if (i - warmup) % every == 0 and len(direct_ms) < n_direct:
            began = time.perf_counter()
            direct(i)
            direct_ms.append((time.perf_counter() - began) * 1000)
    return http_ms, direct_ms


def load(url: str, world: World) -> dict[str, float]:
    """COPY the rows in with the secondary indexes dropped, then rebuild them as tables.py defines them."""
    engine = make_engine(url)
    indexes = [*Case.__table__.indexes, *Alert.__table__.indexes, *JobOffer.__table__.indexes]
    timings = {}
    with engine.begin() as conn:
        for index in indexes:
            conn.execute(text(f'DROP INDEX "{index.name}"'))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        began = time.perf_counter()
        with conn.cursor() as cur:
            for table, columns, chunks in (
                ("cases", CASE_COLUMNS, world.case_chunks()),
                ("alerts", ALERT_COLUMNS, world.alert_chunks()),
                ("job_offers", OFFER_COLUMNS, world.offer_chunks()),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for chunk in chunks:
                        copy.write(chunk)
        conn.commit()
        timings["copy_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # sorts for the index builds
        for index in indexes:
            index.create(conn)
    timings["index_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:  # the counts the worker would have kept while writing these rows
        recount(conn, LIVE)
    timings["counts_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    timings["vacuum_s"] = time.perf_counter() - began
    engine.dispose()
    return timings


def refresh(url: str) -> dict[str, float]:
    """A kept database measured again: its counts rebuilt when a count table is empty (a migration
    added it since)."""
    engine = make_engine(url)
    began = time.perf_counter()
    with engine.begin() as conn:
        if any(conn.execute(select(table).limit(1)).first() is None for table in LIVE.counts):
            recount(conn, LIVE)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {"counts_s": time.perf_counter() - began}


class Http:
    """One keep-alive connection; reopened when uvicorn closed it while idle (its keep-alive timeout
    runs out while the baseline is measured; the first calls of each row are warm-up anyway)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str, token: str) -> bytes:
        try:
            self.conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
        return body


def serve(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PASSAGE_DATABASE_URL": url, "PASSAGE_SECRET_KEY": SECRET, "PASSAGE_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "query", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("passage query did not start within 60 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k cases / 300k alerts instead of 1M / 3M")
    parser.add_argument("--admin-url", default=LOCAL_ADMIN, help="a PostgreSQL URL allowed to CREATE DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    parser.add_argument("--cases", type=int, help="another size: this many cases and three times as many alerts")
    parser.add_argument("--reuse", metavar="NAME", help="measure a database a --keep run left (same --cases); kept")
    args = parser.parse_args(argv)
    n_cases, n_alerts = (100_000, 300_000) if args.quick else (1_000_000, 3_000_000)
    if args.cases:
        n_cases, n_alerts = args.cases, 3 * args.cases
    # Requests per row. A stats row's baseline is the old aggregate over every case (about a second
    # a call at 1M cases), so it runs fewer times than the endpoint: the endpoint's p99 needs a few
    # hundred requests to be more than the slowest of a handful.
    counts = {"case": 2000, "inbox": 500, "stats": 300, "stats_sql": 50 if args.quick else 20}

    if args.reuse:
        name, url = args.reuse, args.admin_url.rsplit("/", 1)[0] + f"/{args.reuse}"
    else:
        name, url = create_scratch(args.admin_url)
    print(f"database {name}: {n_cases:,} cases, {n_alerts:,} alerts", flush=True)
    server = None
    try:
        migrate(url)
        began = time.perf_counter()
        world = World(n_cases, n_alerts, seed=20261130)
        timings = {"generate_s": time.perf_counter() - began, **(refresh(url) if args.reuse else load(url, world))}
        print("loaded: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in timings.items()), flush=True)
        engine = make_engine(url)
        tokens = {
            oid: add_officer(engine, SECRET, oid, role, scopes).token
            for oid, role, scopes in (
                ("bench-all", "supervisor", ["*"]),
                ("bench-sa", "officer", ["dest:SA"]),
                ("bench-kerala", "officer", ["origin:Kerala"]),
            )
        }
        engine.dispose()
        port = free_port()
        server = serve(url, port)
        rows = measure(
            Http(port),
            server.pid,
            Baseline(url.replace("postgresql+psycopg://", "postgresql://"), SECRET),
            world,
            tokens,
            counts,
        )
        report(rows, n_cases, n_alerts, timings, name)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not (args.keep or args.reuse):
            drop_database(args.admin_url, name)
    return 0


def measure(
    client: Http, server_pid: int, baseline: Baseline, world: World, tokens: dict[str, str], counts: dict[str, int]
) -> list[dict]:
    """Each endpoint over HTTP and its statements directly, interleaved (`interleaved`), after a warm-up."""
    rng = random.Random(1)
    case_ids = [world.case_id(rng.randrange(world.n_cases)) for _ in range(counts["case"] + 50)]
    star, sa, kerala = tokens["bench-all"], tokens["bench-sa"], tokens["bench-kerala"]
    plan = [
        (
            "case",
            "GET /v1/cases/{id}",
            "*",
            counts["case"],
            lambda i: client.get(f"/v1/cases/{case_ids[i]}", star),
            lambda i: baseline.case(star, case_ids[i]),
        ),
        (
            "inbox",
            "GET /v1/alerts (first page, every status)",
            "*",
            counts["inbox"],
            lambda i: client.get("/v1/alerts", star),
            lambda i: baseline.inbox(star, None),
        ),
        (
            "inbox",
            "GET /v1/alerts?status=open&status=acknowledged",
            "*",
            counts["inbox"],
            lambda i: client.get("/v1/alerts?status=open&status=acknowledged", star),
            lambda i: baseline.inbox(star, ["acknowledged", "open"]),
        ),
        (
            "inbox",
            "GET /v1/alerts (first page, every status)",
            "dest:SA",
            counts["inbox"],
            lambda i: client.get("/v1/alerts", sa),
            lambda i: baseline.inbox(sa, None, dest="SA"),
        ),
        (
            "stats",
            "GET /v1/stats/stages",
            "*",
            counts["stats"],
            lambda i: client.get("/v1/stats/stages", star),
            lambda i: baseline.stages(star, None),
        ),
        (
            "stats",
            "GET /v1/stats/stages",
            "dest:SA",
            counts["stats"],
            lambda i: client.get("/v1/stats/stages", sa),
            lambda i: baseline.stages(sa, "SA"),
        ),
        (
            "stats",
            "GET /v1/stats/stages",
            "origin:Kerala",
            counts["stats"],
            lambda i: client.get("/v1/stats/stages", kerala),
            lambda i: baseline.stages(kerala, None, origin="Kerala"),
        ),
        (
            "stats",
            "GET /v1/stats/skills",
            "*",
            counts["stats"],
            lambda i: client.get("/v1/stats/skills", star),
            lambda i: baseline.skills(star, None),
        ),
        (
            "stats",
            "GET /v1/stats/skills",
            "dest:SA",
            counts["stats"],
            lambda i: client.get("/v1/stats/skills", sa),
            lambda i: baseline.skills(sa, "SA"),
        ),
        (
            "stats",
            "GET /v1/stats/skills",
            "origin:Kerala",
            counts["stats"],
            lambda i: client.get("/v1/stats/skills", kerala),
            lambda i: baseline.skills(kerala, None, origin="Kerala"),
        ),
    ]
    rows = []
    for kind, label, scope, n, over_http, direct in plan:
        warm = min(50, n)
        n_sql = counts["stats_sql"] if kind == "stats" else n
        cpu_before = cpu_ms(server_pid)
        http_ms, sql_ms = interleaved(over_http, direct, n, n_sql, warm)
        server_cpu = (cpu_ms(server_pid) - cpu_before) / (n + warm)
        rows.append(
            {
                "endpoint": label,
                "scope": scope,
                "kind": kind,
                "requests": n,
                "baseline_calls": n_sql,
                "server_cpu_ms": server_cpu,
                "http_p50_ms": percentile(http_ms, 0.5),
                "http_p99_ms": percentile(http_ms, 0.99),
                "sql_p50_ms": percentile(sql_ms, 0.5),
                "sql_p99_ms": percentile(sql_ms, 0.99),
            }
        )
        print(f"  measured {label} [{scope}]", flush=True)
    baseline.close()
    return rows


def report(rows: list[dict], n_cases: int, n_alerts: int, timings: dict, name: str) -> None:
    header = (
        f"{'endpoint':<50} {'scope':<8} {'n':>5} {'HTTP p50':>9} {'HTTP p99':>9} {'SQL p50':>8} "
        f"{'SQL p99':>8} {'srv CPU':>8} {'p99 x':>6}  target"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        target = TARGETS_MS.get(row["kind"])
        verdict = (
            ""
            if target is None
            or row["endpoint"].startswith("GET /v1/alerts?")
            or (row["scope"] != "*" and row["kind"] != "stats")
            else (f"p99 < {target:g} ms: {'met' if row['http_p99_ms'] < target else 'MISSED'}")
        )
        print(
            f"{row['endpoint']:<50} {row['scope']:<8} {row['requests']:>5} {row['http_p50_ms']:>8.2f}  "
            f"{row['http_p99_ms']:>8.2f}  {row['sql_p50_ms']:>7.2f}  {row['sql_p99_ms']:>7.2f}  "
            f"{row['server_cpu_ms']:>7.2f}  {row['http_p99_ms'] / row['sql_p99_ms']:>5.2f}  {verdict}"
        )
    print(
        "(milliseconds; srv CPU = CPU time of the query service process per request; p99 x = HTTP p99 / SQL p99, "
        "issue 20's case lookup target <= 2)"
    )
    scale = f"{n_cases:,} cases"
    summary = [
        summary_row(
            f"query {label} {q} ({scale})", row[f"http_{q}_ms"], "ms", f"same SQL via psycopg {q}", row[f"sql_{q}_ms"]
        )
        for label, row in (("GET /v1/cases/{id}", rows[0]), ("GET /v1/alerts first page", rows[1]))
        for q in ("p50", "p99")
    ]
    summary += [
        summary_row(
            f"query {label} {q} ({scale})",
            row[f"http_{q}_ms"],
            "ms",
            f"the aggregate over every case it replaced, via psycopg {q}",
            row[f"sql_{q}_ms"],
        )
        for label, row in (("GET /v1/stats/stages", rows[4]), ("GET /v1/stats/skills", rows[7]))
        for q in ("p50", "p99")
    ]
    path = write_result(
        "query",
        summary,
        cases=n_cases,
        alerts=n_alerts,
        database=name,
        load=timings,
        targets_ms_p99=TARGETS_MS,
        method="sequential requests on one keep-alive connection; SQL baseline = the endpoint's "
        "statements via psycopg on one connection, interleaved with the requests (same seconds, one call at a time)",
        results=rows,
    )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
