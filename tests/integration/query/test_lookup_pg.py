"""The case lookup's statements on psycopg's cursor (`services.query.lookup`) read what SQLAlchemy
reads from the same statement objects, row for row and value for value, and its audit row is
committed: over every seeded case (and a missing one), for each kind of jurisdiction."""

from __future__ import annotations

from sqlalchemy import func, select

from services.query.lookup import audit_read, case_rows, case_with_alerts, officer_row, on_psycopg
from services.query.scope import Jurisdiction
from services.query.sql import OFFICER_BY_TOKEN, audit, cases
from services.secrets import hash_secret

JURISDICTIONS = [
    Jurisdiction.of(["*"]),
    Jurisdiction.of(["dest:SA"]),
    Jurisdiction.of(["origin:Kerala"]),
    Jurisdiction.of(["dest:QA", "dest:AE", "origin:Punjab"]),
    Jurisdiction.of([]),
]


def test_the_driver_cursor_reads_the_cases_and_officers_sqlalchemy_reads(query_settings, query_world):
    engine, tokens = query_world
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        assert on_psycopg(conn)  # else this would compare SQLAlchemy with itself
        case_ids = [*conn.execute(select(cases.c.case_id)).scalars(), "XX-9999"]
        with_alerts = 0
        for jurisdiction in JURISDICTIONS:
            for case_id in case_ids:
                expected = [tuple(row) for row in conn.execute(case_with_alerts(jurisdiction), {"case_id": case_id})]
                assert [tuple(row) for row in case_rows(conn, jurisdiction, case_id)] == expected, (
                    jurisdiction,
                    case_id,
                )
                with_alerts += len(expected) > 1
        assert with_alerts > 0  # a case with several unresolved alerts was compared too
        for token in [*tokens.values(), "not-a-token"]:
            token_hash = hash_secret(query_settings.secret_key, token)
            expected_officer = conn.execute(OFFICER_BY_TOKEN, {"token_hash": token_hash}).first()
            found = officer_row(conn, token_hash)
            assert (None if found is None else tuple(found)) == (
                None if expected_officer is None else tuple(expected_officer)
            )


def test_the_audit_row_written_on_the_driver_cursor_is_committed(query_world):
    engine, _tokens = query_world
    trail = select(func.count()).select_from(audit).where(audit.c.officer_id == "lookup-test")
    with engine.connect() as reader:
        before = reader.execute(trail).scalar_one()
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        assert on_psycopg(conn)
        audit_read(conn, "lookup-test", "SA-0001", "read_case")
    with engine.connect() as reader:  # another connection sees it: committed, not left in a transaction
        assert reader.execute(trail).scalar_one() == before + 1
