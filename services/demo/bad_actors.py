"""The demo's bad employers (SPEC section 12), so the scorecards have a story.

A journey's traits are drawn before its employer; a journey with an abuse, passport, detention or
wage trait is then steered, two times in three, to one of a few bad employers in its destination.
The steering consumes no random numbers (it hashes the case id), so the rest of each journey is
exactly as before. The demo's emigration authority watchlists `WATCHLISTED_EMPLOYER` before
publishing the journeys, so its new offers raise WATCHLISTED_PARTY.
Recruiting agents are not steered: under SPEC 4a an offer must name the agency that publishes it,
and the demo has one recruiting agency (`demo-recruiting_agent`), so its agent scorecard has one row.
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

BAD_EMPLOYERS = (7, 23, 41)  # employer numbers, in every destination: "<destination>-E007"
EMPLOYER_TRAITS = frozenset({"abuse", "passport_confiscated", "detention", "wage_gap", "underpaid"})
WATCHLISTED_EMPLOYER = "SA-E007"
WATCHLIST_NAMESPACE = UUID("0c5a8f1e-7d2b-4e6a-9b3c-1f2e3d4c5b6a")


def _pick(case_id: str, salt: str, drawn: int, bad: tuple[int, ...], traits: set[str] | frozenset[str],
          steering: frozenset[str]) -> int:
    if not traits & steering:
        return drawn
    digest = int.from_bytes(hashlib.sha256(f"{case_id}/{salt}".encode()).digest()[:4], "big")
    return bad[digest % len(bad)] if digest % 3 else drawn


def employer_number(case_id: str, placement: int, drawn: int, traits: set[str]) -> int:
    return _pick(case_id, f"employer/{placement}", drawn, BAD_EMPLOYERS, traits, EMPLOYER_TRAITS)


def watchlisting(tag: str, occurred_at: str) -> dict:
    """The demo emigration authority's watchlist entry (publisher form), one per demo run."""
    return {
        "event_id": str(uuid5(WATCHLIST_NAMESPACE, f"{tag}/{WATCHLISTED_EMPLOYER}")),
        "event_type": "watchlist.entry_added", "schema_version": 1, "case_id": WATCHLISTED_EMPLOYER,
        "occurred_at": occurred_at, "correlation_id": None,
        "payload": {"party_kind": "employer", "party_id": WATCHLISTED_EMPLOYER,
                    "reason": "Passports withheld and wages unpaid, found by a labour inspection."},
    }
