"""Single-event requests that arrive while others are in hand are taken together.

Each single event costs a registry read, a read of the views, a key store statement and a wait
for Kafka's acknowledgement; done one request at a time, under load these dominate the gateway's
CPU (issue 20). `Singles.submit` queues a request's key and body; a group takes every request
queued meanwhile (at most `max_group`): one registry read for all their keys and one
`Intake.decide_singles` (one read of the views), both on one database connection, and one
`Intake.publish` (one key store statement, one produce whose acknowledgements are all awaited).
A request alone is taken at once, at the end of the event loop's iteration in which it arrived:
no request waits for others to arrive, so a quiet gateway answers as fast as before; under load
the requests read in the same iteration (clients answered together send again together) start
one group, not one each (issue 20: with 16 clients two thirds of the groups were of one request,
a group started by the first of a burst before the rest were read; a group took 4.0-4.3 requests
on average, 5.3-5.8 so, and 5-30% less gateway CPU an event in three pairs of runs).

Groups are pipelined: at most `deciding` groups are being decided at once (the registry and view
reads, admission: the part that costs CPU), and at most `parallel` are in worker threads in all,
the others decided and sealing, producing or awaiting Kafka's acknowledgement. The next group
starts as soon as one is decided, not once Kafka answered it: under load a group takes what
queued while the previous one was decided, so groups grow with the load and the work per event
shrinks (one group deciding at a time took about a fifth less CPU an event than four in step,
each holding its slot through Kafka's round trip), and several groups' acknowledgements are
awaited at once.

What each request is answered is its own: its key is checked now (a disabled or rotated key is
refused), its body is parsed and admitted as its own, and only its own problems refuse it. What
a group shares is what fails together anyway: the database (503) and Kafka (503 for each event
the group admitted: none may be reported accepted, and retrying each with the same event_id is
safe; an event refused on its own merits keeps its own answer, as if it had come alone).

Decision where the SPEC is silent: within a group the events accepted before count for the later
ones, as within a batch (`services.gateway.binding.after`, and a second copy of an event_id with
other content is a 409), as they would once the worker has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from events import Source
from services.gateway.admission import Admitted, MalformedJson, Refused, parse_json
from services.gateway.agencies import Credentials, KeyRefused, RegistryUnreachable
from services.gateway.intake import Intake
from services.kafka.producer import PublishFailed

MAX_GROUP = 64  # requests taken together at most
DECIDING = 1  # groups being decided at once: the GIL runs one anyway, and the queue gathers meanwhile
PARALLEL = 8  # groups in worker threads at once, those waiting for Kafka's acknowledgement included

Outcome = Admitted | Refused


class _Decision:
    """Whether a group has been decided: set from its worker thread, read on the loop."""

    __slots__ = ("made",)

    def __init__(self) -> None:
        self.made = False


class Singles:
    """The single-event requests of one gateway process (one asyncio loop), taken in groups."""

    def __init__(
        self,
        credentials: Credentials,
        intake: Intake,
        *,
        max_group: int = MAX_GROUP,
        parallel: int = PARALLEL,
        deciding: int = DECIDING,
    ) -> None:
        self._credentials = credentials
        self._intake = intake
        self._max_group = max_group
        self._parallel = parallel
        self._max_deciding = min(deciding, parallel)
        self._undecided: list[_Decision] = []  # of the groups started and not known to be decided
        self._queued: list[tuple[str, bytes, asyncio.Future[Outcome]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._start_soon = False

    async def submit(self, key_hash: str, body: bytes) -> Outcome:
        """The outcome of one event sent with the key hashing to `key_hash`. Raises `KeyRefused`
        (401), `RegistryUnreachable` (503), `MalformedJson` (400), `PublishFailed` and
        `SQLAlchemyError` (503: nothing accepted)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queued.append((key_hash, body, future))
        if not self._start_soon:  # after the requests already in hand this loop iteration
            self._start_soon = True
            loop.call_soon(self._start_now)
        return await future

    def _start_now(self) -> None:
        self._start_soon = False
        self._start()

    def _start(self) -> None:
        self._running = {task for task in self._running if not task.done()}  # a loop that ended left none
        self._undecided = [decision for decision in self._undecided if not decision.made]
        while self._queued and len(self._undecided) < self._max_deciding and len(self._running) < self._parallel:
            group, self._queued = self._queued[: self._max_group], self._queued[self._max_group :]
            group = [item for item in group if not item[2].done()]  # a request cancelled while queued is dropped
            if not group:
                continue
            decision = _Decision()
            self._undecided.append(decision)
            task = asyncio.create_task(self._run(group, decision))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._start()

    async def _run(self, group: list[tuple[str, bytes, asyncio.Future[Outcome]]], decision: _Decision) -> None:
        items = [(key_hash, body) for key_hash, body, _ in group]
        loop = asyncio.get_running_loop()

        def decided_from_thread() -> None:
            decision.made = True  # the loop's next `_start` gives the slot back
            if self._queued:  # requests wait for the slot: wake the loop now (else the next one finds it free)
                with contextlib.suppress(RuntimeError):  # the loop closed (shutdown): nothing is left to start
                    loop.call_soon_threadsafe(self._start)

        try:
            results: Sequence[Outcome | Exception] = await run_in_threadpool(self.take, items, decided_from_thread)
        except Exception as error:  # anything unforeseen fails the whole group, as it would one request
            results = [error] * len(group)
        except BaseException:  # this task was cancelled (shutdown): so are the requests waiting on it
            for _, _, future in group:
                future.cancel()
            raise
        finally:
            if not decision.made:  # a group whose registry read failed never got that far
                decision.made = True
                self._start()
        for (_, _, future), result in zip(group, results, strict=True):
            if future.done():  # its request was cancelled (the client went away)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    def take(
        self, items: Sequence[tuple[str, bytes]], decided: Callable[[], None] | None = None
    ) -> list[Outcome | Exception]:
        """Blocking (a worker thread): each item's outcome, or the exception its request raises.
        `decided` is called once every outcome is decided, before they are published. When Kafka
        fails, the group's admitted events fail with it (503) and its refusals keep their answers."""
        try:
            connection = self._credentials.connect()
        except RegistryUnreachable as error:
            return [error] * len(items)
        with connection:  # the key check and the views: one connection, given back before publishing
            try:
                holders = self._credentials.holders({key_hash for key_hash, _ in items}, connection)
            except RegistryUnreachable as error:
                return [error] * len(items)
            results, parsed = self._parsed(items, holders)
            outcomes: list[Outcome | Exception] = []
            if parsed:
                try:
                    outcomes = list(
                        self._intake.decide_singles([(data, source) for _, data, source in parsed], connection)
                    )
                except SQLAlchemyError as error:  # the views, read for the whole group, fail it whole
                    outcomes = [error] * len(parsed)
        if decided is not None:
            decided()
        try:
            self._intake.publish([outcome for outcome in outcomes if isinstance(outcome, Admitted)])
        except (PublishFailed, SQLAlchemyError) as error:  # none of its admitted events is accepted
            outcomes = [error if isinstance(outcome, Admitted) else outcome for outcome in outcomes]
        for (index, _, _), outcome in zip(parsed, outcomes, strict=True):
            results[index] = outcome
        return [result for result in results if result is not None]  # every index was set above

    @staticmethod
    def _parsed(
        items: Sequence[tuple[str, bytes]], holders: dict[str, Source]
    ) -> tuple[list[Outcome | Exception | None], list[tuple[int, Any, Source]]]:
        """Each item refused for its key (401) or its JSON (400), and the others parsed, by index."""
        results: list[Outcome | Exception | None] = [None] * len(items)
        parsed: list[tuple[int, Any, Source]] = []
        for index, (key_hash, body) in enumerate(items):
            source = holders.get(key_hash)
            if source is None:
                results[index] = KeyRefused()
                continue
            try:
                parsed.append((index, parse_json(body), source))
            except MalformedJson as error:
                results[index] = error
        return results, parsed
