"""Events into the view tables as the live worker writes them (`apply_batch`), for tests that need
views holding a history without running a worker."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

import events
from services.domain import RuleConfig
from services.worker.persist import Applied, apply_batch
from services.worker.views import LIVE
from tests.factories import RULES, delivered

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def store(
    engine: Engine,
    stream: Sequence[events.Envelope],
    now: datetime = NOW,
    rules: RuleConfig = RULES,
    first_offset: int = 0,
    partition: int = 0,
) -> Applied:
    """`stream` applied in one batch, the records at offsets `first_offset`, `first_offset + 1`, ..."""
    batch = [delivered(e, offset=first_offset + i, partition=partition) for i, e in enumerate(stream)]
    with engine.begin() as connection:
        return apply_batch(connection, LIVE, batch, rules, now)


def store_in_batches(
    engine: Engine, stream: Sequence[events.Envelope], now: datetime, rng: random.Random, largest: int
) -> None:
    """`stream` applied in batches of random sizes (1 to `largest`), offsets counting on across them."""
    position = 0
    while position < len(stream):
        size = rng.randint(1, largest)
        store(engine, stream[position : position + size], now, first_offset=position)
        position += size
