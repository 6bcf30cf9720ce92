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


def project(state: CaseState | None, event: Envelope, config: RuleConfig) -> tuple[CaseState, list[AlertChange]]:
    """The case after `event` and the alert changes it caused. `state` is not modified."""
    after = apply(state, event)
    if after is state:  # a duplicate: apply hands back the case as it was, and no rule may see it again
        return state, []
    changes = evaluate(after, event, config)
    for change in changes:  # `after` is a fresh copy owned here
        after.alerts[change.alert.alert_id] = change.alert
    return after, changes
