"""The one entry point the worker calls per event: welfare fold + alert rules, still pure.

    state, changes = project(state, event, config)   # persist state, publish changes
    deadline = next_deadline(state, config)           # store for the sweep's index

A duplicate event_id returns the state unchanged and no changes, so redelivery is harmless.
A caller folding many events of a case may pass `in_place=True` for a state it owns (one an
earlier `project` returned): one copy per case per batch instead of one per event.
Replaying the same log in the same order gives the same state and the same alert changes.
"""

from __future__ import annotations

from events import Envelope
from services.domain.alerts import AlertChange, evaluate
from services.domain.rules import RuleConfig
from services.domain.state import CaseState, Key
from services.domain.welfare import apply


def project(
    state: CaseState | None, event: Envelope, config: RuleConfig, *, in_place: bool = False, key: Key | None = None
) -> tuple[CaseState, list[AlertChange]]:
    """The case after `event` and the alert changes it caused. `state` is not modified, unless
    `in_place` (see `welfare.apply`: for a caller that owns `state`; drop it if this raises).
    `key`: `key_of(event)`, for a caller that has it already (see `welfare.apply`)."""
    folded = state.event_count if state is not None else None
    after = apply(state, event, in_place=in_place, key=key)
    if after.event_count == folded:  # a duplicate: the case as it was, and no rule may see it again
        return after, []
    changes = evaluate(after, event, config)
    for change in changes:  # `after` is a copy owned here, or the caller's own
        after.alerts[change.alert.alert_id] = change.alert
    return after, changes
