"""Officer console pages at scale, next to the JSON API serving the same data in the same run.

    python -m bench.console [--quick | --cases N] [--admin-url URL] [--keep]

Loads the query bench's world (bench.query: 1,000,000 cases and 3,000,000 alerts; --quick 100k /
300k) plus an eight-event timeline for each case the bench reads, starts `passage query` in a
subprocess, signs in to the console like a browser (sign-in form, session cookie), then measures,
sequentially on one keep-alive connection each:
  the case page  GET /console/cases/{id}   against  GET /v1/cases/{id} + GET /v1/cases/{id}/timeline
  the inbox      GET /console/inbox        against  GET /v1/alerts?status=open&status=acknowledged&limit=25
(the console's case page shows the case and its timeline, its inbox the first 25 unresolved alerts:
the API calls are the same data). p50/p99 wall time per page and the server's CPU per page.
Target: the console within 1.5x of the API. Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import psycopg

from bench.common import create_scratch, drop_database, summary_row, write_result
from bench.query import LOCAL_ADMIN, SECRET, cpu_ms, free_port, load, percentile, serve, timed
from bench.query_data import END, World
from services.config import ROOT
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate

TARGET_RATIO = 1.5
PAGE = 25  # the console's page size


def timeline_rows(case_id: str, n: int) -> list[tuple]:
    """Eight stamped envelopes of one journey, as the worker stores them in `timeline`."""
    offer = {
        "offer_id": "O-1",
        "employer_id": "E-1",
        "employer_name": "Al Noor Contracting",
        "destination_country": "SA",
        "occupation_code": "7112",
        "monthly_wage": {"amount": "1500.00", "currency": "SAR"},
        "contract_months": 24,
        "recruiting_agent_id": "RA-12",
    }
    kinds = [
        ("migrant.registered", "skilling_body", {"given_name": "Asha", "family_name": "Kumari", "nationality": "IN"}),
        (
            "skilling.certified",
            "skilling_body",
            {"certificate_id": "C1", "occupation_code": "7112", "level": 3, "issuer": "NSDC"},
        ),
        ("recruitment.job_offer_made", "recruiting_agent", offer),
        (
            "recruitment.contract_signed",
            "recruiting_agent",
            {
                "offer_id": "O-1",
                "contract_id": "K-1",
                "employer_id": "E-1",
                "monthly_wage": offer["monthly_wage"],
                "contract_months": 24,
            },
        ),
        (
            "recruitment.emigration_clearance_granted",
            "emigration_authority",
            {"clearance_id": "CL", "destination_country": "SA"},
        ),
        ("deployment.departed", "emigration_authority", {"destination_country": "SA"}),
        ("deployment.arrived", "mission", {"destination_country": "SA"}),
        ("deployment.wage_paid", "employer", {"period": "2026-09", "amount": {"amount": "1500.00", "currency": "SAR"}}),
    ]
    rows = []
    for k, (event_type, kind, payload) in enumerate(kinds):
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case_id}/{k}"))
        at = END - timedelta(days=200 - 20 * k + n % 7)
        envelope = {
            "event_id": event_id,
            "event_type": event_type,
            "schema_version": 1,
            "case_id": case_id,
            "occurred_at": at.isoformat(),
            "correlation_id": None,
            "payload": payload,
            "recorded_at": at.isoformat(),
            "source": {"agency_id": f"bench-{kind}", "agency_kind": kind},
        }
        rows.append((event_id, case_id, event_type, at, at, json.dumps(envelope)))
    return rows


def add_timelines(url: str, case_ids: list[str]) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY timeline (event_id, case_id, event_type, occurred_at, recorded_at, envelope) FROM STDIN"
        ) as copy:
            for n, case_id in enumerate(sorted(set(case_ids))):
                for row in timeline_rows(case_id, n):
                    copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE timeline")


class Browser:
    """One keep-alive connection holding a console session cookie (or a bearer token for the API)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies, self.headers = port, {}, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, extra: dict | None = None) -> tuple[int, bytes]:
        headers = {**self.headers, **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionError):  # idle keep-alive closed by uvicorn
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.read()

    def get(self, path: str) -> bytes:
        status, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        return body

    def sign_in(self, token: str) -> None:
        page = self.get("/console/sign-in").decode()
        csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, body = self.request(
            "POST",
            "/console/sign-in",
            urlencode({"token": token, "csrf_token": csrf_token}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 303 or "passage_console" not in self.cookies:
            raise RuntimeError(f"console sign-in answered {status}: {body[:300]!r}")


def measure(port: int, server_pid: int, token: str, case_ids: list[str], counts: dict[str, int]) -> list[dict]:
    console, api = Browser(port), Browser(port)
    console.sign_in(token)
    api.headers = {"Authorization": f"Bearer {token}"}

    def api_case(i: int) -> None:
        api.get(f"/v1/cases/{case_ids[i]}")
        api.get(f"/v1/cases/{case_ids[i]}/timeline")

    plan = [
        (
            "case page",
            "GET /console/cases/{id}",
            lambda i: console.get(f"/console/cases/{case_ids[i]}"),
            "GET /v1/cases/{id} + /timeline",
            api_case,
            counts["case"],
        ),
        (
            "inbox",
            "GET /console/inbox",
            lambda i: console.get("/console/inbox"),
            f"GET /v1/alerts?status=open&status=acknowledged&limit={PAGE}",
            lambda i: api.get(f"/v1/alerts?status=open&status=acknowledged&limit={PAGE}"),
            counts["inbox"],
        ),
    ]
    rows = []
    for kind, page_label, page_call, api_label, api_call, n in plan:
        warm = min(50, n)
        row = {"kind": kind, "requests": n}
        for side, label, call in (("console", page_label, page_call), ("api", api_label, api_call)):
            cpu_before = cpu_ms(server_pid)
            samples = timed(call, n, warm)
            row.update(
                {
                    f"{side}_label": label,
                    f"{side}_p50_ms": percentile(samples, 0.5),
                    f"{side}_p99_ms": percentile(samples, 0.99),
                    f"{side}_cpu_ms": (cpu_ms(server_pid) - cpu_before) / (n + warm),
                }
            )
        rows.append(row)
        print(f"  measured the {kind}", flush=True)
    return rows


def report(rows: list[dict], n_cases: int, n_alerts: int, timings: dict, name: str) -> None:
    header = f"{'page':<10} {'n':>5} {'console p50':>11} {'p99':>7} {'CPU':>6}   {'API p50':>8} {'p99':>7} {'CPU':>6}  p50 ratio"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row["console_p50_ms"] / row["api_p50_ms"]
        print(
            f"{row['kind']:<10} {row['requests']:>5} {row['console_p50_ms']:>11.2f} {row['console_p99_ms']:>7.2f} "
            f"{row['console_cpu_ms']:>6.2f}   {row['api_p50_ms']:>8.2f} {row['api_p99_ms']:>7.2f} "
            f"{row['api_cpu_ms']:>6.2f}  {ratio:.2f}x ({'within' if ratio <= TARGET_RATIO else 'OVER'} {TARGET_RATIO}x)"
        )
    print("(milliseconds; CPU = CPU time of the query service process per page or per API equivalent)")
    scale = f"{n_cases:,} cases"
    summary = [
        summary_row(
            f"console {row['kind']} {q} ({scale})",
            row[f"console_{q}_ms"],
            "ms",
            f"JSON API same data ({row['api_label']}) {q}",
            row[f"api_{q}_ms"],
        )
        for row in rows
        for q in ("p50", "p99")
    ]
    path = write_result(
        "console",
        summary,
        cases=n_cases,
        alerts=n_alerts,
        database=name,
        load=timings,
        target_ratio=TARGET_RATIO,
        results=rows,
        method="sequential requests on one keep-alive connection per client; console with a "
        "session cookie, API with a bearer token; same server, same run",
    )
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k cases / 300k alerts instead of 1M / 3M")
    parser.add_argument("--admin-url", default=LOCAL_ADMIN, help="a PostgreSQL URL allowed to CREATE DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    parser.add_argument("--cases", type=int, help="another size: this many cases and three times as many alerts")
    args = parser.parse_args(argv)
    n_cases, n_alerts = (100_000, 300_000) if args.quick else (1_000_000, 3_000_000)
    if args.cases:
        n_cases, n_alerts = args.cases, 3 * args.cases
    counts = {"case": 300 if args.quick else 1000, "inbox": 300 if args.quick else 1000}

    name, url = create_scratch(args.admin_url, "passage_bench_console")
    print(f"database {name}: {n_cases:,} cases, {n_alerts:,} alerts", flush=True)
    server = None
    try:
        migrate(url)
        began = time.perf_counter()
        world = World(n_cases, n_alerts, seed=20261130)
        timings = {"generate_s": time.perf_counter() - began, **load(url, world)}
        rng = random.Random(1)
        case_ids = [world.case_id(rng.randrange(world.n_cases)) for _ in range(counts["case"] + 50)]
        add_timelines(url, case_ids)
        print("loaded: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in timings.items()), flush=True)
        engine = make_engine(url)
        token = add_officer(engine, SECRET, "bench-all", "supervisor", ["*"]).token
        engine.dispose()
        port = free_port()
        server = serve(url, port)
        report(measure(port, server.pid, token, case_ids, counts), n_cases, n_alerts, timings, name)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            drop_database(args.admin_url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
