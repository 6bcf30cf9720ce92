"""The event catalogue as data: every event type, its versions, stage and publishers.

This table is the single source of truth (SPEC section 3): the gateway checks mandates with
`may_publish`, the projector reads `stage_of`, and `schemas/` is generated from `CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from pydantic import BaseModel

from events import payloads as p
from events.types import AgencyKind, Stage
from events.upcasting import Upcaster

K = AgencyKind

# SPEC section 4, verbatim: which kind may publish which event types ("x.*" = a whole domain).
MANDATES: Mapping[AgencyKind, tuple[str, ...]] = {
    K.skilling_body: ("migrant.registered", "migrant.consent_changed", "skilling.*"),
    K.recruiting_agent: (
        "migrant.registered",
        "recruitment.job_offer_made",
        "recruitment.contract_signed",
        "recruitment.fee_paid",
        "recruitment.orientation_completed",
        "migrant.consent_changed",
    ),
    K.emigration_authority: (
        "recruitment.emigration_clearance_granted",
        "deployment.departed",
        "return.returned",
        "watchlist.*",
    ),
    K.insurer: ("recruitment.insurance_issued",),
    K.employer: (
        "deployment.employment_started",
        "deployment.employer_changed",
        "deployment.wage_paid",
        "return.contract_ended",
    ),
    # A mission may watchlist employers only; the gateway refuses its recruiting_agent entries
    # (`watchlist_refusal`), which a mandate by event type cannot express.
    K.mission: ("recruitment.visa_issued", "deployment.*", "return.*", "watchlist.*", "migrant.consent_changed"),
    K.helpline: (
        "deployment.welfare_check_completed",
        "deployment.grievance_filed",
        "deployment.incident_reported",
        "deployment.distress_reported",
        "deployment.assistance_provided",
        "return.reintegration_support_provided",
        "return.skills_recognized",
        "migrant.consent_changed",
    ),
    K.passage: ("case.*",),
}
# Event types every agency kind (not Passage itself) may publish; SPEC section 10 binds each answer
# to the agency the referral names, which the gateway checks against the views.
ANY_AGENCY: tuple[str, ...] = ("referral.*",)


@dataclass(frozen=True)
class EventSpec:
    """One event type: its payload model per version, the stage it implies, who may publish it."""

    event_type: str
    latest_version: int
    models: Mapping[int, type[BaseModel]]
    stage: Stage | None
    publishers: frozenset[AgencyKind]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)  # keyed by the version upgraded from

    def __post_init__(self) -> None:
        missing = [v for v in range(1, self.latest_version) if v not in self.upcasters]
        if set(self.models) != set(range(1, self.latest_version + 1)) or missing:
            raise ValueError(f"{self.event_type}: need models v1..v{self.latest_version} and upcasters from {missing}")


def publishers_of(event_type: str) -> frozenset[AgencyKind]:
    if any(fnmatchcase(event_type, pattern) for pattern in ANY_AGENCY):
        return frozenset(kind for kind in AgencyKind if kind != AgencyKind.passage)
    return frozenset(
        kind for kind, patterns in MANDATES.items() if any(fnmatchcase(event_type, pattern) for pattern in patterns)
    )


def _v1(event_type: str, model: type[BaseModel], stage: Stage | None) -> EventSpec:
    return EventSpec(event_type, 1, {1: model}, stage, publishers_of(event_type))


S = Stage
CATALOGUE: Mapping[str, EventSpec] = {
    spec.event_type: spec
    for spec in [
        _v1("migrant.registered", p.MigrantRegistered, S.registered),
        _v1("skilling.assessed", p.SkillAssessed, S.skilling),
        _v1("skilling.training_enrolled", p.TrainingEnrolled, S.skilling),
        _v1("skilling.training_completed", p.TrainingCompleted, S.skilling),
        _v1("skilling.certified", p.SkillCertified, S.job_ready),
        _v1("recruitment.job_offer_made", p.JobOfferMade, S.recruiting),
        _v1("recruitment.contract_signed", p.ContractSigned, S.recruiting),
        _v1("recruitment.fee_paid", p.FeePaid, S.recruiting),
        _v1("recruitment.orientation_completed", p.OrientationCompleted, S.recruiting),
        _v1("recruitment.emigration_clearance_granted", p.EmigrationClearanceGranted, S.cleared),
        _v1("recruitment.visa_issued", p.VisaIssued, S.cleared),
        _v1("recruitment.insurance_issued", p.InsuranceIssued, S.cleared),
        _v1("deployment.departed", p.Departed, S.deployed),
        _v1("deployment.arrived", p.Arrived, S.deployed),
        _v1("deployment.employment_started", p.EmploymentStarted, S.deployed),
        _v1("deployment.employer_changed", p.EmployerChanged, S.deployed),
        _v1("deployment.wage_paid", p.WagePaid, S.deployed),
        _v1("deployment.welfare_check_completed", p.WelfareCheckCompleted, S.deployed),
        _v1("deployment.grievance_filed", p.GrievanceFiled, S.deployed),
        _v1("deployment.incident_reported", p.IncidentReported, S.deployed),
        _v1("deployment.distress_reported", p.DistressReported, S.deployed),
        _v1("deployment.assistance_provided", p.AssistanceProvided, S.deployed),
        _v1("return.contract_ended", p.ContractEnded, S.deployed),
        _v1("return.returned", p.Returned, S.returned),
        _v1("return.reintegration_support_provided", p.ReintegrationSupportProvided, S.returned),
        _v1("return.skills_recognized", p.SkillsRecognized, S.returned),
        _v1("case.note_added", p.NoteAdded, None),
        _v1("case.alert_acknowledged", p.AlertAcknowledged, None),
        _v1("case.alert_resolved", p.AlertResolved, None),
        _v1("case.time_alert_raised", p.TimeAlertRaised, None),
        _v1("case.assigned", p.CaseAssigned, None),
        _v1("case.referral_made", p.ReferralMade, None),
        _v1("case.alert_escalated", p.AlertEscalated, None),
        _v1("referral.accepted", p.ReferralAccepted, None),
        _v1("referral.declined", p.ReferralDeclined, None),
        _v1("referral.completed", p.ReferralCompleted, None),
        _v1("watchlist.entry_added", p.WatchlistEntryAdded, None),
        _v1("watchlist.entry_removed", p.WatchlistEntryRemoved, None),
        _v1("migrant.consent_changed", p.ConsentChanged, None),
        _v1("case.erasure_requested", p.ErasureRequested, None),
    ]
}

# Events about a party rather than a case: their case_id is the party id, and no case is made.
WATCHLIST_EVENTS = frozenset({"watchlist.entry_added", "watchlist.entry_removed"})


def watchlist_refusal(kind: AgencyKind | str, event_type: str, payload: object) -> str | None:
    """SPEC section 12: a mission may watchlist employers, not recruiting agents. Why an otherwise
    valid watchlist event from `kind` is outside its mandate, or None when it is within it."""
    if event_type not in WATCHLIST_EVENTS or AgencyKind(kind) != K.mission:
        return None
    party_kind = getattr(payload, "party_kind", None)
    if party_kind is not None and party_kind.value != "employer":
        return (
            f"an agency of kind mission may put only employers on the watchlist, not {party_kind.value}; "
            "ask the emigration authority to publish it"
        )
    return None


def may_publish(kind: AgencyKind | str, event_type: str) -> bool:
    """SPEC section 4: may an agency of `kind` publish `event_type`? Unknown types: no."""
    spec = CATALOGUE.get(event_type)
    try:
        return spec is not None and AgencyKind(kind) in spec.publishers
    except ValueError:  # not an agency kind at all
        return False


def stage_of(event_type: str) -> Stage | None:
    """The journey stage an event implies, or None (officer and system events, unknown types)."""
    spec = CATALOGUE.get(event_type)
    return spec.stage if spec else None
