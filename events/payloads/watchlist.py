"""The watchlist of employers and recruiting agents (SPEC section 12).

These events carry the party id as their case_id (the partition key, so one party's entries stay
in order) and create no case: the worker keeps them in a watchlist table of their own.
"""

from events.payloads.base import Payload
from events.types import Id, PartyKind, Text


class WatchlistEntryAdded(Payload):
    """An emigration authority (or a mission, for an employer) put a party on the watchlist."""

    party_kind: PartyKind
    party_id: Id
    reason: Text


class WatchlistEntryRemoved(Payload):
    """The party is no longer on the watchlist."""

    party_kind: PartyKind
    party_id: Id
