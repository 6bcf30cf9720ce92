"""Single events taken together (services.gateway.grouping): each request is answered its own."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sqlalchemy_events

from events import Source
from services.gateway.admission import Admitted, MalformedJson, Refused
from services.gateway.agencies import Credentials, KeyRefused, add_agency, set_agency_disabled
from services.gateway.grouping import Singles
from services.gateway.intake import Intake
from services.gateway.views import CaseViews
from services.kafka.producer import PublishFailed, Record
from tests.factories import new_event
from tests.fakes import FakePublisher
from tests.polling import wait_until

SECRET = "test-secret"


class GatedPublisher(FakePublisher):
    """Holds its first publish until `release` is set, so the next requests queue meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()
        self.groups: list[list[str]] = []

    def publish(self, records: Sequence[Record]) -> None:
        self.entered.set()
        assert self.release.wait(timeout=10)
        self.groups.append([json.loads(record.value)["event_id"] for record in records])
        super().publish(records)


@pytest.fixture
def publisher() -> GatedPublisher:
    return GatedPublisher()


@pytest.fixture
def credentials(sqlite_engine) -> Credentials:
    return Credentials(sqlite_engine, SECRET)


@pytest.fixture
def singles(sqlite_engine, publisher, credentials) -> Singles:
    intake = Intake(publisher, "unit.journey.v1", views=CaseViews(sqlite_engine))
    return Singles(credentials, intake, parallel=1)


def _key_hash(sqlite_engine, credentials: Credentials, agency_id: str, kind: str = "helpline") -> str:
    return credentials.key_hash(add_agency(sqlite_engine, SECRET, agency_id, kind).key)


async def _while_the_first_is_held(singles: Singles, publisher: GatedPublisher, first: bytes, key: str, later):
    """Submit `first`; once its group is publishing, submit `later` ((key_hash, body) pairs), then release."""
    held = asyncio.ensure_future(singles.submit(key, first))
    assert await asyncio.to_thread(publisher.entered.wait, 10)
    others = [asyncio.ensure_future(singles.submit(key_hash, body)) for key_hash, body in later]
    await asyncio.sleep(0)  # let them queue behind the group in hand
    publisher.release.set()
    return await asyncio.gather(held, *others, return_exceptions=True)


def test_requests_queued_meanwhile_are_taken_together_and_each_is_answered_its_own(
    sqlite_engine, credentials, singles, publisher
):
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    employer = _key_hash(sqlite_engine, credentials, "employer-1", "employer")
    first, second, third = new_event(), new_event(), new_event()
    invalid = new_event(payload={"channel": "carrier pigeon"})
    not_party = new_event("deployment.wage_paid")  # an employer with no employee of that case
    later = [
        (helpline, json.dumps(second).encode()),
        (credentials.key_hash("pak_not-a-key"), json.dumps(new_event()).encode()),
        (helpline, b"{not json"),
        (helpline, json.dumps(invalid).encode()),
        (employer, json.dumps(not_party).encode()),
        (helpline, json.dumps(third).encode()),
    ]
    results = asyncio.run(_while_the_first_is_held(singles, publisher, json.dumps(first).encode(), helpline, later))

    accepted, ok, bad_key, malformed, unfit, unbound, last = results
    assert isinstance(accepted, Admitted) and accepted.event_id == first["event_id"]
    assert isinstance(ok, Admitted) and ok.event_id == second["event_id"]
    assert isinstance(bad_key, KeyRefused)
    assert isinstance(malformed, MalformedJson)
    assert isinstance(unfit, Refused) and unfit.code == "invalid"
    assert isinstance(unbound, Refused) and unbound.code == "not_party_to_case"
    assert isinstance(last, Admitted) and last.record.value and last.event_id == third["event_id"]
    assert publisher.groups == [[first["event_id"]], [second["event_id"], third["event_id"]]]


