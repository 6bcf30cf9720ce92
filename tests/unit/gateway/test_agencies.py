"""The agency registry: keys shown once, stored as an HMAC, rotated by adding again."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from events import AgencyKind, Source
from services.gateway.agencies import AGENCY_KINDS, AgencyDisabled, add_agency, authenticate, set_agency_disabled
from services.secrets import hash_secret
from services.storage.tables import Agency

SECRET = "unit-test-secret"


def test_a_new_agency_authenticates_with_its_key_and_only_a_hash_is_stored(sqlite_engine):
    issued = add_agency(sqlite_engine, SECRET, "ngo-1", "helpline")
    assert issued.key.startswith("pak_") and len(issued.key) > 40 and not issued.rotated
    with Session(sqlite_engine) as session:
        row = session.get(Agency, "ngo-1")
    assert row.key_hash == hash_secret(SECRET, issued.key) and issued.key not in row.key_hash
    assert authenticate(sqlite_engine, SECRET, issued.key) == Source(agency_id="ngo-1", agency_kind="helpline")
    assert authenticate(sqlite_engine, "another-server-secret", issued.key) is None


def test_adding_again_rotates_the_key_and_sets_the_kind(sqlite_engine):
    old = add_agency(sqlite_engine, SECRET, "ngo-1", "helpline")
    new = add_agency(sqlite_engine, SECRET, "ngo-1", "mission")
    assert new.rotated and new.previous_kind == "helpline"
    assert authenticate(sqlite_engine, SECRET, old.key) is None
    assert authenticate(sqlite_engine, SECRET, new.key).agency_kind is AgencyKind.mission


def test_adding_a_disabled_agency_is_refused_until_it_is_enabled(sqlite_engine):
    old = add_agency(sqlite_engine, SECRET, "ngo-1", "helpline")
    assert set_agency_disabled(sqlite_engine, "ngo-1", True)
    assert authenticate(sqlite_engine, SECRET, old.key) is None
    with pytest.raises(AgencyDisabled, match="passage agency enable ngo-1"):
        add_agency(sqlite_engine, SECRET, "ngo-1", "helpline")
    assert set_agency_disabled(sqlite_engine, "ngo-1", False)
    assert authenticate(sqlite_engine, SECRET, old.key).agency_id == "ngo-1"  # enabling keeps the key
    assert not set_agency_disabled(sqlite_engine, "nobody", True)


def test_an_employer_publishes_as_its_employer_id_by_default_its_agency_id(sqlite_engine):
    assert add_agency(sqlite_engine, SECRET, "emp-1", "employer").employer_id == "emp-1"
    assert add_agency(sqlite_engine, SECRET, "emp-2", "employer", employer_id="SA-E001").employer_id == "SA-E001"
    assert add_agency(sqlite_engine, SECRET, "emp-2", "employer").employer_id == "SA-E001"  # kept on rotation
    with pytest.raises(ValueError, match="employer-id"):
        add_agency(sqlite_engine, SECRET, "ngo-1", "helpline", employer_id="X")


def test_a_disabled_agency_does_not_authenticate(sqlite_engine):
    issued = add_agency(sqlite_engine, SECRET, "ngo-1", "helpline")
    with Session(sqlite_engine) as session:
        row = session.get(Agency, "ngo-1")
        row.disabled = True
        session.add(row)
        session.commit()
    assert authenticate(sqlite_engine, SECRET, issued.key) is None


def test_passage_itself_is_not_an_agency_kind(sqlite_engine):
    assert "passage" not in AGENCY_KINDS and "helpline" in AGENCY_KINDS
    with pytest.raises(ValueError, match="unknown agency kind"):
        add_agency(sqlite_engine, SECRET, "sneaky", "passage")
