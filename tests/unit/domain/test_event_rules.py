"""Event rules of SPEC section 6, table-driven: raised, the near miss, dedup, officer resolution."""

from __future__ import annotations

import pytest

from events import AlertCode, AlertStatus, Severity
from services.domain import RULES, RuleConfig
from services.domain.alerts import alert_id
from tests.factories import CASE, fold, make, money

A = AlertCode
# SPEC section 6's severities, written out again so the table in alerts.py is checked against it.
SPEC_SEVERITY = {
    A.DISTRESS: "critical",
    A.ABUSE_REPORTED: "critical",
    A.DEATH_REPORTED: "critical",
    A.MISSING: "critical",
    A.DETENTION: "high",
    A.PASSPORT_CONFISCATED: "high",
    A.WAGE_THEFT: "high",
    A.UNDERPAID: "high",
    A.CONTRACT_SUBSTITUTION: "high",
    A.DEPARTED_WITHOUT_CLEARANCE: "high",
    A.RECRUITMENT_FEE_CHARGED: "medium",
    A.WELFARE_CONCERN: "medium",
    A.WAGE_UNPAID: "high",
    A.NO_WELFARE_CHECK: "medium",
    A.VISA_EXPIRED: "medium",
    A.INSURANCE_LAPSED: "medium",
    A.NOT_ARRIVED: "high",
    A.REFERRAL_STALLED: "medium",
    A.WATCHLISTED_PARTY: "high",
}


def E(event_type: str, day: float = 0, **payload):
    return event_type, day, payload


def build(specs):
    return [make(t, d, **p) for t, d, p in specs]


OFFER = [E("recruitment.job_offer_made", 0)]
CONTRACT = OFFER + [E("recruitment.contract_signed", 1)]
INCIDENT, GRIEVANCE = "deployment.incident_reported", "deployment.grievance_filed"
CHECK, DEPART = "deployment.welfare_check_completed", "deployment.departed"

# (id, code, setup events, the triggering event)
RAISES = [
    ("distress-report", A.DISTRESS, [], E("deployment.distress_reported", 5)),
    ("distress-check", A.DISTRESS, [], E(CHECK, 5, wellbeing="distress")),
    ("abuse-physical", A.ABUSE_REPORTED, [], E(INCIDENT, 5, category="physical_abuse")),
    ("abuse-sexual", A.ABUSE_REPORTED, [], E(INCIDENT, 5, category="sexual_abuse")),
    ("abuse-grievance", A.ABUSE_REPORTED, [], E(GRIEVANCE, 5, category="abuse")),
    ("death", A.DEATH_REPORTED, [], E(INCIDENT, 5, category="death")),
    ("missing", A.MISSING, [], E(INCIDENT, 5, category="missing")),
    ("detention", A.DETENTION, [], E(INCIDENT, 5, category="detention")),
    ("passport-incident", A.PASSPORT_CONFISCATED, [], E(INCIDENT, 5, category="passport_confiscation")),
    ("passport-grievance", A.PASSPORT_CONFISCATED, [], E(GRIEVANCE, 5, category="passport_confiscation")),
    ("wage-theft", A.WAGE_THEFT, [], E(GRIEVANCE, 5, category="wage_theft")),
    ("underpaid", A.UNDERPAID, CONTRACT, E("deployment.wage_paid", 5, amount=money("1499.99"))),
    (
        "substitution-lower-wage",
        A.CONTRACT_SUBSTITUTION,
        OFFER,
        E("recruitment.contract_signed", 1, monthly_wage=money("1400.00")),
    ),
    ("substitution-months", A.CONTRACT_SUBSTITUTION, OFFER, E("recruitment.contract_signed", 1, contract_months=12)),
    (
        "substitution-late-offer",
        A.CONTRACT_SUBSTITUTION,
        [E("recruitment.contract_signed", 1, monthly_wage=money("1400.00"))],
        E("recruitment.job_offer_made", 0),
    ),
    ("substitution-grievance", A.CONTRACT_SUBSTITUTION, [], E(GRIEVANCE, 5, category="contract_substitution")),
    (
        "substitution-employer",
        A.CONTRACT_SUBSTITUTION,
        CONTRACT,
        E("deployment.employment_started", 5, employer_id="E2"),
    ),
    (
        "substitution-employer-unknown-contract",
        A.CONTRACT_SUBSTITUTION,
        CONTRACT,
        E("deployment.employment_started", 5, employer_id="E2", contract_id="K9"),
    ),
    ("departed-uncleared", A.DEPARTED_WITHOUT_CLEARANCE, [], E(DEPART, 5)),
    (
        "departed-cleared-same-instant",
        A.DEPARTED_WITHOUT_CLEARANCE,
        [E("recruitment.emigration_clearance_granted", 5)],
        E(DEPART, 5),
    ),
    (
        "departed-cleared-elsewhere",
        A.DEPARTED_WITHOUT_CLEARANCE,
        [E("recruitment.emigration_clearance_granted", 1, destination_country="QA")],
        E(DEPART, 5),
    ),
    (
        "departed-cleared-afterwards",
        A.DEPARTED_WITHOUT_CLEARANCE,
        [E("recruitment.emigration_clearance_granted", 6)],
        E(DEPART, 5),
    ),
    ("fee-by-migrant", A.RECRUITMENT_FEE_CHARGED, [], E("recruitment.fee_paid", 5, paid_by="migrant")),
    ("concern", A.WELFARE_CONCERN, [], E(CHECK, 5, wellbeing="concern")),
]

