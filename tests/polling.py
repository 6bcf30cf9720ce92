"""Waiting for something that happens elsewhere (a worker folding events, a server starting): poll
with a deadline, never sleep a guessed time. One helper for every tier, so each failure reads the
same: what was awaited, for how long, and the last value seen.

A predicate that raises AssertionError (say, "the process under test exited") fails the wait at
once; exceptions listed in `ignoring` (say, httpx.TransportError while a server starts) count as
"not yet" and are kept as the last value seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
SHOWN = 600  # characters of the last value an assertion message quotes


def wait_until(
    predicate: Callable[[], T | None],
    timeout_s: float,
    what: str,
    interval_s: float = 0.1,
    explain: Callable[[], str] | None = None,
    ignoring: tuple[type[Exception], ...] = (),
) -> T:
    """Call `predicate` every `interval_s` until it returns something truthy, and return that.
    AssertionError after `timeout_s`, naming `what`, the last value seen and `explain()` (a log tail)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = predicate()
        except ignoring as error:
            last: object = error
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(what, timeout_s, last, explain))
        time.sleep(interval_s)


async def wait_until_async(
    predicate: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 0.02
) -> T:
    """`wait_until` inside an event loop: the loop runs other tasks (the agent under test) between calls."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(what, timeout_s, value, None))
        await asyncio.sleep(interval_s)


def _failure(what: str, timeout_s: float, last: object, explain: Callable[[], str] | None) -> str:
    shown = repr(last)
    if len(shown) > SHOWN:
        shown = shown[:SHOWN] + f"... ({len(shown)} characters)"
    message = f"{what}: not within {timeout_s:g}s; last seen: {shown}"
    return f"{message}\n{explain()}" if explain else message
