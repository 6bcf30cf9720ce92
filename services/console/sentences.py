"""The timeline as sentences a person reads: one pure function per event type, from the envelope
the API returns to "1 Mar 2026 · Job offer from Al Noor Contracting (SA), 1,500.00 SAR a month for
24 months, through agent RA-12".

Decisions (SPEC is silent): the date is the day in the time zone the event was reported in
(`occurred_at` as published, with its own offset), because that is the day it happened where it
happened. Money keeps the precision it was sent with, grouped by thousands. An event type this
module does not know yet (a later section's) still gets a sentence: its type, readably.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.console.names import country_name, occupation_name

Payload = Mapping[str, Any]


def day(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{moment.day} {moment:%b %Y}"


def money(value: Payload | None) -> str:
    if not value:
        return "an unknown amount"
    try:
        amount = Decimal(str(value.get("amount")))
    except InvalidOperation:
        return f"{value.get('amount')} {value.get('currency', '')}".strip()
    places = max(-amount.as_tuple().exponent, 0)
    return f"{amount:,.{places}f} {value.get('currency', '')}".strip()


def months(count: Any) -> str:
    return "1 month" if count == 1 else f"{count} months"


def words(code: Any) -> str:
    """`passport_confiscation` -> `passport confiscation`."""
    return str(code or "").replace("_", " ")


def _with_text(sentence: str, text: Any) -> str:
    return f"{sentence}: “{text}”" if text else sentence


def _job_offer(p: Payload) -> str:
    return (f"Job offer from {p.get('employer_name')} ({p.get('destination_country')}), "
            f"{money(p.get('monthly_wage'))} a month for {months(p.get('contract_months'))}, "
            f"through agent {p.get('recruiting_agent_id')}")


SENTENCES: dict[str, Callable[[Payload], str]] = {
    "migrant.registered": lambda p: f"Registered in {p.get('origin_region')}, {country_name(p.get('nationality'))}",
    "skilling.assessed": lambda p: (f"Assessed as {occupation_name(p.get('occupation_code'))}, level {p.get('level')}: "
                                    f"{'passed' if p.get('result') == 'pass' else 'did not pass'}"),
    "skilling.training_enrolled": lambda p: (f"Enrolled in training {p.get('programme_id')} for "
                                             f"{occupation_name(p.get('occupation_code'))}, starting {p.get('start_date')}"),
    "skilling.training_completed": lambda p: (f"Training {p.get('programme_id')} "
                                              f"{'completed' if p.get('outcome') == 'completed' else 'dropped'}"),
    "skilling.certified": lambda p: (f"Certified as {occupation_name(p.get('occupation_code'))}, level {p.get('level')}, "
                                     f"by {p.get('issuer')}"),
    "recruitment.job_offer_made": _job_offer,
    "recruitment.contract_signed": lambda p: (f"Contract {p.get('contract_id')} signed with employer {p.get('employer_id')}, "
                                              f"{money(p.get('monthly_wage'))} a month for {months(p.get('contract_months'))}"),
    "recruitment.fee_paid": lambda p: (f"Recruitment fee of {money(p.get('amount'))} paid by the "
                                       f"{p.get('paid_by')} ({p.get('purpose')})"),
    "recruitment.orientation_completed": lambda p: f"Pre-departure orientation completed with {p.get('provider_id')}",
    "recruitment.emigration_clearance_granted": lambda p: (f"Emigration clearance granted for "
                                                           f"{country_name(p.get('destination_country'))}"),
    "recruitment.visa_issued": lambda p: (f"Visa issued for {country_name(p.get('destination_country'))}, "
                                          f"valid until {p.get('valid_until')}"),
    "recruitment.insurance_issued": lambda p: f"Insurance issued by {p.get('insurer')}, valid until {p.get('valid_until')}",
    "deployment.departed": lambda p: f"Departed for {country_name(p.get('destination_country'))}",
    "deployment.arrived": lambda p: f"Arrived in {country_name(p.get('destination_country'))}",
    "deployment.employment_started": lambda p: f"Started work with employer {p.get('employer_id')}",
    "deployment.employer_changed": lambda p: (f"Changed employer to {p.get('employer_id')} "
                                              f"(reason: {p.get('reason')})"),
    "deployment.wage_paid": lambda p: f"Wage of {money(p.get('amount'))} paid for {p.get('period')}",
    "deployment.welfare_check_completed": lambda p: _with_text(
        f"Welfare check by {p.get('channel')}: {p.get('wellbeing')}", p.get("notes")),
    "deployment.grievance_filed": lambda p: _with_text(f"Grievance filed: {words(p.get('category'))}", p.get("description")),
    "deployment.incident_reported": lambda p: _with_text(f"Incident reported: {words(p.get('category'))}",
                                                         p.get("description")),
    "deployment.distress_reported": lambda p: _with_text(f"Distress reported by {p.get('channel')}", p.get("description")),
    "deployment.assistance_provided": lambda p: f"{words(p.get('kind')).capitalize()} assistance provided by {p.get('provider')}",
    "return.contract_ended": lambda p: f"Contract {p.get('contract_id')} ended: {words(p.get('reason'))}",
    "return.returned": lambda p: f"Returned home ({words(p.get('reason'))})",
    "return.reintegration_support_provided": lambda p: f"Reintegration support: {words(p.get('kind'))}",
    "return.skills_recognized": lambda p: (f"Skills recognised as {occupation_name(p.get('occupation_code'))}, "
                                           f"level {p.get('level')}"),
    "case.note_added": lambda p: _with_text(f"Note by officer {p.get('officer_id')}", p.get("text")),
    "case.alert_acknowledged": lambda p: _with_text(f"Alert {p.get('alert_id')} acknowledged by {p.get('officer_id')}",
                                                    p.get("note")),
    "case.alert_resolved": lambda p: _with_text(f"Alert {p.get('alert_id')} resolved by {p.get('officer_id')}", p.get("note")),
    "case.time_alert_raised": lambda p: f"{words(p.get('code')).capitalize()} alert raised by the time rules",
}


def describe(event_type: str, payload: Payload) -> str:
    """What happened, as a sentence without the date."""
    sentence = SENTENCES.get(event_type)
    if sentence is None:
        return words(event_type.replace(".", " ")).capitalize()
    return sentence(payload)


def line(entry: Mapping[str, Any]) -> str:
    """One timeline entry (the API's envelope) as "<day> · <what happened>"."""
    return f"{day(entry['occurred_at'])} · {describe(entry['event_type'], entry.get('payload') or {})}"
