"""The demo generator: valid events, published by agencies whose mandate allows them, in the
mix of journeys and anomalies the demo promises, and the same journeys for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from events import may_publish, validate
from services.demo import bad_actors
from services.demo.journeys import TRAITS, generate
from services.domain import RuleConfig, project, sweep

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
N = 500


@pytest.fixture(scope="module")
def journeys():
    return generate(N, seed=7, now=NOW)


def test_every_event_validates_and_never_lies_in_the_future(journeys):
    for journey in journeys:
        for event in journey.events:
            checked = validate(event.envelope, now=NOW)
            assert checked.occurred_at <= NOW
            assert checked.case_id == journey.case_id


def test_every_event_is_published_by_an_agency_whose_mandate_allows_it(journeys):
    refused = {
        (e.kind, e.envelope["event_type"])
        for j in journeys
        for e in j.events
        if not may_publish(e.kind, e.envelope["event_type"])
    }
    assert refused == set()


def test_events_of_a_journey_are_in_time_order_with_unique_ids(journeys):
    ids = [e.envelope["event_id"] for j in journeys for e in j.events]
    assert len(ids) == len(set(ids))
    assert len({j.case_id for j in journeys}) == N
    for journey in journeys:
        times = [validate(e.envelope, now=NOW).occurred_at for e in journey.events]
        assert times == sorted(times), journey.case_id


def test_the_mix_holds_every_stage_and_every_trait(journeys):
    stages = Counter(j.stage for j in journeys)
    assert set(stages) == {"registered", "skilling", "job_ready", "recruiting", "cleared", "deployed", "returned"}
    assert stages["deployed"] > N * 0.3  # most of the demo is abroad right now
    traits = Counter(t for j in journeys for t in j.traits)
    expected = set(TRAITS) - {"detention", "death"}  # rare by design; N=500 need not hold them
    assert expected <= set(traits), expected - set(traits)
    anomalous = sum(1 for j in journeys if j.traits - {"returned", "remigration", "employer_changed"})
    assert anomalous < N * 0.5  # a minority


def test_the_views_would_raise_each_alert_the_mix_promises_and_none_for_quiet_journeys(journeys):
    """Folds every journey with the worker's own pure domain and sweeps at NOW."""
    config, raised = RuleConfig(), Counter()
    for journey in journeys:
        state, codes = None, set()
        for event in journey.events:
            state, changes = project(state, validate(event.envelope, now=NOW), config)
            codes |= {c.alert.code for c in changes if c.change == "raised"}
        codes |= {alert.code for alert in sweep(state, NOW, config)}
        raised.update(codes)
        if not journey.traits - {"returned", "remigration", "employer_changed"}:
            assert codes == set(), (journey.case_id, codes)
    for code in (
        "CONTRACT_SUBSTITUTION",
        "RECRUITMENT_FEE_CHARGED",
        "WAGE_UNPAID",
        "UNDERPAID",
        "DISTRESS",
        "ABUSE_REPORTED",
        "PASSPORT_CONFISCATED",
        "NOT_ARRIVED",
        "DEPARTED_WITHOUT_CLEARANCE",
        "WELFARE_CONCERN",
    ):
        assert raised[code] > 0, code


def test_money_is_in_the_destination_currency():
    currencies = {"SA": "SAR", "AE": "AED", "QA": "QAR", "MY": "MYR", "HK": "HKD", "JP": "JPY"}
    for journey in generate(200, seed=3, now=NOW):
        destination = None
        for event in journey.events:
            payload = event.envelope["payload"]
            if event.envelope["event_type"] == "recruitment.job_offer_made":
                destination = payload["destination_country"]
            if event.envelope["event_type"] == "deployment.wage_paid" and destination in currencies:
                assert payload["amount"]["currency"] == currencies[destination]


def test_the_same_seed_gives_the_same_journeys_and_another_seed_other_cases():
    first = generate(40, seed=11, now=NOW)
    assert first == generate(40, seed=11, now=NOW)
    assert generate(10, seed=11, now=NOW) == first[:10]  # journey i does not depend on the count
    other = generate(40, seed=12, now=NOW)
    assert {j.case_id for j in first}.isdisjoint(j.case_id for j in other)


def test_offers_spread_over_several_recruiting_agencies_each_publishing_its_own_recruitment(journeys):
    """SPEC 4a binding: a job offer names the agency that publishes it, and from that offer on the
    journey's recruiting-agent events are published by that agency (DemoEvent.agency_id); before
    any offer (registration) by the demo's first one. Events of other kinds: `demo-<kind>`."""
    named: Counter[str] = Counter()
    for journey in journeys:
        agency = "demo-recruiting_agent"
        for event in journey.events:
            envelope = event.envelope
            if envelope["event_type"] == "recruitment.job_offer_made":
                agency = envelope["payload"]["recruiting_agent_id"]
                named[agency] += 1
            if event.kind == "recruiting_agent":
                assert event.agency_id == agency, (journey.case_id, envelope["event_type"])
            else:
                assert event.agency_id == f"demo-{event.kind}"
    assert set(named) == set(bad_actors.agent_ids()) and min(named.values()) >= 20


def test_a_migrant_going_abroad_again_is_recruited_by_the_same_agency(journeys):
    """The gateway binds a case the views still show deployed to its latest offer's agency (SPEC 4a);
    the views lag the log, so the second offer must come from the first offer's agency."""
    again = 0
    for journey in journeys:
        agents = [
            e.envelope["payload"]["recruiting_agent_id"]
            for e in journey.events
            if e.envelope["event_type"] == "recruitment.job_offer_made"
        ]
        again += len(agents) > 1
        assert len(set(agents)) <= 1, journey.case_id
    assert again > 0


def test_bad_recruiting_agencies_charge_more_fees_and_substitute_more_contracts(journeys):
    offers: Counter[str] = Counter()
    troubled: Counter[str] = Counter()
    for journey in journeys:
        agency = None
        for event in journey.events:
            envelope = event.envelope
            if envelope["event_type"] == "recruitment.job_offer_made":
                agency = envelope["payload"]["recruiting_agent_id"]
                offers[agency] += 1
            elif envelope["event_type"] == "recruitment.fee_paid" and envelope["payload"]["paid_by"] == "migrant":
                troubled[agency] += 1
    rate = {agency: troubled[agency] / offers[agency] for agency in offers}
    bad = {bad_actors.agent_id(n) for n in bad_actors.BAD_AGENTS}
    assert min(rate[a] for a in bad) > 2 * max(rate[a] for a in rate if a not in bad)


def test_the_recruiting_agencies_are_the_same_for_the_same_seed():
    first, again = generate(40, seed=3, now=NOW), generate(40, seed=3, now=NOW)
    assert [[e.agency_id for e in j.events] for j in first] == [[e.agency_id for e in j.events] for j in again]
