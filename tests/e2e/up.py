"""`passage up` and `passage demo` as child processes, for the e2e tests that run them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from typing import Any

from services.config import Settings
from tests.polling import wait_until
from tests.servers import free_port, http_ok


def up_env(settings: Settings) -> dict[str, str]:
    """The environment of `passage up` and `passage demo` for `settings` (the sweep set long, so no
    time-rule alert lands between the demo's summary and the SQL that checks it)."""
    return {
        **os.environ,
        "PASSAGE_DATABASE_URL": settings.database_url,
        "PASSAGE_TOPIC_PREFIX": settings.topic_prefix,
        "PASSAGE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PASSAGE_VAR_DIR": str(settings.var_dir),
        "PASSAGE_PARTITIONS": str(settings.partitions),
        "PASSAGE_SWEEP_INTERVAL_S": "3600",
    }


def run_demo(settings: Settings, migrants: int, seed: int) -> dict[str, Any]:
    """`passage demo --json` against the running `up`; its summary."""
    demo = subprocess.run(
        [sys.executable, "-m", "services", "demo", "--migrants", str(migrants), "--seed", str(seed), "--json"],
        env=up_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    summary: dict[str, Any] = json.loads(demo.stdout)
    return summary


class Up:
    """`passage up` as a child process whose merged output is collected line by line."""

    def __init__(self, settings: Settings) -> None:
        self.ports = (free_port(), free_port())
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
            env=up_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip())

    def output(self) -> str:
        return "\n".join(self.lines[-60:])

    def _running(self) -> None:
        assert self.process.poll() is None, f"passage up exited early:\n{self.output()}"

    def wait_ready(self, timeout_s: float = 240) -> None:
        """Until the gateway and the query service both answer /readyz with 200."""
        pending = {f"http://127.0.0.1:{port}/readyz" for port in self.ports}

        def ready() -> bool:
            self._running()
            pending.difference_update({url for url in pending if http_ok(url, timeout_s=2)})
            return not pending

        wait_until(ready, timeout_s, "the gateway and the query service ready", 0.5, self.output)

    def started(self, timeout_s: float = 240) -> list[int]:
        """Until `up` has started its three parts; their pids (worker, gateway, query)."""

        def three() -> list[int] | None:
            self._running()
            pids = self.child_pids()
            return pids if len(pids) >= 3 else None

        return wait_until(three, timeout_s, "the three parts started", 0.2, self.output)

    def child_pids(self) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := re.search(r"\| started \(pid (\d+)\)", line))]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
