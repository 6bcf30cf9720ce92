"""`passage gateway`, `passage agency add` and `passage publish` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest

from services.config import ROOT
from tests.factories import new_event
from tests.integration.topics import records_with_event_ids
from tests.polling import wait_until
from tests.servers import free_port

pytestmark = pytest.mark.integration


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "PASSAGE_ENV": "test",
        "PASSAGE_DATABASE_URL": settings.database_url,
        "PASSAGE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PASSAGE_TOPIC_PREFIX": settings.topic_prefix,
    }


def _passage(settings, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services", *argv],
        cwd=ROOT,
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_agency_add_then_publish_a_file(topics, gateway_url, tmp_path):
    added = _passage(topics, "agency", "add", "--id", "cli-helpline", "--kind", "helpline")
    assert added.returncode == 0, added.stderr
    key = added.stdout.splitlines()[-1]
    assert key.startswith("pak_") and key not in added.stdout.splitlines()[0]

    good = [new_event(case_id=f"LK-2026-{i:06d}") for i in range(5)]
    lines = (
        [json.dumps(e) for e in good[:2]]
        + [json.dumps(new_event("skilling.certified"))]
        + [json.dumps(e) for e in good[2:]]
        + ["not json"]
    )
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")

    published = _passage(topics, "publish", str(path), "--key", key, "--url", gateway_url, "--batch-size", "2")

    assert published.returncode == 1  # some lines were rejected
    assert "7 events, 5 accepted, 2 rejected" in published.stdout
    assert "line 3 (event_id" in published.stdout and "line 7: not valid JSON" in published.stdout
    assert published.stderr.strip().splitlines()[-1].startswith("passage publish: 2 of 7 events were rejected")
    assert len(records_with_event_ids(topics, {e["event_id"] for e in good})) == 5

    again = _passage(topics, "publish", str(path), "--key", "pak_wrong", "--url", gateway_url)
    assert again.returncode == 1 and "refused the key" in again.stderr


def test_passage_gateway_serves_until_sigterm(topics):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "gateway", "--port", str(port)],
        cwd=ROOT,
        env=_env(topics),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def ready() -> httpx.Response:
            assert process.poll() is None, f"passage gateway exited: {process.stderr.read1().decode()}"
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)

        answer = wait_until(ready, 60, "passage gateway answering /readyz", 0.2, ignoring=(httpx.TransportError,))
        assert answer.status_code == 200, answer.text
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells how it stopped.
    assert code in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in process.stderr.read().decode()