def test_the_next_group_is_decided_and_published_while_the_one_before_waits_for_kafka(
    sqlite_engine, credentials, publisher
):
    singles = Singles(credentials, Intake(publisher, "unit.journey.v1", views=CaseViews(sqlite_engine)), parallel=2)
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    first, second = new_event(), new_event()

    async def scenario():
        held = asyncio.ensure_future(singles.submit(helpline, json.dumps(first).encode()))
        assert await asyncio.to_thread(publisher.entered.wait, 10)
        publisher.entered.clear()
        later = asyncio.ensure_future(singles.submit(helpline, json.dumps(second).encode()))
        # The first group is still held in publish; the second reaches publish all the same.
        assert await asyncio.to_thread(publisher.entered.wait, 10)
        publisher.release.set()
        return await asyncio.gather(held, later)

    results = asyncio.run(scenario())
    assert [result.event_id for result in results] == [first["event_id"], second["event_id"]]
    assert sorted(publisher.groups) == sorted([[first["event_id"]], [second["event_id"]]])


class GatedViews(CaseViews):
    """Holds each read of stored events until `release` is set; counts the reads begun."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.reads, self.release = 0, threading.Event()

    def stored(self, event_ids, connection=None):
        self.reads += 1
        assert self.release.wait(timeout=10)
        return super().stored(event_ids, connection)


def test_one_group_is_decided_at_a_time_and_the_requests_meanwhile_wait_for_it(sqlite_engine, credentials):
    views = GatedViews(sqlite_engine)
    publisher = FakePublisher()
    singles = Singles(credentials, Intake(publisher, "unit.journey.v1", views=views), parallel=4, deciding=1)
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    events = [new_event() for _ in range(3)]

    async def scenario():
        first = asyncio.ensure_future(singles.submit(helpline, json.dumps(events[0]).encode()))
        await asyncio.to_thread(wait_until, lambda: views.reads == 1, 10, "the first group reading the views", 0.01)
        later = [asyncio.ensure_future(singles.submit(helpline, json.dumps(event).encode())) for event in events[1:]]
        views.release.set()
        return await asyncio.gather(first, *later)

    results = asyncio.run(scenario())
    assert all(isinstance(result, Admitted) for result in results)
    # The two sent while the first was decided waited and were taken together (two groups
    # deciding at once would have started one for the second alone, and a third for the last).
    assert views.reads == 2
    assert [json.loads(record.value)["event_id"] for record in publisher.records] == [e["event_id"] for e in events]


def test_kafka_failing_fails_the_admitted_events_of_the_group_and_no_refusal(
    sqlite_engine, credentials, singles, publisher
):
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    publisher.down = True
    invalid = new_event(payload={"channel": "carrier pigeon"})
    later = [
        (helpline, json.dumps(new_event()).encode()),
        (helpline, b"["),
        (helpline, json.dumps(invalid).encode()),
    ]
    results = asyncio.run(
        _while_the_first_is_held(singles, publisher, json.dumps(new_event()).encode(), helpline, later)
    )
    assert [type(result) for result in results] == [PublishFailed, PublishFailed, MalformedJson, Refused]
    assert results[-1].code == "invalid"  # its own answer (422), as if it had come alone
    assert publisher.records == []


def test_requests_read_in_the_same_loop_iteration_start_one_group(sqlite_engine, credentials, singles, publisher):
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    events = [new_event() for _ in range(3)]
    publisher.release.set()

    async def scenario():  # three requests whose handlers all run in the next iteration, as a burst does
        return await asyncio.gather(*(singles.submit(helpline, json.dumps(event).encode()) for event in events))

    results = asyncio.run(scenario())
    assert all(isinstance(result, Admitted) for result in results)
    assert publisher.groups == [[event["event_id"] for event in events]]


def test_a_group_is_decided_on_one_connection_given_back_before_it_publishes(sqlite_engine, credentials):
    employer = _key_hash(sqlite_engine, credentials, "employer-1", "employer")  # reads the views: facts too
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    taken: list[object] = []
    sqlalchemy_events.listen(sqlite_engine, "checkout", lambda *_args: taken.append("out"))
    sqlalchemy_events.listen(sqlite_engine, "checkin", lambda *_args: taken.append("in"))

    class Publisher(FakePublisher):
        def publish(self, records: Sequence[Record]) -> None:
            taken.append("publish")
            super().publish(records)

    singles = Singles(credentials, Intake(Publisher(), "unit.journey.v1", views=CaseViews(sqlite_engine)))
    started = new_event("deployment.employment_started", payload={"employer_id": "employer-1", "contract_id": "K1"})
    results = singles.take(
        [(employer, json.dumps(started).encode()), (helpline, json.dumps(new_event()).encode()), (helpline, b"[")]
    )
    assert [type(result) for result in results] == [Admitted, Admitted, MalformedJson]
    assert taken == ["out", "in", "publish"]


def test_a_key_disabled_while_its_request_queued_is_refused(sqlite_engine, credentials, singles, publisher):
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    mission = _key_hash(sqlite_engine, credentials, "mission-1", "mission")

    async def scenario():
        held = asyncio.ensure_future(singles.submit(helpline, json.dumps(new_event()).encode()))
        assert await asyncio.to_thread(publisher.entered.wait, 10)
        queued = asyncio.ensure_future(singles.submit(mission, json.dumps(new_event()).encode()))
        await asyncio.sleep(0)
        set_agency_disabled(sqlite_engine, "mission-1", True)
        publisher.release.set()
        return await asyncio.gather(held, queued, return_exceptions=True)

    held, queued = asyncio.run(scenario())
    assert isinstance(held, Admitted) and isinstance(queued, KeyRefused)
    assert len(publisher.records) == 1


def test_a_conflicting_copy_later_in_the_same_group_is_409(sqlite_engine, credentials, singles, publisher):
    helpline = _key_hash(sqlite_engine, credentials, "helpline-1")
    event = new_event()
    copy = dict(event)
    other = {**event, "payload": {**event["payload"], "wellbeing": "distress"}}
    later = [(helpline, json.dumps(copy).encode()), (helpline, json.dumps(other).encode())]
    held, same, conflicting = asyncio.run(
        _while_the_first_is_held(singles, publisher, json.dumps(new_event()).encode(), helpline, later)
    )
    assert isinstance(held, Admitted) and isinstance(same, Admitted)
    assert isinstance(conflicting, Refused) and conflicting.code == "conflicting_duplicate"


# A pool of items for the property below: valid ones, a copy and a conflicting copy of one
# event_id, this agency's job offer and one naming another agency, event types outside the
# mandate, an invalid event.
_FIRST = new_event("migrant.registered", case_id="IN-2026-000001")
_POOL = [
    _FIRST,
    dict(_FIRST),
    {**_FIRST, "case_id": "IN-2026-000002"},
    new_event(
        "recruitment.job_offer_made",
        case_id="IN-2026-000001",
        payload={**new_event("recruitment.job_offer_made")["payload"], "recruiting_agent_id": "recruiting_agent-1"},
    ),
    new_event(
        "recruitment.job_offer_made",
        case_id="IN-2026-000003",
        payload={**new_event("recruitment.job_offer_made")["payload"], "recruiting_agent_id": "someone-else"},
    ),
    new_event("deployment.wage_paid"),
    new_event(payload={"channel": "carrier pigeon"}),
    new_event("migrant.registered", case_id="not a case id"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(min_value=0, max_value=len(_POOL) - 1), max_size=8))
def test_one_agency_s_events_taken_together_fare_as_the_same_events_in_one_batch(sqlite_engine, picks):
    """A group of one agency's single events is decided exactly as a batch of them would be."""
    items = [_POOL[pick] for pick in picks]
    source = Source(agency_id="recruiting_agent-1", agency_kind="recruiting_agent")
    clock = lambda: datetime(2026, 12, 6, tzinfo=UTC)  # noqa: E731
    grouped = Intake(FakePublisher(), "unit.journey.v1", clock, views=CaseViews(sqlite_engine))
    batched = Intake(FakePublisher(), "unit.journey.v1", clock, views=CaseViews(sqlite_engine))
    assert grouped.singles([(item, source) for item in items]) == batched.batch(
        json.dumps({"events": items}).encode(), source
    )
