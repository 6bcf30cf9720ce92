"""`passage officer add` and `passage query` as an operator runs them: real processes on loopback,
the session's PostgreSQL database and Kafka topics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.polling import wait_until
from tests.servers import free_port, http_ok

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture
def env(topics) -> dict[str, str]:
    return {
        **os.environ,
        "PASSAGE_DATABASE_URL": topics.database_url,
        "PASSAGE_TOPIC_PREFIX": topics.topic_prefix,
        "PASSAGE_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "PASSAGE_VAR_DIR": str(topics.var_dir),
    }


def officer_add(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "services", "officer", "add", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_officer_token_opens_the_query_service_and_rotation_closes_the_old_one(env):
    first = officer_add(env, "--id", "e2e-sup", "--role", "supervisor", "--scope", "*")
    port = free_port()
    service = subprocess.Popen(
        [sys.executable, "-m", "services", "query", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if http_ok(f"{base}/readyz"):
                return True
            assert service.poll() is None, service.stderr.read()
            return False

        wait_until(ready, 60, "passage query answering /readyz", 0.2)

        assert httpx.get(f"{base}/v1/cases", headers={"Authorization": f"Bearer {first}"}).status_code == 200
        second = officer_add(env, "--id", "e2e-sup", "--role", "supervisor", "--scope", "*")
        assert httpx.get(f"{base}/v1/cases", headers={"Authorization": f"Bearer {first}"}).status_code == 401
        audit = httpx.get(f"{base}/v1/audit", headers={"Authorization": f"Bearer {second}"})
        assert audit.status_code == 200 and "items" in audit.json()
    finally:
        service.send_signal(signal.SIGTERM)
        # A graceful stop on SIGTERM is a success (services.web.serve_http).
        assert service.wait(timeout=30) == 0
