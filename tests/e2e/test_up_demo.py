"""`passage up` + `passage demo` as a user runs them: real processes, real Kafka and PostgreSQL.

`up` runs on free ports with the session's fresh topic prefix, database and var directory; the
demo's summary must equal what the database holds; SIGTERM must stop every part and exit 0.
The sweep interval is set long so no time-rule alert lands between the summary and the SQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from services.config import Settings
from services.storage.db import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def settings(isolated_settings):
    """`passage up` and the demo count everything in the views: a database and topics of their own."""
    return isolated_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "PASSAGE_DATABASE_URL": settings.database_url,
        "PASSAGE_TOPIC_PREFIX": settings.topic_prefix,
        "PASSAGE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PASSAGE_VAR_DIR": str(settings.var_dir),
        "PASSAGE_PARTITIONS": str(settings.partitions),
        "PASSAGE_SWEEP_INTERVAL_S": "3600",
    }


class Up:
    """`passage up` as a child process whose merged output is collected line by line."""

    def __init__(self, settings: Settings) -> None:
        self.ports = (_free_port(), _free_port())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services",
                "up",
                "--gateway-port",
                str(self.ports[0]),
                "--query-port",
                str(self.ports[1]),
            ],
            env=_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip())

    def output(self) -> str:
        return "\n".join(self.lines[-60:])

    def wait_ready(self, timeout_s: float = 240) -> None:
        deadline = time.monotonic() + timeout_s
        pending = {f"http://127.0.0.1:{port}/readyz" for port in self.ports}
        while pending:
            assert self.process.poll() is None, f"passage up exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"not ready in {timeout_s}s:\n{self.output()}"
            for url in list(pending):
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        pending.discard(url)
                except httpx.TransportError:
                    pass
            time.sleep(0.5)

    def child_pids(self) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := re.search(r"\| started \(pid (\d+)\)", line))]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_up_then_demo_summary_matches_the_database_and_sigterm_stops_everything(settings):
    up = Up(settings)
    try:
        up.wait_ready()
        credentials = settings.var_dir / "demo-credentials.json"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        demo = subprocess.run(
            [sys.executable, "-m", "services", "demo", "--migrants", "30", "--seed", "5", "--json"],
            env=_env(settings),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stderr[-2000:]
        summary = json.loads(demo.stdout)

        engine = make_engine(settings)
        with engine.connect() as conn:
            stages = dict(conn.execute(text("SELECT coalesce(stage, 'none'), count(*) FROM cases GROUP BY 1")).all())
            alerts = dict(
                conn.execute(text("SELECT code, count(*) FROM alerts WHERE status = 'open' GROUP BY code")).all()
            )
            events = conn.execute(text("SELECT count(*) FROM timeline")).scalar_one()
            watchlisted = conn.execute(
                text("SELECT count(*) FROM alerts WHERE code = 'WATCHLISTED_PARTY'")
            ).scalar_one()
            listed = conn.execute(text("SELECT party_id FROM watchlist")).scalars().all()
        engine.dispose()
        assert summary["migrants"] == 30 and sum(stages.values()) == 30
        assert summary["cases_per_stage"] == stages
        assert summary["open_alerts_per_code"] == alerts
        work = summary["case_work"]  # SPEC section 10: the demo assigns, refers and answers too
        assert summary["events"] + work["events"] == events and summary["events"] > 30
        assert work["assigned_cases"] > 0 and sum(work["referrals_by_status"].values()) == work["assigned_cases"]
        assert set(work["referrals_by_status"]) <= {"made", "accepted", "declined", "completed"}
        assert summary["events_per_second_published"] > 0
        assert listed == [summary["watchlisted_employer"]]  # the demo's one watchlisting, no case of its own
        assert len(summary["watchlisted_party_alerts"]) == watchlisted
        assert len(summary["top_employers_by_abuse"]) <= 5
        assert len(summary["top_agents_by_fees"]) <= 5  # the demo's recruiting agencies with 5+ placements
        assert all(c["recruiting_agent_id"].startswith("demo-recruiting_agent") for c in summary["top_agents_by_fees"])

        children = up.child_pids()
        assert len(children) == 3 and all(_alive(pid) for pid in children)
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=120) == 0, up.output()
        assert not [pid for pid in children if _alive(pid)]
        assert "up      | stopped" in up.output()
    finally:
        up.kill()


def _started(up: Up) -> list[int]:
    deadline = time.monotonic() + 240
    while len(up.child_pids()) < 3:
        assert up.process.poll() is None, f"passage up exited early:\n{up.output()}"
        assert time.monotonic() < deadline, up.output()
        time.sleep(0.2)
    return up.child_pids()


def test_two_quick_signals_stop_every_part_at_once_and_exit_0(settings):
    up = Up(settings)
    try:
        children = _started(up)
        up.process.send_signal(signal.SIGINT)
        up.process.send_signal(signal.SIGTERM)  # impatient: the second one skips the grace period
        assert up.process.wait(timeout=60) == 0, up.output()
        assert not [pid for pid in children if _alive(pid)]
    finally:
        up.kill()


def test_when_a_part_dies_the_others_are_stopped_and_up_fails_naming_it(settings):
    up = Up(settings)
    try:
        worker, gateway, query = _started(up)
        os.kill(gateway, signal.SIGKILL)
        assert up.process.wait(timeout=120) == 1, up.output()
        assert "the gateway exited unexpectedly with code -9" in up.output()
        assert not [pid for pid in (worker, query) if _alive(pid)]
    finally:
        up.kill()
