"""Old versions stay readable: validate and decode upgrade them through pure upcasters.

SPEC defines only v1 of every type, so this proves the mechanism with a type local to the test,
added to a *copy* of the catalogue; the global CATALOGUE never sees it.
"""

import json

import pytest
from event_samples import NOW

from events import CATALOGUE, AgencyKind, InvalidEvent, decode, validate
from events.catalogue import EventSpec
from events.payloads import Payload
from events.types import Name
from events.upcasting import upcast, with_event


class ThingNamedV1(Payload):
    name: Name


class ThingNamed(Payload):  # v2 splits the name
    given_name: Name
    family_name: Name | None = None


def upcast_v1_v2(payload: dict) -> dict:
    given, _, family = payload.pop("name").partition(" ")
    return {**payload, "given_name": given, "family_name": family or None}


SPEC = EventSpec(
    "test.thing_named",
    2,
    {1: ThingNamedV1, 2: ThingNamed},
    None,
    frozenset({AgencyKind.passage}),
    upcasters={1: upcast_v1_v2},
)
LOCAL = with_event(CATALOGUE, SPEC)


def envelope(version: int, payload: dict) -> dict:
    return {
        "event_id": "0b7a5c1e-8a52-4c1e-9a49-2f4d2b0e7a10",
        "event_type": "test.thing_named",
        "schema_version": version,
        "case_id": "CASE-1",
        "occurred_at": "2026-03-01T09:00:00Z",
        "payload": payload,
    }


def test_a_v1_event_is_read_as_v2():
    event = validate(envelope(1, {"name": "Sita Rai"}), now=NOW, catalogue=LOCAL)
    assert event.schema_version == 2
    assert event.payload == ThingNamed(given_name="Sita", family_name="Rai")


def test_decode_upcasts_records_from_the_log():
    record = {
        **envelope(1, {"name": "Ram"}),
        "recorded_at": "2026-03-01T09:00:01Z",
        "source": {"agency_id": "sweep", "agency_kind": "passage"},
    }
    event = decode(json.dumps(record).encode(), catalogue=LOCAL)
    assert (event.schema_version, event.payload.given_name, event.payload.family_name) == (2, "Ram", None)


def test_v2_is_read_as_is_and_v1_problems_use_v1_field_names():
    assert validate(envelope(2, {"given_name": "Ram"}), now=NOW, catalogue=LOCAL).payload.given_name == "Ram"
    with pytest.raises(InvalidEvent) as caught:
        validate(envelope(1, {"given_name": "Ram"}), now=NOW, catalogue=LOCAL)
    assert {p.path for p in caught.value.problems} == {"payload.name", "payload.given_name"}
    with pytest.raises(InvalidEvent, match="unknown schema_version 3 for test.thing_named; known: 1, 2"):
        validate(envelope(3, {"given_name": "Ram"}), now=NOW, catalogue=LOCAL)


def test_upcasters_are_pure_and_the_global_catalogue_is_untouched():
    original = {"name": "Sita Rai"}
    assert upcast(SPEC, original, 1) == {"given_name": "Sita", "family_name": "Rai"}
    assert original == {"name": "Sita Rai"}
    assert "test.thing_named" not in CATALOGUE
    with pytest.raises(InvalidEvent, match="unknown event type 'test.thing_named'"):
        validate(envelope(2, {"given_name": "Ram"}), now=NOW)


def test_a_version_without_its_upcaster_is_refused_when_the_catalogue_is_built():
    with pytest.raises(ValueError, match="upcasters from \\[1\\]"):
        EventSpec("test.thing_named", 2, {1: ThingNamedV1, 2: ThingNamed}, None, frozenset())
