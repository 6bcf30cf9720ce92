"""The fault tests' harness: Passage's services as real subprocesses, and polling with deadlines.

`Service` starts `passage gateway` / `passage worker` with the environment a
test's `Settings` describe (PASSAGE_DATABASE_URL, PASSAGE_TOPIC_PREFIX, PASSAGE_KAFKA_BOOTSTRAP,
PASSAGE_VAR_DIR, ...), stops it (SIGTERM, then SIGKILL after a grace) or kills it (-9), and keeps
its output in a log file whose tail goes into assertion messages. Every wait has a deadline.
Children ask the kernel for SIGKILL when the test process dies, so a crashed run leaves no orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from services.config import Settings
from tests.polling import wait_until
from tests.servers import free_port, http_ok

PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment for `settings`: every field as PASSAGE_<NAME>, nothing inherited
    from this process's own PASSAGE_ variables, JSON logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSAGE_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"PASSAGE_{name.upper()}"] = str(value)
    env["PASSAGE_LOG_FORMAT"] = "json"
    env.update(extra)
    return env


def seconds_until(
    predicate: Callable[[], object],
    timeout_s: float,
    what: str,
    interval_s: float = 0.2,
    explain: Callable[[], str] | None = None,
) -> float:
    """`tests.polling.wait_until`, timed: the seconds it took (the fault tests report recovery times)."""
    began = time.monotonic()
    wait_until(predicate, timeout_s, what, interval_s, explain)
    return time.monotonic() - began


class Service:
    """One `passage <command>` subprocess; `start` may be called again after a stop or kill."""

    def __init__(self, name: str, args: list[str], settings: Settings, log_dir: Path, **env: str) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", "services", *args]
        self.env = service_env(settings, **env)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> Service:
        assert not self.alive, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            log.write(f"--- start {' '.join(self.argv[2:])}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        return self

    def stop(self, grace_s: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace_s`; the exit code (None if it was not running)."""
        if self.process is None:
            return None
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        return self.kill()

    def kill(self) -> int | None:
        """kill -9, reaped."""
        if self.process is None:
            return None
        if self.alive:
            self.process.kill()
        return self.process.wait(timeout=10)

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return f"({self.name}: no log)"
        return f"--- last lines of {self.log_path}:\n" + "\n".join(text[-lines:])


def _die_with_parent() -> None:
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Gateway(Service):
    def __init__(self, settings: Settings, log_dir: Path, name: str = "gateway", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(name, ["gateway", "--port", str(self.port)], settings, log_dir, **env)

    def ready(self) -> bool:
        return http_ok(f"{self.url}/readyz")

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        def ready() -> bool:
            if not self.alive:
                raise AssertionError(f"{self.name} exited before it was ready\n{self.tail()}")
            return self.ready()

        return seconds_until(ready, timeout_s, f"{self.name} /readyz answering 200", 0.2, self.tail)


class Worker(Service):
    def __init__(self, settings: Settings, log_dir: Path, name: str = "worker", **env: str) -> None:
        super().__init__(name, ["worker"], settings, log_dir, **env)
