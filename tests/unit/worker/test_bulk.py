"""The bulk fold of a rebuild (services/worker/bulk.py) writes exactly the rows the live worker's
batches write, for every view table (counts included), on the demo's journeys."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import events
from services.demo.journeys import generate
from services.domain import RuleConfig
from services.worker import views
from services.worker.bulk import Fold, TimelineCopy
from services.worker.views import LIVE
from tests.factories import message
from tests.views import store_in_batches

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _stream(seed: int) -> list[events.Envelope]:
    stream = []
    for journey in generate(30, seed=seed, now=NOW):
        for demo_event in journey.events:
            data = dict(
                demo_event.envelope,
                recorded_at=demo_event.envelope["occurred_at"],
                source={"agency_id": demo_event.agency_id, "agency_kind": demo_event.kind},
            )
            stream.append(events.validate(data, stamped=True))
    stream.sort(key=lambda e: e.occurred_at)
    return stream


def _rows(engine, table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]


@pytest.mark.parametrize("seed", [3, 4])
def test_the_bulk_fold_writes_what_the_live_batches_write(sqlite_engine, seed):
    stream = _stream(seed)
    stream += stream[:5]  # redelivered records change nothing, in either path
    store_in_batches(sqlite_engine, stream, NOW, random.Random(seed), largest=80)

    rebuilt = views.shadow(sqlite_engine)
    fold = Fold(RuleConfig())
    with sqlite_engine.begin() as conn:
        with TimelineCopy(conn, rebuilt.timeline) as timeline:
            for offset, event in enumerate(stream):
                row = fold.add(message(event, offset))
                if row is not None:
                    timeline.write(row)
        fold.write(conn, rebuilt)

    assert fold.result.events == len(stream) - 5
    for live, shadow in zip(LIVE.folded, rebuilt.folded, strict=True):
        assert _rows(sqlite_engine, shadow) == _rows(sqlite_engine, live), live.name


def test_a_repeated_event_id_with_other_content_is_counted_as_failed_and_changes_nothing(sqlite_engine):
    from tests.factories import make

    first = make("migrant.registered", 0)
    conflicting = first.model_copy(update={"case_id": "OTHER-0001"})
    rebuilt = views.shadow(sqlite_engine)
    fold = Fold(RuleConfig())
    with sqlite_engine.begin() as conn:
        with TimelineCopy(conn, rebuilt.timeline) as timeline:
            for offset, event in enumerate([first, first, conflicting]):
                row = fold.add(message(event, offset))
                if row is not None:
                    timeline.write(row)
        fold.write(conn, rebuilt)
    assert (fold.result.events, fold.result.failed) == (1, 1)
    assert [row[0] for row in _rows(sqlite_engine, rebuilt.cases)] == [first.case_id]
