"""One time-rule sweep over 1,000,000 deployed cases in PostgreSQL, of which 10,000 are due.

    python -m bench.sweep [--cases N] [--due D]

Creates a scratch database (dropped at the end), migrates it with the real migrations and COPYs
N cases in stage `deployed` (secondary indexes dropped during the load and rebuilt from
services/storage/tables.py after it, then ANALYZE):
- N-D cases whose next_deadline lies in the future. Their `state` is a minimal '{}': the sweep
  reads only rows with next_deadline <= now, so it never looks at these states.
- D due cases (next_deadline in the past), spread evenly through the table, each with a REAL
  folded CaseState: one deployed case built with tests.factories (registered, contract signed,
  departed, arrived, employment started, one wage in January 2025), its case_id substituted into
  the JSON text. At the sweep it owes WAGE_UNPAID and NO_WELFARE_CHECK, so 2 alerts per due case.

Then times `services.worker.sweep.sweep_once` three times, owning every partition, with a
publisher that only counts records (no Kafka): the indexed range scan on ix_cases_next_deadline
the worker runs. Baseline in the same run: the same sweep three times on an engine whose
connections `SET enable_indexscan = off` and `enable_bitmapscan = off`, i.e. a full scan of the
cases table for each page of due cases. The sweep never writes, so every run sees the same rows.
Prints a table and writes JSON to bench/results/sweep-<stamp>.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import create_engine, event, text

from bench.common import PG_ADMIN, create_database, stamp, summary_row, write_result
from services.config import Settings
from services.domain import next_deadline
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.storage.tables import Case
from services.worker.sweep import sweep_once
from tests.factories import CASE, RULES, fold, make

COLUMNS = ["case_id", "stage", "wellbeing", "open_alerts", "top_severity_rank", "event_count", "next_deadline", "state"]
CHUNK = 5000
RUNS = 3


class CountingPublisher:
    """Stands in for the Kafka Publisher: counts the records it is handed, sends nothing."""

    def __init__(self) -> None:
        self.count = 0

    def publish(self, records) -> None:
        self.count += len(records)


def due_state() -> tuple[str, datetime]:
    """A real deployed case owing a wage (and a welfare check): its state JSON and next_deadline."""
    state, _ = fold(
        [
            make("migrant.registered", 0),
            make("recruitment.contract_signed", 10),
            make("deployment.departed", 20),
            make("deployment.arrived", 21),
            make("deployment.employment_started", 22),
            make("deployment.wage_paid", 30, period="2025-01"),
        ]
    )
    # COPY text format: a backslash in the JSON (escapes inside strings) must be doubled.
    return state.model_dump_json().replace("\\", "\\\\"), next_deadline(state, RULES)


def chunks(n: int, due: int, now: datetime) -> Iterator[bytes]:
    """COPY text of n deployed cases; every (n // due)-th of them is due, the rest are not."""
    template, deadline = due_state()
    stride = n // due if due else n + 1
    lines, made = [], 0
    for i in range(n):
        case_id = f"SW-{i:08d}"
        if i % stride == 0 and made < due:
            made += 1
            line = (case_id, "deployed", "ok", "0", "0", "6", deadline.isoformat(), template.replace(CASE, case_id))
        else:
            future = now + timedelta(days=1 + i % 365, seconds=i % 86400)
            line = (case_id, "deployed", "ok", "0", "0", "6", future.isoformat(), "{}")
        lines.append("\t".join(line))
        if len(lines) == CHUNK:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def load(url: str, n: int, due: int, now: datetime) -> dict[str, float]:
    engine = make_engine(url)
    migrate(engine)
    timings = {}
    with engine.begin() as conn:
        for index in Case.__table__.indexes:
            conn.execute(text(f'DROP INDEX "{index.name}"'))
    began = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for chunk in chunks(n, due, now):
                copy.write(chunk)
        conn.commit()
    timings["copy_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for index in Case.__table__.indexes:
            index.create(conn)
    timings["index_s"] = time.perf_counter() - began
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
    engine.dispose()
    return {k: round(v, 1) for k, v in timings.items()}


def full_scan_engine(url: str):
    """An engine whose every connection may not use an index: the sweep's query becomes a full scan."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _no_index(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute("SET enable_indexscan = off")
            cur.execute("SET enable_bitmapscan = off")
        dbapi_connection.commit()

    return engine


def time_sweeps(engine, settings: Settings, now: datetime) -> tuple[list[float], int]:
    owned = set(range(settings.partitions))
    seconds, published = [], 0
    for _ in range(RUNS):
        publisher = CountingPublisher()
        began = time.perf_counter()
        published = sweep_once(settings, engine, publisher, owned, settings.partitions, now)
        seconds.append(round(time.perf_counter() - began, 3))
        assert publisher.count == published, f"publisher saw {publisher.count} records, sweep said {published}"
    return seconds, published


def plan_of(engine, now: datetime) -> str:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "EXPLAIN SELECT case_id, next_deadline, state FROM cases WHERE next_deadline <= :now "
                "ORDER BY next_deadline, case_id LIMIT 1000"
            ),
            {"now": now},
        ).all()
    return " / ".join(r[0].strip() for r in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args(argv)
    if not 0 <= args.due <= args.cases:
        parser.error(f"--due must be between 0 and --cases ({args.cases}), got {args.due}")
    settings, now = Settings(), datetime.now(UTC)
    name = f"passage_bench_sweep_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    url = create_database(admin, name)
    try:
        print(f"loading {args.cases:,} cases ({args.due:,} due) into {name} ...", flush=True)
        timings = load(url, args.cases, args.due, now)
        print(f"  COPY {timings['copy_s']} s, indexes {timings['index_s']} s", flush=True)
        indexed, baseline = make_engine(url), full_scan_engine(url)
        plans = {"sweep": plan_of(indexed, now), "baseline": plan_of(baseline, now)}
        sweep_s, alerts = time_sweeps(indexed, settings, now)
        base_s, base_alerts = time_sweeps(baseline, settings, now)
        indexed.dispose()
        baseline.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert alerts == base_alerts, f"indexed sweep emitted {alerts} alerts, full scan {base_alerts}"
    median, base_median = statistics.median(sweep_s), statistics.median(base_s)
    print(
        f"\n| cases | due | sweep s (runs) | baseline s: full scan (runs) | alerts emitted |\n|---|---|---|---|---|\n"
        f"| {args.cases:,} | {args.due:,} | {median:.2f} ({', '.join(map(str, sweep_s))}) "
        f"| {base_median:.2f} ({', '.join(map(str, base_s))}) | {alerts:,} |"
    )
    rows = [
        summary_row(
            f"one sweep, {args.cases:,} cases / {args.due:,} due",
            median,
            "s",
            "same sweep, index scans off (full scan)",
            base_median,
        )
    ]
    path = write_result(
        "sweep",
        rows,
        cases=args.cases,
        due=args.due,
        alerts_emitted=alerts,
        sweep_s=sweep_s,
        baseline_s=base_s,
        load=timings,
        plans=plans,
        run_stamp=stamp(),
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
