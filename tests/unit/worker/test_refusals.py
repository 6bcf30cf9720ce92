"""No single record stops projection (SPEC section 7): refused records and conflicting duplicates
become dead letters with a reason that holds no value of the record; their neighbours apply."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import exc as sa
from sqlalchemy import select, text

import events
from services.worker import dlq, refusals
from services.worker.persist import same_content
from services.worker.views import LIVE
from tests.factories import make, message

REFUSED = "00000000-0000-4000-8000-00000000dead"


def refuse_in_sqlite(pipeline, event_id: str) -> None:
    with pipeline.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TRIGGER refuse_one BEFORE INSERT ON {LIVE.timeline.name} "
                f"WHEN NEW.event_id = '{event_id}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        )


def timeline(pipeline) -> list[str]:
    with pipeline.engine.connect() as conn:
        return list(conn.execute(select(LIVE.timeline.c.event_id).order_by(LIVE.timeline.c.topic_offset)).scalars())


def reasons(publisher, settings) -> dict[str, str]:
    return {
        dict(r.headers)["event_id"].decode(): dict(r.headers)["reason"].decode()
        for r in publisher.on(settings.dlq_topic)
    }


def test_a_refused_record_in_a_batch_is_dead_lettered_and_the_others_are_applied(pipeline, publisher, unit_settings):
    stream = [
        make("migrant.registered", 0),
        make("recruitment.job_offer_made", 5),
        make("case.note_added", 6, event_id=REFUSED, text="Rajan's landlord"),
        make("deployment.departed", 30),
        make("deployment.distress_reported", 31),
    ]
    refuse_in_sqlite(pipeline, REFUSED)
    batch = pipeline.decode([message(event, offset) for offset, event in enumerate(stream)])
    applied = pipeline.store(batch)
    pipeline.publish(batch)
    assert timeline(pipeline) == [str(e.event_id) for e in stream if str(e.event_id) != REFUSED]
    assert applied.applied == 4
    assert {change["alert"]["code"] for change in applied.changes} == {"DEPARTED_WITHOUT_CLEARANCE", "DISTRESS"}
    [(refused, reason)] = reasons(publisher, unit_settings).items()
    assert refused == REFUSED and reason.startswith("the database refused the record: IntegrityError")
    assert "refused by the test" in reason and "Rajan" not in reason
    [letter] = publisher.on(unit_settings.dlq_topic)
    assert dict(letter.headers)["original_offset"] == b"2"


def test_a_batch_of_only_refused_records_dead_letters_each(pipeline, publisher, unit_settings):
    refuse_in_sqlite(pipeline, REFUSED)
    batch = pipeline.decode([message(make("case.note_added", 1, event_id=REFUSED), 0)])
    assert pipeline.store(batch).applied == 0
    pipeline.publish(batch)
    assert list(reasons(publisher, unit_settings)) == [REFUSED]


def test_conflicting_duplicates_are_dead_lettered_and_identical_ones_dropped(pipeline, publisher, unit_settings):
    original = make("deployment.wage_paid", 70, period="2025-03")
    pipeline.store(first := pipeline.decode([message(original, 0)]))
    pipeline.publish(first)
    republished = original.model_copy(
        update={
            "recorded_at": original.recorded_at + timedelta(hours=1),
            "source": original.source.model_copy(update={"agency_id": "other"}),
        }
    )
    changed = original.model_copy(update={"payload": original.payload.model_copy(update={"period": "2025-04"})})
    other_case = make("migrant.registered", 0, case_id="OTHER-0001", event_id=str(original.event_id))
    fresh = make("migrant.registered", 1)
    twice = make("case.note_added", 2)
    twice_changed = twice.model_copy(update={"correlation_id": "another"})
    batch = pipeline.decode(
        [
            message(e, offset)
            for offset, e in enumerate([republished, changed, other_case, fresh, twice, twice_changed], start=1)
        ]
    )
    applied = pipeline.store(batch)
    pipeline.publish(batch)
    assert (applied.applied, applied.duplicates) == (2, 1)
    letters = publisher.on(unit_settings.dlq_topic)
    assert [(dict(r.headers)["original_offset"], dict(r.headers)["reason"]) for r in letters] == [
        (b"2", b"conflicting_duplicate"),
        (b"3", b"conflicting_duplicate"),
        (b"6", b"conflicting_duplicate"),
    ]
    assert all(b"new event_id" in dict(r.headers)["detail"] for r in letters)


@pytest.mark.parametrize(
    ("update", "same"),
    [
        ({"recorded_at": "later"}, True),
        ({"source": "other"}, True),
        ({"case_id": "OTHER-0001"}, False),
        ({"occurred_at": "earlier"}, False),
        ({"correlation_id": "c-1"}, False),
        ({"payload": "other"}, False),
    ],
)
def test_content_is_the_envelope_without_the_gateway_stamps(update, same):
    event = make("deployment.wage_paid", 70, period="2025-03")
    values = {
        "recorded_at": event.recorded_at + timedelta(days=1),
        "source": event.source.model_copy(update={"agency_id": "another"}),
        "case_id": "OTHER-0001",
        "occurred_at": event.occurred_at - timedelta(days=1),
        "correlation_id": "c-1",
        "payload": event.payload.model_copy(update={"period": "2025-04"}),
    }
    other = event.model_copy(update={name: values[name] for name in update})
    assert same_content(other, json.loads(events.encode(event))) is same
    assert same_content(other, event) is same


def test_content_ignores_how_an_instant_is_written():
    event = make("deployment.wage_paid", 70)
    held = json.loads(events.encode(event))
    held["occurred_at"] = event.occurred_at.astimezone().isoformat()  # same instant, local offset
    assert same_content(event, held)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            sa.DataError(
                "INSERT INTO cases ...",
                {"given_name": "Asha"},
                psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
            ),
            "the database refused the record: DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes",
        ),
        (
            sa.IntegrityError(
                "INSERT",
                {"x": 1},
                psycopg.errors.NotNullViolation(
                    'null value in column "state" violates not-null constraint\nDETAIL:  Failing row contains (Asha, Kumari).'
                ),
            ),
            "the database refused the record: NotNullViolation (SQLSTATE 23502): null value in column … violates not-null constraint",
        ),
        (
            sa.IntegrityError(
                "INSERT",
                {},
                psycopg.errors.UniqueViolation(
                    "duplicate key value violates unique constraint\nDETAIL: Key (case_id)=(IN-1) already exists."
                ),
            ),
            "the database refused the record: UniqueViolation (SQLSTATE 23505): duplicate key value violates unique constraint",
        ),
        (
            psycopg.errors.InvalidTextRepresentation('invalid input syntax for type date: "Asha"'),
            "the database refused the record: InvalidTextRepresentation (SQLSTATE 22P02): "
            "invalid input syntax for type date: …",
        ),
        (
            sa.StatementError(
                "(builtins.ValueError) bad Asha [SQL: INSERT] [parameters: ('Asha',)]",
                "INSERT",
                {"n": "Asha"},
                ValueError("bad Asha"),
            ),
            "the worker could not store the record: ValueError",
        ),
        (ValueError("no welfare handler for Asha Kumari"), "the worker could not store the record: ValueError"),
    ],
)
def test_a_reason_names_the_error_and_holds_no_value(error, expected):
    assert refusals.reason(error) == expected
    assert "Asha" not in refusals.reason(error) and "Kumari" not in refusals.reason(error)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sa.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")), True),
        (psycopg.OperationalError("server closed the connection"), True),
        (sa.DataError("INSERT", {}, psycopg.DataError("NUL")), False),
        (sa.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate")), False),
        (ValueError("bad"), False),
    ],
)
def test_only_connection_trouble_is_transient(error, transient):
    assert refusals.is_transient(error) is transient


@pytest.mark.parametrize(
    ("value", "identity"),
    [
        (
            events.encode(make("case.note_added", 1, event_id="00000000-0000-4000-8000-000000000001")),
            ("00000000-0000-4000-8000-000000000001", "case.note_added"),
        ),
        (b'{"event_id": "Asha Kumari", "event_type": "Asha Kumari"}', (None, None)),
        (b"{not json", (None, None)),
        (b"[1, 2]", (None, None)),
        (None, (None, None)),
    ],
)
def test_a_dead_letter_names_only_a_well_formed_event_id_and_type(value, identity):
    assert dlq.identity(value) == identity


def test_a_record_nested_too_deep_to_decode_is_dead_lettered_not_fatal(pipeline, publisher, unit_settings):
    deep = b'{"event_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    registered = make("migrant.registered", 0)
    batch = pipeline.decode([message(deep, 0), message(registered, 1)])
    pipeline.store(batch)
    pipeline.publish(batch)
    assert timeline(pipeline) == [str(registered.event_id)]
    [letter] = publisher.on(unit_settings.dlq_topic)
    assert dict(letter.headers)["reason"].startswith(b"undecodable record: RecursionError")


def test_of_an_error_in_our_code_the_reason_gives_where_not_what():
    def fold_it(name):
        raise ValueError(f"cannot fold {name}")

    try:
        fold_it("Asha Kumari")
    except ValueError as error:
        reason = refusals.reason(error, "projection failed")
    assert reason.startswith("projection failed: ValueError: raised at tests/unit/worker/test_refusals.py:")
    assert reason.endswith(" in fold_it") and "Asha" not in reason


@pytest.mark.parametrize(
    ("error", "record_fault"),
    [
        (sa.DataError("INSERT", {}, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")), True),
        (psycopg.errors.InvalidParameterValue("refused by a trigger"), True),
        (psycopg.errors.RaiseException("refused by a trigger"), True),
        (sa.IntegrityError("INSERT", {}, psycopg.errors.CheckViolation("check")), True),
        (ValueError("a bug met by this record"), True),
        (sa.ProgrammingError("SELECT", {}, psycopg.errors.UndefinedColumn("column missing")), False),
        (sa.ProgrammingError("SELECT", {}, psycopg.errors.InsufficientPrivilege("permission denied")), False),
        (sa.OperationalError("INSERT", {}, psycopg.errors.DiskFull("no space left")), False),
        (sa.InternalError("INSERT", {}, psycopg.errors.InternalError_("internal")), False),
        (psycopg.OperationalError("server closed the connection"), False),
    ],
)
def test_only_what_a_record_causes_sets_records_aside(error, record_fault):
    assert refusals.is_record_fault(error) is record_fault


def test_a_fault_of_the_database_itself_dead_letters_nothing(pipeline, publisher):
    with pipeline.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {LIVE.timeline.name} RENAME COLUMN envelope TO gone"))
    batch = pipeline.decode([message(make("migrant.registered", 0), 0), message(make("case.note_added", 1), 1)])
    with pytest.raises(sa.OperationalError):  # SQLite's "no such column": left to the agent, nothing set aside
        pipeline.store(batch)
    assert batch.applied is None and batch.dead == []
