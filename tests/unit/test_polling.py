"""The test suite's one polling helper: it returns what the predicate found, and a failure says what
was awaited and the last value seen (deadlines of 0 make these tests independent of timing)."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from tests.polling import wait_until, wait_until_async


def test_returns_the_first_truthy_value():
    answers = iter([None, [], {"alert": "DISTRESS"}])
    assert wait_until(lambda: next(answers), 10, "an alert", interval_s=0) == {"alert": "DISTRESS"}


def test_a_timeout_names_what_was_awaited_the_last_value_and_the_explanation():
    counts = itertools.count()
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: next(counts) and 0, 0, "three events in the views", explain=lambda: "worker log: idle")
    assert str(failure.value) == "three events in the views: not within 0s; last seen: 0\nworker log: idle"


class Nothing:
    """Falsy, with a long repr: like a big set of ids that is not the one awaited yet."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "y" * 5000


def test_a_long_last_value_is_cut_short():
    with pytest.raises(AssertionError) as failure:
        wait_until(Nothing, 0, "every id")
    assert str(failure.value).endswith("y... (5000 characters)") and len(str(failure.value)) < 700


def test_ignored_errors_count_as_not_yet_and_are_the_last_value_seen():
    def refused() -> bool:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(AssertionError, match="last seen: ConnectError\\('connection refused'\\)"):
        wait_until(refused, 0, "the server ready", ignoring=(httpx.TransportError,))


def test_an_assertion_in_the_predicate_fails_at_once():
    def exited() -> bool:
        raise AssertionError("the worker exited with code 1")

    with pytest.raises(AssertionError, match="the worker exited with code 1"):
        wait_until(exited, 60, "the worker started")


def test_the_async_variant_lets_other_tasks_run_between_calls():
    async def scenario() -> str:
        done: list[str] = []

        async def agent() -> None:
            done.append("projected")

        task = asyncio.create_task(agent())
        found = await wait_until_async(lambda: done and done[0], 10, "the agent's work", interval_s=0)
        await task
        return found

    assert asyncio.run(scenario()) == "projected"
