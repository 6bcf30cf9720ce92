"""The conditions behind each alert code of SPEC section 6; `alerts.RULES` ties them to codes.

Event rules are predicates `(state after the event, event, config) -> bool`. Time rules are
`due(state, config) -> datetime | None`: the instant after which the condition holds (an alert
fires when now > due, and its raised_at is due), or None when it cannot hold in this state.
Decisions where SPEC is silent:
- time rules look only at the current deployment (the final run of stage `deployed`, from
  `stage_since`): a wage, arrival or check from an earlier journey does not count, and neither
  does an earlier employment start;
- NO_WELFARE_CHECK counts from the later of arrival, last check and the start of the deployment
  (a case deployed without a recorded arrival still gets checked on);
- VISA_EXPIRED / INSURANCE_LAPSED: valid_until is valid through the end of that date in UTC, so
  they fire after 00:00 UTC the next day (and never before the deployment began);
- UNDERPAID and CONTRACT_SUBSTITUTION compare wages only in the same currency;
- CONTRACT_SUBSTITUTION is also checked when an offer arrives after its contract (late events),
  and employment_started is compared with the contract it names, else the latest signed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from events import Envelope, ReferralStatus, Severity, Stage
from services.domain.state import CaseState
from services.domain.watchlist import Watchlist, moment, named_by, on_watchlist

DEFAULT_CLEARANCE_REQUIRED = frozenset("AF,BH,ID,IQ,JO,KW,LB,LY,MY,OM,QA,SA,SD,SS,SY,TH,AE,YE".split(","))


@dataclass(frozen=True)
class AckLimits:
    """SPEC section 10: how long an alert of each severity may stay open before it is escalated."""

    critical: float = 24
    high: float = 72
    medium: float = 168

    def hours(self, severity: Severity) -> float:
        return getattr(self, Severity(severity).value)


@dataclass(frozen=True)
class RuleConfig:
    """The rule settings (SPEC section 1); build it with `from_settings` at the edge."""

    wage_grace_days: int = 60
    checkin_days: int = 90
    arrival_grace_hours: int = 72
    clearance_required: frozenset[str] = field(default=DEFAULT_CLEARANCE_REQUIRED)
    referral_accept_hours: float = 48
    ack_limits: AckLimits = field(default_factory=AckLimits)
    # The watchlist entries of the parties in hand: the worker fills it per batch from its table.
    watchlist: Watchlist = field(default_factory=Watchlist)

    @classmethod
    def from_settings(cls, settings: Any) -> RuleConfig:
        """From `services.config.Settings` (duck-typed: the domain imports no configuration)."""
        return cls(
            wage_grace_days=settings.wage_grace_days,
            checkin_days=settings.checkin_days,
            arrival_grace_hours=settings.arrival_grace_hours,
            clearance_required=frozenset(settings.clearance_required_set),
            referral_accept_hours=settings.referral_accept_hours,
            ack_limits=AckLimits(**settings.ack_hours_by_severity),
        )


# Event rules -------------------------------------------------------------------------------


def _incident(e: Envelope, *categories: str) -> bool:
    return e.event_type == "deployment.incident_reported" and e.payload.category.value in categories


def _grievance(e: Envelope, category: str) -> bool:
    return e.event_type == "deployment.grievance_filed" and e.payload.category.value == category


def _check(e: Envelope, wellbeing: str) -> bool:
    return e.event_type == "deployment.welfare_check_completed" and e.payload.wellbeing.value == wellbeing


def distress(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return e.event_type == "deployment.distress_reported" or _check(e, "distress")


def welfare_concern(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return _check(e, "concern")


def abuse(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return _incident(e, "physical_abuse", "sexual_abuse") or _grievance(e, "abuse")


def passport_confiscated(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return _incident(e, "passport_confiscation") or _grievance(e, "passport_confiscation")


def incident(category: str):
    """DEATH_REPORTED, MISSING, DETENTION: one incident category each."""

    def fires(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
        return _incident(e, category)

    return fires


def wage_theft(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return _grievance(e, "wage_theft")


def underpaid(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    if e.event_type != "deployment.wage_paid" or s.contract is None:
        return False
    return _below(e.payload.amount, s.contract.monthly_wage)


def contract_substitution(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    if _grievance(e, "contract_substitution"):
        return True
    if e.event_type == "recruitment.contract_signed":
        offer = s.offers.get(e.payload.offer_id)
        return offer is not None and _worse(e.payload, offer)
    if e.event_type == "recruitment.job_offer_made":  # the offer arrived after its contract
        signed = (k for k in s.contracts.values() if k.offer_id == e.payload.offer_id)
        return any(_worse(k, e.payload) for k in signed)
    if e.event_type == "deployment.employment_started":
        named = s.contracts.get(e.payload.contract_id)
        latest = max(s.contracts.values(), key=lambda k: k.key, default=None)
        signed = named or latest
        return signed is not None and signed.employer_id != e.payload.employer_id
    return False


def departed_without_clearance(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    if e.event_type != "deployment.departed" or e.payload.destination_country not in c.clearance_required:
        return False
    cleared = s.clearances.get(e.payload.destination_country)
    return cleared is None or cleared >= e.occurred_at  # only a strictly earlier grant counts


def recruitment_fee_charged(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    return e.event_type == "recruitment.fee_paid" and e.payload.paid_by.value == "migrant"


def watchlisted_party(s: CaseState, e: Envelope, c: RuleConfig) -> bool:
    """An offer or contract naming a party listed when it was recorded, while the case's latest
    offer or contract names a listed party (see `services.domain.watchlist`)."""
    at = moment(e)
    named = named_by(s, e)
    return any(c.watchlist.listed(kind, party_id, at) for kind, party_id in named) and on_watchlist(s, c.watchlist, at)


def _worse(signed: Any, offer: Any) -> bool:
    """A contract signed on a lower wage or a different length than its offer."""
    return _below(signed.monthly_wage, offer.monthly_wage) or signed.contract_months != offer.contract_months


def _below(amount: Any, reference: Any) -> bool:
    """Money `amount` < `reference`, only when both are known and in the same currency."""
    return reference is not None and amount.currency == reference.currency and amount.amount < reference.amount


# Time rules --------------------------------------------------------------------------------


def _deployed_since(s: CaseState) -> datetime | None:
    return s.stage_since if s.stage == Stage.deployed else None


def wage_unpaid_due(s: CaseState, c: RuleConfig) -> datetime | None:
    since, started = _deployed_since(s), s.employment_started_at
    if since is None or started is None or started < since:
        return None
    return max(started, s.last_wage_at or started) + timedelta(days=c.wage_grace_days)


def no_welfare_check_due(s: CaseState, c: RuleConfig) -> datetime | None:
    since = _deployed_since(s)
    if since is None:
        return None
    base = max(t for t in (since, s.arrived_at, s.last_welfare_check_at) if t is not None)
    return base + timedelta(days=c.checkin_days)


def visa_expired_due(s: CaseState, c: RuleConfig) -> datetime | None:
    return _expiry(s, s.visa_valid_until)


def insurance_lapsed_due(s: CaseState, c: RuleConfig) -> datetime | None:
    return _expiry(s, s.insurance_valid_until)


def not_arrived_due(s: CaseState, c: RuleConfig) -> datetime | None:
    since, departed = _deployed_since(s), s.departed_at
    if since is None or departed is None or departed < since:
        return None
    if any(t is not None and t >= departed for t in (s.arrived_at, s.employment_started_at)):
        return None
    return departed + timedelta(hours=c.arrival_grace_hours)


def referral_stalled_due(s: CaseState, c: RuleConfig) -> datetime | None:
    """The oldest referral still `made` (no answer yet), plus PASSAGE_REFERRAL_ACCEPT_HOURS; any
    stage (a returned migrant may still need the service)."""
    waiting = [r.made_at for r in s.referrals.values() if r.made and r.status == ReferralStatus.made]
    return min(waiting) + timedelta(hours=c.referral_accept_hours) if waiting else None


def _expiry(s: CaseState, valid_until: Any) -> datetime | None:
    since = _deployed_since(s)
    if since is None or valid_until is None:
        return None
    return max(since, datetime.combine(valid_until + timedelta(days=1), time(), UTC))
