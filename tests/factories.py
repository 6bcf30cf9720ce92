"""Event factories for tests: real envelopes through `events.validate(stamped=True)`.

`make("deployment.wage_paid", 30, amount=money("1400.00"))` builds a stamped event of the default
case, occurring 30 days after T0, with the type's default payload and the given fields replaced;
`fold(events)` projects them in arrival order. Import as `from tests.factories import make`.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import events
from services.domain import AlertChange, CaseState, RuleConfig, project
from services.domain.rules import AckLimits
from services.worker.dlq import Message
from services.worker.rows import Delivered

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CASE = "IN-2026-000123"
RULES = RuleConfig()
# The same rules with escalation pushed out of reach, for tests about something else.
NO_ESCALATION = replace(RULES, ack_limits=AckLimits(critical=10**6, high=10**6, medium=10**6))


def money(amount: str, currency: str = "SAR") -> dict:
    return {"amount": amount, "currency": currency}


DEFAULTS: dict[str, dict[str, Any]] = {
    "migrant.registered": {
        "given_name": "Asha",
        "family_name": "Kumari",
        "date_of_birth": "1998-04-02",
        "sex": "female",
        "nationality": "IN",
        "origin_region": "Kerala",
        "consent": {"data_sharing": True},
    },
    "skilling.assessed": {"occupation_code": "5322", "level": 3, "result": "pass"},
    "skilling.training_enrolled": {
        "programme_id": "P1",
        "provider_id": "PR1",
        "occupation_code": "5322",
        "start_date": "2025-01-10",
    },
    "skilling.training_completed": {"programme_id": "P1", "occupation_code": "5322", "outcome": "completed"},
    "skilling.certified": {"certificate_id": "C1", "occupation_code": "5322", "level": 3, "issuer": "NSDC"},
    "recruitment.job_offer_made": {
        "offer_id": "O1",
        "employer_id": "E1",
        "employer_name": "Acme Care",
        "destination_country": "SA",
        "occupation_code": "5321",
        "monthly_wage": money("1500.00"),
        "contract_months": 24,
        "recruiting_agent_id": "RA1",
    },
    "recruitment.contract_signed": {
        "offer_id": "O1",
        "contract_id": "K1",
        "employer_id": "E1",
        "monthly_wage": money("1500.00"),
        "contract_months": 24,
    },
    "recruitment.fee_paid": {"amount": money("5000.00", "INR"), "paid_by": "employer", "purpose": "visa"},
    "recruitment.orientation_completed": {"provider_id": "PR2"},
    "recruitment.emigration_clearance_granted": {"clearance_id": "CL1", "destination_country": "SA"},
    "recruitment.visa_issued": {"visa_number": "V1", "destination_country": "SA", "valid_until": "2027-12-31"},
    "recruitment.insurance_issued": {"policy_id": "I1", "insurer": "LIC", "valid_until": "2027-12-31"},
    "deployment.departed": {"destination_country": "SA"},
    "deployment.arrived": {"destination_country": "SA"},
    "deployment.employment_started": {"employer_id": "E1", "contract_id": "K1"},
    "deployment.employer_changed": {"employer_id": "E2", "contract_id": "K2", "reason": "transfer"},
    "deployment.wage_paid": {"period": "2025-02", "amount": money("1500.00")},
    "deployment.welfare_check_completed": {"channel": "phone", "wellbeing": "ok"},
    "deployment.grievance_filed": {"grievance_id": "G1", "category": "other", "description": "noise"},
    "deployment.incident_reported": {"incident_id": "N1", "category": "medical", "description": "fever"},
    "deployment.distress_reported": {"channel": "helpline"},
    "deployment.assistance_provided": {"kind": "shelter", "provider": "Safe House"},
    "return.contract_ended": {"contract_id": "K1", "reason": "completed"},
    "return.returned": {"reason": "completed"},
    "return.reintegration_support_provided": {"kind": "job_placement"},
    "return.skills_recognized": {"occupation_code": "5322", "level": 4},
    "case.note_added": {"officer_id": "OF1", "text": "called the employer"},
    "case.alert_acknowledged": {"alert_id": "none", "officer_id": "OF1"},
    "case.alert_resolved": {"alert_id": "none", "officer_id": "OF1", "note": "handled"},
    "case.time_alert_raised": {"alert_id": "none", "code": "WAGE_UNPAID", "raised_at": "2025-01-01T00:00:00Z"},
    "case.assigned": {"officer_id": "OF1", "assigned_by": "OF1"},
    "case.referral_made": {
        "referral_id": "R1",
        "service": "shelter",
        "to_agency_id": "shelter-1",
        "officer_id": "OF1",
        "note": "needs a safe place tonight",
    },
    "case.alert_escalated": {"alert_id": "none"},
    "referral.accepted": {"referral_id": "R1"},
    "referral.declined": {"referral_id": "R1", "reason": "no beds"},
    "referral.completed": {"referral_id": "R1", "outcome": "sheltered for two weeks"},
    "watchlist.entry_added": {"party_kind": "employer", "party_id": "E1", "reason": "passports withheld"},
    "watchlist.entry_removed": {"party_kind": "employer", "party_id": "E1"},
    "migrant.consent_changed": {"data_sharing": False},
    "case.erasure_requested": {"officer_id": "sup-1", "reason": "the migrant asked to be forgotten"},
}

_ids = itertools.count(1)


def at(days: float | datetime) -> datetime:
    return days if isinstance(days, datetime) else T0 + timedelta(days=days)


def make(
    event_type: str,
    when: float | datetime = 0,
    *,
    event_id: str | None = None,
    recorded_at: datetime | None = None,
    case_id: str = CASE,
    **payload: Any,
) -> events.Envelope:
    occurred = at(when)
    kind = min(events.CATALOGUE[event_type].publishers, key=lambda k: k.value)
    return events.validate(
        {
            "event_id": event_id or str(uuid.UUID(int=next(_ids))),
            "event_type": event_type,
            "schema_version": 1,
            "case_id": case_id,
            "occurred_at": occurred.isoformat(),
            "correlation_id": None,
            "payload": {**DEFAULTS[event_type], **payload},
            "recorded_at": (recorded_at or occurred + timedelta(minutes=1)).isoformat(),
            "source": {"agency_id": "test-agency", "agency_kind": kind.value},
        },
        stamped=True,
    )


def fold(
    stream: Iterable[events.Envelope], state: CaseState | None = None, rules: RuleConfig = RULES
) -> tuple[CaseState, list[AlertChange]]:
    """Project every event in arrival order; the final state and every alert change on the way."""
    changes: list[AlertChange] = []
    for event in stream:
        state, new = project(state, event, rules)
        changes += new
    assert state is not None, "fold needs at least one event"
    return state, changes


def recorded(data: dict, recorded_at: datetime | None = None) -> events.Envelope:
    """A publisher's envelope dict (e.g. `time_alert_event(...)`) as it reads back from the log."""
    occurred = datetime.fromisoformat(data["occurred_at"])
    return events.validate(
        {
            **data,
            "recorded_at": (recorded_at or occurred + timedelta(minutes=1)).isoformat(),
            "source": {"agency_id": "passage-worker", "agency_kind": "passage"},
        },
        stamped=True,
    )


