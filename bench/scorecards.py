"""Scorecard latency at scale: GET /v1/stats/employers over 1,000,000 cases and 50,000 employers
(--quick: 100,000 cases and 5,000 employers).

    python -m bench.scorecards [--quick | --cases N --employers M] [--admin-url URL] [--keep]

Creates a dedicated database (dropped at the end unless --keep), migrates it, COPYs the aggregate
rows the worker would keep for that many cases (`party_stats`, `party_wage_gaps` per party,
destination and origin region; employers skewed in size, each in one destination, recruiting from
one to three regions), VACUUM ANALYZEs, then measures p50/p99 of GET /v1/stats/employers (every
employer, scope `*`; and a `dest:SA` officer) over HTTP against `passage query` in a subprocess,
next to the endpoint's two statements (`scorecard_query`, `median_query`) run alone through
psycopg in the same run (baseline). The per-case `party_cases` rows are not loaded: the endpoint
does not read them.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bench.common import create_scratch, drop_database, summary_row, write_result
from bench.query import LOCAL_ADMIN, SECRET, Http, cpu_ms, free_port, percentile, serve, timed
from services.config import ROOT
from services.query.officers import add_officer
from services.query.routes_scorecards import _scope, median_query, party_stats, party_wage_gaps, scorecard_query
from services.query.scope import Jurisdiction
from services.storage.db import make_engine
from services.storage.migrate import migrate

DESTINATIONS = ("SA", "AE", "QA", "KW", "OM", "BH", "MY", "SG", "JP", "IL")
REGIONS = tuple(f"Region-{i:02d}" for i in range(20))
SLICE = ("party_kind", "party_id", "destination_country", "origin_region")
STATS = ("cases", "placed", "abuse", "wages", "contract", "fees", "open_critical")


def aggregate(n_cases: int, n_employers: int, n_agents: int, seed: int) -> tuple[dict, Counter]:
    """The aggregate rows the worker would hold for `n_cases` synthetic cases: counts per slice and
    wage-gap histograms. Employers are skewed in size, each in one destination, recruiting from one
    to three origin regions; agents work in one region each; one case in twelve goes badly."""
    rng = random.Random(seed)
    regions_of = [rng.sample(range(len(REGIONS)), rng.randint(1, 3)) for _ in range(n_employers)]
    agents_per_region = max(1, n_agents // len(REGIONS))
    stats: dict = defaultdict(lambda: [0] * len(STATS))
    gaps: Counter = Counter()
    for _ in range(n_cases):
        employer = int(n_employers * rng.random() ** 2)  # a few large employers, many small ones
        destination = DESTINATIONS[employer % len(DESTINATIONS)]
        region = rng.choice(regions_of[employer])
        agent = region * agents_per_region + rng.randrange(agents_per_region)
        placed = int(rng.random() < 0.7)
        bad = rng.random() < 0.08
        figures = [1, placed, *(int(bad and rng.random() < 0.5) for _ in range(4)), int(bad and rng.random() < 0.3)]
        bucket = (int(rng.uniform(40, 100)) if bad else 100) if placed and rng.random() < 0.6 else None
        for key in (
            ("employer", f"EMP-{employer:06d}", destination, REGIONS[region]),
            ("recruiting_agent", f"RA-{agent:05d}", destination, REGIONS[region]),
        ):
            row = stats[key]
            for i, value in enumerate(figures):
                row[i] += value
            if bucket is not None:
                gaps[key, bucket] += 1
    return stats, gaps


def load(url: str, n_cases: int, n_employers: int) -> dict[str, float]:
    """COPY the aggregate rows in; VACUUM ANALYZE."""
    timings = {}
    began = time.perf_counter()
    stats, gaps = aggregate(n_cases, n_employers, max(200, n_employers // 25), seed=20261206)
    timings["generate_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with psycopg.connect(_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY party_stats ({', '.join((*SLICE, *STATS))}) FROM STDIN") as copy:
            for key, row in stats.items():
                copy.write_row([*key, *row])
        with cur.copy(f"COPY party_wage_gaps ({', '.join((*SLICE, 'bucket', 'cases'))}) FROM STDIN") as copy:
            for (key, bucket), count in gaps.items():
                copy.write_row([*key, bucket, count])
        conn.commit()
    timings["copy_s"] = time.perf_counter() - began
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE party_stats"))
        conn.execute(text("VACUUM ANALYZE party_wage_gaps"))
    engine.dispose()
    print(f"aggregate rows: {len(stats):,} in party_stats, {len(gaps):,} in party_wage_gaps", flush=True)
    return timings


def statements(scopes: list[str]) -> list[str]:
    """The endpoint's two grouped statements for an officer with `scopes`, parameters inlined."""
    jurisdiction = Jurisdiction.of(scopes)
    queries = [
        scorecard_query(_scope(party_stats, jurisdiction, "employer", None), 0),
        median_query(_scope(party_wage_gaps, jurisdiction, "employer", None)),
    ]
    return [str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})) for q in queries]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scorecards", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k cases / 5k employers instead of 1M / 50k")
    parser.add_argument("--cases", type=int, help="another number of cases")
    parser.add_argument("--employers", type=int, help="another number of employers")
    parser.add_argument("--admin-url", default=LOCAL_ADMIN, help="a PostgreSQL URL allowed to CREATE DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    args = parser.parse_args(argv)
    n_cases, n_employers = (100_000, 5_000) if args.quick else (1_000_000, 50_000)
    n_cases, n_employers = args.cases or n_cases, args.employers or n_employers
    requests = 20 if args.quick else 10

    name, url = create_scratch(args.admin_url)
    print(f"database {name}: {n_cases:,} cases, {n_employers:,} employers", flush=True)
    server = None
    try:
        migrate(url)
        timings = load(url, n_cases, n_employers)
        print("loaded: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in timings.items()), flush=True)
        engine = make_engine(url)
        tokens = {
            oid: add_officer(engine, SECRET, oid, role, scopes).token
            for oid, role, scopes in (("bench-all", "supervisor", ["*"]), ("bench-sa", "officer", ["dest:SA"]))
        }
        engine.dispose()
        port = free_port()
        server = serve(url, port)
        client = Http(port)
        plan = [("*", tokens["bench-all"], statements(["*"])), ("dest:SA", tokens["bench-sa"], statements(["dest:SA"]))]
        results = []
        with psycopg.connect(_dsn(url)) as conn, conn.cursor() as cur:
            for scope, token, sql in plan:

                def direct(_i: int, sql=sql) -> None:
                    for one in sql:
                        cur.execute(one)
                        cur.fetchall()

                warm = 2
                cpu_before = cpu_ms(server.pid)
                sizes = []
                http_ms = timed(
                    lambda _i, token=token, sizes=sizes: sizes.append(len(client.get("/v1/stats/employers", token))),
                    requests,
                    warm,
                )
                server_cpu = (cpu_ms(server.pid) - cpu_before) / (requests + warm)
                sql_ms = timed(direct, requests, warm)
                results.append(
                    {
                        "scope": scope,
                        "requests": requests,
                        "response_bytes": sizes[-1],
                        "server_cpu_ms": server_cpu,
                        "http_p50_ms": percentile(http_ms, 0.5),
                        "http_p99_ms": percentile(http_ms, 0.99),
                        "sql_p50_ms": percentile(sql_ms, 0.5),
                        "sql_p99_ms": percentile(sql_ms, 0.99),
                    }
                )
                print(f"  measured GET /v1/stats/employers [{scope}]", flush=True)
        report(results, n_cases, n_employers, timings, name)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            drop_database(args.admin_url, name)
    return 0


def report(results: list[dict], n_cases: int, n_employers: int, timings: dict, name: str) -> None:
    header = f"{'GET /v1/stats/employers':<26} {'n':>4} {'HTTP p50':>9} {'HTTP p99':>9} {'SQL p50':>8} {'SQL p99':>8} {'srv CPU':>8} {'bytes':>11}"
    print(header)
    print("-" * len(header))
    for row in results:
        print(
            f"{'scope ' + row['scope']:<26} {row['requests']:>4} {row['http_p50_ms']:>8.1f}  {row['http_p99_ms']:>8.1f}  "
            f"{row['sql_p50_ms']:>7.1f}  {row['sql_p99_ms']:>7.1f}  {row['server_cpu_ms']:>7.1f}  {row['response_bytes']:>10,}"
        )
    print("(milliseconds; srv CPU = CPU time of the query service process per request)")
    scale = f"{n_cases:,} cases, {n_employers:,} employers"
    star = results[0]
    summary = [
        summary_row(
            f"scorecards GET /v1/stats/employers {q} ({scale})",
            star[f"http_{q}_ms"],
            "ms",
            f"same SQL via psycopg {q}",
            star[f"sql_{q}_ms"],
        )
        for q in ("p50", "p99")
    ]
    path = write_result(
        "scorecards",
        summary,
        cases=n_cases,
        employers=n_employers,
        database=name,
        load=timings,
        method="sequential requests on one keep-alive connection; SQL baseline = the endpoint's "
        "grouped statement via psycopg on one connection, same run",
        results=results,
    )
    print(f"wrote {path.relative_to(ROOT)}")


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


if __name__ == "__main__":
    sys.exit(main())
