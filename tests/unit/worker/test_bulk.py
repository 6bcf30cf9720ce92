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
from services.worker.bulk import TIMELINE_COLUMNS, BulkRefused, Fold, TimelineCopy, timeline_line, write_totals
from services.worker.rows import timeline_row
from services.worker.views import LIVE
from tests.factories import delivered, message, stamped_demo_events
from tests.views import store_in_batches

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _stream(seed: int) -> list[events.Envelope]:
    stream = stamped_demo_events(event for journey in generate(30, seed=seed, now=NOW) for event in journey.events)
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
                added = fold.add_keyed(message(event, offset))  # as the replay reads: with the id's text
                if added is not None:
                    timeline.write(*added)
        fold.write(conn, rebuilt)
        write_totals(conn, rebuilt, fold.result)

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


def test_an_event_the_domain_refuses_before_changing_the_case_is_counted_as_failed(sqlite_engine, monkeypatch):
    from services.domain import welfare
    from tests.factories import make

    registered, certified = make("migrant.registered", 0), make("skilling.certified", 1)
    monkeypatch.delitem(welfare.HANDLERS, "skilling.certified")  # apply refuses it before changing anything
    fold = Fold(RuleConfig())
    assert fold.add(message(registered, 0)) is not None
    assert fold.add(message(certified, 1)) is None
    assert (fold.result.events, fold.result.failed) == (1, 1)
    assert fold.states[registered.case_id].event_count == 1


def test_an_event_the_domain_fails_on_half_way_fails_the_bulk_fold(sqlite_engine, monkeypatch):
    from services.domain import welfare
    from tests.factories import make

    def broken(state, key, payload):
        raise RuntimeError("a bug in a handler")

    registered, certified = make("migrant.registered", 0), make("skilling.certified", 1)
    monkeypatch.setitem(welfare.HANDLERS, "skilling.certified", broken)  # after the state counted the event
    fold = Fold(RuleConfig())
    fold.add(message(registered, 0))
    with pytest.raises(BulkRefused, match="half-way"):
        fold.add(message(certified, 1))


def _unescaped(field: str):
    if field == "\\N":
        return None
    return field.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r").replace("\\\\", "\\")


def test_a_timeline_line_holds_the_timeline_row_in_copy_text_format():
    from tests.factories import make

    event = make("deployment.grievance_filed", 3, description='a \\ backslash, a "quote"')
    # A record's JSON may hold whitespace between tokens: tabs and newlines, escaped in COPY text.
    envelope = events.encode(event).decode().replace(",", ",\n\t", 2)
    for partition, offset in ((4, 17), (None, None)):
        item = delivered(event, offset=offset)
        item = type(item)(item.event, envelope, partition, offset)
        row = timeline_row(item)
        assert list(TIMELINE_COLUMNS) == [c.name for c in LIVE.timeline.columns]
        assert [key.removesuffix("_json") for key in row] == list(TIMELINE_COLUMNS)
        line = timeline_line(item)
        assert timeline_line(item, str(event.event_id)) == line  # the fold passes the id it formatted
        assert line.endswith("\n") and line.count("\n") == 1
        fields = [_unescaped(field) for field in line[:-1].split("\t")]
        expected = [row[key] for key in row]
        for name, field, value in zip(TIMELINE_COLUMNS, fields, expected, strict=True):
            if isinstance(value, datetime):
                assert datetime.fromisoformat(field) == value, name
            else:
                assert field == (None if value is None else str(value)), name
