"""The welfare projection: `apply(state, event) -> state`, a pure fold (SPEC section 5).

`HANDLERS` is the one table that says what each event type does to a case. Every handler writes
through `CaseState.put` (last-writer-wins by the key (occurred_at, recorded_at, event_id)), so
the welfare fields are a function of the set of events: any arrival order, with any duplicates,
gives the same fields. Decisions where SPEC is silent:
- destination_country and employer_id: from the latest event that carries one (offer, clearance,
  visa, departure, arrival / offer, contract, employment start, employer change);
- occupation_code: latest certification or job offer (SPEC); assessments and training do not set it;
- contract: the latest contract referenced (signed, employment started, employer changed), with
  wage and months from its contract_signed event when one is known;
- the previous journey's facts (departed_at, returned_at, ...) stay until a new event replaces them;
  the time rules scope themselves to the current deployment (see `rules`).
- case.* events change no welfare field but count as events of the case.
- personal data (SPEC section 9): `data_sharing` is the latest consent by key (registration or
  `migrant.consent_changed`); `case.erasure_requested` blanks every personal field and each
  alert's officer note whatever the order (an erased field never comes back: the worker opens
  every later record of an erased case with its personal fields blank), and marks the case
  erased at the request's occurred_at (the earliest request, if there are several).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events import Envelope, stage_of
from services.domain import casework
from services.domain.state import CaseState, Key, Offer, Signed, Wage, key_of

Handler = Callable[[CaseState, Key, Any], None]


def when_registered_record_identity(s: CaseState, k: Key, p: Any) -> None:
    s.put(
        k, given_name=p.given_name, family_name=p.family_name, nationality=p.nationality, origin_region=p.origin_region
    )
    s.put(
        k,
        date_of_birth=p.date_of_birth,
        passport_number=p.passport_number,
        phone=p.phone,
        data_sharing=p.consent.data_sharing,
    )
    if s.erased:
        _blank_identity(s)


def when_consent_changed_record_consent(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, data_sharing=p.data_sharing)


def when_erasure_requested_blank_personal_data(s: CaseState, k: Key, p: Any) -> None:
    s.erased = True
    s.erased_at = k[0] if s.erased_at is None else min(s.erased_at, k[0])
    _blank_identity(s)
    for alert_id, alert in s.alerts.items():
        if alert.note is not None:
            s.alerts[alert_id] = alert.model_copy(update={"note": None})


def _blank_identity(s: CaseState) -> None:
    for name in ("given_name", "family_name", "date_of_birth", "passport_number", "phone"):
        setattr(s, name, None)


def when_certified_record_occupation(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, occupation_code=p.occupation_code)


def when_offered_record_offer(s: CaseState, k: Key, p: Any) -> None:
    offer = Offer(
        key=k,
        employer_id=p.employer_id,
        monthly_wage=p.monthly_wage,
        contract_months=p.contract_months,
        recruiting_agent_id=p.recruiting_agent_id,
    )
    _merge(s.offers, p.offer_id, offer)
    s.put(k, occupation_code=p.occupation_code, destination_country=p.destination_country, employer_id=p.employer_id)


def when_signed_record_contract(s: CaseState, k: Key, p: Any) -> None:
    signed = Signed(
        key=k,
        offer_id=p.offer_id,
        employer_id=p.employer_id,
        monthly_wage=p.monthly_wage,
        contract_months=p.contract_months,
    )
    _merge(s.contracts, p.contract_id, signed)
    s.put(k, contract_id=p.contract_id, employer_id=p.employer_id)


def when_cleared_record_clearance(s: CaseState, k: Key, p: Any) -> None:
    # The earliest grant per destination is what "cleared before departing" needs; min is a set fold.
    earliest = s.clearances.get(p.destination_country)
    s.clearances[p.destination_country] = k[0] if earliest is None else min(earliest, k[0])
    s.put(k, destination_country=p.destination_country)


def when_visa_issued_record_validity(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, visa_valid_until=p.valid_until, destination_country=p.destination_country)


def when_insured_record_validity(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, insurance_valid_until=p.valid_until)


def when_departed_record_departure(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, departed_at=k[0], destination_country=p.destination_country)


def when_arrived_record_arrival(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, arrived_at=k[0], destination_country=p.destination_country)


def when_employed_record_employment(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, employment_started_at=k[0], employer_id=p.employer_id, contract_id=p.contract_id)


def when_employer_changed_record_employer(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, employer_id=p.employer_id, contract_id=p.contract_id)


def when_paid_record_wage(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, last_wage_period=p.period, last_wage_at=k[0])
    _merge(s.wages, p.period, Wage(key=k, amount=p.amount))


def when_checked_record_wellbeing(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, last_welfare_check_at=k[0], wellbeing=p.wellbeing.value)


def when_distress_reported_record_distress(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, wellbeing="distress")


def when_returned_record_return(s: CaseState, k: Key, p: Any) -> None:
    s.put(k, returned_at=k[0], return_reason=p.reason.value)


def no_welfare_change(s: CaseState, k: Key, p: Any) -> None:
    """The event only counts (and moves the stage, if it bears one)."""


HANDLERS: dict[str, Handler] = {
    "migrant.registered": when_registered_record_identity,
    "skilling.assessed": no_welfare_change,
    "skilling.training_enrolled": no_welfare_change,
    "skilling.training_completed": no_welfare_change,
    "skilling.certified": when_certified_record_occupation,
    "recruitment.job_offer_made": when_offered_record_offer,
    "recruitment.contract_signed": when_signed_record_contract,
    "recruitment.fee_paid": no_welfare_change,
    "recruitment.orientation_completed": no_welfare_change,
    "recruitment.emigration_clearance_granted": when_cleared_record_clearance,
    "recruitment.visa_issued": when_visa_issued_record_validity,
    "recruitment.insurance_issued": when_insured_record_validity,
    "deployment.departed": when_departed_record_departure,
    "deployment.arrived": when_arrived_record_arrival,
    "deployment.employment_started": when_employed_record_employment,
    "deployment.employer_changed": when_employer_changed_record_employer,
    "deployment.wage_paid": when_paid_record_wage,
    "deployment.welfare_check_completed": when_checked_record_wellbeing,
    "deployment.grievance_filed": no_welfare_change,
    "deployment.incident_reported": no_welfare_change,
    "deployment.distress_reported": when_distress_reported_record_distress,
    "deployment.assistance_provided": no_welfare_change,
    "return.contract_ended": no_welfare_change,
    "return.returned": when_returned_record_return,
    "return.reintegration_support_provided": no_welfare_change,
    "return.skills_recognized": no_welfare_change,
    "case.note_added": no_welfare_change,
    "case.alert_acknowledged": no_welfare_change,  # alerts.evaluate acts on the officer events
    "case.alert_resolved": no_welfare_change,
    "case.time_alert_raised": no_welfare_change,
    "case.alert_escalated": no_welfare_change,  # alerts.evaluate records the escalation
    "case.assigned": casework.when_assigned_record_officer,
    "case.referral_made": casework.when_referred_record_referral,
    "referral.accepted": casework.when_referral_accepted_record_answer,
    "referral.declined": casework.when_referral_declined_record_answer,
    "referral.completed": casework.when_referral_completed_record_answer,
    "migrant.consent_changed": when_consent_changed_record_consent,
    "case.erasure_requested": when_erasure_requested_blank_personal_data,
}


def apply(state: CaseState | None, event: Envelope, *, in_place: bool = False) -> CaseState:
    """The case after `event`; `state` is not modified. A duplicate of one of the case's latest
    events (`CaseState.folded`) returns `state` as is; older duplicates are the caller's to drop
    (the worker drops every event_id its timeline holds: see `services.domain.state`).

    `in_place=True` changes `state` itself and returns it, for a caller that owns it: a state an
    earlier `apply` returned that nothing else holds (the worker folds a batch's events of one case
    into one copy, not one copy per event). If it raises, that state may be half-changed: drop it."""
    if state is not None and state.case_id != event.case_id:
        raise ValueError(
            f"event {event.event_id} is for case {event.case_id}, not {state.case_id}: "
            "fold each case's events into its own state"
        )
    key = key_of(event)  # its event_id, as text, is key[2]
    if state is not None and state.folded(key):
        return state
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        raise ValueError(
            f"no welfare handler for event type {event.event_type!r}: add it to services.domain.welfare.HANDLERS"
        )
    if state is None:
        after = CaseState(case_id=event.case_id)
    else:
        after = state if in_place else state.fork()
    after.remember(key)
    after.put(key, last_event_at=key[0])
    stage = stage_of(event.event_type)
    if stage is not None:
        after.add_stage(key, stage)
    handler(after, key, event.payload)
    return after


def _merge(table: dict[str, Any], item_id: str, item: Any) -> None:
    """Last-writer-wins per id: a re-sent offer or contract replaces an earlier one."""
    if item_id not in table or item.key > table[item_id].key:
        table[item_id] = item
