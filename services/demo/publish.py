"""Publishing journeys through the gateway in batches, each case's events in order.

Each batch is published with one agency's key, but a journey passes between agencies (an
employer's wage, then a helpline's check, then the next wage). `waves` therefore sends journeys
in rounds: in each round every unfinished case contributes its next run of consecutive events
by one agency (`DemoEvent.agency_id`: the demo has several recruiting agencies); the runs are
packed into batches per agency. Batches of one round hold disjoint cases, so they go out
concurrently; a round starts only when the previous one was acknowledged, so every case reaches
the log (partitioned by case_id) in the order its events happened.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from services.demo.journeys import Journey

MAX_BATCH = 500  # the gateway's limit (SPEC section 7)


@dataclass(frozen=True)
class Batch:
    kind: str
    agency_id: str  # the demo agency whose key publishes it (of kind `kind`)
    events: tuple[dict, ...]
    finished: int  # cases whose last event is in this batch (for the progress bar)


@dataclass
class Outcome:
    accepted: int = 0
    rejected: list[str] = field(default_factory=list)  # "event_id (type): reason", for the report


def waves(journeys: Sequence[Journey], max_batch: int = MAX_BATCH) -> Iterator[list[Batch]]:
    """Rounds of batches; see the module docstring for why this keeps every case in order."""
    position = {j.case_id: 0 for j in journeys if j.events}
    by_case = {j.case_id: j.events for j in journeys}
    while position:
        runs: dict[tuple[str, str], list[tuple[list[dict], bool]]] = defaultdict(list)
        for case_id, start in list(position.items()):
            events = by_case[case_id]
            publisher = events[start].kind, events[start].agency_id
            end = start
            while (
                end < len(events) and (events[end].kind, events[end].agency_id) == publisher and end - start < max_batch
            ):
                end += 1
            runs[publisher].append(([e.envelope for e in events[start:end]], end == len(events)))
            if end == len(events):
                del position[case_id]
            else:
                position[case_id] = end
        yield [batch for publisher, its_runs in runs.items() for batch in _pack(publisher, its_runs, max_batch)]


def _pack(publisher: tuple[str, str], runs: list[tuple[list[dict], bool]], max_batch: int) -> Iterator[Batch]:
    kind, agency_id = publisher
    events: list[dict] = []
    finished = 0
    for run, last in runs:
        if len(events) + len(run) > max_batch:
            yield Batch(kind, agency_id, tuple(events), finished)
            events, finished = [], 0
        events += run
        finished += last
    if events:
        yield Batch(kind, agency_id, tuple(events), finished)


def publish(
    rounds: Iterable[list[Batch]],
    send: Callable[[Batch], dict],
    on_batch: Callable[[Batch], None],
    concurrency: int = 4,
) -> Outcome:
    """Send every round's batches (`send(batch)` returns the gateway's batch answer) and count
    what was accepted. A `PublishError` from `send` propagates: rerunning is safe (same ids)."""
    outcome = Outcome()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="demo-publish") as pool:
        for batches in rounds:
            for batch, answer in zip(batches, pool.map(send, batches), strict=True):
                for event, result in zip(batch.events, answer["results"], strict=True):
                    if result["status"] == "accepted":
                        outcome.accepted += 1
                    else:
                        reasons = "; ".join(str(e) for e in result.get("errors", [])) or "rejected"
                        outcome.rejected.append(f"{event['event_id']} ({event['event_type']}): {reasons}")
                on_batch(batch)
    return outcome
