"""The welfare projection: `apply(state, event) -> state`, a pure fold (SPEC section 5).

`HANDLERS` is the one table that says what each event type does to a case; each handler takes
its event type's payload model (checked on import, so mypy checks what it reads). Every handler
writes through `CaseState.put` (last-writer-wins by the key (occurred_at, recorded_at, event_id)),
so the welfare fields are a function of the set of events: any arrival order, with any duplicates,
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

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, get_type_hints

from events import (
    CATALOGUE,
    Arrived,
    ConsentChanged,
    ContractSigned,
    Departed,
    DistressReported,
    EmigrationClearanceGranted,
    EmployerChanged,
    EmploymentStarted,
    Envelope,
    ErasureRequested,
    InsuranceIssued,
    JobOfferMade,
    MigrantRegistered,
    Payload,
    Returned,
    SkillCertified,
    VisaIssued,
    WagePaid,
    WelfareCheckCompleted,
    stage_of,
)
from services.domain import casework
from services.domain.state import CaseState, Key, Offer, Signed, Wage, key_of

# A handler takes its event type's payload model (checked against the catalogue below), so mypy
# checks every field it reads; the table holds them all, hence Any.
Handler = Callable[[CaseState, Key, Any], None]


def when_registered_record_identity(state: CaseState, key: Key, payload: MigrantRegistered) -> None:
    state.put(
        key,
        given_name=payload.given_name,
        family_name=payload.family_name,
        nationality=payload.nationality,
        origin_region=payload.origin_region,
    )
    state.put(
        key,
        date_of_birth=payload.date_of_birth,
        passport_number=payload.passport_number,
        phone=payload.phone,
        data_sharing=payload.consent.data_sharing,
    )
    if state.erased:
        _blank_identity(state)


def when_consent_changed_record_consent(state: CaseState, key: Key, payload: ConsentChanged) -> None:
    state.put(key, data_sharing=payload.data_sharing)


def when_erasure_requested_blank_personal_data(state: CaseState, key: Key, payload: ErasureRequested) -> None:
    state.erased = True
    state.erased_at = key[0] if state.erased_at is None else min(state.erased_at, key[0])
    _blank_identity(state)
    for alert_id, alert in state.alerts.items():
        if alert.note is not None:
            state.alerts[alert_id] = alert.model_copy(update={"note": None})


def _blank_identity(state: CaseState) -> None:
    for name in ("given_name", "family_name", "date_of_birth", "passport_number", "phone"):
        setattr(state, name, None)


def when_certified_record_occupation(state: CaseState, key: Key, payload: SkillCertified) -> None:
    state.put(key, occupation_code=payload.occupation_code)


def when_offered_record_offer(state: CaseState, key: Key, payload: JobOfferMade) -> None:
    offer = Offer(
        key=key,
        employer_id=payload.employer_id,
        monthly_wage=payload.monthly_wage,
        contract_months=payload.contract_months,
        recruiting_agent_id=payload.recruiting_agent_id,
    )
    _merge(state.offers, payload.offer_id, offer)
    state.put(
        key,
        occupation_code=payload.occupation_code,
        destination_country=payload.destination_country,
        employer_id=payload.employer_id,
    )


def when_signed_record_contract(state: CaseState, key: Key, payload: ContractSigned) -> None:
    signed = Signed(
        key=key,
        offer_id=payload.offer_id,
        employer_id=payload.employer_id,
        monthly_wage=payload.monthly_wage,
        contract_months=payload.contract_months,
    )
    _merge(state.contracts, payload.contract_id, signed)
    state.put(key, contract_id=payload.contract_id, employer_id=payload.employer_id)


def when_cleared_record_clearance(state: CaseState, key: Key, payload: EmigrationClearanceGranted) -> None:
    # The earliest grant per destination is what "cleared before departing" needs; min is a set fold.
    earliest = state.clearances.get(payload.destination_country)
    state.clearances[payload.destination_country] = key[0] if earliest is None else min(earliest, key[0])
    state.put(key, destination_country=payload.destination_country)


def when_visa_issued_record_validity(state: CaseState, key: Key, payload: VisaIssued) -> None:
    state.put(key, visa_valid_until=payload.valid_until, destination_country=payload.destination_country)


def when_insured_record_validity(state: CaseState, key: Key, payload: InsuranceIssued) -> None:
    state.put(key, insurance_valid_until=payload.valid_until)


def when_departed_record_departure(state: CaseState, key: Key, payload: Departed) -> None:
    state.put(key, departed_at=key[0], destination_country=payload.destination_country)


def when_arrived_record_arrival(state: CaseState, key: Key, payload: Arrived) -> None:
    state.put(key, arrived_at=key[0], destination_country=payload.destination_country)


def when_employed_record_employment(state: CaseState, key: Key, payload: EmploymentStarted) -> None:
    state.put(key, employment_started_at=key[0], employer_id=payload.employer_id, contract_id=payload.contract_id)


def when_employer_changed_record_employer(state: CaseState, key: Key, payload: EmployerChanged) -> None:
    state.put(key, employer_id=payload.employer_id, contract_id=payload.contract_id)


def when_paid_record_wage(state: CaseState, key: Key, payload: WagePaid) -> None:
    state.put(key, last_wage_period=payload.period, last_wage_at=key[0])
    _merge(state.wages, payload.period, Wage(key=key, amount=payload.amount))


def when_checked_record_wellbeing(state: CaseState, key: Key, payload: WelfareCheckCompleted) -> None:
    state.put(key, last_welfare_check_at=key[0], wellbeing=payload.wellbeing.value)


def when_distress_reported_record_distress(state: CaseState, key: Key, payload: DistressReported) -> None:
    state.put(key, wellbeing="distress")


def when_returned_record_return(state: CaseState, key: Key, payload: Returned) -> None:
    state.put(key, returned_at=key[0], return_reason=payload.reason.value)


def no_welfare_change(state: CaseState, key: Key, payload: Payload) -> None:
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


def _check_payload_types(handlers: Mapping[str, Handler]) -> None:
    """Each handler's `payload` is annotated with its event type's model (or `Payload`, reading
    nothing), so the types mypy checks the handler against are the ones `apply` passes it."""
    for event_type, handler in handlers.items():
        spec = CATALOGUE[event_type]
        model, declared = spec.models[spec.latest_version], get_type_hints(handler).get("payload")
        if declared is not model and declared is not Payload:
            shown = declared.__name__ if isinstance(declared, type) else declared
            raise TypeError(
                f"{handler.__name__} handles {event_type}, whose payload is {model.__name__}, but its "
                f"`payload` parameter is annotated {shown}; annotate it with {model.__name__}"
            )


_check_payload_types(HANDLERS)


def apply(state: CaseState | None, event: Envelope, *, in_place: bool = False, key: Key | None = None) -> CaseState:
    """The case after `event`; `state` is not modified. A duplicate of one of the case's latest
    events (`CaseState.folded`) returns `state` as is; older duplicates are the caller's to drop
    (the worker drops every event_id its timeline holds: see `services.domain.state`).

    `in_place=True` changes `state` itself and returns it, for a caller that owns it: a state an
    earlier `apply` returned that nothing else holds (the worker folds a batch's events of one case
    into one copy, not one copy per event). If it raises, that state may be half-changed: drop it.

    `key` is `key_of(event)` when the caller has computed it already (the bulk replay needs its
    event_id as text too, and formatting a UUID is a good part of the key's cost); else computed here."""
    if state is not None and state.case_id != event.case_id:
        raise ValueError(
            f"event {event.event_id} is for case {event.case_id}, not {state.case_id}: "
            "fold each case's events into its own state"
        )
    if key is None:
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


class _Keyed(Protocol):
    @property
    def key(self) -> Key: ...


Item = TypeVar("Item", bound=_Keyed)


def _merge(table: dict[str, Item], item_id: str, item: Item) -> None:
    """Last-writer-wins per id: a re-sent offer or contract replaces an earlier one."""
    if item_id not in table or item.key > table[item_id].key:
        table[item_id] = item
