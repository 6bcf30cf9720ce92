"""A private PostgreSQL server for the restart test: its own data directory and port, started with
the machine's own PostgreSQL binaries, so restarting it under load (`pg_ctl stop -m immediate`,
like a crash: no checkpoint, recovery from the WAL on start) disturbs nobody else's tests on the
shared server at 5432. The server runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers import free_port

USER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def why_unavailable() -> str | None:
    if binaries() is None:
        return "no PostgreSQL binaries under /usr/lib/postgresql (deploy/postgres.sh installs them)"
    me = getpass.getuser()
    if me not in ("root", USER):
        return f"a private PostgreSQL server must run as {USER}; this test runs as {me}"
    return None


class PrivatePostgres:
    def __init__(self) -> None:
        self.bin = binaries()
        # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
        self.home = Path(tempfile.mkdtemp(prefix="passage-faults-pg-"))
        self.data = self.home / "data"
        self.port = free_port()
        self.admin_url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.home, USER, USER)
        self._as_postgres("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-instructions")

    def start(self) -> None:
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.home / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """`immediate`: every server process quits at once, like a crash."""
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join((self.home / "server.log").read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no server log)"

    def _as_postgres(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if getpass.getuser() != USER:
            command = ["runuser", "-u", USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/", env={**os.environ})
        assert result.returncode == 0, f"{tool} failed: {(result.stderr or result.stdout).strip()}\n{self.log_tail()}"
