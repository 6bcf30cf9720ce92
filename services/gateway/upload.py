"""`passage publish FILE.jsonl`: send a file of envelopes, one per line, through the gateway in
batches, and account for every line: accepted, or rejected with its line number and reasons.

A failed batch is retried by the client with the very same bytes (same event_ids), so an event
written before a timeout still takes effect once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class BatchPublisher(Protocol):
    def publish_batch(self, events: Iterable[Any]) -> dict: ...  # events.client.PassageClient


@dataclass(frozen=True)
class Rejection:
    line: int
    reasons: tuple[str, ...]
    event_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (event_id {self.event_id})" if self.event_id else "")
        return f"{where}: {'; '.join(self.reasons)}"


@dataclass
class Summary:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.accepted + len(self.rejected)


def read_events(path: Path) -> Iterator[tuple[int, dict | Rejection]]:
    """(line number, event or the reason it cannot be sent); blank lines are skipped."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as error:
                yield number, Rejection(number, (f"not valid JSON: {error}",))
                continue
            if not isinstance(data, dict):
                yield number, Rejection(number, ("not a JSON object; each line must hold one event",))
                continue
            yield number, data


def count_events(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def publish_file(path: Path, client: BatchPublisher, batch_size: int, progress: Any = None) -> Summary:
    """Publish every line of `path`; `progress.update(n)` is called per line handled.
    Raises what the client raises when a whole batch fails (`events.client.PublishError`)."""
    summary = Summary()
    for batch in _batches(read_events(path), batch_size):
        sendable = [(number, item) for number, item in batch if isinstance(item, dict)]
        summary.rejected.extend(item for _number, item in batch if isinstance(item, Rejection))
        if sendable:
            response = client.publish_batch([event for _number, event in sendable])
            for (number, _event), result in zip(sendable, response["results"], strict=True):
                if result["status"] == "accepted":
                    summary.accepted += 1
                else:
                    reasons = tuple(_reason(error) for error in result.get("errors", [])) or ("rejected",)
                    summary.rejected.append(Rejection(number, reasons, result.get("event_id")))
        if progress is not None:
            progress.update(len(batch))
    summary.rejected.sort(key=lambda rejection: rejection.line)
    return summary


def _batches(lines: Iterator[tuple[int, dict | Rejection]], size: int) -> Iterator[list[tuple[int, dict | Rejection]]]:
    batch: list[tuple[int, dict | Rejection]] = []
    for entry in lines:
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _reason(error: dict) -> str:
    path = error.get("path")
    return f"{path}: {error.get('message')}" if path else str(error.get("message"))
