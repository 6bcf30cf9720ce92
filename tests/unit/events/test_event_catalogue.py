"""The catalogue as data: every SPEC section 3 type, its stage, and section 4's mandates."""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events import (
    CATALOGUE,
    AgencyKind,
    Envelope,
    Money,
    Source,
    Stage,
    WagePaid,
    carries,
    encode,
    may_publish,
    stage_of,
    stamp,
)
from events.catalogue import _one_type_per_model
from tests.unit.events.event_samples import all_specs, envelopes

SPEC_TYPES = """migrant.registered skilling.assessed skilling.training_enrolled skilling.training_completed
skilling.certified recruitment.job_offer_made recruitment.contract_signed recruitment.fee_paid
recruitment.orientation_completed recruitment.emigration_clearance_granted recruitment.visa_issued
recruitment.insurance_issued deployment.departed deployment.arrived deployment.employment_started
deployment.employer_changed deployment.wage_paid deployment.welfare_check_completed
deployment.grievance_filed deployment.incident_reported deployment.distress_reported
deployment.assistance_provided return.contract_ended return.returned return.reintegration_support_provided
return.skills_recognized case.note_added case.alert_acknowledged case.alert_resolved
case.time_alert_raised case.assigned case.referral_made case.alert_escalated referral.accepted
referral.declined referral.completed watchlist.entry_added watchlist.entry_removed migrant.consent_changed
case.erasure_requested""".split()
K = AgencyKind


def test_the_catalogue_holds_exactly_the_spec_types():
    assert sorted(CATALOGUE) == sorted(SPEC_TYPES) and len(CATALOGUE) == len(SPEC_TYPES) == 40
    assert all(spec.latest_version == 1 and list(spec.models) == [1] for spec in CATALOGUE.values())


@pytest.mark.parametrize(
    ("event_type", "stage"),
    [
        ("migrant.registered", Stage.registered),
        ("skilling.certified", Stage.job_ready),
        ("recruitment.fee_paid", Stage.recruiting),
        ("recruitment.insurance_issued", Stage.cleared),
        ("return.contract_ended", Stage.deployed),
        ("return.skills_recognized", Stage.returned),
        ("case.note_added", None),
        ("case.time_alert_raised", None),
        ("no.such_type", None),
    ],
)
def test_stage_of(event_type, stage):
    assert stage_of(event_type) == stage


@pytest.mark.parametrize(
    ("kind", "event_type", "allowed"),
    [
        (K.skilling_body, "skilling.training_completed", True),
        (K.skilling_body, "recruitment.fee_paid", False),
        (K.recruiting_agent, "migrant.registered", True),
        (K.recruiting_agent, "recruitment.visa_issued", False),
        (K.emigration_authority, "deployment.departed", True),
        (K.emigration_authority, "deployment.arrived", False),
        (K.insurer, "recruitment.insurance_issued", True),
        (K.employer, "return.contract_ended", True),
        (K.employer, "deployment.welfare_check_completed", False),
        (K.mission, "deployment.incident_reported", True),
        (K.mission, "return.skills_recognized", True),
        (K.mission, "recruitment.contract_signed", False),
        (K.helpline, "deployment.distress_reported", True),
        (K.helpline, "deployment.wage_paid", False),
        ("helpline", "return.skills_recognized", True),
        ("bank", "deployment.wage_paid", False),
        (K.mission, "deployment.nonexistent", False),
        (K.emigration_authority, "watchlist.entry_added", True),
        (K.mission, "watchlist.entry_removed", True),
        (K.recruiting_agent, "watchlist.entry_added", False),
        (K.employer, "watchlist.entry_removed", False),
    ],
)
def test_may_publish_follows_spec_section_4(kind, event_type, allowed):
    assert may_publish(kind, event_type) is allowed


def test_only_passage_publishes_case_events_and_every_other_type_has_a_publisher():
    for event_type, spec in CATALOGUE.items():
        if event_type.startswith("case."):
            assert spec.publishers == {K.passage}
        else:
            assert spec.publishers and K.passage not in spec.publishers


def wage_paid(**overrides) -> Envelope:
    fields = dict(
        event_id=uuid4(),
        event_type="deployment.wage_paid",
        schema_version=1,
        case_id="IN-1",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        payload=WagePaid(period="2026-02", amount=Money(amount="1500.00", currency="SAR")),
    )
    return Envelope(**{**fields, **overrides})


def test_envelopes_built_in_python_are_checked_against_the_catalogue():
    assert wage_paid().payload.amount.amount.as_tuple().exponent == -2
    with pytest.raises(ValidationError, match="must be Arrived, got WagePaid"):
        wage_paid(event_type="deployment.arrived")
    with pytest.raises(ValidationError, match="unknown event type"):
        wage_paid(event_type="deployment.paid")


def test_stamp_sets_the_gateway_fields_in_utc():
    event = wage_paid()
    recorded_at = datetime.fromisoformat("2026-03-01T10:00:00+05:30")
    stamped = stamp(event, recorded_at=recorded_at, source=Source(agency_id="emp-1", agency_kind="employer"))
    assert event.recorded_at is None and stamped.recorded_at.utcoffset().total_seconds() == 0
    assert stamped.recorded_at == recorded_at and stamped.source.agency_kind is K.employer
    assert b'"recorded_at":"2026-03-01T04:30:00Z"' in encode(stamped)
    with pytest.raises(ValueError, match="timezone"):
        stamp(event, recorded_at=datetime(2026, 3, 1), source=stamped.source)


@given(data=st.data())
@settings(max_examples=len(SPEC_TYPES) * 3, deadline=None)
def test_carries_tells_each_event_type_by_its_model(data):
    spec = data.draw(st.sampled_from(all_specs()))
    event = data.draw(envelopes(spec, stamped=False))
    carried = [other.event_type for other in CATALOGUE.values() if carries(event, other.models[other.latest_version])]
    assert carried == [spec.event_type]


def test_a_model_serving_two_event_types_is_refused_at_import():
    specs = {name: CATALOGUE[name] for name in ("deployment.wage_paid", "migrant.registered")}
    doubled = {**specs, "deployment.wage_paid_again": replace(specs["deployment.wage_paid"], event_type="x")}
    with pytest.raises(ValueError, match="WagePaid is the payload of both .*give each event type a model of its own"):
        _one_type_per_model(doubled)
