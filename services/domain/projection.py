"""The one entry point the worker calls per event: welfare fold + alert rules, still pure.

    state, changes = project(state, event, config)   # persist state, publish changes
    deadline = next_deadline(state, config)           # store for the sweep's index

A duplicate event_id returns the state unchanged and no changes, so redelivery is harmless.
Replaying the same log in the same order gives the same state and the same alert changes.
"""

from __future__ import annotations

from events import Envelope
from services.domain.alerts import AlertChange, evaluate
from services.domain.rules import RuleConfig
from services.domain.state import CaseState
from services.domain.welfare import apply


def project(
    state: CaseState | None, event: Envelope, config: RuleConfig, in_place: bool = False
) -> tuple[CaseState, list[AlertChange]]:
    """The case after `event` and the alert changes it caused. `state` is not modified; with
    `in_place` it is, and returned (a bulk rebuild's fold, which keeps one state per case: no copy
    per event). If this raises with `in_place`, `state` may be half changed: drop it."""
    counted = state.event_count if state is not None else 0
    after = apply(state, event, in_place)
    if after is state and after.event_count == counted:
        return state, []  # a duplicate: apply hands back the case as it was, and no rule may see it again
    changes = evaluate(after, event, config)
    for change in changes:  # `after` is a fresh copy owned here (or the caller gave `state` up)
        after.alerts[change.alert.alert_id] = change.alert
    return after, changes
