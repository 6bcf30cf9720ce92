"""Time rules of SPEC section 6 against an injected clock: the boundary, the sweep's record,
self-resolution, and the sweep never raising twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events import AlertCode, AlertStatus
from services.domain import CaseState, next_deadline, project, sweep, time_alert_event
from services.domain.alerts import time_alert_id
from tests.factories import CASE, NO_ESCALATION, RULES, at, fold, make, recorded

A = AlertCode
TICK = timedelta(microseconds=1)
FAR = at(2000)


def E(event_type: str, day: float = 0, **payload):
    return make(event_type, day, **payload)


def due_codes(state: CaseState, now: datetime) -> set[AlertCode]:
    return {alert.code for alert in sweep(state, now, RULES)}


def raise_due(state: CaseState, code: AlertCode, now: datetime = FAR) -> CaseState:
    """Run the sweep and project its record for `code`, as the worker does."""
    (alert,) = [a for a in sweep(state, now, RULES) if a.code == code]
    state, changes = project(state, recorded(time_alert_event(alert)), RULES)
    assert [(c.change, c.alert.code) for c in changes] == [("raised", code)]
    return state


def deployed(*extra):
    return [E("deployment.departed", 0), E("deployment.arrived", 1), *extra]


EMPLOYED = deployed(E("deployment.employment_started", 2), E("deployment.wage_paid", 30))
ONE_DAY = datetime(2025, 4, 1, tzinfo=UTC)  # the day after valid_until 2025-03-31

# (code, setup events, when the condition becomes true, an event that clears it)
TIME_RULES = [
    (A.WAGE_UNPAID, EMPLOYED, at(90), lambda: E("deployment.wage_paid", 100, period="2025-04")),
    (
        A.NO_WELFARE_CHECK,
        deployed(E("deployment.welfare_check_completed", 20)),
        at(110),
        lambda: E("deployment.welfare_check_completed", 120),
    ),
    (
        A.VISA_EXPIRED,
        [E("recruitment.visa_issued", -10, valid_until="2025-03-31"), *deployed()],
        ONE_DAY,
        lambda: E("recruitment.visa_issued", 95, valid_until="2026-03-31"),
    ),
    (
        A.INSURANCE_LAPSED,
        [E("recruitment.insurance_issued", -10, valid_until="2025-03-31"), *deployed()],
        ONE_DAY,
        lambda: E("recruitment.insurance_issued", 95, valid_until="2026-03-31"),
    ),
    (A.NOT_ARRIVED, [E("deployment.departed", 0)], at(3), lambda: E("deployment.arrived", 4)),
]
IDS = [row[0].value for row in TIME_RULES]

# (id, code, setup events): the condition can never hold, whatever the clock says
NEVER = [
    ("wage-not-employed", A.WAGE_UNPAID, deployed()),
    ("wage-returned", A.WAGE_UNPAID, [*EMPLOYED, E("return.returned", 40)]),
    ("check-not-deployed", A.NO_WELFARE_CHECK, [E("recruitment.job_offer_made", 0)]),
    ("visa-none", A.VISA_EXPIRED, deployed()),
    ("visa-not-deployed", A.VISA_EXPIRED, [E("recruitment.visa_issued", 0, valid_until="2025-01-31")]),
    ("insurance-none", A.INSURANCE_LAPSED, deployed()),
    ("not-arrived-arrived-late", A.NOT_ARRIVED, [E("deployment.departed", 0), E("deployment.arrived", 9)]),
    ("not-arrived-employed", A.NOT_ARRIVED, [E("deployment.departed", 0), E("deployment.employment_started", 1)]),
    ("not-arrived-not-departed", A.NOT_ARRIVED, [E("deployment.employment_started", 1)]),
]


@pytest.mark.parametrize("code,setup,due,clearing", TIME_RULES, ids=IDS)
def test_not_due_exactly_at_the_boundary_and_due_just_past_it(code, setup, due, clearing):
    state, _ = fold(setup)
    assert code not in due_codes(state, due)
    (alert,) = [a for a in sweep(state, due + TICK, RULES) if a.code == code]
    assert alert.raised_at == due and alert.alert_id == time_alert_id(CASE, code, due)


@pytest.mark.parametrize("code,setup,due,clearing", TIME_RULES, ids=IDS)
def test_the_sweeps_record_raises_it_and_the_clearing_event_resolves_it(code, setup, due, clearing):
    state = raise_due(fold(setup)[0], code)
    alert = state.unresolved(code)
    assert (alert.status, alert.raised_at, alert.trigger_event_id) == (AlertStatus.open, due, None)
    assert code not in due_codes(state, FAR)  # an unresolved alert is never raised again
    event = clearing()
    state, changes = project(state, event, RULES)
    assert [(c.change, c.alert.alert_id) for c in changes] == [("resolved", alert.alert_id)]
    done = state.alerts[alert.alert_id]
    assert (done.status, done.resolved_by, done.resolved_at) == (AlertStatus.resolved, "system", event.occurred_at)


@pytest.mark.parametrize("code,setup", [r[1:] for r in NEVER], ids=[r[0] for r in NEVER])
def test_no_clock_raises_what_cannot_hold(code, setup):
    assert code not in due_codes(fold(setup)[0], FAR)


def test_returning_resolves_every_time_alert():
    state, _ = fold(
        [
            E("recruitment.visa_issued", -9, valid_until="2025-01-31"),
            E("recruitment.insurance_issued", -9, valid_until="2025-01-31"),
            E("deployment.employment_started", 0),
            E("deployment.departed", 10, destination_country="GB"),
        ]
    )
    assert due_codes(state, at(200)) == {rule[0] for rule in TIME_RULES}
    for code in due_codes(state, at(200)):
        state = raise_due(state, code, at(200))
    state, changes = project(state, E("return.returned", 201), RULES)
    assert {(c.change, c.alert.code) for c in changes} == {("resolved", rule[0]) for rule in TIME_RULES}
    assert state.open_alerts == 0 and next_deadline(state, RULES) is None


def test_an_alert_an_officer_resolved_is_not_raised_again_while_its_cause_stands():
    state = raise_due(fold(EMPLOYED)[0], A.WAGE_UNPAID)
    alert = state.unresolved(A.WAGE_UNPAID)
    state, _ = fold([make("case.alert_resolved", 95, alert_id=alert.alert_id)], state)
    assert A.WAGE_UNPAID not in due_codes(state, FAR)
    assert next_deadline(state, NO_ESCALATION) == at(91)  # only NO_WELFARE_CHECK is pending
    state, _ = fold([E("deployment.wage_paid", 100)], state)  # the cause restarts: a new alert later
    assert [a.raised_at for a in sweep(state, FAR, RULES) if a.code == A.WAGE_UNPAID] == [at(160)]


def test_a_double_sweep_publishes_the_same_event_and_the_second_changes_nothing():
    state, _ = fold(EMPLOYED)
    first, second = (
        [time_alert_event(a) for a in sweep(state, now, RULES) if a.code == A.WAGE_UNPAID] for now in (at(95), at(96))
    )
    assert first == second and len(first) == 1
    state, changes = project(state, recorded(first[0]), RULES)
    again, none = project(state, recorded(second[0], recorded_at=at(96)), RULES)
    assert len(changes) == 1 and none == [] and again is state


def test_the_sweeps_record_raises_nothing_once_the_condition_cleared():
    state, _ = fold(EMPLOYED)
    (alert,) = [a for a in sweep(state, at(95), RULES) if a.code == A.WAGE_UNPAID]
    state, _ = fold([E("deployment.wage_paid", 89)], state)  # arrived before the sweep's record
    state, changes = project(state, recorded(time_alert_event(alert)), RULES)
    assert changes == [] and state.unresolved(A.WAGE_UNPAID) is None


def test_the_sweeps_record_raises_nothing_while_one_of_its_code_is_unresolved():
    state = raise_due(fold(EMPLOYED)[0], A.WAGE_UNPAID)
    other = make(
        "case.time_alert_raised",
        95,
        alert_id=time_alert_id(CASE, A.WAGE_UNPAID, at(91)),
        code="WAGE_UNPAID",
        raised_at=at(91).isoformat(),
    )
    after, changes = project(state, other, RULES)
    assert changes == [] and after.alerts == state.alerts


def test_late_evidence_clears_the_alert_and_the_sweep_raises_it_from_the_corrected_instant():
    state = raise_due(fold(EMPLOYED)[0], A.WAGE_UNPAID)
    old = state.unresolved(A.WAGE_UNPAID)
    state, changes = project(state, E("deployment.wage_paid", 50), RULES)  # recorded late
    assert [(c.change, c.alert.resolved_at) for c in changes] == [("resolved", at(90))]  # never before raised_at
    (new,) = [a for a in sweep(state, FAR, RULES) if a.code == A.WAGE_UNPAID]
    assert new.raised_at == at(110) and new.alert_id != old.alert_id


def test_time_rules_look_only_at_the_current_deployment():
    first_journey = [*EMPLOYED, E("deployment.welfare_check_completed", 60), E("return.returned", 200)]
    state, _ = fold([*first_journey, E("recruitment.job_offer_made", 300), E("deployment.departed", 400)])
    pending = {a.code: a.raised_at for a in sweep(state, FAR, RULES)}
    assert pending == {A.NOT_ARRIVED: at(403), A.NO_WELFARE_CHECK: at(490)}


def test_a_visa_that_expired_before_departure_counts_from_the_departure():
    state, _ = fold([E("recruitment.visa_issued", 0, valid_until="2025-01-31"), E("deployment.departed", 100)])
    (alert,) = [a for a in sweep(state, FAR, RULES) if a.code == A.VISA_EXPIRED]
    assert alert.raised_at == at(100)


def test_next_deadline_is_the_earliest_pending_time_rule():
    state, _ = fold(EMPLOYED)
    assert next_deadline(state, NO_ESCALATION) == at(90)  # WAGE_UNPAID; NO_WELFARE_CHECK at day 91
    # DEPARTED_WITHOUT_CLEARANCE (high) is open: it escalates 72 h after its trigger was recorded
    assert next_deadline(state, RULES) == at(3) + timedelta(minutes=1)
    assert next_deadline(raise_due(state, A.WAGE_UNPAID), NO_ESCALATION) == at(91)
    assert next_deadline(fold([E("recruitment.job_offer_made", 0)])[0], RULES) is None
