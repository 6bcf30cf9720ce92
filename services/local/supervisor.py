"""The child processes of `passage up`: started together, their output merged into one readable
stream (each line prefixed with the part's name), stopped together.

Signal safety: nothing here runs in a signal handler and the handlers of `passage up` only bump a
counter that the main loop polls. (An earlier attempt called `threading.Event.set()` from the
handler; a signal that lands while the main thread is inside `Event.wait()`, holding the Event's
internal lock, deadlocks: with two quick Ctrl-Cs it froze. Counters and `time.sleep` cannot.)

Each child gets its own process group, so a Ctrl-C in the terminal reaches only `passage up`, which
then sends every child one SIGTERM (a second SIGINT would make uvicorn and faust skip their clean
shutdown). On Linux each child also asks the kernel for SIGTERM if `passage up` itself dies, so a
`kill -9` of the parent leaves no orphans.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@dataclass
class Part:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)
    pump: threading.Thread | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, parts: Sequence[Part], out: TextIO, names: Sequence[str] = ()) -> None:
        self.parts = list(parts)
        self._out = out
        self._lock = threading.Lock()
        self._width = max(len(name) for name in [*names, *(p.name for p in self.parts)])

    def say(self, name: str, text: str) -> None:
        """One line of the merged stream: `name | text`."""
        with self._lock:
            self._out.write(f"{name:<{self._width}} | {text}\n")
            self._out.flush()

    def start(self) -> None:
        for part in self.parts:
            part.process = subprocess.Popen(
                part.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,
                preexec_fn=_die_with_parent if _LIBC else None,
            )
            self.say(part.name, f"started (pid {part.process.pid}): {' '.join(part.argv[1:])}")
        for part in self.parts:  # after every fork: preexec_fn is safest while no other thread runs
            part.pump = threading.Thread(target=self._pump, args=(part,), name=f"pump-{part.name}", daemon=True)
            part.pump.start()

    def exited(self) -> Part | None:
        """The first part that is no longer running, if any."""
        return next((p for p in self.parts if p.process is not None and not p.alive), None)

    def stop(self, grace_s: float, hurry: Callable[[], bool] = lambda: False) -> None:
        """SIGTERM every running part, wait up to `grace_s` (less if `hurry()` turns true: the
        user asked again), then SIGKILL what is left. Always returns with every part reaped."""
        for part in self.parts:
            if part.alive:
                _signal(part, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(p.alive for p in self.parts) and time.monotonic() < deadline and not hurry():
            time.sleep(0.1)
        for part in self.parts:
            if part.alive:
                self.say(part.name, "did not stop in time; killing it")
                _signal(part, signal.SIGKILL)
            if part.process is not None:
                part.process.wait()
        for part in self.parts:
            if part.pump is not None:
                part.pump.join(timeout=5)

    def _pump(self, part: Part) -> None:
        assert part.process is not None and part.process.stdout is not None
        for raw in iter(part.process.stdout.readline, b""):
            self.say(part.name, raw.decode("utf-8", errors="replace").rstrip())
        part.process.stdout.close()


def _signal(part: Part, sig: signal.Signals) -> None:
    if part.process is None:  # never started
        return
    try:
        part.process.send_signal(sig)
    except ProcessLookupError:
        pass


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM me when my parent dies (Linux only: used only with a libc)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
