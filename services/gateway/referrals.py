"""SPEC section 10: only the agency a referral names may answer it (`referral.accepted|declined|
completed`); anyone else gets 403 `not_party_to_case`, whatever its kind.

A case-binding rule of one event type (`binding.EVENT_RULES`), pure like the others: it reads the
case's referrals from `CaseFacts.referrals` (referral_id -> to_agency_id, which
`services.gateway.views` reads from `cases.referrals`). The views lag the log by the projection
delay, so an answer sent moments after the referral was made may be refused: retrying shortly
after is safe. A referral the views do not hold (unknown id, another case) is refused the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events import Envelope, ReferralAccepted, ReferralCompleted, ReferralDeclined

if TYPE_CHECKING:  # binding imports this module
    from services.gateway.binding import CaseFacts, Party

ANSWERS = ("referral.accepted", "referral.declined", "referral.completed")


def answered_by_the_agency_referred_to(party: Party, event: Envelope, facts: CaseFacts | None) -> str | None:
    """None when `party` is the agency the referral names; else why it may not answer."""
    answer = event.payload
    if not isinstance(answer, ReferralAccepted | ReferralDeclined | ReferralCompleted):
        raise ValueError(
            f"the referral binding rule judges referral answers ({', '.join(ANSWERS)}), not {event.event_type}"
        )
    referral_id = answer.referral_id
    referred_to = facts.referrals.get(referral_id) if facts is not None else None
    if referred_to == party.agency_id:
        return None
    if referred_to is None:
        return (
            f"case {event.case_id} has no referral {referral_id!r} (yet): only the agency a referral names "
            "may answer it; check the ids, or retry in a few seconds if it was made just now"
        )
    return (
        f"referral {referral_id!r} of case {event.case_id} was made to another agency; only the agency "
        f"referred to may answer it, not {party.agency_id}"
    )
