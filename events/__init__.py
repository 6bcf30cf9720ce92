"""Passage's event catalogue: the contract between agencies and Passage (SPEC sections 2-4).

Pure pydantic models and functions; imports nothing from `services/`.
"""

from events.catalogue import CATALOGUE, WATCHLIST_EVENTS, EventSpec, may_publish, stage_of, watchlist_refusal
from events.codec import InvalidEvent, Problem, decode, encode, validate
from events.enums import SEVERITY_RANK
from events.envelope import Envelope, Source, carries, stamp
from events.payloads import *  # noqa: F403 - the payload models are part of the API
from events.payloads import __all__ as _payload_names
from events.types import (
    AgencyKind,
    AlertCode,
    AlertStatus,
    AssessmentResult,
    AssistanceKind,
    CaseId,
    Channel,
    ContractEndReason,
    CountryCode,
    CurrencyCode,
    FeePayer,
    GrievanceCategory,
    IncidentCategory,
    IscoCode,
    Money,
    ReferralService,
    ReferralStatus,
    ReintegrationKind,
    ReturnReason,
    Severity,
    Sex,
    Stage,
    TrainingOutcome,
    Wellbeing,
    YearMonth,
)

__all__ = [
    "CATALOGUE",
    "WATCHLIST_EVENTS",
    "EventSpec",
    "may_publish",
    "stage_of",
    "watchlist_refusal",
    "InvalidEvent",
    "Problem",
    "decode",
    "encode",
    "validate",
    "Envelope",
    "Source",
    "carries",
    "stamp",
    "SEVERITY_RANK",
    "AgencyKind",
    "AlertCode",
    "AlertStatus",
    "AssessmentResult",
    "AssistanceKind",
    "CaseId",
    "Channel",
    "ContractEndReason",
    "CountryCode",
    "CurrencyCode",
    "FeePayer",
    "GrievanceCategory",
    "IncidentCategory",
    "IscoCode",
    "Money",
    "ReferralService",
    "ReferralStatus",
    "ReintegrationKind",
    "ReturnReason",
    "Severity",
    "Sex",
    "Stage",
    "TrainingOutcome",
    "Wellbeing",
    "YearMonth",
    *_payload_names,
]
