"""SPEC section 9 end to end on the real broker and PostgreSQL: nothing personal on the log in
clear, erasure by crypto-shredding (views, timeline, export and replays), consent, key rotation."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.demo.journeys import generate
from services.demo.publish import waves
from services.privacy import keystore
from services.privacy.keyring import Keyring
from services.privacy.rotation import rotate_with_settings
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.worker.replay import replay
from services.worker.views import LIVE
from tests.databases import scratch_database
from tests.integration.topics import read_to_end
from tests.live import WorkerProcess
from tests.polling import wait_until

pytestmark = pytest.mark.integration
PERSONAL = ("given_name", "family_name", "date_of_birth", "passport_number", "phone")


def publish_journeys(world, journeys) -> set[str]:
    """Every journey through the gateway's batch endpoint, each case in order; the accepted ids."""
    accepted = set()
    for batches in waves(journeys):
        for batch in batches:
            answer = world.gateway.post(
                "/v1/events/batch",
                json={"events": list(batch.events)},
                headers=world.agency(batch.agency_id if batch.agency_id in world.agency_keys else batch.kind),
            )
            assert answer.status_code == 200, answer.text
            results = answer.json()["results"]
            assert {r["status"] for r in results} == {"accepted"}, results
            accepted |= {r["event_id"] for r in results}
    return accepted


def raw_journey_records(settings) -> list[bytes]:
    return [record.value for record in read_to_end(settings)]


def outside_ciphertexts(raw: bytes) -> bytes:
    """The records' bytes with each sealed value blanked: a short name ("Das") turns up by chance
    in that much base64, so personal values are looked for in what is not ciphertext."""
    return re.sub(rb'\{"enc":"[^"]*"\}', b"{}", raw)


def applied(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(LIVE.timeline.c.event_id)).scalars())


def case_row(engine, case_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(LIVE.cases).where(LIVE.cases.c.case_id == case_id)).one()._mapping)


def alert_count(engine, case_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(LIVE.alerts).where(LIVE.alerts.c.case_id == case_id)
        ).scalar_one()


def registration(journey) -> dict:
    return next(e.envelope["payload"] for e in journey.events if e.envelope["event_type"] == "migrant.registered")


def assert_blank(timeline_events: list[dict]) -> None:
    for event in timeline_events:
        for name in (
            "given_name",
            "family_name",
            "date_of_birth",
            "passport_number",
            "phone",
            "description",
            "notes",
            "note",
            "text",
        ):
            assert event["payload"].get(name) is None, (event["event_type"], name)


def test_personal_data_is_sealed_on_the_log_erasable_and_consent_is_honoured(world, tmp_path, pg_admin_url):
    journeys = generate(25, seed=915, now=datetime.now(UTC))
    accepted = publish_journeys(world, journeys)

    # A plain consumer of the journey topic finds no name, passport number or phone in any record.
    raw = b"\n".join(raw_journey_records(world.settings))
    secrets = {
        value
        for j in journeys
        for name, value in registration(j).items()
        if name in ("given_name", "family_name", "passport_number", "phone") and value
    }
    assert b'{"enc":"' in raw
    assert secrets and [s for s in secrets if s.encode() in outside_ciphertexts(raw)] == []

    worker = WorkerProcess(world.settings, tmp_path / "worker.log").start()
    try:
        wait_until(
            lambda: applied(world.engine) >= accepted or not worker.alive(), timeout_s=120, what="the journeys applied"
        )
        assert worker.alive(), worker.log()

        # The worker decrypted what it folds.
        target = max(journeys, key=lambda j: (bool(registration(j).get("phone")), len(j.events)))
        plain = registration(target)
        case = world.query.get(f"/v1/cases/{target.case_id}", headers=world.officer("supervisor")).json()
        assert (case["given_name"], case["family_name"], case["phone"]) == (
            plain["given_name"],
            plain["family_name"],
            plain.get("phone"),
        )
        assert case["date_of_birth"] == plain["date_of_birth"] and case["erased"] is False

        # Consent withdrawn: an officer outside the case's origin sees no identity fields, a supervisor does.
        consent = {
            "event_id": str(uuid.uuid4()),
            "event_type": "migrant.consent_changed",
            "schema_version": 1,
            "case_id": target.case_id,
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": {"data_sharing": False},
        }
        assert world.gateway.post("/v1/events", json=consent, headers=world.agency("helpline")).status_code == 202
        wait_until(
            lambda: case_row(world.engine, target.case_id)["data_sharing"] is False,
            timeout_s=120,
            what="consent applied",
        )
        masked = world.query.get(f"/v1/cases/{target.case_id}", headers=world.officer("officer")).json()
        assert (masked["passport_number"], masked["phone"], masked["date_of_birth"]) == (None, None, None)
        assert masked["given_name"] == plain["given_name"]
        full = world.query.get(f"/v1/cases/{target.case_id}", headers=world.officer("supervisor")).json()
        assert full["phone"] == plain.get("phone") and full["date_of_birth"] == plain["date_of_birth"]

        # Erasure.
        before = case_row(world.engine, target.case_id)
        alerts_before = alert_count(world.engine, target.case_id)
        refused = world.query.post(
            f"/v1/cases/{target.case_id}/erasure", json={"reason": "asked"}, headers=world.officer("officer")
        )
        assert refused.status_code == 403
        answer = world.query.post(
            f"/v1/cases/{target.case_id}/erasure",
            json={"reason": "the migrant asked (art. 17)"},
            headers=world.officer("supervisor"),
        )
        assert answer.status_code == 202 and set(answer.json()) == {"event_id"}
        wait_until(lambda: case_row(world.engine, target.case_id)["erased"], timeout_s=120, what="the erasure applied")
    finally:
        assert worker.stop() == 0

    def check_erased(engine) -> None:
        row = case_row(engine, target.case_id)
        assert row["erased"] is True and row["erased_at"] is not None
        assert all(row[name] is None for name in PERSONAL)
        assert (row["stage"], row["destination_country"], row["open_alerts"]) == (
            before["stage"],
            before["destination_country"],
            before["open_alerts"],
        )
        assert alert_count(engine, target.case_id) == alerts_before

    check_erased(world.engine)
    with world.engine.connect() as conn:
        assert keystore.load(conn, Keyring.from_settings(world.settings), [target.case_id])[target.case_id].erased
    case = world.query.get(f"/v1/cases/{target.case_id}", headers=world.officer("supervisor")).json()
    assert case["erased"] is True and case["given_name"] is None and case["erased_at"]
    timeline = world.query.get(f"/v1/cases/{target.case_id}/timeline", headers=world.officer("supervisor")).json()[
        "events"
    ]
    assert_blank(timeline)
    export = world.query.get(f"/v1/cases/{target.case_id}/export", headers=world.officer("supervisor")).json()
    assert export["case"]["erased"] is True and export["case"]["given_name"] is None
    assert_blank(export["timeline"])
    assert {row["action"] for row in export["audit"]} >= {"read_case", "read_timeline"}
    assert len(export["alerts"]) == alerts_before
    assert world.query.get(f"/v1/cases/{target.case_id}/export", headers=world.officer("officer")).status_code == 403

    # Another case still reads in full: erasure is per case.
    other = next(j for j in journeys if j.case_id != target.case_id)
    assert case_row(world.engine, other.case_id)["given_name"] == registration(other)["given_name"]

    # A later event for the erased case is stored without personal fields.
    note = world.query.post(
        f"/v1/cases/{target.case_id}/notes", json={"text": "called back"}, headers=world.officer("supervisor")
    )
    assert note.status_code == 202

    # Replays, in place and into a fresh database, give the same blanked case.
    replay(world.settings, world.engine, progress=False)
    check_erased(world.engine)
    with scratch_database(pg_admin_url, "passage_privacy_fresh") as fresh_url:
        fresh_settings = world.settings.model_copy(update={"database_url": fresh_url})
        fresh = make_engine(fresh_settings)
        try:
            migrate(fresh)
            replay(fresh_settings, fresh, progress=False)
            row = case_row(fresh, target.case_id)
            assert row["erased"] is True and all(row[name] is None for name in PERSONAL)
            assert row["stage"] == before["stage"] and alert_count(fresh, target.case_id) == alerts_before
        finally:
            fresh.dispose()


