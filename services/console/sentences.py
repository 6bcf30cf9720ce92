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
from string import Formatter
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
    exponent = amount.as_tuple().exponent  # a letter for NaN and infinities
    places = max(-exponent, 0) if isinstance(exponent, int) else 0
    return f"{amount:,.{places}f} {value.get('currency', '')}".strip()


def months(count: Any) -> str:
    return "1 month" if count == 1 else f"{count} months"


def words(code: Any) -> str:
    """`passport_confiscation` -> `passport confiscation`."""
    return str(code or "").replace("_", " ")


def _with_text(sentence: str, text: Any) -> str:
    return f"{sentence}: “{text}”" if text else sentence


def _job_offer(payload: Payload) -> str:
    return (
        f"Job offer from {payload.get('employer_name')} ({payload.get('destination_country')}), "
        f"{money(payload.get('monthly_wage'))} a month for {months(payload.get('contract_months'))}, "
        f"through agent {payload.get('recruiting_agent_id')}"
    )


def _field(template: str, **formatters: Callable[[Any], str]) -> Callable[[Payload], str]:
    """A sentence from a template over payload fields: `{name}` is the field, passed through
    `formatters[name]` when there is one (e.g. a country code becomes its name)."""

    def sentence(payload: Payload) -> str:
        values = {name: payload.get(name) for name in _names(template)}
        return template.format(
            **{name: formatters[name](value) if name in formatters else value for name, value in values.items()}
        )

    return sentence


def _names(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name]


def _told(template: str, text_field: str, **formatters: Callable[[Any], str]) -> Callable[[Payload], str]:
    """Like `_field`, followed by the free text of `text_field` in quotes when there is any."""
    head = _field(template, **formatters)
    return lambda payload: _with_text(head(payload), payload.get(text_field))


def _passed(result: Any) -> str:
    return "passed" if result == "pass" else "did not pass"


COUNTRY = {"destination_country": country_name, "nationality": country_name}
OCCUPATION = {"occupation_code": occupation_name}
SENTENCES: dict[str, Callable[[Payload], str]] = {
    "migrant.registered": _field("Registered in {origin_region}, {nationality}", **COUNTRY),
    "skilling.assessed": _field("Assessed as {occupation_code}, level {level}: {result}", **OCCUPATION, result=_passed),
    "skilling.training_enrolled": _field(
        "Enrolled in training {programme_id} for {occupation_code}, starting {start_date}", **OCCUPATION
    ),
    "skilling.training_completed": _field("Training {programme_id} {outcome}", outcome=words),
    "skilling.certified": _field("Certified as {occupation_code}, level {level}, by {issuer}", **OCCUPATION),
    "recruitment.job_offer_made": _job_offer,
    "recruitment.contract_signed": _field(
        "Contract {contract_id} signed with employer {employer_id}, {monthly_wage} a month for {contract_months}",
        monthly_wage=money,
        contract_months=months,
    ),
    "recruitment.fee_paid": _field("Recruitment fee of {amount} paid by the {paid_by} ({purpose})", amount=money),
    "recruitment.orientation_completed": _field("Pre-departure orientation completed with {provider_id}"),
    "recruitment.emigration_clearance_granted": _field(
        "Emigration clearance granted for {destination_country}", **COUNTRY
    ),
    "recruitment.visa_issued": _field("Visa issued for {destination_country}, valid until {valid_until}", **COUNTRY),
    "recruitment.insurance_issued": _field("Insurance issued by {insurer}, valid until {valid_until}"),
    "deployment.departed": _field("Departed for {destination_country}", **COUNTRY),
    "deployment.arrived": _field("Arrived in {destination_country}", **COUNTRY),
    "deployment.employment_started": _field("Started work with employer {employer_id}"),
    "deployment.employer_changed": _field("Changed employer to {employer_id} (reason: {reason})"),
    "deployment.wage_paid": _field("Wage of {amount} paid for {period}", amount=money),
    "deployment.welfare_check_completed": _told("Welfare check by {channel}: {wellbeing}", "notes"),
    "deployment.grievance_filed": _told("Grievance filed: {category}", "description", category=words),
    "deployment.incident_reported": _told("Incident reported: {category}", "description", category=words),
    "deployment.distress_reported": _told("Distress reported by {channel}", "description"),
    "deployment.assistance_provided": _field(
        "{kind} assistance provided by {provider}", kind=lambda kind: words(kind).capitalize()
    ),
    "return.contract_ended": _field("Contract {contract_id} ended: {reason}", reason=words),
    "return.returned": _field("Returned home ({reason})", reason=words),
    "return.reintegration_support_provided": _field("Reintegration support: {kind}", kind=words),
    "return.skills_recognized": _field("Skills recognised as {occupation_code}, level {level}", **OCCUPATION),
    "case.note_added": _told("Note by officer {officer_id}", "text"),
    "case.alert_acknowledged": _told("Alert {alert_id} acknowledged by {officer_id}", "note"),
    "case.alert_resolved": _told("Alert {alert_id} resolved by {officer_id}", "note"),
    "case.assigned": _field("Assigned to officer {officer_id} by {assigned_by}"),
    "case.referral_made": _told(
        "Referred for {service} to {to_agency_id} by officer {officer_id}", "note", service=words
    ),
    "case.alert_escalated": _field("Alert {alert_id} escalated: not acknowledged in time"),
    "referral.accepted": _field("Referral {referral_id} accepted"),
    "referral.declined": _field("Referral {referral_id} declined: {reason}"),
    "referral.completed": _field("Referral {referral_id} completed: {outcome}"),
    "case.time_alert_raised": _field(
        "{code} alert raised by the time rules", code=lambda code: words(code).capitalize()
    ),
    "migrant.consent_changed": _field(
        "Consent to share identity data {data_sharing}",
        data_sharing=lambda sharing: "given" if sharing else "withdrawn",
    ),
    "case.erasure_requested": _field("Personal data erased at the request of {officer_id} ({reason})"),
    # About a party, not a case (SPEC 12): never in a case's timeline; named for completeness.
    "watchlist.entry_added": _field("Watchlist entry added for {party_id}"),
    "watchlist.entry_removed": _field("Watchlist entry removed for {party_id}"),
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
