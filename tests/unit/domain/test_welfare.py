"""The welfare fold: events in, state out; order-independent and idempotent (SPEC section 5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import events
from services.domain import CaseState, project
from services.domain.welfare import HANDLERS, apply
from tests.factories import CASE, RULES, at, fold, make, money

NAMES = {"given_name": "Asha", "family_name": "Kumari", "nationality": "IN", "origin_region": "Kerala"}


def test_every_catalogue_event_type_has_a_handler():
    # Watchlist events are about a party, not a case: the worker keeps them in a table of their own.
    assert set(HANDLERS) == set(events.CATALOGUE) - events.WATCHLIST_EVENTS


# (event type, payload changes, expected fields after folding it into an empty case)
EVERY_TYPE = [
    ("migrant.registered", {}, {**NAMES, "stage": "registered"}),
    ("skilling.assessed", {}, {"stage": "skilling", "occupation_code": None}),
    ("skilling.training_enrolled", {}, {"stage": "skilling"}),
    ("skilling.training_completed", {}, {"stage": "skilling"}),
    ("skilling.certified", {}, {"stage": "job_ready", "occupation_code": "5322"}),
    (
        "recruitment.job_offer_made",
        {},
        {"stage": "recruiting", "occupation_code": "5321", "destination_country": "SA", "employer_id": "E1"},
    ),
    (
        "recruitment.contract_signed",
        {},
        {
            "stage": "recruiting",
            "employer_id": "E1",
            "contract": {"contract_id": "K1", "monthly_wage": money("1500.00"), "contract_months": 24},
        },
    ),
    ("recruitment.fee_paid", {}, {"stage": "recruiting"}),
    ("recruitment.orientation_completed", {}, {"stage": "recruiting"}),
    (
        "recruitment.emigration_clearance_granted",
        {"destination_country": "QA"},
        {"stage": "cleared", "destination_country": "QA"},
    ),
    ("recruitment.visa_issued", {}, {"stage": "cleared", "destination_country": "SA"}),
    ("recruitment.insurance_issued", {}, {"stage": "cleared"}),
    (
        "deployment.departed",
        {},
        {"stage": "deployed", "departed_at": "2025-01-01T00:00:00Z", "destination_country": "SA"},
    ),
    ("deployment.arrived", {}, {"stage": "deployed", "arrived_at": "2025-01-01T00:00:00Z"}),
    (
        "deployment.employment_started",
        {},
        {
            "stage": "deployed",
            "employer_id": "E1",
            "contract": {"contract_id": "K1", "monthly_wage": None, "contract_months": None},
        },
    ),
    ("deployment.employer_changed", {}, {"stage": "deployed", "employer_id": "E2"}),
    (
        "deployment.wage_paid",
        {},
        {"stage": "deployed", "last_wage_period": "2025-02", "last_wage_at": "2025-01-01T00:00:00Z"},
    ),
    (
        "deployment.welfare_check_completed",
        {"wellbeing": "concern"},
        {"stage": "deployed", "wellbeing": "concern", "last_welfare_check_at": "2025-01-01T00:00:00Z"},
    ),
    ("deployment.grievance_filed", {}, {"stage": "deployed"}),
    ("deployment.incident_reported", {}, {"stage": "deployed"}),
    ("deployment.distress_reported", {}, {"stage": "deployed", "wellbeing": "distress", "last_welfare_check_at": None}),
    ("deployment.assistance_provided", {}, {"stage": "deployed"}),
    ("return.contract_ended", {}, {"stage": "deployed"}),
    (
        "return.returned",
        {"reason": "distress"},
        {"stage": "returned", "returned_at": "2025-01-01T00:00:00Z", "return_reason": "distress"},
    ),
    ("return.reintegration_support_provided", {}, {"stage": "returned"}),
    ("return.skills_recognized", {}, {"stage": "returned"}),
    ("case.note_added", {}, {"stage": None, "stage_since": None}),
    ("case.alert_acknowledged", {}, {"stage": None}),
    ("case.alert_resolved", {}, {"stage": None}),
    ("case.time_alert_raised", {}, {"stage": None}),
]


@pytest.mark.parametrize("event_type,changes,expected", EVERY_TYPE, ids=[row[0] for row in EVERY_TYPE])
def test_each_event_type_sets_its_fields(event_type, changes, expected):
    event = make(event_type, 0, **changes)
    view = apply(None, event).model_dump(mode="json")
    assert {name: view[name] for name in expected} == expected
    assert view["case_id"] == CASE and view["event_count"] == 1
    assert view["last_event_at"] == "2025-01-01T00:00:00Z"
    if expected.get("stage"):
        assert view["stage_since"] == "2025-01-01T00:00:00Z"


def test_a_journey_ends_with_the_latest_of_each_field():
    state = None
    for event in [
        make("migrant.registered", 0),
        make("skilling.certified", 10),
        make("recruitment.job_offer_made", 20),
        make("recruitment.contract_signed", 22),
        make("deployment.departed", 40),
        make("deployment.arrived", 41),
        make("deployment.employment_started", 42),
        make("deployment.wage_paid", 70, period="2025-02"),
        make("deployment.wage_paid", 100, period="2025-03"),
        make("deployment.welfare_check_completed", 80, wellbeing="concern"),
        make("deployment.distress_reported", 90),
    ]:
        state = apply(state, event)
    assert state.stage == events.Stage.deployed and state.stage_since == at(40)
    assert (state.last_wage_period, state.last_wage_at) == ("2025-03", at(100))
    assert state.wellbeing == "distress" and state.last_welfare_check_at == at(80)
    assert state.contract.monthly_wage.amount == Decimal("1500.00")
    assert (state.occupation_code, state.employer_id, state.event_count) == ("5321", "E1", 11)


def test_a_late_event_never_moves_the_case_backwards():
    state = apply(apply(None, make("deployment.departed", 40)), make("skilling.certified", 10))
    assert state.stage == events.Stage.deployed and state.stage_since == at(40)
    assert state.occupation_code == "5322"  # the late event still contributes its facts


def test_a_late_event_in_the_middle_splits_the_stage_run():
    state = None
    for event in [make("deployment.departed", 10), make("deployment.arrived", 12), make("recruitment.fee_paid", 11)]:
        state = apply(state, event)
    assert state.stage == events.Stage.deployed and state.stage_since == at(12)


def test_a_returned_migrant_with_a_new_offer_is_recruiting_again():
    state = None
    for event in [
        make("deployment.departed", 10),
        make("return.returned", 400),
        make("recruitment.job_offer_made", 500, offer_id="O2", destination_country="QA"),
    ]:
        state = apply(state, event)
    assert state.stage == events.Stage.recruiting and state.stage_since == at(500)
    assert (state.destination_country, state.returned_at) == ("QA", at(400))


def test_a_duplicate_event_id_changes_nothing():
    registered = make("migrant.registered", 0)
    first = apply(None, registered)
    again = make("deployment.departed", 5, event_id=str(registered.event_id))
    assert apply(first, again) is first
    assert first.event_count == 1 and first.stage == events.Stage.registered


def test_ties_on_occurred_at_are_broken_by_recorded_at_then_event_id():
    early = make("migrant.registered", 0, given_name="Early", recorded_at=at(1))
    late = make("migrant.registered", 0, given_name="Late", recorded_at=at(2))
    assert apply(apply(None, late), early).given_name == "Late"
    a = make("migrant.registered", 0, given_name="A", event_id="00000000-0000-0000-0000-00000000000a")
    b = make("migrant.registered", 0, given_name="B", event_id="00000000-0000-0000-0000-00000000000b")
    assert apply(apply(None, b), a).given_name == "B" == apply(apply(None, a), b).given_name


def test_employer_change_to_an_unsigned_contract_leaves_its_terms_unknown():
    state = apply(apply(None, make("recruitment.contract_signed", 0)), make("deployment.employer_changed", 5))
    assert state.contract.model_dump() == {"contract_id": "K2", "monthly_wage": None, "contract_months": None}
    assert state.employer_id == "E2"


def test_the_state_survives_a_json_round_trip_and_folds_on():
    state = apply(apply(None, make("recruitment.contract_signed", 0)), make("deployment.departed", 3))
    reloaded = CaseState.model_validate(state.model_dump(mode="json"))
    assert reloaded == state
    assert reloaded.model_dump(mode="json") == state.model_dump(mode="json")
    nxt = make("deployment.arrived", 4)
    assert apply(reloaded, nxt) == apply(state, nxt)


def test_an_event_of_another_case_is_refused():
    state = apply(None, make("migrant.registered", 0))
    with pytest.raises(ValueError, match="fold each case's events into its own state"):
        apply(state, make("deployment.departed", 1, case_id="IN-2026-999999"))


def test_clearance_keeps_the_earliest_grant_per_destination():
    state = None
    for event in [
        make("recruitment.emigration_clearance_granted", 9),
        make("recruitment.emigration_clearance_granted", 3),
        make("recruitment.emigration_clearance_granted", 5, destination_country="QA"),
    ]:
        state = apply(state, event)
    assert state.clearances == {"SA": at(3), "QA": at(5)}
    assert state.destination_country == "SA"  # latest by occurred_at, not by arrival


def test_apply_and_project_leave_their_input_untouched():
    state, _ = fold([make("recruitment.job_offer_made", 0), make("recruitment.emigration_clearance_granted", 1)])
    before = state.model_dump(mode="json")
    for event in [
        make("recruitment.contract_signed", 2),
        make("recruitment.job_offer_made", 3),
        make("recruitment.emigration_clearance_granted", 0),
        make("deployment.departed", 4),
        make("recruitment.fee_paid", 5, paid_by="migrant"),
    ]:
        apply(state, event)
        project(state, event, RULES)
    assert state.model_dump(mode="json") == before