# (id, code, setup events, an event that looks like a trigger but is not one)
NEAR_MISSES = [
    ("distress-check-ok", A.DISTRESS, [], E(CHECK, 5, wellbeing="ok")),
    ("distress-check-concern", A.DISTRESS, [], E(CHECK, 5, wellbeing="concern")),
    ("abuse-medical", A.ABUSE_REPORTED, [], E(INCIDENT, 5, category="medical")),
    ("abuse-unsafe-work", A.ABUSE_REPORTED, [], E(GRIEVANCE, 5, category="unsafe_work")),
    ("death-missing", A.DEATH_REPORTED, [], E(INCIDENT, 5, category="missing")),
    ("missing-death", A.MISSING, [], E(INCIDENT, 5, category="death")),
    ("detention-other", A.DETENTION, [], E(INCIDENT, 5, category="other")),
    ("passport-other", A.PASSPORT_CONFISCATED, [], E(GRIEVANCE, 5, category="other")),
    ("wage-theft-abuse", A.WAGE_THEFT, [], E(GRIEVANCE, 5, category="abuse")),
    ("underpaid-exact", A.UNDERPAID, CONTRACT, E("deployment.wage_paid", 5, amount=money("1500.00"))),
    ("underpaid-other-currency", A.UNDERPAID, CONTRACT, E("deployment.wage_paid", 5, amount=money("100.00", "USD"))),
    ("underpaid-offer-only", A.UNDERPAID, OFFER, E("deployment.wage_paid", 5, amount=money("1.00"))),
    ("substitution-same-terms", A.CONTRACT_SUBSTITUTION, OFFER, E("recruitment.contract_signed", 1)),
    (
        "substitution-higher-wage",
        A.CONTRACT_SUBSTITUTION,
        OFFER,
        E("recruitment.contract_signed", 1, monthly_wage=money("1600.00")),
    ),
    (
        "substitution-other-currency",
        A.CONTRACT_SUBSTITUTION,
        OFFER,
        E("recruitment.contract_signed", 1, monthly_wage=money("400.00", "USD")),
    ),
    (
        "substitution-other-offer",
        A.CONTRACT_SUBSTITUTION,
        OFFER,
        E("recruitment.contract_signed", 1, offer_id="O2", monthly_wage=money("1.00")),
    ),
    ("substitution-same-employer", A.CONTRACT_SUBSTITUTION, CONTRACT, E("deployment.employment_started", 5)),
    (
        "substitution-nothing-signed",
        A.CONTRACT_SUBSTITUTION,
        OFFER,
        E("deployment.employment_started", 5, employer_id="E2"),
    ),
    (
        "departed-cleared-before",
        A.DEPARTED_WITHOUT_CLEARANCE,
        [E("recruitment.emigration_clearance_granted", 4.99)],
        E(DEPART, 5),
    ),
    ("departed-no-clearance-needed", A.DEPARTED_WITHOUT_CLEARANCE, [], E(DEPART, 5, destination_country="GB")),
    ("fee-by-employer", A.RECRUITMENT_FEE_CHARGED, [], E("recruitment.fee_paid", 5)),
    ("concern-ok", A.WELFARE_CONCERN, [], E(CHECK, 5, wellbeing="ok")),
]


