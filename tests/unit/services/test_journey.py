"""Every writer of the journey topic makes the same record (issue 19): the gateway's intake and
the worker's sweep, each wired by its own bootstrap, publish records with the same headers, and
the journey publisher seals personal fields whoever calls it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from events import AgencyKind, Source
from services.bootstrap import bootstrap
from services.config import Settings
from services.gateway.bootstrap import bootstrap as bootstrap_gateway
from services.journey import journey_record
from services.kafka.producer import Record
from services.worker.sweep import sweep_once
from tests.factories import NO_ESCALATION, make, new_event
from tests.fakes import FakePublisher
from tests.views import store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ENVELOPE_HEADERS = ["event_type", "schema_version", "event_id"]
ENCRYPTION = ("encryption", b"passage-fields-v1")


def settings_in(tmp_path) -> Settings:
    return Settings(env="test", topic_prefix="unit", var_dir=tmp_path, _env_file=None)


def headers_of(record: Record) -> dict[str, bytes]:
    return dict(record.headers)


def envelope_headers_agree(record: Record) -> bool:
    """The three envelope headers come first, and say what the record's value says."""
    value = json.loads(record.value)
    expected = [(name, str(value[name]).encode()) for name in ENVELOPE_HEADERS]
    return list(record.headers[:3]) == expected and record.key == value["case_id"]


def test_a_sweep_record_carries_the_headers_a_gateway_record_does(tmp_path, sqlite_engine):
    settings = settings_in(tmp_path)
    gateway_out, worker_out = FakePublisher(), FakePublisher()
    gateway = bootstrap_gateway(settings, engine=sqlite_engine, publisher=gateway_out)
    helpline = Source(agency_id="helpline-1", agency_kind=AgencyKind.helpline)
    gateway.intake.singles([(new_event("deployment.welfare_check_completed", case_id="CASE-0001"), helpline)])

    # Departed in January 2025 and never arrived: NOT_ARRIVED and NO_WELFARE_CHECK are due at NOW.
    departed = [
        make("migrant.registered", 0, case_id="CASE-0001"),
        make("deployment.departed", 10, case_id="CASE-0001"),
    ]
    store(sqlite_engine, departed, NOW, NO_ESCALATION)
    worker = bootstrap(settings, engine=sqlite_engine, publisher=worker_out)
    assert sweep_once(settings, sqlite_engine, worker.journey, set(range(12)), 12, now=NOW) >= 2

    [from_gateway] = gateway_out.records
    assert worker_out.records and all(record.topic == from_gateway.topic for record in worker_out.records)
    for record in [from_gateway, *worker_out.records]:
        assert [name for name, _value in record.headers] == ENVELOPE_HEADERS
        assert envelope_headers_agree(record)


def test_the_journey_publisher_seals_personal_fields_and_says_so_in_a_header(tmp_path, sqlite_engine):
    settings = settings_in(tmp_path)
    out = FakePublisher()
    clients = bootstrap(settings, engine=sqlite_engine, publisher=out)
    registered = make("migrant.registered", 0, case_id="CASE-0002", recorded_at=datetime(2026, 1, 1, tzinfo=UTC))
    clients.journey.publish([journey_record(settings.journey_topic, registered)])

    [record] = out.records
    assert envelope_headers_agree(record) and headers_of(record)["encryption"] == ENCRYPTION[1]
    assert record.headers[3:] == (ENCRYPTION,)
    assert json.loads(record.value)["payload"]["given_name"].keys() == {"enc"}
    assert b"Asha" not in record.value
