"""Case binding (SPEC section 4a): an agency changes only the journeys it is party to.

A mandate says which event types an agency kind may publish; binding says for which cases. The
decision is pure: `refusal(party, event, facts)` takes the publisher, the validated event and what
the welfare view says about the case (`CaseFacts`, None when the case is not in the views yet)
and answers None (bound) or the reason it is not. `services.gateway.views` reads the facts;
`services.gateway.intake` asks before publishing and answers 403 `not_party_to_case`.

Decisions where the SPEC is silent:
- Within one batch, the items accepted before count as if they were in the views already
  (`after`): an employer's batch `employment_started` + `wage_paid` for a new job is bound as a
  whole, as it would be one event at a time once the worker has caught up.
- A case's stage is read from the views (which lag the log by the projection delay): an agency
  that publishes right after another agency's job offer may still be bound for a moment. The
  SPEC accepts this lag; the worker's fold is unaffected.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace

from events import AgencyKind, ContractSigned, EmployerChanged, EmploymentStarted, Envelope, JobOfferMade, carries
from services.gateway import referrals

NOT_PARTY = "not_party_to_case"
# Never refused for binding (SPEC 4a): whoever's mandate has them may report harm on any case.
PROTECTION_REPORTS = frozenset(
    {
        "deployment.distress_reported",
        "deployment.incident_reported",
        "deployment.grievance_filed",
        "deployment.welfare_check_completed",
    }
)
# National, consular or protection mandates: bound to every case.
UNBOUND_KINDS = frozenset(
    {
        AgencyKind.skilling_body,
        AgencyKind.emigration_authority,
        AgencyKind.insurer,
        AgencyKind.mission,
        AgencyKind.helpline,
        AgencyKind.passage,
    }
)
# A recruiting agent may act on a case in these stages whoever recruited it before.
OPEN_STAGES = frozenset({"registered", "skilling", "job_ready", "returned"})


@dataclass(frozen=True)
class Party:
    """The authenticated publisher as binding sees it."""

    agency_id: str
    kind: AgencyKind
    employer_id: str | None = None  # employers: the id they publish as (default: the agency id)

    @property
    def as_employer(self) -> str:
        return self.employer_id or self.agency_id


@dataclass(frozen=True)
class CaseFacts:
    """What the welfare view says about a case, as far as binding needs it."""

    stage: str | None = None
    employer_id: str | None = None
    offer_agent_id: str | None = None  # recruiting_agent_id of the case's latest job offer
    contract_employer_id: str | None = None  # employer_id of the case's latest signed contract
    referrals: Mapping[str, str] = field(default_factory=dict)  # referral_id -> to_agency_id (SPEC 10)


Rule = Callable[[Party, Envelope, CaseFacts | None], str | None]


def _offer_names_its_agent(party: Party, event: Envelope, _facts: CaseFacts | None) -> str | None:
    if not carries(event, JobOfferMade):
        raise ValueError(f"the job offer binding rule judges recruitment.job_offer_made, not {event.event_type}")
    named = event.payload.recruiting_agent_id
    if party.kind is AgencyKind.recruiting_agent and named != party.agency_id:
        return (
            f"a job offer from agency {party.agency_id} must name it as recruiting_agent_id "
            f"(it names {named!r}); publish offers only for your own recruitment"
        )
    return None


# Rules of one event type, checked before the publisher kind's rule; for the referral answers
# (SPEC section 10) the rule is the whole binding (`BOUND_BY_EVENT`).
EVENT_RULES: dict[str, Rule] = {
    "recruitment.job_offer_made": _offer_names_its_agent,
    **{answer: referrals.answered_by_the_agency_referred_to for answer in referrals.ANSWERS},
}
# Event types whose own rule is the whole binding, whatever the publisher's kind (SPEC section 10:
# the referral names the one agency that may answer it); their rule reads the views.
BOUND_BY_EVENT = frozenset(referrals.ANSWERS)


def _recruiting_agent(party: Party, event: Envelope, facts: CaseFacts | None) -> str | None:
    if facts is None or facts.stage is None or facts.stage in OPEN_STAGES or facts.offer_agent_id == party.agency_id:
        return None
    return (
        f"case {event.case_id} is {facts.stage} under another recruiting agent's job offer; "
        f"agency {party.agency_id} may publish for it only while it is registered, skilling, "
        "job_ready or returned, or once its latest job offer names this agency"
    )


def _employer(party: Party, event: Envelope, facts: CaseFacts | None) -> str | None:
    employer = party.as_employer
    if (carries(event, EmploymentStarted) or carries(event, EmployerChanged)) and event.payload.employer_id == employer:
        return None
    if facts is not None and employer in (facts.employer_id, facts.contract_employer_id):
        return None
    return (
        f"case {event.case_id} is not employed by {employer} (the employer id of agency {party.agency_id}) "
        "in the welfare view; an employer publishes only for its own employees, starting with "
        "deployment.employment_started naming its employer id"
    )


KIND_RULES: dict[AgencyKind, Rule] = {
    AgencyKind.recruiting_agent: _recruiting_agent,
    AgencyKind.employer: _employer,
}


def needs_facts(kind: AgencyKind, event_types: Collection[str] = ()) -> bool:
    """Whether deciding for this kind (and these event types) reads the views (the other kinds are
    bound to every case, and most event types have no rule of their own)."""
    return kind in KIND_RULES or any(event_type in BOUND_BY_EVENT for event_type in event_types)


def refusal(party: Party, event: Envelope, facts: CaseFacts | None) -> str | None:
    """None when `party` may publish `event` for its case; else why not (for a 403 message)."""
    if event.event_type in PROTECTION_REPORTS:
        return None
    event_rule = EVENT_RULES.get(event.event_type)
    reason = event_rule(party, event, facts) if event_rule else None
    if reason is not None or party.kind in UNBOUND_KINDS or event.event_type in BOUND_BY_EVENT:
        return reason
    kind_rule = KIND_RULES.get(party.kind)
    return kind_rule(party, event, facts) if kind_rule else None


def after(facts: CaseFacts | None, event: Envelope, stage: str | None) -> CaseFacts:
    """The facts once `event` (accepted, implying `stage`) is folded in: for later items of a batch."""
    facts = facts or CaseFacts()
    if stage is not None:
        facts = replace(facts, stage=stage)
    if carries(event, JobOfferMade):
        facts = replace(facts, offer_agent_id=event.payload.recruiting_agent_id)
    elif carries(event, ContractSigned):
        facts = replace(facts, contract_employer_id=event.payload.employer_id)
    elif carries(event, EmploymentStarted) or carries(event, EmployerChanged):
        facts = replace(facts, employer_id=event.payload.employer_id)
    return facts