def _only(state, code):
    found = [a for a in state.alerts.values() if a.code == code]
    assert len(found) <= 1, f"{len(found)} alerts of {code}"
    return found[0] if found else None


def test_the_table_has_every_code_with_its_spec_severity():
    assert {rule.code: rule.severity.value for rule in RULES} == SPEC_SEVERITY
    assert {rule.code for rule in RULES} == set(AlertCode)
    # WATCHLISTED_PARTY needs a watchlist in the config: tests/unit/domain/test_watchlist_rule.py
    assert {code for _, code, _, _ in RAISES} == {rule.code for rule in RULES if rule.fires} - {A.WATCHLISTED_PARTY}


@pytest.mark.parametrize("code,setup,trigger", [r[1:] for r in RAISES], ids=[r[0] for r in RAISES])
def test_the_trigger_raises_one_open_alert(code, setup, trigger):
    event = build([trigger])[0]
    state, changes = fold(build(setup) + [event])
    alert = _only(state, code)
    assert alert is not None and alert.status == AlertStatus.open
    assert alert.severity == Severity(SPEC_SEVERITY[code])
    assert (alert.raised_at, alert.trigger_event_id) == (event.occurred_at, str(event.event_id))
    assert alert.alert_id == alert_id(CASE, code, str(event.event_id))
    assert [c.change for c in changes if c.alert.code == code] == ["raised"]
    assert state.open_alerts >= 1 and state.top_severity is not None


@pytest.mark.parametrize("code,setup,event", [r[1:] for r in NEAR_MISSES], ids=[r[0] for r in NEAR_MISSES])
def test_the_near_miss_raises_nothing_of_that_code(code, setup, event):
    state, _ = fold(build(setup + [event]))
    assert _only(state, code) is None


@pytest.mark.parametrize("code,setup,trigger", [r[1:] for r in RAISES], ids=[r[0] for r in RAISES])
def test_a_second_trigger_while_one_is_unresolved_changes_nothing(code, setup, trigger):
    state, _ = fold(build(setup + [trigger]))
    first = _only(state, code)
    again, changes = fold(build([trigger]), state)  # a new event (new event_id), same facts
    assert _only(again, code) == first and not [c for c in changes if c.alert.code == code]


@pytest.mark.parametrize("code,setup,trigger", [r[1:] for r in RAISES], ids=[r[0] for r in RAISES])
def test_an_officer_resolves_it_and_a_new_trigger_raises_a_new_one(code, setup, trigger):
    state, _ = fold(build(setup + [trigger]))
    first = _only(state, code)
    state, changes = fold([make("case.alert_resolved", 20, alert_id=first.alert_id, note="called her")], state)
    resolved = state.alerts[first.alert_id]
    assert [c.change for c in changes] == ["resolved"] and resolved.status == AlertStatus.resolved
    assert (resolved.resolved_by, resolved.note) == ("OF1", "called her")
    state, _ = fold(build([trigger]), state)
    reopened = [a for a in state.alerts.values() if a.code == code and a.unresolved]
    assert len(reopened) == 1 and reopened[0].alert_id != first.alert_id


def test_the_clearance_list_comes_from_the_config():
    config = RuleConfig(clearance_required=frozenset({"GB"}))
    state, _ = fold(build([E(DEPART, 5, destination_country="GB")]), rules=config)
    assert _only(state, A.DEPARTED_WITHOUT_CLEARANCE) is not None
    state, _ = fold(build([E(DEPART, 5, destination_country="SA")]), rules=config)
    assert _only(state, A.DEPARTED_WITHOUT_CLEARANCE) is None


def test_underpaid_compares_with_the_current_contract():
    state, _ = fold(
        build(
            CONTRACT
            + [
                E("recruitment.job_offer_made", 10, offer_id="O2", monthly_wage=money("1000.00")),
                E("recruitment.contract_signed", 11, offer_id="O2", contract_id="K2", monthly_wage=money("1000.00")),
                E("deployment.wage_paid", 40, amount=money("1200.00")),
            ]
        )
    )
    assert _only(state, A.UNDERPAID) is None and state.contract.contract_id == "K2"
