"""Steady traffic for fault tests: valid journey events POSTed one at a time through the gateway.

The events are prefixes of the demo's realistic journeys, interleaved case by case so every
partition gets traffic all the time. A thread sends them in order at a bounded rate; an event
answered anything but 202 is sent again, the very same body (safe: the event_id is the
idempotency key), until it is accepted or its retry deadline passes. Sending in order and retrying
before moving on keeps each case's events in order on the log (several threads share the work, each
owning a fixed set of cases). Every answer is recorded with
when it was sent and when it came back, so a test can say what the gateway answered during a fault.
"""

from __future__ import annotations

import itertools
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from services.demo.journeys import DemoEvent, generate

CONNECTION_ERROR = 0  # the status recorded when no HTTP answer came back at all


def interleaved(count: int, seed: int, cases: int = 120) -> list[DemoEvent]:
    """`count` events: round r holds the r-th event of every journey that has one."""
    journeys = generate(cases, seed=seed, now=datetime.now(UTC))
    rounds = itertools.zip_longest(*(j.events for j in journeys))
    flat = [event for round_ in rounds for event in round_ if event is not None]
    assert len(flat) >= count, f"{cases} journeys hold only {len(flat)} events; ask for fewer or more cases"
    return flat[:count]


@dataclass(frozen=True)
class Answer:
    event_id: str
    status: int  # CONNECTION_ERROR when the request itself failed
    sent: float  # time.monotonic()
    answered: float


@dataclass
class Traffic:
    """What the publisher did; read it after `join` (or while running, for progress)."""

    published: list[str] = field(default_factory=list)  # event ids, in the order first sent
    accepted: set[str] = field(default_factory=set)
    given_up: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    def statuses(self) -> dict[int, int]:
        return dict(sorted(Counter(a.status for a in self.answers).items()))

    def accepted_between(self, start: float, end: float) -> list[Answer]:
        """202 answers to requests sent at or after `start` and answered before `end`."""
        return [a for a in self.answers if a.status == 202 and a.sent >= start and a.answered < end]

    def first_accepted_after(self, moment: float) -> float | None:
        return next((a.answered for a in self.answers if a.status == 202 and a.sent >= moment), None)

    def longest_refusal_s(self) -> float:
        """The longest stretch between two 202 answers that had only other answers in it."""
        longest, last_ok, refused = 0.0, None, False
        for answer in self.answers:
            if answer.status == 202:
                if refused and last_ok is not None:
                    longest = max(longest, answer.answered - last_ok)
                last_ok, refused = answer.answered, False
            else:
                refused = True
        return longest


class SteadyPublisher:
    """Publish `events` through the gateway at `rate` events/s in all, each retried until accepted
    or `retry_for_s` passed. `keys` maps a demo agency id to its key.
    `lanes` threads share the work, each owning a fixed set of cases (so each case stays in order)."""

    def __init__(
        self,
        url: str,
        keys: dict[str, str],
        events: list[DemoEvent],
        rate: float,
        lanes: int = 4,
        retry_for_s: float = 90.0,
        timeout_s: float = 30.0,
    ) -> None:
        self.traffic = Traffic()
        self._url = url
        self._keys = keys
        self._retry_for_s = retry_for_s
        self._timeout_s = timeout_s
        self._halt = threading.Event()
        self._lock = threading.Lock()
        work: list[list[DemoEvent]] = [[] for _ in range(lanes)]
        for event in events:
            work[zlib.crc32(event.envelope["case_id"].encode()) % lanes].append(event)
        self._threads = [
            threading.Thread(target=self._lane, args=(lane, lanes / rate), daemon=True, name=f"steady-publisher-{i}")
            for i, lane in enumerate(work)
        ]

    def start(self) -> SteadyPublisher:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._halt.set()

    def join(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def is_alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def progress(self) -> tuple[int, int]:
        """(events sent at least once, events accepted) so far."""
        with self._lock:
            return len(self.traffic.published), len(self.traffic.accepted)

    def _lane(self, events: list[DemoEvent], interval: float) -> None:
        with httpx.Client(base_url=self._url, timeout=self._timeout_s) as http:
            next_at = time.monotonic()
            for event in events:
                if self._halt.wait(max(0.0, next_at - time.monotonic())):
                    return
                # After a stall, go on at the steady rate instead of bursting to catch up.
                next_at = max(next_at, time.monotonic()) + interval
                self._send(http, event)

    def _send(self, http: httpx.Client, event: DemoEvent) -> None:
        event_id = event.envelope["event_id"]
        headers = {"Authorization": f"Bearer {self._keys[event.agency_id]}"}
        with self._lock:
            self.traffic.published.append(event_id)
        give_up_at = time.monotonic() + self._retry_for_s
        for attempt in itertools.count():
            sent = time.monotonic()
            try:
                status = http.post("/v1/events", json=event.envelope, headers=headers).status_code
            except httpx.HTTPError:
                status = CONNECTION_ERROR
            with self._lock:
                self.traffic.answers.append(Answer(event_id, status, sent, time.monotonic()))
                if status == 202:
                    self.traffic.accepted.add(event_id)
                    return
            if 400 <= status < 500 or time.monotonic() >= give_up_at or self._halt.is_set():
                # A 4xx for a valid event is a gateway bug; the test reports it via `given_up`.
                with self._lock:
                    self.traffic.given_up.append(event_id)
                return
            self._halt.wait(min(1.0, 0.1 * 2 ** min(attempt, 4)))
