"""Payload models, one per event type and version, grouped by journey phase."""

from events.payloads.base import Payload
from events.payloads.case import AlertAcknowledged, AlertResolved, NoteAdded, TimeAlertRaised
from events.payloads.casework import (
    AlertEscalated,
    CaseAssigned,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralMade,
)
from events.payloads.deployment import (
    Arrived,
    AssistanceProvided,
    Departed,
    DistressReported,
    EmployerChanged,
    EmploymentStarted,
    GrievanceFiled,
    IncidentReported,
    WagePaid,
    WelfareCheckCompleted,
)
from events.payloads.privacy import ConsentChanged, ErasureRequested
from events.payloads.recruitment import (
    ContractSigned,
    EmigrationClearanceGranted,
    FeePaid,
    InsuranceIssued,
    JobOfferMade,
    OrientationCompleted,
    VisaIssued,
)
from events.payloads.returns import ContractEnded, ReintegrationSupportProvided, Returned, SkillsRecognized
from events.payloads.skilling import (
    Aspirations,
    Consent,
    MigrantRegistered,
    SkillAssessed,
    SkillCertified,
    TrainingCompleted,
    TrainingEnrolled,
)
from events.payloads.watchlist import WatchlistEntryAdded, WatchlistEntryRemoved

__all__ = [
    "AlertAcknowledged",
    "AlertResolved",
    "Arrived",
    "Aspirations",
    "AssistanceProvided",
    "Consent",
    "ConsentChanged",
    "ContractEnded",
    "ContractSigned",
    "Departed",
    "DistressReported",
    "EmigrationClearanceGranted",
    "EmployerChanged",
    "ErasureRequested",
    "EmploymentStarted",
    "FeePaid",
    "GrievanceFiled",
    "IncidentReported",
    "InsuranceIssued",
    "JobOfferMade",
    "MigrantRegistered",
    "NoteAdded",
    "OrientationCompleted",
    "Payload",
    "ReintegrationSupportProvided",
    "Returned",
    "SkillAssessed",
    "SkillCertified",
    "SkillsRecognized",
    "TimeAlertRaised",
    "TrainingCompleted",
    "TrainingEnrolled",
    "VisaIssued",
    "WagePaid",
    "WelfareCheckCompleted",
    "AlertEscalated",
    "CaseAssigned",
    "ReferralAccepted",
    "ReferralCompleted",
    "ReferralDeclined",
    "ReferralMade",
    "WatchlistEntryAdded",
    "WatchlistEntryRemoved",
]
