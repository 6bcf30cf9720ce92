"""Welfare handlers for case work (SPEC section 10): assignment and referrals.

Registered in `welfare.HANDLERS`; like every handler they write through last-writer-wins or
key-ordered structures, so any arrival order of the same events gives the same case.
"""

from __future__ import annotations

from events import CaseAssigned, ReferralAccepted, ReferralCompleted, ReferralDeclined, ReferralMade, ReferralStatus
from services.domain.referral import Referral, Step
from services.domain.state import CaseState, Key


def when_assigned_record_officer(state: CaseState, key: Key, payload: CaseAssigned) -> None:
    state.put(key, assigned_officer_id=payload.officer_id)


def when_referred_record_referral(state: CaseState, key: Key, payload: ReferralMade) -> None:
    known = state.referrals.get(payload.referral_id)
    if known is not None and known.made_key is not None and known.made_key >= key:
        return
    steps = known.steps if known is not None else []
    state.referrals[payload.referral_id] = Referral(
        referral_id=payload.referral_id,
        service=payload.service,
        to_agency_id=payload.to_agency_id,
        officer_id=payload.officer_id,
        made_key=key,
        steps=steps,
    )


def when_referral_accepted_record_answer(state: CaseState, key: Key, payload: ReferralAccepted) -> None:
    _record_answer(state, payload.referral_id, Step(key=key, status=ReferralStatus.accepted))


def when_referral_declined_record_answer(state: CaseState, key: Key, payload: ReferralDeclined) -> None:
    _record_answer(state, payload.referral_id, Step(key=key, status=ReferralStatus.declined, text=payload.reason))


def when_referral_completed_record_answer(state: CaseState, key: Key, payload: ReferralCompleted) -> None:
    _record_answer(state, payload.referral_id, Step(key=key, status=ReferralStatus.completed, text=payload.outcome))


def _record_answer(state: CaseState, referral_id: str, step: Step) -> None:
    referral = state.referrals.get(referral_id) or Referral(referral_id=referral_id)
    state.referrals[referral_id] = referral.answered(step)
