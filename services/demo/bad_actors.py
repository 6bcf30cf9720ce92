"""The demo's bad employers and bad recruiting agents (SPEC section 12), so the scorecards have a story.

A journey's traits are drawn before its employer; a journey with an abuse, passport, detention or
wage trait is then steered, two times in three, to one of a few bad employers in its destination.
The steering consumes no random numbers (it hashes the case id), so the rest of each journey is
exactly as before. The demo's emigration authority watchlists `WATCHLISTED_EMPLOYER` before
publishing the journeys, so its new offers raise WATCHLISTED_PARTY.
The demo has `RECRUITING_AGENTS` recruiting agencies (`demo-recruiting_agent`, `demo-recruiting_agent-2`,
...). A journey's offer names one of them, spread by the agent number already drawn; a journey with a
fee, contract-substitution or abuse trait is steered the same way, two times in three, to one of
the `BAD_AGENTS`. Under SPEC 4a the agency an offer names is the one that publishes it, so the
journey's recruiting-agent events from that offer on carry that agency's id (`DemoEvent.agency_id`).
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

BAD_EMPLOYERS = (7, 23, 41)  # employer numbers, in every destination: "<destination>-E007"
EMPLOYER_TRAITS = frozenset({"abuse", "passport_confiscated", "detention", "wage_gap", "underpaid"})
WATCHLISTED_EMPLOYER = "SA-E007"
RECRUITING_AGENTS = 5  # agent numbers 1..5: demo-recruiting_agent, demo-recruiting_agent-2, ...
BAD_AGENTS = (3, 5)
AGENT_TRAITS = frozenset({"migrant_paid_fee", "contract_substitution", "abuse"})
WATCHLIST_NAMESPACE = UUID("0c5a8f1e-7d2b-4e6a-9b3c-1f2e3d4c5b6a")


def _pick(
    case_id: str,
    salt: str,
    drawn: int,
    bad: tuple[int, ...],
    traits: set[str] | frozenset[str],
    steering: frozenset[str],
) -> int:
    if not traits & steering:
        return drawn
    digest = int.from_bytes(hashlib.sha256(f"{case_id}/{salt}".encode()).digest()[:4], "big")
    return bad[digest % len(bad)] if digest % 3 else drawn


def employer_number(case_id: str, placement: int, drawn: int, traits: set[str]) -> int:
    return _pick(case_id, f"employer/{placement}", drawn, BAD_EMPLOYERS, traits, EMPLOYER_TRAITS)


def agent_id(number: int) -> str:
    """The demo recruiting agency of an agent number; number 1 is the agency of kind
    recruiting_agent every demo has (`demo-recruiting_agent`)."""
    return "demo-recruiting_agent" if number == 1 else f"demo-recruiting_agent-{number}"


def agent_ids() -> tuple[str, ...]:
    return tuple(agent_id(number) for number in range(1, RECRUITING_AGENTS + 1))


def recruiting_agent(case_id: str, placement: int, drawn: int, traits: set[str]) -> str:
    """The agency the offer of `placement` names (and that publishes it); `drawn` is the journey's
    agent draw, any whole number."""
    number = _pick(case_id, f"agent/{placement}", drawn % RECRUITING_AGENTS + 1, BAD_AGENTS, traits, AGENT_TRAITS)
    return agent_id(number)


def watchlisting(tag: str, occurred_at: str) -> dict:
    """The demo emigration authority's watchlist entry (publisher form), one per demo run."""
    return {
        "event_id": str(uuid5(WATCHLIST_NAMESPACE, f"{tag}/{WATCHLISTED_EMPLOYER}")),
        "event_type": "watchlist.entry_added",
        "schema_version": 1,
        "case_id": WATCHLISTED_EMPLOYER,
        "occurred_at": occurred_at,
        "correlation_id": None,
        "payload": {
            "party_kind": "employer",
            "party_id": WATCHLISTED_EMPLOYER,
            "reason": "Passports withheld and wages unpaid, found by a labour inspection.",
        },
    }
