"""services/privacy without I/O beyond a SQLite key store: sealing, opening, erasure, consent, keys."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

import events
from services.config import Settings
from services.kafka.producer import Record
from services.privacy import Opener, Sealer, keystore, mask_case, personal_fields, sees_identity
from services.privacy.keyring import Keyring, MasterKeyMissing, parse_master_key
from services.worker.dlq import Message
from services.worker.pipeline import decode_one
from tests.factories import fold, make

KEYRING = Keyring.of(os.urandom(32))


def record_of(event: events.Envelope) -> Record:
    return Record("t", event.case_id, events.encode(event), (("event_type", event.event_type.encode()),))


def message_of(record: Record) -> Message:
    return Message("t", 0, 0, record.key.encode(), record.value)


@pytest.fixture
def sealer(sqlite_engine) -> Sealer:
    return Sealer(sqlite_engine, KEYRING)


def test_personal_fields_are_found_by_name_in_each_model():
    assert personal_fields("migrant.registered") == (
        "given_name",
        "family_name",
        "date_of_birth",
        "passport_number",
        "phone",
    )
    assert personal_fields("case.note_added") == ("text",)
    assert personal_fields("deployment.wage_paid") == ()
    assert personal_fields("case.erasure_requested") == ()  # the reason stays, for accountability


def test_a_sealed_registration_holds_no_personal_value_and_opens_to_the_same_event(sealer, sqlite_engine):
    event = make(
        "migrant.registered", given_name="Asha", family_name="Verma", passport_number="K1234567", phone="+919812345678"
    )
    [sealed] = sealer.seal([record_of(event)])
    for secret in (b"Asha", b"Verma", b"K1234567", b"+919812345678"):
        assert secret not in sealed.value
    assert ("encryption", b"passage-fields-v1") in sealed.headers
    delivered, reason = decode_one(message_of(sealed), Opener.for_batch(sqlite_engine, KEYRING, [sealed.key.encode()]))
    assert reason == "" and delivered.event == event
    assert json.loads(delivered.envelope)["payload"]["given_name"] == "Asha"


def test_records_without_personal_fields_pass_untouched(sealer):
    record = record_of(make("deployment.wage_paid"))
    assert sealer.seal([record]) == [record]


def test_a_clear_text_record_of_schema_version_1_stays_readable(sqlite_engine):
    event = make("migrant.registered", given_name="Ravi")
    delivered, reason = decode_one(message_of(record_of(event)), Opener.for_batch(sqlite_engine, KEYRING, [b"x"]))
    assert delivered.event == event


def test_an_erased_case_opens_blank_whatever_the_record(sealer, sqlite_engine):
    registered = make("migrant.registered", given_name="Asha")
    sealed = sealer.seal([record_of(registered)])[0]
    with sqlite_engine.begin() as conn:
        keystore.destroy(conn, [registered.case_id], registered.occurred_at)
    opener = Opener.for_batch(sqlite_engine, KEYRING, [registered.case_id.encode()])
    for record in (sealed, record_of(registered)):  # sealed, and an old clear-text copy
        delivered, reason = decode_one(message_of(record), opener)
        assert reason == "" and delivered.event.payload.given_name is None
        assert json.loads(delivered.envelope)["payload"]["date_of_birth"] is None
    # No key is created again for it: later records say the fields are erased.
    later = sealer.seal([record_of(make("case.note_added", 5, text="called"))])[0]
    assert json.loads(later.value)["payload"]["text"] == {"erased": True}
    delivered, _ = decode_one(message_of(later), opener)
    assert delivered.event.payload.text is None


def test_a_tampered_field_is_a_dead_letter(sealer, sqlite_engine):
    sealed = sealer.seal([record_of(make("case.note_added", text="secret"))])[0]
    data = json.loads(sealed.value)
    blob = bytearray(base64.b64decode(data["payload"]["text"]["enc"]))
    blob[-1] ^= 1
    data["payload"]["text"]["enc"] = base64.b64encode(bytes(blob)).decode()
    tampered = Record(sealed.topic, sealed.key, json.dumps(data).encode())
    delivered, reason = decode_one(
        message_of(tampered), Opener.for_batch(sqlite_engine, KEYRING, [sealed.key.encode()])
    )
    assert delivered is None and "does not decrypt" in reason


def test_erasure_blanks_the_fold_in_any_order_and_keeps_the_facts():
    stream = [
        make("migrant.registered", 0, given_name="Asha", passport_number="K1", phone="+91"),
        make("deployment.departed", 5),
        make("deployment.distress_reported", 6),
        make("case.erasure_requested", 10),
    ]
    kept, _ = fold(stream[:-1])
    forward, _ = fold(stream)
    backward, _ = fold(reversed(stream))
    for state in (forward, backward):
        assert state.erased and state.given_name is None and state.passport_number is None and state.phone is None
        assert (state.stage, state.open_alerts, state.destination_country) == (
            kept.stage,
            kept.open_alerts,
            kept.destination_country,
        )
    assert forward.erased_at == backward.erased_at


@pytest.mark.parametrize(
    ("data_sharing", "origin", "supervisor", "origins", "sees"),
    [
        (True, "Kerala", False, set(), True),
        (None, "Kerala", False, set(), True),
        (False, "Kerala", False, set(), False),
        (False, "Kerala", True, set(), True),
        (False, "Kerala", False, {"Kerala"}, True),
        (False, "Kerala", False, {"Bihar"}, False),
    ],
)
def test_consent_decides_who_sees_identity(data_sharing, origin, supervisor, origins, sees):
    assert sees_identity(data_sharing, origin, supervisor=supervisor, origins=origins) is sees
    case = {
        "data_sharing": data_sharing,
        "origin_region": origin,
        "phone": "+91",
        "passport_number": "K1",
        "date_of_birth": "1990-01-01",
        "given_name": "Asha",
    }
    masked = mask_case(case, supervisor=supervisor, origins=origins)
    assert masked["given_name"] == "Asha"
    assert (masked["phone"] is not None) is sees


def test_consent_changed_is_the_latest_consent():
    state, _ = fold([make("migrant.registered", 0), make("migrant.consent_changed", 5, data_sharing=False)])
    assert state.data_sharing is False
    state, _ = fold([make("migrant.consent_changed", 5, data_sharing=True), make("migrant.registered", 0)])
    assert state.data_sharing is True


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_rewrapping_under_a_new_master_key_keeps_the_data_key(old, new):
    data_key = b"k" * 32
    wrapped = Keyring.of(old).wrap("C-1", data_key)
    rotating = Keyring.of(new, old)
    assert rotating.unwrap("C-1", wrapped, Keyring.of(old).current_id) == data_key
    rewrapped = rotating.wrap("C-1", data_key)
    assert Keyring.of(new).unwrap("C-1", rewrapped, rotating.current_id) == data_key


def test_a_data_key_under_an_unknown_master_key_is_refused_with_what_to_do():
    wrapped = Keyring.of(b"a" * 32).wrap("C-1", b"k" * 32)
    with pytest.raises(MasterKeyMissing, match="PASSAGE_MASTER_KEY_PREVIOUS"):
        Keyring.of(b"b" * 32).unwrap("C-1", wrapped, Keyring.of(b"a" * 32).current_id)


def test_master_keys_must_be_32_bytes_of_base64():
    with pytest.raises(ValueError, match="32 bytes"):
        parse_master_key(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="not base64"):
        parse_master_key("not base64!")


def test_production_refuses_to_start_without_a_master_key():
    from services.cli import NEEDS_MASTER_KEY, require_master_key
    from services.errors import CommandError

    production = Settings(env="production", secret_key="s" * 40, database_url="postgresql://x/y")
    assert {"gateway", "query", "worker", "up"} <= NEEDS_MASTER_KEY
    with pytest.raises(CommandError, match="PASSAGE_MASTER_KEY is not set"):
        require_master_key(production)
    require_master_key(production.model_copy(update={"master_key": base64.b64encode(b"m" * 32).decode()}))
    with pytest.raises(MasterKeyMissing):  # an app built in-process without it fails on first use
        Keyring.from_settings(production).wrap("C-1", b"k" * 32)


def test_development_generates_a_private_master_key_once(tmp_path):
    settings = Settings(env="test", var_dir=tmp_path / "var")
    first = Keyring.from_settings(settings)
    assert (tmp_path / "var" / "master.key").stat().st_mode & 0o777 == 0o600
    assert Keyring.from_settings(Settings(env="test", var_dir=tmp_path / "var")).current_id == first.current_id
