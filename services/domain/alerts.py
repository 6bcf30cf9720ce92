"""The protection view's alert rules (SPEC section 6): `RULES` is the one table of codes.

`evaluate(state, event, config)` is what an event does to the case's alerts (`state` is the case
after `welfare.apply`; every rule reads only that): it raises event-rule alerts, records a sweep's
`case.time_alert_raised`, applies officer acknowledge/resolve, and resolves time-rule alerts whose
condition cleared (resolved_by "system"). The clock side (sweep, next_deadline) is in `clock`.

Rules of the lifecycle (where SPEC is silent, decided here):
- at most one unresolved alert per code: a trigger while one is open or acknowledged does nothing;
- ids are uuid5 over "case|code|trigger event_id" (event rules) or "case|code|raised_at" (time
  rules, raised_at in UTC ISO form), so the same log gives the same ids;
- a time-rule alert is "cleared" when its due instant moved past its raised_at or vanished (a wage,
  a check, an arrival, a new visa, the case leaving `deployed`); late evidence that moves the
  instant also clears it, and the next sweep raises a new alert from the corrected instant;
- `case.time_alert_raised` raises only when no alert of that code is unresolved, its id is new,
  and the condition still holds with a due instant at or before its raised_at; else nothing;
- acknowledging works on an open alert, resolving on an unresolved one; anything else, or an
  unknown alert_id, changes nothing (the query service answers 404/409 before publishing);
- acknowledged_at / resolved_at are the event's occurred_at, but never before raised_at.
- event-rule alerts are closed only by officers, except WATCHLISTED_PARTY, which resolves itself
  when the case's latest offer and contract name no listed party (`services.domain.watchlist`);
- `case.alert_escalated` (SPEC section 10) sets escalated_at on an alert still open and not yet
  escalated; its time is the event's occurred_at (the instant the limit passed), so a replay
  gives the same escalated_at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID, uuid5

from pydantic import BaseModel

from events import (
    CATALOGUE,
    AlertAcknowledged,
    AlertCode,
    AlertEscalated,
    AlertResolved,
    AlertStatus,
    Envelope,
    Severity,
    TimeAlertRaised,
    carries,
)
from services.domain import rules
from services.domain.rules import RuleConfig
from services.domain.state import Alert, CaseState
from services.domain.watchlist import Entry, moment, on_watchlist

ALERT_NAMESPACE = UUID("6f1d2f4e-3c55-4f0a-9a7e-3b9f1f6c2a10")
SYSTEM = "system"


@dataclass(frozen=True)
class Rule:
    """One alert code: an event rule (`fires`, asked only for the event types in `on`) or a time
    rule (`due`, asked by the sweep and after every event)."""

    code: AlertCode
    severity: Severity
    fires: rules.Fires | None = None  # event rule
    due: rules.Due | None = None  # time rule
    on: tuple[str, ...] = ()  # event rule: the only event types `fires` can be true for


INCIDENT, GRIEVANCE = "deployment.incident_reported", "deployment.grievance_filed"
CHECK, DISTRESS = "deployment.welfare_check_completed", "deployment.distress_reported"
OFFER, CONTRACT = "recruitment.job_offer_made", "recruitment.contract_signed"
# Passage's own events about one alert: the sweep's and the officers'.
ALERT_EVENTS = frozenset(
    {"case.time_alert_raised", "case.alert_acknowledged", "case.alert_resolved", "case.alert_escalated"}
)


CRITICAL, HIGH, MEDIUM = Severity.critical, Severity.high, Severity.medium
RULES: tuple[Rule, ...] = (
    Rule(AlertCode.DISTRESS, CRITICAL, fires=rules.distress, on=(DISTRESS, CHECK)),
    Rule(AlertCode.ABUSE_REPORTED, CRITICAL, fires=rules.abuse, on=(INCIDENT, GRIEVANCE)),
    Rule(AlertCode.DEATH_REPORTED, CRITICAL, fires=rules.incident("death"), on=(INCIDENT,)),
    Rule(AlertCode.MISSING, CRITICAL, fires=rules.incident("missing"), on=(INCIDENT,)),
    Rule(AlertCode.DETENTION, HIGH, fires=rules.incident("detention"), on=(INCIDENT,)),
    Rule(AlertCode.PASSPORT_CONFISCATED, HIGH, fires=rules.passport_confiscated, on=(INCIDENT, GRIEVANCE)),
    Rule(AlertCode.WAGE_THEFT, HIGH, fires=rules.wage_theft, on=(GRIEVANCE,)),
    Rule(AlertCode.UNDERPAID, HIGH, fires=rules.underpaid, on=("deployment.wage_paid",)),
    Rule(
        AlertCode.CONTRACT_SUBSTITUTION,
        HIGH,
        fires=rules.contract_substitution,
        on=(GRIEVANCE, "recruitment.contract_signed", "recruitment.job_offer_made", "deployment.employment_started"),
    ),
    Rule(
        AlertCode.DEPARTED_WITHOUT_CLEARANCE, HIGH, fires=rules.departed_without_clearance, on=("deployment.departed",)
    ),
    Rule(AlertCode.RECRUITMENT_FEE_CHARGED, MEDIUM, fires=rules.recruitment_fee_charged, on=("recruitment.fee_paid",)),
    Rule(AlertCode.WELFARE_CONCERN, MEDIUM, fires=rules.welfare_concern, on=(CHECK,)),
    Rule(AlertCode.WATCHLISTED_PARTY, HIGH, fires=rules.watchlisted_party, on=(OFFER, CONTRACT)),
    Rule(AlertCode.WAGE_UNPAID, HIGH, due=rules.wage_unpaid_due),
    Rule(AlertCode.NO_WELFARE_CHECK, MEDIUM, due=rules.no_welfare_check_due),
    Rule(AlertCode.VISA_EXPIRED, MEDIUM, due=rules.visa_expired_due),
    Rule(AlertCode.INSURANCE_LAPSED, MEDIUM, due=rules.insurance_lapsed_due),
    Rule(AlertCode.NOT_ARRIVED, HIGH, due=rules.not_arrived_due),
    Rule(AlertCode.REFERRAL_STALLED, MEDIUM, due=rules.referral_stalled_due),
)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
EVENT_RULES = tuple(rule for rule in RULES if rule.fires)
TIME_RULES = tuple(rule for rule in RULES if rule.due)
# Derived from RULES (in its order): the event rules worth asking about each event type, so an
# event is not put to the ten rules that cannot fire for it.
EVENT_RULES_FOR: dict[str, tuple[Rule, ...]] = {
    event_type: tuple(rule for rule in EVENT_RULES if event_type in rule.on)
    for event_type in {on_type for rule in EVENT_RULES for on_type in rule.on}
}
if unknown := sorted((set(EVENT_RULES_FOR) | ALERT_EVENTS) - set(CATALOGUE)):
    raise ValueError(
        f"alert rules react to event types the catalogue lacks: {unknown}; fix `on` in RULES or ALERT_EVENTS"
    )


Change = Literal["raised", "acknowledged", "resolved", "escalated"]


class AlertChange(BaseModel):
    """An alert as it is after a change, and which change it was (published to alerts.v1)."""

    alert: Alert
    change: Change


def alert_id(case_id: str, code: AlertCode, basis: str) -> str:
    return str(uuid5(ALERT_NAMESPACE, f"{case_id}|{code.value}|{basis}"))


def time_alert_id(case_id: str, code: AlertCode, raised_at: datetime) -> str:
    return alert_id(case_id, code, raised_at.astimezone(UTC).isoformat())


def evaluate(state: CaseState, event: Envelope, config: RuleConfig) -> list[AlertChange]:
    """The alert changes `event` causes; `state` is the case after `welfare.apply(..., event)`."""
    changes = _raised_by_event(state, event, config)
    if event.event_type in ALERT_EVENTS:  # the rest of the log is spared three checks that would say no
        changes += _recorded_by_sweep(state, event, config) + _officer_action(state, event)
        changes += _escalated_by_sweep(state, event)
    if not state.alerts:  # nothing to clear or take off the watchlist (most cases, most events)
        return changes
    touched = {change.alert.alert_id for change in changes}
    return changes + _cleared(state, event, config, touched) + _off_watchlist(state, event, config, touched)


def off_watchlist(state: CaseState, entry: Entry, config: RuleConfig) -> list[AlertChange]:
    """What a watchlist entry does to a case: resolve its WATCHLISTED_PARTY alert when the case's
    latest offer and contract name no party listed as of the entry (a removal, in effect)."""
    alert = state.unresolved(AlertCode.WATCHLISTED_PARTY)
    if alert is None or on_watchlist(state, config.watchlist, entry.recorded_at):
        return []
    resolved = alert.model_copy(
        update={
            "status": AlertStatus.resolved,
            "resolved_by": SYSTEM,
            "resolved_at": max(alert.raised_at, entry.recorded_at),
        }
    )
    return [AlertChange(alert=resolved, change="resolved")]


def _off_watchlist(state: CaseState, event: Envelope, config: RuleConfig, touched: set[str]) -> list[AlertChange]:
    if event.event_type not in (OFFER, CONTRACT):
        return []
    alert = state.unresolved(AlertCode.WATCHLISTED_PARTY)
    if alert is None or alert.alert_id in touched or on_watchlist(state, config.watchlist, moment(event)):
        return []
    return [_resolve(alert, event, SYSTEM, alert.note)]


def _raised_by_event(state: CaseState, event: Envelope, config: RuleConfig) -> list[AlertChange]:
    return [
        _raise(
            state,
            rule,
            alert_id(state.case_id, rule.code, str(event.event_id)),
            event.occurred_at,
            str(event.event_id),
            event,
        )
        for rule in EVENT_RULES_FOR.get(event.event_type, ())
        if rule.fires is not None and rule.fires(state, event, config) and not state.unresolved(rule.code)
    ]


def _recorded_by_sweep(state: CaseState, event: Envelope, config: RuleConfig) -> list[AlertChange]:
    if not carries(event, TimeAlertRaised):
        return []
    raised = event.payload
    rule = BY_CODE.get(raised.code)
    if rule is None or rule.due is None or state.unresolved(raised.code) or raised.alert_id in state.alerts:
        return []
    at = rule.due(state, config)
    if at is None or at > raised.raised_at:
        return []
    return [_raise(state, rule, raised.alert_id, raised.raised_at, None, event)]


def _escalated_by_sweep(state: CaseState, event: Envelope) -> list[AlertChange]:
    """SPEC section 10: the sweep's `case.alert_escalated` marks an alert still open (an alert
    acknowledged or resolved before the escalation reached the log is left as it is)."""
    if not carries(event, AlertEscalated):
        return []
    alert = state.alerts.get(event.payload.alert_id)
    if alert is None or alert.status != AlertStatus.open or alert.escalated_at is not None:
        return []
    escalated = alert.model_copy(update={"escalated_at": _when(alert, event)})
    return [AlertChange(alert=escalated, change="escalated")]


def _officer_action(state: CaseState, event: Envelope) -> list[AlertChange]:
    if carries(event, AlertResolved):
        resolving = event.payload
        alert = state.alerts.get(resolving.alert_id)
        if alert is None or not alert.unresolved:
            return []
        return [_resolve(alert, event, resolving.officer_id, resolving.note)]
    if not carries(event, AlertAcknowledged):
        return []
    acknowledging = event.payload
    alert = state.alerts.get(acknowledging.alert_id)
    if alert is None or alert.status != AlertStatus.open:  # an open alert is unresolved
        return []
    acknowledged = alert.model_copy(
        update={
            "status": AlertStatus.acknowledged,
            "acknowledged_by": acknowledging.officer_id,
            "acknowledged_at": _when(alert, event),
            "note": acknowledging.note or alert.note,
        }
    )
    return [AlertChange(alert=acknowledged, change="acknowledged")]


def _cleared(state: CaseState, event: Envelope, config: RuleConfig, touched: set[str]) -> list[AlertChange]:
    changes: list[AlertChange] = []
    for alert in state.alerts.values():
        rule = BY_CODE[alert.code]
        if rule.due is None or not alert.unresolved or alert.alert_id in touched:
            continue
        at = rule.due(state, config)
        if at is None or at > alert.raised_at:
            changes.append(_resolve(alert, event, SYSTEM, alert.note))
    return changes


def _raise(
    state: CaseState, rule: Rule, raised_id: str, at: datetime, trigger: str | None, event: Envelope
) -> AlertChange:
    recorded = (event.recorded_at or event.occurred_at).astimezone(UTC)  # escalation counts from it
    alert = Alert(
        alert_id=raised_id,
        case_id=state.case_id,
        code=rule.code,
        severity=rule.severity,
        raised_at=at.astimezone(UTC),
        trigger_event_id=trigger,
        recorded_at=recorded,
    )
    return AlertChange(alert=alert, change="raised")


def _resolve(alert: Alert, event: Envelope, by: str, note: str | None) -> AlertChange:
    resolved = alert.model_copy(
        update={"status": AlertStatus.resolved, "resolved_by": by, "resolved_at": _when(alert, event), "note": note}
    )
    return AlertChange(alert=resolved, change="resolved")


def _when(alert: Alert, event: Envelope) -> datetime:
    return max(alert.raised_at, event.occurred_at.astimezone(UTC))
