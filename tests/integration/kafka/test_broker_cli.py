"""`passage kafka start|stop|status` on a private broker (its own port and var dir), through the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from services.kafka import broker
from tests.servers import free_port

pytestmark = pytest.mark.integration


def _passage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_start_twice_status_stop(tmp_path, kafka_bootstrap):  # kafka_bootstrap: jars already fetched
    port = free_port()
    env = {**os.environ, "PASSAGE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "PASSAGE_VAR_DIR": str(tmp_path)}
    try:
        first = _passage(env, "kafka", "start")
        assert first.returncode == 0, first.stderr
        assert "kafka started" in first.stdout

        second = _passage(env, "kafka", "start")
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout

        up = _passage(env, "kafka", "status")
        assert up.returncode == 0 and "answers" in up.stdout
    finally:
        stopped = _passage(env, "kafka", "stop")
    assert stopped.returncode == 0 and "kafka stopped" in stopped.stdout

    down = _passage(env, "kafka", "status")
    assert down.returncode == 1
    assert "does not answer" in down.stdout


def test_start_refuses_a_taken_port(tmp_path, kafka_bootstrap):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "PASSAGE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "PASSAGE_VAR_DIR": str(tmp_path)}
        result = _passage(env, "kafka", "start")
    assert result.returncode == 1
    assert f"port {port} is taken by a process that does not answer as a Kafka broker" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_start_uses_a_broker_another_checkout_started(tmp_path, kafka_bootstrap):
    """The session's broker was not started from `tmp_path` (this "checkout" has no pid file there):
    `kafka start` uses it and says so, and `kafka stop` leaves it running."""
    host, port = kafka_bootstrap.split(",")[0].rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        pytest.skip(f"`passage kafka start` manages loopback brokers only; the session's broker is {host}")
    env = {**os.environ, "PASSAGE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "PASSAGE_VAR_DIR": str(tmp_path)}

    started = _passage(env, "kafka", "start")
    assert started.returncode == 0, started.stderr
    assert f"this checkout did not start (another checkout's?) answers on 127.0.0.1:{port}; using it" in started.stdout

    stopped = _passage(env, "kafka", "stop")
    assert stopped.returncode == 0 and "kafka was not running" in stopped.stdout
    assert broker.answers(f"127.0.0.1:{port}")
