"""Timeline sentences and names: what an officer reads for each event (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import CATALOGUE
from services.console.names import country_name, occupation_name
from services.console.sentences import SENTENCES, line, money

JOB_OFFER = {
    "offer_id": "O1",
    "employer_id": "E1",
    "employer_name": "Al Noor Contracting",
    "destination_country": "SA",
    "occupation_code": "7112",
    "monthly_wage": {"amount": "1500.00", "currency": "SAR"},
    "contract_months": 24,
    "recruiting_agent_id": "RA-12",
}


@pytest.mark.parametrize(
    "event_type, payload, occurred_at, expected",
    [
        (
            "recruitment.job_offer_made",
            JOB_OFFER,
            "2026-03-01T09:30:00Z",
            "1 Mar 2026 · Job offer from Al Noor Contracting (SA), 1,500.00 SAR a month for 24 months, through agent RA-12",
        ),
        (
            "deployment.departed",
            {"destination_country": "AE"},
            "2026-04-12T23:30:00-01:00",
            "12 Apr 2026 · Departed for United Arab Emirates",
        ),
        (
            "deployment.wage_paid",
            {"period": "2026-05", "amount": {"amount": "1200", "currency": "QAR"}},
            "2026-06-02T00:00:00+03:00",
            "2 Jun 2026 · Wage of 1,200 QAR paid for 2026-05",
        ),
        (
            "deployment.incident_reported",
            {"incident_id": "I1", "category": "passport_confiscation", "description": "kept"},
            "2026-06-02T00:00:00Z",
            "2 Jun 2026 · Incident reported: passport confiscation: “kept”",
        ),
        (
            "skilling.certified",
            {"certificate_id": "C", "occupation_code": "5322", "level": 3, "issuer": "NSDC"},
            "2025-01-05T00:00:00Z",
            "5 Jan 2025 · Certified as Home-based personal care workers, level 3, by NSDC",
        ),
        (
            "case.note_added",
            {"officer_id": "off-1", "text": "called"},
            "2026-01-01T10:00:00Z",
            "1 Jan 2026 · Note by officer off-1: “called”",
        ),
        (
            "case.referral_made",
            {
                "referral_id": "R1",
                "service": "shelter",
                "to_agency_id": "helpline-1",
                "officer_id": "off-1",
                "note": "tonight",
            },
            "2026-01-01T10:00:00Z",
            "1 Jan 2026 · Referred for shelter to helpline-1 by officer off-1: “tonight”",
        ),
        (
            "watchlist.entry_added",
            {"party_id": "E1"},
            "2026-01-01T10:00:00Z",
            "1 Jan 2026 · Watchlist entry added for E1",
        ),
    ],
)
def test_events_read_as_sentences(event_type, payload, occurred_at, expected):
    assert line({"event_type": event_type, "payload": payload, "occurred_at": occurred_at}) == expected


def test_every_catalogued_event_type_has_a_sentence():
    assert set(CATALOGUE) <= set(SENTENCES)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_money_keeps_the_amount_and_its_precision(amount):
    shown = money({"amount": str(amount), "currency": "SAR"})
    number, currency = shown.rsplit(" ", 1)
    assert currency == "SAR" and number.replace(",", "") == f"{amount:.2f}"


def test_codes_are_shown_with_names():
    assert country_name("SA") == "Saudi Arabia" and country_name("BO") == "Bolivia"
    assert country_name(None) == "No destination yet"
    assert occupation_name("9111") == "Domestic cleaners and helpers" and occupation_name("0110") == "ISCO-08 0110"
