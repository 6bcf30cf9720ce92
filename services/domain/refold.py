"""A case's fold with the watchlist entries interleaved where they were recorded.

A worker folds a case's events as they come off its partition, judging each offer against the
watchlist it holds. A watchlist entry on another partition can reach it late (a lagging
partition, and in every replay), after case events Passage recorded later than the entry. The
answer the rules should give is the in-order one: case events in log order, each entry placed
before the first case event recorded after it. `refold` computes exactly that, from the case's
events and the watchlist's history, so the live views and a replay agree whatever the order.
"""

from __future__ import annotations

from collections.abc import Iterable

from events import Envelope
from services.domain.alerts import off_watchlist
from services.domain.projection import project
from services.domain.rules import RuleConfig
from services.domain.state import CaseState
from services.domain.watchlist import Entry, moment


def refold(case_events: Iterable[Envelope], entries: Iterable[Entry], config: RuleConfig) -> CaseState | None:
    """The case after its events (in log order), with `entries` (any order) merged in by recorded_at.
    `config.watchlist` must hold at least `entries`: offers are judged as of their own recording."""
    pending = sorted(entries)
    state: CaseState | None = None
    for event in case_events:
        at = moment(event)
        while pending and pending[0].recorded_at <= at:
            state = _after_entry(state, pending.pop(0), config)
        state, _changes = project(state, event, config)
    for entry in pending:
        state = _after_entry(state, entry, config)
    return state


def _after_entry(state: CaseState | None, entry: Entry, config: RuleConfig) -> CaseState | None:
    if state is None:
        return None
    changes = off_watchlist(state, entry, config)
    if not changes:
        return state
    after = state.fork()
    for change in changes:
        after.alerts[change.alert.alert_id] = change.alert
    return after
