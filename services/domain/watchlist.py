"""The watchlist as the alert rules see it (SPEC section 12): a history of entries, read "as of" an
instant, so a rule's answer depends on the log and never on when the worker happened to see an entry.

Decisions where SPEC is silent:
- an offer or contract is judged against the watchlist as it stood when Passage recorded it (its
  `recorded_at`; entries recorded at the same instant count as earlier): a party put on the list
  later does not turn an old offer into an alert, and a party taken off it stops raising new ones;
- WATCHLISTED_PARTY is raised by a job_offer_made or contract_signed that names a listed party
  (an offer: its employer and recruiting agent; a contract: its employer, and the recruiting agent
  of the offer it answers) while the case's latest offer or latest contract (by the SPEC sort key)
  names a listed party; putting a party on the list raises nothing on offers already made;
- it resolves itself (resolved_by `system`) when the latest offer and latest contract name no
  listed party: after a newer offer or contract, or when the party comes off the list.
Watchlist events and case events sit on different partitions, so a worker (and above all a replay)
may see them in either order. `services.domain.refold` gives the answer of the in-order fold for
a case whose events were folded before an entry recorded earlier than them arrived.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime

from events import ContractSigned, Envelope, JobOfferMade, WatchlistEntryAdded, WatchlistEntryRemoved, carries
from services.domain.state import CaseState

Party = tuple[str, str]  # (party_kind, party_id)
EMPLOYER, AGENT = "employer", "recruiting_agent"


@dataclass(frozen=True, order=True)
class Entry:
    """One watchlist event: `listed` after entry_added, not after entry_removed."""

    recorded_at: datetime
    event_id: str
    party_kind: str = field(compare=False)
    party_id: str = field(compare=False)
    listed: bool = field(compare=False)

    @property
    def party(self) -> Party:
        return (self.party_kind, self.party_id)


def entry_of(event: Envelope) -> Entry:
    """The entry a `watchlist.entry_added` or `watchlist.entry_removed` event records."""
    if not (carries(event, WatchlistEntryAdded) or carries(event, WatchlistEntryRemoved)):
        raise ValueError(f"{event.event_type} is not a watchlist event; pass only watchlist.* events here")
    return Entry(
        moment(event),
        str(event.event_id),
        event.payload.party_kind.value,
        event.payload.party_id,
        carries(event, WatchlistEntryAdded),
    )


def moment(event: Envelope) -> datetime:
    """When Passage recorded the event (an unstamped event, as in tests: when it occurred)."""
    return (event.recorded_at or event.occurred_at).astimezone(UTC)


@dataclass(frozen=True)
class Watchlist:
    """Entries per party in (recorded_at, event_id) order; `listed` answers as of an instant."""

    entries: tuple[Entry, ...] = ()
    _by_party: dict[Party, list[Entry]] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        for entry in sorted(self.entries):
            self._by_party.setdefault(entry.party, []).append(entry)

    def listed(self, party_kind: str, party_id: str | None, at: datetime) -> bool:
        history = self._by_party.get((party_kind, party_id or ""), [])
        before = bisect.bisect_right([entry.recorded_at for entry in history], at)
        return before > 0 and history[before - 1].listed

    def listed_now(self) -> set[Party]:
        """The parties whose latest entry put them on the list."""
        return {party for party, history in self._by_party.items() if history[-1].listed}

    def of(self, parties: set[Party]) -> tuple[Entry, ...]:
        return tuple(entry for party in sorted(parties) for entry in self._by_party.get(party, []))


def named_by(state: CaseState, event: Envelope) -> set[Party]:
    """The parties a job_offer_made or contract_signed names (none for other events)."""
    if carries(event, JobOfferMade):
        return {(EMPLOYER, event.payload.employer_id), (AGENT, event.payload.recruiting_agent_id)}
    if carries(event, ContractSigned):
        offer = state.offers.get(event.payload.offer_id)
        agent = {(AGENT, offer.recruiting_agent_id)} if offer and offer.recruiting_agent_id else set()
        return {(EMPLOYER, event.payload.employer_id)} | agent
    return set()


def named_now(state: CaseState) -> set[Party]:
    """The parties the case's latest offer and latest contract name."""
    parties: set[Party] = set()
    offer, signed = state.latest_offer(), state.latest_contract()
    if offer is not None:
        parties.add((EMPLOYER, offer.employer_id))
        if offer.recruiting_agent_id:
            parties.add((AGENT, offer.recruiting_agent_id))
    if signed is not None:
        parties.add((EMPLOYER, signed.employer_id))
        answered = state.offers.get(signed.offer_id)
        if answered is not None and answered.recruiting_agent_id:
            parties.add((AGENT, answered.recruiting_agent_id))
    return parties


def named_ever(state: CaseState) -> set[Party]:
    """Every party any offer or contract of the case named: the cases a watchlist entry may concern."""
    parties = {(EMPLOYER, deal.employer_id) for deal in [*state.offers.values(), *state.contracts.values()]}
    return parties | {
        (AGENT, offer.recruiting_agent_id) for offer in state.offers.values() if offer.recruiting_agent_id
    }


def on_watchlist(state: CaseState, watchlist: Watchlist, at: datetime) -> bool:
    """Does the case's latest offer or contract name a party listed at `at`?"""
    return any(watchlist.listed(kind, party_id, at) for kind, party_id in named_now(state))
