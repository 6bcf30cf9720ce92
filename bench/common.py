"""What every bench shares: where results go, the suite's summary rows, the machine they ran on,
and Passage's services as subprocesses on free loopback ports.

Each bench writes one JSON file `bench/results/<name>-<stamp>.json` through `write_result`; its
`summary` holds rows `{measure, value, unit, baseline_name, baseline_value}` (the baseline measured
in the same run), which `python -m bench` gathers into one table. The rest of the file is the
bench's own detail.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from services.config import ROOT, Settings

RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("PASSAGE_TEST_DATABASE_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres")


def stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def summary_row(measure: str, value: float, unit: str, baseline_name: str, baseline_value: float) -> dict:
    """One line of the suite's table: a Passage figure next to its baseline from the same run."""
    return {
        "measure": measure,
        "value": round(value, 2),
        "unit": unit,
        "baseline_name": baseline_name,
        "baseline_value": round(baseline_value, 2),
    }


def machine() -> dict:
    """CPUs, memory and the load average now: figures from a shared host mean little without them."""
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(pages * page_size / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def write_result(name: str, rows: list[dict], /, **detail) -> Path:
    """Write `bench/results/<name>-<stamp>.json`: the summary rows, the machine, then `detail`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{stamp()}.json"
    body = {
        "bench": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), **detail.pop("machine", {})},
        "summary": rows,
        **detail,
    }
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(settings: Settings) -> dict[str, str]:
    """The environment for a `passage` subprocess: every setting as PASSAGE_<NAME>, none inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSAGE_")}
    env.update({f"PASSAGE_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None})
    env["PASSAGE_LOG_FORMAT"] = "json"
    return env


def start_service(args: list[str], settings: Settings, log: Path) -> subprocess.Popen:
    """`python -m services <args>` with `settings`, its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services", *args],
            cwd=ROOT,
            env=service_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def wait_http_ok(port: int, path: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Poll GET `path` on loopback until it answers 200; SystemExit if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{' '.join(process.args[2:])} exited with {process.returncode}; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(
        f"{' '.join(process.args[2:])} did not answer {path} within {timeout_s:.0f}s; "
        "are Kafka (`passage kafka start`) and PostgreSQL running?"
    )


def stop(process: subprocess.Popen, grace_s: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def create_database(admin_db, name: str) -> str:
    """Create a scratch database through `admin_db` (an AUTOCOMMIT engine); returns its URL."""
    from sqlalchemy import text

    with admin_db.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def create_scratch(admin_url: str, prefix: str = "passage_bench") -> tuple[str, str]:
    """Create a fresh database on the server of `admin_url` (a URL allowed to CREATE DATABASE);
    returns its name and URL. `drop_database` removes it."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _on_server(admin_url, f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    _on_server(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _on_server(admin_url: str, statement: str) -> None:
    from sqlalchemy import text

    from services.storage.db import make_engine

    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def drop_scratch(settings: Settings, admin_db, names: list[str]) -> None:
    """Delete the bench's topics and drop its scratch databases."""
    from kafka import KafkaAdminClient
    from sqlalchemy import text

    from services.kafka.topics import topic_names

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), **settings.kafka_client_options())
    try:
        admin.delete_topics(topic_names(settings))
    finally:
        admin.close()
    with admin_db.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_db.dispose()