def listing(day: float, party_id: str = "E1", kind: str = "employer", added: bool = True) -> events.Envelope:
    """A watchlist entry added (or removed) for an employer or recruiting agency, `day` days after T0."""
    event_type = "watchlist.entry_added" if added else "watchlist.entry_removed"
    extra: dict[str, Any] = {"reason": "passports withheld"} if added else {}
    return make(
        event_type,
        day,
        case_id=party_id if len(party_id) >= 4 else f"PARTY-{party_id}",
        party_kind=kind,
        party_id=party_id,
        **extra,
    )


def new_event(
    event_type: str = "deployment.welfare_check_completed", payload: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """A publisher envelope (what an agency POSTs), occurring now: the type's default payload unless
    `payload` is given; `fields` replace envelope fields (`case_id=...`)."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "case_id": CASE,
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": None,
        "payload": dict(DEFAULTS[event_type]) if payload is None else payload,
        **fields,
    }


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an agency key or an officer token."""
    return {"Authorization": f"Bearer {token}"}


def message(
    event: events.Envelope | bytes | None, offset: int, partition: int = 0, topic: str = "unit.journey.v1"
) -> Message:
    """A record as the worker receives it from Kafka (an event, raw bytes or a tombstone)."""
    value = events.encode(event) if isinstance(event, events.Envelope) else event
    key = event.case_id.encode() if isinstance(event, events.Envelope) else b"CASE-0001"
    return Message(topic, partition, offset, key, value)


def delivered(event: events.Envelope, offset: int = 0, partition: int = 0) -> Delivered:
    """An event as the worker's pipeline holds it once decoded."""
    return Delivered(event, events.encode(event).decode(), partition, offset)


def stamped_demo_events(demo_events: Iterable[Any]) -> list[events.Envelope]:
    """The demo's events (`services.demo.journeys`) as the gateway stamps them: recorded when they
    occurred, by the demo agency that publishes each."""
    return [
        events.validate(
            dict(
                demo_event.envelope,
                recorded_at=demo_event.envelope["occurred_at"],
                source={"agency_id": demo_event.agency_id, "agency_kind": demo_event.kind},
            ),
            stamped=True,
        )
        for demo_event in demo_events
    ]
