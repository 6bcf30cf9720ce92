"""Passage's pure domain core: the welfare fold and the alert rules (no I/O, no SQL, no Kafka).

The worker needs only these: `project` per event, `next_deadline` after it, and per due case
`sweep` + `time_alert_event`; `RuleConfig.from_settings(settings)` builds the rule settings.
"""

from services.domain.alerts import RULES, AlertChange
from services.domain.clock import TimeAlert, next_deadline, sweep, time_alert_event
from services.domain.escalation import Escalation, escalation_event, escalations
from services.domain.projection import project
from services.domain.rules import RuleConfig
from services.domain.state import Alert, CaseState

__all__ = [
    "RULES",
    "Alert",
    "AlertChange",
    "CaseState",
    "Escalation",
    "RuleConfig",
    "TimeAlert",
    "escalation_event",
    "escalations",
    "next_deadline",
    "project",
    "sweep",
    "time_alert_event",
]
