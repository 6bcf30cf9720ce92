"""Case work (SPEC section 10): assignment and referrals by officers, escalation by the sweep,
and the answers of the agency a case was referred to."""

from events.payloads.base import Payload
from events.types import Id, ReferralService, Text


class CaseAssigned(Payload):
    """An officer now owns the case; `assigned_by` is who assigned it (the same officer for self)."""

    officer_id: Id
    assigned_by: Id


class ReferralMade(Payload):
    """A welfare officer referred the case to an agency for a service."""

    referral_id: Id
    service: ReferralService
    to_agency_id: Id
    officer_id: Id
    note: Text


class AlertEscalated(Payload):
    """Recorded by the sweep: the alert stayed open longer than its severity's limit."""

    alert_id: Id


class ReferralAccepted(Payload):
    """The agency referred to takes the case on."""

    referral_id: Id


class ReferralDeclined(Payload):
    """The agency referred to cannot help; `reason` says why."""

    referral_id: Id
    reason: Text


class ReferralCompleted(Payload):
    """The agency referred to finished the service; `outcome` says how it went."""

    referral_id: Id
    outcome: Text
