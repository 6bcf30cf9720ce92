"""Welfare handlers for case work (SPEC section 10): assignment and referrals.

Registered in `welfare.HANDLERS`; like every handler they write through last-writer-wins or
key-ordered structures, so any arrival order of the same events gives the same case.
"""

from __future__ import annotations

from typing import Any

from events import ReferralStatus
from services.domain.referral import Referral, Step
from services.domain.state import CaseState, Key


def when_assigned_record_officer(state: CaseState, key: Key, payload: Any) -> None:
    state.put(key, assigned_officer_id=payload.officer_id)


def when_referred_record_referral(state: CaseState, key: Key, payload: Any) -> None:
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


def _answer(status: ReferralStatus, text_field: str | None = None):
    def when_answered_record_step(state: CaseState, key: Key, payload: Any) -> None:
        referral = state.referrals.get(payload.referral_id) or Referral(referral_id=payload.referral_id)
        text = getattr(payload, text_field) if text_field else None
        state.referrals[payload.referral_id] = referral.answered(Step(key=key, status=status, text=text))

    when_answered_record_step.__name__ = f"when_referral_{status.value}_record_answer"
    return when_answered_record_step


when_referral_accepted_record_answer = _answer(ReferralStatus.accepted)
when_referral_declined_record_answer = _answer(ReferralStatus.declined, "reason")
when_referral_completed_record_answer = _answer(ReferralStatus.completed, "outcome")
