"""SPEC section 10 in the pure domain: assignment and referrals in the fold, the REFERRAL_STALLED
time rule and the escalation of open alerts, each at and just past its boundary under an
injected clock, and replay (any order, any duplicates) giving the same case."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import AlertCode, AlertStatus, ReferralStatus
from services.domain import escalation_event, escalations, next_deadline, project, sweep, time_alert_event
from services.domain.rules import AckLimits
from tests.factories import CASE, NO_ESCALATION, RULES, at, fold, make, recorded

A = AlertCode
TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)  # make() records each event a minute after it occurred
FAR = at(2000)


def E(event_type: str, day: float = 0, **payload):
    return make(event_type, day, **payload)


# --- assignment -------------------------------------------------------------------------------

ASSIGNMENTS = [  # (id, events, assigned_officer_id)
    ("none", [E("migrant.registered")], None),
    ("self", [E("case.assigned", 1, officer_id="off-a", assigned_by="off-a")], "off-a"),
    ("reassigned", [E("case.assigned", 1, officer_id="off-a"), E("case.assigned", 2, officer_id="off-b")], "off-b"),
    (
        "late-earlier-one-loses",
        [E("case.assigned", 2, officer_id="off-b"), E("case.assigned", 1, officer_id="off-a")],
        "off-b",
    ),
]


@pytest.mark.parametrize("stream,expected", [r[1:] for r in ASSIGNMENTS], ids=[r[0] for r in ASSIGNMENTS])
def test_the_latest_assignment_by_occurred_at_owns_the_case(stream, expected):
    state, changes = fold(stream)
    assert state.assigned_officer_id == expected and changes == []


# --- referrals in the fold --------------------------------------------------------------------

MADE = E("case.referral_made", 1, referral_id="R1", service="shelter", to_agency_id="shelter-1")
REFERRALS = [  # (id, answers after MADE, status, answered_at, outcome, reason)
    ("made", [], ReferralStatus.made, None, None, None),
    ("accepted", [E("referral.accepted", 2)], ReferralStatus.accepted, at(2), None, None),
    ("declined", [E("referral.declined", 2, reason="full")], ReferralStatus.declined, at(2), None, "full"),
    (
        "completed",
        [E("referral.accepted", 2), E("referral.completed", 5, outcome="housed")],
        ReferralStatus.completed,
        at(2),
        "housed",
        None,
    ),
    (
        "answers-out-of-order",
        [E("referral.completed", 5, outcome="housed"), E("referral.accepted", 2)],
        ReferralStatus.completed,
        at(2),
        "housed",
        None,
    ),
    ("other-referral-apart", [E("referral.accepted", 2, referral_id="R9")], ReferralStatus.made, None, None, None),
]


@pytest.mark.parametrize(
    "answers,status,answered_at,outcome,reason", [r[1:] for r in REFERRALS], ids=[r[0] for r in REFERRALS]
)
def test_a_referral_shows_its_latest_answer(answers, status, answered_at, outcome, reason):
    state, _ = fold([MADE, *answers])
    referral = state.referrals["R1"]
    assert (referral.status, referral.answered_at, referral.outcome, referral.reason) == (
        status,
        answered_at,
        outcome,
        reason,
    )
    assert referral.made_at == at(1) and referral.to_agency_id == "shelter-1"
    public = referral.public()
    assert [step["status"] for step in public["history"]] == [
        "made",
        *sorted(
            (a.event_type.split(".")[1] for a in answers if a.payload.referral_id == "R1"),
            key=["accepted", "declined", "completed"].index,
        ),
    ]
    assert public["history"][0]["by"] == MADE.payload.officer_id


def test_an_answer_folded_before_its_referral_waits_for_it_and_counts_for_nothing_until_then():
    answer = E("referral.accepted", 2)
    state, _ = fold([answer])
    assert not state.referrals["R1"].made and next_deadline(state, RULES) is None
    after, _ = fold([MADE], state)
    assert after.referrals == fold([MADE, answer])[0].referrals


def test_the_stored_state_reloads_with_its_referrals():
    state, _ = fold([MADE, E("referral.accepted", 2)])
    reloaded = type(state).model_validate_json(state.model_dump_json())
    assert reloaded.referrals == state.referrals and reloaded.referrals["R1"].status == ReferralStatus.accepted


STREAM = [
    E("migrant.registered", 0),
    E("deployment.departed", 1),
    E("deployment.distress_reported", 2),
    E("case.assigned", 2.5, officer_id="off-a"),
    MADE,
    E("case.referral_made", 3, referral_id="R2", service="legal", to_agency_id="legal-1"),
    E("referral.accepted", 4),
    E("referral.declined", 4, referral_id="R2", reason="conflict"),
    E("case.assigned", 5, officer_id="off-b"),
    E("referral.completed", 6, outcome="housed"),
]


@settings(max_examples=40, deadline=None)
@given(st.permutations(STREAM), st.lists(st.sampled_from(STREAM), max_size=4))
def test_any_order_with_duplicates_gives_the_same_assignment_and_referrals(order, duplicates):
    expected, _ = fold(STREAM)
    state, _ = fold([*order, *duplicates])
    assert state.assigned_officer_id == expected.assigned_officer_id == "off-b"
    assert state.referrals == expected.referrals


# --- REFERRAL_STALLED -------------------------------------------------------------------------

STALLED_AT = at(1) + timedelta(hours=48)


def due_codes(state, now):
    return {alert.code for alert in sweep(state, now, RULES)}


def raise_stalled(state, now=FAR):
    (alert,) = [a for a in sweep(state, now, RULES) if a.code == A.REFERRAL_STALLED]
    state, changes = project(state, recorded(time_alert_event(alert)), RULES)
    assert [(c.change, c.alert.code) for c in changes] == [("raised", A.REFERRAL_STALLED)]
    return state


def test_a_referral_unanswered_is_not_stalled_at_the_boundary_and_is_just_past_it():
    state, _ = fold([MADE])
    assert A.REFERRAL_STALLED not in due_codes(state, STALLED_AT)
    (alert,) = [a for a in sweep(state, STALLED_AT + TICK, RULES) if a.code == A.REFERRAL_STALLED]
    assert alert.raised_at == STALLED_AT
    assert next_deadline(state, RULES) == STALLED_AT


@pytest.mark.parametrize(
    "answer",
    [
        E("referral.accepted", 2.9),
        E("referral.declined", 2.9, reason="full"),
        E("referral.completed", 2.9, outcome="done"),
    ],
    ids=lambda e: e.event_type,
)
def test_a_referral_answered_in_time_never_stalls(answer):  # the near miss: answered just before 48 h
    state, _ = fold([MADE, answer])
    assert A.REFERRAL_STALLED not in due_codes(state, FAR) and next_deadline(state, RULES) is None


@pytest.mark.parametrize("answer", ["referral.accepted", "referral.declined", "referral.completed"])
def test_a_stalled_referral_resolves_itself_when_answered(answer):
    state = raise_stalled(fold([MADE])[0])
    alert = state.unresolved(A.REFERRAL_STALLED)
    assert alert.severity.value == "medium" and alert.trigger_event_id is None
    event = E(answer, 10)
    state, changes = project(state, event, RULES)
    assert [(c.change, c.alert.alert_id) for c in changes] == [("resolved", alert.alert_id)]
    done = state.alerts[alert.alert_id]
    assert (done.status, done.resolved_by, done.resolved_at) == (AlertStatus.resolved, "system", at(10))


def test_with_two_referrals_waiting_answering_the_oldest_moves_the_alert_to_the_next():
    second = E("case.referral_made", 2, referral_id="R2", service="legal", to_agency_id="legal-1")
    state = raise_stalled(fold([MADE, second])[0])
    assert state.unresolved(A.REFERRAL_STALLED).raised_at == STALLED_AT
    state, changes = project(state, E("referral.accepted", 10), RULES)
    assert [c.change for c in changes] == ["resolved"]
    (again,) = [a for a in sweep(state, FAR, RULES) if a.code == A.REFERRAL_STALLED]
    assert again.raised_at == at(2) + timedelta(hours=48)


def test_the_accept_hours_setting_moves_the_boundary():
    state, _ = fold([MADE])
    quick = replace(RULES, referral_accept_hours=1)
    assert {a.raised_at for a in sweep(state, FAR, quick) if a.code == A.REFERRAL_STALLED} == {
        at(1) + timedelta(hours=1)
    }


# --- escalation -------------------------------------------------------------------------------

ESCALATIONS = [  # (code, severity, trigger) raised at day 10, recorded a minute later
    (A.DISTRESS, "critical", lambda: E("deployment.distress_reported", 10)),
    (A.WAGE_THEFT, "high", lambda: E("deployment.grievance_filed", 10, category="wage_theft")),
    (A.RECRUITMENT_FEE_CHARGED, "medium", lambda: E("recruitment.fee_paid", 10, paid_by="migrant")),
]
LIMITS = {"critical": 24, "high": 72, "medium": 168}


def raised(trigger):
    state, _ = fold([trigger()])
    (alert,) = state.alerts.values()
    return state, alert


@pytest.mark.parametrize("code,severity,trigger", ESCALATIONS, ids=[r[0].value for r in ESCALATIONS])
def test_an_open_alert_escalates_just_past_its_severitys_limit_from_when_it_was_recorded(code, severity, trigger):
    state, alert = raised(trigger)
    limit = at(10) + MINUTE + timedelta(hours=LIMITS[severity])
    assert alert.recorded_at == at(10) + MINUTE and next_deadline(state, RULES) == limit
    assert escalations(state, limit, RULES) == []
    (escalation,) = escalations(state, limit + TICK, RULES)
    assert (escalation.alert_id, escalation.due) == (alert.alert_id, limit)
    state, changes = project(state, recorded(escalation_event(escalation), limit + timedelta(seconds=30)), RULES)
    assert [(c.change, c.alert.escalated_at) for c in changes] == [("escalated", limit)]
    assert state.alerts[alert.alert_id].status == AlertStatus.open  # still the officers' to act on
    assert escalations(state, FAR, RULES) == []
    assert next_deadline(state, RULES) == next_deadline(state, NO_ESCALATION)  # only time rules left


@pytest.mark.parametrize("action", ["case.alert_acknowledged", "case.alert_resolved"])
def test_an_alert_picked_up_before_its_limit_never_escalates(action):
    state, alert = raised(ESCALATIONS[0][2])
    state, _ = fold([make(action, 10.9, alert_id=alert.alert_id)], state)  # the near miss: within 24 h
    assert escalations(state, FAR, RULES) == []
    assert next_deadline(state, RULES) == next_deadline(state, NO_ESCALATION)


def test_an_escalation_that_reaches_the_log_after_an_acknowledgement_changes_nothing():
    state, alert = raised(ESCALATIONS[0][2])
    (escalation,) = escalations(state, FAR, RULES)
    state, _ = fold([make("case.alert_acknowledged", 12, alert_id=alert.alert_id)], state)
    after, changes = project(state, recorded(escalation_event(escalation)), RULES)
    assert changes == [] and after.alerts[alert.alert_id].escalated_at is None


def test_a_double_sweep_publishes_the_same_escalation_and_the_second_changes_nothing():
    state, _ = raised(ESCALATIONS[0][2])
    first, second = ([escalation_event(e) for e in escalations(state, now, RULES)] for now in (at(12), at(13)))
    assert first == second and len(first) == 1
    state, changes = project(state, recorded(first[0]), RULES)
    again, none = project(state, recorded(second[0], at(13)), RULES)
    assert len(changes) == 1 and none == [] and again is state


def test_a_time_rule_alert_escalates_from_the_sweeps_record_and_the_limits_are_settings():
    state = raise_stalled(fold([MADE])[0], now=at(5))
    alert = state.unresolved(A.REFERRAL_STALLED)
    assert alert.recorded_at == STALLED_AT + MINUTE  # `recorded()` stamps a minute after occurred_at
    fast = replace(RULES, ack_limits=AckLimits(medium=1))
    assert [e.due for e in escalations(state, FAR, fast)] == [alert.recorded_at + timedelta(hours=1)]
    assert [e.due for e in escalations(state, FAR, RULES)] == [alert.recorded_at + timedelta(hours=168)]


# --- replay ------------------------------------------------------------------------------------


def test_replaying_the_log_gives_the_same_assignments_referrals_escalations_and_alerts():
    log = list(STREAM)
    state, _ = fold(log)
    for now in (at(3), at(5), at(20)):  # the sweep runs a few times; what it publishes joins the log
        due = [time_alert_event(a) for a in sweep(state, now, RULES)]
        due += [escalation_event(e) for e in escalations(state, now, RULES)]
        for data in due:
            event = recorded(data, now)
            log.append(event)
            state, _ = project(state, event, RULES)
    assert any(alert.escalated_at for alert in state.alerts.values())
    replayed, _ = fold(log)
    assert replayed.model_dump() == state.model_dump()
    assert CASE == state.case_id
