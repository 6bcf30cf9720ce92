"""Case binding (SPEC section 4a) as a pure decision: every rule of the table, row by row."""

from __future__ import annotations

import pytest

from events import AgencyKind
from services.gateway.binding import CaseFacts, Party, after, needs_facts, refusal
from tests.factories import make

AGENT = Party("ra-1", AgencyKind.recruiting_agent)
EMPLOYER = Party("emp-agency", AgencyKind.employer, employer_id="E1")
DEPLOYED_ELSEWHERE = CaseFacts(stage="deployed", employer_id="E9", offer_agent_id="ra-2", contract_employer_id="E9")


def event(event_type: str, **payload):
    return make(event_type, 0, **payload)


@pytest.mark.parametrize(
    "facts, bound",
    [
        (None, True),  # not in the views yet
        (CaseFacts(stage=None), True),
        (CaseFacts(stage="registered"), True),
        (CaseFacts(stage="skilling"), True),
        (CaseFacts(stage="job_ready"), True),
        (CaseFacts(stage="returned", offer_agent_id="ra-2"), True),
        (CaseFacts(stage="recruiting", offer_agent_id="ra-2"), False),
        (CaseFacts(stage="cleared", offer_agent_id="ra-2"), False),
        (DEPLOYED_ELSEWHERE, False),
        (CaseFacts(stage="deployed", offer_agent_id="ra-1"), True),  # its latest offer is this agency's
    ],
)
def test_a_recruiting_agent_is_bound_by_stage_or_its_own_latest_offer(facts, bound):
    for sent in (
        event("migrant.registered"),
        event("recruitment.fee_paid"),
        event("recruitment.job_offer_made", recruiting_agent_id="ra-1"),
    ):
        assert (refusal(AGENT, sent, facts) is None) is bound, sent.event_type


def test_a_job_offer_must_name_the_publishing_agency():
    reason = refusal(AGENT, event("recruitment.job_offer_made", recruiting_agent_id="ra-2"), None)
    assert reason is not None and "recruiting_agent_id" in reason
    assert refusal(AGENT, event("recruitment.job_offer_made", recruiting_agent_id="ra-1"), None) is None


@pytest.mark.parametrize(
    "sent, facts, bound",
    [
        (event("deployment.employment_started", employer_id="E1"), None, True),  # names this employer
        (event("deployment.employer_changed", employer_id="E1"), DEPLOYED_ELSEWHERE, True),
        (event("deployment.employment_started", employer_id="E9"), None, False),
        (event("deployment.wage_paid"), None, False),
        (event("deployment.wage_paid"), CaseFacts(stage="deployed", employer_id="E1"), True),
        (event("deployment.wage_paid"), CaseFacts(stage="cleared", contract_employer_id="E1"), True),
        (event("deployment.wage_paid"), DEPLOYED_ELSEWHERE, False),
        (event("return.contract_ended"), DEPLOYED_ELSEWHERE, False),
    ],
)
def test_an_employer_is_bound_by_its_employer_id(sent, facts, bound):
    assert (refusal(EMPLOYER, sent, facts) is None) is bound


def test_an_employer_without_an_employer_id_publishes_as_its_agency_id():
    party = Party("E1", AgencyKind.employer)
    assert refusal(party, event("deployment.wage_paid"), CaseFacts(employer_id="E1")) is None


@pytest.mark.parametrize(
    "kind",
    [
        AgencyKind.skilling_body,
        AgencyKind.emigration_authority,
        AgencyKind.insurer,
        AgencyKind.mission,
        AgencyKind.helpline,
    ],
)
def test_national_consular_and_protection_mandates_are_bound_to_every_case(kind):
    assert not needs_facts(kind)
    for sent in (event("deployment.departed"), event("migrant.registered"), event("deployment.wage_paid")):
        assert refusal(Party("x", kind), sent, DEPLOYED_ELSEWHERE) is None


@pytest.mark.parametrize(
    "event_type",
    [
        "deployment.distress_reported",
        "deployment.incident_reported",
        "deployment.grievance_filed",
        "deployment.welfare_check_completed",
    ],
)
@pytest.mark.parametrize("party", [AGENT, EMPLOYER])
def test_protection_reports_are_never_refused_for_binding(event_type, party):
    assert refusal(party, event(event_type), DEPLOYED_ELSEWHERE) is None


def test_items_accepted_earlier_in_a_batch_count_for_the_later_ones():
    started = event("deployment.employment_started", employer_id="E1")
    facts = after(None, started, "deployed")
    assert refusal(EMPLOYER, event("deployment.wage_paid"), facts) is None
    offer = event("recruitment.job_offer_made", recruiting_agent_id="ra-1")
    facts = after(DEPLOYED_ELSEWHERE, offer, "recruiting")
    assert facts.stage == "recruiting" and facts.offer_agent_id == "ra-1"
    assert refusal(AGENT, event("recruitment.fee_paid"), facts) is None