def test_key_rotation_while_events_flow_loses_nothing(world, tmp_path):
    journeys = generate(40, seed=1515, now=datetime.now(UTC))
    first, second = journeys[:20], journeys[20:]
    accepted = publish_journeys(world, first)
    worker = WorkerProcess(world.settings, tmp_path / "worker.log").start()
    try:
        flowing: set[str] = set()
        publisher = threading.Thread(target=lambda: flowing.update(publish_journeys(world, second)))
        publisher.start()
        rotations = [rotate_with_settings(world.settings, world.engine) for _ in range(2)]
        publisher.join()
        accepted |= flowing
        wait_until(
            lambda: applied(world.engine) >= accepted or not worker.alive(), timeout_s=120, what="every event applied"
        )
        assert worker.alive(), worker.log()
    finally:
        assert worker.stop() == 0
    assert len({r.master_key_id for r in rotations}) == 2
    last = rotate_with_settings(world.settings, world.engine)  # also rewraps what a stale writer wrapped meanwhile
    with world.engine.connect() as conn:
        counts = keystore.count_by_master_key(conn)
        assert set(counts) == {last.master_key_id}
        names = dict(conn.execute(select(LIVE.cases.c.case_id, LIVE.cases.c.given_name)).all())
    for journey in journeys:
        assert names[journey.case_id] == registration(journey)["given_name"], journey.case_id


def test_reseal_copies_old_clear_text_records_into_a_sealed_topic(world):
    from services.kafka.producer import Publisher
    from services.privacy.reseal import reseal
    from tests.live import journey_records

    old = journey_records(world.settings, 5, seed=77)  # clear text, as written before encryption
    publisher = Publisher(world.settings)
    try:
        publisher.publish(old)
    finally:
        publisher.close()
    names = {json_name for record in old for json_name in _names(record.value)}
    assert names and any(name.encode() in b"".join(r.value for r in old) for name in names)

    prefix = f"r{uuid.uuid4().hex[:10]}"
    assert reseal(world.settings, world.engine, prefix) == len(old)
    target = world.settings.model_copy(update={"topic_prefix": prefix})
    raw = b"\n".join(raw_journey_records(target))
    assert [name for name in names if name.encode() in outside_ciphertexts(raw)] == []
    replay(target, world.engine, progress=False)
    with world.engine.connect() as conn:
        folded = set(conn.execute(select(LIVE.cases.c.given_name)).scalars())
    assert {name for name in names} <= folded | {None} and folded & names


def _names(value: bytes) -> list[str]:
    import json

    data = json.loads(value)
    return [data["payload"]["given_name"]] if data["event_type"] == "migrant.registered" else []
