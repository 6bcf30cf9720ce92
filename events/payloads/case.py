"""Passage's own events: officer actions (query service) and time-rule alerts (worker sweep)."""

from events.payloads.base import Payload
from events.types import AwareDatetime, Id, Name, Text


class NoteAdded(Payload):
    """A welfare officer added a note to the case."""

    officer_id: Id
    text: Text


class AlertAcknowledged(Payload):
    """A welfare officer acknowledged an alert."""

    alert_id: Id
    officer_id: Id
    note: Text | None = None


class AlertResolved(Payload):
    """A welfare officer resolved an alert."""

    alert_id: Id
    officer_id: Id
    note: Text


class TimeAlertRaised(Payload):
    """Recorded by the sweep so a replay restores the alert; `raised_at` is when the condition became true."""

    alert_id: Id
    code: Name
    raised_at: AwareDatetime
