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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from events import (
    ContractSigned,
    Departed,
    DistressReported,
    EmploymentStarted,
    Envelope,
    FeePaid,
    FeePayer,
    GrievanceFiled,
    IncidentReported,
    JobOfferMade,
    Money,
    ReferralStatus,
    Severity,
    Stage,
    WagePaid,
    WelfareCheckCompleted,
    carries,
)
from services.domain.state import CaseState, Offer, Signed
from services.domain.watchlist import Watchlist, moment, named_by, on_watchlist

DEFAULT_CLEARANCE_REQUIRED = frozenset("AF,BH,ID,IQ,JO,KW,LB,LY,MY,OM,QA,SA,SD,SS,SY,TH,AE,YE".split(","))


@dataclass(frozen=True)
class AckLimits:
    """SPEC section 10: how long an alert of each severity may stay open before it is escalated."""

    critical: float = 24
    high: float = 72
    medium: float = 168

    def hours(self, severity: Severity) -> float:
        limit: float = getattr(self, Severity(severity).value)  # the field named after the severity
        return limit


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

Fires = Callable[[CaseState, Envelope, RuleConfig], bool]
"""An event rule: does the event raise its alert, given the case after it?"""


# The categories and wellbeing are str Enums, compared as the str they are (`.value` is a
# descriptor call, and these run on every check, incident and grievance).
def _incident(event: Envelope, *categories: str) -> bool:
    return carries(event, IncidentReported) and event.payload.category in categories


def _grievance(event: Envelope, category: str) -> bool:
    return carries(event, GrievanceFiled) and event.payload.category == category


def _check(event: Envelope, wellbeing: str) -> bool:
    return carries(event, WelfareCheckCompleted) and event.payload.wellbeing == wellbeing


def distress(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return carries(event, DistressReported) or _check(event, "distress")


def welfare_concern(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return _check(event, "concern")


def abuse(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return _incident(event, "physical_abuse", "sexual_abuse") or _grievance(event, "abuse")


def passport_confiscated(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return _incident(event, "passport_confiscation") or _grievance(event, "passport_confiscation")


def incident(category: str) -> Fires:
    """DEATH_REPORTED, MISSING, DETENTION: one incident category each."""

    def fires(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
        return _incident(event, category)

    return fires


def wage_theft(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return _grievance(event, "wage_theft")


def underpaid(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    if not carries(event, WagePaid) or state.contract_id is None:  # no contract
        return False
    return _below(event.payload.amount, state.contracted_wage())


def contract_substitution(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    if _grievance(event, "contract_substitution"):
        return True
    if carries(event, ContractSigned):
        offer = state.offers.get(event.payload.offer_id)
        return offer is not None and _worse(event.payload, offer)
    if carries(event, JobOfferMade):  # the offer arrived after its contract
        offer_id = event.payload.offer_id
        return any(_worse(signed, event.payload) for signed in state.contracts.values() if signed.offer_id == offer_id)
    if carries(event, EmploymentStarted):
        named = state.contracts.get(event.payload.contract_id)
        signed = named or max(state.contracts.values(), key=lambda contract: contract.key, default=None)
        return signed is not None and signed.employer_id != event.payload.employer_id
    return False


def departed_without_clearance(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    if not carries(event, Departed) or event.payload.destination_country not in config.clearance_required:
        return False
    cleared = state.clearances.get(event.payload.destination_country)
    return cleared is None or cleared >= event.occurred_at  # only a strictly earlier grant counts


def recruitment_fee_charged(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    return carries(event, FeePaid) and event.payload.paid_by == FeePayer.migrant


def watchlisted_party(state: CaseState, event: Envelope, config: RuleConfig) -> bool:
    """An offer or contract naming a party listed when it was recorded, while the case's latest
    offer or contract names a listed party (see `services.domain.watchlist`)."""
    at = moment(event)
    named = named_by(state, event)
    return any(config.watchlist.listed(kind, party_id, at) for kind, party_id in named) and on_watchlist(
        state, config.watchlist, at
    )


def _worse(signed: Signed | ContractSigned, offer: Offer | JobOfferMade) -> bool:
    """A contract signed on a lower wage or a different length than its offer."""
    return _below(signed.monthly_wage, offer.monthly_wage) or signed.contract_months != offer.contract_months


def _below(amount: Money, reference: Money | None) -> bool:
    """Money `amount` < `reference`, only when both are known and in the same currency."""
    return reference is not None and amount.currency == reference.currency and amount.amount < reference.amount


# Time rules --------------------------------------------------------------------------------

Due = Callable[[CaseState, RuleConfig], datetime | None]
"""A time rule: the instant after which its condition holds in this state, or None."""


def _deployed_since(state: CaseState) -> datetime | None:
    return state.stage_since if state.stage == Stage.deployed else None


def wage_unpaid_due(state: CaseState, config: RuleConfig) -> datetime | None:
    since, started = _deployed_since(state), state.employment_started_at
    if since is None or started is None or started < since:
        return None
    return max(started, state.last_wage_at or started) + timedelta(days=config.wage_grace_days)


def no_welfare_check_due(state: CaseState, config: RuleConfig) -> datetime | None:
    since = _deployed_since(state)
    if since is None:
        return None
    base = max(moment for moment in (since, state.arrived_at, state.last_welfare_check_at) if moment is not None)
    return base + timedelta(days=config.checkin_days)


def visa_expired_due(state: CaseState, config: RuleConfig) -> datetime | None:
    return _expiry(state, state.visa_valid_until)


def insurance_lapsed_due(state: CaseState, config: RuleConfig) -> datetime | None:
    return _expiry(state, state.insurance_valid_until)


def not_arrived_due(state: CaseState, config: RuleConfig) -> datetime | None:
    since, departed = _deployed_since(state), state.departed_at
    if since is None or departed is None or departed < since:
        return None
    if any(moment is not None and moment >= departed for moment in (state.arrived_at, state.employment_started_at)):
        return None
    return departed + timedelta(hours=config.arrival_grace_hours)


def referral_stalled_due(state: CaseState, config: RuleConfig) -> datetime | None:
    """The oldest referral still `made` (no answer yet), plus PASSAGE_REFERRAL_ACCEPT_HOURS; any
    stage (a returned migrant may still need the service)."""
    waiting = [
        referral.made_key[0]
        for referral in state.referrals.values()
        if referral.made_key is not None and referral.status == ReferralStatus.made
    ]
    return min(waiting) + timedelta(hours=config.referral_accept_hours) if waiting else None


def _expiry(state: CaseState, valid_until: date | None) -> datetime | None:
    since = _deployed_since(state)
    if since is None or valid_until is None:
        return None
    return max(since, datetime.combine(valid_until + timedelta(days=1), time(), UTC))
