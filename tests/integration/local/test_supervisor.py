"""The supervisor of `passage up` with real child processes (small Python scripts, no Kafka)."""

from __future__ import annotations

import io
import sys
import time

import pytest

from services.local.supervisor import Part, Supervisor
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(120)

CHATTY = "import time; print('hello', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)
DYING = "import sys; print('bye', flush=True); sys.exit(3)"


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_lines_are_prefixed_with_the_part_name_and_stop_reaps_every_part():
    out = io.StringIO()
    parts = [Part("alpha", _python(CHATTY)), Part("beta", _python(CHATTY))]
    supervisor = Supervisor(parts, out, names=("up",))
    supervisor.start()
    wait_until(lambda: out.getvalue().count("| hello") == 2, 30, "both parts' first line", 0.05)
    assert supervisor.exited() is None
    supervisor.stop(grace_s=10)
    assert all(p.process.returncode is not None for p in parts)
    lines = out.getvalue().splitlines()
    assert "alpha | hello" in lines and "beta  | hello" in lines


def test_a_part_that_dies_is_reported_with_its_exit_code():
    parts = [Part("steady", _python(CHATTY)), Part("fragile", _python(DYING))]
    supervisor = Supervisor(parts, io.StringIO())
    supervisor.start()
    wait_until(lambda: supervisor.exited() is not None, 30, "a part's exit noticed", 0.05)
    died = supervisor.exited()
    assert died.name == "fragile" and died.process.returncode == 3
    supervisor.stop(grace_s=10)
    assert parts[0].process.returncode is not None


def test_a_part_ignoring_sigterm_is_killed_after_the_grace_or_at_once_when_hurried():
    out = io.StringIO()
    supervisor = Supervisor([Part("stubborn", _python(STUBBORN))], out)
    supervisor.start()
    wait_until(lambda: "stubborn | ready" in out.getvalue(), 30, "the stubborn part ready", 0.05)
    began = time.monotonic()
    supervisor.stop(grace_s=1.0)
    assert 0.9 < time.monotonic() - began < 10
    assert "did not stop in time; killing it" in out.getvalue()

    out = io.StringIO()
    supervisor = Supervisor([Part("stubborn", _python(STUBBORN))], out)
    supervisor.start()
    wait_until(lambda: "stubborn | ready" in out.getvalue(), 30, "the stubborn part ready", 0.05)
    began = time.monotonic()
    supervisor.stop(grace_s=60, hurry=lambda: True)  # the user pressed Ctrl-C again
    assert time.monotonic() - began < 10
