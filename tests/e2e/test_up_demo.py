"""`passage up` + `passage demo` as a user runs them: real processes, real Kafka and PostgreSQL.

`up` runs on free ports with the session's fresh topic prefix, database and var directory; the
demo's summary must equal what the database holds; SIGTERM must stop every part and exit 0.
The sweep interval is set long so no time-rule alert lands between the summary and the SQL.
"""

from __future__ import annotations

import os
import signal
import stat

import pytest
from sqlalchemy import text

from services.storage.db import make_engine
from tests.e2e.up import Up, run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def settings(isolated_settings):
    """`passage up` and the demo count everything in the views: a database and topics of their own."""
    return isolated_settings


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
        summary = run_demo(settings, migrants=30, seed=5)

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


def test_two_quick_signals_stop_every_part_at_once_and_exit_0(settings):
    up = Up(settings)
    try:
        children = up.started()
        up.process.send_signal(signal.SIGINT)
        up.process.send_signal(signal.SIGTERM)  # impatient: the second one skips the grace period
        assert up.process.wait(timeout=60) == 0, up.output()
        assert not [pid for pid in children if _alive(pid)]
    finally:
        up.kill()


def test_when_a_part_dies_the_others_are_stopped_and_up_fails_naming_it(settings):
    up = Up(settings)
    try:
        worker, gateway, query = up.started()
        os.kill(gateway, signal.SIGKILL)
        assert up.process.wait(timeout=120) == 1, up.output()
        assert "the gateway exited unexpectedly with code -9" in up.output()
        assert not [pid for pid in (worker, query) if _alive(pid)]
    finally:
        up.kill()
