"""SPEC section 10: only the agency a referral names may answer it (`referral.*`), 403
`not_party_to_case` for anyone else.

Two parts, so the rule stays pure and the I/O thin: `refusal(...)` decides from what the views
say the referral names; `referred_agency(engine, ...)` reads that from the welfare view (which
lags the log by the projection delay: an answer sent moments after the referral was made may be
refused, and retrying it shortly after is safe). `bind(...)` joins them for the intake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from events import Source
from services.gateway.admission import Admitted, Refused
from services.storage.tables import Case

ReferralLookup = Callable[[str, str], "str | None"]  # (case_id, referral_id) -> to_agency_id
_cases = Case.__table__


def refusal(event_id: str, case_id: str, referral_id: str, agency_id: str, referred_to: str | None) -> Refused | None:
    """None when `agency_id` is the agency the referral names; else why it may not answer."""
    if referred_to == agency_id:
        return None
    if referred_to is None:
        message = (f"case {case_id!r} has no referral {referral_id!r} (yet): only the agency a referral names "
                   "may answer it; check the ids, or retry in a few seconds if it was made just now")
    else:
        message = (f"referral {referral_id!r} of case {case_id!r} was made to another agency; only the agency "
                   "referred to may answer it")
    detail = {"path": "payload.referral_id", "message": f"agency {agency_id} is not the agency referred to"}
    return Refused(403, "not_party_to_case", message, [detail], event_id)


def bind(outcome: Admitted | Refused, data: Any, source: Source, lookup: ReferralLookup) -> Admitted | Refused:
    """An admitted `referral.*` answer, or the refusal when the agency is not the one referred to."""
    if not isinstance(outcome, Admitted) or not outcome.event_type.startswith("referral."):
        return outcome
    referral_id = data["payload"]["referral_id"]  # admitted: the payload is valid
    referred_to = lookup(outcome.case_id, referral_id)
    return refusal(outcome.event_id, outcome.case_id, referral_id, source.agency_id, referred_to) or outcome


def referred_agency(engine: Engine, case_id: str, referral_id: str) -> str | None:
    """The to_agency_id of the case's referral `referral_id`, as the welfare view has it."""
    with engine.connect() as connection:
        referrals = connection.execute(
            select(_cases.c.referrals).where(_cases.c.case_id == case_id)).scalar_one_or_none()
    for referral in referrals or []:
        if referral.get("referral_id") == referral_id:
            return referral.get("to_agency_id")
    return None
