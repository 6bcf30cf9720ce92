"""The closed vocabularies of SPEC sections 3-6, as str Enums (the value is the wire form)."""

from enum import Enum

__all__ = [
    "AgencyKind",
    "AlertCode",
    "AlertStatus",
    "AssessmentResult",
    "AssistanceKind",
    "Channel",
    "ContractEndReason",
    "FeePayer",
    "GrievanceCategory",
    "IncidentCategory",
    "PartyKind",
    "ReferralService",
    "ReferralStatus",
    "ReintegrationKind",
    "ReturnReason",
    "Severity",
    "Sex",
    "Stage",
    "TrainingOutcome",
    "Wellbeing",
]


class Sex(str, Enum):
    female = "female"
    male = "male"
    other = "other"
    undisclosed = "undisclosed"


class Stage(str, Enum):
    """Journey stages in order (SPEC section 5)."""

    registered = "registered"
    skilling = "skilling"
    job_ready = "job_ready"
    recruiting = "recruiting"
    cleared = "cleared"
    deployed = "deployed"
    returned = "returned"


class AgencyKind(str, Enum):
    skilling_body = "skilling_body"
    recruiting_agent = "recruiting_agent"
    emigration_authority = "emigration_authority"
    insurer = "insurer"
    employer = "employer"
    mission = "mission"
    helpline = "helpline"
    passage = "passage"  # Passage's own services (query service, worker sweep): case.* only


class Wellbeing(str, Enum):
    ok = "ok"
    concern = "concern"
    distress = "distress"


class AssessmentResult(str, Enum):
    passed = "pass"  # `pass` is a keyword
    failed = "fail"


class TrainingOutcome(str, Enum):
    completed = "completed"
    dropped = "dropped"


class FeePayer(str, Enum):
    migrant = "migrant"
    employer = "employer"


class PartyKind(str, Enum):
    """Who a watchlist entry names (SPEC section 12)."""

    employer = "employer"
    recruiting_agent = "recruiting_agent"


class Channel(str, Enum):
    """How a welfare check or a distress report reached us."""

    phone = "phone"
    visit = "visit"
    app = "app"
    helpline = "helpline"


class GrievanceCategory(str, Enum):
    wage_theft = "wage_theft"
    passport_confiscation = "passport_confiscation"
    contract_substitution = "contract_substitution"
    abuse = "abuse"
    unsafe_work = "unsafe_work"
    other = "other"


class IncidentCategory(str, Enum):
    passport_confiscation = "passport_confiscation"
    physical_abuse = "physical_abuse"
    sexual_abuse = "sexual_abuse"
    medical = "medical"
    detention = "detention"
    death = "death"
    missing = "missing"
    other = "other"


class AssistanceKind(str, Enum):
    shelter = "shelter"
    legal = "legal"
    medical = "medical"
    repatriation = "repatriation"
    consular = "consular"


class ContractEndReason(str, Enum):
    completed = "completed"
    terminated = "terminated"
    absconded = "absconded"


class ReturnReason(str, Enum):
    completed = "completed"
    distress = "distress"
    deported = "deported"
    voluntary = "voluntary"
    other = "other"


class ReintegrationKind(str, Enum):
    skills_recognition = "skills_recognition"
    job_placement = "job_placement"
    finance = "finance"
    psychosocial = "psychosocial"


class AlertCode(str, Enum):
    """Protection alert codes (SPEC sections 6 and 10); WAGE_UNPAID to NOT_ARRIVED and REFERRAL_STALLED are time rules."""

    DISTRESS = "DISTRESS"
    ABUSE_REPORTED = "ABUSE_REPORTED"
    DEATH_REPORTED = "DEATH_REPORTED"
    MISSING = "MISSING"
    DETENTION = "DETENTION"
    PASSPORT_CONFISCATED = "PASSPORT_CONFISCATED"
    WAGE_THEFT = "WAGE_THEFT"
    UNDERPAID = "UNDERPAID"
    CONTRACT_SUBSTITUTION = "CONTRACT_SUBSTITUTION"
    DEPARTED_WITHOUT_CLEARANCE = "DEPARTED_WITHOUT_CLEARANCE"
    RECRUITMENT_FEE_CHARGED = "RECRUITMENT_FEE_CHARGED"
    WELFARE_CONCERN = "WELFARE_CONCERN"
    WAGE_UNPAID = "WAGE_UNPAID"
    NO_WELFARE_CHECK = "NO_WELFARE_CHECK"
    VISA_EXPIRED = "VISA_EXPIRED"
    INSURANCE_LAPSED = "INSURANCE_LAPSED"
    NOT_ARRIVED = "NOT_ARRIVED"
    REFERRAL_STALLED = "REFERRAL_STALLED"
    WATCHLISTED_PARTY = "WATCHLISTED_PARTY"  # SPEC section 12: an event rule


class Severity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"


# SPEC section 6: critical > high > medium. Keyed by the members, which equal their text values.
SEVERITY_RANK: dict[str, int] = {Severity.critical: 3, Severity.high: 2, Severity.medium: 1}


class AlertStatus(str, Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class ReferralService(str, Enum):
    """The services an officer may refer a case to (SPEC section 10)."""

    shelter = "shelter"
    legal = "legal"
    medical = "medical"
    repatriation = "repatriation"
    consular = "consular"
    psychosocial = "psychosocial"
    financial = "financial"


class ReferralStatus(str, Enum):
    made = "made"
    accepted = "accepted"
    declined = "declined"
    completed = "completed"
