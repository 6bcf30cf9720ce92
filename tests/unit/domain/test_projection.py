"""`project`: the worker's entry point. Officer actions, derived alert counts, duplicates, and
replay determinism (the same log gives the same alerts, ids and all)."""

from __future__ import annotations

from events import AlertCode, AlertStatus, Severity
from services.config import Settings
from services.domain import CaseState, RuleConfig, project, sweep, time_alert_event
from tests.factories import RULES, at, fold, make, recorded, stamped_demo_events


def _concern_and_distress():
    return fold(
        [make("deployment.welfare_check_completed", 5, wellbeing="concern"), make("deployment.distress_reported", 6)]
    )[0]


def _id(state: CaseState, code: AlertCode) -> str:
    return state.unresolved(code).alert_id


def test_open_alerts_and_top_severity_follow_the_unresolved_alerts():
    state = _concern_and_distress()
    assert (state.open_alerts, state.top_severity) == (2, Severity.critical)
    state, _ = fold([make("case.alert_resolved", 7, alert_id=_id(state, AlertCode.DISTRESS))], state)
    assert (state.open_alerts, state.top_severity) == (1, Severity.medium)


def test_an_officer_acknowledges_then_resolves():
    state = _concern_and_distress()
    aid = _id(state, AlertCode.WELFARE_CONCERN)
    state, changes = project(state, make("case.alert_acknowledged", 8, alert_id=aid, note="on it"), RULES)
    alert = state.alerts[aid]
    assert [c.change for c in changes] == ["acknowledged"]
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_at, alert.note) == (
        AlertStatus.acknowledged,
        "OF1",
        at(8),
        "on it",
    )
    assert state.open_alerts == 2  # acknowledged is still unresolved
    state, changes = project(state, make("case.alert_acknowledged", 9, alert_id=aid), RULES)
    assert changes == []
    state, changes = project(state, make("case.alert_resolved", 10, alert_id=aid, note="safe now"), RULES)
    alert = state.alerts[aid]
    assert (alert.status, alert.resolved_by, alert.resolved_at, alert.note) == (
        AlertStatus.resolved,
        "OF1",
        at(10),
        "safe now",
    )
    assert alert.acknowledged_by == "OF1"
    for late in ("case.alert_acknowledged", "case.alert_resolved"):
        assert project(state, make(late, 11, alert_id=aid), RULES)[1] == []


def test_an_action_on_an_unknown_alert_changes_nothing():
    state = _concern_and_distress()
    after, changes = project(state, make("case.alert_resolved", 8, alert_id="no-such-alert"), RULES)
    assert changes == [] and after.alerts == state.alerts and after.event_count == state.event_count + 1


def test_an_action_dated_before_the_alert_is_stamped_at_the_alert():
    state = _concern_and_distress()
    aid = _id(state, AlertCode.DISTRESS)
    state, _ = project(state, make("case.alert_acknowledged", 1, alert_id=aid), RULES)
    assert state.alerts[aid].acknowledged_at == at(6)


def test_a_duplicate_event_returns_the_state_unchanged_and_no_changes():
    event = make("deployment.distress_reported", 6)
    state, changes = project(None, event, RULES)
    again, none = project(state, event, RULES)
    assert len(changes) == 1 and none == [] and again is state


LOG = [
    make("recruitment.job_offer_made", 0),
    make("recruitment.contract_signed", 1, contract_months=12),
    make("recruitment.fee_paid", 2, paid_by="migrant"),
    make("deployment.departed", 10),
    make("deployment.arrived", 11),
    make("deployment.employment_started", 12),
    make("deployment.wage_paid", 40, amount={"amount": "1000.00", "currency": "SAR"}),
    make("deployment.welfare_check_completed", 45, wellbeing="concern"),
]


def _replay(log, reload: bool):
    """Fold `log`, recording the sweep as the worker would at day 200; optionally reload the
    state from its JSON form between events (the worker's JSON column)."""
    state, changes = None, []
    for event in log:
        state, new = project(state, event, RULES)
        changes += new
        if reload:
            state = CaseState.model_validate(state.model_dump(mode="json"))
    return state, changes


def test_replaying_the_same_log_gives_identical_alerts():
    state, _ = _replay(LOG, reload=False)
    swept = [recorded(time_alert_event(a)) for a in sweep(state, at(200), RULES)]
    officer = [
        make("case.alert_acknowledged", 201, alert_id=_id(state, AlertCode.UNDERPAID)),
        make("case.alert_resolved", 202, alert_id=_id(state, AlertCode.WELFARE_CONCERN), note="ok"),
        make("deployment.wage_paid", 203),
        make("return.returned", 300),
    ]
    log = LOG + swept + officer
    first, first_changes = _replay(log, reload=False)
    second, second_changes = _replay(log, reload=True)
    assert first.model_dump(mode="json") == second.model_dump(mode="json")
    assert [c.model_dump(mode="json") for c in first_changes] == [c.model_dump(mode="json") for c in second_changes]
    codes = {a.code: a.status for a in first.alerts.values()}
    assert codes == {
        AlertCode.CONTRACT_SUBSTITUTION: AlertStatus.open,
        AlertCode.RECRUITMENT_FEE_CHARGED: AlertStatus.open,
        AlertCode.DEPARTED_WITHOUT_CLEARANCE: AlertStatus.open,
        AlertCode.UNDERPAID: AlertStatus.acknowledged,
        AlertCode.WELFARE_CONCERN: AlertStatus.resolved,
        AlertCode.WAGE_UNPAID: AlertStatus.resolved,
        AlertCode.NO_WELFARE_CHECK: AlertStatus.resolved,
    }


def test_rule_config_from_settings():
    settings = Settings(wage_grace_days=30, checkin_days=45, arrival_grace_hours=24, clearance_required="sa, qa")
    assert RuleConfig.from_settings(settings) == RuleConfig(30, 45, 24, frozenset({"SA", "QA"}))
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert RuleConfig() == RuleConfig(
        defaults["wage_grace_days"],
        defaults["checkin_days"],
        defaults["arrival_grace_hours"],
        frozenset(defaults["clearance_required"].split(",")),
    )


def test_folding_in_place_gives_what_folding_copies_gives_duplicates_included():
    from datetime import UTC, datetime

    from services.demo.journeys import generate

    journeys = generate(20, seed=11, now=datetime(2026, 12, 6, tzinfo=UTC))
    stream = stamped_demo_events(event for journey in journeys for event in journey.events)
    stream += stream[-30:]  # recent redeliveries: no change, no alert, not counted
    copied: dict[str, CaseState] = {}
    in_place: dict[str, CaseState] = {}
    for event in stream:
        before = copied.get(event.case_id)
        copied[event.case_id], changes = project(before, event, RULES)
        in_place[event.case_id], changes_in_place = project(in_place.get(event.case_id), event, RULES, in_place=True)
        assert changes_in_place == changes
    assert {case_id: state.model_dump() for case_id, state in in_place.items()} == {
        case_id: state.model_dump() for case_id, state in copied.items()
    }
